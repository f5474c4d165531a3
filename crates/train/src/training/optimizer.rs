//! The optimiser a config names, built from Burn's own (`burn::optim`) with
//! the config's constants: PyTorch's defaults unless set.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, RmsPropConfig, SgdConfig};

use crate::config::{OptimizerConfig, OptimizerKind};

/// The optimiser of `config`; its state saves and restores through the same
/// `ModuleOptimizer` bytes whatever the kind.
pub fn build(config: &OptimizerConfig) -> ModuleOptimizer {
    let decay = config.weight_decay();
    // An L2 penalty on the gradient, as PyTorch's `weight_decay` for these.
    let l2 = (decay > 0.0).then(|| WeightDecayConfig::new(decay as f32));
    match config.kind {
        OptimizerKind::Adam => AdamConfig::new()
            .with_beta_1(config.beta1 as f32)
            .with_beta_2(config.beta2 as f32)
            .with_epsilon(config.epsilon as f32)
            .with_weight_decay(l2)
            .init(),
        OptimizerKind::Adamw => AdamWConfig::new()
            .with_beta_1(config.beta1 as f32)
            .with_beta_2(config.beta2 as f32)
            .with_epsilon(config.epsilon as f32)
            .with_weight_decay(decay as f32)
            .init(),
        OptimizerKind::Sgd => {
            let momentum = (config.momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(config.momentum)
                    .with_dampening(config.dampening)
                    .with_nesterov(config.nesterov)
            });
            SgdConfig::new()
                .with_momentum(momentum)
                .with_weight_decay(l2)
                .init()
        }
        OptimizerKind::Rmsprop => RmsPropConfig::new()
            .with_alpha(config.alpha as f32)
            .with_momentum(config.momentum as f32)
            .with_epsilon(config.epsilon as f32)
            .with_centered(config.centered)
            .with_weight_decay(l2)
            .init(),
    }
}
