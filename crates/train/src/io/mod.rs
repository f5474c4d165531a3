//! Everything that reads or writes a run's files: atomic writes, the run
//! directory (names, lock, generations), checkpoints, PyTorch-named weights
//! and the per-epoch history.

pub mod atomic;
pub mod checkpoint;
pub mod history;
pub mod run_dir;
pub mod weights;
