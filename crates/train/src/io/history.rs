//! Per-epoch records as CSV (`metrics.csv`).
//!
//! Columns: `epoch,loss,elapsed_s`, then `train_loss`, `val_loss`,
//! `train_accuracy` and `val_accuracy` when the run measured them, `lr` (the
//! learning rate of the epoch's last step), `regions` or `pieces_per_line`
//! (every `training.regions_every` epochs and the last, empty between),
//! `penalty` (the weights' L1/L2 penalty after the epoch, when the run has
//! one; the loss columns are the data's alone) (the loss
//! is the run's `training.loss`; runs before the `bce` loss named the first
//! `train_mse`, still read), then per layer `grad_norm_l{i}`, `dead_l{i}` and
//! `saturated_l{i}` when diagnostics were on (empty cells where a measure does
//! not apply, e.g. dead units of a tanh network), then for a learnable
//! activation its parameter after each hidden layer as PyTorch names it,
//! `act{i}_weight` (prelu) or `act{i}_beta` (swish_beta), with
//! `act{i}_weight_min` and `_max` beside the mean for `prelu(per_unit)`.

use model::LayerActivations;
use std::collections::HashMap;
use std::path::Path;

use crate::format::cell;
use crate::io::atomic::write_atomic;
use crate::training::diagnostics::LayerDiagnostics;
use crate::training::trainer::{EpochRecord, LearnedParameter};
use crate::user_error;

/// Renders records as CSV text.
pub fn metrics_csv(
    records: &[EpochRecord],
    activation: impl Into<LayerActivations>,
) -> anyhow::Result<Vec<u8>> {
    let activation = activation.into();
    let with_train_loss = records.iter().any(|r| r.train_loss.is_some());
    let with_validation = records.iter().any(|r| r.val_loss.is_some());
    let with_train_accuracy = records.iter().any(|r| r.train_accuracy.is_some());
    let with_val_accuracy = records.iter().any(|r| r.val_accuracy.is_some());
    let with_lr = records.iter().any(|r| r.lr.is_some());
    let with_regions = records.iter().any(|r| r.regions.is_some());
    let with_pieces = records.iter().any(|r| r.pieces_per_line.is_some());
    let with_penalty = records.iter().any(|r| r.penalty.is_some());
    let layers = records.iter().map(|r| r.layers.len()).max().unwrap_or(0);
    let hidden = layers.saturating_sub(1);
    let mut header: Vec<String> = vec!["epoch".into(), "loss".into(), "elapsed_s".into()];
    if with_train_loss {
        header.push("train_loss".into());
    }
    if with_validation {
        header.push("val_loss".into());
    }
    if with_train_accuracy {
        header.push("train_accuracy".into());
    }
    if with_val_accuracy {
        header.push("val_accuracy".into());
    }
    if with_lr {
        header.push("lr".into());
    }
    if with_regions {
        header.push("regions".into());
    }
    if with_pieces {
        header.push("pieces_per_line".into());
    }
    if with_penalty {
        header.push("penalty".into());
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
    let learned = records.iter().map(|r| r.learned.len()).max().unwrap_or(0);
    let per_unit = activation.learnable().is_some_and(|l| l.per_unit);
    for layer in 1..=learned {
        let name = learned_column(activation, layer);
        if per_unit {
            header.extend([format!("{name}_min"), format!("{name}_max")]);
        }
        header.push(name);
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header)?;
    for record in records {
        let mut row = vec![
            record.epoch.to_string(),
            record.loss.to_string(),
            format!("{:.6}", record.elapsed_s),
        ];
        if with_train_loss {
            row.push(cell(record.train_loss));
        }
        if with_validation {
            row.push(cell(record.val_loss));
        }
        if with_train_accuracy {
            row.push(cell(record.train_accuracy));
        }
        if with_val_accuracy {
            row.push(cell(record.val_accuracy));
        }
        if with_lr {
            row.push(cell(record.lr));
        }
        if with_regions {
            row.push(cell(record.regions));
        }
        if with_pieces {
            row.push(cell(record.pieces_per_line));
        }
        if with_penalty {
            row.push(cell(record.penalty));
        }
        let layer = |i: usize| record.layers.get(i);
        row.extend((0..layers).map(|i| cell(layer(i).map(|l| l.grad_norm))));
        row.extend((0..hidden).map(|i| cell(layer(i).and_then(|l| l.dead_fraction))));
        row.extend((0..hidden).map(|i| cell(layer(i).and_then(|l| l.saturated_fraction))));
        for i in 0..learned {
            let value = record.learned.get(i);
            if per_unit {
                row.push(cell(value.map(|v| v.min)));
                row.push(cell(value.map(|v| v.max)));
            }
            row.push(cell(value.map(|v| v.mean)));
        }
        writer.write_record(&row)?;
    }
    Ok(writer.into_inner()?)
}

/// The column of a learnable activation's parameter after hidden layer
/// `layer` (1-based): `act1_weight`, `act2_beta`, ...
pub fn learned_column(activation: LayerActivations, layer: usize) -> String {
    let name = activation.learnable().map_or("weight", |l| l.name);
    format!("act{layer}_{name}")
}

/// Writes `metrics.csv` atomically.
pub fn write_metrics(
    path: &Path,
    records: &[EpochRecord],
    activation: impl Into<LayerActivations>,
) -> anyhow::Result<()> {
    write_atomic(path, &metrics_csv(records, activation)?)
}

/// A metrics file as named columns of numbers (empty cells are NaN).
pub type Columns = (Vec<String>, HashMap<String, Vec<f64>>);

/// Reads `metrics.csv`, naming the file and place of any problem.
pub fn read_metrics(path: &Path) -> anyhow::Result<Columns> {
    let shown = path.display();
    let mut reader = csv::Reader::from_path(path).map_err(|error| match error.kind() {
        csv::ErrorKind::Io(io) => user_error!(
            "cannot read {shown}: {}",
            crate::error::describe_io_error(io)
        ),
        _ => user_error!("cannot read {shown}: {error}"),
    })?;
    let names: Vec<String> = reader
        .headers()
        .map_err(|error| user_error!("{shown}: {error}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut values: HashMap<String, Vec<f64>> =
        names.iter().map(|n| (n.clone(), Vec::new())).collect();
    for (index, record) in reader.records().enumerate() {
        let row = index + 2;
        let record = record.map_err(|error| user_error!("{shown}: row {row}: {error}"))?;
        for (name, cell) in names.iter().zip(record.iter()) {
            let value = if cell.is_empty() {
                f64::NAN
            } else {
                cell.parse().map_err(|_| {
                    user_error!("{shown}: row {row}, column `{name}`: `{cell}` is not a number")
                })?
            };
            values.get_mut(name).expect("known column").push(value);
        }
    }
    Ok((names, values))
}

/// Reads a `metrics.csv` written by [`write_metrics`] back into records
/// (for `--resume`); errors name the file, the row and the column.
pub fn read_records(
    path: &Path,
    activation: impl Into<LayerActivations>,
) -> anyhow::Result<Vec<EpochRecord>> {
    let activation = activation.into();
    let shown = path.display();
    let (names, values) = read_metrics(path)?;
    let column = |name: &str| -> Option<&Vec<f64>> { values.get(name) };
    let required =
        |name: &str| column(name).ok_or_else(|| user_error!("{shown}: no `{name}` column"));
    let (epoch, loss, elapsed) = (
        required("epoch")?,
        required("loss")?,
        required("elapsed_s")?,
    );
    let present = |value: f64| (!value.is_nan()).then_some(value);
    let optional = |name: &str, row: usize| column(name).and_then(|c| present(c[row]));
    let layers = (1..)
        .take_while(|layer| names.contains(&format!("grad_norm_l{layer}")))
        .count();
    let learned = (1..)
        .take_while(|&layer| names.contains(&learned_column(activation, layer)))
        .count();
    let mut records = Vec::with_capacity(epoch.len());
    for row in 0..epoch.len() {
        let value = |values: &[f64], name: &str| {
            present(values[row])
                .ok_or_else(|| user_error!("{shown}: row {}: empty `{name}`", row + 2))
        };
        let diagnostics = (1..=layers)
            .map(|layer| {
                let grad_norm = format!("grad_norm_l{layer}");
                Ok(LayerDiagnostics {
                    grad_norm: value(required(&grad_norm)?, &grad_norm)?,
                    dead_fraction: optional(&format!("dead_l{layer}"), row),
                    saturated_fraction: optional(&format!("saturated_l{layer}"), row),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        records.push(EpochRecord {
            epoch: value(epoch, "epoch")? as usize,
            loss: value(loss, "loss")?,
            elapsed_s: value(elapsed, "elapsed_s")?,
            train_loss: optional("train_loss", row).or_else(|| optional("train_mse", row)),
            val_loss: optional("val_loss", row),
            train_accuracy: optional("train_accuracy", row),
            val_accuracy: optional("val_accuracy", row),
            lr: optional("lr", row),
            regions: optional("regions", row),
            pieces_per_line: optional("pieces_per_line", row),
            penalty: optional("penalty", row),
            layers: diagnostics,
            learned: (1..=learned)
                .map(|layer| {
                    let name = learned_column(activation, layer);
                    let mean = value(required(&name)?, &name)?;
                    Ok(LearnedParameter {
                        mean,
                        min: optional(&format!("{name}_min"), row).unwrap_or(mean),
                        max: optional(&format!("{name}_max"), row).unwrap_or(mean),
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Activation;

    #[test]
    fn learned_parameters_survive_a_round_trip_through_csv() {
        for (activation, per_unit) in [
            ("prelu", false),
            ("prelu(per_unit)", true),
            ("swish_beta", false),
        ] {
            let activation: Activation = activation.parse().unwrap();
            let records: Vec<EpochRecord> = (1..=2)
                .map(|epoch| EpochRecord {
                    epoch,
                    loss: 0.5,
                    train_loss: Some(0.4),
                    val_loss: None,
                    train_accuracy: None,
                    val_accuracy: None,
                    lr: None,
                    regions: None,
                    pieces_per_line: None,
                    penalty: None,
                    elapsed_s: 1.0,
                    layers: Vec::new(),
                    learned: (0..2)
                        .map(|layer| {
                            let mean = 0.25 + 0.01 * (epoch + layer) as f64;
                            let spread = if per_unit { 0.125 } else { 0.0 };
                            LearnedParameter {
                                mean,
                                min: mean - spread,
                                max: mean + spread,
                            }
                        })
                        .collect(),
                })
                .collect();
            let text = String::from_utf8(metrics_csv(&records, activation).unwrap()).unwrap();
            let header = text.lines().next().unwrap();
            let name = activation.learnable().unwrap().name;
            assert!(header.ends_with(&format!("act2_{name}")), "{header}");
            assert_eq!(header.contains("act1_weight_min"), per_unit, "{header}");
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("metrics.csv");
            write_metrics(&path, &records, activation).unwrap();
            assert_eq!(read_records(&path, activation).unwrap(), records);
        }
    }

    #[test]
    fn records_survive_a_round_trip_through_csv() {
        let records: Vec<EpochRecord> = (1..=3)
            .map(|epoch| EpochRecord {
                epoch,
                loss: 0.1 / epoch as f64 + 1e-17,
                train_loss: Some(0.3 / 7.0),
                val_loss: None,
                train_accuracy: Some(0.75),
                val_accuracy: None,
                lr: Some(0.001 / epoch as f64),
                regions: (epoch == 2).then_some(17.0),
                pieces_per_line: (epoch == 3).then_some(4.5),
                penalty: (epoch > 1).then_some(0.25 * epoch as f64),
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
                learned: Vec::new(),
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        write_metrics(&path, &records, Activation::Relu).unwrap();
        assert_eq!(read_records(&path, Activation::Relu).unwrap(), records);
    }
}
