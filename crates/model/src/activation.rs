//! The activation functions the lab can put between layers.

use std::fmt;
use std::str::FromStr;

use burn::tensor::{Tensor, activation as act};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::grammar;

/// PyTorch's and Burn's default slope for `LeakyReLU`.
pub const DEFAULT_NEGATIVE_SLOPE: f64 = 0.01;
/// PyTorch's default `alpha` for `ELU`.
pub const DEFAULT_ELU_ALPHA: f64 = 1.0;
/// PyTorch's default `alpha` for `CELU`.
pub const DEFAULT_CELU_ALPHA: f64 = 1.0;
/// PyTorch's default range of `Hardtanh`.
pub const DEFAULT_HARDTANH: (f64, f64) = (-1.0, 1.0);
/// SELU's constants (the paper's, as Burn and PyTorch have them).
const SELU_ALPHA: f64 = 1.673_263_242_354_377_2;
const SELU_GAMMA: f64 = 1.050_700_987_355_480_5;
/// SIREN's frequency `w0` of `sin(w0 x)` by default: the plain sine.
pub const DEFAULT_SIN_W0: f64 = 1.0;
/// `nn.PReLU`'s initial slope.
pub const PRELU_INITIAL_SLOPE: f64 = 0.25;
/// Swish's initial `beta` (where it equals silu).
pub const SWISH_INITIAL_BETA: f64 = 1.0;

/// A non-linearity applied after every hidden layer.
///
/// Written in configs and on the command line by its snake_case name
/// (`relu`, `leaky_relu`, ...). A non-default parameter goes in brackets:
/// `leaky_relu(0.2)`, `elu(0.5)`; the whole grammar is in [`crate::grammar`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// No activation at all: the network is a stack of linear maps.
    Identity,
    /// `max(0, x)`.
    Relu,
    /// `x` for `x > 0`, `negative_slope * x` otherwise.
    LeakyRelu {
        /// Slope for negative inputs (PyTorch's default is 0.01).
        negative_slope: f64,
    },
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// Gaussian error linear unit (exact, erf-based, as PyTorch's default).
    Gelu,
    /// `x * sigmoid(x)`, also called swish.
    Silu,
    /// `x` for `x > 0`, `alpha * (e^x - 1)` otherwise.
    Elu {
        /// Scale of the negative part (PyTorch's default is 1.0).
        alpha: f64,
    },
    /// `ln(1 + e^x)`, a smooth relu.
    Softplus,
    /// Scaled ELU with the self-normalising constants.
    Selu,
    /// `x * tanh(softplus(x))` (YOLOv4).
    Mish,
    /// `x * relu6(x + 3) / 6` (MobileNetV3).
    Hardswish,
    /// `relu6(x + 3) / 6`: a piecewise-linear sigmoid.
    Hardsigmoid,
    /// `x` clamped to `[min, max]`.
    Hardtanh {
        /// Lower end (PyTorch's default is -1).
        min: f64,
        /// Upper end (PyTorch's default is 1).
        max: f64,
    },
    /// `min(max(0, x), 6)` (MobileNetV2).
    Relu6,
    /// `x` for `x > 0`, `alpha * (e^(x / alpha) - 1)` otherwise.
    Celu {
        /// Scale of the negative part (PyTorch's default is 1.0).
        alpha: f64,
    },
    /// GELU's tanh approximation, PyTorch's `nn.GELU(approximate="tanh")` (BERT, GPT-2).
    GeluTanh,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `sin(w0 * x)`, SIREN's periodic activation.
    Sin {
        /// The frequency (1 by default; SIREN's first layer uses 30).
        w0: f64,
    },
    /// PyTorch's `nn.PReLU`: `x` for `x > 0`, `a * x` otherwise, with the
    /// slope `a` trained, one per layer or (`prelu(per_unit)`) one per unit.
    Prelu {
        /// The slope: the initial 0.25 in a config, a unit's learned one
        /// once [`Activation::with_learned`] has put it in.
        slope: f64,
        /// One slope per unit instead of one per layer.
        per_unit: bool,
    },
    /// Swish with a trained `beta`, one per layer: `x * sigmoid(beta * x)`
    /// (Ramachandran et al. 2017); it starts at 1, where it is silu.
    SwishBeta {
        /// The initial 1 in a config, the learned value once put in.
        beta: f64,
    },
}

/// The trained parameter of a learnable activation, as PyTorch names it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Learnable {
    /// The parameter's name in the activation module: `weight` (PReLU),
    /// `beta` (swish).
    pub name: &'static str,
    /// Its value before training.
    pub initial: f64,
    /// One value per unit (else one per layer).
    pub per_unit: bool,
}

impl Learnable {
    /// How many values a layer of `units` units holds.
    pub fn len(&self, units: usize) -> usize {
        if self.per_unit { units } else { 1 }
    }
}

/// A piecewise-linear activation as its straight pieces: `breaks`
/// ascending, and on the piece before `breaks[0]`, between each pair and
/// after the last, `f(x) = slopes[i] * x + intercepts[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearPieces {
    pub breaks: Vec<f64>,
    pub slopes: Vec<f64>,
    pub intercepts: Vec<f64>,
}

impl LinearPieces {
    /// The piece `x` lies on; a break point belongs to the piece above it.
    pub fn piece(&self, x: f64) -> usize {
        self.breaks.iter().filter(|&&b| x >= b).count()
    }
}

/// How an activation's units can stop learning, which decides what the
/// diagnostics look for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnitBehaviour {
    /// Relu-like: a unit whose pre-activation is never positive passes no
    /// (or almost no) gradient: it is *dead*.
    CanDie,
    /// Bounded: a unit pinned near `lower` or `upper` has a near-zero slope:
    /// it is *saturated*.
    Saturates {
        /// The output's lower bound.
        lower: f64,
        /// The output's upper bound.
        upper: f64,
    },
    /// Neither applies (identity, gelu, silu, elu, softplus, selu, mish,
    /// hardswish, celu, sin).
    Neither,
}

impl Activation {
    /// Every supported activation with default parameters; the seed's four
    /// and the identity come first.
    pub const ALL: [Activation; 21] = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu {
            negative_slope: DEFAULT_NEGATIVE_SLOPE,
        },
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Gelu,
        Activation::Silu,
        Activation::Elu {
            alpha: DEFAULT_ELU_ALPHA,
        },
        Activation::Softplus,
        Activation::Selu,
        Activation::Mish,
        Activation::Hardswish,
        Activation::Hardsigmoid,
        Activation::Hardtanh {
            min: DEFAULT_HARDTANH.0,
            max: DEFAULT_HARDTANH.1,
        },
        Activation::Relu6,
        Activation::Celu {
            alpha: DEFAULT_CELU_ALPHA,
        },
        Activation::GeluTanh,
        Activation::Softsign,
        Activation::Sin { w0: DEFAULT_SIN_W0 },
        Activation::Prelu {
            slope: PRELU_INITIAL_SLOPE,
            per_unit: false,
        },
        Activation::SwishBeta {
            beta: SWISH_INITIAL_BETA,
        },
    ];

    /// The snake_case name, without parameters.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
            Activation::Silu => "silu",
            Activation::Elu { .. } => "elu",
            Activation::Softplus => "softplus",
            Activation::Selu => "selu",
            Activation::Mish => "mish",
            Activation::Hardswish => "hardswish",
            Activation::Hardsigmoid => "hardsigmoid",
            Activation::Hardtanh { .. } => "hardtanh",
            Activation::Relu6 => "relu6",
            Activation::Celu { .. } => "celu",
            Activation::GeluTanh => "gelu_tanh",
            Activation::Softsign => "softsign",
            Activation::Sin { .. } => "sin",
            Activation::Prelu { .. } => "prelu",
            Activation::SwishBeta { .. } => "swish_beta",
        }
    }

    /// The trained parameter, for the learnable activations (prelu,
    /// swish_beta).
    pub fn learnable(&self) -> Option<Learnable> {
        match *self {
            Activation::Prelu { per_unit, .. } => Some(Learnable {
                name: "weight",
                initial: PRELU_INITIAL_SLOPE,
                per_unit,
            }),
            Activation::SwishBeta { .. } => Some(Learnable {
                name: "beta",
                initial: SWISH_INITIAL_BETA,
                per_unit: false,
            }),
            _ => None,
        }
    }

    /// One unit's activation with its learned parameter `value` in place,
    /// for computing on the host what the trained network computes; a
    /// fixed activation is itself.
    pub fn with_learned(&self, value: f64) -> Activation {
        match *self {
            Activation::Prelu { per_unit, .. } => Activation::Prelu {
                slope: value,
                per_unit,
            },
            Activation::SwishBeta { .. } => Activation::SwishBeta { beta: value },
            other => other,
        }
    }

    /// Applies a learnable activation with its parameters `values` (one,
    /// or one per column of `x`), as the network does while it trains them.
    pub fn forward_learned(&self, x: Tensor<2>, values: Tensor<1>) -> Tensor<2> {
        let values = values.unsqueeze_dim::<2>(0);
        match *self {
            Activation::Prelu { .. } => {
                // As PyTorch's prelu: `a * x` where x <= 0, so the slope at 0 is `a`.
                let negative = x.clone().lower_equal_scalar(0.0);
                x.clone().mask_where(negative, x.mul(values))
            }
            Activation::SwishBeta { .. } => x.clone().mul(act::sigmoid(x.mul(values))),
            other => other.forward(x),
        }
    }

    /// Applies the activation element-wise.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match *self {
            Activation::Identity => x,
            Activation::Relu => act::relu(x),
            // PyTorch's slope at 0 is the negative side's (Burn's own leaky_relu takes 1 there).
            Activation::LeakyRelu { negative_slope } => {
                let negative = x.clone().lower_equal_scalar(0.0);
                x.clone().mask_where(negative, x.mul_scalar(negative_slope))
            }
            Activation::Sigmoid => act::sigmoid(x),
            Activation::Tanh => act::tanh(x),
            Activation::Gelu => act::gelu(x),
            Activation::Silu => act::silu(x),
            Activation::Elu { alpha } => exponential_unit(x, alpha, 1.0),
            Activation::Softplus => act::softplus(x, 1.0),
            Activation::Selu => {
                // Burn's selu, its values bit for bit, with PyTorch's slope at 0
                // (the exponential side's) and no overflow on the masked side.
                let positive = x.clone().greater_scalar(0.0);
                let linear = x.clone().mul_scalar(SELU_GAMMA);
                let curve = x
                    .clamp_max(0.0)
                    .exp()
                    .sub_scalar(1.0)
                    .mul_scalar(SELU_ALPHA * SELU_GAMMA);
                curve.mask_where(positive, linear)
            }
            Activation::Mish => act::mish(x),
            Activation::Hardswish => {
                // PyTorch's slopes at the ends: 0 at x = -3, 1 at x = 3.
                let middle = x.clone().mul(x.clone().add_scalar(3.0)).div_scalar(6.0);
                let low = x.clone().lower_equal_scalar(-3.0);
                let high = x.clone().greater_equal_scalar(3.0);
                middle.mask_fill(low, 0.0).mask_where(high, x)
            }
            Activation::Hardsigmoid => clamped(
                x.clone().div_scalar(6.0).add_scalar(0.5),
                x,
                (-3.0, 3.0),
                (0.0, 1.0),
            ),
            Activation::Hardtanh { min, max } => clamped(x.clone(), x, (min, max), (min, max)),
            Activation::Relu6 => clamped(x.clone(), x, (0.0, 6.0), (0.0, 6.0)),
            Activation::Celu { alpha } => exponential_unit(x, alpha, 1.0 / alpha),
            Activation::GeluTanh => act::gelu_approximate(x),
            Activation::Softsign => act::softsign(x),
            Activation::Sin { w0 } => x.mul_scalar(w0).sin(),
            Activation::Prelu { slope, .. } => {
                let negative = x.clone().lower_equal_scalar(0.0);
                x.clone().mask_where(negative, x.mul_scalar(slope))
            }
            Activation::SwishBeta { beta } => x.clone().mul(act::sigmoid(x.mul_scalar(beta))),
        }
    }

    /// How this activation's units fail, for the dead/saturated diagnostics.
    /// The rule: an activation whose slope is 0 on a whole side that
    /// reaches to infinity (relu, relu6 and hardswish below 0 or -3) can
    /// *die*; one that is bounded on both sides *saturates* at its bounds
    /// (sigmoid, tanh, hardsigmoid, hardtanh, softsign). relu6 is counted as
    /// dying (its flat top is rarely reached); the smooth unbounded ones,
    /// mish, celu, sin, neither; nor prelu, whose negative slope is trained
    /// (it starts at 0.25).
    pub fn unit_behaviour(&self) -> UnitBehaviour {
        match *self {
            Activation::Relu
            | Activation::LeakyRelu { .. }
            | Activation::Relu6
            | Activation::Hardswish => UnitBehaviour::CanDie,
            Activation::Sigmoid | Activation::Hardsigmoid => UnitBehaviour::Saturates {
                lower: 0.0,
                upper: 1.0,
            },
            Activation::Tanh | Activation::Softsign => UnitBehaviour::Saturates {
                lower: -1.0,
                upper: 1.0,
            },
            Activation::Hardtanh { min, max } => UnitBehaviour::Saturates {
                lower: min,
                upper: max,
            },
            _ => UnitBehaviour::Neither,
        }
    }

    /// Whether the function is made of straight pieces (identity, relu,
    /// leaky_relu, relu6, hardtanh, hardsigmoid), so a network of it is one
    /// affine map on each of finitely many regions; the others are curves.
    pub fn is_piecewise_linear(&self) -> bool {
        self.linear_pieces().is_some()
    }

    /// The straight pieces of a piecewise-linear activation; `None` for a
    /// curved one.
    pub fn linear_pieces(&self) -> Option<LinearPieces> {
        let pieces = |breaks: &[f64], slopes: &[f64], intercepts: &[f64]| {
            Some(LinearPieces {
                breaks: breaks.to_vec(),
                slopes: slopes.to_vec(),
                intercepts: intercepts.to_vec(),
            })
        };
        match *self {
            Activation::Identity => pieces(&[], &[1.0], &[0.0]),
            Activation::Relu => pieces(&[0.0], &[0.0, 1.0], &[0.0, 0.0]),
            Activation::LeakyRelu {
                negative_slope: slope,
            }
            | Activation::Prelu { slope, .. } => pieces(&[0.0], &[slope, 1.0], &[0.0, 0.0]),
            Activation::Relu6 => pieces(&[0.0, 6.0], &[0.0, 1.0, 0.0], &[0.0, 0.0, 6.0]),
            Activation::Hardtanh { min, max } => {
                pieces(&[min, max], &[0.0, 1.0, 0.0], &[min, 0.0, max])
            }
            Activation::Hardsigmoid => {
                pieces(&[-3.0, 3.0], &[0.0, 1.0 / 6.0, 0.0], &[0.0, 0.5, 1.0])
            }
            _ => None,
        }
    }

    /// The parameters as `(value, default)`, in the order they are written.
    fn parameters(&self) -> Vec<(f64, f64)> {
        match *self {
            Activation::LeakyRelu { negative_slope } => {
                vec![(negative_slope, DEFAULT_NEGATIVE_SLOPE)]
            }
            Activation::Elu { alpha } => vec![(alpha, DEFAULT_ELU_ALPHA)],
            Activation::Celu { alpha } => vec![(alpha, DEFAULT_CELU_ALPHA)],
            Activation::Hardtanh { min, max } => {
                vec![(min, DEFAULT_HARDTANH.0), (max, DEFAULT_HARDTANH.1)]
            }
            Activation::Sin { w0 } => vec![(w0, DEFAULT_SIN_W0)],
            _ => Vec::new(),
        }
    }

    /// This activation with `values` as its parameters (as many as it takes).
    fn with_parameters(&self, values: &[f64]) -> Activation {
        match (*self, values) {
            (Activation::LeakyRelu { .. }, &[negative_slope]) => {
                Activation::LeakyRelu { negative_slope }
            }
            (Activation::Elu { .. }, &[alpha]) => Activation::Elu { alpha },
            (Activation::Celu { .. }, &[alpha]) => Activation::Celu { alpha },
            (Activation::Hardtanh { .. }, &[min, max]) => Activation::Hardtanh { min, max },
            (Activation::Sin { .. }, &[w0]) => Activation::Sin { w0 },
            (other, _) => other,
        }
    }
}

/// `value` held to `[low, high]` outside the input range `(from, to)`, with
/// the constant end taken at the end points themselves, so the slope there
/// is 0, as PyTorch's `hardtanh`, `relu6` and `hardsigmoid` give it.
fn clamped<const D: usize>(
    value: Tensor<D>,
    input: Tensor<D>,
    (from, to): (f64, f64),
    (low, high): (f64, f64),
) -> Tensor<D> {
    let below = input.clone().lower_equal_scalar(from);
    let above = input.greater_equal_scalar(to);
    value.mask_fill(below, low).mask_fill(above, high)
}

/// `x` for `x > 0`, `alpha * (e^(scale x) - 1)` otherwise (elu: scale 1,
/// celu: 1 / alpha). The exponential sees only the negative side, so a
/// large input gives no infinity whose masked slope would be NaN.
fn exponential_unit<const D: usize>(x: Tensor<D>, alpha: f64, scale: f64) -> Tensor<D> {
    let negative = x.clone().lower_equal_scalar(0.0);
    let curve = x
        .clone()
        .clamp_max(0.0)
        .mul_scalar(scale)
        .exp()
        .sub_scalar(1.0)
        .mul_scalar(alpha);
    x.mask_where(negative, curve)
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Activation::Prelu { per_unit: true, .. } = self {
            return f.write_str("prelu(per_unit)");
        }
        let parameters = self.parameters();
        if parameters.iter().all(|(value, default)| value == default) {
            return f.write_str(self.name());
        }
        let values: Vec<String> = parameters.iter().map(|(v, _)| v.to_string()).collect();
        write!(f, "{}({})", self.name(), values.join(","))
    }
}

/// A name that is not a supported activation, or a bad parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseActivationError {
    message: String,
}

impl ParseActivationError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl FromStr for Activation {
    type Err = ParseActivationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if grammar::layers(text)?.len() > 1 {
            return Err(ParseActivationError::new(format!(
                "`{text}` gives one activation per hidden layer; here give a single name"
            )));
        }
        Self::parse_one(text)
    }
}

impl Activation {
    /// One activation: a name and its parameters, no `/`.
    pub(crate) fn parse_one(text: &str) -> Result<Self, ParseActivationError> {
        let text = text.trim();
        let (name, parameters) = grammar::name_and_parameters(text)?;
        let base = Activation::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                ParseActivationError::new(format!(
                    "unknown activation `{name}`; expected one of: {}",
                    Activation::ALL.map(|a| a.name()).join(", ")
                ))
            })?;
        if parameters.is_empty() {
            return Ok(base);
        }
        if let Activation::Prelu { slope, .. } = base {
            return match parameters.as_slice() {
                ["per_unit"] => Ok(Activation::Prelu {
                    slope,
                    per_unit: true,
                }),
                _ => Err(ParseActivationError::new(format!(
                    "activation `{text}`: `prelu` takes `per_unit` (a slope per unit) or nothing \
                     (one slope per layer)"
                ))),
            };
        }
        let wanted = base.parameters().len();
        if wanted == 0 {
            return Err(ParseActivationError::new(format!(
                "activation `{}` takes no parameter",
                base.name()
            )));
        }
        if parameters.len() != wanted {
            let names = match base {
                Activation::Hardtanh { .. } => " (min, max)",
                _ => "",
            };
            return Err(ParseActivationError::new(format!(
                "activation `{text}`: `{}` takes {wanted} parameter{}{names}, got {}",
                base.name(),
                if wanted == 1 { "" } else { "s" },
                parameters.len()
            )));
        }
        let mut values = Vec::with_capacity(wanted);
        for argument in &parameters {
            let value: f64 = argument.parse().map_err(|_| {
                ParseActivationError::new(format!(
                    "activation `{text}`: `{argument}` is not a number"
                ))
            })?;
            // The network computes in float32 (and casts the parameter to it).
            if !(value as f32).is_finite() {
                return Err(ParseActivationError::new(format!(
                    "activation `{text}`: the parameter must be finite in float32 (|value| < 3.4e38)"
                )));
            }
            values.push(value);
        }
        let activation = base.with_parameters(&values);
        match activation {
            Activation::Hardtanh { min, max } if (min as f32) >= (max as f32) => {
                Err(ParseActivationError::new(format!(
                    "activation `{text}`: min must be below max (as PyTorch's Hardtanh)"
                )))
            }
            Activation::Celu { alpha } if alpha as f32 == 0.0 => Err(ParseActivationError::new(
                format!("activation `{text}`: alpha must not be 0 (it divides the input)"),
            )),
            activation => Ok(activation),
        }
    }
}

impl Serialize for Activation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Activation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    /// The activations rewritten for PyTorch's slope at 0 compute the same
    /// values as Burn's own, bit for bit: old runs replay unchanged.
    #[test]
    fn rewritten_activations_keep_burns_values_bit_for_bit() {
        let device = Device::flex();
        let x: Vec<f32> = (-400..=400).map(|k| k as f32 * 0.0371).collect();
        let input = || Tensor::<1>::from_data(TensorData::new(x.clone(), [x.len()]), &device);
        let bits = |t: Tensor<1>| -> Vec<u32> {
            crate::host_values::<f32, 1>(t)
                .iter()
                .map(|v| v.to_bits())
                .collect()
        };
        let pairs = [
            (Activation::Selu, act::selu(input())),
            (Activation::Elu { alpha: 1.0 }, act::elu(input(), 1.0)),
            (Activation::Elu { alpha: 0.3 }, act::elu(input(), 0.3)),
            (
                Activation::LeakyRelu {
                    negative_slope: 0.01,
                },
                act::leaky_relu(input(), 0.01),
            ),
        ];
        for (activation, burns) in pairs {
            assert_eq!(
                bits(activation.forward(input())),
                bits(burns),
                "{activation}"
            );
        }
        let exact = |text: &str| text.parse::<f64>().unwrap();
        assert_eq!(SELU_ALPHA, exact("1.6732632423543772848170429916717"));
        assert_eq!(SELU_GAMMA, exact("1.0507009873554804934193349852946"));
    }

    #[test]
    fn every_name_round_trips_through_display_and_parse() {
        for activation in Activation::ALL {
            let text = activation.to_string();
            assert_eq!(text.parse::<Activation>().unwrap(), activation, "{text}");
        }
    }

    #[test]
    fn parameters_parse_and_print() {
        let leaky: Activation = "leaky_relu(0.2)".parse().unwrap();
        assert_eq!(
            leaky,
            Activation::LeakyRelu {
                negative_slope: 0.2
            }
        );
        assert_eq!(leaky.to_string(), "leaky_relu(0.2)");
        assert_eq!(
            "leaky_relu".parse::<Activation>().unwrap(),
            Activation::LeakyRelu {
                negative_slope: 0.01
            }
        );
    }

    #[test]
    fn todays_activations_parse_with_their_parameters() {
        let hardtanh: Activation = "hardtanh(-2, 0.5)".parse().unwrap();
        assert_eq!(
            hardtanh,
            Activation::Hardtanh {
                min: -2.0,
                max: 0.5
            }
        );
        assert_eq!(hardtanh.to_string(), "hardtanh(-2,0.5)");
        assert_eq!(
            "hardtanh".parse::<Activation>().unwrap().to_string(),
            "hardtanh"
        );
        assert_eq!(
            "sin(30)".parse::<Activation>().unwrap(),
            Activation::Sin { w0: 30.0 }
        );
        assert_eq!(
            "celu(0.5)".parse::<Activation>().unwrap().to_string(),
            "celu(0.5)"
        );
        let err = "hardtanh(1)".parse::<Activation>().unwrap_err().to_string();
        assert!(
            err.contains("takes 2 parameters (min, max), got 1"),
            "{err}"
        );
        let err = "hardtanh(1,-1)"
            .parse::<Activation>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("min must be below max"), "{err}");
        let err = "celu(0)".parse::<Activation>().unwrap_err().to_string();
        assert!(err.contains("alpha must not be 0"), "{err}");
        let err = "mish(2)".parse::<Activation>().unwrap_err().to_string();
        assert!(err.contains("takes no parameter"), "{err}");
        // The piecewise-linear ones know their pieces; the curved ones have none.
        let relu6 = Activation::Relu6.linear_pieces().unwrap();
        assert_eq!(
            (relu6.piece(-1.0), relu6.piece(3.0), relu6.piece(7.0)),
            (0, 1, 2)
        );
        assert!(Activation::Hardswish.linear_pieces().is_none());
        assert!(Activation::Mish.linear_pieces().is_none());
    }

    #[test]
    fn learnable_activations_parse_and_say_what_they_train() {
        let per_unit: Activation = "prelu(per_unit)".parse().unwrap();
        assert_eq!(per_unit.to_string(), "prelu(per_unit)");
        let learnable = per_unit.learnable().unwrap();
        assert_eq!((learnable.name, learnable.initial), ("weight", 0.25));
        assert_eq!(
            (
                learnable.len(8),
                "prelu"
                    .parse::<Activation>()
                    .unwrap()
                    .learnable()
                    .unwrap()
                    .len(8)
            ),
            (8, 1)
        );
        let swish = "swish_beta".parse::<Activation>().unwrap();
        assert_eq!(swish.learnable().unwrap().name, "beta");
        assert!(Activation::Relu.learnable().is_none());
        // A unit's learned slope makes its pieces; beta its curve.
        let unit = per_unit.with_learned(-0.5).linear_pieces().unwrap();
        assert_eq!(unit.slopes, vec![-0.5, 1.0]);
        assert!(swish.with_learned(2.0).linear_pieces().is_none());
        let err = "prelu(2)".parse::<Activation>().unwrap_err().to_string();
        assert!(
            err.contains("takes `per_unit` (a slope per unit) or nothing"),
            "{err}"
        );
    }

    #[test]
    fn bad_names_and_parameters_are_rejected_with_a_reason() {
        let err = "relux".parse::<Activation>().unwrap_err().to_string();
        assert!(err.contains("unknown activation `relux`"), "{err}");
        assert!(err.contains("leaky_relu"), "{err}");
        let err = "relu(2)".parse::<Activation>().unwrap_err().to_string();
        assert!(err.contains("takes no parameter"), "{err}");
        let err = "elu(x)".parse::<Activation>().unwrap_err().to_string();
        assert!(err.contains("not a number"), "{err}");
    }
}
