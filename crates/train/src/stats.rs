//! The statistics the lab reports, each computed in one place: the training
//! losses (mean squared error, binary cross-entropy on logits) on the device,
//! accuracy, scores on the host (MSE, R^2), and the median and range of
//! repeated measurements.

use burn::tensor::Tensor;

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

/// The training loss `kind` of a batch on the device.
pub fn loss(kind: LossKind, output: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    match kind {
        LossKind::Mse => mse_loss(output, target),
        LossKind::Bce => bce_with_logits(output, target),
    }
}

/// Share of rows whose output falls on the side of `threshold` its 0/1
/// label says (above for 1), on the device.
pub fn accuracy(output: Tensor<2>, labels: Tensor<2>, threshold: f64) -> Tensor<1> {
    let predicted = output.greater_elem(threshold).float();
    let expected = labels.greater_elem(0.5).float();
    predicted.equal(expected).float().mean()
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

/// Share of `outputs` on the side of `threshold` their 0/1 target says
/// (above for 1), on the host.
pub fn accuracy_of(outputs: &[f32], targets: &[f32], threshold: f64) -> f64 {
    let right = outputs
        .iter()
        .zip(targets)
        .filter(|&(&output, &target)| (f64::from(output) > threshold) == (target > 0.5))
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
        assert_eq!(
            accuracy_of(&[0.9, 0.2, 0.6, 0.4], &[1.0, 0.0, 0.0, 1.0], 0.5),
            0.5
        );
        assert_eq!(accuracy_of(&[3.0, -1.0], &[1.0, 0.0], 0.0), 1.0);
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
