//! What a trained network computes over its input space: its output on a
//! grid covering a 2-D set (the decision surface), its curve over a 1-D
//! function's range, and how many linear pieces that curve has.
//!
//! Networks are evaluated in float64 on a CPU backend (when the build has
//! one), so a slope change found between neighbouring grid points is the
//! network's, not float32 rounding.

use burn::tensor::{DType, Device, Tensor, TensorData};
use model::LayerActivations;
use model::{Activation, LayerWeights, Mlp};

use crate::backend::cpu_device;
use crate::config::{DataKind, FunctionKind, InputFeature, LossKind, RunConfig};
use crate::data::{
    Dataset, Standardizer, playground::FUNCTION_RANGE, points, read_table, split, target_index,
};
use crate::error::UserError;

/// Grid points per axis of a decision surface.
pub const SURFACE_RESOLUTION: usize = 101;
/// Grid points of a 1-D fit.
pub const CURVE_POINTS: usize = 1001;
/// A slope change counts as a kink when it is larger than this share of the
/// largest slope magnitude on the grid.
pub const KINK_TOLERANCE: f64 = 1e-3;

/// A trained network ready to be evaluated on raw points (`x1, x2` for a
/// 2-D set, `x` for a function): engineered inputs and standardisation are
/// applied as in training, and a `bce` network's logit becomes a probability.
pub struct TrainedNetwork {
    model: Mlp,
    device: Device,
    dtype: DType,
    inputs: Option<Vec<InputFeature>>,
    standardizer: Option<Standardizer>,
    loss: LossKind,
}

impl TrainedNetwork {
    /// The network of `config` with `weights`, trained on data standardised by `standardizer`.
    pub fn new(
        config: &RunConfig,
        activation: impl Into<LayerActivations>,
        weights: &[LayerWeights],
        standardizer: Option<Standardizer>,
        fallback: &Device,
    ) -> anyhow::Result<Self> {
        let (device, dtype) = match cpu_device() {
            Some(device) => (device, DType::F64),
            None => (fallback.clone(), DType::F32),
        };
        let model = Mlp::from_weights_as(weights, activation, &device, dtype)?;
        Ok(Self {
            model,
            device,
            dtype,
            inputs: config.data.kind.is_plane().then(|| config.data.inputs()),
            standardizer,
            loss: config.training.loss,
        })
    }

    /// The network's output for each raw point (`points` holds
    /// `features` values per point): a probability for `bce`, every
    /// class's probability for `cross_entropy` (`K` per point), the raw
    /// output for `mse`.
    pub fn outputs(&self, points: &[f64], features: usize) -> Vec<f64> {
        let output = self.model.forward(self.input(points, features));
        let output = match self.loss {
            LossKind::Mse => output,
            LossKind::Bce => burn::tensor::activation::sigmoid(output),
            LossKind::CrossEntropy => burn::tensor::activation::softmax(output, 1),
        };
        model::host_values::<f64, 2>(output)
    }

    /// Hidden layers of the network.
    pub fn hidden_layers(&self) -> usize {
        self.model.layers.len() - 1
    }

    /// Outputs per point: `K` under `cross_entropy`, else 1.
    pub fn output_width(&self) -> usize {
        self.model.sizes().last().copied().unwrap_or(1)
    }

    /// Every hidden unit at each raw point: per hidden layer (input side
    /// first), its pre-activations and outputs, `[rows * units]` row-major.
    pub fn hidden_units(&self, points: &[f64], features: usize) -> Vec<UnitValues> {
        let trace = self.model.forward_traced(self.input(points, features));
        trace
            .pre_activations
            .into_iter()
            .enumerate()
            .map(|(index, pre)| {
                let units = pre.dims()[1];
                let post = self.model.activation.layer(index).forward(pre.clone());
                UnitValues {
                    units,
                    pre: model::host_values::<f64, 2>(pre),
                    post: model::host_values::<f64, 2>(post),
                }
            })
            .collect()
    }

    /// The network's input tensor for raw points: engineered inputs, then
    /// standardisation, as in training.
    fn input(&self, points: &[f64], features: usize) -> Tensor<2> {
        let rows = points.len() / features;
        let mut x: Vec<f64> = match &self.inputs {
            Some(inputs) => points
                .chunks_exact(features)
                .flat_map(|p| inputs.iter().map(move |input| input.eval(p[0], p[1])))
                .collect(),
            None => points.to_vec(),
        };
        let width = x.len() / rows.max(1);
        if let Some(standardizer) = &self.standardizer {
            for (index, value) in x.iter_mut().enumerate() {
                let column = index % width;
                *value = (*value - standardizer.mean[column]) * standardizer.scale[column];
            }
        }
        // Made in the network's float type: the default (float32) would round the points first.
        Tensor::<2>::from_data(
            TensorData::new(x, [rows, width]),
            (&self.device, self.dtype),
        )
    }

    /// Whether the outputs are probabilities (a `bce` or `cross_entropy`
    /// network).
    pub fn gives_probabilities(&self) -> bool {
        self.loss.takes_labels()
    }
}

/// One hidden layer's units at a set of points.
#[derive(Clone, Debug)]
pub struct UnitValues {
    /// Units in the layer.
    pub units: usize,
    /// Pre-activations, `[rows * units]`.
    pub pre: Vec<f64>,
    /// Outputs (after the activation), `[rows * units]`.
    pub post: Vec<f64>,
}

impl UnitValues {
    /// Unit `unit`'s values over every row.
    pub fn column(values: &[f64], units: usize, unit: usize) -> Vec<f64> {
        values.iter().skip(unit).step_by(units).copied().collect()
    }
}

/// `dead` (relu-like, never active on the rows given) or `saturated`
/// (bounded, within 1e-3 of a bound on at least 95% of them), as the
/// diagnostics define them; `None` for a unit that is neither.
pub fn unit_flag(activation: Activation, pre: &[f64], post: &[f64]) -> Option<&'static str> {
    use crate::training::diagnostics::{SATURATION_MARGIN, SATURATION_SHARE};
    use model::UnitBehaviour;
    match activation.unit_behaviour() {
        UnitBehaviour::CanDie => pre.iter().all(|&v| v <= 0.0).then_some("dead"),
        UnitBehaviour::Saturates { lower, upper } => {
            let near = post
                .iter()
                .filter(|&&v| v - lower < SATURATION_MARGIN || upper - v < SATURATION_MARGIN)
                .count();
            (near as f64 >= SATURATION_SHARE * post.len() as f64).then_some("saturated")
        }
        UnitBehaviour::Neither => None,
    }
}

/// A network's output on a regular grid over the plane.
#[derive(Clone, Debug, PartialEq)]
pub struct Surface {
    /// Grid coordinates along x1, increasing.
    pub x1: Vec<f64>,
    /// Grid coordinates along x2, increasing.
    pub x2: Vec<f64>,
    /// `values[j * x1.len() + i]` is the output at `(x1[i], x2[j])`: for
    /// several classes, the probability of the class that wins there.
    pub values: Vec<f64>,
    /// Several classes (`cross_entropy`): every class's probability at
    /// each grid point; `None` for one output.
    pub classes: Option<ClassProbabilities>,
}

/// Every class's probability at each point of a grid.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassProbabilities {
    /// How many classes.
    pub classes: usize,
    /// `probabilities[point * classes + k]`.
    pub probabilities: Vec<f64>,
}

impl ClassProbabilities {
    /// The winning class at each point (the lower class on a tie).
    pub fn winners(&self) -> Vec<usize> {
        self.probabilities
            .chunks(self.classes)
            .map(|row| {
                let mut best = 0;
                for (k, &p) in row.iter().enumerate() {
                    if p > row[best] {
                        best = k;
                    }
                }
                best
            })
            .collect()
    }

    /// Class `k`'s lead at each point: its probability minus the largest
    /// other one. Its 0 level outlines the region where `k` wins.
    pub fn lead(&self, k: usize) -> Vec<f64> {
        self.probabilities
            .chunks(self.classes)
            .map(|row| {
                let other = row
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != k)
                    .fold(f64::NEG_INFINITY, |m, (_, &p)| m.max(p));
                row[k] - other
            })
            .collect()
    }
}

/// The box around `points` (2 features each) with a margin of 10% per side.
pub fn bounds(points: &Dataset) -> [(f64, f64); 2] {
    [0, 1].map(|column| {
        let values = (0..points.rows()).map(|row| f64::from(points.row(row)[column]));
        let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let margin = ((high - low) * 0.1).max(1e-3);
        (low - margin, high + margin)
    })
}

/// Evenly spaced values from `low` to `high`, both included.
pub fn linspace((low, high): (f64, f64), count: usize) -> Vec<f64> {
    let step = (high - low) / (count - 1) as f64;
    (0..count).map(|i| low + step * i as f64).collect()
}

/// The `resolution` x `resolution` grid over `bounds` as `(x1, x2)` pairs,
/// row by row from the lowest x2, each row from the lowest x1: the grid
/// every surface (and the live page's unit views) is evaluated on.
pub fn plane_points(bounds: [(f64, f64); 2], resolution: usize) -> Vec<f64> {
    let (x1, x2) = (
        linspace(bounds[0], resolution),
        linspace(bounds[1], resolution),
    );
    x2.iter()
        .flat_map(|&b| x1.iter().flat_map(move |&a| [a, b]))
        .collect()
}

/// The network's output over `bounds` at `resolution` points per axis.
pub fn surface(network: &TrainedNetwork, bounds: [(f64, f64); 2], resolution: usize) -> Surface {
    let outputs = network.outputs(&plane_points(bounds, resolution), 2);
    let width = network.output_width();
    let (values, classes) = if width > 1 {
        let values = outputs
            .chunks(width)
            .map(|row| row.iter().fold(0.0f64, |m, &p| m.max(p)))
            .collect();
        let probabilities = ClassProbabilities {
            classes: width,
            probabilities: outputs,
        };
        (values, Some(probabilities))
    } else {
        (outputs, None)
    };
    Surface {
        x1: linspace(bounds[0], resolution),
        x2: linspace(bounds[1], resolution),
        values,
        classes,
    }
}

/// The network's curve over `range` (its one input), as `(x, output)` points.
pub fn curve(network: &TrainedNetwork, range: (f64, f64), points: usize) -> Vec<(f64, f64)> {
    let xs = linspace(range, points);
    let outputs = network.outputs(&xs, 1);
    xs.into_iter().zip(outputs).collect()
}

/// Linear pieces of a sampled curve: one plus the kinks, where a kink is a
/// slope change between neighbouring grid intervals larger than
/// [`KINK_TOLERANCE`] times the largest slope magnitude. A kink that falls
/// inside a grid interval changes the slope on both of its sides; the two
/// neighbouring changes count once. A straight line has 1 piece; a smooth
/// curve has as many as the grid resolves.
pub fn linear_pieces(curve: &[(f64, f64)]) -> usize {
    let slopes: Vec<f64> = curve
        .windows(2)
        .map(|w| (w[1].1 - w[0].1) / (w[1].0 - w[0].0))
        .collect();
    let steepest = slopes.iter().fold(0.0f64, |m, s| m.max(s.abs()));
    if steepest < 1e-12 {
        return 1;
    }
    let tolerance = KINK_TOLERANCE * steepest;
    let mut pieces = 1;
    let mut index = 1;
    while index < slopes.len() {
        if (slopes[index] - slopes[index - 1]).abs() > tolerance {
            pieces += 1;
            index += 2;
        } else {
            index += 1;
        }
    }
    pieces
}

/// How a 1-D fit bends: a count of straight pieces for a piecewise-linear
/// activation, none for a smooth one (its curve has no pieces to count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pieces {
    /// This many straight pieces (see [`linear_pieces`]).
    Linear(usize),
    /// A smooth curve.
    Smooth,
}

impl Pieces {
    /// The pieces of `activation`'s network whose curve is `curve`.
    pub fn of(activation: impl Into<LayerActivations>, curve: &[(f64, f64)]) -> Self {
        let activation = activation.into();
        if activation.is_piecewise_linear() {
            Self::Linear(linear_pieces(curve))
        } else {
            Self::Smooth
        }
    }

    /// The table's cell: the count, or `smooth`.
    pub fn cell(&self) -> String {
        match self {
            Self::Linear(count) => count.to_string(),
            Self::Smooth => "smooth".into(),
        }
    }
}

impl std::fmt::Display for Pieces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Linear(1) => f.write_str("1 linear piece"),
            Self::Linear(count) => write!(f, "{count} linear pieces"),
            Self::Smooth => f.write_str("smooth (no linear pieces)"),
        }
    }
}

/// A run's training rows as its pictures draw them: the points before any
/// engineered input or standardisation, with the names of their axes.
#[derive(Clone, Debug)]
pub struct DrawnData {
    /// The training rows (1 or 2 features each) and their targets.
    pub points: Dataset,
    /// The axes' names: `x1, x2` (a plane) or `x, y` (a line), or the CSV
    /// file's column names.
    pub axis_names: [String; 2],
    /// The targets are 0/1 classes.
    pub classes: bool,
}

/// What the pictures can show of a run's input space.
#[derive(Clone, Debug)]
pub enum InputSpace {
    /// Two inputs: a surface over the plane.
    Plane(DrawnData),
    /// One input: a curve over `range`, beside the true function if known.
    Line {
        /// The points.
        data: DrawnData,
        /// The x range drawn.
        range: (f64, f64),
        /// The noiseless function, for generated 1-D data.
        truth: Option<FunctionKind>,
    },
    /// Neither: why, in a sentence.
    Unseen(String),
}

/// What can be drawn of `config`'s data: the 2-D sets and 2-column CSV
/// files as planes, functions and 1-column CSV files as lines.
pub fn input_space(config: &RunConfig) -> Result<InputSpace, UserError> {
    let data = &config.data;
    let train_rows = |points: Dataset| -> Result<Dataset, UserError> {
        Ok(split(points, data.validation_fraction, data.test_fraction)?.train)
    };
    if config.training.loss == LossKind::CrossEntropy && config.model.input == 1 {
        return Ok(InputSpace::Unseen(
            "a network of several classes over one input has no surface or single curve to draw \
             (`train predict` prints each class's probability)"
                .into(),
        ));
    }
    if data.kind.is_plane() {
        let points = points(data, config.seed).expect("a plane kind has points");
        return Ok(InputSpace::Plane(DrawnData {
            points: train_rows(points)?,
            axis_names: ["x1".into(), "x2".into()],
            classes: true,
        }));
    }
    if data.kind == DataKind::Function {
        let points = points(data, config.seed).expect("function data has points");
        return Ok(InputSpace::Line {
            data: DrawnData {
                points: train_rows(points)?,
                axis_names: ["x".into(), "y".into()],
                classes: false,
            },
            range: FUNCTION_RANGE,
            truth: data.function,
        });
    }
    if data.kind != DataKind::Csv {
        return Ok(InputSpace::Unseen(format!(
            "data.kind = \"{}\" has {} inputs; pictures are drawn for networks that see 1 or 2",
            data.kind, config.model.input
        )));
    }
    let path = data
        .data_file()
        .ok_or_else(|| UserError::new("data.path is required when data.kind = \"csv\""))?;
    let table = read_table(&path, data.header.0)?;
    let shown = path.display().to_string();
    let target = target_index(&table, data.target.as_ref(), &shown)?;
    let features = table.columns.saturating_sub(1);
    if !(1..=2).contains(&features) {
        return Ok(InputSpace::Unseen(format!(
            "{shown} has {features} feature columns; pictures are drawn for networks that see 1 or 2"
        )));
    }
    let mut names: Vec<String> = (0..table.columns)
        .map(|column| match &table.names {
            Some(names) => names[column].clone(),
            None => format!("column {column}"),
        })
        .collect();
    let target_name = names.remove(target);
    let points = train_rows(table.into_dataset(target))?;
    let classes = config.training.loss == LossKind::CrossEntropy
        || points.y.iter().all(|&y| y == 0.0 || y == 1.0);
    if features == 2 {
        return Ok(InputSpace::Plane(DrawnData {
            points,
            axis_names: [names[0].clone(), names[1].clone()],
            classes,
        }));
    }
    Ok(InputSpace::Line {
        range: line_range(&points),
        data: DrawnData {
            points,
            axis_names: [names[0].clone(), target_name],
            classes,
        },
        truth: None,
    })
}

/// The x range a 1-D data set's curve is drawn over: its points' range and
/// a 5% margin each side.
pub fn line_range(points: &Dataset) -> (f64, f64) {
    let (low, high) = points
        .x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(f64::from(x)), hi.max(f64::from(x)))
        });
    let margin = ((high - low) * 0.05).max(1e-3);
    (low - margin, high + margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampled(f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        linspace(FUNCTION_RANGE, CURVE_POINTS)
            .into_iter()
            .map(|x| (x, f(x)))
            .collect()
    }

    #[test]
    fn pieces_count_the_kinks_of_piecewise_linear_curves() {
        assert_eq!(linear_pieces(&sampled(|x| 0.3 * x - 2.0)), 1);
        assert_eq!(linear_pieces(&sampled(|_| 4.0)), 1);
        // A kink on a grid point and one inside an interval count once each.
        assert_eq!(linear_pieces(&sampled(|x| x.abs())), 2);
        assert_eq!(linear_pieces(&sampled(|x| (x - 0.123).max(0.0))), 2);
        let three_kinks = |x: f64| (x + 1.0).max(0.0) - 2.0 * x.max(0.0) + (x - 1.5).max(0.0);
        assert_eq!(linear_pieces(&sampled(three_kinks)), 4);
        // A smooth curve resolves into many pieces.
        assert!(linear_pieces(&sampled(f64::sin)) > 100);
    }

    #[test]
    fn a_linear_network_draws_one_piece_and_a_relu_one_several() {
        let config = RunConfig::default();
        let weights = [
            LayerWeights {
                d_input: 1,
                d_output: 3,
                weight: vec![1.0, -1.0, 0.5],
                bias: vec![0.0, 0.5, -1.0],
                learned: Vec::new(),
            },
            LayerWeights {
                d_input: 3,
                d_output: 1,
                weight: vec![1.0, 2.0, -3.0],
                bias: vec![0.1],
                learned: Vec::new(),
            },
        ];
        let device = cpu_device().expect("the tests build a CPU backend");
        let pieces = |activation| {
            let network =
                TrainedNetwork::new(&config, activation, &weights, None, &device).unwrap();
            linear_pieces(&curve(&network, FUNCTION_RANGE, CURVE_POINTS))
        };
        assert_eq!(pieces(Activation::Identity), 1);
        // Kinks at x = 0, 0.5 and 2: four pieces.
        assert_eq!(pieces(Activation::Relu), 4);
    }
}
