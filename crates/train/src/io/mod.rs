//! Everything that reads or writes a run's files: atomic writes, the run
//! directory (names, lock, generations), checkpoints, PyTorch-named weights
//! the per-epoch history and the final result.

pub mod atomic;
pub mod checkpoint;
pub mod history;
pub mod no_follow;
pub mod result;
pub mod run_dir;
pub mod weights;
