//! Checkpoints: everything `--resume`, `predict` and `eval` need, in the
//! run's output directory.
//!
//! `model.safetensors` (PyTorch's names and layout), `optimizer.bpk` (Adam's
//! moments, Burn's own format), `config.toml` and `metrics.csv` are each
//! written to a temporary file and renamed; `checkpoint.toml` comes last and
//! records the SHA-256 of the model and optimizer files, so a checkpoint torn
//! by a crash between two renames is refused instead of silently mixed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{RunConfig, describe_io_error};
use crate::data::Standardizer;
use crate::error::UserError;
use crate::metrics::{read_records, write_metrics};
use crate::output::write_atomic;
use crate::trainer::{EpochRecord, Trainer};
use crate::user_error;
use crate::weights::to_safetensors;

/// The weights, loadable by PyTorch's `load_state_dict`.
pub const MODEL_FILE: &str = "model.safetensors";
/// Adam's state.
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";
/// Where training stands; written last.
pub const STATE_FILE: &str = "checkpoint.toml";
/// The resolved run config.
pub const CONFIG_FILE: &str = "config.toml";
/// Per-epoch records so far.
pub const METRICS_FILE: &str = "metrics.csv";

/// Where training stood when the checkpoint was taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointState {
    /// Epochs finished.
    pub epoch: usize,
    /// Batches of the next epoch already taken (non-zero only after Ctrl-C).
    pub batch: usize,
    /// Optimiser steps taken.
    pub steps: usize,
    /// Seconds spent in the training loop so far.
    pub elapsed_s: f64,
    /// SHA-256 of `model.safetensors`.
    pub model_sha256: String,
    /// SHA-256 of `optimizer.bpk`.
    pub optimizer_sha256: String,
    /// The feature scaling the network was trained with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standardizer: Option<Standardizer>,
}

/// A checkpoint read back from disk and checked.
#[derive(Debug)]
pub struct Checkpoint {
    /// The directory it lives in.
    pub dir: PathBuf,
    /// The run's config.
    pub config: RunConfig,
    /// Where training stood.
    pub state: CheckpointState,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Writes a checkpoint of `trainer` into `dir`.
pub fn save(
    dir: &Path,
    config: &RunConfig,
    trainer: &Trainer,
    records: &[EpochRecord],
    standardizer: Option<&Standardizer>,
) -> anyhow::Result<()> {
    let model = to_safetensors(trainer.model())?;
    let optimizer = trainer.optimizer_bytes()?;
    write_atomic(&dir.join(CONFIG_FILE), config.to_toml().as_bytes())?;
    write_atomic(&dir.join(MODEL_FILE), &model)?;
    write_atomic(&dir.join(OPTIMIZER_FILE), &optimizer)?;
    write_metrics(&dir.join(METRICS_FILE), records)?;
    let position = trainer.position();
    let state = CheckpointState {
        epoch: position.epoch,
        batch: position.batch,
        steps: position.steps,
        elapsed_s: trainer.seconds(),
        model_sha256: sha256_hex(&model),
        optimizer_sha256: sha256_hex(&optimizer),
        standardizer: standardizer.cloned(),
    };
    let text = format!(
        "# Written by `train` after {} and {}; do not edit.\n{}",
        MODEL_FILE,
        OPTIMIZER_FILE,
        toml::to_string_pretty(&state)?
    );
    write_atomic(&dir.join(STATE_FILE), text.as_bytes())
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, UserError> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|error| {
        UserError::new(format!(
            "cannot read {}: {}",
            path.display(),
            describe_io_error(&error)
        ))
    })
}

impl Checkpoint {
    /// Reads `dir`'s config and state; errors say which file is missing or bad.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            return Err(user_error!(
                "{}: no such directory (expected the --out directory of a run)",
                dir.display()
            ));
        }
        let state_path = dir.join(STATE_FILE);
        if !state_path.exists() {
            return Err(user_error!(
                "{}: no {STATE_FILE}; not a checkpoint written by `train --out`",
                dir.display()
            ));
        }
        let text = String::from_utf8(read(dir, STATE_FILE)?)
            .map_err(|_| user_error!("{}: not UTF-8 text", state_path.display()))?;
        let state: CheckpointState = toml::from_str(&text).map_err(|error| {
            user_error!(
                "{}: {}",
                state_path.display(),
                error.message().replace('\n', " ")
            )
        })?;
        let config = RunConfig::from_file(&dir.join(CONFIG_FILE))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            state,
        })
    }

    fn verified(&self, name: &str, digest: &str) -> anyhow::Result<Vec<u8>> {
        let bytes = read(&self.dir, name)?;
        if sha256_hex(&bytes) != digest {
            return Err(user_error!(
                "{}: does not match {STATE_FILE} (the checkpoint was torn by a crash or edited); \
                 start again or restore the file",
                self.dir.join(name).display()
            ));
        }
        Ok(bytes)
    }

    /// The path of the weights file, after checking it is the one the state names.
    pub fn model_path(&self) -> anyhow::Result<PathBuf> {
        self.verified(MODEL_FILE, &self.state.model_sha256)?;
        Ok(self.dir.join(MODEL_FILE))
    }

    /// Adam's state, checked against the digest.
    pub fn optimizer_bytes(&self) -> anyhow::Result<Vec<u8>> {
        self.verified(OPTIMIZER_FILE, &self.state.optimizer_sha256)
    }

    /// The per-epoch records up to the checkpoint.
    pub fn records(&self) -> anyhow::Result<Vec<EpochRecord>> {
        let mut records = read_records(&self.dir.join(METRICS_FILE))?;
        records.truncate(self.state.epoch);
        if records.len() != self.state.epoch {
            return Err(user_error!(
                "{}: has {} epochs, {STATE_FILE} says {}",
                self.dir.join(METRICS_FILE).display(),
                records.len(),
                self.state.epoch
            ));
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_directory_without_a_checkpoint_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let error = Checkpoint::open(dir.path()).unwrap_err().to_string();
        assert!(error.contains("no checkpoint.toml"), "{error}");
        let error = Checkpoint::open(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("no such directory"), "{error}");
    }
}
