//! The linear model people compare a classifier with: logistic regression
//! fitted by maximum likelihood (Newton's method in float64), with a small
//! ridge on the weights so that separable data still has a finite optimum.

use nalgebra::{DMatrix, DVector};

use crate::data::Dataset;

/// The ridge the comparison fits with: `RIDGE / 2 * |w|^2` added to the mean
/// log-loss (the intercept unpenalised), scikit-learn's
/// `LogisticRegression(C = 1 / (RIDGE * rows))`.
pub const RIDGE: f64 = 1e-4;

/// `p(y = 1 | x) = sigmoid(weights . x + bias)`.
#[derive(Clone, Debug, PartialEq)]
pub struct LogisticFit {
    /// One coefficient per feature.
    pub weights: Vec<f64>,
    /// The intercept.
    pub bias: f64,
    /// Newton steps taken.
    pub iterations: usize,
}

/// Newton steps at most; a well-posed fit takes about ten.
const MAX_ITERATIONS: usize = 200;

impl LogisticFit {
    /// Minimises the mean log-loss over `data`'s 0/1 targets plus
    /// `ridge / 2 * |w|^2`, by Newton's method with step halving (each
    /// step lowers the objective), to a step below 1e-10.
    pub fn fit(data: &Dataset, ridge: f64) -> LogisticFit {
        let (rows, features) = (data.rows(), data.features);
        let n = rows.max(1) as f64;
        let design = DMatrix::from_fn(rows, features + 1, |r, c| {
            if c == features {
                1.0
            } else {
                f64::from(data.row(r)[c])
            }
        });
        let target = DVector::from_iterator(rows, data.y.iter().map(|&v| f64::from(v)));
        // The ridge on the weights only: the intercept's diagonal entry is 0.
        let penalty =
            DVector::from_fn(features + 1, |c, _| if c == features { 0.0 } else { ridge });
        let objective = |beta: &DVector<f64>| -> f64 {
            let margins = &design * beta;
            let loss: f64 = margins
                .iter()
                .zip(target.iter())
                .map(|(&z, &y)| log_loss(z, y))
                .sum();
            loss / n + 0.5 * beta.component_mul(&penalty).dot(beta)
        };
        let mut beta = DVector::zeros(features + 1);
        let mut value = objective(&beta);
        let mut iterations = 0;
        while iterations < MAX_ITERATIONS {
            iterations += 1;
            let margins = &design * &beta;
            let p = margins.map(sigmoid);
            let gradient = design.transpose() * (&p - &target) / n + penalty.component_mul(&beta);
            let curvature = p.map(|p| p * (1.0 - p));
            let mut weighted = design.clone();
            for (mut row, &w) in weighted.row_iter_mut().zip(curvature.iter()) {
                row *= w;
            }
            let mut hessian = design.transpose() * weighted / n;
            for c in 0..=features {
                // A vanishing curvature (saturated points) keeps the solve defined.
                hessian[(c, c)] += penalty[c] + 1e-12;
            }
            let Some(step) = hessian.cholesky().map(|h| h.solve(&gradient)) else {
                break;
            };
            let mut scale = 1.0;
            let mut next = &beta - &step * scale;
            let mut next_value = objective(&next);
            while next_value > value && scale > 1e-10 {
                scale *= 0.5;
                next = &beta - &step * scale;
                next_value = objective(&next);
            }
            let moved = (&step * scale).amax();
            beta = next;
            value = next_value;
            if moved < 1e-10 {
                break;
            }
        }
        LogisticFit {
            weights: beta.rows(0, features).iter().copied().collect(),
            bias: beta[features],
            iterations,
        }
    }

    /// The logit for one row.
    pub fn logit(&self, row: &[f32]) -> f64 {
        self.weights
            .iter()
            .zip(row)
            .map(|(w, &x)| w * f64::from(x))
            .sum::<f64>()
            + self.bias
    }

    /// Mean log-loss (binary cross-entropy) over a data set: the `bce` loss
    /// the networks report.
    pub fn log_loss(&self, data: &Dataset) -> f64 {
        let total: f64 = (0..data.rows())
            .map(|r| log_loss(self.logit(data.row(r)), f64::from(data.y[r])))
            .sum();
        total / data.rows().max(1) as f64
    }

    /// Share of rows whose probability is on their label's side of 0.5.
    pub fn accuracy(&self, data: &Dataset) -> f64 {
        let right = (0..data.rows())
            .filter(|&r| (self.logit(data.row(r)) > 0.0) == (data.y[r] > 0.5))
            .count();
        right as f64 / data.rows().max(1) as f64
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `-[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))]`, stable for any `z`.
fn log_loss(z: f64, y: f64) -> f64 {
    z.max(0.0) - z * y + (-z.abs()).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(points: &[(f32, f32)]) -> Dataset {
        Dataset {
            features: 1,
            x: points.iter().map(|p| p.0).collect(),
            y: points.iter().map(|p| p.1).collect(),
        }
    }

    #[test]
    fn the_optimum_has_a_zero_gradient() {
        let data = rows(&[
            (-2.0, 0.0),
            (-1.0, 0.0),
            (-0.5, 1.0),
            (0.3, 0.0),
            (1.0, 1.0),
            (2.0, 1.0),
        ]);
        let fit = LogisticFit::fit(&data, 0.0);
        let n = data.rows() as f64;
        let p = |x: f32| sigmoid(fit.logit(&[x]));
        let (mut gw, mut gb) = (0.0, 0.0);
        for r in 0..data.rows() {
            let error = p(data.x[r]) - f64::from(data.y[r]);
            gw += error * f64::from(data.x[r]) / n;
            gb += error / n;
        }
        assert!(gw.abs() < 1e-12 && gb.abs() < 1e-12, "{gw} {gb}");
        assert!(fit.iterations < 20, "{}", fit.iterations);
    }

    /// scikit-learn's `LogisticRegression(C = 1 / (RIDGE n),
    /// solver="newton-cholesky")` on its breast-cancer data
    /// (`scripts/sklearn_logistic_reference.py`).
    #[test]
    fn matches_scikit_learn_on_the_breast_cancer_data() {
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
        let data = crate::data::read_csv(&fixtures.join("breast_cancer.csv"), None, true).unwrap();
        let text = std::fs::read_to_string(fixtures.join("breast_cancer_sklearn.json")).unwrap();
        let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reference["ridge"].as_f64(), Some(RIDGE));
        let fit = LogisticFit::fit(&data, RIDGE);
        let close = |got: f64, want: f64| (got - want).abs() <= 1e-6 * want.abs().max(1.0);
        for (got, want) in fit
            .weights
            .iter()
            .zip(reference["coef"].as_array().unwrap())
        {
            assert!(close(*got, want.as_f64().unwrap()), "{got} vs {want}");
        }
        assert!(
            close(fit.bias, reference["intercept"].as_f64().unwrap()),
            "{}",
            fit.bias
        );
        let log_loss = reference["log_loss"].as_f64().unwrap();
        assert!(
            (fit.log_loss(&data) - log_loss).abs() < 1e-9,
            "{}",
            fit.log_loss(&data)
        );
        assert_eq!(fit.accuracy(&data), reference["accuracy"].as_f64().unwrap());
    }

    #[test]
    fn separable_data_converges_with_the_ridge() {
        let data = rows(&[(-2.0, 0.0), (-1.0, 0.0), (1.0, 1.0), (2.0, 1.0)]);
        let fit = LogisticFit::fit(&data, RIDGE);
        assert!(fit.iterations < MAX_ITERATIONS, "{}", fit.iterations);
        assert_eq!(fit.accuracy(&data), 1.0);
        assert!(
            fit.weights[0].is_finite() && fit.weights[0] > 5.0,
            "{fit:?}"
        );
        assert!(fit.log_loss(&data) < 0.01);
    }
}
