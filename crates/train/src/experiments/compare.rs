//! `train compare`: every activation from the same data and the same initial
//! weights, side by side, with the least-squares line as the linear bar.

use model::{Activation, LayerWeights};

use crate::backend::Backend;
use crate::config::RunConfig;
use crate::data::Split;
use crate::experiments::ols::OlsFit;
use crate::format::{cell, fixed, percent, scientific};
use crate::stats::r_squared;
use crate::training::diagnostics::LayerDiagnostics;
use crate::training::init::initial_weights;
use crate::training::trainer::{EpochRecord, Trainer, run_to_end};

/// Name of the least-squares row.
pub const OLS_NAME: &str = "ols (linear bound)";

/// One row of the comparison table.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRow {
    /// Activation name, or [`OLS_NAME`].
    pub name: String,
    /// MSE over all training rows at the end.
    pub train_mse: f64,
    /// MSE over the validation rows at the end.
    pub val_loss: Option<f64>,
    /// R^2 on the validation rows at the end.
    pub val_r2: Option<f64>,
    /// Epoch with the lowest validation MSE (training MSE without validation).
    pub best_epoch: Option<usize>,
    /// Seconds of training.
    pub seconds: f64,
    /// First layer's weight-gradient norm in the last epoch.
    pub first_layer_grad: Option<f64>,
    /// Share of hidden units dead at the end (relu-like activations).
    pub dead_fraction: Option<f64>,
    /// Share of hidden units saturated at the end (sigmoid, tanh).
    pub saturated_fraction: Option<f64>,
    /// The epoch in which the run's loss or weights stopped being finite;
    /// such a row has no results.
    pub diverged_epoch: Option<usize>,
}

/// One activation's whole run.
#[derive(Clone, Debug)]
pub struct ActivationRun {
    /// The activation.
    pub activation: Activation,
    /// The weights the run started from, read back from its device.
    pub initial_weights: Vec<LayerWeights>,
    /// Per-epoch records (with full training MSE).
    pub records: Vec<EpochRecord>,
    /// The table row.
    pub row: CompareRow,
}

/// All runs plus the least-squares baseline.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// One run per activation, in the order asked for.
    pub runs: Vec<ActivationRun>,
    /// The closed-form linear fit's row.
    pub ols: CompareRow,
}

impl Comparison {
    /// Table rows: every activation, then OLS.
    pub fn rows(&self) -> Vec<&CompareRow> {
        self.runs
            .iter()
            .map(|run| &run.row)
            .chain([&self.ols])
            .collect()
    }
}

/// Trains `activations` one after another (or on `jobs` threads) from the
/// same initial weights; the result does not depend on `jobs`.
pub fn compare(
    config: &RunConfig,
    backend: &Backend,
    data: &Split,
    activations: &[Activation],
    jobs: usize,
    on_done: &(dyn Fn(&ActivationRun) + Sync),
) -> anyhow::Result<Comparison> {
    let weights = initial_weights(&config.layer_sizes(), config.seed);
    let train_one = |activation: Activation| -> anyhow::Result<ActivationRun> {
        let mut run_config = config.clone();
        run_config.model.activation = activation;
        run_config.training.diagnostics = true;
        let trainer = Trainer::new(&run_config, backend, data, &weights)?;
        let initial_weights = trainer.model().to_weights();
        let outcome = run_to_end(trainer, config.training.epochs);
        let name = activation.to_string();
        let row = match &outcome.diverged {
            Some(diverged) => CompareRow::diverged(&name, diverged.epoch, outcome.seconds),
            None => row_from_records(&name, &outcome.records, data, outcome.seconds),
        };
        let run = ActivationRun {
            activation,
            initial_weights,
            row,
            records: outcome.records,
        };
        on_done(&run);
        Ok(run)
    };
    let jobs = jobs.clamp(1, activations.len().max(1));
    let runs: Vec<anyhow::Result<ActivationRun>> = if jobs == 1 {
        activations.iter().map(|&a| train_one(a)).collect()
    } else {
        let mut slots: Vec<Option<anyhow::Result<ActivationRun>>> =
            (0..activations.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let chunk = activations.len().div_ceil(jobs);
            for (acts, out) in activations.chunks(chunk).zip(slots.chunks_mut(chunk)) {
                let train_one = &train_one;
                scope.spawn(move || {
                    for (&activation, slot) in acts.iter().zip(out.iter_mut()) {
                        *slot = Some(train_one(activation));
                    }
                });
            }
        });
        slots
            .into_iter()
            .map(|slot| slot.expect("every slot filled"))
            .collect()
    };
    let runs = runs.into_iter().collect::<anyhow::Result<Vec<_>>>()?;

    let fit = OlsFit::fit(&data.train);
    let val_loss = data.validation.as_ref().map(|v| fit.mse(v));
    let ols = CompareRow {
        name: OLS_NAME.into(),
        train_mse: fit.mse(&data.train),
        val_loss,
        val_r2: data
            .validation
            .as_ref()
            .zip(val_loss)
            .and_then(|(v, mse)| r_squared(mse, &v.y)),
        best_epoch: None,
        seconds: 0.0,
        first_layer_grad: None,
        dead_fraction: None,
        saturated_fraction: None,
        diverged_epoch: None,
    };
    Ok(Comparison { runs, ols })
}

impl CompareRow {
    /// The row of a run that diverged in `epoch`: no results.
    fn diverged(name: &str, epoch: usize, seconds: f64) -> Self {
        Self {
            name: name.to_string(),
            train_mse: f64::NAN,
            val_loss: None,
            val_r2: None,
            best_epoch: None,
            seconds,
            first_layer_grad: None,
            dead_fraction: None,
            saturated_fraction: None,
            diverged_epoch: Some(epoch),
        }
    }
}

fn row_from_records(name: &str, records: &[EpochRecord], data: &Split, seconds: f64) -> CompareRow {
    let last = records.last().expect("at least one epoch");
    let score = |r: &EpochRecord| r.val_loss.or(r.train_mse).unwrap_or(r.loss);
    let best_epoch = records
        .iter()
        .min_by(|a, b| score(a).total_cmp(&score(b)))
        .map(|r| r.epoch);
    let hidden = &last.layers[..last.layers.len().saturating_sub(1)];
    let mean_share = |share: fn(&LayerDiagnostics) -> Option<f64>| {
        let values: Vec<f64> = hidden.iter().filter_map(share).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    CompareRow {
        name: name.to_string(),
        first_layer_grad: last.layers.first().map(|l| l.grad_norm),
        dead_fraction: mean_share(|l| l.dead_fraction),
        saturated_fraction: mean_share(|l| l.saturated_fraction),
        train_mse: last.train_mse.unwrap_or(last.loss),
        val_loss: last.val_loss,
        val_r2: data
            .validation
            .as_ref()
            .zip(last.val_loss)
            .and_then(|(v, mse)| r_squared(mse, &v.y)),
        best_epoch,
        seconds,
        diverged_epoch: None,
    }
}

/// The table as text, aligned for a terminal.
pub fn render_table(comparison: &Comparison) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<20} {:>12} {:>12} {:>8} {:>10} {:>9} {:>11} {:>6} {:>6}\n",
        "activation",
        "train MSE",
        "val MSE",
        "val R2",
        "best epoch",
        "seconds",
        "|grad| fc1",
        "dead",
        "satur."
    ));
    for row in comparison.rows() {
        if let Some(epoch) = row.diverged_epoch {
            out.push_str(&format!(
                "{:<20} diverged in epoch {epoch} (loss or weights not finite)\n",
                row.name
            ));
            continue;
        }
        out.push_str(&format!(
            "{:<20} {:>12.6} {:>12} {:>8} {:>10} {:>9.2} {:>11} {:>6} {:>6}\n",
            row.name,
            row.train_mse,
            fixed(row.val_loss, 6),
            fixed(row.val_r2, 4),
            row.best_epoch.map_or("-".into(), |e| e.to_string()),
            row.seconds,
            scientific(row.first_layer_grad, 2),
            percent(row.dead_fraction, 0),
            percent(row.saturated_fraction, 0)
        ));
    }
    out
}

/// `compare.csv`: one line per activation per epoch.
pub fn curves_csv(comparison: &Comparison) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["activation", "epoch", "batch_loss", "train_mse", "val_loss"])?;
    for run in &comparison.runs {
        for r in &run.records {
            writer.write_record([
                run.activation.to_string(),
                r.epoch.to_string(),
                r.loss.to_string(),
                cell(r.train_mse),
                cell(r.val_loss),
            ])?;
        }
    }
    Ok(writer.into_inner()?)
}

/// `summary.csv`: the table.
pub fn summary_csv(comparison: &Comparison) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "activation",
        "train_mse",
        "val_loss",
        "val_r2",
        "best_epoch",
        "seconds",
        "grad_norm_l1",
        "dead_fraction",
        "saturated_fraction",
        "diverged_epoch",
    ])?;
    for row in comparison.rows() {
        writer.write_record([
            row.name.clone(),
            cell(row.diverged_epoch.is_none().then_some(row.train_mse)),
            cell(row.val_loss),
            cell(row.val_r2),
            cell(row.best_epoch),
            format!("{:.3}", row.seconds),
            cell(row.first_layer_grad),
            cell(row.dead_fraction),
            cell(row.saturated_fraction),
            cell(row.diverged_epoch),
        ])?;
    }
    Ok(writer.into_inner()?)
}
