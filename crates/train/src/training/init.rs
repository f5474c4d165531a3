//! Initial weights, drawn on the CPU as PyTorch's `nn.Linear` draws them, so
//! that every backend starts from the same numbers.

use model::LayerWeights;
use rand::Rng;

use crate::training::rng::{Stream, stream};

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
}
