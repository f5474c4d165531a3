//! Generated data sets, each drawn from the run's seed: the seed tutorial's
//! noise, Friedman #1 and a linear ground truth.

use std::f64::consts::PI;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::Dataset;
use crate::training::rng::{Stream, stream};

/// The coefficients behind `kind = "linear"` data.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearTruth {
    /// One weight per feature.
    pub weights: Vec<f64>,
    /// The intercept.
    pub bias: f64,
}

/// The seed's data: `X = randn(n, f)`, then `y = randn(n, 1)`.
pub fn noise(samples: usize, features: usize, seed: u64) -> Dataset {
    let mut rng = stream(seed, Stream::Data);
    let x = (0..samples * features)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let y = (0..samples)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    Dataset { features, x, y }
}

/// Friedman #1's noiseless target for one row (uses the first five features).
pub fn friedman1_target(row: &[f64]) -> f64 {
    10.0 * (PI * row[0] * row[1]).sin()
        + 20.0 * (row[2] - 0.5).powi(2)
        + 10.0 * row[3]
        + 5.0 * row[4]
}

/// Friedman #1: `x ~ U(0,1)^f`, `y = friedman1_target(x) + noise_std * N(0,1)`.
pub fn friedman1(samples: usize, features: usize, noise_std: f64, seed: u64) -> Dataset {
    let mut rng = stream(seed, Stream::Data);
    let mut x = Vec::with_capacity(samples * features);
    let mut y = Vec::with_capacity(samples);
    let mut row = vec![0.0f64; features];
    for _ in 0..samples {
        for value in row.iter_mut() {
            *value = rng.random::<f64>();
        }
        let noise: f64 = StandardNormal.sample(&mut rng);
        y.push((friedman1_target(&row) + noise_std * noise) as f32);
        x.extend(row.iter().map(|&v| v as f32));
    }
    Dataset { features, x, y }
}

/// A linear ground truth with seeded `w`, `b ~ N(0,1)`, `x ~ N(0,1)`.
pub fn linear(
    samples: usize,
    features: usize,
    noise_std: f64,
    seed: u64,
) -> (Dataset, LinearTruth) {
    let mut rng = stream(seed, Stream::Data);
    let weights: Vec<f64> = (0..features)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let bias: f64 = StandardNormal.sample(&mut rng);
    let mut x = Vec::with_capacity(samples * features);
    let mut y = Vec::with_capacity(samples);
    for _ in 0..samples {
        let row: Vec<f32> = (0..features)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect::<Vec<f64>>()
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let noise: f64 = StandardNormal.sample(&mut rng);
        let clean: f64 = row
            .iter()
            .zip(&weights)
            .map(|(&xi, &wi)| xi as f64 * wi)
            .sum::<f64>()
            + bias;
        y.push((clean + noise_std * noise) as f32);
        x.extend(row);
    }
    (Dataset { features, x, y }, LinearTruth { weights, bias })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friedman1_matches_the_formula_on_fixed_inputs() {
        let row = [0.5, 0.5, 0.5, 0.5, 0.5];
        let expected = 10.0 * (PI * 0.25).sin() + 0.0 + 5.0 + 2.5;
        assert!((friedman1_target(&row) - expected).abs() < 1e-12);
        let row = [1.0, 0.5, 0.0, 1.0, 0.0];
        assert!((friedman1_target(&row) - (10.0 + 5.0 + 10.0)).abs() < 1e-12);
        // Generated rows follow the formula exactly when there is no noise.
        let data = friedman1(20, 10, 0.0, 3);
        for row in 0..data.rows() {
            let x: Vec<f64> = data.row(row).iter().map(|&v| v as f64).collect();
            assert!(x.iter().all(|v| (0.0..1.0).contains(v)));
            assert!((data.y[row] as f64 - friedman1_target(&x)).abs() < 1e-4);
        }
    }

    #[test]
    fn generators_are_seeded() {
        assert_eq!(noise(10, 3, 1), noise(10, 3, 1));
        assert_ne!(noise(10, 3, 1), noise(10, 3, 2));
        let (data, truth) = linear(5, 2, 0.0, 4);
        for row in 0..5 {
            let r = data.row(row);
            let clean =
                r[0] as f64 * truth.weights[0] + r[1] as f64 * truth.weights[1] + truth.bias;
            assert!((data.y[row] as f64 - clean).abs() < 1e-5);
        }
    }
}
