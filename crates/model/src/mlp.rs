//! The feed-forward network: linear layers with one activation between them.

use burn::module::{Module, Param, ParamId};
use burn::nn::Linear;
use burn::tensor::{DType, Device, Tensor, TensorData};

use crate::{Activation, LayerActivations, host_values};

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
    /// The trained parameters of the learnable activation after this layer
    /// (PReLU's slopes, swish's beta: one, or one per unit); empty for a
    /// fixed activation and for the output layer. A network built from
    /// empty ones starts them at their initial value.
    pub learned: Vec<f32>,
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
    /// A layer's learnable activation has the wrong number of parameters.
    #[error(
        "layer {layer}: the activation {activation} takes {expected} parameters after it, got {got}"
    )]
    Learned {
        /// 1-based layer number.
        layer: usize,
        /// The network's activation.
        activation: Activation,
        /// Values present.
        got: usize,
        /// Values it takes there.
        expected: usize,
    },
    /// The activations do not fit the layers.
    #[error("{0}")]
    Activations(String),
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
            learned: Vec::new(),
        }
    }

    /// Unit `unit`'s activation as the trained network applies it: with
    /// its learned parameter in place, for a learnable one.
    pub fn unit_activation(&self, activation: Activation, unit: usize) -> Activation {
        match self.learned.as_slice() {
            [] => activation,
            [shared] => activation.with_learned(f64::from(*shared)),
            values => activation.with_learned(f64::from(values[unit])),
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
/// An activation follows every hidden layer and never the output layer, as
/// in the seed tutorial's `SimpleModel`: the same one after each, or one
/// per layer.
#[derive(Module, Debug)]
pub struct Mlp {
    /// The linear layers, input first.
    pub layers: Vec<Linear>,
    /// A learnable activation's parameters, one tensor per hidden layer
    /// (empty for a fixed activation): trained with the weights.
    pub learned: Vec<Param<Tensor<1>>>,
    /// The non-linearity after each hidden layer.
    #[module(skip)]
    pub activation: LayerActivations,
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
            learned: std::mem::take(&mut self.learned),
            activation: self.activation,
        }
    }

    /// Builds the network on `device` from explicit weights (PyTorch layout).
    pub fn from_weights(
        weights: &[LayerWeights],
        activation: impl Into<LayerActivations>,
        device: &Device,
    ) -> Result<Self, WeightsError> {
        Self::from_weights_as(weights, activation, device, DType::F32)
    }

    /// As [`Mlp::from_weights`], with parameters of float type `dtype`
    /// (`F64` to tell rounding from real differences).
    pub fn from_weights_as(
        weights: &[LayerWeights],
        activation: impl Into<LayerActivations>,
        device: &Device,
        dtype: DType,
    ) -> Result<Self, WeightsError> {
        let activation = activation.into();
        if weights.is_empty() {
            return Err(WeightsError::Empty);
        }
        if let Some(why) = activation.misfit(weights.len() - 1) {
            return Err(WeightsError::Activations(why));
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
        let learned = learned_from_weights(weights, activation, device, dtype)?;
        Ok(Self {
            layers,
            learned,
            activation,
        })
    }

    /// Reads the current parameters back in PyTorch's layout.
    pub fn to_weights(&self) -> Vec<LayerWeights> {
        let mut weights: Vec<LayerWeights> = self.layers.iter().map(weights_of_linear).collect();
        for (layer, learned) in weights.iter_mut().zip(&self.learned) {
            layer.learned = host_values(learned.val());
        }
        weights
    }

    /// Applies the activation after hidden layer `index`.
    fn activate(&self, index: usize, x: Tensor<2>) -> Tensor<2> {
        let activation = self.activation.layer(index);
        match self.learned.get(index) {
            Some(values) => activation.forward_learned(x, values.val()),
            None => activation.forward(x),
        }
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
                x = self.activate(index, x);
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
                x = self.activate(index, x);
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

/// Where the learnable activations' parameter ids start, after any
/// network's weights and biases.
const LEARNED_ID_BASE: usize = 1 << 32;

/// The learnable activation's parameters, one tensor per hidden layer: the
/// values in `weights`, or the initial value where they are empty.
fn learned_from_weights(
    weights: &[LayerWeights],
    activation: LayerActivations,
    device: &Device,
    dtype: DType,
) -> Result<Vec<Param<Tensor<1>>>, WeightsError> {
    let hidden = weights.len() - 1;
    let mut learned = Vec::new();
    for (index, layer) in weights.iter().enumerate() {
        let expected = match activation.layer(index).learnable() {
            Some(learnable) if index < hidden => learnable.len(layer.d_output),
            _ => 0,
        };
        let got = layer.learned.len();
        if got != expected && !(got == 0 && index < hidden) {
            return Err(WeightsError::Learned {
                layer: index + 1,
                activation: activation.layer(index),
                got,
                expected,
            });
        }
        if expected == 0 {
            continue;
        }
        let values = if got == 0 {
            let initial = activation
                .layer(index)
                .learnable()
                .map_or(0.0, |l| l.initial) as f32;
            vec![initial; expected]
        } else {
            layer.learned.clone()
        };
        let tensor = Tensor::<1>::from_data(TensorData::new(values, [expected]), device);
        learned.push(stable_param(tensor.cast(dtype), LEARNED_ID_BASE + index));
    }
    Ok(learned)
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
        learned: Vec::new(),
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
            learned: Vec::new(),
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
                learned: Vec::new(),
            },
            LayerWeights {
                d_input: 2,
                d_output: 1,
                weight: vec![3.0, 0.5],
                bias: vec![0.25],
                learned: Vec::new(),
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
    fn learnable_activations_start_at_their_initial_value_and_round_trip() {
        let device = Device::flex();
        let weights = vec![layer(3, 2, -0.3), layer(2, 2, 0.1), layer(2, 1, 0.2)];
        for (text, expected) in [
            ("prelu", vec![vec![0.25], vec![0.25]]),
            ("prelu(per_unit)", vec![vec![0.25, 0.25], vec![0.25, 0.25]]),
            ("swish_beta", vec![vec![1.0], vec![1.0]]),
        ] {
            let activation: Activation = text.parse().unwrap();
            let mlp = Mlp::from_weights(&weights, activation, &device).unwrap();
            let learned: Vec<Vec<f32>> = mlp.to_weights().into_iter().map(|l| l.learned).collect();
            assert_eq!(learned[..2], expected[..], "{text}");
            assert!(learned[2].is_empty(), "{text}: the output layer has none");
            // Values given are kept.
            let mut given = mlp.to_weights();
            given[0].learned.iter_mut().for_each(|v| *v = -0.5);
            let rebuilt = Mlp::from_weights(&given, activation, &device).unwrap();
            assert_eq!(rebuilt.to_weights(), given, "{text}");
        }
        // A fixed activation takes none; a learnable one its count.
        let mut wrong = weights.clone();
        wrong[0].learned = vec![0.3];
        assert!(matches!(
            Mlp::from_weights(&wrong, Activation::Relu, &device),
            Err(WeightsError::Learned {
                layer: 1,
                got: 1,
                expected: 0,
                ..
            })
        ));
        wrong[0].learned = vec![0.3; 3];
        let per_unit: Activation = "prelu(per_unit)".parse().unwrap();
        let error = Mlp::from_weights(&wrong, per_unit, &device).unwrap_err();
        assert_eq!(
            error.to_string(),
            "layer 1: the activation prelu(per_unit) takes 2 parameters after it, got 3"
        );
    }

    #[test]
    fn per_unit_prelu_applies_each_units_slope_and_trains_it() {
        let device = Device::flex().autodiff();
        // One hidden layer of 2 units, identity weights: the hidden values are the inputs.
        let weights = vec![
            LayerWeights {
                d_input: 2,
                d_output: 2,
                weight: vec![1.0, 0.0, 0.0, 1.0],
                bias: vec![0.0, 0.0],
                learned: vec![0.5, 0.125],
            },
            LayerWeights {
                d_input: 2,
                d_output: 1,
                weight: vec![1.0, 1.0],
                bias: vec![0.0],
                learned: Vec::new(),
            },
        ];
        let activation: Activation = "prelu(per_unit)".parse().unwrap();
        let mlp = Mlp::from_weights(&weights, activation, &device).unwrap();
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![-2.0f32, -8.0, 3.0, -1.0], [2, 2]),
            &device,
        );
        let y = mlp.forward(x);
        // Row 1: 0.5 * -2 + 0.125 * -8 = -2; row 2: 3 + 0.125 * -1.
        assert_eq!(host_values::<f32, 2>(y.clone()), vec![-2.0, 2.875]);
        let grads = y.sum().backward();
        // d/da_j = sum of x_j over the rows where x_j <= 0.
        let slope_grad = mlp.learned[0].val().grad(&grads).unwrap();
        assert_eq!(host_values::<f32, 1>(slope_grad), vec![-2.0, -9.0]);
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
