//! Data sets: the seed's noise, Friedman #1, a linear ground truth, and CSV
//! files; then the validation split and optional standardisation.
//!
//! Everything is made on the CPU from the run's seed, so every backend sees
//! the same numbers.

use std::f64::consts::PI;
use std::path::Path;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::config::{DataConfig, DataKind, RunConfig, TargetColumn};
use crate::error::UserError;
use crate::rng::{Stream, stream};

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
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
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

/// Per-feature `(x - mean) * scale`, fitted on the training rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standardizer {
    /// Mean of each feature over the training rows.
    pub mean: Vec<f64>,
    /// `1 / standard deviation` of each feature (1 for a constant feature).
    pub scale: Vec<f64>,
}

impl Standardizer {
    /// Fits the mean and deviation of every feature of `data`.
    pub fn fit(data: &Dataset) -> Self {
        let (rows, features) = (data.rows() as f64, data.features);
        let mut mean = vec![0.0f64; features];
        for row in 0..data.rows() {
            for (m, &v) in mean.iter_mut().zip(data.row(row)) {
                *m += v as f64 / rows;
            }
        }
        let mut variance = vec![0.0f64; features];
        for row in 0..data.rows() {
            for ((s, &v), m) in variance.iter_mut().zip(data.row(row)).zip(&mean) {
                *s += (v as f64 - m).powi(2) / rows;
            }
        }
        let scale = variance
            .iter()
            .map(|s| if *s > 0.0 { 1.0 / s.sqrt() } else { 1.0 })
            .collect();
        Self { mean, scale }
    }

    /// Scales `data`'s features in place.
    pub fn apply(&self, data: &mut Dataset) {
        let features = data.features;
        for (index, value) in data.x.iter_mut().enumerate() {
            let column = index % features;
            *value = ((*value as f64 - self.mean[column]) * self.scale[column]) as f32;
        }
    }
}

/// The coefficients behind `kind = "linear"` data.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearTruth {
    /// One weight per feature.
    pub weights: Vec<f64>,
    /// The intercept.
    pub bias: f64,
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

/// Builds the data set a config describes, split and standardised.
pub fn load(config: &DataConfig, seed: u64) -> Result<Split, UserError> {
    let data = match config.kind {
        DataKind::Noise => noise(config.samples, config.features, seed),
        DataKind::Friedman1 => friedman1(config.samples, config.features, config.noise_std, seed),
        DataKind::Linear => linear(config.samples, config.features, config.noise_std, seed).0,
        DataKind::Csv => {
            let path = config
                .path
                .as_deref()
                .ok_or_else(|| UserError::new("data.path is required when data.kind = \"csv\""))?;
            read_csv(path, config.target.as_ref(), config.header)?
        }
    };
    let mut split = split(data, config.validation_fraction)?;
    if config.standardize {
        standardize(&mut split);
    }
    Ok(split)
}

/// The seed's data: `X = randn(n, f)`, then `y = randn(n, 1)`.
pub fn noise(samples: usize, features: usize, seed: u64) -> Dataset {
    let mut rng = stream(seed, Stream::Data);
    let x = (0..samples * features)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let y = (0..samples)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    Dataset { features, x, y }
}

/// Friedman #1's noiseless target for one row (uses the first five features).
pub fn friedman1_target(row: &[f64]) -> f64 {
    10.0 * (PI * row[0] * row[1]).sin()
        + 20.0 * (row[2] - 0.5).powi(2)
        + 10.0 * row[3]
        + 5.0 * row[4]
}

/// Friedman #1: `x ~ U(0,1)^f`, `y = friedman1_target(x) + noise_std * N(0,1)`.
pub fn friedman1(samples: usize, features: usize, noise_std: f64, seed: u64) -> Dataset {
    let mut rng = stream(seed, Stream::Data);
    let mut x = Vec::with_capacity(samples * features);
    let mut y = Vec::with_capacity(samples);
    let mut row = vec![0.0f64; features];
    for _ in 0..samples {
        for value in row.iter_mut() {
            *value = rng.random::<f64>();
        }
        let noise: f64 = StandardNormal.sample(&mut rng);
        y.push((friedman1_target(&row) + noise_std * noise) as f32);
        x.extend(row.iter().map(|&v| v as f32));
    }
    Dataset { features, x, y }
}

/// A linear ground truth with seeded `w`, `b ~ N(0,1)`, `x ~ N(0,1)`.
pub fn linear(
    samples: usize,
    features: usize,
    noise_std: f64,
    seed: u64,
) -> (Dataset, LinearTruth) {
    let mut rng = stream(seed, Stream::Data);
    let weights: Vec<f64> = (0..features)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let bias: f64 = StandardNormal.sample(&mut rng);
    let mut x = Vec::with_capacity(samples * features);
    let mut y = Vec::with_capacity(samples);
    for _ in 0..samples {
        let row: Vec<f32> = (0..features)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect::<Vec<f64>>()
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let noise: f64 = StandardNormal.sample(&mut rng);
        let clean: f64 = row
            .iter()
            .zip(&weights)
            .map(|(&xi, &wi)| xi as f64 * wi)
            .sum::<f64>()
            + bias;
        y.push((clean + noise_std * noise) as f32);
        x.extend(row);
    }
    (Dataset { features, x, y }, LinearTruth { weights, bias })
}

/// A numeric CSV file: optional header names and row-major values.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The header row, when the file has one.
    pub names: Option<Vec<String>>,
    /// Columns per row.
    pub columns: usize,
    /// `rows * columns` values.
    pub values: Vec<f32>,
}

impl Table {
    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.values.len() / self.columns.max(1)
    }

    /// Splits off column `target` as the targets; the rest are features.
    pub fn into_dataset(self, target: usize) -> Dataset {
        let mut x = Vec::with_capacity(self.values.len());
        let mut y = Vec::with_capacity(self.rows());
        for (index, value) in self.values.into_iter().enumerate() {
            if index % self.columns == target {
                y.push(value);
            } else {
                x.push(value);
            }
        }
        Dataset {
            features: self.columns - 1,
            x,
            y,
        }
    }

    /// Keeps every column as a feature; the targets are left empty.
    pub fn into_features(self) -> Dataset {
        Dataset {
            features: self.columns,
            x: self.values,
            y: Vec::new(),
        }
    }
}

/// Reads a CSV file of numbers; every row must have as many columns as the
/// first. Errors name the file, the row (as a reader counts lines) and the
/// column.
pub fn read_table(path: &Path, header: bool) -> Result<Table, UserError> {
    let shown = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(header)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|error| {
            UserError::new(format!(
                "cannot read data file {shown}: {}",
                csv_reason(&error)
            ))
        })?;
    let names: Option<Vec<String>> = if header {
        let headers = reader
            .headers()
            .map_err(|error| UserError::new(format!("{shown}: {}", csv_reason(&error))))?;
        Some(headers.iter().map(str::to_string).collect())
    } else {
        None
    };
    let mut columns: Option<usize> = names.as_ref().map(Vec::len);
    let mut values = Vec::new();
    for (index, record) in reader.records().enumerate() {
        // Rows are counted as a person reading the file would: line 1 is the header.
        let row_number = index + 1 + usize::from(header);
        let record = record.map_err(|error| {
            UserError::new(format!("{shown}: row {row_number}: {}", csv_reason(&error)))
        })?;
        let width = *columns.get_or_insert(record.len());
        if record.len() != width {
            return Err(UserError::new(format!(
                "{shown}: row {row_number} has {} columns, expected {width}",
                record.len()
            )));
        }
        for (column, cell) in record.iter().enumerate() {
            let name = names
                .as_ref()
                .map(|n| format!(" ({})", n[column]))
                .unwrap_or_default();
            let value: f32 = cell.parse().map_err(|_| {
                UserError::new(format!(
                    "{shown}: row {row_number}, column {}{name}: `{cell}` is not a number",
                    column + 1
                ))
            })?;
            if !value.is_finite() {
                return Err(UserError::new(format!(
                    "{shown}: row {row_number}, column {}{name}: `{cell}` is not finite",
                    column + 1
                )));
            }
            values.push(value);
        }
    }
    let Some(columns) = columns else {
        return Err(UserError::new(format!("{shown}: the file is empty")));
    };
    if values.is_empty() {
        return Err(UserError::new(format!("{shown}: no data rows")));
    }
    Ok(Table {
        names,
        columns,
        values,
    })
}

/// Reads a numeric CSV file; every column but the target is a feature.
pub fn read_csv(
    path: &Path,
    target: Option<&TargetColumn>,
    header: bool,
) -> Result<Dataset, UserError> {
    let shown = path.display().to_string();
    let table = read_table(path, header)?;
    if table.columns < 2 {
        return Err(UserError::new(format!(
            "{shown}: needs at least 2 columns (features and a target), found {}",
            table.columns
        )));
    }
    let target = target_index(&table, target, &shown)?;
    Ok(table.into_dataset(target))
}

/// The 0-based column `target` names in `table` (the last one when `None`).
pub fn target_index(
    table: &Table,
    target: Option<&TargetColumn>,
    shown: &str,
) -> Result<usize, UserError> {
    resolve_target(target, table.names.as_deref(), table.columns, shown)
}

fn resolve_target(
    target: Option<&TargetColumn>,
    names: Option<&[String]>,
    width: usize,
    shown: &str,
) -> Result<usize, UserError> {
    match target {
        None => Ok(width - 1),
        Some(TargetColumn::Index(index)) if *index < width => Ok(*index),
        Some(TargetColumn::Index(index)) => Err(UserError::new(format!(
            "{shown}: target column index {index} is out of range (the file has {width} columns, 0-based)"
        ))),
        Some(TargetColumn::Name(name)) => match names {
            Some(names) => names.iter().position(|n| n == name).ok_or_else(|| {
                UserError::new(format!(
                    "{shown}: no column named `{name}` in the header ({})",
                    names.join(", ")
                ))
            }),
            None => Err(UserError::new(format!(
                "{shown}: target `{name}` is a name but data.header = false; give a 0-based index"
            ))),
        },
    }
}

fn csv_reason(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Io(io) => crate::error::describe_io_error(io),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text".into(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} columns, expected {expected_len}"),
        _ => error.to_string(),
    }
}

/// Holds out the last `fraction` of rows for validation.
pub fn split(data: Dataset, fraction: f64) -> Result<Split, UserError> {
    let rows = data.rows();
    let held_out = (rows as f64 * fraction).round() as usize;
    if held_out == 0 {
        return Ok(Split {
            train: data,
            validation: None,
            standardizer: None,
        });
    }
    if held_out >= rows {
        return Err(UserError::new(format!(
            "data.validation_fraction = {fraction} leaves no training rows out of {rows}"
        )));
    }
    let cut = rows - held_out;
    Ok(Split {
        train: data.slice(0, cut),
        validation: Some(data.slice(cut, rows)),
        standardizer: None,
    })
}

/// Fits a [`Standardizer`] on the training rows and applies it to both
/// parts (a constant feature is only centred).
pub fn standardize(split: &mut Split) {
    let standardizer = Standardizer::fit(&split.train);
    standardizer.apply(&mut split.train);
    if let Some(validation) = split.validation.as_mut() {
        standardizer.apply(validation);
    }
    split.standardizer = Some(standardizer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn friedman1_matches_the_formula_on_fixed_inputs() {
        let row = [0.5, 0.5, 0.5, 0.5, 0.5];
        let expected = 10.0 * (PI * 0.25).sin() + 0.0 + 5.0 + 2.5;
        assert!((friedman1_target(&row) - expected).abs() < 1e-12);
        let row = [1.0, 0.5, 0.0, 1.0, 0.0];
        assert!((friedman1_target(&row) - (10.0 + 5.0 + 10.0)).abs() < 1e-12);
        // Generated rows follow the formula exactly when there is no noise.
        let data = friedman1(20, 10, 0.0, 3);
        for row in 0..data.rows() {
            let x: Vec<f64> = data.row(row).iter().map(|&v| v as f64).collect();
            assert!(x.iter().all(|v| (0.0..1.0).contains(v)));
            assert!((data.y[row] as f64 - friedman1_target(&x)).abs() < 1e-4);
        }
    }

    #[test]
    fn generators_are_seeded() {
        assert_eq!(noise(10, 3, 1), noise(10, 3, 1));
        assert_ne!(noise(10, 3, 1), noise(10, 3, 2));
        let (data, truth) = linear(5, 2, 0.0, 4);
        for row in 0..5 {
            let r = data.row(row);
            let clean =
                r[0] as f64 * truth.weights[0] + r[1] as f64 * truth.weights[1] + truth.bias;
            assert!((data.y[row] as f64 - clean).abs() < 1e-5);
        }
    }

    #[test]
    fn split_holds_out_the_last_rows() {
        let data = noise(10, 2, 0);
        let split = split(data.clone(), 0.2).unwrap();
        assert_eq!(split.train, data.slice(0, 8));
        assert_eq!(split.validation.unwrap(), data.slice(8, 10));
        assert!(super::split(noise(1, 1, 0), 0.9).is_err());
    }

    #[test]
    fn standardize_uses_training_statistics() {
        let mut split = split(noise(50, 3, 0), 0.2).unwrap();
        standardize(&mut split);
        for column in 0..3 {
            let values: Vec<f64> = (0..40).map(|r| split.train.row(r)[column] as f64).collect();
            let mean = values.iter().sum::<f64>() / 40.0;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 40.0;
            assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4);
        }
    }

    fn write(contents: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(contents.as_bytes()).unwrap();
        file
    }

    #[test]
    fn csv_round_trips_with_named_target() {
        let file = write("a,y,b\n1,2,3\n4,5,6\n");
        let target = TargetColumn::Name("y".into());
        let data = read_csv(file.path(), Some(&target), true).unwrap();
        assert_eq!(data.features, 2);
        assert_eq!(data.x, vec![1.0, 3.0, 4.0, 6.0]);
        assert_eq!(data.y, vec![2.0, 5.0]);
        let file = write("1,2,3\n4,5,6\n");
        let data = read_csv(file.path(), Some(&TargetColumn::Index(0)), false).unwrap();
        assert_eq!((data.x, data.y), (vec![2.0, 3.0, 5.0, 6.0], vec![1.0, 4.0]));
    }

    #[test]
    fn malformed_csv_is_rejected_naming_row_and_column() {
        let file = write("a,b,y\n1,2,3\n4,x,6\n");
        let err = read_csv(file.path(), None, true).unwrap_err().to_string();
        assert!(
            err.ends_with("row 3, column 2 (b): `x` is not a number"),
            "{err}"
        );
        let file = write("a,b,y\n1,2,3\n4,5\n");
        let err = read_csv(file.path(), None, true).unwrap_err().to_string();
        assert!(err.contains("row 3 has 2 columns, expected 3"), "{err}");
        let file = write("a,b,y\n");
        let err = read_csv(file.path(), None, true).unwrap_err().to_string();
        assert!(err.contains("no data rows"), "{err}");
        let err = read_csv(file.path(), Some(&TargetColumn::Name("z".into())), true);
        assert!(err.is_err());
        let file = write("a,b,y\n1,2,3\n");
        let err = read_csv(file.path(), Some(&TargetColumn::Name("z".into())), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no column named `z`"), "{err}");
        let err = read_csv(Path::new("/no/such.csv"), None, true)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "cannot read data file /no/such.csv: no such file");
    }
}
