//! What the page is shown of a network's inside: the diagram (each hidden
//! unit's output as a thumbnail, the weights as edges, dead and saturated
//! units marked), the exact region map and its count, and the unit the
//! learner clicked, over the main picture's grid.

use std::time::{Duration, Instant};

use model::LayerWeights;
use serde::{Deserialize, Serialize};
use train::config::RunConfig;
use train::data::Standardizer;
use train::data::playground::FUNCTION_RANGE;
use train::experiments::surface::{TrainedNetwork, UnitValues, linspace, plane_points, unit_flag};
use train::regions::{Polygon, RegionsError, plane_input, regions_within};

use super::view::{LIVE_CURVE_POINTS, LIVE_RESOLUTION, Points};

/// Hidden units per layer the diagram draws (TF Playground draws 8).
pub const DIAGRAM_UNITS: usize = 16;
/// A thumbnail's grid points per axis (2-D) or points (1-D).
const THUMB_RESOLUTION: usize = 16;
/// The live map stops past this many regions (the CLI maps up to 100,000).
pub const LIVE_MAX_REGIONS: usize = 10_000;
/// Regions sent as polygons at most; past it the page shows the count only.
pub const LIVE_DRAWN_REGIONS: usize = 5_000;
/// While training, the diagram and the region map each take at most this
/// share of the time.
const INSIDE_SHARE: f64 = 0.03;
/// A region map made while training stops after this long (a frame's worth).
const TRAINING_BUDGET: Duration = Duration::from_millis(25);
/// A region map made while paused (or at the end) stops after this long:
/// a pause or the last epoch shows that much later.
const PAUSED_BUDGET: Duration = Duration::from_millis(250);

/// What the page asks to see of one run beyond its picture.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Wish {
    /// The region map's polygons, not only its count.
    #[serde(default)]
    pub regions: bool,
    /// The clicked unit: `[hidden layer, unit]`, both from 0.
    #[serde(default)]
    pub unit: Option<(usize, usize)>,
}

/// The network as the diagram draws it.
#[derive(Clone, Debug, Serialize)]
pub struct Diagram {
    /// Units per layer: inputs, each hidden layer, output.
    pub sizes: Vec<usize>,
    /// The inputs' names (`x1`, `x1^2`, `x`).
    pub inputs: Vec<String>,
    /// Thumbnail resolution: `n` x `n` values (2-D) or `n` (1-D).
    pub resolution: usize,
    /// Per hidden layer, its first [`DIAGRAM_UNITS`] units.
    pub layers: Vec<Vec<Thumb>>,
    /// Per layer (into hidden 1, ..., into the output), the weights between
    /// drawn units, `[to][from]`.
    pub weights: Vec<Vec<Vec<f32>>>,
}

/// One hidden unit's thumbnail.
#[derive(Clone, Debug, Serialize)]
pub struct Thumb {
    /// The output's range over the thumbnail.
    pub low: f32,
    pub high: f32,
    /// The output scaled to 0 (low) .. 255 (high), row by row from the bottom.
    pub values: Vec<u8>,
    /// `dead` or `saturated` on the data, as the diagnostics define them.
    pub flag: Option<&'static str>,
}

/// The run's linear regions over the picture's box.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RegionView {
    /// The exact map: its count, and its polygons when asked for and not
    /// too many (`[x1, x2, x1, x2, ...]` per region).
    Exact {
        epoch: usize,
        count: usize,
        polygons: Option<Vec<Vec<f32>>>,
        ms: f64,
    },
    /// Past [`LIVE_MAX_REGIONS`] or its time budget: stopped, with the
    /// regions found so far and the one-line reason.
    Stopped {
        epoch: usize,
        reached: usize,
        why: String,
    },
    /// No exact map (a smooth activation, a curved input), and why.
    None { why: String },
}

/// The clicked unit over the main picture's grid: where it switches is
/// where `pre` crosses 0.
#[derive(Clone, Debug, Serialize)]
pub struct Focus {
    pub layer: usize,
    pub unit: usize,
    pub pre: Vec<f32>,
    pub post: Vec<f32>,
}

/// The raw points of the picture's grid (2 per point) or curve (1 per point).
fn grid(points: &Points, resolution: usize, curve_points: usize) -> (Vec<f64>, usize) {
    match points.bounds {
        Some(bounds) => (plane_points(bounds, resolution), 2),
        None => (
            linspace(points.range.unwrap_or(FUNCTION_RANGE), curve_points),
            1,
        ),
    }
}

/// The diagram of `network` (with `weights`), its units flagged on the data's points.
pub fn diagram(
    config: &RunConfig,
    network: &TrainedNetwork,
    weights: &[LayerWeights],
    points: &Points,
) -> Diagram {
    let activation = config.model.activation;
    let (thumb_points, features) = grid(points, THUMB_RESOLUTION, THUMB_RESOLUTION * 4);
    let over_grid = network.hidden_units(&thumb_points, features);
    let data: Vec<f64> = points
        .rows
        .iter()
        .flat_map(|row| row[..features].iter().map(|&v| f64::from(v)))
        .collect();
    let on_data = network.hidden_units(&data, features);
    let layers = over_grid
        .iter()
        .zip(&on_data)
        .enumerate()
        .map(|(layer, (grid_values, data_values))| {
            (0..grid_values.units.min(DIAGRAM_UNITS))
                .map(|unit| {
                    let column =
                        |values: &[f64]| UnitValues::column(values, grid_values.units, unit);
                    let post = column(&grid_values.post);
                    let (low, high) = post
                        .iter()
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                            (lo.min(v), hi.max(v))
                        });
                    let span = (high - low).max(1e-12);
                    Thumb {
                        low: low as f32,
                        high: high as f32,
                        values: post
                            .iter()
                            .map(|v| (255.0 * (v - low) / span).round() as u8)
                            .collect(),
                        flag: unit_flag(
                            activation.layer(layer),
                            &column(&data_values.pre),
                            &column(&data_values.post),
                        ),
                    }
                })
                .collect()
        })
        .collect();
    let drawn = |units: usize, hidden: bool| {
        if hidden {
            units.min(DIAGRAM_UNITS)
        } else {
            units
        }
    };
    let last = weights.len().saturating_sub(1);
    let edges = weights
        .iter()
        .enumerate()
        .map(|(index, layer)| {
            let from = drawn(layer.d_input, index > 0);
            let to = drawn(layer.d_output, index < last);
            (0..to)
                .map(|o| layer.weight[o * layer.d_input..o * layer.d_input + from].to_vec())
                .collect()
        })
        .collect();
    let inputs = points.inputs.clone();
    Diagram {
        sizes: config.layer_sizes(),
        inputs,
        resolution: THUMB_RESOLUTION,
        layers,
        weights: edges,
    }
}

/// The clicked unit over the main picture's grid, if it exists.
pub fn focus(
    network: &TrainedNetwork,
    points: &Points,
    (layer, unit): (usize, usize),
) -> Option<Focus> {
    let (grid_points, features) = grid(points, LIVE_RESOLUTION, LIVE_CURVE_POINTS);
    let values = network
        .hidden_units(&grid_points, features)
        .into_iter()
        .nth(layer)?;
    if unit >= values.units {
        return None;
    }
    let column = |v: &[f64]| {
        UnitValues::column(v, values.units, unit)
            .into_iter()
            .map(|x| x as f32)
            .collect()
    };
    Some(Focus {
        layer,
        unit,
        pre: column(&values.pre),
        post: column(&values.post),
    })
}

/// When a picture of the inside is due again: always while paused, and
/// while training at most [`INSIDE_SHARE`] of the time (its last cost
/// decides when the next is due).
#[derive(Debug)]
pub struct Pace {
    next: Instant,
}

impl Default for Pace {
    fn default() -> Self {
        Self {
            next: Instant::now(),
        }
    }
}

impl Pace {
    pub fn due(&self, training: bool) -> bool {
        !training || Instant::now() >= self.next
    }

    pub fn took(&mut self, cost: Duration) {
        self.next = Instant::now() + cost.div_f64(INSIDE_SHARE);
    }
}

/// When a region map is made, and what it must carry.
#[derive(Clone, Copy, Debug)]
pub struct MapMoment {
    /// Epochs done.
    pub epoch: usize,
    /// Made between training steps (a tight budget) or at rest.
    pub training: bool,
    /// The page draws the polygons, not only the count.
    pub polygons: bool,
}

/// The exact regions of the network over the picture's box.
pub fn region_view(
    config: &RunConfig,
    standardizer: Option<&Standardizer>,
    weights: &[LayerWeights],
    points: &Points,
    MapMoment {
        epoch,
        training,
        polygons,
    }: MapMoment,
    pace: &mut Pace,
) -> Option<RegionView> {
    let Some(area) = points.bounds else {
        return Some(RegionView::None {
            why: "a 1-D fit has no region map: its pieces lie along the curve (`train plot \
                  surface` counts them)"
                .into(),
        });
    };
    let activation = config.model.activation;
    if !activation.is_piecewise_linear() {
        return Some(RegionView::None {
            why: RegionsError::Smooth(activation.first_smooth().expect("not piecewise linear"))
                .to_string(),
        });
    }
    let input = match plane_input(config, standardizer) {
        Ok(input) => input,
        Err(why) => return Some(RegionView::None { why }),
    };
    let started = Instant::now();
    let found = regions_within(
        weights,
        activation,
        input,
        Polygon::rectangle(area),
        LIVE_MAX_REGIONS,
        Some(if training {
            TRAINING_BUDGET
        } else {
            PAUSED_BUDGET
        }),
    );
    let cost = started.elapsed();
    pace.took(cost);
    Some(match found {
        Ok(found) => RegionView::Exact {
            epoch,
            count: found.len(),
            polygons: (polygons && found.len() <= LIVE_DRAWN_REGIONS).then(|| {
                found
                    .iter()
                    .map(|region| {
                        region
                            .cell
                            .0
                            .iter()
                            .flat_map(|p| [p[0] as f32, p[1] as f32])
                            .collect()
                    })
                    .collect()
            }),
            ms: cost.as_secs_f64() * 1e3,
        },
        Err(
            error @ (RegionsError::TooMany { reached, .. }
            | RegionsError::OutOfTime { reached, .. }),
        ) => RegionView::Stopped {
            epoch,
            reached,
            why: error.to_string(),
        },
        Err(error) => RegionView::None {
            why: error.to_string(),
        },
    })
}
