//! `[training.schedule]`: how the learning rate changes over the run.

use serde::{Deserialize, Serialize};

use super::{ConfigError, shown};

/// The schedule's shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// `training.lr` throughout (the seed's).
    #[default]
    Constant,
    /// Multiplied by `gamma` every `step_epochs` epochs.
    Step,
    /// Cosine annealing from `training.lr` to `min_lr` over the run.
    Cosine,
    /// Linear warm-up over `warmup_epochs`, then cosine annealing to `min_lr`.
    WarmupCosine,
}

/// `[training.schedule]`; keys that do not apply to the kind are errors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleConfig {
    /// The shape.
    pub kind: ScheduleKind,
    /// `step`: epochs between two decays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_epochs: Option<usize>,
    /// `step`: the factor of each decay (default 0.1, as PyTorch's StepLR).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    /// `cosine`, `warmup_cosine`: the final learning rate (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_lr: Option<f64>,
    /// `warmup_cosine`: epochs of linear warm-up, rising from `lr / n` by
    /// `(lr - lr / n) / n` a step over its n steps; the cosine then starts at `lr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_epochs: Option<usize>,
    /// The epochs the schedule spans; set when a run is resumed past its
    /// planned epochs, so the schedule keeps its shape and continues at its
    /// final rate (absent: `training.epochs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub horizon_epochs: Option<usize>,
}

impl ScheduleConfig {
    /// Checks the keys against the kind and their ranges; `lr` and `epochs`
    /// are the run's.
    pub fn validate(&self, lr: f64, epochs: usize) -> Result<(), ConfigError> {
        let kind = self.kind;
        let name = match kind {
            ScheduleKind::Constant => "constant",
            ScheduleKind::Step => "step",
            ScheduleKind::Cosine => "cosine",
            ScheduleKind::WarmupCosine => "warmup_cosine",
        };
        let not_for = |key: &'static str| {
            ConfigError::new(
                key,
                format!("does not apply to training.schedule.kind = \"{name}\""),
            )
        };
        let step = kind == ScheduleKind::Step;
        let cosine = matches!(kind, ScheduleKind::Cosine | ScheduleKind::WarmupCosine);
        if self.step_epochs.is_some() && !step {
            return Err(not_for("training.schedule.step_epochs"));
        }
        if self.gamma.is_some() && !step {
            return Err(not_for("training.schedule.gamma"));
        }
        if self.min_lr.is_some() && !cosine {
            return Err(not_for("training.schedule.min_lr"));
        }
        if self.warmup_epochs.is_some() && kind != ScheduleKind::WarmupCosine {
            return Err(not_for("training.schedule.warmup_epochs"));
        }
        if kind != ScheduleKind::Constant && lr > 1.0 {
            return Err(ConfigError::new(
                "training.schedule.kind",
                format!("a schedule needs training.lr <= 1 (got {})", shown(lr)),
            ));
        }
        if step {
            match self.step_epochs {
                None | Some(0) => {
                    return Err(ConfigError::new(
                        "training.schedule.step_epochs",
                        "is required for a step schedule and must be at least 1",
                    ));
                }
                Some(_) => {}
            }
            let gamma = self.gamma.unwrap_or(0.1);
            if !(gamma > 0.0 && gamma <= 1.0) {
                return Err(ConfigError::new(
                    "training.schedule.gamma",
                    format!("must be in (0, 1] (got {})", shown(gamma)),
                ));
            }
        }
        if let Some(min_lr) = self.min_lr
            && !(0.0..=lr).contains(&min_lr)
        {
            return Err(ConfigError::new(
                "training.schedule.min_lr",
                format!(
                    "must be in [0, training.lr = {}] (got {})",
                    shown(lr),
                    shown(min_lr)
                ),
            ));
        }
        if kind == ScheduleKind::WarmupCosine {
            let warmup = self.warmup_epochs.unwrap_or(0);
            let horizon = self.horizon_epochs.unwrap_or(epochs);
            if warmup == 0 || warmup >= horizon {
                return Err(ConfigError::new(
                    "training.schedule.warmup_epochs",
                    format!(
                        "must be at least 1 and shorter than the run's {horizon} epochs (got {warmup})"
                    ),
                ));
            }
        }
        Ok(())
    }
}
