//! Data sets: the seed's noise, Friedman #1, a linear ground truth, CSV
//! files, and Playground's 2-D sets and 1-D functions; then the validation
//! split and optional standardisation.
//!
//! Everything is made on the CPU from the run's seed, so every backend sees
//! the same numbers.

mod csv;
mod generate;
pub mod playground;
mod prepare;

pub use self::csv::{
    HeaderDecision, Table, parse_table, read_csv, read_table, table_dataset, target_index,
};
pub use self::generate::{LinearTruth, friedman1, friedman1_target, linear, noise};
pub use self::prepare::{Standardizer, split, standardize};

use crate::config::{DEFAULT_FEATURES, DataConfig, DataKind, FunctionKind, LossKind, RunConfig};
use crate::error::UserError;

/// Rows of features with one target each, stored row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Columns per row.
    pub features: usize,
    /// `rows * features` values.
    pub x: Vec<f32>,
    /// One target per row.
    pub y: Vec<f32>,
}

impl Dataset {
    /// Number of rows, counted on the features: rows read for prediction
    /// have no targets.
    pub fn rows(&self) -> usize {
        match self.features {
            0 => self.y.len(),
            features => self.x.len() / features,
        }
    }

    /// Row `index`'s features.
    pub fn row(&self, index: usize) -> &[f32] {
        &self.x[index * self.features..(index + 1) * self.features]
    }

    /// Rows `start..end` as a new data set.
    pub fn slice(&self, start: usize, end: usize) -> Dataset {
        Dataset {
            features: self.features,
            x: self.x[start * self.features..end * self.features].to_vec(),
            y: self.y[start..end].to_vec(),
        }
    }
}

/// The training rows and, when asked for, the held-out validation rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Rows the optimiser sees.
    pub train: Dataset,
    /// The rows before the test part, never trained on: what early stopping
    /// and tuning watch.
    pub validation: Option<Dataset>,
    /// The very last rows (`data.test_fraction`), never trained on and never
    /// watched during training: scored once, at the end.
    pub test: Option<Dataset>,
    /// The feature scaling applied to both, when the config standardises;
    /// predictions on new rows must apply it too.
    pub standardizer: Option<Standardizer>,
    /// How a CSV file's first row was read (a run records the decision and
    /// its summary says it); none for generated data.
    pub csv_header: Option<HeaderDecision>,
}

/// Builds the data set a run's config describes, after checking that it fits
/// the machine's memory (generated data before it is made, a CSV file once
/// read), and checks that it fits the network's input.
pub fn load_for(config: &RunConfig) -> Result<Split, UserError> {
    if config.data.kind != DataKind::Csv {
        crate::memory::check(config, config.data.samples)?;
    }
    let (data, csv_header) = rows_read(&config.data, config.seed)?;
    if config.data.kind == DataKind::Csv {
        crate::memory::check(config, data.rows())?;
    }
    let source = match &config.data.path {
        Some(path) => path.display().to_string(),
        None => format!("data.kind = \"{}\"", config.data.kind),
    };
    let mut split = prepare_for(config, data, &source)?;
    split.csv_header = csv_header;
    Ok(split)
}

/// Splits and standardises rows read for `config` (from `source`, as
/// messages name it), after checking that they fit its loss and network.
pub fn prepare_for(config: &RunConfig, data: Dataset, source: &str) -> Result<Split, UserError> {
    check_labels(config, &data, source)?;
    if data.features != config.model.input {
        return Err(UserError::new(format!(
            "model.input is {} but {source} has {} feature columns",
            config.model.input, data.features
        )));
    }
    prepared(data, &config.data)
}

/// A `bce` run needs 0/1 targets and a `cross_entropy` run class numbers
/// 0..K-1 (`K = model.output`), as PyTorch's losses do; names the first row
/// that has something else. Other losses take any target.
pub fn check_labels(config: &RunConfig, data: &Dataset, source: &str) -> Result<(), UserError> {
    let (classes, what) = match config.training.loss {
        LossKind::Bce => (2, "0/1 targets".to_string()),
        LossKind::CrossEntropy => {
            let k = config.model.output;
            (
                k,
                format!("class numbers 0..{} (model.output = {k})", k - 1),
            )
        }
        LossKind::Mse => return Ok(()),
    };
    let is_label = |t: f32| t >= 0.0 && t.fract() == 0.0 && (t as usize) < classes;
    match data.y.iter().position(|&t| !is_label(t)) {
        None => Ok(()),
        Some(index) => Err(UserError::new(format!(
            "training.loss = \"{}\" needs {what}, but data row {} of {source} has {}",
            config.training.loss.name(),
            index + 1,
            data.y[index]
        ))),
    }
}

/// The rows a generated kind draws before any engineered inputs: the 2-D
/// points `(x1, x2)` of a Playground set, `x` of a function fit. `None` for
/// the other kinds.
pub fn points(config: &DataConfig, seed: u64) -> Option<Dataset> {
    let noise_std = config.noise_std();
    match config.kind {
        kind if kind.is_plane() => Some(playground::plane(
            kind,
            config.classes_generated().unwrap_or(2),
            config.samples,
            noise_std,
            seed,
        )),
        DataKind::Function => {
            let function = config.function.unwrap_or(FunctionKind::Sin);
            Some(playground::function(
                function,
                config.samples,
                noise_std,
                seed,
            ))
        }
        _ => None,
    }
}

/// Builds the data set a config describes, split and standardised.
pub fn load(config: &DataConfig, seed: u64) -> Result<Split, UserError> {
    prepared(rows(config, seed)?, config)
}

/// `data` split into training and validation rows, standardised when the config says so.
fn prepared(data: Dataset, config: &DataConfig) -> Result<Split, UserError> {
    let mut split = split(data, config.validation_fraction, config.test_fraction)?;
    if config.standardize {
        standardize(&mut split);
    }
    Ok(split)
}

/// Every row a config's data has, in order, before the split.
pub fn rows(config: &DataConfig, seed: u64) -> Result<Dataset, UserError> {
    rows_read(config, seed).map(|(data, _)| data)
}

/// [`rows`], and how a CSV file's first row was read.
fn rows_read(
    config: &DataConfig,
    seed: u64,
) -> Result<(Dataset, Option<HeaderDecision>), UserError> {
    let features = config.features.unwrap_or(DEFAULT_FEATURES);
    let noise_std = config.noise_std();
    let data = match config.kind {
        DataKind::Noise => noise(config.samples, features, seed),
        DataKind::Friedman1 => friedman1(config.samples, features, noise_std, seed),
        DataKind::Linear => linear(config.samples, features, noise_std, seed).0,
        kind if kind.is_plane() => playground::engineer(
            &playground::plane(
                kind,
                config.classes_generated().unwrap_or(2),
                config.samples,
                noise_std,
                seed,
            ),
            &config.inputs(),
        ),
        DataKind::Function => points(config, seed).expect("function data has points"),
        DataKind::Csv => {
            let path = config
                .data_file()
                .ok_or_else(|| UserError::new("data.path is required when data.kind = \"csv\""))?;
            let (data, header) = read_csv(&path, config.target.as_ref(), config.header.0)?;
            return Ok((data, Some(header)));
        }
        _ => unreachable!("every kind is generated above"),
    };
    Ok((data, None))
}
