//! The one number a run is judged by: accuracy for 0/1 labels, else the
//! loss, on the validation rows when there are any; its last and best values.

use crate::config::RunConfig;
use crate::experiments::compare::CompareRow;
use crate::training::trainer::EpochRecord;

/// The number the seeds are compared on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Loss on the validation rows.
    ValLoss,
    /// Loss on all training rows (no validation rows).
    TrainLoss,
    /// Accuracy on the validation rows (0/1 labels).
    ValAccuracy,
    /// Accuracy on the training rows (0/1 labels, no validation rows).
    TrainAccuracy,
    /// Loss on the test rows, scored once at the end (`data.test_fraction`).
    TestLoss,
    /// Accuracy on the test rows (0/1 labels).
    TestAccuracy,
}

impl Metric {
    /// Accuracy for 0/1 labels, else the loss; on validation rows when there are any.
    pub fn for_config(config: &RunConfig) -> Metric {
        let validation = config.data.validation_fraction > 0.0;
        match (config.is_classification(), validation) {
            (true, true) => Metric::ValAccuracy,
            (true, false) => Metric::TrainAccuracy,
            (false, true) => Metric::ValLoss,
            (false, false) => Metric::TrainLoss,
        }
    }

    /// What a comparison ranks by: the test rows' metric when the config
    /// holds some out (`data.test_fraction`), else [`Metric::for_config`].
    pub fn for_comparison(config: &RunConfig) -> Metric {
        match (config.data.test_fraction > 0.0, config.is_classification()) {
            (true, true) => Metric::TestAccuracy,
            (true, false) => Metric::TestLoss,
            (false, _) => Metric::for_config(config),
        }
    }

    /// Whether it is scored on the test rows, once, rather than every epoch.
    pub fn is_test(self) -> bool {
        matches!(self, Metric::TestLoss | Metric::TestAccuracy)
    }

    /// Its name in tables and CSV columns.
    pub fn name(self) -> &'static str {
        match self {
            Metric::ValLoss => "val_loss",
            Metric::TrainLoss => "train_loss",
            Metric::ValAccuracy => "val_accuracy",
            Metric::TrainAccuracy => "train_accuracy",
            Metric::TestLoss => "test_loss",
            Metric::TestAccuracy => "test_accuracy",
        }
    }

    /// Whether a larger value is better (accuracy) or a smaller (loss).
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Metric::ValAccuracy | Metric::TrainAccuracy | Metric::TestAccuracy
        )
    }

    /// Its value in one epoch's record (none for the test metrics: the
    /// test rows are not watched during training).
    pub fn of(self, record: &EpochRecord) -> Option<f64> {
        match self {
            Metric::ValLoss => record.val_loss,
            Metric::TrainLoss => record.train_loss,
            Metric::ValAccuracy => record.val_accuracy,
            Metric::TrainAccuracy => record.train_accuracy,
            Metric::TestLoss | Metric::TestAccuracy => None,
        }
    }

    /// Its value in a comparison's table row.
    pub fn of_row(self, row: &CompareRow) -> Option<f64> {
        match self {
            Metric::ValLoss => row.val_loss,
            Metric::TrainLoss => row.train_loss,
            Metric::ValAccuracy => row.val_accuracy,
            Metric::TrainAccuracy => row.train_accuracy,
            Metric::TestLoss => row.test_loss,
            Metric::TestAccuracy => row.test_accuracy,
        }
    }

    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        if self.higher_is_better() {
            a > b
        } else {
            a < b
        }
    }
}

/// The metric's last value, its best value and the epoch of the best, over
/// `records`; `None` when no record has the metric.
pub fn last_and_best(records: &[EpochRecord], metric: Metric) -> Option<(f64, f64, usize)> {
    let values: Vec<(usize, f64)> = records
        .iter()
        .filter_map(|r| metric.of(r).map(|v| (r.epoch, v)))
        .collect();
    let &(_, last) = values.last()?;
    let (best_epoch, best) = values.iter().copied().reduce(|kept, next| {
        if metric.better(next.1, kept.1) {
            next
        } else {
            kept
        }
    })?;
    Some((last, best, best_epoch))
}
