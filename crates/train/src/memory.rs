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

/// A `Name:   123 kB` line of a `/proc` file, in bytes.
fn proc_kib(path: &str, field: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok().and_then(|text| {
        text.lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kib| kib.trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
    })
}

/// Memory this process may still take: the least of `MemAvailable`, the
/// cgroup's limit less its usage and what the address-space limit leaves;
/// `None` where none can be read.
pub fn available() -> Option<(u64, &'static str)> {
    let meminfo = proc_kib("/proc/meminfo", "MemAvailable:");
    let read_number =
        |path: &str| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    let cgroup = read_number("/sys/fs/cgroup/memory.max").map(|limit| {
        let used = read_number("/sys/fs/cgroup/memory.current").unwrap_or(0);
        limit.saturating_sub(used)
    });
    [
        (meminfo, "MemAvailable"),
        (cgroup, "the cgroup's limit"),
        (
            address_space_left(),
            "the process's address-space limit, ulimit -v",
        ),
    ]
    .into_iter()
    .filter_map(|(bytes, source)| Some((bytes?, source)))
    .min_by_key(|(bytes, _)| *bytes)
}

/// What the process's address-space limit (`ulimit -v`, `setrlimit`) still
/// allows: the limit less the address space in use (`VmSize`); `None` when
/// unlimited. Past it an allocation aborts the process instead of failing.
#[cfg(unix)]
fn address_space_left() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } != 0
        || limit.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    let used = proc_kib("/proc/self/status", "VmSize:").unwrap_or(0);
    Some(limit.rlim_cur.saturating_sub(used))
}

#[cfg(not(unix))]
fn address_space_left() -> Option<u64> {
    None
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

/// Refuses a study whose `runs` runs of `epochs` epochs keep per-epoch
/// records of `bytes_per_record` bytes (for its tables and figures) beyond
/// the memory there is: `compare --seeds 60000` with many epochs would
/// otherwise grow until the kernel kills it, hours in.
pub fn check_records(runs: u64, epochs: u64, bytes_per_record: u64) -> Result<(), UserError> {
    check_records_with(runs, epochs, bytes_per_record, available())
}

fn check_records_with(
    runs: u64,
    epochs: u64,
    bytes_per_record: u64,
    available: Option<(u64, &'static str)>,
) -> Result<(), UserError> {
    let needed = runs
        .checked_mul(epochs)
        .and_then(|records| records.checked_mul(bytes_per_record));
    let fits = match (needed, available) {
        (None, _) => false,
        (Some(needed), Some((available, _))) => needed <= available / 2,
        (Some(_), None) => true,
    };
    if fits {
        return Ok(());
    }
    let needed = needed.map_or_else(
        || "more bytes than 64 bits can count".into(),
        |bytes| format!("about {}", human(bytes)),
    );
    let available = available.map_or_else(String::new, |(bytes, source)| {
        format!(", and {} is available ({source})", human(bytes))
    });
    let what = if runs == 1 {
        "this run keeps 1 run".to_string()
    } else {
        format!("this study keeps {runs} runs")
    };
    Err(UserError::new(format!(
        "{what} x {epochs} epochs of records in memory, {needed}{available}; reduce \
         training.epochs (or --seeds and the activations)"
    )))
}

/// What one live lab holds at most: each run of `configs` on `rows` rows
/// ([`estimate`]) and its live pictures: `picture_points` grid points
/// through every layer (outputs, pre-activations and units' states, in
/// float64). `None` past 64 bits.
pub fn lab_bytes(configs: &[RunConfig], rows: usize, picture_points: usize) -> Option<u64> {
    configs.iter().try_fold(0u64, |total, config| {
        let units = config
            .layer_sizes()
            .iter()
            .try_fold(0u64, |sum, &size| sum.checked_add(size as u64))?;
        let pictures = (picture_points as u64)
            .checked_mul(units)?
            .checked_mul(8 * 3)?;
        total
            .checked_add(estimate(config, rows)?.total())?
            .checked_add(pictures)
    })
}

/// Refuses a lab of `per_lab` bytes (`None`: past 64 bits) on a server
/// that may hold `labs` such labs at once (`--max-runs`): all of them must
/// fit in the memory there is, not only this one.
pub fn check_lab(per_lab: Option<u64>, labs: u64) -> Result<(), UserError> {
    check_lab_with(per_lab, labs, available())
}

fn check_lab_with(
    per_lab: Option<u64>,
    labs: u64,
    available: Option<(u64, &'static str)>,
) -> Result<(), UserError> {
    let needed = per_lab.and_then(|bytes| bytes.checked_mul(labs));
    match (needed, available) {
        (Some(needed), Some((available, _))) if needed <= available => Ok(()),
        (Some(_), None) => Ok(()),
        (_, available) => Err(UserError::new(format!(
            "this lab needs about {} (both runs and their pictures) and the server may hold {labs} \
             such labs (--max-runs): {} in all{}; use fewer samples or a smaller network, or \
             start the server with a smaller --max-runs",
            per_lab.map_or_else(|| "more than 64 bits can count".into(), human),
            needed.map_or_else(|| "more than 64 bits can count".into(), human),
            available.map_or_else(String::new, |(bytes, source)| format!(
                ", but {} is available ({source})",
                human(bytes)
            ))
        ))),
    }
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
pub fn human(bytes: u64) -> String {
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
    fn a_lab_counts_both_runs_their_pictures_and_the_other_labs() {
        let mut config = RunConfig::default();
        config.model.input = 2;
        let one = lab_bytes(&[config.clone()], 400, 2545).unwrap();
        let pair = lab_bytes(&[config.clone(), config.clone()], 400, 2545).unwrap();
        assert_eq!(pair, 2 * one);
        assert!(
            one > estimate(&config, 400).unwrap().total(),
            "pictures count"
        );
        let machine = Some((1u64 << 30, "MemAvailable"));
        assert!(check_lab_with(Some(pair), 32, machine).is_ok());
        let message = check_lab_with(Some(100 << 20), 32, machine)
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "this lab needs about 100.0 MiB (both runs and their pictures) and the server may \
             hold 32 such labs (--max-runs): 3.1 GiB in all, but 1.0 GiB is available \
             (MemAvailable); use fewer samples or a smaller network, or start the server with a \
             smaller --max-runs"
        );
        config.model.output = 1_000_000;
        assert!(check_lab_with(lab_bytes(&[config], 2, 2545), 32, machine).is_err());
    }

    #[test]
    fn a_study_whose_records_outgrow_memory_is_refused() {
        let machine = Some((16u64 << 30, "MemAvailable"));
        assert!(check_records_with(22 * 10, 300, 1000, machine).is_ok());
        assert_eq!(
            check_records_with(22 * 65535, 10_000, 1000, machine)
                .unwrap_err()
                .to_string(),
            "this study keeps 1441770 runs x 10000 epochs of records in memory, about 13.1 TiB, \
             and 16.0 GiB is available (MemAvailable); reduce training.epochs (or --seeds and the \
             activations)"
        );
        assert!(check_records_with(2, u64::MAX, 1000, None).is_err());
    }

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
