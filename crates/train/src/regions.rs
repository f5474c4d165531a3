//! The exact linear regions of a piecewise-linear network.
//!
//! A network of identity, relu or leaky_relu layers is one affine map on
//! each of finitely many convex pieces of its input space: each hidden unit
//! switches along a hyperplane, and on every piece where all units keep
//! their side the network is affine. This module computes those pieces
//! exactly, in float64, by splitting: start from the input box (a 2-D
//! polygon) or a segment (1-D, a line through the input space), and for each
//! hidden layer in turn cut every piece along every unit's boundary. Inside
//! a piece the layer's input is an affine function of the point, so each
//! unit's boundary there is one straight cut; after the layer, each piece's
//! map is updated with its units' slopes (1 on the active side, 0 or the
//! leak on the other). No grid is sampled.
//!
//! The count is of *activation regions* (Serra et al. 2018): pieces with
//! different on/off patterns count apart even where their affine maps
//! happen to agree (dead units).

use model::LayerActivations;
use model::{Activation, LayerWeights, LinearPieces};

use crate::config::{InputFeature, RunConfig};
use crate::data::{Dataset, Split, Standardizer};
use crate::error::UserError;
use crate::stats::MeanCi;
use crate::training::rng::{Stream, stream};

/// The most regions a map may have before it is stopped.
pub const MAX_REGIONS: usize = 100_000;

/// Why regions cannot be computed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RegionsError {
    /// A smooth activation has no linear pieces.
    #[error(
        "{0} is smooth: a network of {0} units has no linear regions (only identity, relu, \
         leaky_relu, relu6, hardtanh and hardsigmoid cut their input into straight pieces)"
    )]
    Smooth(Activation),
    /// The map passed the limit.
    #[error(
        "the map passed {limit} regions ({reached} after layer {layer} of {layers}) and was stopped"
    )]
    TooMany {
        /// The limit.
        limit: usize,
        /// How many there were when it stopped.
        reached: usize,
        /// The hidden layer being cut (1-based).
        layer: usize,
        /// Hidden layers in all.
        layers: usize,
    },
    /// The map ran past its deadline (the live lab's time budget).
    #[error(
        "the map ran past its {budget_ms} ms budget ({reached} regions after layer {layer} of \
         {layers}) and was stopped"
    )]
    OutOfTime {
        /// The budget.
        budget_ms: u64,
        /// Regions when it stopped.
        reached: usize,
        /// The hidden layer being cut (1-based).
        layer: usize,
        /// Hidden layers in all.
        layers: usize,
    },
}

/// An affine map from a `k`-dimensional point to `n` values: `rows[i] . p + offset[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Affine {
    /// `n` rows of `k` coefficients.
    pub rows: Vec<Vec<f64>>,
    /// `n` constants.
    pub offset: Vec<f64>,
}

impl Affine {
    /// `layer` applied after `self`: `W (rows p + offset) + b`.
    fn then(&self, layer: &LayerWeights) -> Affine {
        let k = self.rows.first().map_or(0, Vec::len);
        let (rows, offset) = (0..layer.d_output)
            .map(|o| {
                let w = &layer.weight[o * layer.d_input..(o + 1) * layer.d_input];
                let mut row = vec![0.0; k];
                let mut constant = f64::from(layer.bias[o]);
                for (i, &weight) in w.iter().enumerate() {
                    let weight = f64::from(weight);
                    for (r, coefficient) in row.iter_mut().zip(&self.rows[i]) {
                        *r += weight * coefficient;
                    }
                    constant += weight * self.offset[i];
                }
                (row, constant)
            })
            .unzip();
        Affine { rows, offset }
    }

    /// Each output `z` as its unit's piece maps it: `slope * z + intercept`.
    fn pieced(mut self, slopes: &[f64], intercepts: &[f64]) -> Affine {
        for (((row, constant), &slope), &intercept) in self
            .rows
            .iter_mut()
            .zip(&mut self.offset)
            .zip(slopes)
            .zip(intercepts)
        {
            row.iter_mut().for_each(|c| *c *= slope);
            *constant = *constant * slope + intercept;
        }
        self
    }

    /// Output `i` at point `p`.
    pub fn eval(&self, i: usize, p: &[f64]) -> f64 {
        self.rows[i].iter().zip(p).map(|(c, x)| c * x).sum::<f64>() + self.offset[i]
    }
}

/// A convex cell that a straight cut can split: a polygon (2-D) or an
/// interval (1-D).
pub trait Cell: Sized + Clone {
    /// The parts where `g . p + d` is below and above 0 (`None` when the
    /// cell has no such part, up to rounding).
    fn split(&self, g: &[f64], d: f64) -> (Option<Self>, Option<Self>);
    /// A point inside the cell.
    fn inside(&self) -> Vec<f64>;
}

/// A convex polygon, its corners in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Polygon(pub Vec<[f64; 2]>);

impl Polygon {
    /// The rectangle `x1 in [a, b]`, `x2 in [c, d]`.
    pub fn rectangle([(a, b), (c, d)]: [(f64, f64); 2]) -> Self {
        Polygon(vec![[a, c], [b, c], [b, d], [a, d]])
    }

    /// Its area (shoelace).
    pub fn area(&self) -> f64 {
        let n = self.0.len();
        (0..n)
            .map(|i| {
                let (p, q) = (self.0[i], self.0[(i + 1) % n]);
                p[0] * q[1] - q[0] * p[1]
            })
            .sum::<f64>()
            .abs()
            / 2.0
    }

    /// The mean of its corners (inside, as it is convex).
    pub fn centre(&self) -> [f64; 2] {
        let n = self.0.len() as f64;
        let sum = self
            .0
            .iter()
            .fold([0.0, 0.0], |s, p| [s[0] + p[0], s[1] + p[1]]);
        [sum[0] / n, sum[1] / n]
    }

    /// Whether `p` lies inside or on it (the corners run either way round).
    pub fn contains(&self, p: [f64; 2], slack: f64) -> bool {
        let n = self.0.len();
        let sides: Vec<f64> = (0..n)
            .map(|i| {
                let (a, b) = (self.0[i], self.0[(i + 1) % n]);
                (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
            })
            .collect();
        sides.iter().all(|&s| s >= -slack) || sides.iter().all(|&s| s <= slack)
    }

    /// The distance from `p` to its nearest edge's line.
    pub fn distance_to_edges(&self, p: [f64; 2]) -> f64 {
        let n = self.0.len();
        (0..n)
            .map(|i| {
                let (a, b) = (self.0[i], self.0[(i + 1) % n]);
                let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
                let length = dx.hypot(dy);
                ((dx * (p[1] - a[1]) - dy * (p[0] - a[0])) / length).abs()
            })
            .fold(f64::INFINITY, f64::min)
    }
}

impl Cell for Polygon {
    fn split(&self, g: &[f64], d: f64) -> (Option<Self>, Option<Self>) {
        let corners = &self.0;
        let scale = g[0].abs() + g[1].abs();
        let reach = corners
            .iter()
            .map(|p| p[0].abs() + p[1].abs())
            .fold(0.0, f64::max);
        let tolerance = 1e-12 * (scale * reach + d.abs()).max(f64::MIN_POSITIVE);
        let values: Vec<f64> = corners
            .iter()
            .map(|p| {
                let v = g[0] * p[0] + g[1] * p[1] + d;
                if v.abs() <= tolerance { 0.0 } else { v }
            })
            .collect();
        if values.iter().all(|&v| v >= 0.0) {
            return (None, Some(self.clone()));
        }
        if values.iter().all(|&v| v <= 0.0) {
            return (Some(self.clone()), None);
        }
        let (mut below, mut above) = (Vec::new(), Vec::new());
        let n = corners.len();
        for i in 0..n {
            let (p, q) = (corners[i], corners[(i + 1) % n]);
            let (vp, vq) = (values[i], values[(i + 1) % n]);
            if vp <= 0.0 {
                below.push(p);
            }
            if vp >= 0.0 {
                above.push(p);
            }
            if (vp < 0.0 && vq > 0.0) || (vp > 0.0 && vq < 0.0) {
                let t = vp / (vp - vq);
                let cut = [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])];
                below.push(cut);
                above.push(cut);
            }
        }
        let keep = |corners: Vec<[f64; 2]>| {
            let polygon = Polygon(corners);
            (polygon.0.len() >= 3 && polygon.area() > 0.0).then_some(polygon)
        };
        (keep(below), keep(above))
    }

    fn inside(&self) -> Vec<f64> {
        self.centre().to_vec()
    }
}

/// An interval `[start, end]` of a line's parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval(pub f64, pub f64);

impl Cell for Interval {
    fn split(&self, g: &[f64], d: f64) -> (Option<Self>, Option<Self>) {
        let Interval(start, end) = *self;
        let at = |t: f64| g[0] * t + d;
        let tolerance =
            1e-12 * (g[0].abs() * start.abs().max(end.abs()) + d.abs()).max(f64::MIN_POSITIVE);
        let (a, b) = (at(start), at(end));
        let side = |v: f64| if v.abs() <= tolerance { 0.0 } else { v };
        let (a, b) = (side(a), side(b));
        if a >= 0.0 && b >= 0.0 {
            return (None, Some(*self));
        }
        if a <= 0.0 && b <= 0.0 {
            return (Some(*self), None);
        }
        let root = -d / g[0];
        let (low, high) = (Interval(start, root), Interval(root, end));
        if a < 0.0 {
            (Some(low), Some(high))
        } else {
            (Some(high), Some(low))
        }
    }

    fn inside(&self) -> Vec<f64> {
        vec![(self.0 + self.1) / 2.0]
    }
}

/// One linear region: its cell, each hidden unit's side (true: active) and
/// the network's output as an affine map of the point.
#[derive(Clone, Debug)]
pub struct Region<C> {
    /// Where it is.
    pub cell: C,
    /// Per hidden layer, per unit: on the active side.
    pub pattern: Vec<Vec<u8>>,
    /// The output (a logit under bce) on the region.
    pub output: Affine,
}

/// The regions of the network `layers` (input side first, the last layer
/// the output) with `activation` after every hidden layer, over `cell`,
/// whose points reach the network through `input` (an affine map from the
/// cell's coordinates to the network's inputs: engineered inputs that are
/// linear, standardisation).
pub fn regions<C: Cell>(
    layers: &[LayerWeights],
    activation: impl Into<LayerActivations>,
    input: Affine,
    cell: C,
    limit: usize,
) -> Result<Vec<Region<C>>, RegionsError> {
    regions_within(layers, activation, input, cell, limit, None)
}

/// [`regions`], stopped when `budget` (a time from now) runs out.
pub fn regions_within<C: Cell>(
    layers: &[LayerWeights],
    activation: impl Into<LayerActivations>,
    input: Affine,
    cell: C,
    limit: usize,
    budget: Option<std::time::Duration>,
) -> Result<Vec<Region<C>>, RegionsError> {
    let activation = activation.into();
    let deadline = budget.map(|budget| (std::time::Instant::now() + budget, budget));
    let hidden = layers.len().saturating_sub(1);
    if let Some(smooth) = activation.first_smooth() {
        return Err(RegionsError::Smooth(smooth));
    }
    let mut pieces = vec![(cell, Vec::<Vec<u8>>::new(), input)];
    for (index, layer) in layers[..hidden].iter().enumerate() {
        let this = activation.layer(index);
        let linear = this.linear_pieces().expect("checked above");
        // Each unit's pieces: the same breaks, a learned slope per unit (prelu).
        let unit_pieces: Vec<LinearPieces> = (0..layer.d_output)
            .map(|unit| {
                layer
                    .unit_activation(this, unit)
                    .linear_pieces()
                    .unwrap_or_else(|| linear.clone())
            })
            .collect();
        let mut next = Vec::with_capacity(pieces.len());
        let pending = pieces.len();
        for (done, (cell, pattern, map)) in pieces.into_iter().enumerate() {
            let pre = map.then(layer);
            // Every piece of this cell, with its units' sides so far.
            let mut parts = vec![(cell, Vec::with_capacity(layer.d_output))];
            for unit in 0..layer.d_output {
                if linear.breaks.is_empty() {
                    // Identity: no unit switches.
                    parts.iter_mut().for_each(|(_, sides)| sides.push(0));
                    continue;
                }
                let mut cut = Vec::with_capacity(parts.len() * (linear.breaks.len() + 1));
                for (part, sides) in parts {
                    // Cut at each break in turn: what lies below it is that piece.
                    let mut rest = Some(part);
                    for (index, &at) in linear.breaks.iter().enumerate() {
                        let Some(left) = rest.take() else { break };
                        let (below, above) = left.split(&pre.rows[unit], pre.offset[unit] - at);
                        if let Some(below) = below {
                            let mut sides = sides.clone();
                            sides.push(index as u8);
                            cut.push((below, sides));
                        }
                        rest = above;
                    }
                    if let Some(top) = rest {
                        let mut sides = sides.clone();
                        sides.push(linear.breaks.len() as u8);
                        cut.push((top, sides));
                    }
                }
                parts = cut;
                if next.len() + parts.len() > limit {
                    return Err(RegionsError::TooMany {
                        limit,
                        reached: next.len() + parts.len(),
                        layer: index + 1,
                        layers: hidden,
                    });
                }
                // Regions so far: this layer's, this cell's parts, the cells still to cut.
                let reached = next.len() + parts.len() + pending - done - 1;
                if let Some((deadline, budget)) = deadline
                    && std::time::Instant::now() > deadline
                {
                    return Err(RegionsError::OutOfTime {
                        budget_ms: budget.as_millis() as u64,
                        reached,
                        layer: index + 1,
                        layers: hidden,
                    });
                }
            }
            for (part, sides) in parts {
                let slope: Vec<f64> = sides
                    .iter()
                    .zip(&unit_pieces)
                    .map(|(&i, unit)| unit.slopes[i as usize])
                    .collect();
                let intercept: Vec<f64> = sides
                    .iter()
                    .zip(&unit_pieces)
                    .map(|(&i, unit)| unit.intercepts[i as usize])
                    .collect();
                let mut pattern = pattern.clone();
                pattern.push(sides);
                next.push((part, pattern, pre.clone().pieced(&slope, &intercept)));
            }
        }
        pieces = next;
    }
    let output = layers.last().expect("a network has an output layer");
    Ok(pieces
        .into_iter()
        .map(|(cell, pattern, map)| Region {
            cell,
            pattern,
            output: map.then(output),
        })
        .collect())
}

/// The regions whose output crosses `level` inside them (the decision
/// boundary passes through): their output takes values on both sides of
/// it at their corners.
pub fn crossed_by_level(regions: &[Region<Polygon>], level: f64) -> usize {
    regions
        .iter()
        .filter(|region| {
            let values: Vec<f64> = region
                .cell
                .0
                .iter()
                .map(|p| region.output.eval(0, p) - level)
                .collect();
            values.iter().any(|&v| v < 0.0) && values.iter().any(|&v| v > 0.0)
        })
        .count()
}

/// The piece of the line `output = level` inside each crossed region, as
/// segments to draw.
pub fn level_segments(regions: &[Region<Polygon>], level: f64) -> Vec<[[f64; 2]; 2]> {
    regions
        .iter()
        .filter_map(|region| {
            let (g, d) = (&region.output.rows[0], region.output.offset[0] - level);
            line_in(&region.cell, g, d)
        })
        .collect()
}

/// The piece of the line `g . p + d = 0` inside a convex polygon, when it
/// crosses it.
fn line_in(polygon: &Polygon, g: &[f64], d: f64) -> Option<[[f64; 2]; 2]> {
    let corners = &polygon.0;
    let n = corners.len();
    let values: Vec<f64> = corners
        .iter()
        .map(|p| g[0] * p[0] + g[1] * p[1] + d)
        .collect();
    let cuts: Vec<[f64; 2]> = (0..n)
        .filter_map(|i| {
            let (p, q) = (corners[i], corners[(i + 1) % n]);
            let (vp, vq) = (values[i], values[(i + 1) % n]);
            ((vp < 0.0) != (vq < 0.0)).then(|| {
                let t = vp / (vp - vq);
                [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]
            })
        })
        .collect();
    (cuts.len() >= 2).then(|| [cuts[0], cuts[1]])
}

/// Several classes (one logit each): inside one region, the pieces of the
/// lines where the winning class changes. Classes `k` and `j` meet on the
/// line `z_k = z_j`, in the part of the region where both lead every other
/// class; the logits are affine there, so each meeting is one segment.
pub fn class_segments(region: &Region<Polygon>) -> Vec<[[f64; 2]; 2]> {
    let output = &region.output;
    let classes = output.rows.len();
    // `z_a - z_b` as a line's `(g, d)`.
    let difference = |a: usize, b: usize| -> (Vec<f64>, f64) {
        let g = (0..2)
            .map(|c| output.rows[a][c] - output.rows[b][c])
            .collect();
        (g, output.offset[a] - output.offset[b])
    };
    let mut segments = Vec::new();
    for k in 0..classes {
        for j in k + 1..classes {
            let mut cell = Some(region.cell.clone());
            for other in (0..classes).filter(|&i| i != k && i != j) {
                for leader in [k, j] {
                    let (g, d) = difference(leader, other);
                    cell = cell.and_then(|c| c.split(&g, d).1);
                }
            }
            let (g, d) = difference(k, j);
            if let Some(segment) = cell.and_then(|c| line_in(&c, &g, d)) {
                segments.push(segment);
            }
        }
    }
    segments
}

/// Linear pieces along lines through the input space (Hanin & Rolnick
/// 2019): per line, its pieces and its length.
#[derive(Clone, Debug)]
pub struct LinePieces {
    /// Pieces on each line.
    pub pieces: Vec<usize>,
    /// Each line's length in the network's raw input units.
    pub lengths: Vec<f64>,
}

impl LinePieces {
    /// Mean pieces per line with its 95% interval.
    pub fn mean(&self) -> Option<MeanCi> {
        let pieces: Vec<f64> = self.pieces.iter().map(|&p| p as f64).collect();
        MeanCi::of(&pieces)
    }

    /// Pieces per unit length: all pieces over all length.
    pub fn per_length(&self) -> f64 {
        let total: f64 = self.lengths.iter().sum();
        self.pieces.iter().sum::<usize>() as f64 / total.max(f64::MIN_POSITIVE)
    }
}

/// The pieces of the network along each segment `from -> to` (points in the
/// network's raw input space; `standardize` is the affine map the network
/// applies first, as `(mean, scale)` per input).
pub fn along_lines(
    layers: &[LayerWeights],
    activation: LayerActivations,
    segments: &[(Vec<f64>, Vec<f64>)],
    standardize: Option<(&[f64], &[f64])>,
) -> Result<LinePieces, RegionsError> {
    let mut pieces = Vec::with_capacity(segments.len());
    let mut lengths = Vec::with_capacity(segments.len());
    for (from, to) in segments {
        // x(t) = from + t (to - from), then standardised: one column per t.
        let (rows, offset) = from
            .iter()
            .zip(to)
            .enumerate()
            .map(|(i, (&a, &b))| {
                let (mean, scale) = standardize.map_or((0.0, 1.0), |(m, s)| (m[i], s[i]));
                (vec![(b - a) * scale], (a - mean) * scale)
            })
            .unzip();
        let found = regions(
            layers,
            activation,
            Affine { rows, offset },
            Interval(0.0, 1.0),
            MAX_REGIONS,
        )?;
        pieces.push(found.len());
        lengths.push(
            from.iter()
                .zip(to)
                .map(|(a, b)| (b - a).powi(2))
                .sum::<f64>()
                .sqrt(),
        );
    }
    Ok(LinePieces { pieces, lengths })
}

/// How the points of the plane reach `config`'s network: its inputs (which
/// must be `x1` and `x2` themselves: an engineered input such as `x1^2`
/// bends the pieces) and then its standardisation, as one affine map; the
/// reason in a sentence when that is not possible.
pub fn plane_input(
    config: &RunConfig,
    standardizer: Option<&Standardizer>,
) -> Result<Affine, String> {
    let inputs = if config.data.kind.is_plane() {
        config.data.inputs()
    } else {
        vec![InputFeature::X1, InputFeature::X2]
    };
    let mut rows = Vec::with_capacity(inputs.len());
    for input in &inputs {
        rows.push(match input {
            InputFeature::X1 => vec![1.0, 0.0],
            InputFeature::X2 => vec![0.0, 1.0],
            curved => {
                return Err(format!(
                    "the input `{}` is not linear in the points, so the network's pieces are \
                     curved there; an exact map needs the inputs x1, x2",
                    curved.name()
                ));
            }
        });
    }
    let mut offset = vec![0.0; rows.len()];
    if let Some(standardizer) = standardizer {
        for (i, (row, constant)) in rows.iter_mut().zip(&mut offset).enumerate() {
            row.iter_mut().for_each(|c| *c *= standardizer.scale[i]);
            *constant = -standardizer.mean[i] * standardizer.scale[i];
        }
    }
    Ok(Affine { rows, offset })
}

/// `count` segments between pairs of distinct rows of `data` (the
/// network's inputs), drawn from `seed`.
pub fn segments_through(data: &Dataset, count: usize, seed: u64) -> Vec<(Vec<f64>, Vec<f64>)> {
    use rand::Rng;
    let rows = data.rows();
    if rows < 2 {
        return Vec::new();
    }
    let mut rng = stream(seed, Stream::Lines);
    let row = |index: usize| {
        data.row(index)
            .iter()
            .map(|&v| f64::from(v))
            .collect::<Vec<f64>>()
    };
    (0..count)
        .map(|_| {
            let a = rng.random_range(0..rows);
            let b = (a + rng.random_range(1..rows)) % rows;
            (row(a), row(b))
        })
        .collect()
}

/// How many linear regions a network of `config` with `weights` cuts the
/// data's box into: `Linear(n)`, `Smooth` for a smooth activation, `None`
/// when the plane cannot be mapped exactly (not 2 inputs, curved inputs, a
/// map past [`MAX_REGIONS`]).
pub fn count_in_box(
    config: &RunConfig,
    standardizer: Option<&Standardizer>,
    weights: &[LayerWeights],
) -> Option<crate::experiments::surface::Pieces> {
    use crate::experiments::surface::{InputSpace, Pieces, bounds, input_space};
    if !config.model.activation.is_piecewise_linear() {
        return (config.model.input == 2).then_some(Pieces::Smooth);
    }
    let input = plane_input(config, standardizer).ok()?;
    let InputSpace::Plane(data) = input_space(config).ok()? else {
        return None;
    };
    let found = regions(
        weights,
        config.model.activation,
        input,
        Polygon::rectangle(bounds(&data.points)),
        MAX_REGIONS,
    )
    .ok()?;
    Some(Pieces::Linear(found.len()))
}

/// Lines a run's tracker counts pieces along when it cannot map the plane.
pub const TRACKED_LINES: usize = 20;

/// Counts a run's regions as it trains (`training.regions_every`): the
/// exact count over the data's box for a 2-input network whose inputs are
/// x1, x2, else the mean pieces along [`TRACKED_LINES`] fixed lines through
/// its training rows (in the network's own input space).
pub struct RegionTracker {
    every: usize,
    last: usize,
    activation: LayerActivations,
    probe: Probe,
}

enum Probe {
    Plane {
        input: Affine,
        area: [(f64, f64); 2],
    },
    Lines(Vec<(Vec<f64>, Vec<f64>)>),
}

impl RegionTracker {
    /// The tracker `config` asks for (`None` without `training.regions_every`).
    pub fn new(config: &RunConfig, data: &Split) -> Result<Option<Self>, UserError> {
        let Some(every) = config.training.regions_every else {
            return Ok(None);
        };
        let plane = match (
            config.model.input,
            plane_input(config, data.standardizer.as_ref()),
        ) {
            (2, Ok(input)) => match crate::experiments::surface::input_space(config)? {
                crate::experiments::surface::InputSpace::Plane(drawn) => Some(Probe::Plane {
                    input,
                    area: crate::experiments::surface::bounds(&drawn.points),
                }),
                _ => None,
            },
            _ => None,
        };
        let probe = plane.unwrap_or_else(|| {
            Probe::Lines(segments_through(&data.train, TRACKED_LINES, config.seed))
        });
        Ok(Some(Self {
            every,
            last: config.training.epochs,
            activation: config.model.activation,
            probe,
        }))
    }

    /// After `epoch` with `weights`: what this epoch counts, on every
    /// `every`-th epoch and the run's last (NaN when a map passed
    /// [`MAX_REGIONS`]).
    pub fn observe(&self, epoch: usize, weights: &[LayerWeights]) -> Option<Counted> {
        if !self.counts(epoch) {
            return None;
        }
        Some(match &self.probe {
            Probe::Plane { input, area } => Counted::Regions(
                regions(
                    weights,
                    self.activation,
                    input.clone(),
                    Polygon::rectangle(*area),
                    MAX_REGIONS,
                )
                .map_or(f64::NAN, |found| found.len() as f64),
            ),
            Probe::Lines(segments) => Counted::PiecesPerLine(
                along_lines(weights, self.activation, segments, None)
                    .ok()
                    .and_then(|found| found.mean())
                    .map_or(f64::NAN, |m| m.mean),
            ),
        })
    }

    /// Whether `epoch` is one the tracker counts (so the weights are read
    /// back from the device only then).
    pub fn counts(&self, epoch: usize) -> bool {
        epoch.is_multiple_of(self.every) || epoch == self.last
    }
}

/// What a [`RegionTracker`] counted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Counted {
    /// The exact regions in the data's box (metrics.csv's `regions`).
    Regions(f64),
    /// The mean linear pieces along the tracker's lines (`pieces_per_line`).
    PiecesPerLine(f64),
}

impl Counted {
    /// The count, if it is of regions.
    pub fn regions(self) -> Option<f64> {
        match self {
            Self::Regions(count) => Some(count),
            Self::PiecesPerLine(_) => None,
        }
    }

    /// The count, if it is of pieces per line.
    pub fn pieces_per_line(self) -> Option<f64> {
        match self {
            Self::PiecesPerLine(count) => Some(count),
            Self::Regions(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOX: [(f64, f64); 2] = [(-1.0, 1.0), (-1.0, 1.0)];

    #[test]
    fn three_classes_meet_on_three_rays_from_where_all_tie() {
        // z0 = x, z1 = -x, z2 = y: class 2 wins above |x|, and the three
        // meet at the origin. Inside [-1, 1]^2 the boundaries are x = 0
        // below it and y = |x| above.
        let region = Region {
            cell: Polygon::rectangle(BOX),
            pattern: Vec::new(),
            output: Affine {
                rows: vec![vec![1.0, 0.0], vec![-1.0, 0.0], vec![0.0, 1.0]],
                offset: vec![0.0, 0.0, 0.0],
            },
        };
        let segments = class_segments(&region);
        assert_eq!(segments.len(), 3, "{segments:?}");
        let has = |a: [f64; 2], b: [f64; 2]| {
            let near = |p: [f64; 2], q: [f64; 2]| (p[0] - q[0]).abs() + (p[1] - q[1]).abs() < 1e-9;
            segments
                .iter()
                .any(|s| (near(s[0], a) && near(s[1], b)) || (near(s[0], b) && near(s[1], a)))
        };
        assert!(has([0.0, -1.0], [0.0, 0.0]), "0 meets 1: {segments:?}");
        assert!(has([0.0, 0.0], [1.0, 1.0]), "0 meets 2: {segments:?}");
        assert!(has([0.0, 0.0], [-1.0, 1.0]), "1 meets 2: {segments:?}");
        // A class that never leads adds no boundary.
        let mut two = region.clone();
        two.output.offset[2] = -10.0;
        assert_eq!(class_segments(&two).len(), 1);
    }

    fn identity_input() -> Affine {
        Affine {
            rows: vec![vec![1.0, 0.0], vec![0.0, 1.0]],
            offset: vec![0.0, 0.0],
        }
    }

    /// One hidden layer of `k` units whose lines cross in general position
    /// inside [-1, 1]^2, then one output.
    fn fan(k: usize, extra: &[(f32, f32, f32)]) -> Vec<LayerWeights> {
        let mut weight = Vec::new();
        let mut bias = Vec::new();
        for i in 0..k {
            let angle = std::f64::consts::PI * i as f64 / k as f64 + 0.1;
            weight.extend([angle.cos() as f32, angle.sin() as f32]);
            bias.push((0.07 * i as f64 - 0.1) as f32);
        }
        for &(a, b, c) in extra {
            weight.extend([a, b]);
            bias.push(c);
        }
        let units = k + extra.len();
        vec![
            LayerWeights {
                d_input: 2,
                d_output: units,
                weight,
                bias,
                learned: Vec::new(),
            },
            LayerWeights {
                d_input: units,
                d_output: 1,
                weight: (0..units).map(|i| 0.3 + 0.1 * i as f32).collect(),
                bias: vec![0.1],
                learned: Vec::new(),
            },
        ]
    }

    fn count(layers: &[LayerWeights], activation: Activation) -> usize {
        regions(
            layers,
            activation,
            identity_input(),
            Polygon::rectangle(BOX),
            MAX_REGIONS,
        )
        .unwrap()
        .len()
    }

    #[test]
    fn k_lines_in_general_position_cut_the_plane_into_k_k_plus_1_over_2_plus_1() {
        for k in 1..=7 {
            assert_eq!(
                count(&fan(k, &[]), Activation::Relu),
                k * (k + 1) / 2 + 1,
                "k = {k}"
            );
        }
    }

    #[test]
    fn a_map_past_its_time_budget_stops_with_the_regions_so_far() {
        let stopped = regions_within(
            &fan(6, &[]),
            Activation::Relu,
            identity_input(),
            Polygon::rectangle(BOX),
            MAX_REGIONS,
            Some(std::time::Duration::ZERO),
        )
        .unwrap_err();
        let RegionsError::OutOfTime { reached, layer, .. } = stopped else {
            panic!("{stopped}");
        };
        // Stopped after the first unit's cut: its two halves.
        assert_eq!((reached, layer), (2, 1), "{stopped}");
        let ample = Some(std::time::Duration::from_secs(60));
        let full = regions_within(
            &fan(6, &[]),
            Activation::Relu,
            identity_input(),
            Polygon::rectangle(BOX),
            MAX_REGIONS,
            ample,
        )
        .unwrap();
        assert_eq!(full.len(), 6 * 7 / 2 + 1);
    }

    #[test]
    fn a_unit_whose_line_misses_the_box_adds_no_region() {
        let far = [(1.0, 0.5, 10.0)];
        assert_eq!(
            count(&fan(4, &far), Activation::Relu),
            count(&fan(4, &[]), Activation::Relu)
        );
    }

    #[test]
    fn identity_is_one_region_at_any_depth() {
        let mut layers = fan(5, &[]);
        let deeper = LayerWeights {
            d_input: 5,
            d_output: 5,
            weight: (0..25).map(|i| (i as f32 * 0.37).sin()).collect(),
            bias: vec![0.1; 5],
            learned: Vec::new(),
        };
        layers.insert(1, deeper.clone());
        layers.insert(1, deeper);
        assert_eq!(count(&layers, Activation::Identity), 1);
    }

    #[test]
    fn one_hidden_layer_of_leaky_relu_cuts_as_relu() {
        let layers = fan(6, &[]);
        let leaky = Activation::LeakyRelu {
            negative_slope: 0.2,
        };
        assert_eq!(count(&layers, leaky), count(&layers, Activation::Relu));
    }

    #[test]
    fn a_smooth_activation_has_no_regions() {
        let error = regions(
            &fan(2, &[]),
            Activation::Tanh,
            identity_input(),
            Polygon::rectangle(BOX),
            10,
        )
        .unwrap_err();
        assert_eq!(error, RegionsError::Smooth(Activation::Tanh));
        assert!(error.to_string().starts_with("tanh is smooth"), "{error}");
    }

    #[test]
    fn the_limit_stops_a_map() {
        let error = regions(
            &fan(7, &[]),
            Activation::Relu,
            identity_input(),
            Polygon::rectangle(BOX),
            10,
        )
        .unwrap_err();
        assert!(
            matches!(error, RegionsError::TooMany { limit: 10, .. }),
            "{error:?}"
        );
    }

    /// A deeper random network's pattern at `p`, computed by a forward pass.
    fn pattern_at(layers: &[LayerWeights], p: [f64; 2]) -> Vec<Vec<u8>> {
        let mut h = p.to_vec();
        let mut pattern = Vec::new();
        for layer in &layers[..layers.len() - 1] {
            let pre: Vec<f64> = (0..layer.d_output)
                .map(|o| {
                    (0..layer.d_input)
                        .map(|i| f64::from(layer.weight[o * layer.d_input + i]) * h[i])
                        .sum::<f64>()
                        + f64::from(layer.bias[o])
                })
                .collect();
            pattern.push(pre.iter().map(|&v| u8::from(v > 0.0)).collect());
            h = pre.iter().map(|&v| v.max(0.0)).collect();
        }
        pattern
    }

    #[test]
    fn every_sampled_point_lies_in_the_region_of_its_pattern_and_wide_regions_hold_samples() {
        let random = |seed: u32, n: usize| spread(seed, n, 1.3);
        let layers = vec![
            LayerWeights {
                d_input: 2,
                d_output: 6,
                weight: random(1, 12),
                bias: random(2, 6),
                learned: Vec::new(),
            },
            LayerWeights {
                d_input: 6,
                d_output: 6,
                weight: random(3, 36),
                bias: random(4, 6),
                learned: Vec::new(),
            },
            LayerWeights {
                d_input: 6,
                d_output: 1,
                weight: random(5, 6),
                bias: random(6, 1),
                learned: Vec::new(),
            },
        ];
        let found = regions(
            &layers,
            Activation::Relu,
            identity_input(),
            Polygon::rectangle(BOX),
            MAX_REGIONS,
        )
        .unwrap();
        assert!(found.len() > 10, "{} regions", found.len());
        let n = 200;
        let step = 2.0 / n as f64;
        let mut held = vec![false; found.len()];
        for j in 0..n {
            for i in 0..n {
                let p = [
                    -1.0 + (i as f64 + 0.5) * step,
                    -1.0 + (j as f64 + 0.5) * step,
                ];
                let pattern = pattern_at(&layers, p);
                let home = found.iter().position(|r| r.pattern == pattern);
                let home = home.unwrap_or_else(|| panic!("no region has the pattern of {p:?}"));
                assert!(
                    found[home].cell.contains(p, 1e-9),
                    "{p:?} is outside its pattern's region"
                );
                held[home] = true;
            }
        }
        let cell_diagonal = step * 2f64.sqrt();
        for (region, held) in found.iter().zip(held) {
            let wide = region.cell.distance_to_edges(region.cell.centre()) > cell_diagonal;
            assert!(
                held || !wide,
                "a wide region holds no sample: {:?}",
                region.cell
            );
        }
        // The pieces tile the box.
        let area: f64 = found.iter().map(|r| r.cell.area()).sum();
        assert!((area - 4.0).abs() < 1e-9, "area {area}");
    }

    #[test]
    fn along_a_line_identity_is_one_piece_and_relu_more() {
        let layers = fan(5, &[]);
        let segments = vec![
            (vec![-1.0, -0.9], vec![1.0, 0.8]),
            (vec![0.9, -1.0], vec![-0.8, 1.0]),
        ];
        let identity = along_lines(&layers, Activation::Identity.into(), &segments, None).unwrap();
        assert_eq!(identity.pieces, [1, 1]);
        let relu = along_lines(&layers, Activation::Relu.into(), &segments, None).unwrap();
        assert!(relu.pieces.iter().all(|&p| p > 1), "{:?}", relu.pieces);
        assert!(relu.per_length() > identity.per_length());
    }

    /// The network's output at `p`, its units clamped by hand: what each
    /// region's affine map must equal inside it.
    fn clamped_output(
        layers: &[LayerWeights],
        p: [f64; 2],
        (low, high): (f64, f64),
        slope: f64,
        shift: f64,
    ) -> f64 {
        let mut h = p.to_vec();
        for (index, layer) in layers.iter().enumerate() {
            let pre: Vec<f64> = (0..layer.d_output)
                .map(|o| {
                    (0..layer.d_input)
                        .map(|i| f64::from(layer.weight[o * layer.d_input + i]) * h[i])
                        .sum::<f64>()
                        + f64::from(layer.bias[o])
                })
                .collect();
            if index + 1 == layers.len() {
                return pre[0];
            }
            h = pre
                .iter()
                .map(|&z| (slope * z + shift).clamp(low, high))
                .collect();
        }
        unreachable!("the last layer returns")
    }

    /// `n` deterministic values in `[-scale, scale]` from `seed`: weights
    /// of no particular structure.
    fn spread(seed: u32, n: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as f32 + 1.0) * 12.9898 + seed as f32 * 78.233).sin() * scale)
            .collect()
    }

    #[test]
    fn two_kink_activations_cut_each_unit_three_ways_and_every_piece_is_exact() {
        let random = |seed: u32, n: usize| spread(seed, n, 3.0);
        let layers = vec![
            LayerWeights {
                d_input: 2,
                d_output: 5,
                weight: random(1, 10),
                bias: random(2, 5),
                learned: Vec::new(),
            },
            LayerWeights {
                d_input: 5,
                d_output: 4,
                weight: random(3, 20),
                bias: random(4, 4),
                learned: Vec::new(),
            },
            LayerWeights {
                d_input: 4,
                d_output: 1,
                weight: random(5, 4),
                bias: random(6, 1),
                learned: Vec::new(),
            },
        ];
        let area = [(-2.0, 2.0), (-2.0, 2.0)];
        for (activation, clamp) in [
            (
                Activation::Hardtanh {
                    min: -1.0,
                    max: 1.0,
                },
                ((-1.0, 1.0), 1.0, 0.0),
            ),
            (Activation::Relu6, ((0.0, 6.0), 1.0, 0.0)),
            (Activation::Hardsigmoid, ((0.0, 1.0), 1.0 / 6.0, 0.5)),
        ] {
            let found = regions(
                &layers,
                activation,
                identity_input(),
                Polygon::rectangle(area),
                MAX_REGIONS,
            )
            .unwrap();
            // Some unit sits on each of its three pieces somewhere.
            for piece in 0..3u8 {
                assert!(
                    found
                        .iter()
                        .any(|r| r.pattern.iter().flatten().any(|&s| s == piece)),
                    "{activation}: piece {piece}"
                );
            }
            let area_sum: f64 = found.iter().map(|r| r.cell.area()).sum();
            assert!(
                (area_sum - 16.0).abs() < 1e-9,
                "{activation}: area {area_sum}"
            );
            let (range, slope, shift) = clamp;
            for region in &found {
                let p = region.cell.centre();
                let want = clamped_output(&layers, p, range, slope, shift);
                let got = region.output.eval(0, &p);
                assert!(
                    (got - want).abs() < 1e-4 * want.abs().max(1.0),
                    "{activation} at {p:?}: {got} vs {want}"
                );
            }
        }
    }

    /// A per-unit prelu's regions carry each unit's own learned slope: the
    /// region's affine map equals the network at its centre.
    #[test]
    fn per_unit_prelu_regions_use_each_units_learned_slope() {
        let random = |seed: u32, n: usize| spread(seed, n, 2.0);
        let slopes = vec![-0.5f32, 0.1, 0.9, 1.7];
        let layers = vec![
            LayerWeights {
                d_input: 2,
                d_output: 4,
                weight: random(1, 8),
                bias: random(2, 4),
                learned: slopes.clone(),
            },
            LayerWeights {
                d_input: 4,
                d_output: 1,
                weight: random(3, 4),
                bias: random(4, 1),
                learned: Vec::new(),
            },
        ];
        let activation: Activation = "prelu(per_unit)".parse().unwrap();
        let found = regions(
            &layers,
            activation,
            identity_input(),
            Polygon::rectangle([(-2.0, 2.0), (-2.0, 2.0)]),
            MAX_REGIONS,
        )
        .unwrap();
        assert!(found.len() > 2, "{}", found.len());
        let network = |p: [f64; 2]| -> f64 {
            let (first, last) = (&layers[0], &layers[1]);
            let hidden: Vec<f64> = (0..4)
                .map(|u| {
                    let z = f64::from(first.weight[2 * u]) * p[0]
                        + f64::from(first.weight[2 * u + 1]) * p[1]
                        + f64::from(first.bias[u]);
                    if z > 0.0 { z } else { f64::from(slopes[u]) * z }
                })
                .collect();
            hidden
                .iter()
                .zip(&last.weight)
                .map(|(h, w)| h * f64::from(*w))
                .sum::<f64>()
                + f64::from(last.bias[0])
        };
        for region in &found {
            let p = region.cell.centre();
            let (got, want) = (region.output.eval(0, &p), network(p));
            assert!(
                (got - want).abs() < 1e-9 * want.abs().max(1.0),
                "at {p:?}: {got} vs {want}"
            );
        }
    }
}
