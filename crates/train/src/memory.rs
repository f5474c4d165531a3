//! Refuses, before allocating, a run that cannot fit in memory: a 10^10-row
//! data set or a 10^9-unit layer would otherwise abort the process with
//! "memory allocation failed" instead of a message.

use crate::backend::Backend;
use crate::config::RunConfig;
use crate::error::UserError;

/// Bytes a run is expected to hold at its peak, by part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// The data set: on the host while generated, copied once to build the
    /// tensors, once on the device (again with diagnostics).
    pub data: u64,
    /// Weights, gradients, Adam's two moments, host copies for checkpoints,
    /// and a batch's activations forward and backward.
    pub network: u64,
}

impl Estimate {
    /// Both parts together.
    pub fn total(&self) -> u64 {
        self.data.saturating_add(self.network)
    }
}

/// The estimate for `config` on `rows` rows; `None` when it does not even
/// fit in 64 bits.
pub fn estimate(config: &RunConfig, rows: usize) -> Option<Estimate> {
    let float = config.training.precision.bytes();
    let rows = rows as u64;
    let columns = (config.model.input as u64).checked_add(1)?;
    let data_copies = if config.training.diagnostics { 4 } else { 3 };
    let data = rows
        .checked_mul(columns)?
        .checked_mul(float)?
        .checked_mul(data_copies)?;
    let sizes = config.layer_sizes();
    let mut parameters = 0u64;
    let mut widths = 0u64;
    for pair in sizes.windows(2) {
        let (d_input, d_output) = (pair[0] as u64, pair[1] as u64);
        parameters =
            parameters.checked_add(d_input.checked_mul(d_output)?.checked_add(d_output)?)?;
        widths = widths.checked_add(d_output)?;
    }
    let batch = (config.training.batch_size as u64).min(rows.max(1));
    // Weights, gradients, two moments, the step's new weights; then two
    // float32 host copies (the weights read back, the safetensors bytes).
    let weights = parameters
        .checked_mul(float.checked_mul(5)?)?
        .checked_add(parameters.checked_mul(8)?)?;
    // Each layer's output, pre-activation and gradient, for one batch (or
    // every row when diagnostics look at the units).
    let activation_rows = if config.training.diagnostics {
        rows
    } else {
        batch
    };
    let activations = activation_rows
        .checked_mul(widths)?
        .checked_mul(float.checked_mul(3)?)?;
    Some(Estimate {
        data,
        network: weights.checked_add(activations)?,
    })
}

/// Memory this process may still take: `MemAvailable`, or the cgroup's
/// limit less its usage if that is lower; `None` where neither can be read.
pub fn available() -> Option<(u64, &'static str)> {
    let meminfo = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("MemAvailable:"))
                .and_then(|rest| rest.trim().strip_suffix("kB"))
                .and_then(|kib| kib.trim().parse::<u64>().ok())
                .map(|kib| kib * 1024)
        });
    let read_number =
        |path: &str| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    let cgroup = read_number("/sys/fs/cgroup/memory.max").map(|limit| {
        let used = read_number("/sys/fs/cgroup/memory.current").unwrap_or(0);
        limit.saturating_sub(used)
    });
    match (meminfo, cgroup) {
        (Some(meminfo), Some(cgroup)) if cgroup < meminfo => Some((cgroup, "the cgroup's limit")),
        (Some(meminfo), _) => Some((meminfo, "MemAvailable")),
        (None, Some(cgroup)) => Some((cgroup, "the cgroup's limit")),
        (None, None) => None,
    }
}

/// Refuses `config` on `rows` rows if it needs more memory than there is.
pub fn check(config: &RunConfig, rows: usize) -> Result<(), UserError> {
    check_with(config, rows, available())
}

/// As [`check`], against `available` bytes (and where that figure came from).
fn check_with(
    config: &RunConfig,
    rows: usize,
    available: Option<(u64, &'static str)>,
) -> Result<(), UserError> {
    let advice = "reduce data.samples, model.hidden or training.batch_size";
    let Some(estimate) = estimate(config, rows) else {
        return Err(UserError::new(format!(
            "{rows} rows through the network {:?} need more memory than 64 bits can count; \
             {advice}",
            config.layer_sizes()
        )));
    };
    let Some((available, source)) = available else {
        return Ok(());
    };
    if estimate.total() > available {
        return Err(UserError::new(format!(
            "this run needs about {} of memory (data {}, network {}) but {} is available ({source}); \
             {advice}",
            human(estimate.total()),
            human(estimate.data),
            human(estimate.network),
            human(available)
        )));
    }
    Ok(())
}

/// Refuses `config` on `rows` rows if one of its tensors (the training
/// inputs, the widest layer's weights, a batch's widest activations) is
/// larger than the device's largest buffer (wgpu's adapter limit).
pub fn check_buffers(config: &RunConfig, rows: usize, backend: &Backend) -> Result<(), UserError> {
    match backend.max_buffer_bytes {
        Some(limit) => check_buffers_with(config, rows, limit, backend.kind.name()),
        None => Ok(()),
    }
}

fn check_buffers_with(
    config: &RunConfig,
    rows: usize,
    limit: u64,
    backend: &str,
) -> Result<(), UserError> {
    let float = config.training.precision.bytes();
    let sizes = config.layer_sizes();
    let widest = sizes.iter().copied().max().unwrap_or(0) as u64;
    let weights = sizes
        .windows(2)
        .map(|pair| pair[0] as u64 * pair[1] as u64)
        .max()
        .unwrap_or(0);
    let batch = (config.training.batch_size.min(rows)) as u64;
    let largest = [
        (
            "the training inputs",
            rows as u64 * config.model.input as u64,
        ),
        ("the widest layer's weights", weights),
        ("a batch's widest activations", batch * widest),
    ]
    .into_iter()
    .map(|(what, values)| (what, values.saturating_mul(float)))
    .max_by_key(|(_, bytes)| *bytes)
    .expect("three candidates");
    if largest.1 > limit {
        return Err(UserError::new(format!(
            "{} need one buffer of {} on {backend}, more than the adapter's limit of {}; \
             reduce data.samples or model.hidden, or use a CPU backend",
            largest.0,
            human(largest.1),
            human(limit)
        )));
    }
    Ok(())
}

/// Bytes in binary units, one decimal.
fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", units[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_run_is_small_and_huge_runs_are_refused() {
        let seed = RunConfig::default();
        let small = estimate(&seed, 100).unwrap();
        assert!(small.total() < 1 << 20, "{small:?}");
        let machine = Some((16u64 << 30, "MemAvailable"));
        assert!(check_with(&seed, 100, machine).is_ok());

        let mut wide = RunConfig::default();
        wide.model.hidden = vec![1_000_000_000];
        let error = check_with(&wide, 100, machine).unwrap_err().to_string();
        assert_eq!(
            error,
            "this run needs about 424.7 GiB of memory (data 12.9 KiB, network 424.7 GiB) but \
             16.0 GiB is available (MemAvailable); reduce data.samples, model.hidden or \
             training.batch_size"
        );

        let error = check_with(&seed, usize::MAX, machine)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("more memory than 64 bits can count"),
            "{error}"
        );
    }

    #[test]
    fn a_tensor_beyond_the_device_buffer_limit_is_refused() {
        let seed = RunConfig::default();
        assert!(check_buffers_with(&seed, 100, 1 << 30, "wgpu").is_ok());
        let error = check_buffers_with(&seed, 100_000_000, 1 << 30, "wgpu").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the training inputs need one buffer of 3.7 GiB on wgpu, more than the adapter's \
             limit of 1.0 GiB; reduce data.samples or model.hidden, or use a CPU backend"
        );
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(human(512), "512.0 B");
        assert_eq!(human(3 << 30), "3.0 GiB");
    }
}
