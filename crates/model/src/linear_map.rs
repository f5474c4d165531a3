//! The tutorial's central fact as code: a stack of linear layers without
//! activations is one affine map `y = W x + b`.

use crate::LayerWeights;

/// An affine map in f64: `weight` is `[outputs][inputs]`.
#[derive(Clone, Debug, PartialEq)]
pub struct AffineMap {
    /// `outputs` rows of `inputs` values.
    pub weight: Vec<Vec<f64>>,
    /// `outputs` values.
    pub bias: Vec<f64>,
}

impl AffineMap {
    /// Folds layers `L1..Ln` into `W = Wn ... W2 W1` and `b` carried through,
    /// ignoring any activation (exact only when there is none).
    pub fn fold(layers: &[LayerWeights]) -> AffineMap {
        let inputs = layers.first().map_or(0, |layer| layer.d_input);
        let mut map = AffineMap {
            weight: (0..inputs)
                .map(|i| {
                    (0..inputs)
                        .map(|j| if i == j { 1.0 } else { 0.0 })
                        .collect()
                })
                .collect(),
            bias: vec![0.0; inputs],
        };
        for layer in layers {
            let row = |o: usize| &layer.weight[o * layer.d_input..(o + 1) * layer.d_input];
            let weight = (0..layer.d_output)
                .map(|o| {
                    (0..inputs)
                        .map(|j| {
                            row(o)
                                .iter()
                                .zip(&map.weight)
                                .map(|(&w, previous)| w as f64 * previous[j])
                                .sum()
                        })
                        .collect()
                })
                .collect();
            let bias = (0..layer.d_output)
                .map(|o| {
                    row(o)
                        .iter()
                        .zip(&map.bias)
                        .map(|(&w, b)| w as f64 * b)
                        .sum::<f64>()
                        + layer.bias[o] as f64
                })
                .collect();
            map = AffineMap { weight, bias };
        }
        map
    }

    /// `W x + b` for one input row.
    pub fn apply(&self, input: &[f32]) -> Vec<f64> {
        self.weight
            .iter()
            .zip(&self.bias)
            .map(|(row, b)| {
                row.iter()
                    .zip(input)
                    .map(|(w, &x)| w * x as f64)
                    .sum::<f64>()
                    + b
            })
            .collect()
    }

    /// `(outputs, inputs)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.weight.len(), self.weight.first().map_or(0, Vec::len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_two_layers_matches_a_hand_product() {
        // L1: [[1, 2], [0, 1]] x + [1, 0]; L2: [3, -1] h + 0.5
        let layers = [
            LayerWeights {
                d_input: 2,
                d_output: 2,
                weight: vec![1.0, 2.0, 0.0, 1.0],
                bias: vec![1.0, 0.0],
                learned: Vec::new(),
            },
            LayerWeights {
                d_input: 2,
                d_output: 1,
                weight: vec![3.0, -1.0],
                bias: vec![0.5],
                learned: Vec::new(),
            },
        ];
        let map = AffineMap::fold(&layers);
        // W = [3, -1] [[1, 2], [0, 1]] = [3, 5]; b = [3, -1].[1, 0] + 0.5 = 3.5
        assert_eq!(map.weight, vec![vec![3.0, 5.0]]);
        assert_eq!(map.bias, vec![3.5]);
        assert_eq!(map.shape(), (1, 2));
        assert_eq!(map.apply(&[1.0, 1.0]), vec![11.5]);
    }
}
