//! Training that blew up: a non-finite loss or non-finite weights end a run
//! with an error that names the epoch and the likely cause, instead of a
//! "complete" run of NaNs.

use std::fmt;

use model::LayerWeights;

use crate::config::RunConfig;
use crate::data::Split;

/// What the divergence message needs to know about the run.
#[derive(Clone, Debug, PartialEq)]
pub struct Suspects {
    /// `training.lr`.
    pub lr: f64,
    /// `optimizer.epsilon`, when the optimiser uses one (not SGD).
    pub epsilon: Option<f64>,
    /// The largest `|value|` among the training inputs and targets.
    pub data_scale: f64,
}

impl Suspects {
    /// Reads the suspects off a config and its data.
    pub fn of(config: &RunConfig, data: &Split) -> Self {
        let train = &data.train;
        let data_scale = train
            .x
            .iter()
            .chain(&train.y)
            .fold(0.0f64, |max, value| max.max(f64::from(value.abs())));
        Self {
            lr: config.training.lr,
            epsilon: (config.optimizer.kind != crate::config::OptimizerKind::Sgd)
                .then_some(config.optimizer.epsilon),
            data_scale,
        }
    }

    /// The likely causes, most likely first.
    fn likely_cause(&self) -> String {
        let mut causes = Vec::new();
        if self.data_scale > 1e4 {
            causes.push(format!(
                "inputs or targets of large scale (largest |value| {:.3e}): rescale them or set \
                 data.standardize = true",
                self.data_scale
            ));
        }
        if self.lr > 0.1 {
            causes.push(format!(
                "a learning rate too high (training.lr = {}; the seed's is 0.001)",
                self.lr
            ));
        }
        if let Some(epsilon) = self.epsilon.filter(|&epsilon| epsilon < 1e-10) {
            causes.push(format!(
                "a tiny optimizer.epsilon ({epsilon:e}; PyTorch's default is 1e-8)"
            ));
        }
        if causes.is_empty() {
            let epsilon = self.epsilon.map_or(String::new(), |epsilon| {
                format!(", optimizer.epsilon ({epsilon:e})")
            });
            causes.push(format!(
                "the learning rate (training.lr = {}){epsilon} or the scale of the data (largest \
                 |value| {:.3e})",
                self.lr, self.data_scale
            ));
        }
        causes.join("; or ")
    }
}

/// A run whose loss or weights stopped being finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Diverged {
    /// The 1-based epoch in which it was seen.
    pub epoch: usize,
    /// What was not finite, e.g. "the loss is NaN".
    pub what: String,
    /// Where to look.
    pub suspects: Suspects,
    /// What the run kept, when it has a directory.
    pub note: String,
}

impl Diverged {
    /// The loss of epoch `epoch` came out as `loss`.
    pub fn loss(epoch: usize, loss: f64, suspects: &Suspects) -> Self {
        Self {
            epoch,
            what: format!("the loss is {loss}"),
            suspects: suspects.clone(),
            note: String::new(),
        }
    }

    /// The optimiser's state holds `count` NaN or infinite values after
    /// epoch `epoch`: a step's gradients were not finite, or too large for
    /// the float type (their square overflowed into Adam's second moment),
    /// while the loss and the weights may look finite (the weights freeze).
    pub fn optimizer_state(epoch: usize, count: usize, suspects: &Suspects) -> Self {
        Self {
            epoch,
            what: format!(
                "the gradients overflowed: {count} values of the optimizer's state are NaN or \
                 infinite (the loss and weights would freeze)"
            ),
            suspects: suspects.clone(),
            note: String::new(),
        }
    }

    /// The full-pass training loss of epoch `epoch`, `loss`, exceeds the
    /// config's `training.divergence_threshold`.
    pub fn above_threshold(epoch: usize, loss: f64, threshold: f64, suspects: &Suspects) -> Self {
        Self {
            epoch,
            what: format!(
                "the training loss {} exceeds training.divergence_threshold = {threshold}",
                shown_loss(loss)
            ),
            suspects: suspects.clone(),
            note: String::new(),
        }
    }

    /// Checks that every weight and bias is finite after epoch `epoch`.
    pub fn check_weights(
        epoch: usize,
        weights: &[LayerWeights],
        suspects: &Suspects,
    ) -> Result<(), Self> {
        let bad = weights.iter().enumerate().find_map(|(index, layer)| {
            let count = |values: &[f32]| values.iter().filter(|v| !v.is_finite()).count();
            [("weight", &layer.weight), ("bias", &layer.bias)]
                .into_iter()
                .map(|(field, values)| (field, count(values)))
                .find(|(_, count)| *count > 0)
                .map(|(field, count)| (index, field, count))
        });
        match bad {
            None => Ok(()),
            Some((index, field, count)) => Err(Self {
                epoch,
                what: format!(
                    "{count} values of {} are NaN or infinite",
                    crate::io::weights::torch_name(index, field)
                ),
                suspects: suspects.clone(),
                note: String::new(),
            }),
        }
    }
}

impl fmt::Display for Diverged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "training diverged in epoch {}: {}; likely cause: {}",
            self.epoch,
            self.what,
            self.suspects.likely_cause()
        )?;
        if !self.note.is_empty() {
            write!(f, "; {}", self.note)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diverged {}

/// How far above its start a run's final training loss may end before its
/// summary says it blew up. A run that ends 10% worse than it began learned
/// nothing and overshot; its loss can stay finite (saturated logits under
/// bce), so the non-finite rule alone would call it a success.
pub const RISE_FACTOR: f64 = 1.1;

/// "training loss rose from 0.6931 to 34.36: ...", when `end` (the final
/// full-pass training loss) exceeds [`RISE_FACTOR`] x `start` (the same
/// loss before the first step); `lr` is the run's `training.lr`.
pub fn rise_note(start: f64, end: f64, lr: f64) -> Option<String> {
    (end > RISE_FACTOR * start).then(|| {
        format!(
            "training loss rose from {} to {}: the learning rate is likely too high \
             (training.lr = {lr})",
            shown_loss(start),
            shown_loss(end)
        )
    })
}

/// A loss in four significant figures, in plain numbers where readable.
fn shown_loss(loss: f64) -> String {
    if loss == 0.0 || !loss.is_finite() {
        format!("{loss}")
    } else if !(1e-3..1e5).contains(&loss.abs()) {
        format!("{loss:.3e}")
    } else {
        let digits = (3 - loss.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{loss:.digits$}")
    }
}

/// The activations of an experiment whose runs diverged: their rows say so,
/// and the command ends with the divergence exit code after printing them.
#[derive(Clone, Debug, PartialEq)]
pub struct DivergedRuns(pub Vec<String>);

impl DivergedRuns {
    /// `Err` naming the diverged activations, if there are any.
    pub fn check(names: Vec<String>) -> Result<(), Self> {
        if names.is_empty() {
            Ok(())
        } else {
            Err(Self(names))
        }
    }
}

impl fmt::Display for DivergedRuns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "training diverged for {} (marked as diverged above)",
            self.0.join(", ")
        )
    }
}

impl std::error::Error for DivergedRuns {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_that_ends_above_its_start_is_named_with_both_values() {
        assert_eq!(
            rise_note(0.6896, 34.36, 1000.0).unwrap(),
            "training loss rose from 0.6896 to 34.36: the learning rate is likely too high \
             (training.lr = 1000)"
        );
        assert_eq!(rise_note(0.69, 0.759, 0.1), None, "within 10% of the start");
        assert!(rise_note(0.69, 0.76, 0.1).is_some());
        assert_eq!(shown_loss(232.99), "233.0");
        assert_eq!(shown_loss(0.045013), "0.04501");
        assert_eq!(shown_loss(2.5e7), "2.500e7");
    }

    fn suspects(lr: f64, epsilon: f64, data_scale: f64) -> Suspects {
        Suspects {
            lr,
            epsilon: Some(epsilon),
            data_scale,
        }
    }

    #[test]
    fn the_message_names_the_epoch_and_the_likely_cause() {
        let message = Diverged::loss(3, f64::NAN, &suspects(1e6, 1e-8, 3.0)).to_string();
        assert_eq!(
            message,
            "training diverged in epoch 3: the loss is NaN; likely cause: a learning rate too \
             high (training.lr = 1000000; the seed's is 0.001)"
        );
        let message = Diverged::loss(1, f64::INFINITY, &suspects(1e-3, 1e-8, 1e30)).to_string();
        assert!(message.contains("the loss is inf"), "{message}");
        assert!(message.contains("largest |value| 1.000e30"), "{message}");
        // SGD has no epsilon to blame.
        let sgd = Suspects {
            epsilon: None,
            ..suspects(1e-3, 1e-8, 1.0)
        };
        let message = Diverged::loss(2, f64::NAN, &sgd).to_string();
        assert!(!message.contains("epsilon"), "{message}");
        assert!(
            message.contains("the learning rate (training.lr = 0.001) or the scale"),
            "{message}"
        );
    }

    #[test]
    fn non_finite_weights_are_named_by_tensor() {
        let layer = |bias: f32| LayerWeights {
            d_input: 1,
            d_output: 1,
            weight: vec![1.0],
            bias: vec![bias],
            learned: Vec::new(),
        };
        let fine = suspects(1e-3, 1e-8, 1.0);
        assert!(Diverged::check_weights(2, &[layer(0.0), layer(1.0)], &fine).is_ok());
        let error = Diverged::check_weights(2, &[layer(0.0), layer(f32::NAN)], &fine).unwrap_err();
        assert_eq!(error.what, "1 values of fc2.bias are NaN or infinite");
    }
}
