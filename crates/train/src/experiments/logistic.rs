//! The linear model people compare a classifier with: logistic regression
//! fitted by maximum likelihood (Newton's method in float64), with a small
//! ridge on the weights so that separable data still has a finite optimum;
//! for several classes, multinomial (softmax) logistic regression.

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
            let moved;
            (beta, value, moved) = halved_step(&beta, &step, value, &objective);
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

/// `p(y = k | x) = softmax(weights x + bias)_k`: multinomial logistic
/// regression, one weight row and intercept per class.
#[derive(Clone, Debug, PartialEq)]
pub struct MultinomialFit {
    /// `weights[k]`: class `k`'s coefficients, one per feature.
    pub weights: Vec<Vec<f64>>,
    /// One intercept per class; only their differences matter (the last is 0).
    pub bias: Vec<f64>,
    /// Newton steps taken.
    pub iterations: usize,
}

impl MultinomialFit {
    /// Minimises the mean cross-entropy over `data`'s class numbers
    /// (0..classes-1) plus `ridge / 2` times the sum of every squared
    /// weight (the intercepts unpenalised, as scikit-learn's multinomial
    /// `LogisticRegression`), by Newton's method with step halving. The
    /// last class's intercept stays 0: adding one number to every
    /// intercept changes no probability.
    pub fn fit(data: &Dataset, classes: usize, ridge: f64) -> MultinomialFit {
        let (rows, features) = (data.rows(), data.features);
        let n = rows.max(1) as f64;
        let width = features + 1;
        let size = classes * width;
        // The free parameters: all but the last intercept.
        let free = size - 1;
        let row_of = |r: usize| -> Vec<f64> {
            let mut x: Vec<f64> = data.row(r).iter().map(|&v| f64::from(v)).collect();
            x.push(1.0);
            x
        };
        let design: Vec<Vec<f64>> = (0..rows).map(row_of).collect();
        let label = |r: usize| data.y[r] as usize;
        let penalised = |index: usize| index % width != features;
        let logits = |theta: &DVector<f64>, x: &[f64]| -> Vec<f64> {
            (0..classes)
                .map(|k| (0..width).map(|c| theta[k * width + c] * x[c]).sum())
                .collect()
        };
        let probabilities = |theta: &DVector<f64>, x: &[f64]| softmax(&logits(theta, x));
        let objective = |theta: &DVector<f64>| -> f64 {
            let loss: f64 = design
                .iter()
                .enumerate()
                .map(|(r, x)| cross_entropy(&logits(theta, x), label(r)))
                .sum();
            let squares: f64 = (0..size)
                .filter(|&i| penalised(i))
                .map(|i| theta[i] * theta[i])
                .sum();
            loss / n + 0.5 * ridge * squares
        };
        let mut theta = DVector::zeros(size);
        let mut value = objective(&theta);
        let mut iterations = 0;
        while iterations < MAX_ITERATIONS {
            iterations += 1;
            let mut gradient = DVector::<f64>::zeros(size);
            let mut hessian = DMatrix::<f64>::zeros(size, size);
            for (r, x) in design.iter().enumerate() {
                let p = probabilities(&theta, x);
                for k in 0..classes {
                    let error = p[k] - f64::from(u8::from(label(r) == k));
                    for c in 0..width {
                        gradient[k * width + c] += error * x[c] / n;
                    }
                    for l in 0..classes {
                        let curvature = p[k] * (f64::from(u8::from(k == l)) - p[l]) / n;
                        if curvature == 0.0 {
                            continue;
                        }
                        for c in 0..width {
                            let scaled = curvature * x[c];
                            for e in 0..width {
                                hessian[(k * width + c, l * width + e)] += scaled * x[e];
                            }
                        }
                    }
                }
            }
            for i in (0..size).filter(|&i| penalised(i)) {
                gradient[i] += ridge * theta[i];
                hessian[(i, i)] += ridge;
            }
            let mut reduced = hessian.view((0, 0), (free, free)).into_owned();
            for i in 0..free {
                // A vanishing curvature (saturated points) keeps the solve defined.
                reduced[(i, i)] += 1e-12;
            }
            let reduced_gradient = gradient.rows(0, free).into_owned();
            let Some(step) = reduced.cholesky().map(|h| h.solve(&reduced_gradient)) else {
                break;
            };
            let step = step.insert_row(free, 0.0);
            let moved;
            (theta, value, moved) = halved_step(&theta, &step, value, &objective);
            if moved < 1e-10 {
                break;
            }
        }
        MultinomialFit {
            weights: (0..classes)
                .map(|k| (0..features).map(|c| theta[k * width + c]).collect())
                .collect(),
            bias: (0..classes).map(|k| theta[k * width + features]).collect(),
            iterations,
        }
    }

    /// Every class's logit for one row.
    pub fn logits(&self, row: &[f32]) -> Vec<f64> {
        self.weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| {
                w.iter()
                    .zip(row)
                    .map(|(w, &x)| w * f64::from(x))
                    .sum::<f64>()
                    + b
            })
            .collect()
    }

    /// Every class's probability for one row.
    pub fn probabilities(&self, row: &[f32]) -> Vec<f64> {
        softmax(&self.logits(row))
    }

    /// Mean cross-entropy over a data set: the `cross_entropy` loss the
    /// networks report.
    pub fn log_loss(&self, data: &Dataset) -> f64 {
        let total: f64 = (0..data.rows())
            .map(|r| cross_entropy(&self.logits(data.row(r)), data.y[r] as usize))
            .sum();
        total / data.rows().max(1) as f64
    }

    /// Share of rows whose most probable class is their label.
    pub fn accuracy(&self, data: &Dataset) -> f64 {
        let right = (0..data.rows())
            .filter(|&r| {
                let p = self.probabilities(data.row(r));
                let best = (0..p.len()).fold(0, |b, k| if p[k] > p[b] { k } else { b });
                best == data.y[r] as usize
            })
            .count();
        right as f64 / data.rows().max(1) as f64
    }
}

/// A Newton step from `point` (where the objective is `value`), halved
/// until the objective does not rise: the new point, its value and the
/// largest coordinate it moved.
fn halved_step(
    point: &DVector<f64>,
    step: &DVector<f64>,
    value: f64,
    objective: &impl Fn(&DVector<f64>) -> f64,
) -> (DVector<f64>, f64, f64) {
    let mut scale = 1.0;
    let mut next = point - step * scale;
    let mut next_value = objective(&next);
    while next_value > value && scale > 1e-10 {
        scale *= 0.5;
        next = point - step * scale;
        next_value = objective(&next);
    }
    (next, next_value, (step * scale).amax())
}

/// `logsumexp(z) - z[label]`, stable for any size.
fn cross_entropy(logits: &[f64], label: usize) -> f64 {
    let largest = logits.iter().fold(f64::NEG_INFINITY, |m, &z| m.max(z));
    let log_sum = logits
        .iter()
        .map(|&z| (z - largest).exp())
        .sum::<f64>()
        .ln();
    log_sum - (logits[label] - largest)
}

/// Softmax of logits, stable for any size.
fn softmax(logits: &[f64]) -> Vec<f64> {
    let largest = logits.iter().fold(f64::NEG_INFINITY, |m, &z| m.max(z));
    let exps: Vec<f64> = logits.iter().map(|&z| (z - largest).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / total).collect()
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
        let data = crate::data::read_csv(&fixtures.join("breast_cancer.csv"), None, Some(true))
            .unwrap()
            .0;
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

    /// scikit-learn's multinomial `LogisticRegression(C = 1 / (RIDGE n),
    /// solver="newton-cholesky")` on Fisher's iris data (3 classes;
    /// `scripts/sklearn_logistic_reference.py`). Its intercepts sum to 0;
    /// only their differences mean anything, so they are compared centred.
    #[test]
    fn multinomial_matches_scikit_learn_on_the_iris_data() {
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
        let data = crate::data::read_csv(&fixtures.join("iris.csv"), None, Some(true))
            .unwrap()
            .0;
        let text = std::fs::read_to_string(fixtures.join("iris_sklearn.json")).unwrap();
        let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reference["ridge"].as_f64(), Some(RIDGE));
        let fit = MultinomialFit::fit(&data, 3, RIDGE);
        assert!(fit.iterations < 50, "{}", fit.iterations);
        let close = |got: f64, want: f64| (got - want).abs() <= 1e-6 * want.abs().max(1.0);
        let values = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        for (k, row) in reference["coef"].as_array().unwrap().iter().enumerate() {
            for (got, want) in fit.weights[k].iter().zip(values(row)) {
                assert!(close(*got, want), "class {k}: {got} vs {want}");
            }
        }
        let centred = |b: &[f64]| {
            let mean = b.iter().sum::<f64>() / b.len() as f64;
            b.iter().map(|v| v - mean).collect::<Vec<_>>()
        };
        let want = centred(&values(&reference["intercept"]));
        for (got, want) in centred(&fit.bias).iter().zip(&want) {
            assert!(close(*got, *want), "intercept {got} vs {want}");
        }
        let log_loss = reference["log_loss"].as_f64().unwrap();
        assert!(
            (fit.log_loss(&data) - log_loss).abs() < 1e-9,
            "{}",
            fit.log_loss(&data)
        );
        assert_eq!(fit.accuracy(&data), reference["accuracy"].as_f64().unwrap());
        for (r, row) in reference["probabilities_first_rows"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            for (got, want) in fit.probabilities(data.row(r)).iter().zip(values(row)) {
                assert!((got - want).abs() < 1e-9, "row {r}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn two_classes_as_softmax_give_the_binary_fit() {
        // Softmax over two logits is the sigmoid of their difference; at the
        // optimum the rows are opposite (w0 = -w1), so the ridge on both is
        // half the ridge on their difference: the binary fit, half the ridge.
        let data = rows(&[
            (-2.0, 0.0),
            (-1.0, 0.0),
            (-0.5, 1.0),
            (0.3, 0.0),
            (1.0, 1.0),
            (2.0, 1.0),
        ]);
        let binary = LogisticFit::fit(&data, 0.01 / 2.0);
        let multinomial = MultinomialFit::fit(&data, 2, 0.01);
        let difference = multinomial.weights[1][0] - multinomial.weights[0][0];
        assert!(
            (difference - binary.weights[0]).abs() < 1e-8,
            "{difference} {binary:?}"
        );
        let bias = multinomial.bias[1] - multinomial.bias[0];
        assert!((bias - binary.bias).abs() < 1e-8, "{bias} {binary:?}");
        assert!((multinomial.log_loss(&data) - binary.log_loss(&data)).abs() < 1e-10);
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
