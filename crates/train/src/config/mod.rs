//! The run configuration: TOML file, then command-line overrides, then one
//! validation pass whose errors name the key and where its value came from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use model::{Activation, LayerActivations};
use serde::{Deserialize, Serialize};

use crate::error::UserError;

mod data;
mod optimizer;
mod schedule;

pub use self::data::{
    ConfigFolder, CsvHeader, DEFAULT_FEATURES, DataConfig, DataKind, FunctionKind, InputFeature,
    MAX_CLASSES, MAX_PLAYGROUND_NOISE, TargetColumn,
};
pub use self::optimizer::{OptimizerConfig, OptimizerKind};
pub use self::schedule::{ScheduleConfig, ScheduleKind};

/// Everything a run needs, as written to `config.toml` beside its outputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Seeds the data and the initial weights (two streams of one generator).
    pub seed: u64,
    /// Where the samples come from.
    pub data: DataConfig,
    /// The network's shape and activation.
    pub model: ModelConfig,
    /// The training loop.
    pub training: TrainingConfig,
    /// The optimiser and its constants.
    pub optimizer: OptimizerConfig,
}

/// `[model]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Input features; must match the data.
    pub input: usize,
    /// Hidden layer widths, input side first.
    pub hidden: Vec<usize>,
    /// Outputs: 1, or one logit per class under `cross_entropy`.
    pub output: usize,
    /// The activation after every hidden layer (`relu`), or one per
    /// hidden layer (`relu/tanh`, or a list).
    pub activation: LayerActivations,
    /// How the initial weights are drawn.
    pub init: InitKind,
}

/// The initial weights' scheme (`model.init`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitKind {
    /// PyTorch's `nn.Linear` default: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    #[default]
    Pytorch,
    /// `xavier_uniform_` with the activation's gain; zero biases.
    XavierUniform,
    /// `xavier_normal_` with the activation's gain; zero biases.
    XavierNormal,
    /// `kaiming_uniform_` on fan-in with the activation's gain; zero biases.
    HeUniform,
    /// `kaiming_normal_` on fan-in with the activation's gain; zero biases.
    HeNormal,
    /// Normal with std 1/sqrt(fan_in); zero biases.
    LecunNormal,
}

impl InitKind {
    /// The names it is written as.
    pub const NAMES: [&'static str; 6] = [
        "pytorch",
        "xavier_uniform",
        "xavier_normal",
        "he_uniform",
        "he_normal",
        "lecun_normal",
    ];

    /// Its name in configs.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl std::str::FromStr for InitKind {
    type Err = UserError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let all = [
            InitKind::Pytorch,
            InitKind::XavierUniform,
            InitKind::XavierNormal,
            InitKind::HeUniform,
            InitKind::HeNormal,
            InitKind::LecunNormal,
        ];
        all.into_iter()
            .zip(Self::NAMES)
            .find(|(_, n)| *n == name)
            .map(|(kind, _)| kind)
            .ok_or_else(|| {
                UserError::new(format!(
                    "unknown init `{name}` (one of {})",
                    Self::NAMES.join(", ")
                ))
            })
    }
}

/// `[training]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingConfig {
    /// Passes over the training rows.
    pub epochs: usize,
    /// Rows per step; the last batch may be smaller.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Record per-layer gradient norms and dead/saturated units each epoch.
    pub diagnostics: bool,
    /// With `--out`, write a checkpoint every this many epochs (0: only at the end).
    pub checkpoint_every: usize,
    /// Float type of the weights and data: `float32` (as the seed) or
    /// `float64` (to show that a difference is rounding).
    pub precision: Precision,
    /// What the optimiser minimises: `mse` (the seed) or `bce` (0/1 labels).
    pub loss: LossKind,
    /// Clip the gradients' global L2 norm (over every parameter together)
    /// to at most this, as PyTorch's `clip_grad_norm_`; no clipping when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f64>,
    /// How the learning rate changes over the run (constant by default).
    #[serde(skip_serializing_if = "is_constant")]
    pub schedule: ScheduleConfig,
    /// Stop when the validation loss has not improved for `patience` epochs
    /// (needs validation rows); the best epoch's weights are kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stop: Option<EarlyStopConfig>,
    /// Every this many epochs, count the network's exact linear regions (a
    /// 2-input network) or its mean linear pieces along lines through the
    /// data, into metrics.csv's `regions`; off when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions_every: Option<usize>,
    /// The L1 penalty's rate: `l1 * sum |w|` over the weights (not the
    /// biases) is added to the training objective; off when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1: Option<f64>,
    /// The L2 penalty's rate: `l2 * sum w^2` over the weights, likewise
    /// (apart from `optimizer.weight_decay`: see training::penalty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l2: Option<f64>,
    /// Stop the run as diverged (exit 3) once its full-pass training loss
    /// exceeds this, as a non-finite loss does; off when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub divergence_threshold: Option<f64>,
}

/// `[training.early_stop]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopConfig {
    /// Epochs without a new best validation loss before the run stops.
    pub patience: usize,
}

/// Whether a schedule is the default constant one (left out of `config.toml`).
fn is_constant(schedule: &ScheduleConfig) -> bool {
    *schedule == ScheduleConfig::default()
}

/// The training loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Mean squared error, as `nn.MSELoss()`.
    #[default]
    Mse,
    /// Binary cross-entropy on the network's one output taken as a logit,
    /// as `nn.BCEWithLogitsLoss()`; the targets must be 0 or 1.
    Bce,
    /// Cross-entropy of a softmax over the network's `model.output = K`
    /// logits, as `nn.CrossEntropyLoss()`; the targets are class numbers
    /// 0..K-1.
    CrossEntropy,
}

impl LossKind {
    /// Every loss.
    pub const ALL: [LossKind; 3] = [LossKind::Mse, LossKind::Bce, LossKind::CrossEntropy];

    /// Its name in configs and tables.
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Mse => "mse",
            LossKind::Bce => "bce",
            LossKind::CrossEntropy => "cross_entropy",
        }
    }

    /// How the network's output becomes a class: a logit's 0 for `bce`,
    /// the midpoint 0.5 between the labels for `mse`, the largest logit
    /// for `cross_entropy`.
    pub fn decision(self) -> crate::stats::Decision {
        use crate::stats::Decision;
        match self {
            LossKind::Mse => Decision::Threshold(0.5),
            LossKind::Bce => Decision::Threshold(0.0),
            LossKind::CrossEntropy => Decision::Argmax,
        }
    }

    /// Whether the loss reads its targets as class labels.
    pub fn takes_labels(self) -> bool {
        matches!(self, LossKind::Bce | LossKind::CrossEntropy)
    }
}

/// The float type training runs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// 32-bit floats, PyTorch's default.
    #[default]
    Float32,
    /// 64-bit floats.
    Float64,
}

impl Precision {
    /// The names it is written as, in configs and on the command line.
    pub const NAMES: [&'static str; 2] = ["float32", "float64"];

    /// Its name in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Float32 => "float32",
            Precision::Float64 => "float64",
        }
    }

    /// Bytes per value.
    pub fn bytes(self) -> u64 {
        match self {
            Precision::Float32 => 4,
            Precision::Float64 => 8,
        }
    }

    /// Burn's float type for it.
    pub fn dtype(self) -> burn::tensor::DType {
        match self {
            Precision::Float32 => burn::tensor::DType::F32,
            Precision::Float64 => burn::tensor::DType::F64,
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = UserError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "float32" => Ok(Precision::Float32),
            "float64" => Ok(Precision::Float64),
            _ => Err(UserError::new(format!(
                "unknown precision `{name}` (one of {})",
                Self::NAMES.join(", ")
            ))),
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            input: 10,
            hidden: vec![18, 18, 4],
            output: 1,
            activation: LayerActivations::every(Activation::Relu),
            init: InitKind::Pytorch,
        }
    }
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            epochs: 150,
            batch_size: 10,
            lr: 0.001,
            diagnostics: false,
            checkpoint_every: 10,
            precision: Precision::Float32,
            loss: LossKind::Mse,
            clip_grad_norm: None,
            regions_every: None,
            l1: None,
            l2: None,
            divergence_threshold: None,
            schedule: ScheduleConfig::default(),
            early_stop: None,
        }
    }
}

/// Values given on the command line, each replacing one config key and
/// remembering the flag that gave it, so that an error names the flag. The
/// library knows no flag: the binary says which flag sets which key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides(Vec<Override>);

#[derive(Clone, Debug, PartialEq)]
struct Override {
    flag: &'static str,
    key: &'static str,
    /// The value as TOML, or why it cannot be one.
    value: Result<toml::Value, String>,
}

impl Overrides {
    /// `flag` sets `key` (dotted, as in a config file) to `value`, if given.
    pub fn set<T: Serialize + fmt::Debug>(
        &mut self,
        flag: &'static str,
        key: &'static str,
        value: Option<T>,
    ) -> &mut Self {
        if let Some(value) = value {
            // Only an integer past TOML's (signed 64-bit) range fails here.
            let value = toml::Value::try_from(&value)
                .map_err(|_| format!("must be at most {} (got {value:?})", i64::MAX));
            self.0.push(Override { flag, key, value });
        }
        self
    }
}

/// A config value out of range: the key (dotted, as in the TOML file) and
/// what is wrong with its value. [`ResolvedConfig`] turns it into a message
/// that names the file or the flag the value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending key, e.g. `training.lr`.
    pub key: &'static str,
    /// What is wrong, e.g. `must be at least 1 (got 0)`.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(key: &'static str, message: impl Into<String>) -> Self {
        Self {
            key,
            message: message.into(),
        }
    }
}

/// A loaded config and where each value came from, for error messages.
#[derive(Clone, Debug)]
pub struct ResolvedConfig {
    /// The validated configuration.
    pub config: RunConfig,
    /// The file it was read from; `None` for the built-in seed defaults.
    pub source: Option<PathBuf>,
}

/// The most hidden layers a network may have: deeper than any lesson here
/// needs, and bounded before a layer is built.
pub const MAX_HIDDEN_LAYERS: usize = 1000;

/// The most outputs (classes) a network may have: the pictures hold one
/// surface per output.
pub const MAX_OUTPUTS: usize = 1000;

impl RunConfig {
    /// Parses TOML text; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, UserError> {
        let deserializer = toml::Deserializer::new(text);
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let key = error.path().to_string();
            let inner = error.into_inner();
            let message = inner.message().trim().replace('\n', " ");
            let line = inner.span().map(|span| {
                let start = span.start.min(text.len());
                // An unknown key's span covers its whole table: point at the key itself.
                let field = message
                    .strip_prefix("unknown field `")
                    .and_then(|rest| rest.split('`').next());
                let key_offset = field.and_then(|field| {
                    text[start..].lines().position(|line| {
                        let line = line.trim_start();
                        line.strip_prefix(field)
                            .is_some_and(|rest| rest.trim_start().starts_with('='))
                    })
                });
                text[..start].matches('\n').count() + 1 + key_offset.unwrap_or(0)
            });
            let place = match line {
                Some(line) => format!("{origin}:{line}"),
                None => origin.to_string(),
            };
            if key.is_empty() || key == "." {
                UserError::new(format!("{place}: {message}"))
            } else {
                UserError::new(format!("{place}: key `{key}`: {message}"))
            }
        })
    }

    /// Reads a TOML file, naming the path if it is missing or unreadable.
    pub fn from_file(path: &Path) -> Result<Self, UserError> {
        let text = crate::error::read_text_file(path, "config file")?;
        let mut config = Self::from_toml(&text, &path.display().to_string())?;
        config.data.folder =
            ConfigFolder(Some(path.parent().unwrap_or(Path::new("")).to_path_buf()));
        Ok(config)
    }

    /// The config as TOML, exactly as a later `--config` would read it.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a validated RunConfig always serialises")
    }

    /// The config as a file in `dir` says it: [`Self::to_toml`] with the
    /// data file named so that it is found from there
    /// ([`DataConfig::placed_in`]).
    pub fn to_toml_in(&self, dir: &Path) -> String {
        let mut placed = self.clone();
        placed.data = self.data.placed_in(dir);
        placed.to_toml()
    }

    /// Whether the targets are 0/1 class labels, so that runs report
    /// accuracy: a 2-D set, or a `bce` run (whose targets are checked).
    pub fn is_classification(&self) -> bool {
        self.data.has_labels() || self.training.loss.takes_labels()
    }

    /// How many classes a classifier tells apart: `model.output` under
    /// `cross_entropy`, 2 for any other classifier; `None` for regression.
    pub fn classes(&self) -> Option<usize> {
        match self.training.loss {
            LossKind::CrossEntropy => Some(self.model.output),
            _ => self.is_classification().then_some(2),
        }
    }

    /// Layer boundary sizes: input, hidden..., output.
    pub fn layer_sizes(&self) -> Vec<usize> {
        let mut sizes = Vec::with_capacity(self.model.hidden.len() + 2);
        sizes.push(self.model.input);
        sizes.extend(&self.model.hidden);
        sizes.push(self.model.output);
        sizes
    }

    /// Replaces config values with the command line's, returning which keys
    /// each flag set so errors can blame the flag.
    fn apply(
        self,
        overrides: &Overrides,
    ) -> Result<(Self, BTreeMap<&'static str, &'static str>), UserError> {
        let blamed = |flag: &str, key: &str, message: &str| {
            UserError::new(format!("{flag} (sets `{key}`): {message}"))
        };
        let mut table = toml::Table::try_from(&self).map_err(|error| {
            UserError::new(format!("the config cannot be written as TOML: {error}"))
        })?;
        let mut blame = BTreeMap::new();
        for Override { flag, key, value } in &overrides.0 {
            let value = value
                .clone()
                .map_err(|message| blamed(flag, key, &message))?;
            set_key(&mut table, key, value).map_err(|message| blamed(flag, key, &message))?;
            blame.insert(*key, *flag);
        }
        let mut config: Self = serde_path_to_error::deserialize(table).map_err(|error| {
            let key = error.path().to_string();
            let flag = blame.get(key.as_str()).copied().unwrap_or("a flag");
            blamed(flag, &key, &error.into_inner().message().replace('\n', " "))
        })?;
        let header_set = blame.contains_key("data.header");
        self.restore_unwritten(&mut config, header_set);
        Ok((config, blame))
    }

    /// Restores on `config`, made from `self` through a TOML table, what
    /// the round trip cannot carry: the folder the file was read from (no
    /// setting), and an unset `data.header` (written as `true`) unless the
    /// change set it (`header_set`).
    fn restore_unwritten(&self, config: &mut Self, header_set: bool) {
        config.data.folder = self.data.folder.clone();
        if !header_set {
            config.data.header = self.data.header;
        }
    }

    /// This config with the dotted `key`s set to `value`s (a sweep's point),
    /// not yet validated; an error is `(key, message)`.
    pub fn with_values(&self, values: &[(String, toml::Value)]) -> Result<Self, (String, String)> {
        self.with_changes(values, &[])
    }

    /// As [`RunConfig::with_values`], after taking the dotted keys `unset`
    /// out (back to their defaults: an optional key becomes absent).
    pub fn with_changes(
        &self,
        values: &[(String, toml::Value)],
        unset: &[String],
    ) -> Result<Self, (String, String)> {
        let mut table = toml::Table::try_from(self)
            .map_err(|error| (String::new(), format!("cannot be written as TOML: {error}")))?;
        for key in unset {
            unset_key(&mut table, key);
        }
        for (key, value) in values {
            set_key(&mut table, key, value.clone()).map_err(|message| (key.clone(), message))?;
        }
        let mut config: Self = serde_path_to_error::deserialize(table).map_err(|error| {
            let key = error.path().to_string();
            (key, error.into_inner().message().replace('\n', " "))
        })?;
        let header_set = values.iter().any(|(key, _)| key == "data.header")
            || unset.iter().any(|key| key == "data.header");
        self.restore_unwritten(&mut config, header_set);
        Ok(config)
    }

    /// Checks every range; the error names the offending key. Values are
    /// checked as they will be used: floats as float32 sees them (Burn's Adam
    /// keeps its constants in float32), integers as `config.toml` can hold them.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_integers()?;
        let data = &self.data;
        data.validate()?;
        let model = &self.model;
        if model.input == 0 {
            return Err(ConfigError::new(
                "model.input",
                "must be at least 1 (got 0)",
            ));
        }
        if model.output > MAX_OUTPUTS {
            return Err(ConfigError::new(
                "model.output",
                format!(
                    "must be at most {MAX_OUTPUTS} (got {}): one logit per class, and every \
                     picture holds one surface per output",
                    model.output
                ),
            ));
        }
        if model.output == 0 {
            return Err(ConfigError::new(
                "model.output",
                "must be at least 1 (got 0)",
            ));
        }
        let loss = self.training.loss;
        if loss == LossKind::CrossEntropy && model.output < 2 {
            return Err(ConfigError::new(
                "model.output",
                format!(
                    "must be at least 2 under training.loss = \"cross_entropy\", one logit per \
                     class (got {}); for two classes bce with one output works too",
                    model.output
                ),
            ));
        }
        if loss != LossKind::CrossEntropy && model.output != 1 {
            let why = match loss {
                LossKind::Bce => "training.loss = \"bce\" takes one logit",
                _ => "the target is one column",
            };
            return Err(ConfigError::new(
                "model.output",
                format!(
                    "must be 1: {why} (got {}); for {} classes set training.loss = \
                     \"cross_entropy\"",
                    model.output, model.output
                ),
            ));
        }
        if let Some(classes) = data.classes_generated()
            && loss == LossKind::CrossEntropy
            && classes != model.output
        {
            return Err(ConfigError::new(
                "model.output",
                format!(
                    "is {} but data.kind = \"{}\" has {classes} classes (data.classes): \
                     one logit per class",
                    model.output, data.kind
                ),
            ));
        }
        if let Some(classes) = data.classes_generated()
            && classes > 2
            && loss != LossKind::CrossEntropy
        {
            return Err(ConfigError::new(
                "training.loss",
                format!(
                    "is \"{}\", which tells two classes apart, but data.kind = \"{}\" has \
                     {classes}: set training.loss = \"cross_entropy\" and model.output = {classes}",
                    loss.name(),
                    data.kind
                ),
            ));
        }
        if model.hidden.is_empty() {
            return Err(ConfigError::new(
                "model.hidden",
                "needs at least one hidden layer size, e.g. [18, 18, 4]",
            ));
        }
        if model.hidden.len() > MAX_HIDDEN_LAYERS {
            return Err(ConfigError::new(
                "model.hidden",
                format!(
                    "has {} layers; at most {MAX_HIDDEN_LAYERS} (each layer costs memory and time \
                     of its own, whatever its width)",
                    model.hidden.len()
                ),
            ));
        }
        if let Some(why) = model.activation.misfit(model.hidden.len()) {
            return Err(ConfigError::new("model.activation", why));
        }
        if let Some(position) = model.hidden.iter().position(|&size| size == 0) {
            return Err(ConfigError::new(
                "model.hidden",
                format!(
                    "layer size {} is 0; every size must be at least 1",
                    position + 1
                ),
            ));
        }
        if let Some(width) = data.input_width()
            && model.input != width
        {
            let source = if data.kind.is_plane() {
                let names: Vec<&str> = data.inputs().iter().map(|i| i.name()).collect();
                format!("data.inputs has {width} ({})", names.join(", "))
            } else if data.kind == DataKind::Function {
                "data.kind = \"function\" has 1 (x)".to_string()
            } else {
                format!("the data has {width} features (data.features)")
            };
            return Err(ConfigError::new(
                "model.input",
                format!("is {} but {source}", model.input),
            ));
        }
        let training = &self.training;
        if training.epochs == 0 {
            return Err(ConfigError::new(
                "training.epochs",
                "must be at least 1 (got 0)",
            ));
        }
        if training.batch_size == 0 {
            return Err(ConfigError::new(
                "training.batch_size",
                "must be at least 1 (got 0)",
            ));
        }
        if !positive_in_f32(training.lr) {
            return Err(ConfigError::new(
                "training.lr",
                format!(
                    "must be > 0 and finite in float32 (got {})",
                    shown(training.lr)
                ),
            ));
        }
        if training.loss.takes_labels() && !data.has_labels() && data.kind != DataKind::Csv {
            let labels = match training.loss {
                LossKind::Bce => "0/1 labels",
                _ => "class labels",
            };
            return Err(ConfigError::new(
                "training.loss",
                format!(
                    "{} needs {labels}, but data.kind = \"{}\" has real-valued targets \
                         (use mse, or a 2-D set such as circle)",
                    training.loss.name(),
                    data.kind
                ),
            ));
        }
        self.optimizer.validate()?;
        if let Some(early_stop) = training.early_stop {
            if early_stop.patience == 0 {
                return Err(ConfigError::new(
                    "training.early_stop.patience",
                    "must be at least 1 (got 0)",
                ));
            }
            if data.validation_fraction <= 0.0 {
                return Err(ConfigError::new(
                    "training.early_stop",
                    "needs validation rows to watch: set data.validation_fraction > 0",
                ));
            }
        }
        if let Some(norm) = training.clip_grad_norm
            && !positive_in_f32(norm)
        {
            return Err(ConfigError::new(
                "training.clip_grad_norm",
                format!("must be > 0 and finite in float32 (got {})", shown(norm)),
            ));
        }
        if let Some(threshold) = training.divergence_threshold
            && !positive_in_f32(threshold)
        {
            return Err(ConfigError::new(
                "training.divergence_threshold",
                format!(
                    "must be > 0 and finite in float32 (got {})",
                    shown(threshold)
                ),
            ));
        }
        for (key, rate) in [("training.l1", training.l1), ("training.l2", training.l2)] {
            if let Some(rate) = rate
                && !(as_f32(rate).is_finite() && rate >= 0.0)
            {
                return Err(ConfigError::new(
                    key,
                    format!("must be >= 0 and finite in float32 (got {})", shown(rate)),
                ));
            }
        }
        if let Some(every) = training.regions_every {
            if every == 0 {
                return Err(ConfigError::new(
                    "training.regions_every",
                    "must be at least 1 (got 0)",
                ));
            }
            if !self.model.activation.is_piecewise_linear() {
                return Err(ConfigError::new(
                    "training.regions_every",
                    format!(
                        "{0} is smooth: a network of {0} units has no linear regions to count",
                        self.model.activation
                    ),
                ));
            }
        }
        training.schedule.validate(training.lr, training.epochs)?;
        Ok(())
    }

    /// Every integer must fit TOML's (signed 64-bit) integers, so that the
    /// run's `config.toml` can be written and read back.
    fn validate_integers(&self) -> Result<(), ConfigError> {
        let hidden_max = self.model.hidden.iter().copied().max().unwrap_or(0);
        let integers = [
            ("seed", self.seed),
            ("data.samples", self.data.samples as u64),
            (
                "data.features",
                self.data.features.unwrap_or(DEFAULT_FEATURES) as u64,
            ),
            ("model.input", self.model.input as u64),
            ("model.hidden", hidden_max as u64),
            ("model.output", self.model.output as u64),
            ("training.epochs", self.training.epochs as u64),
            ("training.batch_size", self.training.batch_size as u64),
            (
                "training.checkpoint_every",
                self.training.checkpoint_every as u64,
            ),
            (
                "training.regions_every",
                self.training.regions_every.unwrap_or(0) as u64,
            ),
        ];
        for (key, value) in integers {
            if value > i64::MAX as u64 {
                return Err(ConfigError::new(
                    key,
                    format!("must be at most {} (got {value})", i64::MAX),
                ));
            }
        }
        Ok(())
    }
}

/// Sets the dotted `key` of a config table to `value`, making the sections
/// on the way; an error when a part of the path is a value, not a section.
fn set_key(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let (path, leaf) = key
        .rsplit_once('.')
        .map_or((None, key), |(p, l)| (Some(p), l));
    let mut section = table;
    for part in path.into_iter().flat_map(|path| path.split('.')) {
        section = section
            .entry(part)
            .or_insert_with(|| toml::Table::new().into())
            .as_table_mut()
            .ok_or_else(|| format!("`{part}` is a value, not a section of the config"))?;
    }
    section.insert(leaf.to_string(), value);
    Ok(())
}

/// Removes the dotted `key` from a config table, if it is there.
fn unset_key(table: &mut toml::Table, key: &str) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let leaf = parts.pop().unwrap_or_default();
    let mut section = table;
    for part in parts {
        match section.get_mut(part).and_then(toml::Value::as_table_mut) {
            Some(inner) => section = inner,
            None => return,
        }
    }
    section.remove(leaf);
}

/// A number as a person writes it: 1e-50 rather than fifty digits.
fn shown(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-4..1e6).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// `value` as float32 holds it.
fn as_f32(value: f64) -> f32 {
    value as f32
}

/// Whether `value` is still a positive, finite number in float32.
fn positive_in_f32(value: f64) -> bool {
    let value = as_f32(value);
    value.is_finite() && value > 0.0
}

impl ResolvedConfig {
    /// Loads `path` (or the built-in seed defaults), applies the overrides
    /// and validates the result.
    pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Self, UserError> {
        let config = match path {
            Some(path) => RunConfig::from_file(path)?,
            None => RunConfig::default(),
        };
        Self::resolve(config, path, overrides)
    }

    /// Applies the overrides to an already parsed config (read from `path`)
    /// and validates the result.
    pub fn resolve(
        config: RunConfig,
        path: Option<&Path>,
        overrides: &Overrides,
    ) -> Result<Self, UserError> {
        let (config, blame) = config.apply(overrides)?;
        if let Err(ConfigError { key, message }) = config.validate() {
            let origin = match (blame.get(key), path) {
                (Some(flag), _) => format!("{flag} (sets `{key}`)"),
                (None, Some(path)) => format!("{}: key `{key}`", path.display()),
                (None, None) => format!("built-in defaults: key `{key}`"),
            };
            return Err(UserError::new(format!("{origin}: {message}")));
        }
        Ok(Self {
            config,
            source: path.map(Path::to_path_buf),
        })
    }

    /// Where the config came from, for summaries.
    pub fn describe_source(&self) -> String {
        match &self.source {
            Some(path) => path.display().to_string(),
            None => "built-in seed defaults (= config/default.toml)".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_data_path_is_found_beside_its_config_and_written_to_be_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("data.csv"), "x,y\n1,2\n").unwrap();
        let file = sub.join("run.toml");
        std::fs::write(&file, "[data]\nkind = \"csv\"\npath = \"data.csv\"\n").unwrap();
        let config = RunConfig::from_file(&file).unwrap();
        assert_eq!(config.data.data_file().unwrap(), sub.join("data.csv"));
        // Where it was read from is no setting: the same text, equal configs.
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(config, RunConfig::from_toml(&text, "x").unwrap());
        assert!(config.to_toml().contains("path = \"data.csv\""));
        // A run directory elsewhere names it absolutely; the folder it lives in, by name.
        let elsewhere = config.to_toml_in(dir.path());
        let absolute = std::path::absolute(sub.join("data.csv")).unwrap();
        assert!(
            elsewhere.contains(&format!("path = {:?}", absolute.display().to_string())),
            "{elsewhere}"
        );
        assert!(config.to_toml_in(&sub).contains("path = \"data.csv\""));
        // Overrides and sweep values keep the folder.
        let changed = config.with_values(&[("seed".into(), 3.into())]).unwrap();
        assert_eq!(changed.data.data_file().unwrap(), sub.join("data.csv"));
    }

    #[test]
    fn a_config_of_an_earlier_version_still_finds_its_file_from_the_working_directory() {
        // Tests run in the crate's folder, which holds Cargo.toml; the
        // config's folder does not: then the working directory's file.
        let dir = tempfile::tempdir().unwrap();
        let mut config = RunConfig::default();
        config.data.path = Some("Cargo.toml".into());
        config.data.folder = ConfigFolder(Some(dir.path().to_path_buf()));
        assert_eq!(config.data.data_file().unwrap(), Path::new("Cargo.toml"));
        // Neither there: the config's folder, so the error names where it looked.
        config.data.path = Some("missing.csv".into());
        assert_eq!(
            config.data.data_file().unwrap(),
            dir.path().join("missing.csv")
        );
    }

    #[test]
    fn the_default_config_file_is_the_seed() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/default.toml");
        let from_file = RunConfig::from_file(&path).unwrap();
        assert_eq!(from_file, RunConfig::default());
        assert_eq!(from_file.layer_sizes(), vec![10, 18, 18, 4, 1]);
        assert_eq!(from_file.optimizer.epsilon, 1e-8);
    }

    #[test]
    fn a_written_config_reads_back_identically() {
        let mut config = RunConfig::default();
        config.model.activation = "leaky_relu(0.2)".parse().unwrap();
        config.data.target = Some(TargetColumn::Name("y".into()));
        config.data.path = Some("data.csv".into());
        assert_eq!(
            RunConfig::from_toml(&config.to_toml(), "x").unwrap(),
            config
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_key_file_and_line() {
        let err = RunConfig::from_toml("seed = 1\n[training]\nbatchsize = 3\n", "my.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("my.toml:3: key `training.batchsize`"),
            "{err}"
        );
        assert!(err.contains("unknown field `batchsize`"), "{err}");
        let err = RunConfig::from_toml("[training]\nepochs = \"ten\"\n", "my.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("key `training.epochs`"), "{err}");
        assert!(err.contains("invalid type"), "{err}");
        let err = RunConfig::from_toml("[model]\nactivation = \"relux\"\n", "my.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("key `model.activation`"), "{err}");
        assert!(err.contains("unknown activation `relux`"), "{err}");
    }

    #[test]
    fn overrides_replace_values_and_are_blamed_for_bad_ones() {
        let mut overrides = Overrides::default();
        overrides.set("--batch-size", "training.batch_size", Some(0));
        let err = ResolvedConfig::load(None, &overrides)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--batch-size (sets `training.batch_size`): must be at least 1 (got 0)"
        );
        let mut overrides = Overrides::default();
        overrides
            .set("--hidden", "model.hidden", Some(vec![5, 6]))
            .set("--epochs", "training.epochs", Some(3))
            .set("--seed", "seed", Some(9u64));
        let resolved = ResolvedConfig::load(None, &overrides).unwrap();
        assert_eq!(resolved.config.layer_sizes(), vec![10, 5, 6, 1]);
        assert_eq!(resolved.config.training.epochs, 3);
        assert_eq!(resolved.config.seed, 9);

        let mut overrides = Overrides::default();
        overrides.set("--seed", "seed", Some(u64::MAX));
        assert_eq!(
            ResolvedConfig::load(None, &overrides)
                .unwrap_err()
                .to_string(),
            "--seed (sets `seed`): must be at most 9223372036854775807 (got 18446744073709551615)"
        );
    }

    #[test]
    fn every_range_check_names_its_key() {
        type Breaker = fn(&mut RunConfig);
        let cases: Vec<(&str, Breaker)> = vec![
            ("training.lr", |c| c.training.lr = 0.0),
            ("training.lr", |c| c.training.lr = f64::NAN),
            ("training.batch_size", |c| c.training.batch_size = 0),
            ("training.epochs", |c| c.training.epochs = 0),
            ("model.hidden", |c| c.model.hidden.clear()),
            ("model.hidden", |c| c.model.hidden = vec![3, 0]),
            ("model.hidden", |c| {
                c.model.hidden = vec![1; MAX_HIDDEN_LAYERS + 1]
            }),
            ("model.output", |c| {
                c.training.loss = LossKind::CrossEntropy;
                c.model.output = MAX_OUTPUTS + 1
            }),
            ("training.divergence_threshold", |c| {
                c.training.divergence_threshold = Some(-1.0)
            }),
            ("model.input", |c| c.model.input = 7),
            ("data.samples", |c| c.data.samples = 0),
            ("data.validation_fraction", |c| {
                c.data.validation_fraction = 1.0
            }),
            ("data.test_fraction", |c| c.data.test_fraction = -0.1),
            ("data.test_fraction", |c| {
                c.data.validation_fraction = 0.5;
                c.data.test_fraction = 0.5
            }),
            ("optimizer.epsilon", |c| c.optimizer.epsilon = -1.0),
            ("optimizer.beta1", |c| c.optimizer.beta1 = 1.0),
            ("data.path", |c| c.data.kind = DataKind::Csv),
        ];
        for (key, break_it) in cases {
            let mut config = RunConfig::default();
            break_it(&mut config);
            assert_eq!(config.validate().unwrap_err().key, key);
        }
        assert!(RunConfig::default().validate().is_ok());
    }

    /// A valid 2-D config: circle, inputs x1, x2.
    fn circle() -> RunConfig {
        let mut config = RunConfig::default();
        config.data.kind = DataKind::Circle;
        config.data.features = None;
        config.data.noise_std = None;
        config.model.input = 2;
        config.training.loss = LossKind::Bce;
        config
    }

    #[test]
    fn playground_keys_are_checked_against_the_kind() {
        assert!(circle().validate().is_ok());
        type Breaker = fn(&mut RunConfig);
        let cases: Vec<(&str, &str, Breaker)> = vec![
            ("data.features", "does not apply", |c| {
                c.data.features = Some(2)
            }),
            ("data.noise_std", "at most 1", |c| {
                c.data.noise_std = Some(2.0)
            }),
            ("data.inputs", "needs at least one", |c| {
                c.data.inputs = Some(vec![])
            }),
            ("data.inputs", "listed twice", |c| {
                c.data.inputs = Some(vec![InputFeature::X1, InputFeature::X1])
            }),
            ("model.input", "data.inputs has 3 (x1, x2, x1^2)", |c| {
                c.data.inputs = Some(vec![
                    InputFeature::X1,
                    InputFeature::X2,
                    InputFeature::X1Squared,
                ])
            }),
            ("data.function", "only `function`", |c| {
                c.data.function = Some(FunctionKind::Sin)
            }),
            ("data.function", "is required", |c| {
                c.data.kind = DataKind::Function;
                c.training.loss = LossKind::Mse;
                c.model.input = 1;
            }),
            ("training.loss", "needs 0/1 labels", |c| {
                c.data.kind = DataKind::Function;
                c.data.function = Some(FunctionKind::Abs);
                c.model.input = 1;
            }),
            ("model.output", "takes one logit", |c| c.model.output = 2),
            ("data.inputs", "only the 2-D sets", |c| {
                c.data.kind = DataKind::Linear;
                c.training.loss = LossKind::Mse;
                c.data.inputs = Some(vec![InputFeature::X1]);
            }),
        ];
        for (key, words, break_it) in cases {
            let mut config = circle();
            break_it(&mut config);
            let error = config.validate().unwrap_err();
            assert_eq!(error.key, key, "{}", error.message);
            assert!(error.message.contains(words), "{key}: {}", error.message);
        }
    }

    #[test]
    fn unknown_function_and_input_names_are_errors_naming_the_key() {
        let err = RunConfig::from_toml(
            "[data]\nkind = \"function\"\nfunction = \"cos\"\n",
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("f.toml:3: key `data.function`"), "{err}");
        let err = RunConfig::from_toml("[data]\ninputs = [\"x1\", \"x3\"]\n", "f.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("key `data.inputs"), "{err}");
        assert!(err.contains("x3"), "{err}");
        // A 2-D config reads back as written, without the keys it does not use.
        let text = circle().to_toml();
        assert!(
            !text.contains("features") && !text.contains("noise_std"),
            "{text}"
        );
        assert_eq!(RunConfig::from_toml(&text, "x").unwrap(), circle());
    }

    #[test]
    fn optimizer_constants_are_checked_against_the_kind() {
        type Breaker = fn(&mut RunConfig);
        let cases: Vec<(&str, &str, Breaker)> = vec![
            (
                "optimizer.momentum",
                "does not apply to optimizer.kind = \"adam\"",
                |c| c.optimizer.momentum = 0.9,
            ),
            (
                "optimizer.beta1",
                "does not apply to optimizer.kind = \"sgd\"",
                |c| {
                    c.optimizer.kind = OptimizerKind::Sgd;
                    c.optimizer.beta1 = 0.8;
                },
            ),
            ("optimizer.momentum", "must be in [0, 1]", |c| {
                c.optimizer.kind = OptimizerKind::Sgd;
                c.optimizer.momentum = -0.5;
            }),
            ("optimizer.nesterov", "needs momentum > 0", |c| {
                c.optimizer.kind = OptimizerKind::Sgd;
                c.optimizer.nesterov = true;
            }),
            ("optimizer.alpha", "must be in [0, 1)", |c| {
                c.optimizer.kind = OptimizerKind::Rmsprop;
                c.optimizer.alpha = 1.5;
            }),
            ("optimizer.weight_decay", "must be >= 0", |c| {
                c.optimizer.weight_decay = Some(-1.0)
            }),
        ];
        for (key, words, break_it) in cases {
            let mut config = RunConfig::default();
            break_it(&mut config);
            let error = config.validate().unwrap_err();
            assert_eq!(error.key, key, "{}", error.message);
            assert!(error.message.contains(words), "{key}: {}", error.message);
        }
        let mut sgd = RunConfig::default();
        sgd.optimizer.kind = OptimizerKind::Sgd;
        sgd.optimizer.momentum = 0.9;
        sgd.optimizer.nesterov = true;
        assert!(sgd.validate().is_ok());
        assert_eq!(OptimizerKind::Adamw.default_weight_decay(), 0.01);
        let err = RunConfig::from_toml("[optimizer]\nkind = \"lion\"\n", "o.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("o.toml:2: key `optimizer.kind`"), "{err}");
    }

    #[test]
    fn schedule_keys_are_checked_against_the_kind_and_the_run() {
        type Breaker = fn(&mut ScheduleConfig);
        let cases: Vec<(&str, &str, Breaker)> = vec![
            (
                "training.schedule.warmup_epochs",
                "shorter than the run's 150 epochs",
                |s| {
                    s.kind = ScheduleKind::WarmupCosine;
                    s.warmup_epochs = Some(200);
                },
            ),
            ("training.schedule.step_epochs", "is required", |s| {
                s.kind = ScheduleKind::Step
            }),
            ("training.schedule.min_lr", "does not apply", |s| {
                s.kind = ScheduleKind::Step;
                s.step_epochs = Some(3);
                s.min_lr = Some(0.0);
            }),
            ("training.schedule.gamma", "must be in (0, 1]", |s| {
                s.kind = ScheduleKind::Step;
                s.step_epochs = Some(3);
                s.gamma = Some(2.0);
            }),
            (
                "training.schedule.min_lr",
                "must be in [0, training.lr",
                |s| {
                    s.kind = ScheduleKind::Cosine;
                    s.min_lr = Some(0.5);
                },
            ),
        ];
        for (key, words, break_it) in cases {
            let mut config = RunConfig::default();
            break_it(&mut config.training.schedule);
            let error = config.validate().unwrap_err();
            assert_eq!(error.key, key, "{}", error.message);
            assert!(error.message.contains(words), "{key}: {}", error.message);
        }
    }
}
