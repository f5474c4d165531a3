//! The statistics the lab reports, each computed in one place: the training
//! losses (mean squared error, binary and K-class cross-entropy on logits)
//! on the device, accuracy, scores on the host (MSE, R^2), and the median
//! and range of repeated measurements.

use burn::tensor::{Int, Tensor};

use crate::config::LossKind;

/// Mean squared error of a batch on the device, as `nn.MSELoss()`: the
/// training loss.
pub fn mse_loss(prediction: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    (prediction - target).square().mean()
}

/// Binary cross-entropy of logits against 0/1 targets, averaged, as
/// PyTorch's `BCEWithLogitsLoss()`: `max(z, 0) - z t + log1p(exp(-|z|))`.
///
/// Burn's own `BinaryCrossEntropyLoss` with logits is stable too, but takes
/// `log` of `1 + exp(-|z|)` where this takes `log1p`: per-sample losses below
/// float32's epsilon (a confident, right logit) round to 0 there, and this
/// form matches PyTorch to 1e-6 relative on them (tested against PyTorch).
pub fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    bce_with_logits_each(logits, targets).mean()
}

/// [`bce_with_logits`] per sample, unreduced.
pub fn bce_with_logits_each(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<2> {
    let tail = logits.clone().abs().neg().exp().log1p();
    logits.clone().clamp_min(0.0) - logits * targets + tail
}

/// Cross-entropy of `[rows, K]` logits against class numbers `[rows, 1]`
/// (0..K-1, held as floats), averaged, as PyTorch's `CrossEntropyLoss()`:
/// `logsumexp(z) - z[label]`, with the row's largest logit taken out first
/// so that no `exp` overflows.
pub fn cross_entropy_with_logits(logits: Tensor<2>, labels: Tensor<2>) -> Tensor<1> {
    let [rows, classes] = logits.dims();
    let picked = one_hot(labels, classes);
    let largest = logits.clone().max_dim(1);
    let shifted = logits - largest.expand([rows, classes]);
    let log_sum = shifted.clone().exp().sum_dim(1).log();
    (log_sum - (shifted * picked).sum_dim(1)).mean()
}

/// `[rows, 1]` class numbers as `[rows, K]` indicator rows.
fn one_hot(labels: Tensor<2>, classes: usize) -> Tensor<2> {
    let [rows, _] = labels.dims();
    // In the labels' float type: float64 runs stay float64.
    let numbers = Tensor::<1, Int>::arange(0..classes as i64, &labels.device())
        .float()
        .cast(labels.dtype())
        .reshape([1, classes])
        .expand([rows, classes]);
    let dtype = labels.dtype();
    labels
        .expand([rows, classes])
        .equal(numbers)
        .float()
        .cast(dtype)
}

/// The training loss `kind` of a batch on the device.
pub fn loss(kind: LossKind, output: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    match kind {
        LossKind::Mse => mse_loss(output, target),
        LossKind::Bce => bce_with_logits(output, target),
        LossKind::CrossEntropy => cross_entropy_with_logits(output, target),
    }
}

/// How a network's output becomes a class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// One output: class 1 above the threshold (a logit's 0, or 0.5
    /// between two regression labels), class 0 otherwise.
    Threshold(f64),
    /// One output per class: the largest wins (ties to the lower class, as
    /// `argmax` does).
    Argmax,
}

impl Decision {
    /// The class of one row's outputs on the host.
    pub fn class(self, outputs: &[f32]) -> usize {
        match self {
            Decision::Threshold(threshold) => usize::from(f64::from(outputs[0]) > threshold),
            Decision::Argmax => {
                let mut best = 0;
                for (index, &value) in outputs.iter().enumerate() {
                    if value > outputs[best] {
                        best = index;
                    }
                }
                best
            }
        }
    }
}

/// Share of rows whose output the `decision` makes their label's class, on
/// the device.
pub fn accuracy(output: Tensor<2>, labels: Tensor<2>, decision: Decision) -> Tensor<1> {
    match decision {
        Decision::Threshold(threshold) => {
            let predicted = output.greater_elem(threshold).float();
            let expected = labels.greater_elem(0.5).float();
            predicted.equal(expected).float().mean()
        }
        Decision::Argmax => {
            let dtype = labels.dtype();
            let predicted = output.argmax(1).float().cast(dtype);
            predicted.equal(labels).float().cast(dtype).mean()
        }
    }
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

/// [`bce_with_logits`] on the host: the mean over `logits` against 0/1 `targets`.
pub fn bce_of_logits(logits: &[f32], targets: &[f32]) -> f64 {
    let total: f64 = logits
        .iter()
        .zip(targets)
        .map(|(&z, &t)| {
            let (z, t) = (f64::from(z), f64::from(t));
            z.max(0.0) - z * t + (-z.abs()).exp().ln_1p()
        })
        .sum();
    total / targets.len() as f64
}

/// [`cross_entropy_with_logits`] on the host: `logits` holds `classes`
/// values per row, `labels` one class number per row.
pub fn cross_entropy_of(logits: &[f32], classes: usize, labels: &[f32]) -> f64 {
    let total: f64 = logits
        .chunks(classes)
        .zip(labels)
        .map(|(row, &label)| {
            let largest = row
                .iter()
                .fold(f64::NEG_INFINITY, |m, &z| m.max(f64::from(z)));
            let log_sum = row
                .iter()
                .map(|&z| (f64::from(z) - largest).exp())
                .sum::<f64>()
                .ln();
            log_sum - (f64::from(row[label as usize]) - largest)
        })
        .sum();
    total / labels.len() as f64
}

/// Softmax of one row of logits, in float64.
pub fn softmax(logits: &[f32]) -> Vec<f64> {
    let largest = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &z| m.max(f64::from(z)));
    let exps: Vec<f64> = logits
        .iter()
        .map(|&z| (f64::from(z) - largest).exp())
        .collect();
    let total: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / total).collect()
}

/// Share of rows whose `outputs` (`width` per row) the `decision` makes
/// their target's class (a 0/1 target under a threshold counts as its
/// side of 0.5), on the host.
pub fn accuracy_of(outputs: &[f32], width: usize, targets: &[f32], decision: Decision) -> f64 {
    let right = outputs
        .chunks(width)
        .zip(targets)
        .filter(|&(row, &target)| {
            let expected = match decision {
                Decision::Threshold(_) => usize::from(target > 0.5),
                Decision::Argmax => target as usize,
            };
            decision.class(row) == expected
        })
        .count();
    right as f64 / targets.len() as f64
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

/// Mean, sample standard deviation and 95% confidence interval of the
/// mean (Student t with n - 1 degrees of freedom) of repeated measurements,
/// e.g. one per seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanCi {
    /// How many values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator); `None` for one value.
    pub std: Option<f64>,
    /// Half the width of the 95% interval around the mean; `None` for one value.
    pub half_width: Option<f64>,
}

impl MeanCi {
    /// Summarises `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<MeanCi> {
        use statrs::distribution::{ContinuousCDF, StudentsT};
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Some(MeanCi {
                n,
                mean,
                std: None,
                half_width: None,
            });
        }
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let std = variance.sqrt();
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
            .expect("n - 1 >= 1 degrees of freedom")
            .inverse_cdf(0.975);
        Some(MeanCi {
            n,
            mean,
            std: Some(std),
            half_width: Some(t * std / (n as f64).sqrt()),
        })
    }

    /// The interval's ends, when there is one.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.half_width
            .map(|half| (self.mean - half, self.mean + half))
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

    /// PyTorch's `BCEWithLogitsLoss` on fixed logits (magnitude up to 100),
    /// from `scripts/pytorch_reference.py bce-fixture`.
    fn bce_fixture() -> (Vec<f32>, Vec<f32>, Vec<f64>, f64) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
        let read = |name: &str| -> Vec<Vec<f64>> {
            csv::Reader::from_path(dir.join(name))
                .unwrap()
                .records()
                .map(|r| r.unwrap().iter().map(|c| c.parse().unwrap()).collect())
                .collect()
        };
        let rows = read("bce_with_logits.csv");
        let mean = read("bce_with_logits_mean.csv")[0][0];
        (
            rows.iter().map(|r| r[0] as f32).collect(),
            rows.iter().map(|r| r[1] as f32).collect(),
            rows.iter().map(|r| r[2]).collect(),
            mean,
        )
    }

    #[test]
    fn bce_with_logits_matches_pytorch_in_float32() {
        let (logits, labels, each, mean) = bce_fixture();
        assert!(logits.iter().any(|z| z.abs() >= 100.0));
        let device = crate::backend::cpu_device().expect("the tests build a CPU backend");
        let column = |values: &[f32]| {
            Tensor::<2>::from_data(
                burn::tensor::TensorData::new(values.to_vec(), [values.len(), 1]),
                &device,
            )
        };
        let ours = bce_with_logits(column(&logits), column(&labels)).into_scalar::<f64>();
        assert!(
            ((ours - mean) / mean).abs() < 1e-6,
            "mean: ours {ours}, PyTorch {mean}"
        );
        let ours_each: Vec<f64> =
            model::host_values::<f64, 2>(bce_with_logits_each(column(&logits), column(&labels)));
        for ((ours, torch), z) in ours_each.iter().zip(&each).zip(&logits) {
            assert!(ours.is_finite(), "logit {z}: {ours}");
            // Relative 1e-6, or float32's resolution of a loss near 1 for
            // the few values PyTorch itself rounds (e.g. logit -5, label 0).
            assert!(
                (ours - torch).abs() <= 1e-6 * torch.abs() + 1e-7,
                "logit {z}: ours {ours}, PyTorch {torch}"
            );
        }
        let host = bce_of_logits(&logits, &labels);
        assert!(((host - mean) / mean).abs() < 1e-6, "host {host} vs {mean}");
    }

    #[test]
    fn accuracy_counts_the_right_side_of_the_threshold() {
        let half = Decision::Threshold(0.5);
        assert_eq!(
            accuracy_of(&[0.9, 0.2, 0.6, 0.4], 1, &[1.0, 0.0, 0.0, 1.0], half),
            0.5
        );
        let logit = Decision::Threshold(0.0);
        assert_eq!(accuracy_of(&[3.0, -1.0], 1, &[1.0, 0.0], logit), 1.0);
    }

    /// PyTorch's `CrossEntropyLoss` on fixed 3-class logits (magnitude up
    /// to 100), from `scripts/pytorch_reference.py cross-entropy-fixtures`:
    /// on the device, on the host, per row and averaged.
    #[test]
    fn cross_entropy_matches_pytorch_in_float32() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/cross_entropy_torch.csv");
        let rows: Vec<Vec<f64>> = csv::Reader::from_path(path)
            .unwrap()
            .records()
            .map(|r| r.unwrap().iter().map(|c| c.parse().unwrap()).collect())
            .collect();
        let logits: Vec<f32> = rows
            .iter()
            .flat_map(|r| r[..3].to_vec())
            .map(|v| v as f32)
            .collect();
        let labels: Vec<f32> = rows.iter().map(|r| r[3] as f32).collect();
        let mean = rows[0][5];
        assert!(logits.iter().any(|z| z.abs() >= 100.0));
        let device = crate::backend::cpu_device().expect("the tests build a CPU backend");
        let tensor = |values: &[f32], width: usize| {
            Tensor::<2>::from_data(
                burn::tensor::TensorData::new(values.to_vec(), [values.len() / width, width]),
                &device,
            )
        };
        let close = |ours: f64, torch: f64| (ours - torch).abs() <= 1e-6 * torch.abs() + 1e-7;
        let ours =
            cross_entropy_with_logits(tensor(&logits, 3), tensor(&labels, 1)).into_scalar::<f64>();
        assert!(close(ours, mean), "mean: ours {ours}, PyTorch {mean}");
        for (row, torch) in rows.iter().enumerate() {
            let one = cross_entropy_with_logits(
                tensor(&logits[row * 3..row * 3 + 3], 3),
                tensor(&labels[row..=row], 1),
            )
            .into_scalar::<f64>();
            assert!(
                close(one, torch[4]),
                "row {row}: ours {one}, PyTorch {}",
                torch[4]
            );
            let host = cross_entropy_of(&logits[row * 3..row * 3 + 3], 3, &labels[row..=row]);
            assert!(close(host, torch[4]), "row {row} on the host: {host}");
        }
        let host = cross_entropy_of(&logits, 3, &labels);
        assert!(close(host, mean), "host {host} vs {mean}");
    }

    #[test]
    fn the_largest_logit_decides_the_class() {
        let argmax = Decision::Argmax;
        assert_eq!(argmax.class(&[0.1, 2.0, -1.0]), 1);
        // A tie goes to the lower class, as argmax does.
        assert_eq!(argmax.class(&[3.0, 3.0, 1.0]), 0);
        let outputs = [0.1, 2.0, -1.0, 5.0, 0.0, 0.0, 0.0, 0.0, 9.0];
        assert_eq!(
            accuracy_of(&outputs, 3, &[1.0, 0.0, 0.0], argmax),
            2.0 / 3.0
        );
        let device = crate::backend::cpu_device().expect("the tests build a CPU backend");
        let on_device = accuracy(
            Tensor::<2>::from_data(
                burn::tensor::TensorData::new(outputs.to_vec(), [3, 3]),
                &device,
            ),
            Tensor::<2>::from_data(
                burn::tensor::TensorData::new(vec![1.0f32, 0.0, 0.0], [3, 1]),
                &device,
            ),
            argmax,
        )
        .into_scalar::<f64>();
        assert!((on_device - 2.0 / 3.0).abs() < 1e-6, "{on_device}");
        let p = softmax(&[1.0, 2.0, 3.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12 && p[2] > p[1] && p[1] > p[0]);
    }

    #[test]
    fn mean_and_confidence_interval_match_hand_computed_values() {
        // 2, 4, 6, 8: mean 5, sample variance 20/3, t(0.975, 3) = 3.182446.
        let summary = MeanCi::of(&[2.0, 4.0, 6.0, 8.0]).unwrap();
        assert_eq!(summary.n, 4);
        assert_eq!(summary.mean, 5.0);
        let std = (20.0f64 / 3.0).sqrt();
        assert!((summary.std.unwrap() - std).abs() < 1e-12);
        let half = 3.182_446_305_284_263 * std / 2.0;
        assert!((summary.half_width.unwrap() - half).abs() < 1e-9);
        // Two values: t(0.975, 1) = 12.706205.
        let two = MeanCi::of(&[1.0, 2.0]).unwrap();
        let half = 12.706_204_736_174_7 * 0.5f64.sqrt() / 2f64.sqrt();
        assert!((two.half_width.unwrap() - half).abs() < 1e-8);
        let one = MeanCi::of(&[3.5]).unwrap();
        assert_eq!((one.mean, one.std, one.interval()), (3.5, None, None));
        assert_eq!(MeanCi::of(&[]), None);
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
