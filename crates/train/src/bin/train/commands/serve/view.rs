//! What the page is shown of a run, as JSON: its state, its epoch records,
//! the picture of what the network computes. A new page gets the whole view
//! (a snapshot); an open page gets frames that carry only the new records.

use serde::Serialize;
use train::config::RunConfig;
use train::data::playground::FUNCTION_RANGE;
use train::data::{self, Dataset};
use train::experiments::surface::{self, TrainedNetwork};
use train::training::trainer::EpochRecord;

use super::inside::{Diagram, Focus, RegionView, Wish};

/// Grid points per axis of the live decision surface.
pub const LIVE_RESOLUTION: usize = 48;
/// Points of the live 1-D fit.
pub const LIVE_CURVE_POINTS: usize = 241;

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Built, waiting for start or step.
    Paused,
    /// Training.
    Running,
    /// Every epoch done (or stopped early).
    Finished,
    /// Its loss or weights stopped being finite; the last finite checkpoint is kept.
    Diverged,
    /// Something failed that is not the user's doing; the message says what.
    Failed,
}

/// A learning-rate change made while paused.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LrChange {
    /// Epochs done when the rate changed.
    pub after_epoch: usize,
    /// The new rate.
    pub lr: f64,
}

/// One epoch, as the page plots it.
#[derive(Clone, Debug, Serialize)]
pub struct RecordView {
    epoch: usize,
    loss: f64,
    train_loss: Option<f64>,
    val_loss: Option<f64>,
    train_accuracy: Option<f64>,
    val_accuracy: Option<f64>,
    lr: Option<f64>,
    /// Seconds of training so far.
    elapsed_s: f64,
    /// The weights' L1/L2 penalty (the losses are the data's alone).
    penalty: Option<f64>,
    /// Per layer, input side first.
    grad_norm: Vec<f64>,
    dead: Vec<Option<f64>>,
    saturated: Vec<Option<f64>>,
}

impl From<&EpochRecord> for RecordView {
    fn from(record: &EpochRecord) -> Self {
        Self {
            epoch: record.epoch,
            loss: record.loss,
            train_loss: record.train_loss,
            val_loss: record.val_loss,
            train_accuracy: record.train_accuracy,
            val_accuracy: record.val_accuracy,
            lr: record.lr,
            elapsed_s: record.elapsed_s,
            penalty: record.penalty,
            grad_norm: record.layers.iter().map(|l| l.grad_norm).collect(),
            dead: record.layers.iter().map(|l| l.dead_fraction).collect(),
            saturated: record.layers.iter().map(|l| l.saturated_fraction).collect(),
        }
    }
}

/// What the network computes over its input space.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Picture {
    /// A 2-D set: outputs on a `resolution` x `resolution` grid, row by row
    /// from `x2[0]` up, each row from `x1[0]` right.
    Surface {
        x1: (f64, f64),
        x2: (f64, f64),
        resolution: usize,
        /// Probabilities for `bce`, raw outputs for `mse`.
        probabilities: bool,
        values: Vec<f32>,
    },
    /// A 1-D function: the fitted curve as `(x, y)` pairs.
    Curve { points: Vec<(f32, f32)> },
}

/// The data points drawn under the picture: `(x1, x2, label)` or `(x, y)`.
#[derive(Clone, Debug, Serialize)]
pub struct Points {
    /// Each point's coordinates and label (2-D) or target (1-D).
    pub rows: Vec<Vec<f32>>,
    /// The box the surface covers, for 2-D data.
    pub bounds: Option<[(f64, f64); 2]>,
    /// The x range the curve covers, for 1-D data.
    pub range: Option<(f64, f64)>,
    /// Rows from this one on are the validation share (never trained on).
    pub validation_from: usize,
    /// The noiseless function of a 1-D fit, as `(x, y)` over the curve's range.
    pub truth: Option<Vec<(f32, f32)>>,
    /// Whether the targets are 0/1 classes (else values, drawn on the surface's scale).
    pub classes: bool,
    /// The network's inputs, as the diagram names them.
    pub inputs: Vec<String>,
    /// Whether these are the page's own points (an upload, clicks).
    pub own: bool,
}

/// The points of the page's own data (1 or 2 feature columns and a target),
/// read from its CSV text; `names` are its feature columns' names.
pub fn own_points(config: &RunConfig, raw: &Dataset, names: Vec<String>) -> Points {
    let plane = raw.features == 2;
    Points {
        rows: point_rows(raw),
        bounds: plane.then(|| surface::bounds(raw)),
        range: (!plane).then(|| surface::line_range(raw)),
        validation_from: validation_from(config, raw.rows()),
        truth: None,
        classes: raw.y.iter().all(|&y| y == 0.0 || y == 1.0),
        inputs: names,
        own: true,
    }
}

/// Each row's features, then its target.
fn point_rows(raw: &Dataset) -> Vec<Vec<f32>> {
    (0..raw.rows())
        .map(|row| {
            let mut values = raw.row(row).to_vec();
            values.push(raw.y[row]);
            values
        })
        .collect()
}

/// The first validation row, as data::split holds out the last rows.
fn validation_from(config: &RunConfig, rows: usize) -> usize {
    let held_out = (rows as f64 * config.data.validation_fraction).round() as usize;
    rows.saturating_sub(held_out)
}

/// The raw points of a generated 2-D set or function, if the data has a picture.
pub fn points(config: &RunConfig) -> Option<Points> {
    let raw: Dataset = data::points(&config.data, config.seed)?;
    let plane = config.data.kind.is_plane();
    let truth = (config.data.kind == train::config::DataKind::Function).then(|| {
        let function = config
            .data
            .function
            .unwrap_or(train::config::FunctionKind::Sin);
        let (low, high) = FUNCTION_RANGE;
        (0..LIVE_CURVE_POINTS)
            .map(|i| {
                let x = low + (high - low) * i as f64 / (LIVE_CURVE_POINTS - 1) as f64;
                (x as f32, function.eval(x) as f32)
            })
            .collect()
    });
    let inputs = match plane {
        true => config
            .data
            .inputs()
            .iter()
            .map(|input| input.name().to_string())
            .collect(),
        false => vec!["x".to_string()],
    };
    Some(Points {
        rows: point_rows(&raw),
        bounds: plane.then(|| surface::bounds(&raw)),
        range: (!plane).then_some(FUNCTION_RANGE),
        validation_from: validation_from(config, raw.rows()),
        truth,
        classes: plane,
        inputs,
        own: false,
    })
}

/// The picture of `network` over the points' space.
pub fn picture(network: &TrainedNetwork, points: &Points) -> Picture {
    match points.bounds {
        Some(bounds) => {
            let grid = surface::surface(network, bounds, LIVE_RESOLUTION);
            Picture::Surface {
                x1: bounds[0],
                x2: bounds[1],
                resolution: LIVE_RESOLUTION,
                probabilities: network.gives_probabilities(),
                values: grid.values.iter().map(|&v| v as f32).collect(),
            }
        }
        None => Picture::Curve {
            points: surface::curve(
                network,
                points.range.unwrap_or(FUNCTION_RANGE),
                LIVE_CURVE_POINTS,
            )
            .into_iter()
            .map(|(x, y)| (x as f32, y as f32))
            .collect(),
        },
    }
}

/// Everything the page shows of one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunView {
    /// `A` or `B`.
    pub name: &'static str,
    /// Bumped by every reset: the page drops what it drew before.
    pub generation: u64,
    pub state: RunState,
    /// Why it diverged or failed.
    pub message: Option<String>,
    /// Said live while its training loss stands above 1.1x its start.
    pub rise: Option<String>,
    /// Epochs done.
    pub epoch: usize,
    /// Epochs planned.
    pub epochs: usize,
    /// The learning rate of the next step.
    pub lr: f64,
    pub lr_changes: Vec<LrChange>,
    /// Records: all of them in a snapshot, the new ones in a frame.
    pub records: Vec<RecordView>,
    pub picture: Option<Picture>,
    /// The network diagram, for data with a picture.
    pub diagram: Option<Diagram>,
    /// The region map (absent from a frame that did not redraw it).
    pub regions: Option<RegionView>,
    /// `(epoch, regions)`: all of them in a snapshot, the new ones in a frame.
    pub region_counts: Vec<(usize, usize)>,
    /// The clicked unit over the picture's grid.
    pub focus: Option<Focus>,
    /// What the page asked to see.
    pub wish: Wish,
}

impl RunView {
    /// A run about to start.
    pub fn new(name: &'static str, config: &RunConfig) -> Self {
        Self {
            name,
            generation: 0,
            state: RunState::Paused,
            message: None,
            rise: None,
            epoch: 0,
            epochs: config.training.epochs,
            lr: config.training.lr,
            lr_changes: Vec::new(),
            records: Vec::new(),
            picture: None,
            diagram: None,
            regions: None,
            region_counts: Vec::new(),
            focus: None,
            wish: Wish::default(),
        }
    }
}
