//! Sweeps: a grid over config keys (the product of the sweep file's axes),
//! every point validated before anything runs, each point a normal run
//! directory `DIR/points/<id>/` whose id comes from its resolved config.
//!
//! A point is done when its run wrote `result.json` (atomically, last).
//! Shards split the grid by index (`index % count == shard`), so hosts never
//! compete for a point; processes on one machine meet at the run
//! directory's own lock.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{ResolvedConfig, RunConfig};
use crate::error::UserError;
use crate::experiments::sampling::Distribution;
use crate::io::result::{RunResult, read_result};
use crate::user_error;

/// The sweep file: a base config and the axes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    /// The base config, relative to the sweep file; the built-in seed
    /// defaults when absent.
    base: Option<PathBuf>,
    /// Config key (dotted, as in a config file) -> the values it takes: a
    /// list (a grid axis) or a distribution (a random axis).
    axes: toml::Table,
    /// Draws of the random axes (each grid point with each draw).
    samples: Option<usize>,
    /// Seeds the draws (0 when absent); not the runs' seed.
    sample_seed: Option<u64>,
}

/// One axis: a config key and its values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// The dotted config key, e.g. `training.lr`.
    pub key: String,
    /// The values, as TOML: a grid axis's list, or a random axis's draws in
    /// order.
    pub values: Vec<toml::Value>,
    /// What a random axis draws from; none for a grid axis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
}

impl Axis {
    /// Whether its values are drawn rather than listed.
    pub fn is_random(&self) -> bool {
        self.distribution.is_some()
    }
}

/// One point of the grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Position in the grid (the last axis varies fastest).
    pub index: usize,
    /// Stable name: a digest of the resolved config.
    pub id: String,
    /// One value per axis, in the axes' order.
    pub values: Vec<toml::Value>,
    /// The point's resolved, validated config.
    #[serde(skip)]
    pub config: RunConfig,
}

/// A loaded sweep: its axes and every point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// The axes, sorted by key.
    pub axes: Vec<Axis>,
    /// Every point of the grid, by index.
    pub points: Vec<Point>,
    /// Draws left out because they repeat an earlier point.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repeated_draws: usize,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// The most points one sweep file may have: each is a run directory and a
/// line of the report.
pub const MAX_POINTS: usize = 100_000;

/// The sizes of a sweep file's list axes (a distribution's draws are the
/// `samples`).
fn list_sizes(file: &SweepFile) -> Vec<usize> {
    file.axes
        .values()
        .filter_map(|values| match values {
            toml::Value::Array(values) => Some(values.len().max(1)),
            _ => None,
        })
        .collect()
}

/// How many points a sweep file makes (list axes x draws), if at most
/// [`MAX_POINTS`]: counted before anything is drawn or allocated.
fn point_count(file: &SweepFile) -> Option<usize> {
    list_sizes(file)
        .into_iter()
        .try_fold(file.samples.unwrap_or(1), |count, size| {
            count.checked_mul(size)
        })
        .filter(|&count| count <= MAX_POINTS)
}

/// "the grid has 3 x 4 points" or, with draws, "... x 1000 draws".
fn describe_size(file: &SweepFile) -> String {
    let shape: Vec<String> = list_sizes(file).iter().map(usize::to_string).collect();
    let shape = if shape.is_empty() {
        "1".to_string()
    } else {
        shape.join(" x ")
    };
    match file.samples {
        Some(samples) => format!("the grid has {shape} points x {samples} draws (samples)"),
        None => format!("the grid has {shape} points"),
    }
}

/// Subdirectory of a sweep's `--out` that holds the points.
pub const POINTS_DIR: &str = "points";
/// The sweep's plan in its `--out`: axes and point ids.
pub const PLAN_FILE: &str = "sweep.json";
/// A point's config, written before its run starts.
pub const POINT_CONFIG: &str = "point.toml";
/// A point's last failure (not a divergence), kept until it is done.
pub const ERROR_FILE: &str = "error.txt";

/// A value as a person reads it in messages and tables (`0.001`, `relu`, `[18, 18, 4]`).
pub fn shown_value(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

impl Sweep {
    /// Reads a sweep file, builds the grid and validates every point; the
    /// first bad axis value is a one-line error naming the axis and value.
    pub fn load(path: &Path) -> Result<Sweep, UserError> {
        let shown = path.display();
        let text = crate::error::read_text_file(path, "sweep file")?;
        let file: SweepFile = toml::from_str(&text)
            .map_err(|error| UserError::new(format!("{shown}: {}", error.message().trim())))?;
        let base = match &file.base {
            Some(base) => {
                let base = path.parent().unwrap_or(Path::new(".")).join(base);
                ResolvedConfig::load(Some(&base), &Default::default())?.config
            }
            // A `data.path` axis without a base is relative to the sweep file.
            None => {
                let mut config = RunConfig::default();
                config.data.folder = crate::config::ConfigFolder(Some(
                    path.parent().unwrap_or(Path::new("")).into(),
                ));
                config
            }
        };
        let samples = file.samples.unwrap_or(1);
        let count = point_count(&file).ok_or_else(|| {
            UserError::new(format!(
                "{shown}: {}, more than {MAX_POINTS} points; split it into several sweeps",
                describe_size(&file)
            ))
        })?;
        let mut axes = Vec::new();
        let sample_seed = file.sample_seed.unwrap_or(0);
        for (key, values) in &file.axes {
            let values = match values {
                toml::Value::Array(values) if !values.is_empty() => values.clone(),
                toml::Value::Table(table) => {
                    let distribution = Distribution::parse(table).map_err(|message| {
                        UserError::new(format!("{shown}: axis `{key}`: {message}"))
                    })?;
                    axes.push(Axis {
                        key: key.clone(),
                        values: (0..samples)
                            .map(|draw| distribution.draw(sample_seed, key, draw))
                            .collect(),
                        distribution: Some(distribution),
                    });
                    continue;
                }
                _ => {
                    return Err(UserError::new(format!(
                        "{shown}: axis `{key}` must be a non-empty list of values or a \
                         distribution such as {{ log_uniform = [1e-4, 1e-1] }}"
                    )));
                }
            };
            if let Some(repeated) = values
                .iter()
                .enumerate()
                .find_map(|(i, value)| values[..i].contains(value).then_some(value))
            {
                return Err(UserError::new(format!(
                    "{shown}: axis `{key}` lists {} twice (a point is trained once; remove the \
                     repeat)",
                    shown_value(repeated)
                )));
            }
            axes.push(Axis {
                key: key.clone(),
                values,
                distribution: None,
            });
        }
        let random: Vec<&str> = axes
            .iter()
            .filter(|a| a.is_random())
            .map(|a| a.key.as_str())
            .collect();
        match (random.is_empty(), file.samples) {
            (false, None) => {
                return Err(UserError::new(format!(
                    "{shown}: axis `{}` is a distribution: set samples = N, the number of draws",
                    random[0]
                )));
            }
            (true, Some(_)) => {
                return Err(UserError::new(format!(
                    "{shown}: samples = N draws the distribution axes, but every axis is a list"
                )));
            }
            (false, Some(0)) => {
                return Err(UserError::new(format!(
                    "{shown}: samples must be at least 1"
                )));
            }
            _ => {}
        }
        if axes.is_empty() {
            return Err(UserError::new(format!(
                "{shown}: [axes] names no config key to vary, e.g. \"training.lr\" = [0.001, 0.01]"
            )));
        }
        let sizes: Vec<usize> = axes
            .iter()
            .map(|axis| {
                if axis.is_random() {
                    1
                } else {
                    axis.values.len()
                }
            })
            .collect();
        let mut points: Vec<Point> = Vec::with_capacity(count);
        // What each point trains, as its precision sees it (parallel to `points`).
        let mut identities: Vec<String> = Vec::with_capacity(count);
        let mut repeated_draws = 0;
        for position in 0..count {
            // Each grid point with each draw: the draw varies fastest.
            let (grid_index, draw) = (position / samples, position % samples);
            let mut rest = grid_index;
            let mut picks = vec![0; axes.len()];
            for (slot, size) in picks.iter_mut().zip(&sizes).rev() {
                *slot = rest % size;
                rest /= size;
            }
            let values: Vec<toml::Value> = axes
                .iter()
                .zip(&picks)
                .map(|(axis, &pick)| {
                    let pick = if axis.is_random() { draw } else { pick };
                    axis.values[pick].clone()
                })
                .collect();
            let assignments: Vec<(String, toml::Value)> = axes
                .iter()
                .map(|axis| axis.key.clone())
                .zip(values.iter().cloned())
                .collect();
            let blame = |key: &str, message: &str| {
                let value = assignments
                    .iter()
                    .find(|(axis, _)| axis == key)
                    .map(|(_, value)| value);
                match value {
                    Some(value) => UserError::new(format!(
                        "{shown}: axis `{key}` value {}: {message}",
                        shown_value(value)
                    )),
                    None => {
                        let point: Vec<String> = assignments
                            .iter()
                            .map(|(axis, value)| format!("{axis} = {}", shown_value(value)))
                            .collect();
                        UserError::new(format!(
                            "{shown}: point ({}): key `{key}`: {message}",
                            point.join(", ")
                        ))
                    }
                }
            };
            let config = base
                .with_values(&assignments)
                .map_err(|(key, message)| blame(&key, &message))?;
            config
                .validate()
                .map_err(|error| blame(error.key, &error.message))?;
            let id = point_id(&config);
            let identity = run_identity(&config);
            let twin = identities.iter().position(|other| *other == identity);
            if !random.is_empty() && twin.is_some() {
                // Two draws of a few choices can meet: that run is trained once.
                repeated_draws += 1;
                continue;
            }
            let index = points.len();
            if let Some(twin) = twin.map(|twin| &points[twin]) {
                let show = |values: &[toml::Value]| -> String {
                    let shown: Vec<String> = values.iter().map(shown_value).collect();
                    shown.join(", ")
                };
                return Err(UserError::new(format!(
                    "{shown}: points ({}) and ({}) are the same run (the values differ only in \
                     how they are written, or below what {} can tell apart); remove one",
                    show(&twin.values),
                    show(&values),
                    config.training.precision.name()
                )));
            }
            identities.push(identity);
            points.push(Point {
                index,
                id,
                values,
                config,
            });
        }
        Ok(Sweep {
            axes,
            points,
            repeated_draws,
        })
    }

    /// The points shard `shard` of `count` takes: those whose index is
    /// `shard` modulo `count` (disjoint, and together every point).
    pub fn shard(&self, shard: usize, count: usize) -> Vec<&Point> {
        self.points
            .iter()
            .filter(|point| point.index % count == shard)
            .collect()
    }

    /// The plan as JSON (axes and point ids, no configs): what `report` reads.
    pub fn plan_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serialises") + "\n"
    }

    /// Reads the plan a sweep run wrote into `dir`.
    pub fn read_plan(dir: &Path) -> anyhow::Result<Sweep> {
        let path = dir.join(PLAN_FILE);
        let text = crate::error::read_text_file(&path, "sweep plan").map_err(|error| {
            user_error!("{error} (expected the --out directory of `train sweep run`)")
        })?;
        serde_json::from_str(&text).map_err(|error| user_error!("{}: {error}", path.display()))
    }
}

/// A point's id: the first 16 hex digits of the SHA-256 of its config as
/// `config.toml` holds it, so the same point has the same id everywhere.
pub fn point_id(config: &RunConfig) -> String {
    let digest = Sha256::digest(config.to_toml().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// What a point trains, as its precision sees the numbers: its config with
/// every float rounded to float32 for a float32 run (0.01 and
/// 0.010000000001 are one float32 run), as written for a float64 one. Two
/// points with the same identity would train the same run twice.
fn run_identity(config: &RunConfig) -> String {
    fn round(value: &mut toml::Value) {
        match value {
            toml::Value::Float(float) => *float = f64::from(*float as f32),
            toml::Value::Array(values) => values.iter_mut().for_each(round),
            toml::Value::Table(table) => table.iter_mut().for_each(|(_, value)| round(value)),
            _ => {}
        }
    }
    let text = config.to_toml();
    if config.training.precision != crate::config::Precision::Float32 {
        return text;
    }
    let mut value: toml::Value = toml::from_str(&text).expect("our own TOML reads back");
    round(&mut value);
    value.to_string()
}

/// The run directory of point `id` in a sweep's `--out`.
pub fn point_dir(out: &Path, id: &str) -> PathBuf {
    out.join(POINTS_DIR).join(id)
}

/// Which part of the grid a process takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based shard number.
    pub index: usize,
    /// How many shards there are.
    pub count: usize,
}

impl Shard {
    /// The whole grid.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` (0 <= I < N), or `auto`: Slurm's `SLURM_ARRAY_TASK_ID`
    /// with `completions` shards (`--shard-count`), else its
    /// `SLURM_ARRAY_TASK_COUNT`; or Kubernetes' `JOB_COMPLETION_INDEX` with
    /// `completions` shards.
    pub fn parse(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
        completions: Option<usize>,
    ) -> Result<Shard, UserError> {
        let number = |name: &str, value: &str| {
            value.trim().parse::<usize>().map_err(|_| {
                UserError::new(format!("--shard: {name} is `{value}`, not a whole number"))
            })
        };
        let (index, count) = if text == "auto" {
            if let Some(id) = env("SLURM_ARRAY_TASK_ID") {
                // SLURM_ARRAY_TASK_COUNT is this submission's size: 1 for a
                // task resubmitted alone, so an explicit count wins.
                let count = match (completions, env("SLURM_ARRAY_TASK_COUNT")) {
                    (Some(count), _) => count,
                    (None, Some(count)) => number("SLURM_ARRAY_TASK_COUNT", &count)?,
                    (None, None) => {
                        return Err(UserError::new(
                            "--shard auto under Slurm: SLURM_ARRAY_TASK_COUNT is not set; give \
                             --shard-count N (the array's size)",
                        ));
                    }
                };
                (number("SLURM_ARRAY_TASK_ID", &id)?, count)
            } else if let Some(index) = env("JOB_COMPLETION_INDEX") {
                let count = completions.ok_or_else(|| {
                    UserError::new(
                        "--shard auto under Kubernetes (JOB_COMPLETION_INDEX) needs --shard-count N \
                         (the Job's completions)",
                    )
                })?;
                (number("JOB_COMPLETION_INDEX", &index)?, count)
            } else {
                return Err(UserError::new(
                    "--shard auto: neither SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT nor \
                     JOB_COMPLETION_INDEX is set; give --shard I/N",
                ));
            }
        } else {
            let (index, count) = text.split_once('/').ok_or_else(|| {
                UserError::new(format!("--shard `{text}`: expected I/N (e.g. 0/4) or auto"))
            })?;
            (number("I", index)?, number("N", count)?)
        };
        if count == 0 || index >= count {
            return Err(UserError::new(format!(
                "--shard {index}/{count}: the shard must be in 0..{count} and the count at least 1"
            )));
        }
        Ok(Shard { index, count })
    }
}

/// A point's state in a sweep's `--out`.
#[derive(Clone, Debug, PartialEq)]
pub enum PointState {
    /// Its run wrote its result (finished, or diverged); boxed, as the
    /// other states are small.
    Done(Box<RunResult>),
    /// Not done (never started, interrupted, or failed).
    Pending,
    /// Its `result.json` cannot be read (a truncated copy, a disk error):
    /// not done; the reason, one line. A rerun trains or records it again.
    Damaged(String),
}

/// Reads a point's state.
pub fn point_state(out: &Path, id: &str) -> PointState {
    match read_result(&point_dir(out, id)) {
        Ok(Some(result)) => PointState::Done(Box::new(result)),
        Ok(None) => PointState::Pending,
        Err(error) => PointState::Damaged(crate::error::one_line(&error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Point ids hash the config as written; a key added later must be
    /// left out of it at its default (an `Option` skipped when `None`, or
    /// `skip_serializing_if` its default), so these ids, made by the code of
    /// 2026-12-01, never change and old sweeps find their points.
    #[test]
    fn point_ids_made_by_earlier_code_stay_the_same() {
        let seed = RunConfig::default();
        assert_eq!(point_id(&seed), "f1accd8f4b10ba00");
        let circle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/circle.toml");
        let circle = RunConfig::from_file(&circle).unwrap();
        assert_eq!(point_id(&circle), "12a0b2a2ff084026");
    }

    #[test]
    fn random_axes_draw_the_same_values_for_every_grid_point_and_keep_them() {
        let dir = tempfile::tempdir().unwrap();
        let sweep = |text: &str| Sweep::load(&write(dir.path(), "r.toml", text));
        let base = "samples = 4\n[axes]\n\"model.activation\" = [\"identity\", \"relu\"]\n\
                    \"training.lr\" = { log_uniform = [1e-4, 1e-1] }\n";
        let first = sweep(base).unwrap();
        assert_eq!(first.points.len(), 8);
        let lr = first
            .axes
            .iter()
            .position(|a| a.key == "training.lr")
            .unwrap();
        let draws = |plan: &Sweep, activation: &str| -> Vec<toml::Value> {
            plan.points
                .iter()
                .filter(|p| p.config.model.activation.to_string() == activation)
                .map(|p| p.values[lr].clone())
                .collect()
        };
        // Paired: every activation gets the same four rates.
        assert_eq!(draws(&first, "identity"), draws(&first, "relu"));
        assert_eq!(first.axes[lr].values, draws(&first, "relu"));
        let ids: Vec<String> = first.points.iter().map(|p| p.id.clone()).collect();
        assert_eq!(
            ids,
            sweep(base)
                .unwrap()
                .points
                .iter()
                .map(|p| p.id.clone())
                .collect::<Vec<_>>()
        );
        // More draws keep the first ones; another random axis leaves them alone.
        let more = sweep(&base.replace("samples = 4", "samples = 6")).unwrap();
        assert_eq!(draws(&more, "relu")[..4], draws(&first, "relu")[..]);
        let wider = sweep(&format!(
            "{base}\"optimizer.beta1\" = {{ uniform = [0.8, 0.95] }}\n"
        ))
        .unwrap();
        let lr_wide = wider
            .axes
            .iter()
            .position(|a| a.key == "training.lr")
            .unwrap();
        assert_eq!(wider.axes[lr_wide].values, first.axes[lr].values);
        // A choice of two drawn eight times repeats itself: each run once.
        let few =
            sweep("samples = 8\n[axes]\n\"training.batch_size\" = { choice = [5, 10] }\n").unwrap();
        assert_eq!(few.points.len(), 2);
        assert_eq!(few.repeated_draws, 6);
        let indices: Vec<usize> = few.points.iter().map(|p| p.index).collect();
        assert_eq!(indices, [0, 1]);
        for (text, wanted) in [
            (
                "[axes]\n\"training.lr\" = { log_uniform = [1e-4, 1e-1] }\n",
                "set samples = N",
            ),
            (
                "samples = 3\n[axes]\n\"training.lr\" = [0.1]\n",
                "every axis is a list",
            ),
            (
                "samples = 3\n[axes]\n\"training.lr\" = { log_uniform = [0, 1] }\n",
                "axis `training.lr`: log_uniform needs low > 0",
            ),
        ] {
            let error = sweep(text).unwrap_err().to_string();
            assert!(error.contains(wanted), "{error}");
        }
    }

    #[test]
    fn the_grid_is_the_product_of_the_axes_with_stable_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "s.toml",
            "[axes]\n\"model.activation\" = [\"identity\", \"relu\"]\n\"training.lr\" = [0.001, 0.01, 0.1]\nseed = [0, 1]\n",
        );
        let sweep = Sweep::load(&path).unwrap();
        assert_eq!(sweep.points.len(), 12);
        let keys: Vec<&str> = sweep.axes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["model.activation", "seed", "training.lr"]);
        let last = &sweep.points[11];
        assert_eq!(last.config.model.activation, model::Activation::Relu.into());
        assert_eq!((last.config.seed, last.config.training.lr), (1, 0.1));
        let mut ids: Vec<&str> = sweep.points.iter().map(|p| p.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 12, "ids are distinct");
        assert_eq!(Sweep::load(&path).unwrap().points[5].id, sweep.points[5].id);
        // Shards are disjoint and cover the grid.
        let mut covered: Vec<usize> = (0..5)
            .flat_map(|shard| sweep.shard(shard, 5).into_iter().map(|p| p.index))
            .collect();
        covered.sort();
        assert_eq!(covered, (0..12).collect::<Vec<_>>());
        // The plan reads back without the configs.
        let plan: Sweep = serde_json::from_str(&sweep.plan_json()).unwrap();
        assert_eq!(plan.points[3].id, sweep.points[3].id);
    }

    #[test]
    fn a_bad_value_anywhere_is_refused_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "[axes]\n\"training.lr\" = [0.001, 0.0]\n",
                "axis `training.lr` value 0.0: must be > 0",
            ),
            (
                "[axes]\n\"model.activation\" = [\"relu\", \"relux\"]\n",
                "axis `model.activation` value relux: unknown activation",
            ),
            (
                "[axes]\n\"training.lr\" = []\n",
                "axis `training.lr` must be a non-empty list",
            ),
            (
                "[axes]\n\"training.speed\" = [1]\n",
                "axis `training.speed` value 1: unknown field `speed`",
            ),
            (
                "[axes]\n\"seed.x\" = [1]\n",
                "axis `seed.x` value 1: `seed` is a value",
            ),
            (
                "base = \"missing.toml\"\n[axes]\nseed = [1]\n",
                "cannot read config file",
            ),
            ("[axes]\n", "names no config key"),
            ("[axis]\nseed = [1]\n", "unknown field `axis`"),
            (
                "[axes]\n\"model.hidden\" = [[4], [0]]\n",
                "axis `model.hidden` value [0]: layer size 1 is 0",
            ),
        ];
        for (text, expected) in cases {
            let path = write(dir.path(), "bad.toml", text);
            let error = Sweep::load(&path).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn repeated_values_and_a_grid_beyond_the_limit_are_refused_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("[axes]\nseed = [0, 0, 1]\n", "axis `seed` lists 0 twice"),
            (
                "[axes]\n\"training.lr\" = [0.001, 1e-3]\n",
                "axis `training.lr` lists 0.001 twice",
            ),
            (
                "[axes]\n\"training.lr\" = [1, 1.0]\n",
                "points (1) and (1.0) are the same run",
            ),
            (
                "[axes]\n\"training.lr\" = [0.01, 0.010000000001]\n",
                "points (0.01) and (0.010000000001) are the same run (the values differ only in \
                 how they are written, or below what float32 can tell apart)",
            ),
        ];
        for (text, expected) in cases {
            let path = write(dir.path(), "dup.toml", text);
            let error = Sweep::load(&path).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
        // 1000 x 1000 x 1000 used to try to allocate 488 GB.
        let values: Vec<String> = (0..1000).map(|v| v.to_string()).collect();
        let axis = format!("[{}]", values.join(", "));
        let text = format!(
            "[axes]\nseed = {axis}\n\"training.epochs\" = {}\n\"data.samples\" = {}\n",
            axis.replace("[0, ", "[1000, "),
            axis.replace("[0, ", "[1001, ")
        );
        let path = write(dir.path(), "huge.toml", &text);
        let error = Sweep::load(&path).unwrap_err().to_string();
        assert!(
            error.contains("the grid has 1000 x 1000 x 1000 points, more than 100000"),
            "{error}"
        );
    }

    #[test]
    fn random_draws_count_toward_the_limit_before_any_is_drawn() {
        let dir = tempfile::tempdir().unwrap();
        for samples in ["100001", "9223372036854775807"] {
            let text = format!(
                "samples = {samples}\n[axes]\n\"training.lr\" = {{ log_uniform = [1e-4, 1e-1] }}\n"
            );
            let path = write(dir.path(), "draws.toml", &text);
            let error = Sweep::load(&path).unwrap_err().to_string();
            assert!(
                error.ends_with(&format!(
                    "the grid has 1 points x {samples} draws (samples), more than 100000 points; \
                     split it into several sweeps"
                )),
                "{error}"
            );
        }
        let text = "samples = 50001\n[axes]\n\"model.activation\" = [\"relu\", \"tanh\"]\n\
                    \"training.lr\" = { log_uniform = [1e-4, 1e-1] }\n";
        let error = Sweep::load(&write(dir.path(), "grid.toml", text))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("the grid has 2 points x 50001 draws"),
            "{error}"
        );
    }

    #[test]
    fn shards_come_from_flags_slurm_or_kubernetes() {
        let none = |_: &str| None;
        assert_eq!(
            Shard::parse("2/5", none, None).unwrap(),
            Shard { index: 2, count: 5 }
        );
        assert!(Shard::parse("5/5", none, None).is_err());
        assert!(Shard::parse("x", none, None).is_err());
        let slurm = |name: &str| match name {
            "SLURM_ARRAY_TASK_ID" => Some("3".to_string()),
            "SLURM_ARRAY_TASK_COUNT" => Some("4".to_string()),
            _ => None,
        };
        assert_eq!(
            Shard::parse("auto", slurm, None).unwrap(),
            Shard { index: 3, count: 4 }
        );
        // A task resubmitted alone (`sbatch --array=3`) keeps its shard with the count given.
        let resubmitted = |name: &str| match name {
            "SLURM_ARRAY_TASK_ID" => Some("3".to_string()),
            "SLURM_ARRAY_TASK_COUNT" => Some("1".to_string()),
            _ => None,
        };
        assert_eq!(
            Shard::parse("auto", resubmitted, Some(8)).unwrap(),
            Shard { index: 3, count: 8 }
        );
        assert!(Shard::parse("auto", resubmitted, None).is_err());
        let k8s = |name: &str| (name == "JOB_COMPLETION_INDEX").then(|| "1".to_string());
        assert_eq!(
            Shard::parse("auto", k8s, Some(3)).unwrap(),
            Shard { index: 1, count: 3 }
        );
        assert!(
            Shard::parse("auto", k8s, None)
                .unwrap_err()
                .to_string()
                .contains("--shard-count")
        );
        assert!(Shard::parse("auto", none, None).is_err());
    }
}
