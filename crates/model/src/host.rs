//! Tensors read back to the host, in one place.

use burn::tensor::{Element, Tensor};

/// The values of a float tensor as `E` (`f32` or `f64`), row-major.
pub fn host_values<E: Element, const D: usize>(tensor: Tensor<D>) -> Vec<E> {
    tensor
        .into_data()
        .convert::<E>()
        .try_into_vec::<E>()
        .expect("a tensor converted to E reads back as E")
}
