//! Training: the [`trainer::Trainer`] (one step, one `fit` loop), the seeded
//! initial weights, the random streams, the per-layer diagnostics and the
//! divergence check.

pub mod clipping;
pub mod diagnostics;
pub mod divergence;
pub mod early_stop;
pub mod init;
pub mod metric;
pub mod optimizer;
pub mod penalty;
pub mod rng;
pub mod schedule;
pub mod state_check;
pub mod trainer;
