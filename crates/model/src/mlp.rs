//! The feed-forward network: linear layers with one activation between them.

use burn::module::{Module, Param, ParamId};
use burn::nn::Linear;
use burn::tensor::{DType, Device, Tensor, TensorData};

use crate::{Activation, host_values};

/// One linear layer's parameters in PyTorch's layout: `weight` is `[out, in]`
/// row-major, `bias` has `out` entries.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerWeights {
    /// Inputs of the layer.
    pub d_input: usize,
    /// Outputs of the layer.
    pub d_output: usize,
    /// `d_output * d_input` values, row `o` holding the weights into output `o`.
    pub weight: Vec<f32>,
    /// `d_output` values.
    pub bias: Vec<f32>,
}

/// Weights that cannot make a network.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightsError {
    /// No layer at all.
    #[error("a network needs at least one layer")]
    Empty,
    /// A layer's buffers do not match its declared sizes.
    #[error("layer {layer}: {what} has {got} values, expected {expected}")]
    BadLength {
        /// 1-based layer number, as PyTorch's `fc1`, `fc2`, ...
        layer: usize,
        /// `weight` or `bias`.
        what: &'static str,
        /// Values present.
        got: usize,
        /// Values the sizes call for.
        expected: usize,
    },
    /// A layer's input does not match the previous layer's output.
    #[error("layer {layer} takes {d_input} inputs but layer {previous} gives {d_output}")]
    Chain {
        /// 1-based layer number.
        layer: usize,
        /// The layer before it.
        previous: usize,
        /// Its input size.
        d_input: usize,
        /// The previous layer's output size.
        d_output: usize,
    },
}

impl LayerWeights {
    /// A layer of zeros: a shape to load saved weights into.
    pub fn zeros(d_input: usize, d_output: usize) -> Self {
        Self {
            d_input,
            d_output,
            weight: vec![0.0; d_input * d_output],
            bias: vec![0.0; d_output],
        }
    }

    fn check(&self, layer: usize) -> Result<(), WeightsError> {
        let expected = self.d_input * self.d_output;
        if self.weight.len() != expected {
            return Err(WeightsError::BadLength {
                layer,
                what: "weight",
                got: self.weight.len(),
                expected,
            });
        }
        if self.bias.len() != self.d_output {
            return Err(WeightsError::BadLength {
                layer,
                what: "bias",
                got: self.bias.len(),
                expected: self.d_output,
            });
        }
        Ok(())
    }
}

/// A multi-layer perceptron: `Linear -> activation -> ... -> Linear`.
///
/// The activation follows every hidden layer and never the output layer, as
/// in the seed tutorial's `SimpleModel`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// The linear layers, input first.
    pub layers: Vec<Linear>,
    /// The non-linearity between layers.
    #[module(skip)]
    pub activation: Activation,
}

/// What a forward pass saw on its way, for diagnostics.
#[derive(Debug)]
pub struct MlpTrace {
    /// The network's output, `[batch, out]`.
    pub output: Tensor<2>,
    /// Each hidden layer's pre-activation `[batch, units]`, input side first.
    pub pre_activations: Vec<Tensor<2>>,
}

impl Mlp {
    /// Moves the network out, leaving one without layers behind. An optimiser
    /// step that is handed the only reference to each parameter can update
    /// its buffer in place; a clone would keep the old buffers alive and make
    /// every update allocate and copy.
    pub fn take(&mut self) -> Mlp {
        Mlp {
            layers: std::mem::take(&mut self.layers),
            activation: self.activation,
        }
    }

    /// Builds the network on `device` from explicit weights (PyTorch layout).
    pub fn from_weights(
        weights: &[LayerWeights],
        activation: Activation,
        device: &Device,
    ) -> Result<Self, WeightsError> {
        Self::from_weights_as(weights, activation, device, DType::F32)
    }

    /// As [`Mlp::from_weights`], with parameters of float type `dtype`
    /// (`F64` to tell rounding from real differences).
    pub fn from_weights_as(
        weights: &[LayerWeights],
        activation: Activation,
        device: &Device,
        dtype: DType,
    ) -> Result<Self, WeightsError> {
        if weights.is_empty() {
            return Err(WeightsError::Empty);
        }
        for (index, layer) in weights.iter().enumerate() {
            layer.check(index + 1)?;
            if index > 0 && weights[index - 1].d_output != layer.d_input {
                return Err(WeightsError::Chain {
                    layer: index + 1,
                    previous: index,
                    d_input: layer.d_input,
                    d_output: weights[index - 1].d_output,
                });
            }
        }
        let layers = weights
            .iter()
            .enumerate()
            .map(|(index, layer)| linear_from_weights(layer, index, device, dtype))
            .collect();
        Ok(Self { layers, activation })
    }

    /// Reads the current parameters back in PyTorch's layout.
    pub fn to_weights(&self) -> Vec<LayerWeights> {
        self.layers.iter().map(weights_of_linear).collect()
    }

    /// Sizes of every layer boundary, input first: `[10, 18, 18, 4, 1]`.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = Vec::with_capacity(self.layers.len() + 1);
        for (index, layer) in self.layers.iter().enumerate() {
            let [d_input, d_output] = layer.weight.dims();
            if index == 0 {
                sizes.push(d_input);
            }
            sizes.push(d_output);
        }
        sizes
    }

    /// The forward pass: `[batch, in] -> [batch, out]`.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        let mut x = input;
        for (index, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if index != last {
                x = self.activation.forward(x);
            }
        }
        x
    }

    /// The forward pass, keeping every hidden pre-activation.
    pub fn forward_traced(&self, input: Tensor<2>) -> MlpTrace {
        let last = self.layers.len() - 1;
        let mut pre_activations = Vec::with_capacity(last);
        let mut x = input;
        for (index, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if index != last {
                pre_activations.push(x.clone());
                x = self.activation.forward(x);
            }
        }
        MlpTrace {
            output: x,
            pre_activations,
        }
    }
}

/// Parameter ids follow the layer's position (weight `2i`, bias `2i + 1`), so an
/// optimiser state saved by one process finds its parameters in a network
/// rebuilt by another: Adam's moments are keyed by these ids.
fn stable_param<const D: usize>(tensor: Tensor<D>, id: usize) -> Param<Tensor<D>> {
    let mut param = Param::from_tensor(tensor);
    param.id = ParamId::from(id as u64);
    param
}

fn linear_from_weights(
    layer: &LayerWeights,
    index: usize,
    device: &Device,
    dtype: DType,
) -> Linear {
    // Burn's `Linear` keeps its weight as `[in, out]`; PyTorch's is `[out, in]`.
    // Transposed here, on the host, so the parameter is a plain row-major
    // tensor: a transposed view would take other matrix-product kernels (other
    // rounding) until the first copy, so a network rebuilt from a checkpoint
    // would not continue bit for bit.
    let (d_input, d_output) = (layer.d_input, layer.d_output);
    let in_out: Vec<f32> = (0..d_input * d_output)
        .map(|index| layer.weight[(index % d_output) * d_input + index / d_output])
        .collect();
    let weight = Tensor::<2>::from_data(TensorData::new(in_out, [d_input, d_output]), device);
    let bias = Tensor::<1>::from_data(
        TensorData::new(layer.bias.clone(), [layer.d_output]),
        device,
    );
    Linear {
        weight: stable_param(weight.cast(dtype), 2 * index),
        bias: Some(stable_param(bias.cast(dtype), 2 * index + 1)),
    }
}

fn weights_of_linear(linear: &Linear) -> LayerWeights {
    let weight = linear.weight.val();
    let [d_input, d_output] = weight.dims();
    let weight = host_values(weight.transpose());
    let bias = match &linear.bias {
        Some(bias) => host_values(bias.val()),
        None => vec![0.0; d_output],
    };
    LayerWeights {
        d_input,
        d_output,
        weight,
        bias,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(d_input: usize, d_output: usize, start: f32) -> LayerWeights {
        LayerWeights {
            d_input,
            d_output,
            weight: (0..d_input * d_output)
                .map(|i| start + i as f32 * 0.1)
                .collect(),
            bias: (0..d_output).map(|i| i as f32 * -0.5).collect(),
        }
    }

    #[test]
    fn weights_round_trip_in_pytorch_layout() {
        let device = Device::flex();
        let weights = vec![layer(3, 2, -0.3), layer(2, 1, 0.2)];
        let mlp = Mlp::from_weights(&weights, Activation::Relu, &device).unwrap();
        assert_eq!(mlp.sizes(), vec![3, 2, 1]);
        assert_eq!(mlp.to_weights(), weights);
    }

    #[test]
    fn forward_matches_a_hand_computation() {
        let device = Device::flex();
        // y = w2 . relu(W1 x + b1) + b2 with W1 = [[1, -1], [2, 0]], b1 = [0, -1].
        let weights = vec![
            LayerWeights {
                d_input: 2,
                d_output: 2,
                weight: vec![1.0, -1.0, 2.0, 0.0],
                bias: vec![0.0, -1.0],
            },
            LayerWeights {
                d_input: 2,
                d_output: 1,
                weight: vec![3.0, 0.5],
                bias: vec![0.25],
            },
        ];
        let mlp = Mlp::from_weights(&weights, Activation::Relu, &device).unwrap();
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 3.0, 2.0, 1.0], [2, 2]),
            &device,
        );
        let y = mlp.forward(x).into_data().try_into_vec::<f32>().unwrap();
        // Row 1: pre = [-2, 1] -> relu [0, 1] -> 0.5 + 0.25. Row 2: pre = [1, 3] -> 3 + 1.5 + 0.25.
        assert_eq!(y, vec![0.75, 4.75]);
    }

    #[test]
    fn inconsistent_weights_are_rejected() {
        let device = Device::flex();
        let err = Mlp::from_weights(
            &[layer(3, 2, 0.0), layer(4, 1, 0.0)],
            Activation::Relu,
            &device,
        )
        .unwrap_err();
        assert_eq!(
            err,
            WeightsError::Chain {
                layer: 2,
                previous: 1,
                d_input: 4,
                d_output: 2
            }
        );
        let mut short = layer(3, 2, 0.0);
        short.bias.pop();
        let err = Mlp::from_weights(&[short], Activation::Relu, &device).unwrap_err();
        assert!(err.to_string().contains("bias has 1 values, expected 2"));
        assert_eq!(
            Mlp::from_weights(&[], Activation::Relu, &device).unwrap_err(),
            WeightsError::Empty
        );
    }
}
