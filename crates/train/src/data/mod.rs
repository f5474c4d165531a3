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

use std::path::Path;

pub use self::csv::{Table, read_csv, read_table, target_index};
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
    /// The last rows, never trained on.
    pub validation: Option<Dataset>,
    /// The feature scaling applied to both, when the config standardises;
    /// predictions on new rows must apply it too.
    pub standardizer: Option<Standardizer>,
}

/// Builds the data set a run's config describes, after checking that it fits
/// the machine's memory (generated data before it is made, a CSV file once
/// read), and checks that it fits the network's input.
pub fn load_for(config: &RunConfig) -> Result<Split, UserError> {
    if config.data.kind != DataKind::Csv {
        crate::memory::check(config, config.data.samples)?;
    }
    let split = load(&config.data, config.seed)?;
    if config.data.kind == DataKind::Csv {
        let rows = split.train.rows() + split.validation.as_ref().map_or(0, Dataset::rows);
        crate::memory::check(config, rows)?;
    }
    if config.training.loss == LossKind::Bce {
        check_labels(&split, config)?;
    }
    if split.train.features != config.model.input {
        return Err(UserError::new(format!(
            "model.input is {} but {} has {} feature columns",
            config.model.input,
            config
                .data
                .path
                .as_deref()
                .unwrap_or(Path::new("the data"))
                .display(),
            split.train.features
        )));
    }
    Ok(split)
}

/// A `bce` run needs 0/1 targets; names the first row that is not one.
fn check_labels(split: &Split, config: &RunConfig) -> Result<(), UserError> {
    let targets = split
        .train
        .y
        .iter()
        .chain(split.validation.iter().flat_map(|v| v.y.iter()));
    for (index, &target) in targets.enumerate() {
        if target != 0.0 && target != 1.0 {
            let source = match &config.data.path {
                Some(path) => path.display().to_string(),
                None => format!("data.kind = \"{}\"", config.data.kind),
            };
            return Err(UserError::new(format!(
                "training.loss = \"bce\" needs 0/1 targets, but data row {} of {source} has {target}",
                index + 1
            )));
        }
    }
    Ok(())
}

/// The rows a generated kind draws before any engineered inputs: the 2-D
/// points `(x1, x2)` of a Playground set, `x` of a function fit. `None` for
/// the other kinds.
pub fn points(config: &DataConfig, seed: u64) -> Option<Dataset> {
    let noise_std = config.noise_std();
    match config.kind {
        kind if kind.is_plane() => Some(playground::plane(kind, config.samples, noise_std, seed)),
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
    let features = config.features.unwrap_or(DEFAULT_FEATURES);
    let noise_std = config.noise_std();
    let data = match config.kind {
        DataKind::Noise => noise(config.samples, features, seed),
        DataKind::Friedman1 => friedman1(config.samples, features, noise_std, seed),
        DataKind::Linear => linear(config.samples, features, noise_std, seed).0,
        kind if kind.is_plane() => playground::engineer(
            &playground::plane(kind, config.samples, noise_std, seed),
            &config.inputs(),
        ),
        DataKind::Function => points(config, seed).expect("function data has points"),
        DataKind::Csv => {
            let path = config
                .path
                .as_deref()
                .ok_or_else(|| UserError::new("data.path is required when data.kind = \"csv\""))?;
            read_csv(path, config.target.as_ref(), config.header)?
        }
        _ => unreachable!("every kind is generated above"),
    };
    let mut split = split(data, config.validation_fraction)?;
    if config.standardize {
        standardize(&mut split);
    }
    Ok(split)
}
