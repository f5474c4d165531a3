//! The statistics the lab reports, each computed in one place: mean squared
//! error (on the device as the training loss, on the host for scores), R^2,
//! and the median and range of repeated measurements.

use burn::tensor::Tensor;

/// Mean squared error of a batch on the device, as `nn.MSELoss()`: the
/// training loss.
pub fn mse_loss(prediction: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    (prediction - target).square().mean()
}

/// Mean squared error of `predictions` against `targets` (same length, not empty).
pub fn mean_squared_error(predictions: impl IntoIterator<Item = f64>, targets: &[f32]) -> f64 {
    let sse: f64 = predictions
        .into_iter()
        .zip(targets)
        .map(|(p, &t)| (p - f64::from(t)).powi(2))
        .sum();
    sse / targets.len() as f64
}

/// Variance of the targets (population): the MSE of predicting their mean.
pub fn target_variance(targets: &[f32]) -> f64 {
    let n = targets.len() as f64;
    let mean = targets.iter().map(|&t| f64::from(t)).sum::<f64>() / n;
    targets
        .iter()
        .map(|&t| (f64::from(t) - mean).powi(2))
        .sum::<f64>()
        / n
}

/// Coefficient of determination of a fit whose MSE on `targets` is `mse`;
/// `None` when the targets are constant.
pub fn r_squared(mse: f64, targets: &[f32]) -> Option<f64> {
    let variance = target_variance(targets);
    (variance > 0.0).then(|| 1.0 - mse / variance)
}

/// Mean squared error and coefficient of determination.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    /// Rows scored.
    pub rows: usize,
    /// Mean squared error.
    pub mse: f64,
    /// `1 - SSE / SST`; `None` when the targets are constant.
    pub r2: Option<f64>,
}

/// Scores `predictions` against `targets`.
pub fn score(predictions: &[f32], targets: &[f32]) -> Scores {
    let mse = mean_squared_error(predictions.iter().map(|&p| f64::from(p)), targets);
    Scores {
        rows: targets.len(),
        mse,
        r2: r_squared(mse, targets),
    }
}

/// Median and range of a set of values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// The median (mean of the middle two for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Spread {
    /// Summarises `values` (at least one).
    pub fn of(values: &[f64]) -> Spread {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Spread {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_their_definitions() {
        let scores = score(&[1.0, 2.0, 3.0], &[1.0, 2.0, 5.0]);
        assert_eq!(scores.rows, 3);
        assert!((scores.mse - 4.0 / 3.0).abs() < 1e-12);
        // mean 8/3; SST = (25 + 4 + 49) / 9 = 78/9; R^2 = 1 - 4 / (78/9).
        assert!((scores.r2.unwrap() - (1.0 - 36.0 / 78.0)).abs() < 1e-12);
        assert_eq!(score(&[1.0, 2.0], &[3.0, 3.0]).r2, None);
    }

    #[test]
    fn spread_has_median_and_range() {
        assert_eq!(
            Spread::of(&[3.0, 1.0, 2.0]),
            Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0
            }
        );
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
    }
}
