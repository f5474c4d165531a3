//! Activation Lab's trainer as a library: config, data, backends, the training
//! loop, run directories and the experiments. It returns values and typed
//! errors and never prints; the `train` binary (`src/bin/train/`) owns the
//! flags, the printing, the progress bars, the signals and the exit codes.

pub mod backend;
pub mod bench;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod diagnostics;
pub mod divergence;
pub mod error;
pub mod experiments;
pub mod init;
pub mod memory;
pub mod metrics;
pub mod output;
pub mod plot;
pub mod rng;
pub mod run_dir;
pub mod stats;
pub mod trainer;
pub mod weights;
