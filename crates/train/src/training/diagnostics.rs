//! Why a network stops learning, measured: per-layer gradient norms, dead
//! relu units and saturated sigmoid/tanh units.
//!
//! Gradient norms are summed on the device during the epoch and read once at
//! its end; unit health is one extra forward pass over the training rows per
//! epoch. Nothing here makes the training step wait on the host.

use burn::optim::GradientsParams;
use burn::tensor::{DType, Device, Tensor, TensorData};
use model::{Mlp, UnitBehaviour, host_values};

/// Outputs this close to a bound count as saturated.
pub const SATURATION_MARGIN: f64 = 1e-3;
/// A unit is saturated when at least this share of samples saturate it.
pub const SATURATION_SHARE: f64 = 0.95;

/// One layer's measurements for one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerDiagnostics {
    /// L2 norm of the weight gradient, averaged over the epoch's steps.
    pub grad_norm: f64,
    /// Share of this layer's units that are dead (hidden relu-like layers).
    pub dead_fraction: Option<f64>,
    /// Share of this layer's units that are saturated (hidden sigmoid/tanh layers).
    pub saturated_fraction: Option<f64>,
}

/// Sums weight-gradient norms on the device across an epoch's steps.
pub struct GradNormAccumulator {
    sums: Vec<Option<Tensor<1>>>,
    steps: usize,
}

impl GradNormAccumulator {
    /// An empty accumulator for a network of `layers` layers.
    pub fn new(layers: usize) -> Self {
        Self {
            sums: vec![None; layers],
            steps: 0,
        }
    }

    /// Adds one step's gradients (device-side only).
    pub fn add(&mut self, model: &Mlp, grads: &GradientsParams) {
        for (sum, layer) in self.sums.iter_mut().zip(&model.layers) {
            if let Some(grad) = grads.get::<2>(layer.weight.id) {
                let norm = grad.square().sum().sqrt();
                *sum = Some(match sum.take() {
                    Some(total) => total + norm,
                    None => norm,
                });
            }
        }
        self.steps += 1;
    }

    /// The sums so far and their step count, read from the device (for a
    /// checkpoint taken mid-epoch); `None` before the epoch's first step.
    pub fn partial(&self) -> Option<(usize, Vec<f64>)> {
        let sums: Vec<Tensor<1>> = self.sums.iter().flatten().cloned().collect();
        if self.steps == 0 || sums.len() != self.sums.len() {
            return None;
        }
        Some((self.steps, host_values::<f64, 1>(Tensor::cat(sums, 0))))
    }

    /// Continues an epoch from [`GradNormAccumulator::partial`]'s values, so
    /// an interrupted epoch's means equal an uninterrupted one's.
    pub fn restore(&mut self, steps: usize, sums: &[f64], device: &Device, dtype: DType) {
        if sums.len() != self.sums.len() {
            return;
        }
        for (slot, &sum) in self.sums.iter_mut().zip(sums) {
            let value = TensorData::new(vec![sum as f32], [1]);
            *slot = Some(Tensor::<1>::from_data(value, device).cast(dtype));
        }
        self.steps = steps;
    }

    /// Reads the epoch's mean norms (one host read) and resets.
    pub fn take_means(&mut self) -> Vec<f64> {
        let steps = self.steps.max(1) as f64;
        self.steps = 0;
        let sums: Vec<Tensor<1>> = self.sums.iter_mut().filter_map(Option::take).collect();
        if sums.is_empty() {
            return Vec::new();
        }
        host_values::<f64, 1>(Tensor::cat(sums, 0))
            .into_iter()
            .map(|sum| sum / steps)
            .collect()
    }
}

/// Per hidden layer: (dead fraction, saturated fraction) over the rows `x`.
pub fn unit_health(model: &Mlp, x: Tensor<2>) -> Vec<(Option<f64>, Option<f64>)> {
    let trace = model.forward_traced(x);
    trace
        .pre_activations
        .into_iter()
        .enumerate()
        .map(
            |(index, pre)| match model.activation.layer(index).unit_behaviour() {
                UnitBehaviour::CanDie => {
                    // Dead: the pre-activation is <= 0 for every sample.
                    let max_pre = pre.max_dim(0);
                    (
                        Some(fraction_true(max_pre.lower_equal_elem(0.0).float())),
                        None,
                    )
                }
                UnitBehaviour::Saturates { lower, upper } => {
                    let out = model.activation.layer(index).forward(pre);
                    let near_lower = out
                        .clone()
                        .sub_scalar(lower)
                        .abs()
                        .lower_elem(SATURATION_MARGIN);
                    let near_upper = out.sub_scalar(upper).abs().lower_elem(SATURATION_MARGIN);
                    let share = near_lower.bool_or(near_upper).float().mean_dim(0);
                    let saturated = share.greater_equal_elem(SATURATION_SHARE).float();
                    (None, Some(fraction_true(saturated)))
                }
                UnitBehaviour::Neither => (None, None),
            },
        )
        .collect()
}

fn fraction_true(flags: Tensor<2>) -> f64 {
    flags.mean().into_scalar::<f32>() as f64
}

/// Joins gradient norms (every layer) and unit health (hidden layers).
pub fn combine(
    grad_norms: Vec<f64>,
    health: Vec<(Option<f64>, Option<f64>)>,
) -> Vec<LayerDiagnostics> {
    grad_norms
        .into_iter()
        .enumerate()
        .map(|(index, grad_norm)| {
            let (dead_fraction, saturated_fraction) =
                health.get(index).copied().unwrap_or((None, None));
            LayerDiagnostics {
                grad_norm,
                dead_fraction,
                saturated_fraction,
            }
        })
        .collect()
}
