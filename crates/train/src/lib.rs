//! Activation Lab's trainer as a library: config, data, backends, the training
//! loop and the experiments. The `train` binary only parses arguments and
//! calls [`commands::dispatch`].

pub mod backend;
pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod diagnostics;
pub mod divergence;
pub mod error;
pub mod experiments;
pub mod init;
pub mod interrupt;
pub mod memory;
pub mod metrics;
pub mod output;
pub mod plot;
pub mod progress;
pub mod rng;
pub mod run_dir;
pub mod trainer;
pub mod weights;
