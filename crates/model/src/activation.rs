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
    /// Neither applies (identity, gelu, silu, elu, softplus, selu).
    Neither,
}

impl Activation {
    /// Every supported activation with default parameters; the seed's four
    /// and the identity come first.
    pub const ALL: [Activation; 10] = [
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
        }
    }

    /// Applies the activation element-wise.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match *self {
            Activation::Identity => x,
            Activation::Relu => act::relu(x),
            Activation::LeakyRelu { negative_slope } => act::leaky_relu(x, negative_slope),
            Activation::Sigmoid => act::sigmoid(x),
            Activation::Tanh => act::tanh(x),
            Activation::Gelu => act::gelu(x),
            Activation::Silu => act::silu(x),
            Activation::Elu { alpha } => act::elu(x, alpha),
            Activation::Softplus => act::softplus(x, 1.0),
            Activation::Selu => act::selu(x),
        }
    }

    /// How this activation's units fail, for the dead/saturated diagnostics.
    pub fn unit_behaviour(&self) -> UnitBehaviour {
        match self {
            Activation::Relu | Activation::LeakyRelu { .. } => UnitBehaviour::CanDie,
            Activation::Sigmoid => UnitBehaviour::Saturates {
                lower: 0.0,
                upper: 1.0,
            },
            Activation::Tanh => UnitBehaviour::Saturates {
                lower: -1.0,
                upper: 1.0,
            },
            _ => UnitBehaviour::Neither,
        }
    }

    /// Whether the function is made of straight pieces (identity, relu,
    /// leaky_relu), so a network of it is one affine map on each of finitely
    /// many regions; the others are smooth curves.
    pub fn is_piecewise_linear(&self) -> bool {
        matches!(
            self,
            Activation::Identity | Activation::Relu | Activation::LeakyRelu { .. }
        )
    }

    fn parameter(&self) -> Option<(f64, f64)> {
        match *self {
            Activation::LeakyRelu { negative_slope } => {
                Some((negative_slope, DEFAULT_NEGATIVE_SLOPE))
            }
            Activation::Elu { alpha } => Some((alpha, DEFAULT_ELU_ALPHA)),
            _ => None,
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.parameter() {
            Some((value, default)) if value != default => write!(f, "{}({value})", self.name()),
            _ => f.write_str(self.name()),
        }
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
                "`{text}` gives one activation per hidden layer; this version trains one \
                 activation for every layer: give a single name"
            )));
        }
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
        let argument = match parameters.as_slice() {
            [] => return Ok(base),
            [one] => *one,
            _ if base.parameter().is_none() => {
                return Err(ParseActivationError::new(format!(
                    "activation `{}` takes no parameter",
                    base.name()
                )));
            }
            many => {
                return Err(ParseActivationError::new(format!(
                    "activation `{text}`: `{}` takes 1 parameter, got {}",
                    base.name(),
                    many.len()
                )));
            }
        };
        let value: f64 = argument.parse().map_err(|_| {
            ParseActivationError::new(format!("activation `{text}`: `{argument}` is not a number"))
        })?;
        // The network computes in float32 (and casts the parameter to it).
        if !(value as f32).is_finite() {
            return Err(ParseActivationError::new(format!(
                "activation `{text}`: the parameter must be finite in float32 (|value| < 3.4e38)"
            )));
        }
        match base {
            Activation::LeakyRelu { .. } => Ok(Activation::LeakyRelu {
                negative_slope: value,
            }),
            Activation::Elu { .. } => Ok(Activation::Elu { alpha: value }),
            other => Err(ParseActivationError::new(format!(
                "activation `{}` takes no parameter",
                other.name()
            ))),
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
