//! `[optimizer]`: which optimiser trains the network and its constants,
//! PyTorch's defaults unless set. A constant the chosen optimiser does not
//! use is an error when it differs from its default, not silently ignored.

use serde::{Deserialize, Serialize};

use super::{ConfigError, as_f32, positive_in_f32, shown};

/// The optimiser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// `torch.optim.Adam` (the seed's).
    #[default]
    Adam,
    /// `torch.optim.AdamW`: decoupled weight decay.
    Adamw,
    /// `torch.optim.SGD`, with optional momentum and Nesterov.
    Sgd,
    /// `torch.optim.RMSprop`.
    Rmsprop,
}

impl OptimizerKind {
    /// The names it is written as.
    pub const NAMES: [&'static str; 4] = ["adam", "adamw", "sgd", "rmsprop"];

    /// Its name in configs.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// PyTorch's default weight decay: 0.01 for AdamW, 0 for the others.
    pub fn default_weight_decay(self) -> f64 {
        match self {
            OptimizerKind::Adamw => 0.01,
            _ => 0.0,
        }
    }
}

impl std::str::FromStr for OptimizerKind {
    type Err = crate::error::UserError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [
            OptimizerKind::Adam,
            OptimizerKind::Adamw,
            OptimizerKind::Sgd,
            OptimizerKind::Rmsprop,
        ]
        .into_iter()
        .find(|kind| kind.name() == name)
        .ok_or_else(|| {
            crate::error::UserError::new(format!(
                "unknown optimizer `{name}` (one of {})",
                Self::NAMES.join(", ")
            ))
        })
    }
}

/// `[optimizer]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerConfig {
    /// `adam` (default), `adamw`, `sgd` or `rmsprop`.
    pub kind: OptimizerKind,
    /// First-moment decay (adam, adamw).
    pub beta1: f64,
    /// Second-moment decay (adam, adamw).
    pub beta2: f64,
    /// Added to the denominator (adam, adamw, rmsprop; PyTorch: 1e-8, Burn's own default 1e-5).
    pub epsilon: f64,
    /// L2 penalty added to the gradient (adam, sgd, rmsprop), or AdamW's
    /// decoupled decay; [`OptimizerKind::default_weight_decay`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
    /// Momentum factor (sgd, rmsprop).
    pub momentum: f64,
    /// Dampening of the momentum (sgd).
    pub dampening: f64,
    /// Nesterov momentum (sgd; needs momentum > 0 and dampening 0).
    pub nesterov: bool,
    /// Smoothing constant of the squared-gradient average (rmsprop).
    pub alpha: f64,
    /// Normalise by the gradient's estimated variance (rmsprop).
    pub centered: bool,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Adam,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: None,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            alpha: 0.99,
            centered: false,
        }
    }
}

impl OptimizerConfig {
    /// The weight decay, set or the kind's default.
    pub fn weight_decay(&self) -> f64 {
        self.weight_decay
            .unwrap_or_else(|| self.kind.default_weight_decay())
    }

    /// Checks the ranges, as float32 will see them, and that no constant is
    /// set for an optimiser that does not use it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let kind = self.kind;
        let defaults = OptimizerConfig::default();
        let uses = |key: &str| -> bool {
            match key {
                "beta1" | "beta2" => matches!(kind, OptimizerKind::Adam | OptimizerKind::Adamw),
                "epsilon" => kind != OptimizerKind::Sgd,
                "momentum" => matches!(kind, OptimizerKind::Sgd | OptimizerKind::Rmsprop),
                "dampening" | "nesterov" => kind == OptimizerKind::Sgd,
                "alpha" | "centered" => kind == OptimizerKind::Rmsprop,
                _ => true,
            }
        };
        let set = [
            ("beta1", self.beta1 != defaults.beta1),
            ("beta2", self.beta2 != defaults.beta2),
            ("epsilon", self.epsilon != defaults.epsilon),
            ("momentum", self.momentum != defaults.momentum),
            ("dampening", self.dampening != defaults.dampening),
            ("nesterov", self.nesterov != defaults.nesterov),
            ("alpha", self.alpha != defaults.alpha),
            ("centered", self.centered != defaults.centered),
        ];
        if let Some((key, _)) = set.iter().find(|(key, changed)| *changed && !uses(key)) {
            return Err(ConfigError::new(
                full_key(key),
                format!("does not apply to optimizer.kind = \"{}\"", kind.name()),
            ));
        }
        for (key, value) in [
            ("beta1", self.beta1),
            ("beta2", self.beta2),
            ("alpha", self.alpha),
        ] {
            if !(0.0..1.0).contains(&value) {
                return Err(ConfigError::new(
                    full_key(key),
                    format!("must be in [0, 1) (got {value})"),
                ));
            }
            if as_f32(value) >= 1.0 {
                return Err(ConfigError::new(
                    full_key(key),
                    format!("is {value}, which float32 rounds to 1: use at most 0.9999999"),
                ));
            }
        }
        if !positive_in_f32(self.epsilon) {
            return Err(ConfigError::new(
                "optimizer.epsilon",
                format!(
                    "must be > 0 and finite in float32, i.e. between 1.5e-45 and 3.4e38 (got {})",
                    shown(self.epsilon)
                ),
            ));
        }
        for (key, value) in [("momentum", self.momentum), ("dampening", self.dampening)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::new(
                    full_key(key),
                    format!("must be in [0, 1] (got {value})"),
                ));
            }
        }
        if let Some(decay) = self.weight_decay
            && (!as_f32(decay).is_finite() || decay < 0.0)
        {
            return Err(ConfigError::new(
                "optimizer.weight_decay",
                format!("must be >= 0 and finite in float32 (got {})", shown(decay)),
            ));
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(ConfigError::new(
                "optimizer.nesterov",
                format!(
                    "needs momentum > 0 and dampening 0 (got momentum {}, dampening {})",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }
}

/// `optimizer.KEY` for a static key name.
fn full_key(key: &str) -> &'static str {
    match key {
        "beta1" => "optimizer.beta1",
        "beta2" => "optimizer.beta2",
        "epsilon" => "optimizer.epsilon",
        "momentum" => "optimizer.momentum",
        "dampening" => "optimizer.dampening",
        "nesterov" => "optimizer.nesterov",
        "alpha" => "optimizer.alpha",
        "centered" => "optimizer.centered",
        _ => "optimizer",
    }
}
