//! `result.json`: a run's final record, written atomically and last, when
//! the run has finished or diverged. Its presence is what makes a run (or a
//! sweep's point) done; a run that is trained further loses it until it ends.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::io::atomic::write_atomic;
use crate::training::metric::{Metric, last_and_best};
use crate::training::trainer::EpochRecord;
use crate::user_error;

/// The file's name in a run directory.
pub const RESULT_FILE: &str = "result.json";

/// What a finished (or diverged) run reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Epochs with a finite record.
    pub epochs: usize,
    /// The epoch whose loss or weights stopped being finite, if the run diverged.
    pub diverged_epoch: Option<usize>,
    /// The last epoch's last-batch loss.
    pub loss: Option<f64>,
    /// The last epoch's loss over all training rows, when measured.
    pub train_loss: Option<f64>,
    /// The last epoch's validation loss.
    pub val_loss: Option<f64>,
    /// The last epoch's training accuracy (0/1 labels).
    pub train_accuracy: Option<f64>,
    /// The last epoch's validation accuracy (0/1 labels).
    pub val_accuracy: Option<f64>,
    /// The metric the run is judged by (see [`Metric`]).
    pub metric: String,
    /// Its best value over the epochs.
    pub best: Option<f64>,
    /// The epoch of that best value.
    pub best_epoch: Option<usize>,
    /// Seconds of training (wall clock: differs between reruns).
    pub seconds: f64,
    /// The loss on the test rows (`data.test_fraction`), scored once when
    /// the run finished, with the weights it ends with (early stopping's
    /// best); absent without test rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_loss: Option<f64>,
    /// The test rows' accuracy (0/1 labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f64>,
    /// The full-pass training loss before the first step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_train_loss: Option<f64>,
    /// Said when the final training loss ended above 1.1x its start: the
    /// run blew up though its loss stayed finite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rise: Option<String>,
}

impl RunResult {
    /// The result of a run of `config` whose records are `records`.
    /// `start_train_loss`: the full-pass training loss before the first
    /// step, when known.
    pub fn of(
        config: &RunConfig,
        records: &[EpochRecord],
        diverged_epoch: Option<usize>,
        seconds: f64,
        start_train_loss: Option<f64>,
    ) -> Self {
        let metric = Metric::for_config(config);
        let last = records.last();
        let best = last_and_best(records, metric);
        let rise = start_train_loss
            .zip(last.and_then(|r| r.train_loss))
            .and_then(|(start, end)| {
                crate::training::divergence::rise_note(start, end, config.training.lr)
            });
        RunResult {
            epochs: records.len(),
            diverged_epoch,
            loss: last.map(|r| r.loss),
            train_loss: last.and_then(|r| r.train_loss),
            val_loss: last.and_then(|r| r.val_loss),
            train_accuracy: last.and_then(|r| r.train_accuracy),
            val_accuracy: last.and_then(|r| r.val_accuracy),
            metric: metric.name().to_string(),
            best: best.map(|b| b.1),
            best_epoch: best.map(|b| b.2),
            seconds,
            test_loss: None,
            test_accuracy: None,
            start_train_loss,
            rise,
        }
    }

    /// The metric's last value (the field `metric` names).
    pub fn final_metric(&self) -> Option<f64> {
        match self.metric.as_str() {
            "val_loss" => self.val_loss,
            "train_loss" => self.train_loss,
            "val_accuracy" => self.val_accuracy,
            "train_accuracy" => self.train_accuracy,
            _ => None,
        }
    }

    /// The result as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a result always serialises") + "\n"
    }
}

/// Writes `dir/result.json` atomically.
pub fn write_result(dir: &Path, result: &RunResult) -> anyhow::Result<()> {
    write_atomic(&dir.join(RESULT_FILE), result.to_json().as_bytes())
}

/// Reads `dir/result.json`: `Ok(None)` when the run has none (not done).
pub fn read_result(dir: &Path) -> anyhow::Result<Option<RunResult>> {
    let path = dir.join(RESULT_FILE);
    if std::fs::metadata(&path).is_err_and(|error| error.kind() == std::io::ErrorKind::NotFound) {
        return Ok(None);
    }
    let text = crate::error::read_text_file(&path, "result file")?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|error| user_error!("{}: {error}", path.display()))
}

/// Removes `dir/result.json` (a finished run trained further is not done).
pub fn remove_result(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(dir.join(RESULT_FILE)) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(user_error!(
            "cannot remove {}: {}",
            dir.join(RESULT_FILE).display(),
            crate::error::describe_io_error(&error)
        )),
    }
}
