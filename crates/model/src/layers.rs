//! A network's activations: one for every hidden layer (`relu`), or one
//! per hidden layer (`relu/tanh/identity`), in the grammar of
//! [`crate::grammar`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::activation::{Activation, Learnable, ParseActivationError};
use crate::grammar;

/// The most hidden layers a per-layer combination names (a single name
/// serves any depth).
pub const MAX_PER_LAYER: usize = 16;

/// The activation after each hidden layer: one name for all, or one per
/// layer. Small and `Copy`, as [`Activation`] is, so a config hands it
/// around as freely.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerActivations {
    names: [Activation; MAX_PER_LAYER],
    len: usize,
}

impl LayerActivations {
    /// `activation` after every hidden layer.
    pub const fn every(activation: Activation) -> Self {
        Self {
            names: [activation; MAX_PER_LAYER],
            len: 1,
        }
    }

    /// One activation per hidden layer, input side first. Learnable
    /// activations go only in a combination of one name throughout (their
    /// parameters are kept per layer as for a single name).
    pub fn per_layer(layers: &[Activation]) -> Result<Self, ParseActivationError> {
        let Some(&first) = layers.first() else {
            return Err(ParseActivationError::new("no activation given"));
        };
        if layers.len() > MAX_PER_LAYER {
            return Err(ParseActivationError::new(format!(
                "{} activations: a combination names at most {MAX_PER_LAYER} hidden layers \
                 (one name serves any depth)",
                layers.len()
            )));
        }
        if let Some(learnable) = layers.iter().find(|a| a.learnable().is_some())
            && layers.iter().any(|a| a != learnable)
        {
            return Err(ParseActivationError::new(format!(
                "`{learnable}` is learnable: a per-layer combination takes it only on every \
                 layer ({learnable}/{learnable}/...) or as the single name"
            )));
        }
        let mut names = [first; MAX_PER_LAYER];
        names[..layers.len()].copy_from_slice(layers);
        Ok(Self {
            names,
            len: layers.len(),
        })
    }

    /// The names as given: one, or one per hidden layer.
    pub fn names(&self) -> &[Activation] {
        &self.names[..self.len]
    }

    /// Whether one name stands for every layer.
    pub fn is_single(&self) -> bool {
        self.len == 1
    }

    /// The activation after hidden layer `index` (0 is the input side).
    pub fn layer(&self, index: usize) -> Activation {
        self.names[index.min(self.len - 1)]
    }

    /// The one activation of every layer, when all layers have the same.
    pub fn uniform(&self) -> Option<Activation> {
        let first = self.names[0];
        self.names().iter().all(|&a| a == first).then_some(first)
    }

    /// Each of `hidden` layers' activation.
    pub fn for_layers(&self, hidden: usize) -> Vec<Activation> {
        (0..hidden).map(|index| self.layer(index)).collect()
    }

    /// Whether it fits a network of `hidden` hidden layers: one name, or
    /// one per layer.
    pub fn fits(&self, hidden: usize) -> bool {
        self.len == 1 || self.len == hidden
    }

    /// Why it does not fit `hidden` hidden layers, in a sentence.
    pub fn misfit(&self, hidden: usize) -> Option<String> {
        (!self.fits(hidden)).then(|| {
            format!(
                "`{self}` names {} activations for {hidden} hidden layer{}: give one name for \
                 every layer or one per hidden layer",
                self.len,
                if hidden == 1 { "" } else { "s" }
            )
        })
    }

    /// The learnable parameter every layer carries, when the activation is
    /// learnable (always the same one: see [`LayerActivations::per_layer`]).
    pub fn learnable(&self) -> Option<Learnable> {
        self.names[0].learnable()
    }

    /// Whether every layer's activation is piecewise linear.
    pub fn is_piecewise_linear(&self) -> bool {
        self.names().iter().all(Activation::is_piecewise_linear)
    }

    /// The first named activation that is smooth (not piecewise linear).
    pub fn first_smooth(&self) -> Option<Activation> {
        self.names()
            .iter()
            .copied()
            .find(|a| !a.is_piecewise_linear())
    }

    /// Whether hidden layer `index` passes its input on unchanged.
    pub fn is_identity(&self, index: usize) -> bool {
        self.layer(index) == Activation::Identity
    }
}

impl From<Activation> for LayerActivations {
    fn from(activation: Activation) -> Self {
        Self::every(activation)
    }
}

impl Default for LayerActivations {
    fn default() -> Self {
        Self::every(Activation::Relu)
    }
}

impl fmt::Display for LayerActivations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, activation) in self.names().iter().enumerate() {
            if index > 0 {
                f.write_str("/")?;
            }
            write!(f, "{activation}")?;
        }
        Ok(())
    }
}

impl FromStr for LayerActivations {
    type Err = ParseActivationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let layers = grammar::layers(text.trim())?
            .into_iter()
            .map(Activation::parse_one)
            .collect::<Result<Vec<_>, _>>()?;
        Self::per_layer(&layers)
    }
}

impl Serialize for LayerActivations {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What a config may write: `"relu/tanh"` or `["relu", "tanh"]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Text(String),
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for LayerActivations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let parsed = match Written::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "expected an activation name (\"relu\"), a per-layer combination \
                 (\"relu/tanh\") or a list of names ([\"relu\", \"tanh\"])",
            )
        })? {
            Written::Text(text) => text.parse(),
            Written::List(names) => names
                .iter()
                .map(|name| Activation::parse_one(name))
                .collect::<Result<Vec<_>, _>>()
                .and_then(|layers| Self::per_layer(&layers)),
        };
        parsed.map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_name_is_every_layer_and_a_combination_one_per_layer() {
        let single: LayerActivations = "relu".parse().unwrap();
        assert!(single.is_single() && single.fits(3) && single.fits(1));
        assert_eq!(single.to_string(), "relu");
        assert_eq!(single.layer(7), Activation::Relu);
        let combo: LayerActivations = "relu/tanh/identity".parse().unwrap();
        assert_eq!(combo.to_string(), "relu/tanh/identity");
        assert_eq!(
            combo.for_layers(3),
            [Activation::Relu, Activation::Tanh, Activation::Identity]
        );
        assert!(combo.fits(3) && !combo.fits(2));
        assert!(combo.uniform().is_none() && !combo.is_piecewise_linear());
        assert_eq!(
            combo.misfit(2).unwrap(),
            "`relu/tanh/identity` names 3 activations for 2 hidden layers: give one name for \
             every layer or one per hidden layer"
        );
        let same: LayerActivations = "leaky_relu(0.2)/leaky_relu(0.2)".parse().unwrap();
        assert_eq!(
            same.uniform(),
            Some(Activation::LeakyRelu {
                negative_slope: 0.2
            })
        );
    }

    #[test]
    fn learnable_activations_go_on_every_layer_or_none() {
        assert!("prelu/prelu".parse::<LayerActivations>().is_ok());
        let error = "prelu/relu".parse::<LayerActivations>().unwrap_err();
        assert!(
            error.to_string().contains("`prelu` is learnable"),
            "{error}"
        );
        let error = "relu/nope".parse::<LayerActivations>().unwrap_err();
        assert!(
            error.to_string().contains("unknown activation `nope`"),
            "{error}"
        );
    }

    #[test]
    fn configs_write_a_combination_as_text_or_a_list() {
        #[derive(Deserialize, Serialize)]
        struct Model {
            activation: LayerActivations,
        }
        let text: Model = toml::from_str("activation = \"relu/tanh\"").unwrap();
        let list: Model = toml::from_str("activation = [\"relu\", \"tanh\"]").unwrap();
        assert_eq!(text.activation, list.activation);
        assert_eq!(
            toml::to_string(&list).unwrap().trim(),
            "activation = \"relu/tanh\""
        );
        let single: Model = toml::from_str("activation = \"relu\"").unwrap();
        assert_eq!(
            toml::to_string(&single).unwrap().trim(),
            "activation = \"relu\""
        );
        assert!(toml::from_str::<Model>("activation = 3").is_err());
    }
}
