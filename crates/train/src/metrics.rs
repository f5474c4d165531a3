//! Per-epoch records as CSV (`metrics.csv`).
//!
//! Columns: `epoch,loss,elapsed_s`, then `train_mse` and `val_loss` when the
//! run measured them, then per layer `grad_norm_l{i}`, `dead_l{i}` and
//! `saturated_l{i}` when diagnostics were on (empty cells where a measure does
//! not apply, e.g. dead units of a tanh network).

use std::path::Path;

use crate::output::write_atomic;
use crate::trainer::EpochRecord;

fn optional(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Renders records as CSV text.
pub fn metrics_csv(records: &[EpochRecord]) -> anyhow::Result<Vec<u8>> {
    let with_train_mse = records.iter().any(|r| r.train_mse.is_some());
    let with_validation = records.iter().any(|r| r.val_loss.is_some());
    let layers = records.iter().map(|r| r.layers.len()).max().unwrap_or(0);
    let hidden = layers.saturating_sub(1);
    let mut header: Vec<String> = vec!["epoch".into(), "loss".into(), "elapsed_s".into()];
    if with_train_mse {
        header.push("train_mse".into());
    }
    if with_validation {
        header.push("val_loss".into());
    }
    for layer in 1..=layers {
        header.push(format!("grad_norm_l{layer}"));
    }
    for layer in 1..=hidden {
        header.push(format!("dead_l{layer}"));
    }
    for layer in 1..=hidden {
        header.push(format!("saturated_l{layer}"));
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header)?;
    for record in records {
        let mut row = vec![
            record.epoch.to_string(),
            record.loss.to_string(),
            format!("{:.6}", record.elapsed_s),
        ];
        if with_train_mse {
            row.push(optional(record.train_mse));
        }
        if with_validation {
            row.push(optional(record.val_loss));
        }
        let layer = |i: usize| record.layers.get(i);
        row.extend((0..layers).map(|i| optional(layer(i).map(|l| l.grad_norm))));
        row.extend((0..hidden).map(|i| optional(layer(i).and_then(|l| l.dead_fraction))));
        row.extend((0..hidden).map(|i| optional(layer(i).and_then(|l| l.saturated_fraction))));
        writer.write_record(&row)?;
    }
    Ok(writer.into_inner()?)
}

/// Writes `metrics.csv` atomically.
pub fn write_metrics(path: &Path, records: &[EpochRecord]) -> anyhow::Result<()> {
    write_atomic(path, &metrics_csv(records)?)
}
