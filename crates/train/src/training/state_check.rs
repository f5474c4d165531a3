//! Whether the optimiser's state is still finite. A gradient that overflows
//! float32 (or is NaN) makes Adam's and RMSprop's moments (and SGD's
//! momentum) infinite or NaN, while the loss and the weights may stay
//! finite: the weights freeze and a "complete" run reports a frozen loss.
//! A non-finite moment stays non-finite (`beta * inf = inf`), so reading the
//! state once per epoch catches the epoch it happened in, without a check
//! on every step.

use burn::optim::ModuleOptimizer;
use burn::tensor::DType;
use burn_pack::{HEADER_SIZE, Header, aligned_data_section_start};

/// How many values of the optimiser's state are NaN or infinite; `dtype` is
/// the float type the network trains in (its moments have the same).
pub fn non_finite_state_values(optimizer: &ModuleOptimizer, dtype: DType) -> anyhow::Result<usize> {
    let bytes = optimizer
        .into_bytes()
        .map_err(|error| anyhow::anyhow!("cannot read the optimizer state: {error:?}"))?;
    non_finite_values(&bytes, dtype)
}

/// How many values of a serialised optimiser state (burnpack) are NaN or
/// infinite. The data section is scanned whole, without decoding the
/// metadata (that doubled the cost: this runs every epoch): Burn's
/// optimisers keep float tensors only (their step counters are scalars in
/// the metadata), and the padding between tensors is zeros.
pub fn non_finite_values(bytes: &[u8], dtype: DType) -> anyhow::Result<usize> {
    let header = Header::from_bytes(bytes.get(..HEADER_SIZE).unwrap_or_default())
        .map_err(|error| anyhow::anyhow!("cannot read the optimizer state: {error:?}"))?;
    let start = aligned_data_section_start(header.metadata_size as usize);
    let data = bytes.get(start..).unwrap_or_default();
    Ok(match dtype {
        DType::F64 => data
            .chunks_exact(8)
            .filter(|b| !f64::from_le_bytes((*b).try_into().expect("8 bytes")).is_finite())
            .count(),
        _ => data
            .chunks_exact(4)
            .filter(|b| !f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite())
            .count(),
    })
}
