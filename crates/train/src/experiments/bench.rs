//! The speed benchmark's workloads and statistics.
//!
//! Each measured run happens in a fresh child process (`train bench-worker`),
//! so its peak memory is its own and its whole-process time includes start-up,
//! as PyTorch's does in `scripts/bench_pytorch.py`.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::config::RunConfig;
use crate::data::{self, Split};
use crate::stats::Spread;
use crate::training::init::initial_weights_for;
use crate::training::trainer::Trainer;

/// One benchmark workload: the seed's loop at some size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    /// Its name on the command line.
    pub name: &'static str,
    /// Rows of the seed's noise data (10 features).
    pub samples: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// Hidden layer widths.
    pub hidden: &'static [usize],
    /// Passes over the data.
    pub epochs: usize,
}

/// The workloads, smallest first. `tiny` exists for tests.
pub const WORKLOADS: [Workload; 4] = [
    Workload {
        name: "tiny",
        samples: 200,
        batch_size: 50,
        hidden: &[8, 4],
        epochs: 2,
    },
    Workload {
        name: "seed",
        samples: 100,
        batch_size: 10,
        hidden: &[18, 18, 4],
        epochs: 150,
    },
    Workload {
        name: "scaled",
        samples: 100_000,
        batch_size: 1_000,
        hidden: &[256, 256, 64],
        epochs: 5,
    },
    Workload {
        name: "large",
        samples: 1_000_000,
        batch_size: 10_000,
        hidden: &[1024, 1024, 256],
        epochs: 1,
    },
];

impl Workload {
    /// Looks a workload up by name.
    pub fn named(name: &str) -> Option<Workload> {
        WORKLOADS.into_iter().find(|w| w.name == name)
    }

    /// The run config of this workload: the seed's, resized.
    pub fn config(&self) -> RunConfig {
        let mut config = RunConfig::default();
        config.data.samples = self.samples;
        config.model.hidden = self.hidden.to_vec();
        config.training.batch_size = self.batch_size;
        config.training.epochs = self.epochs;
        config
    }

    /// Optimiser steps in one run.
    pub fn steps(&self) -> usize {
        self.samples.div_ceil(self.batch_size) * self.epochs
    }
}

/// What one child process measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Seconds of the training loop (data and network already built).
    pub loop_s: f64,
    /// Optimiser steps taken.
    pub steps: usize,
    /// Training rows processed (`samples * epochs`).
    pub samples: usize,
    /// Peak resident memory of the process, bytes (`VmHWM`; Linux only).
    pub peak_rss_bytes: Option<u64>,
    /// Final loss, so a broken run cannot pass for a fast one.
    pub final_loss: f64,
}

impl Measurement {
    /// Optimiser steps per second of the training loop.
    pub fn steps_per_s(&self) -> f64 {
        self.steps as f64 / self.loop_s
    }
}

/// Ours against theirs, round by round: run `i` of each was measured next to
/// the other, so their ratio cancels most of a shared machine's drift.
/// `None` when the two lists differ in length or are empty.
pub fn paired_ratios(ours: &[f64], theirs: &[f64]) -> Option<Spread> {
    if ours.is_empty() || ours.len() != theirs.len() {
        return None;
    }
    let ratios: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| a / b).collect();
    Some(Spread::of(&ratios))
}

/// The machine in one line, for every table of figures: CPU model, logical
/// cores, and the widest vector instructions it offers (they decide which
/// matrix-multiply kernels run).
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim().to_string())
        })
    };
    let model = field("model name").unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let flags = field("flags").unwrap_or_default();
    let has = |flag: &str| flags.split_whitespace().any(|f| f == flag);
    let vectors = if has("avx512f") {
        "AVX-512"
    } else if has("avx2") {
        "AVX2"
    } else {
        "no AVX2"
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {cores} cores, {vectors}")
}

/// Builds the workload's data and network on `backend`, then times the loop.
pub fn measure(workload: &Workload, backend: &Backend) -> anyhow::Result<Measurement> {
    let config = workload.config();
    let train_rows = data::noise(
        config.data.samples,
        config
            .data
            .features
            .unwrap_or(crate::config::DEFAULT_FEATURES),
        config.seed,
    );
    let split = Split {
        train: train_rows,
        validation: None,
        test: None,
        standardizer: None,
        csv_header: None,
    };
    let weights = initial_weights_for(&config);
    let mut trainer = Trainer::new(&config, backend, &split, &weights)?;
    let started = Instant::now();
    let mut final_loss = f64::NAN;
    // Each epoch's loss is read back once, which also waits for the device.
    trainer.fit(workload.epochs, &AtomicBool::new(false), |_, record| {
        final_loss = record.loss;
        Ok(())
    })?;
    let loop_s = started.elapsed().as_secs_f64();
    Ok(Measurement {
        loop_s,
        steps: trainer.steps(),
        samples: workload.samples * workload.epochs,
        peak_rss_bytes: peak_rss_bytes(),
        final_loss,
    })
}

/// The process's peak resident set size, from `/proc/self/status`.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_have_the_issue_sizes() {
        let seed = Workload::named("seed").unwrap();
        assert_eq!(seed.steps(), 1500);
        assert_eq!(seed.config(), RunConfig::default());
        assert_eq!(Workload::named("scaled").unwrap().steps(), 500);
        assert_eq!(Workload::named("large").unwrap().steps(), 100);
    }

    #[test]
    fn ratios_pair_runs_of_the_same_round() {
        let spread = paired_ratios(&[10.0, 30.0, 20.0], &[5.0, 10.0, 5.0]).unwrap();
        assert_eq!((spread.median, spread.min, spread.max), (3.0, 2.0, 4.0));
        assert_eq!(paired_ratios(&[1.0], &[1.0, 2.0]), None);
        assert_eq!(paired_ratios(&[], &[]), None);
    }
}
