//! Initial weights, drawn on the CPU from the run's seed, so that every
//! backend starts from the same numbers: PyTorch's `nn.Linear` default, or
//! Xavier, He or LeCun as `torch.nn.init` computes them.

use model::{Activation, LayerWeights};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::config::{InitKind, RunConfig};
use crate::training::rng::{Stream, stream};

/// `torch.nn.init.calculate_gain` for an activation (1 where it lists none:
/// gelu, silu, elu, softplus).
pub fn gain(activation: Activation) -> f64 {
    match activation {
        Activation::Tanh => 5.0 / 3.0,
        Activation::Relu => 2f64.sqrt(),
        Activation::LeakyRelu { negative_slope } => (2.0 / (1.0 + negative_slope.powi(2))).sqrt(),
        Activation::Selu => 0.75,
        _ => 1.0,
    }
}

/// The initial weights a config asks for (`model.init`, with the gain of
/// `model.activation`).
pub fn initial_weights_for(config: &RunConfig) -> Vec<LayerWeights> {
    let sizes = config.layer_sizes();
    match config.model.init {
        InitKind::Pytorch => initial_weights(&sizes, config.seed),
        init => {
            // Each layer scaled for the activation after it (the output
            // layer as the last hidden one): one gain for a single name.
            let activation = config.model.activation;
            let gains: Vec<f64> = (0..sizes.len() - 1)
                .map(|index| gain(activation.layer(index)))
                .collect();
            scaled_weights(&sizes, config.seed, init, &gains)
        }
    }
}

/// Weights of `init` (not `Pytorch`) with zero biases: each layer's weights
/// are the same seeded draws (uniform in [-1, 1) or standard normal) scaled
/// by the scheme's bound or deviation, so runs that differ only in the
/// activation differ only in that scale.
fn scaled_weights(sizes: &[usize], seed: u64, init: InitKind, gains: &[f64]) -> Vec<LayerWeights> {
    let mut rng = stream(seed, Stream::Weights);
    sizes
        .windows(2)
        .zip(gains)
        .map(|(pair, &gain)| {
            let (fan_in, fan_out) = (pair[0] as f64, pair[1] as f64);
            let count = pair[0] * pair[1];
            let weight = match init {
                InitKind::XavierUniform | InitKind::HeUniform => {
                    let bound = match init {
                        InitKind::XavierUniform => gain * (6.0 / (fan_in + fan_out)).sqrt(),
                        _ => gain * (3.0 / fan_in).sqrt(),
                    };
                    (0..count)
                        .map(|_| (rng.random_range(-1.0..1.0) * bound) as f32)
                        .collect()
                }
                _ => {
                    let std = match init {
                        InitKind::XavierNormal => gain * (2.0 / (fan_in + fan_out)).sqrt(),
                        InitKind::HeNormal => gain / fan_in.sqrt(),
                        _ => 1.0 / fan_in.sqrt(),
                    };
                    (0..count)
                        .map(|_| {
                            let draw: f64 = StandardNormal.sample(&mut rng);
                            (draw * std) as f32
                        })
                        .collect()
                }
            };
            LayerWeights {
                d_input: pair[0],
                d_output: pair[1],
                weight,
                bias: vec![0.0; pair[1]],
                learned: Vec::new(),
            }
        })
        .collect()
}

/// Weights and biases `~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))` for layers of the
/// given boundary sizes (`[10, 18, 18, 4, 1]`), in PyTorch's `[out, in]` layout.
pub fn initial_weights(sizes: &[usize], seed: u64) -> Vec<LayerWeights> {
    let mut rng = stream(seed, Stream::Weights);
    sizes
        .windows(2)
        .map(|pair| {
            let (d_input, d_output) = (pair[0], pair[1]);
            let bound = 1.0 / (d_input as f64).sqrt();
            let mut uniform = || rng.random_range(-bound..bound) as f32;
            let weight = (0..d_input * d_output).map(|_| uniform()).collect();
            let bias = (0..d_output).map(|_| uniform()).collect();
            LayerWeights {
                d_input,
                d_output,
                weight,
                bias,
                learned: Vec::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_bounds_follow_pytorch() {
        let weights = initial_weights(&[10, 18, 4, 1], 0);
        assert_eq!(weights.len(), 3);
        for layer in &weights {
            let bound = 1.0 / (layer.d_input as f32).sqrt();
            assert_eq!(layer.weight.len(), layer.d_input * layer.d_output);
            assert!(
                layer
                    .weight
                    .iter()
                    .chain(&layer.bias)
                    .all(|v| v.abs() <= bound)
            );
        }
        assert_eq!(weights, initial_weights(&[10, 18, 4, 1], 0));
        assert_ne!(weights, initial_weights(&[10, 18, 4, 1], 1));
    }

    fn std_of(values: &[f32]) -> f64 {
        let n = values.len() as f64;
        let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        (values
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt()
    }

    #[test]
    fn every_scheme_has_the_deviation_of_its_formula() {
        let (fan_in, fan_out) = (800.0f64, 400.0f64);
        for activation in [Activation::Tanh, Activation::Relu, Activation::Sigmoid] {
            let g = gain(activation);
            let cases = [
                (
                    InitKind::XavierUniform,
                    g * (6.0 / (fan_in + fan_out)).sqrt() / 3f64.sqrt(),
                ),
                (
                    InitKind::XavierNormal,
                    g * (2.0 / (fan_in + fan_out)).sqrt(),
                ),
                (InitKind::HeUniform, g * (3.0 / fan_in).sqrt() / 3f64.sqrt()),
                (InitKind::HeNormal, g / fan_in.sqrt()),
                (InitKind::LecunNormal, 1.0 / fan_in.sqrt()),
            ];
            for (init, expected) in cases {
                let mut config = RunConfig::default();
                config.model.input = 800;
                config.model.hidden = vec![400];
                config.model.activation = activation.into();
                config.model.init = init;
                let weights = initial_weights_for(&config);
                let std = std_of(&weights[0].weight);
                assert!(
                    (std / expected - 1.0).abs() < 0.02,
                    "{init:?} {activation}: std {std} vs {expected}"
                );
                assert!(weights[0].bias.iter().all(|&b| b == 0.0));
            }
        }
        assert_eq!(gain(Activation::Tanh), 5.0 / 3.0);
        assert!((gain("leaky_relu(0.2)".parse().unwrap()) - (2.0 / 1.04f64).sqrt()).abs() < 1e-12);
        // The default is PyTorch's, unchanged.
        let config = RunConfig::default();
        assert_eq!(
            initial_weights_for(&config),
            initial_weights(&config.layer_sizes(), 0)
        );
    }
}
