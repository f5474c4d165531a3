//! L1 and L2 penalties on the weights (not the biases, as TensorFlow
//! Playground has them), each with its own rate, added to the training
//! objective: `loss + l1 * sum |w| + l2 * sum w^2`. Their gradient goes
//! through the optimiser like the data loss's, which is how they differ
//! from `optimizer.weight_decay`: the optimiser applies that one to its
//! update (Adam adds `decay * w` to the gradient it normalises; AdamW
//! shrinks the weights apart from it), and it is not part of any loss.

use burn::tensor::Tensor;
use model::{LayerWeights, Mlp};

use crate::config::TrainingConfig;

/// The penalty rates of a run, when it has any.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Penalty {
    l1: f64,
    l2: f64,
}

impl Penalty {
    /// The config's rates; `None` when both are absent or 0.
    pub fn from_config(training: &TrainingConfig) -> Option<Self> {
        let (l1, l2) = (training.l1.unwrap_or(0.0), training.l2.unwrap_or(0.0));
        (l1 > 0.0 || l2 > 0.0).then_some(Self { l1, l2 })
    }

    /// The penalty of `model`'s weights, on its device, to add to the loss.
    pub fn of(&self, model: &Mlp, like: &Tensor<1>) -> Tensor<1> {
        let mut total = like.zeros_like();
        for layer in &model.layers {
            let weight = layer.weight.val();
            if self.l1 > 0.0 {
                total = total + weight.clone().abs().sum().mul_scalar(self.l1);
            }
            if self.l2 > 0.0 {
                total = total + weight.clone().mul(weight).sum().mul_scalar(self.l2);
            }
        }
        total
    }

    /// The same penalty from weights on the host, in float64: what
    /// metrics.csv's `penalty` column records after each epoch.
    pub fn on_host(&self, weights: &[LayerWeights]) -> f64 {
        weights
            .iter()
            .flat_map(|layer| &layer.weight)
            .map(|&w| {
                let w = f64::from(w);
                self.l1 * w.abs() + self.l2 * w * w
            })
            .sum()
    }
}
