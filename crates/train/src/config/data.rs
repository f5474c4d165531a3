//! `[data]`: which data set a run learns, and the checks that keep its keys
//! consistent with each other (a key that does not apply to the kind is an
//! error, not silently ignored).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ConfigError, as_f32, shown};

/// The kind of data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// The seed's data: X and y drawn independently from N(0, 1).
    Noise,
    /// Friedman's #1 regression benchmark (five informative features).
    Friedman1,
    /// `y = w.x + b + noise` with seeded `w`, `b`.
    Linear,
    /// A user's CSV file.
    Csv,
    /// 2-D, two classes: a disc (label 1) inside a ring (label 0).
    Circle,
    /// 2-D, two classes: label 1 where the signs of x1 and x2 differ.
    Xor,
    /// 2-D, two classes: two Gaussian blobs.
    Gauss,
    /// 2-D: interleaved spiral arms, one per class (`data.classes`, 2 by
    /// default).
    Spiral,
    /// 2-D, two classes: two interleaved half-moons.
    Moons,
    /// 2-D: `data.classes` Gaussian blobs (3 by default) on a circle.
    Blobs,
    /// 1-D regression: `y = f(x) + noise` for a named `f` (`data.function`).
    Function,
}

impl DataKind {
    /// Every kind, in the order menus list them.
    pub const ALL: [DataKind; 11] = [
        DataKind::Circle,
        DataKind::Xor,
        DataKind::Gauss,
        DataKind::Spiral,
        DataKind::Moons,
        DataKind::Blobs,
        DataKind::Function,
        DataKind::Noise,
        DataKind::Friedman1,
        DataKind::Linear,
        DataKind::Csv,
    ];

    /// The TF-Playground-style 2-D classification sets.
    pub const PLANE: [DataKind; 6] = [
        DataKind::Circle,
        DataKind::Xor,
        DataKind::Gauss,
        DataKind::Spiral,
        DataKind::Moons,
        DataKind::Blobs,
    ];

    /// Its name in configs.
    pub fn name(self) -> &'static str {
        match self {
            DataKind::Noise => "noise",
            DataKind::Friedman1 => "friedman1",
            DataKind::Linear => "linear",
            DataKind::Csv => "csv",
            DataKind::Circle => "circle",
            DataKind::Xor => "xor",
            DataKind::Gauss => "gauss",
            DataKind::Spiral => "spiral",
            DataKind::Moons => "moons",
            DataKind::Blobs => "blobs",
            DataKind::Function => "function",
        }
    }

    /// Whether it is a 2-D classification set (points `(x1, x2)`, labels
    /// 0..K-1).
    pub fn is_plane(self) -> bool {
        Self::PLANE.contains(&self)
    }

    /// Whether `data.classes` sets its number of classes.
    pub fn has_class_count(self) -> bool {
        matches!(self, DataKind::Spiral | DataKind::Blobs)
    }

    /// The classes a 2-D set has when `data.classes` is not set; `None`
    /// for the kinds without labels.
    pub fn default_classes(self) -> Option<usize> {
        match self {
            DataKind::Blobs => Some(3),
            kind if kind.is_plane() => Some(2),
            _ => None,
        }
    }

    /// Whether its features are drawn by a generator with `data.features` columns.
    fn has_feature_count(self) -> bool {
        matches!(
            self,
            DataKind::Noise | DataKind::Friedman1 | DataKind::Linear
        )
    }

    /// The noise a run gets when `data.noise_std` is not set: the input noise
    /// of the 2-D sets (the spread of `gauss`'s blobs), the target noise of
    /// the others. Documented in README's data table.
    pub fn default_noise_std(self) -> f64 {
        match self {
            DataKind::Noise | DataKind::Friedman1 | DataKind::Linear | DataKind::Csv => 1.0,
            DataKind::Circle | DataKind::Xor | DataKind::Moons => 0.1,
            DataKind::Gauss => 0.5,
            DataKind::Blobs => 0.25,
            DataKind::Spiral => 0.05,
            DataKind::Function => 0.1,
        }
    }
}

impl fmt::Display for DataKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The function behind `kind = "function"`, on x in [-pi, pi].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunctionKind {
    /// `sin(x)`.
    Sin,
    /// `|x|`: one kink.
    Abs,
    /// `x^2`.
    Square,
    /// 0 for `x < 0`, 1 from 0 on.
    Step,
    /// Rises linearly from -1 to 1 over each period of length pi, then drops.
    Sawtooth,
}

impl FunctionKind {
    /// Every function, in the order menus list them.
    pub const ALL: [FunctionKind; 5] = [
        FunctionKind::Sin,
        FunctionKind::Abs,
        FunctionKind::Square,
        FunctionKind::Step,
        FunctionKind::Sawtooth,
    ];

    /// The function's value at `x`.
    pub fn eval(self, x: f64) -> f64 {
        match self {
            FunctionKind::Sin => x.sin(),
            FunctionKind::Abs => x.abs(),
            FunctionKind::Square => x * x,
            FunctionKind::Step => {
                if x < 0.0 {
                    0.0
                } else {
                    1.0
                }
            }
            FunctionKind::Sawtooth => {
                let t = x / std::f64::consts::PI + 0.5;
                2.0 * (t - t.floor()) - 1.0
            }
        }
    }

    /// Its name in configs.
    pub fn name(self) -> &'static str {
        match self {
            FunctionKind::Sin => "sin",
            FunctionKind::Abs => "abs",
            FunctionKind::Square => "square",
            FunctionKind::Step => "step",
            FunctionKind::Sawtooth => "sawtooth",
        }
    }
}

/// One network input computed from a 2-D point, as TF Playground offers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputFeature {
    /// The first coordinate.
    #[serde(rename = "x1")]
    X1,
    /// The second coordinate.
    #[serde(rename = "x2")]
    X2,
    /// `x1` squared.
    #[serde(rename = "x1^2")]
    X1Squared,
    /// `x2` squared.
    #[serde(rename = "x2^2")]
    X2Squared,
    /// The product of the coordinates.
    #[serde(rename = "x1*x2")]
    Product,
    /// `sin(x1)`.
    #[serde(rename = "sin(x1)")]
    SinX1,
    /// `sin(x2)`.
    #[serde(rename = "sin(x2)")]
    SinX2,
}

impl InputFeature {
    /// Every input, in the order menus list them.
    pub const ALL: [InputFeature; 7] = [
        InputFeature::X1,
        InputFeature::X2,
        InputFeature::X1Squared,
        InputFeature::X2Squared,
        InputFeature::Product,
        InputFeature::SinX1,
        InputFeature::SinX2,
    ];

    /// The inputs a 2-D run gets when `data.inputs` is not set.
    pub const DEFAULT: [InputFeature; 2] = [InputFeature::X1, InputFeature::X2];

    /// The input's value at the point `(x1, x2)`.
    pub fn eval(self, x1: f64, x2: f64) -> f64 {
        match self {
            InputFeature::X1 => x1,
            InputFeature::X2 => x2,
            InputFeature::X1Squared => x1 * x1,
            InputFeature::X2Squared => x2 * x2,
            InputFeature::Product => x1 * x2,
            InputFeature::SinX1 => x1.sin(),
            InputFeature::SinX2 => x2.sin(),
        }
    }

    /// Its name in configs.
    pub fn name(self) -> &'static str {
        match self {
            InputFeature::X1 => "x1",
            InputFeature::X2 => "x2",
            InputFeature::X1Squared => "x1^2",
            InputFeature::X2Squared => "x2^2",
            InputFeature::Product => "x1*x2",
            InputFeature::SinX1 => "sin(x1)",
            InputFeature::SinX2 => "sin(x2)",
        }
    }
}

/// The target column of a CSV file: a header name or a 0-based index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TargetColumn {
    /// 0-based column index.
    Index(usize),
    /// Column name from the header row.
    Name(String),
}

/// By hand, for a message that says what is accepted (an untagged enum's
/// says "did not match any variant").
impl<'de> Deserialize<'de> for TargetColumn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Column;
        impl serde::de::Visitor<'_> for Column {
            type Value = TargetColumn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a column name or a 0-based column index")
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<TargetColumn, E> {
                usize::try_from(value)
                    .map(TargetColumn::Index)
                    .map_err(|_| E::custom(format!("column index {value} is too large")))
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<TargetColumn, E> {
                match u64::try_from(value) {
                    Ok(value) => self.visit_u64(value),
                    Err(_) => Err(E::custom(format!(
                        "must be a column name or a 0-based column index (got {value})"
                    ))),
                }
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<TargetColumn, E> {
                Ok(TargetColumn::Name(value.to_string()))
            }
        }
        deserializer.deserialize_any(Column)
    }
}

impl fmt::Display for TargetColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetColumn::Index(index) => write!(f, "{index}"),
            TargetColumn::Name(name) => write!(f, "{name}"),
        }
    }
}

/// `[data]`. Keys that only some kinds use are optional, so that setting one
/// where it does not apply can be refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Where the rows come from (see [`DataKind`]).
    pub kind: DataKind,
    /// Rows to generate (ignored for `csv`).
    pub samples: usize,
    /// Features to generate for `noise`, `friedman1` and `linear` (10 when
    /// absent); ignored for `csv`, where the file decides; an error elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<usize>,
    /// Standard deviation of the Gaussian noise: on the target for
    /// `friedman1`, `linear` and `function`, on the inputs for the 2-D sets;
    /// [`DataKind::default_noise_std`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_std: Option<f64>,
    /// Fraction of rows held out for validation: the last ones, or the
    /// last before the test part.
    pub validation_fraction: f64,
    /// Fraction of rows, taken from the end, held out as a test part that
    /// neither training, early stopping nor tuning sees: `compare` scores
    /// it once at the end. Not written when 0, so configs without it keep
    /// their sweep point ids.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub test_fraction: f64,
    /// Standardise the network's inputs with the training part's mean and deviation.
    pub standardize: bool,
    /// The CSV file (`kind = "csv"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The CSV target column (`kind = "csv"`); the last column when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetColumn>,
    /// Whether the CSV file's first row is a header; detected when unset.
    pub header: CsvHeader,
    /// The function of `kind = "function"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionKind>,
    /// The network's inputs for a 2-D set, computed from each point
    /// (default `["x1", "x2"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Vec<InputFeature>>,
    /// Classes of `spiral` (arms, 2 when absent) and `blobs` (3 when
    /// absent); not written when absent, so older configs keep their ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<usize>,
    /// The folder of the config file this was read from: a relative `path`
    /// is looked up there.
    #[serde(skip)]
    pub folder: ConfigFolder,
}

/// `data.header`: whether a CSV file's first row is a header, or `None`
/// (unset) to detect it from the file as the lab does: a first row with a
/// cell that is no number is a header. Unset is written as `true`, the
/// default before detection, so that config texts and sweep point ids stay
/// as they were; a run directory records what was decided instead.
#[derive(Clone, Copy, Debug, Default)]
pub struct CsvHeader(pub Option<bool>);

impl CsvHeader {
    /// What a config file says: the setting, or `true` when unset.
    pub fn written(self) -> bool {
        self.0.unwrap_or(true)
    }
}

/// Two configs are equal when their texts are: unset equals `true`.
impl PartialEq for CsvHeader {
    fn eq(&self, other: &Self) -> bool {
        self.written() == other.written()
    }
}

impl Serialize for CsvHeader {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(self.written())
    }
}

impl<'de> Deserialize<'de> for CsvHeader {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        bool::deserialize(deserializer).map(|header| CsvHeader(Some(header)))
    }
}

/// The folder a config file was read from. Not a setting: it is never
/// written, and two configs that say the same are equal wherever they were
/// read (so it is no part of a sweep point's id).
#[derive(Clone, Debug, Default)]
pub struct ConfigFolder(pub Option<PathBuf>);

impl PartialEq for ConfigFolder {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The most classes a generated set draws: as many as the pictures have
/// colours that stay apart.
pub const MAX_CLASSES: usize = 8;

/// The features of the generated kinds when `data.features` is not set.
pub const DEFAULT_FEATURES: usize = 10;

/// The largest `noise_std` of the 2-D sets and `function`: their shapes span
/// about one unit, so more noise than that leaves no shape to learn.
pub const MAX_PLAYGROUND_NOISE: f64 = 1.0;

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            kind: DataKind::Noise,
            samples: 100,
            features: Some(DEFAULT_FEATURES),
            noise_std: Some(1.0),
            validation_fraction: 0.0,
            test_fraction: 0.0,
            standardize: false,
            path: None,
            target: None,
            header: CsvHeader::default(),
            function: None,
            inputs: None,
            classes: None,
            folder: ConfigFolder::default(),
        }
    }
}

impl DataConfig {
    /// The CSV file this process opens: a relative `path` from the folder
    /// of the config file that names it. A config written before paths
    /// were resolved so (a run directory of an earlier version, its path
    /// relative to the working directory then) still finds its file from
    /// the working directory when there is none beside the config.
    pub fn data_file(&self) -> Option<PathBuf> {
        let path = self.path.as_deref()?;
        let Some(folder) = self.folder.0.as_deref().filter(|_| path.is_relative()) else {
            return Some(path.to_path_buf());
        };
        let beside = folder.join(path);
        if !beside.exists() && path.exists() {
            return Some(path.to_path_buf());
        }
        Some(beside)
    }

    /// These settings as a config file written into `dir` must say them, so
    /// that it reads the same file from any working directory: a data file
    /// inside `dir` by its name, any other by its absolute path.
    pub fn placed_in(&self, dir: &Path) -> DataConfig {
        let mut placed = self.clone();
        if let Some(file) = self.data_file() {
            let file = std::path::absolute(&file).unwrap_or(file);
            let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
            placed.path = Some(match (file.parent(), file.file_name()) {
                (Some(parent), Some(name)) if parent == dir => PathBuf::from(name),
                _ => file,
            });
        }
        placed.folder = ConfigFolder(Some(dir.to_path_buf()));
        placed
    }

    /// The noise's standard deviation, set or the kind's default.
    pub fn noise_std(&self) -> f64 {
        self.noise_std
            .unwrap_or_else(|| self.kind.default_noise_std())
    }

    /// The inputs of a 2-D set, set or the default `x1, x2`.
    pub fn inputs(&self) -> Vec<InputFeature> {
        self.inputs
            .clone()
            .unwrap_or_else(|| InputFeature::DEFAULT.to_vec())
    }

    /// Columns the network's input gets; `None` for `csv` (the file decides).
    pub fn input_width(&self) -> Option<usize> {
        match self.kind {
            DataKind::Csv => None,
            DataKind::Function => Some(1),
            kind if kind.is_plane() => Some(self.inputs().len()),
            _ => Some(self.features.unwrap_or(DEFAULT_FEATURES)),
        }
    }

    /// Whether the targets are class labels 0..K-1 (a generated 2-D set).
    pub fn has_labels(&self) -> bool {
        self.kind.is_plane()
    }

    /// The classes a generated 2-D set draws: `data.classes` or the kind's
    /// default; `None` for the other kinds (a CSV's labels are checked
    /// against the network when read).
    pub fn classes_generated(&self) -> Option<usize> {
        self.kind
            .default_classes()
            .map(|default| self.classes.unwrap_or(default))
    }

    /// Checks the keys against each other and their ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let kind = self.kind;
        let not_for = |key: &'static str, what: &str| {
            ConfigError::new(
                key,
                format!("does not apply to data.kind = \"{kind}\" ({what})"),
            )
        };
        if kind != DataKind::Csv && self.samples == 0 {
            return Err(ConfigError::new(
                "data.samples",
                "must be at least 1 (got 0)",
            ));
        }
        if kind.is_plane() && self.samples < 2 {
            return Err(ConfigError::new(
                "data.samples",
                format!("must be at least 2 for two classes (got {})", self.samples),
            ));
        }
        match self.features {
            Some(_) if kind.is_plane() => {
                return Err(not_for("data.features", "its inputs are data.inputs"));
            }
            Some(_) if kind == DataKind::Function => {
                return Err(not_for("data.features", "its one input is x"));
            }
            Some(0) if kind.has_feature_count() => {
                return Err(ConfigError::new(
                    "data.features",
                    "must be at least 1 (got 0)",
                ));
            }
            _ => {}
        }
        if kind == DataKind::Friedman1 {
            let features = self.features.unwrap_or(DEFAULT_FEATURES);
            if features < 5 {
                return Err(ConfigError::new(
                    "data.features",
                    format!("friedman1 needs at least 5 features (got {features})"),
                ));
            }
        }
        if kind != DataKind::Csv {
            if self.path.is_some() {
                return Err(not_for("data.path", "only `csv` reads a file"));
            }
            if self.target.is_some() {
                return Err(not_for("data.target", "only `csv` has columns to choose"));
            }
        }
        if kind == DataKind::Csv && self.path.is_none() {
            return Err(ConfigError::new(
                "data.path",
                "is required when data.kind = \"csv\"",
            ));
        }
        match (kind, self.function) {
            (DataKind::Function, None) => {
                return Err(ConfigError::new(
                    "data.function",
                    "is required when data.kind = \"function\" (sin, abs, square, step or sawtooth)",
                ));
            }
            (DataKind::Function, Some(_)) | (_, None) => {}
            (_, Some(_)) => return Err(not_for("data.function", "only `function` has one")),
        }
        if let Some(inputs) = &self.inputs {
            if !kind.is_plane() {
                return Err(not_for("data.inputs", "only the 2-D sets have them"));
            }
            if inputs.is_empty() {
                return Err(ConfigError::new(
                    "data.inputs",
                    "needs at least one input, e.g. [\"x1\", \"x2\"]",
                ));
            }
            if let Some((index, input)) = inputs
                .iter()
                .enumerate()
                .find(|(index, input)| inputs[..*index].contains(input))
            {
                return Err(ConfigError::new(
                    "data.inputs",
                    format!("`{}` is listed twice (entry {})", input.name(), index + 1),
                ));
            }
        }
        if let Some(classes) = self.classes {
            if !kind.has_class_count() {
                return Err(not_for(
                    "data.classes",
                    "only `spiral` and `blobs` have a class count",
                ));
            }
            if !(2..=MAX_CLASSES).contains(&classes) {
                return Err(ConfigError::new(
                    "data.classes",
                    format!("must be in 2..={MAX_CLASSES} (got {classes})"),
                ));
            }
        }
        if let Some(classes) = self.classes_generated()
            && self.samples < classes
        {
            return Err(ConfigError::new(
                "data.samples",
                format!(
                    "must be at least {classes}, one row per class (got {})",
                    self.samples
                ),
            ));
        }
        if let Some(noise) = self.noise_std {
            if !as_f32(noise).is_finite() || noise < 0.0 {
                return Err(ConfigError::new(
                    "data.noise_std",
                    format!("must be >= 0 and finite in float32 (got {})", shown(noise)),
                ));
            }
            if (kind.is_plane() || kind == DataKind::Function) && noise > MAX_PLAYGROUND_NOISE {
                return Err(ConfigError::new(
                    "data.noise_std",
                    format!(
                        "must be at most {MAX_PLAYGROUND_NOISE} for data.kind = \"{kind}\" \
                         (got {}): more noise than the shape's size leaves nothing to learn",
                        shown(noise)
                    ),
                ));
            }
        }
        if !(0.0..1.0).contains(&self.validation_fraction) {
            return Err(ConfigError::new(
                "data.validation_fraction",
                format!("must be in [0, 1) (got {})", self.validation_fraction),
            ));
        }
        if !(0.0..1.0).contains(&self.test_fraction) {
            return Err(ConfigError::new(
                "data.test_fraction",
                format!("must be in [0, 1) (got {})", self.test_fraction),
            ));
        }
        if self.validation_fraction + self.test_fraction >= 1.0 {
            return Err(ConfigError::new(
                "data.test_fraction",
                format!(
                    "{} with data.validation_fraction = {} leaves no training rows",
                    self.test_fraction, self.validation_fraction
                ),
            ));
        }
        Ok(())
    }
}

/// Whether a fraction is 0 (its key is then left out of written configs).
fn is_zero(value: &f64) -> bool {
    *value == 0.0
}
