//! `train compare`: every activation from the same data and the same initial
//! weights, side by side, with the best linear model for the run's loss as
//! the linear bar: least squares for `mse`, logistic regression by maximum
//! likelihood for `bce`.

use model::{LayerActivations, LayerWeights};

use crate::backend::Backend;
use crate::config::{LossKind, RunConfig};
use crate::data::{Dataset, Split};
use crate::experiments::logistic::{LogisticFit, MultinomialFit, RIDGE};
use crate::experiments::ols::OlsFit;
use crate::experiments::surface::{
    CURVE_POINTS, InputSpace, Pieces, TrainedNetwork, curve, input_space,
};
use crate::format::{cell, fixed, percent, scientific};
use crate::regions::count_in_box;
use crate::stats::r_squared;
use crate::training::diagnostics::LayerDiagnostics;
use crate::training::init::initial_weights_for;
use crate::training::trainer::{EpochRecord, TestScores, Trainer, run_to_end};

/// Name of the linear row of an `mse` run: the least-squares fit, the
/// lowest training loss any linear model reaches.
pub const LEAST_SQUARES_NAME: &str = "least squares (linear)";
/// Name of the linear row of a `bce` run: the best linear model for the
/// log-loss (not for accuracy).
pub const LOGISTIC_NAME: &str = "logistic regression (linear, max. likelihood)";
/// Name of the linear row of a `cross_entropy` run: softmax over linear
/// logits, fitted by maximum likelihood.
pub const MULTINOMIAL_NAME: &str = "multinomial logistic regression (linear, max. likelihood)";

/// The note under a table whose linear row is logistic regression: how it
/// was fitted, so that it can be reproduced.
pub fn logistic_note(loss: LossKind, train_rows: usize) -> String {
    let name = match loss {
        LossKind::CrossEntropy => MULTINOMIAL_NAME,
        _ => LOGISTIC_NAME,
    };
    format!(
        "{name}: Newton's method in float64, intercept unpenalised, ridge {RIDGE:e} x \
         |w|^2 / 2 on the mean log-loss (scikit-learn's C = {:.4} for these {train_rows} rows); \
         the best linear model for the loss, not for accuracy",
        1.0 / (RIDGE * train_rows as f64)
    )
}

/// One row of the comparison table.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRow {
    /// Activation name, or the linear row's ([`LEAST_SQUARES_NAME`], [`LOGISTIC_NAME`]).
    pub name: String,
    /// The loss over all training rows at the end (none for least squares
    /// under `bce`: its outputs are no logits).
    pub train_loss: Option<f64>,
    /// The loss over the validation rows at the end.
    pub val_loss: Option<f64>,
    /// R^2 on the validation rows at the end (regression runs).
    pub val_r2: Option<f64>,
    /// Share of training rows classified right (0/1 labels).
    pub train_accuracy: Option<f64>,
    /// Share of validation rows classified right (0/1 labels).
    pub val_accuracy: Option<f64>,
    /// The loss on the test rows (`data.test_fraction`), scored once at the
    /// end with the weights the run ends with (early stopping's best).
    pub test_loss: Option<f64>,
    /// Share of test rows classified right (0/1 labels).
    pub test_accuracy: Option<f64>,
    /// How the fitted curve bends (networks that see one input), see
    /// [`Pieces`].
    pub pieces: Option<Pieces>,
    /// The linear regions it cuts the data's box into (networks that see
    /// two inputs), see [`crate::regions`].
    pub regions: Option<Pieces>,
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
    /// Said when its final training loss ended above 1.1x its start.
    pub rise: Option<String>,
}

/// One activation's whole run.
#[derive(Clone, Debug)]
pub struct ActivationRun {
    /// The activation.
    pub activation: LayerActivations,
    /// The weights the run started from, read back from its device.
    pub initial_weights: Vec<LayerWeights>,
    /// Per-epoch records (with the loss over all training rows).
    pub records: Vec<EpochRecord>,
    /// The trained weights, read back from the device (none if it diverged).
    pub final_weights: Option<Vec<LayerWeights>>,
    /// The table row.
    pub row: CompareRow,
}

/// All runs plus the linear baseline.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// One run per activation, in the order asked for.
    pub runs: Vec<ActivationRun>,
    /// The best linear model's row (least squares, or logistic regression).
    pub linear: CompareRow,
    /// How the linear row was fitted, when that needs saying.
    pub note: Option<String>,
}

impl Comparison {
    /// Table rows: every activation, then the linear model.
    pub fn rows(&self) -> Vec<&CompareRow> {
        self.runs
            .iter()
            .map(|run| &run.row)
            .chain([&self.linear])
            .collect()
    }
}

/// Checks every activation of a comparison against `config` before any
/// trains: one that does not fit (three names for two hidden layers) is a
/// one-line error naming it, not a failure after the others have trained.
pub fn check_activations(
    config: &RunConfig,
    activations: &[LayerActivations],
) -> Result<(), crate::error::UserError> {
    for &activation in activations {
        let mut candidate = config.clone();
        candidate.model.activation = activation;
        candidate.validate().map_err(|error| {
            crate::error::UserError::new(format!("--activations {activation}: {}", error.message))
        })?;
    }
    Ok(())
}

/// Trains `activations` one after another (or on `jobs` threads) from the
/// same initial weights; the result does not depend on `jobs`.
pub fn compare(
    config: &RunConfig,
    backend: &Backend,
    data: &Split,
    activations: &[LayerActivations],
    jobs: usize,
    on_done: &(dyn Fn(&ActivationRun) + Sync),
) -> anyhow::Result<Comparison> {
    let line_range = match input_space(config)? {
        InputSpace::Line { range, .. } => Some(range),
        _ => None,
    };
    let train_one = |activation: LayerActivations| -> anyhow::Result<ActivationRun> {
        let mut run_config = config.clone();
        run_config.model.activation = activation;
        run_config.training.diagnostics = true;
        // The same weights for every activation under PyTorch's init; the
        // same draws scaled by each activation's gain under Xavier or He.
        let weights = initial_weights_for(&run_config);
        let trainer = Trainer::new(&run_config, backend, data, &weights)?;
        let initial_weights = trainer.model().to_weights();
        let outcome = run_to_end(trainer, config.training.epochs);
        let name = activation.to_string();
        let final_weights = outcome
            .diverged
            .is_none()
            .then(|| outcome.model.to_weights());
        let mut row = match (&outcome.diverged, &final_weights) {
            (Some(diverged), _) => CompareRow::diverged(&name, diverged.epoch, outcome.seconds),
            (None, Some(weights)) => finished_row(
                config,
                backend,
                data,
                activation,
                (&outcome.records, weights),
                outcome.seconds,
                outcome.test,
            )?,
            (None, None) => unreachable!("a run that did not diverge has weights"),
        };
        row.rise = outcome.rise.clone();
        let run = ActivationRun {
            activation,
            initial_weights,
            row,
            records: outcome.records,
            final_weights,
        };
        on_done(&run);
        Ok(run)
    };
    let runs = crate::parallel::map_indexed(activations.len(), jobs, |index| {
        train_one(activations[index])
    });
    let runs = runs.into_iter().collect::<anyhow::Result<Vec<_>>>()?;

    let linear_regions = runs
        .iter()
        .any(|run| run.row.regions.is_some())
        .then_some(Pieces::Linear(1));
    let mut linear = linear_row(config, data);
    linear.pieces = line_range.map(|_| Pieces::Linear(1));
    // A linear model is one region.
    linear.regions = linear_regions;
    let note = config
        .training
        .loss
        .takes_labels()
        .then(|| logistic_note(config.training.loss, data.train.rows()));
    Ok(Comparison { runs, linear, note })
}

/// The table row of a run of `activation` that finished with `records` and
/// `weights`: its numbers, test scores, and the linear regions (2 inputs)
/// or pieces (1-D fits) of the trained network.
pub fn finished_row(
    config: &RunConfig,
    backend: &Backend,
    data: &Split,
    activation: LayerActivations,
    (records, weights): (&[EpochRecord], &[LayerWeights]),
    seconds: f64,
    test: Option<TestScores>,
) -> anyhow::Result<CompareRow> {
    let name = activation.to_string();
    let mut row = row_from_records(&name, records, data, seconds);
    row.test_loss = test.map(|t| t.loss);
    row.test_accuracy = test.and_then(|t| t.accuracy);
    if config.model.input == 2 {
        let mut with = config.clone();
        with.model.activation = activation;
        row.regions = count_in_box(&with, data.standardizer.as_ref(), weights);
    }
    if let InputSpace::Line { range, .. } = input_space(config)? {
        let network = TrainedNetwork::new(
            config,
            activation,
            weights,
            data.standardizer.clone(),
            &backend.device,
        )?;
        row.pieces = Some(Pieces::of(
            activation,
            &curve(&network, range, CURVE_POINTS),
        ));
    }
    Ok(row)
}

/// The comparison's linear row and its note, fitted on `data`'s training
/// rows (for comparisons assembled elsewhere, e.g. batched seeds).
pub fn linear_baseline(config: &RunConfig, data: &Split) -> (CompareRow, Option<String>) {
    let note = config
        .training
        .loss
        .takes_labels()
        .then(|| logistic_note(config.training.loss, data.train.rows()));
    (linear_row(config, data), note)
}

/// The best linear model for the run's loss, fitted on the training rows:
/// least squares for `mse` (thresholded at 0.5 for 0/1 labels' accuracy),
/// logistic regression for `bce` (its loss is the networks' log-loss).
fn linear_row(config: &RunConfig, data: &Split) -> CompareRow {
    let classifies = config.is_classification();
    let validation = data.validation.as_ref();
    let test = data.test.as_ref();
    let empty = CompareRow {
        name: String::new(),
        train_loss: None,
        val_loss: None,
        val_r2: None,
        train_accuracy: None,
        val_accuracy: None,
        test_loss: None,
        test_accuracy: None,
        pieces: None,
        regions: None,
        best_epoch: None,
        seconds: 0.0,
        first_layer_grad: None,
        dead_fraction: None,
        saturated_fraction: None,
        diverged_epoch: None,
        rise: None,
    };
    // A linear classifier's row: its loss and accuracy on each part.
    let classifier_row = |name: &str,
                          loss: &dyn Fn(&Dataset) -> f64,
                          accuracy: &dyn Fn(&Dataset) -> f64| CompareRow {
        name: name.into(),
        train_loss: Some(loss(&data.train)),
        val_loss: validation.map(loss),
        train_accuracy: Some(accuracy(&data.train)),
        val_accuracy: validation.map(accuracy),
        test_loss: test.map(loss),
        test_accuracy: test.map(accuracy),
        ..empty.clone()
    };
    match config.training.loss {
        LossKind::CrossEntropy => {
            let fit = MultinomialFit::fit(&data.train, config.model.output, RIDGE);
            return classifier_row(MULTINOMIAL_NAME, &|d| fit.log_loss(d), &|d| fit.accuracy(d));
        }
        LossKind::Bce => {
            let fit = LogisticFit::fit(&data.train, RIDGE);
            return classifier_row(LOGISTIC_NAME, &|d| fit.log_loss(d), &|d| fit.accuracy(d));
        }
        LossKind::Mse => {}
    }
    let fit = OlsFit::fit(&data.train);
    let val_loss = validation.map(|v| fit.mse(v));
    CompareRow {
        name: LEAST_SQUARES_NAME.into(),
        train_loss: Some(fit.mse(&data.train)),
        val_loss,
        val_r2: validation
            .zip(val_loss)
            .filter(|_| !classifies)
            .and_then(|(v, mse)| r_squared(mse, &v.y)),
        train_accuracy: classifies.then(|| fit.accuracy(&data.train)),
        val_accuracy: validation.filter(|_| classifies).map(|v| fit.accuracy(v)),
        test_loss: test.map(|t| fit.mse(t)),
        test_accuracy: test.filter(|_| classifies).map(|t| fit.accuracy(t)),
        ..empty
    }
}

impl CompareRow {
    /// The row of a run that diverged in `epoch`: no results.
    pub fn diverged(name: &str, epoch: usize, seconds: f64) -> Self {
        Self {
            name: name.to_string(),
            train_loss: None,
            val_loss: None,
            val_r2: None,
            train_accuracy: None,
            val_accuracy: None,
            test_loss: None,
            test_accuracy: None,
            pieces: None,
            regions: None,
            best_epoch: None,
            seconds,
            first_layer_grad: None,
            dead_fraction: None,
            saturated_fraction: None,
            diverged_epoch: Some(epoch),
            rise: None,
        }
    }
}

fn row_from_records(name: &str, records: &[EpochRecord], data: &Split, seconds: f64) -> CompareRow {
    let last = records.last().expect("at least one epoch");
    let score = |r: &EpochRecord| r.val_loss.or(r.train_loss).unwrap_or(r.loss);
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
        train_loss: Some(last.train_loss.unwrap_or(last.loss)),
        val_loss: last.val_loss,
        val_r2: data
            .validation
            .as_ref()
            .zip(last.val_loss)
            .filter(|_| last.val_accuracy.is_none())
            .and_then(|(v, mse)| r_squared(mse, &v.y)),
        train_accuracy: last.train_accuracy,
        val_accuracy: last.val_accuracy,
        test_loss: None,
        test_accuracy: None,
        pieces: None,
        regions: None,
        best_epoch,
        seconds,
        diverged_epoch: None,
        rise: None,
    }
}

/// The table's columns: the always-present ones, then accuracy for 0/1
/// labels and linear pieces for 1-D fits, when any row has them.
fn columns(comparison: &Comparison) -> Vec<Column> {
    let rows = comparison.rows();
    let any = |has: fn(&CompareRow) -> bool| rows.iter().any(|row| has(row));
    let mut columns = vec![
        Column::new(
            "train loss",
            "train_loss",
            12,
            |r| fixed(r.train_loss, 6),
            |r| cell(r.train_loss),
        ),
        Column::new(
            "val loss",
            "val_loss",
            12,
            |r| fixed(r.val_loss, 6),
            |r| cell(r.val_loss),
        ),
    ];
    if any(|r| r.val_r2.is_some()) || !any(|r| r.train_accuracy.is_some()) {
        columns.push(Column::new(
            "val R2",
            "val_r2",
            8,
            |r| fixed(r.val_r2, 4),
            |r| cell(r.val_r2),
        ));
    }
    if any(|r| r.train_accuracy.is_some()) {
        columns.push(Column::new(
            "train acc",
            "train_accuracy",
            9,
            |r| percent(r.train_accuracy, 1),
            |r| cell(r.train_accuracy),
        ));
        columns.push(Column::new(
            "val acc",
            "val_accuracy",
            8,
            |r| percent(r.val_accuracy, 1),
            |r| cell(r.val_accuracy),
        ));
    }
    if any(|r| r.test_loss.is_some()) {
        columns.push(Column::new(
            "test loss",
            "test_loss",
            12,
            |r| fixed(r.test_loss, 6),
            |r| cell(r.test_loss),
        ));
    }
    if any(|r| r.test_accuracy.is_some()) {
        columns.push(Column::new(
            "test acc",
            "test_accuracy",
            8,
            |r| percent(r.test_accuracy, 1),
            |r| cell(r.test_accuracy),
        ));
    }
    if any(|r| r.regions.is_some()) {
        columns.push(Column::new(
            "regions",
            "linear_regions",
            7,
            |r| r.regions.map_or("-".into(), |p| p.cell()),
            |r| r.regions.map_or(String::new(), |p| p.cell()),
        ));
    }
    if any(|r| r.pieces.is_some()) {
        columns.push(Column::new(
            "pieces",
            "linear_pieces",
            6,
            |r| r.pieces.map_or("-".into(), |p| p.cell()),
            |r| r.pieces.map_or(String::new(), |p| p.cell()),
        ));
    }
    columns.extend([
        Column::new(
            "best epoch",
            "best_epoch",
            10,
            |r| r.best_epoch.map_or("-".into(), |e| e.to_string()),
            |r| cell(r.best_epoch),
        ),
        Column::new(
            "seconds",
            "seconds",
            9,
            |r| format!("{:.2}", r.seconds),
            |r| format!("{:.3}", r.seconds),
        ),
        Column::new(
            "|grad| fc1",
            "grad_norm_l1",
            11,
            |r| scientific(r.first_layer_grad, 2),
            |r| cell(r.first_layer_grad),
        ),
        Column::new(
            "dead",
            "dead_fraction",
            6,
            |r| percent(r.dead_fraction, 0),
            |r| cell(r.dead_fraction),
        ),
        Column::new(
            "satur.",
            "saturated_fraction",
            6,
            |r| percent(r.saturated_fraction, 0),
            |r| cell(r.saturated_fraction),
        ),
    ]);
    columns
}

/// One column of the table and of `summary.csv`.
struct Column {
    title: &'static str,
    csv_name: &'static str,
    width: usize,
    text: fn(&CompareRow) -> String,
    csv: fn(&CompareRow) -> String,
}

impl Column {
    fn new(
        title: &'static str,
        csv_name: &'static str,
        width: usize,
        text: fn(&CompareRow) -> String,
        csv: fn(&CompareRow) -> String,
    ) -> Self {
        Self {
            title,
            csv_name,
            width,
            text,
            csv,
        }
    }
}

/// The table as text, aligned for a terminal.
pub fn render_table(comparison: &Comparison) -> String {
    let columns = columns(comparison);
    let names = name_width(comparison.rows().iter().map(|row| row.name.as_str()));
    let mut out = format!("{:<names$}", "activation");
    for column in &columns {
        out.push_str(&format!(" {:>width$}", column.title, width = column.width));
    }
    out.push('\n');
    for row in comparison.rows() {
        if let Some(epoch) = row.diverged_epoch {
            out.push_str(&format!(
                "{:<names$} diverged in epoch {epoch} (loss or weights not finite)\n",
                row.name
            ));
            continue;
        }
        out.push_str(&format!("{:<names$}", row.name));
        for column in &columns {
            out.push_str(&format!(
                " {:>width$}",
                (column.text)(row),
                width = column.width
            ));
        }
        out.push('\n');
    }
    if let Some(note) = &comparison.note {
        out.push_str(note);
        out.push('\n');
    }
    for row in comparison.rows() {
        if let Some(rise) = &row.rise {
            out.push_str(&format!("warning: {}: {rise}\n", row.name));
        }
    }
    out
}

/// The width of a table's first column: 20, or its longest name.
pub fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(str::len).max().unwrap_or(0).max(20)
}

/// `compare.csv`: one line per activation per epoch.
pub fn curves_csv(comparison: &Comparison) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "activation",
        "epoch",
        "batch_loss",
        "train_loss",
        "val_loss",
        "train_accuracy",
        "val_accuracy",
    ])?;
    for run in &comparison.runs {
        for r in &run.records {
            writer.write_record([
                run.activation.to_string(),
                r.epoch.to_string(),
                r.loss.to_string(),
                cell(r.train_loss),
                cell(r.val_loss),
                cell(r.train_accuracy),
                cell(r.val_accuracy),
            ])?;
        }
    }
    Ok(writer.into_inner()?)
}

/// `summary.csv`: the table, plus the epoch a row diverged in.
pub fn summary_csv(comparison: &Comparison) -> anyhow::Result<Vec<u8>> {
    let columns = columns(comparison);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["activation"];
    header.extend(columns.iter().map(|c| c.csv_name));
    header.push("diverged_epoch");
    writer.write_record(&header)?;
    for row in comparison.rows() {
        let mut record = vec![row.name.clone()];
        record.extend(columns.iter().map(|c| (c.csv)(row)));
        record.push(cell(row.diverged_epoch));
        writer.write_record(&record)?;
    }
    Ok(writer.into_inner()?)
}
