//! Activation Lab's trainer as a library: config, data, backends, the training
//! loop, run directories and the experiments. It returns values and typed
//! errors and never prints; the `train` binary (`src/bin/train/`) owns the
//! flags, the printing, the progress bars, the signals and the exit codes.
//!
//! Data flows one way: [`config`] -> [`data`] -> [`training`] (on a
//! [`backend`]) -> [`io`] and [`experiments`]; [`session`] is a run's life in
//! its directory.

pub mod backend;
pub mod config;
pub mod data;
pub mod error;
pub mod experiments;
pub mod format;
pub mod io;
pub mod memory;
pub mod parallel;
pub mod plot;
pub mod regions;
pub mod session;
pub mod significance;
pub mod stats;
pub mod training;
