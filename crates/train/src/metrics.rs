//! Per-epoch records as CSV (`metrics.csv`).
//!
//! Columns: `epoch,loss,elapsed_s`, then `train_mse` and `val_loss` when the
//! run measured them, then per layer `grad_norm_l{i}`, `dead_l{i}` and
//! `saturated_l{i}` when diagnostics were on (empty cells where a measure does
//! not apply, e.g. dead units of a tanh network).

use std::path::Path;

use crate::diagnostics::LayerDiagnostics;
use crate::output::write_atomic;
use crate::trainer::EpochRecord;
use crate::user_error;

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

/// Reads a `metrics.csv` written by [`write_metrics`] back into records
/// (for `--resume`); errors name the file, the row and the column.
pub fn read_records(path: &Path) -> anyhow::Result<Vec<EpochRecord>> {
    let shown = path.display();
    let mut reader = csv::Reader::from_path(path)
        .map_err(|error| user_error!("cannot read {shown}: {error}"))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|error| user_error!("{shown}: {error}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let required =
        |name: &str| column(name).ok_or_else(|| user_error!("{shown}: no `{name}` column"));
    let (epoch, loss, elapsed) = (
        required("epoch")?,
        required("loss")?,
        required("elapsed_s")?,
    );
    let (train_mse, val_loss) = (column("train_mse"), column("val_loss"));
    let layers = (1..)
        .take_while(|layer| column(&format!("grad_norm_l{layer}")).is_some())
        .count();
    let mut records = Vec::new();
    for (index, row) in reader.records().enumerate() {
        let row_number = index + 2;
        let row = row.map_err(|error| user_error!("{shown}: row {row_number}: {error}"))?;
        let number = |at: Option<usize>| -> anyhow::Result<Option<f64>> {
            let Some(at) = at else { return Ok(None) };
            let cell = row.get(at).unwrap_or("");
            if cell.is_empty() {
                return Ok(None);
            }
            cell.parse().map(Some).map_err(|_| {
                user_error!(
                    "{shown}: row {row_number}, column {}: `{cell}` is not a number",
                    header[at]
                )
            })
        };
        let value = |at: usize| -> anyhow::Result<f64> {
            number(Some(at))?
                .ok_or_else(|| user_error!("{shown}: row {row_number}: empty `{}`", header[at]))
        };
        let mut diagnostics = Vec::with_capacity(layers);
        for layer in 1..=layers {
            diagnostics.push(LayerDiagnostics {
                grad_norm: value(column(&format!("grad_norm_l{layer}")).expect("counted"))?,
                dead_fraction: number(column(&format!("dead_l{layer}")))?,
                saturated_fraction: number(column(&format!("saturated_l{layer}")))?,
            });
        }
        records.push(EpochRecord {
            epoch: value(epoch)? as usize,
            loss: value(loss)?,
            elapsed_s: value(elapsed)?,
            train_mse: number(train_mse)?,
            val_loss: number(val_loss)?,
            layers: diagnostics,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_round_trip_through_csv() {
        let records: Vec<EpochRecord> = (1..=3)
            .map(|epoch| EpochRecord {
                epoch,
                loss: 0.1 / epoch as f64 + 1e-17,
                train_mse: Some(0.3 / 7.0),
                val_loss: None,
                elapsed_s: 0.25 * epoch as f64,
                layers: vec![
                    LayerDiagnostics {
                        grad_norm: 1.0 / 3.0,
                        dead_fraction: Some(0.5),
                        saturated_fraction: None,
                    },
                    LayerDiagnostics {
                        grad_norm: 2.0,
                        dead_fraction: None,
                        saturated_fraction: None,
                    },
                ],
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        write_metrics(&path, &records).unwrap();
        assert_eq!(read_records(&path).unwrap(), records);
    }
}
