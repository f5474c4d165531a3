//! Gradient clipping by the global norm over every parameter, as PyTorch's
//! `torch.nn.utils.clip_grad_norm_`. (Burn 0.22's `GradientClipping::Norm`
//! clips each tensor by its own norm, a different rule.) The norm and the
//! scale stay on the device: no step waits on the host.

use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use model::Mlp;

/// The squared L2 norm of all of `model`'s gradients in `grads` together,
/// on the device (`None` when there are none). Non-finite when a gradient
/// is, or when the gradients overflow the float type: the divergence check
/// reads it once per epoch, and clipping scales by its root.
pub fn squared_global_norm(grads: &GradientsParams, model: &Mlp) -> Option<Tensor<1>> {
    let mut flat: Vec<Tensor<1>> = Vec::new();
    for layer in &model.layers {
        if let Some(grad) = grads.get::<2>(layer.weight.id) {
            flat.push(grad.reshape([-1]));
        }
        if let Some(bias) = &layer.bias
            && let Some(grad) = grads.get::<1>(bias.id)
        {
            flat.push(grad);
        }
    }
    for learned in &model.learned {
        if let Some(grad) = grads.get::<1>(learned.id) {
            flat.push(grad);
        }
    }
    if flat.is_empty() {
        return None;
    }
    Some(Tensor::cat(flat, 0).square().sum())
}

/// Scales every gradient of `model`'s parameters in `grads` by
/// `min(1, max_norm / (norm + 1e-6))`, where `norm` is the L2 norm of all of
/// them together (the root of `squared`, from [`squared_global_norm`]).
pub fn clip_global_norm(
    grads: &mut GradientsParams,
    model: &Mlp,
    max_norm: f64,
    squared: Tensor<1>,
) {
    let scale = squared
        .sqrt()
        .add_scalar(1e-6)
        .recip()
        .mul_scalar(max_norm)
        .clamp_max(1.0);
    for layer in &model.layers {
        if let Some(grad) = grads.remove::<2>(layer.weight.id) {
            grads.register(layer.weight.id, grad * scale.clone().reshape([1, 1]));
        }
        if let Some(bias) = &layer.bias
            && let Some(grad) = grads.remove::<1>(bias.id)
        {
            grads.register(bias.id, grad * scale.clone());
        }
    }
    for learned in &model.learned {
        if let Some(grad) = grads.remove::<1>(learned.id) {
            grads.register(learned.id, grad * scale.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use model::{Activation, LayerWeights};

    /// `tests/fixtures/clip_grad_norm.csv` rows: (max_norm, param, grad, clipped).
    fn fixture() -> Vec<(f64, usize, f32, f64)> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/clip_grad_norm.csv");
        csv::Reader::from_path(path)
            .unwrap()
            .records()
            .map(|r| {
                let r = r.unwrap();
                (
                    r[0].parse().unwrap(),
                    r[1].parse().unwrap(),
                    r[3].parse().unwrap(),
                    r[4].parse().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn global_clipping_matches_pytorchs_clip_grad_norm() {
        let device = crate::backend::cpu_device().expect("the tests build a CPU backend");
        let sizes = [3usize, 4, 2, 1];
        let weights: Vec<LayerWeights> = sizes
            .windows(2)
            .map(|p| LayerWeights::zeros(p[0], p[1]))
            .collect();
        let model = Mlp::from_weights(&weights, Activation::Relu, &device).unwrap();
        let rows = fixture();
        for max_norm in [1.5, 100.0] {
            let of = |param: usize| -> Vec<f32> {
                rows.iter()
                    .filter(|r| r.0 == max_norm && r.1 == param)
                    .map(|r| r.2)
                    .collect()
            };
            let mut grads = GradientsParams::new();
            for (index, layer) in model.layers.iter().enumerate() {
                let [d_in, d_out] = [sizes[index], sizes[index + 1]];
                let weight = TensorData::new(of(2 * index), [d_out, d_in]);
                grads.register(layer.weight.id, Tensor::<2>::from_data(weight, &device));
                let bias = TensorData::new(of(2 * index + 1), [d_out]);
                let id = layer.bias.as_ref().unwrap().id;
                grads.register(id, Tensor::<1>::from_data(bias, &device));
            }
            let squared = squared_global_norm(&grads, &model).unwrap();
            clip_global_norm(&mut grads, &model, max_norm, squared);
            let mut ours: Vec<f64> = Vec::new();
            for layer in &model.layers {
                let weight = grads.get::<2>(layer.weight.id).unwrap();
                let bias = grads.get::<1>(layer.bias.as_ref().unwrap().id).unwrap();
                ours.extend(model::host_values::<f64, 2>(weight));
                ours.extend(model::host_values::<f64, 1>(bias));
            }
            let torch: Vec<f64> = rows
                .iter()
                .filter(|r| r.0 == max_norm)
                .map(|r| r.3)
                .collect();
            assert_eq!(ours.len(), torch.len());
            for (a, b) in ours.iter().zip(&torch) {
                assert!(
                    (a - b).abs() <= 1e-6 * b.abs() + 1e-7,
                    "{max_norm}: {a} vs {b}"
                );
            }
            let norm = ours.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!(norm <= max_norm * (1.0 + 1e-6), "norm {norm} > {max_norm}");
        }
    }
}
