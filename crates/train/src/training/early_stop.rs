//! Early stopping on the validation loss: the best loss so far, its epoch,
//! and how many epochs have passed without beating it. The state is small
//! and saved with every checkpoint, so a resumed run stops where a straight
//! run would.

use serde::{Deserialize, Serialize};

/// Where early stopping stands.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopState {
    /// Epochs without improvement that stop the run.
    pub patience: usize,
    /// The lowest validation loss so far (infinite before the first epoch).
    pub best_loss: f64,
    /// The epoch that reached it (0 before the first epoch).
    pub best_epoch: usize,
    /// Epochs since then.
    pub epochs_without_improvement: usize,
}

impl EarlyStopState {
    /// Nothing seen yet.
    pub fn new(patience: usize) -> Self {
        Self {
            patience,
            best_loss: f64::INFINITY,
            best_epoch: 0,
            epochs_without_improvement: 0,
        }
    }

    /// Takes epoch `epoch`'s validation loss; whether it is a new best.
    pub fn observe(&mut self, epoch: usize, val_loss: f64) -> bool {
        if val_loss < self.best_loss {
            self.best_loss = val_loss;
            self.best_epoch = epoch;
            self.epochs_without_improvement = 0;
            true
        } else {
            self.epochs_without_improvement += 1;
            false
        }
    }

    /// Whether the run should stop now.
    pub fn should_stop(&self) -> bool {
        self.epochs_without_improvement >= self.patience
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_after_patience_epochs_without_a_new_best() {
        let mut state = EarlyStopState::new(3);
        let losses = [5.0, 4.0, 4.5, 3.9, 4.0, 3.9, 4.1, 5.0];
        let mut stopped_at = None;
        for (index, &loss) in losses.iter().enumerate() {
            state.observe(index + 1, loss);
            if state.should_stop() {
                stopped_at = Some(index + 1);
                break;
            }
        }
        // Best 3.9 at epoch 4 (an equal loss is no improvement); epochs 5, 6, 7 fail to beat it.
        assert_eq!(stopped_at, Some(7));
        assert_eq!((state.best_epoch, state.best_loss), (4, 3.9));
    }
}
