//! Each activation and its derivative on a grid, computed by the network's own
//! code: the values by `Activation::forward`, the slopes by Burn's autodiff.

use burn::tensor::{Device, Tensor, TensorData};
use model::{Activation, host_values};

/// An activation sampled on a grid.
#[derive(Clone, Debug)]
pub struct ActivationCurve {
    /// Which activation.
    pub activation: Activation,
    /// The inputs.
    pub x: Vec<f64>,
    /// `f(x)`.
    pub value: Vec<f64>,
    /// `f'(x)`, from autodiff.
    pub derivative: Vec<f64>,
}

/// Samples `activation` at `points` evenly spaced inputs on `[low, high]`.
pub fn sample(
    activation: Activation,
    low: f64,
    high: f64,
    points: usize,
    device: &Device,
) -> ActivationCurve {
    let step = (high - low) / (points.max(2) - 1) as f64;
    let x: Vec<f64> = (0..points).map(|i| low + step * i as f64).collect();
    let data = TensorData::new(x.iter().map(|&v| v as f32).collect::<Vec<f32>>(), [points]);
    let input = Tensor::<1>::from_data(data, &device.clone().autodiff()).require_grad();
    let output = activation.forward(input.clone());
    let grads = output.clone().sum().backward();
    let derivative = host_values(input.grad(&grads).expect("the input requires a gradient"));
    ActivationCurve {
        activation,
        x,
        value: host_values(output.without_autodiff()),
        derivative,
    }
}
