//! The sampled pattern map: the state every hidden unit is in at each cell
//! of a grid over the plane. It is the picture where the exact region map
//! cannot be drawn: an engineered input (x1^2, sin) bends a relu network's
//! pieces, and a smooth activation has no pieces, only units that are
//! near-linear in one place and flat (saturated, or switched off) in another.
//! Always labelled as sampled: a piece narrower than a cell can be missed.

use model::LayerActivations;
use std::collections::HashMap;

use burn::tensor::Device;
use model::{Activation, LinearPieces};

use super::activation_curves::sample;
use super::surface::{TrainedNetwork, UnitValues};

/// A unit counts as flat where its slope is below this share of the
/// activation's steepest slope.
pub const FLAT_SHARE: f64 = 0.1;

/// What a unit's state is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternKind {
    /// Piecewise-linear: which side of its switching line the unit is on.
    Pieces,
    /// Smooth: flat below, near-linear, or flat above.
    Regimes,
}

impl PatternKind {
    /// For a figure's title and the JSON.
    pub fn name(self) -> &'static str {
        match self {
            PatternKind::Pieces => "activation patterns",
            PatternKind::Regimes => "patterns of near-linear and flat units",
        }
    }
}

/// Every grid cell's pattern, numbered in the order first seen.
#[derive(Clone, Debug)]
pub struct SampledPatterns {
    /// The box sampled.
    pub area: [(f64, f64); 2],
    /// Cells per axis.
    pub resolution: usize,
    /// `ids[j * resolution + i]`: the pattern at the centre of cell `(i, j)`,
    /// `j` counted from the bottom.
    pub ids: Vec<u32>,
    /// Distinct patterns seen.
    pub patterns: usize,
    /// What a unit's state means.
    pub kind: PatternKind,
}

/// A smooth activation's slope, looked up from its sampled derivative.
struct Slopes {
    low: f64,
    step: f64,
    derivative: Vec<f64>,
    steepest: f64,
}

impl Slopes {
    fn of(activation: Activation, device: &Device) -> Self {
        let (low, high, points) = (-12.0, 12.0, 2401);
        let curve = sample(activation, low, high, points, device);
        let steepest = curve
            .derivative
            .iter()
            .fold(0.0_f64, |most, d| most.max(d.abs()));
        Self {
            low,
            step: (high - low) / (points - 1) as f64,
            derivative: curve.derivative,
            steepest,
        }
    }

    /// 0 flat below, 1 near-linear, 2 flat above.
    fn regime(&self, z: f64) -> u8 {
        let at = ((z - self.low) / self.step).clamp(0.0, (self.derivative.len() - 1) as f64);
        let below = (at.floor() as usize).min(self.derivative.len() - 2);
        let t = at - below as f64;
        let slope = self.derivative[below] * (1.0 - t) + self.derivative[below + 1] * t;
        match (slope.abs() >= FLAT_SHARE * self.steepest, z < 0.0) {
            (true, _) => 1,
            (false, true) => 0,
            (false, false) => 2,
        }
    }
}

/// Samples which state every hidden unit of `network` is in at the centre
/// of each of `resolution` x `resolution` cells over `area`.
pub fn sample_patterns(
    network: &TrainedNetwork,
    activation: LayerActivations,
    area: [(f64, f64); 2],
    resolution: usize,
    device: &Device,
) -> SampledPatterns {
    let centre = |(low, high): (f64, f64), i: usize| {
        low + (high - low) * (i as f64 + 0.5) / resolution as f64
    };
    // Per hidden layer (each may have its own activation): a
    // piecewise-linear unit's state is its piece (identity has one), a
    // smooth one's its regime.
    let hidden = network.hidden_layers();
    let kind = if activation.is_piecewise_linear() {
        PatternKind::Pieces
    } else {
        PatternKind::Regimes
    };
    let states: Vec<(Option<LinearPieces>, Option<Slopes>)> = (0..hidden)
        .map(|index| {
            let layer = activation.layer(index);
            match layer.linear_pieces() {
                Some(pieces) => (Some(pieces), None),
                None => (None, Some(Slopes::of(layer, device))),
            }
        })
        .collect();
    let state = |index: usize, z: f64| match &states[index] {
        (Some(pieces), _) => pieces.piece(z) as u8,
        (None, Some(slopes)) => slopes.regime(z),
        (None, None) => 0,
    };
    let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut ids = Vec::with_capacity(resolution * resolution);
    // A row of cells at a time: a wide network's units over the whole grid
    // would not fit in memory.
    for j in 0..resolution {
        let row: Vec<f64> = (0..resolution)
            .flat_map(|i| [centre(area[0], i), centre(area[1], j)])
            .collect();
        let layers: Vec<UnitValues> = network.hidden_units(&row, 2);
        for cell in 0..resolution {
            let pattern: Vec<u8> = layers
                .iter()
                .enumerate()
                .flat_map(|(index, layer)| {
                    layer.pre[cell * layer.units..(cell + 1) * layer.units]
                        .iter()
                        .map(move |&z| state(index, z))
                })
                .collect();
            let next = seen.len() as u32;
            ids.push(*seen.entry(pattern).or_insert(next));
        }
    }
    SampledPatterns {
        area,
        resolution,
        ids,
        patterns: seen.len(),
        kind,
    }
}

impl SampledPatterns {
    fn edges(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.resolution;
        let along = |(low, high): (f64, f64)| {
            (0..=n)
                .map(|i| low + (high - low) * i as f64 / n as f64)
                .collect::<Vec<f64>>()
        };
        (along(self.area[0]), along(self.area[1]))
    }

    /// Each row's runs of one pattern as rectangles `(corners, pattern)`.
    pub fn runs(&self) -> Vec<([[f64; 2]; 4], u32)> {
        let n = self.resolution;
        let (xs, ys) = self.edges();
        let mut runs = Vec::new();
        for j in 0..n {
            let row = &self.ids[j * n..(j + 1) * n];
            let mut start = 0;
            for i in 1..=n {
                if i == n || row[i] != row[start] {
                    let (x0, x1, y0, y1) = (xs[start], xs[i], ys[j], ys[j + 1]);
                    runs.push(([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], row[start]));
                    start = i;
                }
            }
        }
        runs
    }

    /// The borders between cells of different patterns, as segments, each
    /// straight stretch of border one segment.
    pub fn borders(&self) -> Vec<[[f64; 2]; 2]> {
        let n = self.resolution;
        let (xs, ys) = self.edges();
        let id = |i: usize, j: usize| self.ids[j * n + i];
        let mut segments = Vec::new();
        // Between rows j - 1 and j, along x; between columns i - 1 and i, along y.
        for (horizontal, count) in [(true, n), (false, n)] {
            for line in 1..count {
                let mut start: Option<usize> = None;
                for k in 0..=n {
                    let differs = k < n
                        && if horizontal {
                            id(k, line - 1) != id(k, line)
                        } else {
                            id(line - 1, k) != id(line, k)
                        };
                    match (differs, start) {
                        (true, None) => start = Some(k),
                        (false, Some(from)) => {
                            segments.push(if horizontal {
                                [[xs[from], ys[line]], [xs[k], ys[line]]]
                            } else {
                                [[xs[line], ys[from]], [xs[line], ys[k]]]
                            });
                            start = None;
                        }
                        _ => {}
                    }
                }
            }
        }
        segments
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;
    use model::LayerWeights;

    fn network(config: &RunConfig, weights: &[LayerWeights]) -> TrainedNetwork {
        let device = crate::backend::cpu_device().expect("a CPU backend in tests");
        TrainedNetwork::new(config, config.model.activation, weights, None, &device).unwrap()
    }

    fn config(activation: &str, hidden: usize) -> RunConfig {
        RunConfig::from_toml(
            &format!(
                "[data]\nkind = \"circle\"\nstandardize = false\n[model]\ninput = 2\nhidden = \
                 [{hidden}]\noutput = 1\nactivation = \"{activation}\"\n[training]\nloss = \"bce\"\n"
            ),
            "test",
        )
        .unwrap()
    }

    /// `k` units whose lines x1 = c cut the box [-1, 1]^2 into k + 1 strips.
    fn strips(k: usize) -> Vec<LayerWeights> {
        let cuts: Vec<f32> = (0..k)
            .map(|i| -0.8 + 1.6 * i as f32 / (k - 1) as f32)
            .collect();
        vec![
            LayerWeights {
                d_input: 2,
                d_output: k,
                weight: (0..k).flat_map(|_| [1.0, 0.0]).collect(),
                bias: cuts.iter().map(|c| -c).collect(),
                learned: Vec::new(),
            },
            LayerWeights {
                d_input: k,
                d_output: 1,
                weight: vec![1.0; k],
                bias: vec![0.0],
                learned: Vec::new(),
            },
        ]
    }

    #[test]
    fn parallel_relu_lines_give_one_pattern_per_strip_and_straight_borders() {
        let config = config("relu", 4);
        let device = crate::backend::cpu_device().unwrap();
        let found = sample_patterns(
            &network(&config, &strips(4)),
            config.model.activation,
            [(-1.0, 1.0), (-1.0, 1.0)],
            50,
            &device,
        );
        assert_eq!(found.patterns, 5);
        assert_eq!(found.kind, PatternKind::Pieces);
        // Four vertical borders, each one straight segment over the whole box.
        let borders = found.borders();
        assert_eq!(borders.len(), 4, "{borders:?}");
        assert!(
            borders
                .iter()
                .all(|[a, b]| a[0] == b[0] && (b[1] - a[1] - 2.0).abs() < 1e-12)
        );
        // Every row is 5 runs.
        assert_eq!(found.runs().len(), 5 * 50);
    }

    #[test]
    fn a_tanh_unit_is_flat_on_both_sides_of_its_near_linear_band() {
        // One unit z = 4 x1: near-linear where |4 x1| < ~1.8, flat beyond.
        let config = config("tanh", 1);
        let device = crate::backend::cpu_device().unwrap();
        let weights = vec![
            LayerWeights {
                d_input: 2,
                d_output: 1,
                weight: vec![4.0, 0.0],
                bias: vec![0.0],
                learned: Vec::new(),
            },
            LayerWeights {
                d_input: 1,
                d_output: 1,
                weight: vec![1.0],
                bias: vec![0.0],
                learned: Vec::new(),
            },
        ];
        let found = sample_patterns(
            &network(&config, &weights),
            config.model.activation,
            [(-1.0, 1.0), (-1.0, 1.0)],
            100,
            &device,
        );
        assert_eq!(found.patterns, 3);
        assert_eq!(found.kind, PatternKind::Regimes);
        // The near-linear band: tanh' >= 0.1 where |z| < atanh(sqrt(0.9)) = 1.818.
        let band = (0..100).filter(|&i| found.ids[i] == found.ids[50]).count() as f64;
        let expected = 2.0 * 1.818 / 4.0 / (2.0 / 100.0);
        assert!(
            (band - expected).abs() <= 2.0,
            "{band} cells, {expected} expected"
        );
    }
}
