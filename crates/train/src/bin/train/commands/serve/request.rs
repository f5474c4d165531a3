//! What a page asks for, turned into validated run configs: the same keys,
//! the same parsing and the same range checks as a config file, so a bad
//! value gets the CLI's message; then the lab's own limits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use train::backend::BackendKind;
use train::config::{ConfigError, DataKind, Precision, RunConfig};
use train::data::{Dataset, parse_table, prepare_for, table_dataset};

use super::view::{LIVE_CURVE_POINTS, LIVE_RESOLUTION};

/// The lab's starting settings, shown in the page before anything is changed.
/// (`embedded/` links to the workspace's `config/` files from inside the
/// crate, so `cargo package` carries them.)
const LAB_CONFIG: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/embedded/lab.toml"));

/// Each data set's example settings for the page: its `config/*.toml`, and
/// what the identity/relu pair shows on it there (measured with `train
/// compare --config FILE --activations identity,relu`, README "The live lab").
const PRESETS: [(&str, &str, &str); 9] = [
    (
        "circle.toml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/embedded/circle.toml")),
        "No straight line separates a disc from a ring: identity stays near chance (55% on \
         validation), relu draws a polygon around the disc (98%).",
    ),
    (
        "xor.toml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/embedded/xor.toml")),
        "Opposite quadrants share a class: identity stays near chance (53%), relu cuts the plane \
         into the quadrants (96%).",
    ),
    (
        "gauss.toml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/embedded/gauss.toml")),
        "The counter-case: two clouds one straight line separates, so identity does as well as \
         relu (both 100%). An activation buys nothing where a line is enough.",
    ),
    (
        "spiral.toml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/embedded/spiral.toml")),
        "The hardest set: identity draws one line (67%), relu winds its boundary around both \
         arms (98%).",
    ),
    (
        "moons.toml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/embedded/moons.toml")),
        "A line gets most points but not the horns (identity 86%); relu bends between them \
         (100%).",
    ),
    (
        "sine.toml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/embedded/sine.toml")),
        "A straight line cannot follow a sine (identity's validation loss 0.22); relu fits it \
         from linear pieces (0.011).",
    ),
    (
        "friedman1.toml",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/embedded/friedman1.toml"
        )),
        "A curved function of 10 inputs: relu's validation loss (2.4) is under a third of \
         identity's (8.1), which is least squares'.",
    ),
    (
        "linear.toml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/embedded/linear.toml")),
        "The counter-case: the truth is linear, so identity is as good as it gets (validation \
         loss 0.25, least squares'); relu does no better (0.29).",
    ),
    (
        "noise.toml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/embedded/noise.toml")),
        "The counter-case: pure noise, nothing to learn. relu lowers its training loss by \
         memorising the points (0.22 against 0.91); its validation loss is worse (1.67 against \
         1.09).",
    ),
];

/// A data set's example settings, as the page loads them.
#[derive(Debug, Serialize)]
pub struct Preset {
    /// `config/circle.toml`.
    pub file: String,
    pub config: RunConfig,
    /// What the identity/relu pair shows with these settings.
    pub point: &'static str,
}

/// Every data set's example settings.
pub fn presets() -> Vec<Preset> {
    PRESETS
        .iter()
        .map(|(file, text, point)| Preset {
            file: format!("config/{file}"),
            config: RunConfig::from_toml(text, file).expect("the example configs are valid"),
            point,
        })
        .collect()
}

/// Epochs per second a page is shown unless it asks for another pace.
pub const DEFAULT_SPEED: f64 = 30.0;

/// The run names, in the order of `runs`.
pub const RUN_NAMES: [&str; 2] = ["A", "B"];

/// `POST /api/labs`: the settings both runs share, and each run's own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabRequest {
    /// Dotted config keys (`data.kind`, `training.lr`, ...) for both runs;
    /// `null` takes a key back to its default (absent).
    #[serde(default)]
    pub shared: BTreeMap<String, serde_json::Value>,
    /// Each run's own keys, layered over `shared`: one or two runs.
    pub runs: Vec<BTreeMap<String, serde_json::Value>>,
    /// A backend name (default: the build's first).
    #[serde(default)]
    pub backend: Option<String>,
    /// Epochs per second to show (0: as fast as the backend trains).
    #[serde(default)]
    pub speed: Option<f64>,
    /// The page's own data (an upload, clicked points), for `data.kind = "csv"`.
    #[serde(default)]
    pub data: Option<OwnData>,
}

/// Data a page brings: CSV text, read by the same reader as a file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnData {
    /// What the page calls it (the uploaded file's name): messages only,
    /// never a path; the runs keep it as `data.csv` in their directories.
    pub name: String,
    /// The rows: 1 or 2 feature columns and a target (last, unless
    /// `data.target` says another).
    pub csv: String,
}

/// The page's own data once read: its text for the run directories and
/// its rows for the picture.
#[derive(Debug)]
pub struct OwnRows {
    pub csv: String,
    pub rows: Dataset,
    /// The feature columns' names (the header's, else `x1`, `x2` or `x`).
    pub names: Vec<String>,
}

/// The file name a run directory keeps the page's own data under, and
/// its config's `data.path` (relative to the config: README, "Your own data").
pub const OWN_DATA_FILE: &str = "data.csv";

/// What one server lets one page do (README, "The live lab").
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Limits {
    /// `data.samples` at most.
    pub max_samples: usize,
    /// A hidden layer's width at most.
    pub max_width: usize,
    /// Hidden layers at most.
    pub max_hidden_layers: usize,
    /// `training.epochs` at most.
    pub max_epochs: usize,
    /// The network's inputs at most (`model.input`, `data.features`).
    pub max_inputs: usize,
    /// The network's outputs at most (`model.output`: classes under
    /// `cross_entropy`): each is a colour of the pictures.
    pub max_outputs: usize,
    /// Runs held by the server at once, over all pages.
    pub max_runs: usize,
    /// Epochs per second at most (0 = unlimited is always allowed).
    pub max_speed: f64,
    /// Bytes of CSV text a page may bring at most.
    pub max_data_bytes: usize,
}

impl Limits {
    /// The documented limits, with `max_runs` from `--max-runs`.
    pub fn with_max_runs(max_runs: usize) -> Self {
        Self {
            max_samples: 10_000,
            max_width: 128,
            max_hidden_layers: 8,
            max_epochs: 10_000,
            max_inputs: 100,
            max_outputs: train::config::MAX_CLASSES,
            max_runs,
            max_speed: 1_000.0,
            max_data_bytes: 1_000_000,
        }
    }

    /// The first limit `config` breaks, as `(key, message)`; `own`: the
    /// page brought its own data.
    fn check(&self, config: &RunConfig, own: bool) -> Result<(), (String, String)> {
        let fail = |key: &str, message: String| Err((key.to_string(), message));
        match (config.data.kind == DataKind::Csv, own) {
            (true, false) => {
                return fail(
                    "data.kind",
                    "\"csv\" trains on your own data: upload a file in the page (the request's \
                     `data`)"
                        .into(),
                );
            }
            (false, true) => {
                return fail(
                    "data.kind",
                    format!(
                        "your own data trains with \"csv\" (got \"{}\")",
                        config.data.kind
                    ),
                );
            }
            _ => {}
        }
        if config.training.precision == Precision::Float64 {
            return fail(
                "training.precision",
                "the lab keeps resumable float32 checkpoints; use float64 from the command line"
                    .into(),
            );
        }
        let widest = config.model.hidden.iter().copied().max().unwrap_or(0);
        let sizes = [
            (
                "data.samples",
                config.data.samples,
                self.max_samples,
                "samples",
            ),
            (
                "model.hidden",
                config.model.hidden.len(),
                self.max_hidden_layers,
                "hidden layers",
            ),
            ("model.hidden", widest, self.max_width, "units in a layer"),
            (
                "training.epochs",
                config.training.epochs,
                self.max_epochs,
                "epochs",
            ),
            (
                "data.features",
                config.data.features.unwrap_or(0),
                self.max_inputs,
                "features",
            ),
            ("model.input", config.model.input, self.max_inputs, "inputs"),
            (
                "model.output",
                config.model.output,
                self.max_outputs,
                "outputs (one per class)",
            ),
        ];
        for (key, got, most, what) in sizes {
            if got > most {
                return fail(
                    key,
                    format!("the lab takes at most {most} {what} (got {got})"),
                );
            }
        }
        Ok(())
    }

    /// `speed` checked against the limit: epochs per second, 0 for unlimited.
    pub fn speed(&self, speed: f64) -> Result<f64, String> {
        if !speed.is_finite() || speed < 0.0 || speed > self.max_speed {
            return Err(format!(
                "speed must be from 0 (unlimited) to {} epochs per second (got {speed})",
                self.max_speed
            ));
        }
        Ok(speed)
    }
}

/// A lab request that passed every check.
#[derive(Debug)]
pub struct LabPlan {
    /// One validated config per run, named by [`RUN_NAMES`].
    pub configs: Vec<RunConfig>,
    /// The backend both runs train on.
    pub backend: BackendKind,
    /// Epochs per second to show, 0 for unlimited.
    pub speed: f64,
    /// The page's own data, read and checked.
    pub own: Option<OwnRows>,
}

/// The lab's default config (`config/lab.toml`).
pub fn lab_config() -> RunConfig {
    RunConfig::from_toml(LAB_CONFIG, "config/lab.toml").expect("config/lab.toml is valid")
}

/// The page's starting pair: identity and relu on the lab's default config.
pub fn default_runs() -> Vec<BTreeMap<String, serde_json::Value>> {
    ["identity", "relu"]
        .into_iter()
        .map(|activation| BTreeMap::from([("model.activation".to_string(), activation.into())]))
        .collect()
}

impl LabRequest {
    /// Every check a config file gets, then the pair's and the lab's own.
    /// The error is one line that names the run and the key.
    pub fn plan(&self, limits: &Limits) -> Result<LabPlan, String> {
        if self.runs.is_empty() || self.runs.len() > RUN_NAMES.len() {
            return Err(format!(
                "runs: give one or two runs (got {})",
                self.runs.len()
            ));
        }
        let base = lab_config();
        let own_data = self.data.is_some();
        let configs = self
            .runs
            .iter()
            .zip(RUN_NAMES)
            .map(|(own, name)| {
                let keys = self.shared.iter().chain(own);
                resolve(&base, keys, limits, own_data).map_err(|(key, message)| {
                    match key.is_empty() {
                        true => format!("run {name}: {message}"),
                        false => format!("run {name}: key `{key}`: {message}"),
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        check_pair(&configs)?;
        let own = self
            .data
            .as_ref()
            .map(|data| read_own(data, &configs, limits))
            .transpose()?;
        let backend = match &self.backend {
            Some(name) => name
                .parse::<BackendKind>()
                .map_err(|e| format!("backend: {e}"))?,
            None => {
                BackendKind::default_for_build().ok_or("this build has no backend compiled in")?
            }
        };
        if !backend.is_compiled() {
            return Err(format!(
                "backend: {backend} is not compiled into this build"
            ));
        }
        let speed = limits.speed(self.speed.unwrap_or(DEFAULT_SPEED))?;
        let rows = own
            .as_ref()
            .map_or(configs[0].data.samples, |own| own.rows.rows());
        let picture_points = LIVE_RESOLUTION * LIVE_RESOLUTION + LIVE_CURVE_POINTS;
        let labs = (limits.max_runs / configs.len()).max(1) as u64;
        train::memory::check_lab(
            train::memory::lab_bytes(&configs, rows, picture_points),
            labs,
        )
        .map_err(|error| error.to_string())?;
        Ok(LabPlan {
            configs,
            backend,
            speed,
            own,
        })
    }
}

/// The page's own data read as a file would be (the same reader, the same
/// messages, naming the page's name for it), then held to what the lab
/// draws and to every run's loss and network.
fn read_own(data: &OwnData, configs: &[RunConfig], limits: &Limits) -> Result<OwnRows, String> {
    let shown: String = data
        .name
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    let shown = match shown.trim() {
        "" => "your data".to_string(),
        name => name.to_string(),
    };
    let most = limits.max_data_bytes;
    if data.csv.len() > most {
        return Err(format!(
            "{shown}: {} bytes; the lab takes at most {most} (1 MB): train larger files with \
             `train --config`",
            data.csv.len()
        ));
    }
    let settings = &configs[0].data;
    let table =
        parse_table(data.csv.as_bytes(), &shown, settings.header.0).map_err(|e| e.to_string())?;
    let names = table.names.clone();
    let target = train::data::target_index(&table, settings.target.as_ref(), &shown)
        .map_err(|e| e.to_string())?;
    let rows = table_dataset(table, settings.target.as_ref(), &shown).map_err(|e| e.to_string())?;
    if !(1..=2).contains(&rows.features) {
        return Err(format!(
            "{shown}: {} feature columns; the lab draws data with 1 or 2 and a target (train \
             more with `train --config`)",
            rows.features
        ));
    }
    if rows.rows() > limits.max_samples {
        return Err(format!(
            "{shown}: {} rows; the lab takes at most {}",
            rows.rows(),
            limits.max_samples
        ));
    }
    for (config, name) in configs.iter().zip(RUN_NAMES) {
        prepare_for(config, rows.clone(), &shown).map_err(|e| format!("run {name}: {e}"))?;
    }
    let default_names: &[&str] = match rows.features {
        1 => &["x"],
        _ => &["x1", "x2"],
    };
    let names = match names {
        Some(mut names) => {
            names.remove(target);
            names
        }
        None => default_names.iter().map(|n| n.to_string()).collect(),
    };
    Ok(OwnRows {
        csv: data.csv.clone(),
        rows,
        names,
    })
}

/// `base` with the dotted `keys` set, validated and within `limits`;
/// `own`: the page brought its own data, which the run reads as `data.csv`.
fn resolve<'a>(
    base: &RunConfig,
    keys: impl Iterator<Item = (&'a String, &'a serde_json::Value)>,
    limits: &Limits,
    own: bool,
) -> Result<RunConfig, (String, String)> {
    // A later key wins (a run's own over the shared ones); null unsets a key.
    let mut changes: BTreeMap<&String, &serde_json::Value> = BTreeMap::new();
    for (key, value) in keys {
        if key == "data.path" {
            return Err((
                key.clone(),
                "the lab opens no file a page names: upload the file in the page (the \
                 request's `data`)"
                    .into(),
            ));
        }
        changes.insert(key, value);
    }
    let path_key = "data.path".to_string();
    let path_value = serde_json::Value::from(OWN_DATA_FILE);
    if own {
        changes.insert(&path_key, &path_value);
    }
    let unset: Vec<String> = changes
        .iter()
        .filter(|(_, value)| value.is_null())
        .map(|(key, _)| (*key).clone())
        .collect();
    let values = changes
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| Ok(((*key).clone(), toml_value(key, value)?)))
        .collect::<Result<Vec<_>, (String, String)>>()?;
    let config = base.with_changes(&values, &unset)?;
    // The lab's limits first: "no csv here" says more than csv's own keys.
    limits.check(&config, own)?;
    config
        .validate()
        .map_err(|ConfigError { key, message }| (key.to_string(), message))?;
    Ok(config)
}

/// A JSON value as the TOML value a config file would hold.
pub fn toml_value(key: &str, value: &serde_json::Value) -> Result<toml::Value, (String, String)> {
    toml::Value::try_from(value).map_err(|_| {
        (
            key.to_string(),
            format!("{value} is not a value a config file can hold"),
        )
    })
}

/// The pair shares its data and its network's shape, so that both start
/// from the same points and (with the same init) the same weights.
fn check_pair(configs: &[RunConfig]) -> Result<(), String> {
    let [a, b] = configs else {
        return Ok(());
    };
    let differs = [
        ("seed", a.seed != b.seed),
        ("data", a.data != b.data),
        (
            "model.input/hidden/output",
            a.layer_sizes() != b.layer_sizes(),
        ),
        ("training.epochs", a.training.epochs != b.training.epochs),
        (
            "training.batch_size",
            a.training.batch_size != b.training.batch_size,
        ),
    ];
    match differs.iter().find(|(_, differs)| *differs) {
        Some((key, _)) => Err(format!(
            "runs A and B differ in `{key}`: a pair trains on the same data from the same start; \
             set it for both"
        )),
        None => Ok(()),
    }
}
