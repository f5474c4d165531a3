//! The best any linear model can do: ordinary least squares in closed form.

use nalgebra::{DMatrix, DVector};

use crate::data::Dataset;
use crate::stats::mean_squared_error;

/// `y ~ weights . x + bias`, fitted by least squares.
#[derive(Clone, Debug, PartialEq)]
pub struct OlsFit {
    /// One coefficient per feature.
    pub weights: Vec<f64>,
    /// The intercept.
    pub bias: f64,
}

impl OlsFit {
    /// Fits the training rows (minimum-norm solution when rank-deficient).
    pub fn fit(data: &Dataset) -> OlsFit {
        let (rows, features) = (data.rows(), data.features);
        let design = DMatrix::from_fn(rows, features + 1, |r, c| {
            if c == features {
                1.0
            } else {
                data.row(r)[c] as f64
            }
        });
        let target = DVector::from_iterator(rows, data.y.iter().map(|&v| v as f64));
        let solution = design
            .svd(true, true)
            .solve(&target, 1e-12)
            .expect("both singular-vector sets were computed");
        OlsFit {
            weights: solution.rows(0, features).iter().copied().collect(),
            bias: solution[features],
        }
    }

    /// The prediction for one row.
    pub fn predict(&self, row: &[f32]) -> f64 {
        self.weights
            .iter()
            .zip(row)
            .map(|(w, &x)| w * x as f64)
            .sum::<f64>()
            + self.bias
    }

    /// Share of 0/1-labelled rows whose prediction is on their label's side of 0.5.
    pub fn accuracy(&self, data: &Dataset) -> f64 {
        let right = (0..data.rows())
            .filter(|&r| (self.predict(data.row(r)) > 0.5) == (data.y[r] > 0.5))
            .count();
        right as f64 / data.rows() as f64
    }

    /// Mean squared error over a data set.
    pub fn mse(&self, data: &Dataset) -> f64 {
        let predictions = (0..data.rows()).map(|r| self.predict(data.row(r)));
        mean_squared_error(predictions, &data.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::linear;

    #[test]
    fn recovers_a_noiseless_linear_truth() {
        let (data, truth) = linear(200, 10, 0.0, 7);
        let fit = OlsFit::fit(&data);
        for (got, want) in fit.weights.iter().zip(&truth.weights) {
            assert!((got - want).abs() < 1e-4, "{got} vs {want}");
        }
        assert!((fit.bias - truth.bias).abs() < 1e-4);
        assert!(fit.mse(&data) < 1e-8);
        let r2 = crate::stats::r_squared(fit.mse(&data), &data.y).unwrap();
        assert!((r2 - 1.0).abs() < 1e-8);
    }
}
