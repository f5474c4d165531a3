//! Checkpoints: everything `--resume`, `predict` and `eval` need, written as
//! whole generations into a [`RunDir`].
//!
//! A generation holds `model.safetensors` (PyTorch's names and layout),
//! `optimizer.bpk` (Adam's moments, Burn's own format), `config.toml`,
//! `metrics.csv` and, last, `checkpoint.toml`: the position, the SHA-256 of
//! each of the other files and a fingerprint of the training data. Resume
//! takes the newest generation whose digests all hold and falls back to the
//! one before with a warning.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::RunConfig;
use crate::data::{Split, Standardizer};
use crate::error::UserError;
use crate::error::describe_io_error;
use crate::io::history::{metrics_csv, read_records};
use crate::io::run_dir::{
    BEST_FILE, CONFIG_FILE, METRICS_FILE, MODEL_FILE, OPTIMIZER_FILE, RunDir, STATE_FILE,
};
use crate::io::weights::to_safetensors;
use crate::training::early_stop::EarlyStopState;
use crate::training::trainer::{EpochRecord, Position, Trainer};
use crate::user_error;

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
    /// The generation folder this state belongs to, relative to the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
    /// SHA-256 of `model.safetensors`.
    pub model_sha256: String,
    /// SHA-256 of `optimizer.bpk`.
    pub optimizer_sha256: String,
    /// SHA-256 of `config.toml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_sha256: Option<String>,
    /// SHA-256 of `metrics.csv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_sha256: Option<String>,
    /// SHA-256 of the training and validation values the run learns from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_sha256: Option<String>,
    /// The feature scaling the network was trained with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standardizer: Option<Standardizer>,
    /// Early stopping's state, when the run uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stop: Option<EarlyStopState>,
    /// SHA-256 of `best.safetensors` (the best validation epoch's weights).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_sha256: Option<String>,
    /// Mid-epoch, with diagnostics: the epoch's gradient-norm sums so far,
    /// so the resumed epoch's means are the uninterrupted ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_grad_norms: Option<PartialGradNorms>,
    /// The full-pass training loss before the first step: a resumed run's
    /// summary compares its final loss with its real start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_train_loss: Option<f64>,
}

/// An epoch's per-layer gradient-norm sums over its first `steps` steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialGradNorms {
    /// Steps summed.
    pub steps: usize,
    /// One sum per layer, input side first.
    pub sums: Vec<f64>,
}

impl CheckpointState {
    /// Where training stood.
    pub fn position(&self) -> Position {
        Position {
            epoch: self.epoch,
            batch: self.batch,
            steps: self.steps,
        }
    }
}

/// A checkpoint read back from disk and checked.
#[derive(Debug)]
pub struct Checkpoint {
    /// The directory its files live in (a generation, or a run's top level).
    pub dir: PathBuf,
    /// The run's config.
    pub config: RunConfig,
    /// Where training stood.
    pub state: CheckpointState,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// SHA-256 of the values a run trains and validates on: a changed CSV file,
/// generator or standardisation changes it.
pub fn data_fingerprint(split: &Split) -> String {
    let mut hasher = Sha256::new();
    let parts = std::iter::once(&split.train).chain(split.validation.as_ref());
    for part in parts {
        hasher.update((part.features as u64).to_le_bytes());
        for value in part.x.iter().chain(&part.y) {
            hasher.update(value.to_le_bytes());
        }
    }
    hex(&hasher.finalize())
}

/// Writes a run's checkpoints into the directory it holds the lock of.
#[derive(Debug)]
pub struct Checkpointer {
    dir: RunDir,
    config_toml: String,
    data_sha256: String,
    standardizer: Option<Standardizer>,
    /// Epoch of the newest complete generation (for messages).
    last_epoch: Option<usize>,
}

impl Checkpointer {
    /// Checkpoints of the run `config` trains on `split`, into `dir`.
    pub fn new(dir: RunDir, config: &RunConfig, split: &Split) -> Self {
        Self {
            config_toml: config.to_toml_in(dir.path()),
            dir,
            data_sha256: data_fingerprint(split),
            standardizer: split.standardizer.clone(),
            last_epoch: None,
        }
    }

    /// The run directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The epoch of the newest generation this run can continue from.
    pub fn last_epoch(&self) -> Option<usize> {
        self.last_epoch
    }

    /// Writes a generation of `trainer`'s state, publishes it as the run's
    /// stable files and drops generations older than the last two. Weights
    /// that are not finite are refused (a [`crate::training::divergence::Diverged`]
    /// error) and nothing is written.
    pub fn save(&mut self, trainer: &Trainer, records: &[EpochRecord]) -> anyhow::Result<()> {
        trainer.finite_weights()?;
        let model = to_safetensors(trainer.model())?;
        let best = trainer.best_model().map(to_safetensors).transpose()?;
        let optimizer = trainer.optimizer_bytes()?;
        let metrics = metrics_csv(records, trainer.model().activation)?;
        let position = trainer.position();
        let generation = crate::io::run_dir::generation_path(position.steps);
        let state = CheckpointState {
            epoch: position.epoch,
            batch: position.batch,
            steps: position.steps,
            elapsed_s: trainer.seconds(),
            generation: Some(generation),
            model_sha256: sha256_hex(&model),
            optimizer_sha256: sha256_hex(&optimizer),
            config_sha256: Some(sha256_hex(self.config_toml.as_bytes())),
            metrics_sha256: Some(sha256_hex(&metrics)),
            data_sha256: Some(self.data_sha256.clone()),
            standardizer: self.standardizer.clone(),
            early_stop: trainer.early_stop(),
            best_sha256: best.as_deref().map(sha256_hex),
            partial_grad_norms: trainer
                .partial_grad_norms()
                .map(|(steps, sums)| PartialGradNorms { steps, sums }),
            start_train_loss: trainer.start_loss(),
        };
        let state = format!(
            "# Written by `train` after the files beside it; do not edit.\n{}",
            toml::to_string_pretty(&state)?
        );
        let mut files: Vec<(&str, &[u8])> = vec![
            (CONFIG_FILE, self.config_toml.as_bytes()),
            (MODEL_FILE, &model),
            (OPTIMIZER_FILE, &optimizer),
            (METRICS_FILE, &metrics),
        ];
        if let Some(best) = &best {
            files.push((BEST_FILE, best));
        }
        // The state last: it names the others' digests.
        files.push((STATE_FILE, state.as_bytes()));
        self.dir.write_generation(position.steps, &files)?;
        self.last_epoch = Some(position.epoch);
        self.dir.publish(&files)?;
        self.dir.prune()
    }

    /// Marks the run as continuing from `checkpoint` (its newest generation).
    pub fn continuing(mut self, checkpoint: &Checkpoint) -> Self {
        self.last_epoch = Some(checkpoint.state.epoch);
        self
    }
}

/// Makes `run`'s stable files those of `checkpoint`: a resume may start from
/// a generation that a crash kept from being published.
pub fn republish(run: &RunDir, checkpoint: &Checkpoint) -> anyhow::Result<()> {
    let mut names = vec![CONFIG_FILE, MODEL_FILE, METRICS_FILE];
    if checkpoint.state.best_sha256.is_some() {
        names.push(BEST_FILE);
    }
    names.push(STATE_FILE);
    let contents = names
        .iter()
        .map(|name| read(&checkpoint.dir, name))
        .collect::<Result<Vec<_>, _>>()?;
    let files: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&contents)
        .map(|(name, bytes)| (*name, bytes.as_slice()))
        .collect();
    run.publish(&files)
}

/// Reads a run file whole; one that is not a regular file (a device or a
/// pipe planted in its place) is refused rather than read without end.
fn read(dir: &Path, name: &str) -> Result<Vec<u8>, UserError> {
    use std::io::Read as _;
    let path = dir.join(name);
    let cannot =
        |reason: String| UserError::new(format!("cannot read {}: {reason}", path.display()));
    let mut file = std::fs::File::open(&path).map_err(|error| cannot(describe_io_error(&error)))?;
    if !file.metadata().is_ok_and(|meta| meta.is_file()) {
        return Err(cannot("not a regular file".into()));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|error| cannot(describe_io_error(&error)))?;
    Ok(bytes)
}

impl Checkpoint {
    /// Reads a run's stable config and state (for `predict` and `eval`);
    /// errors say which file is missing or bad.
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
        if let Some(standardizer) = &state.standardizer {
            let input = config.model.input;
            let (means, scales) = (standardizer.mean.len(), standardizer.scale.len());
            if means != input || scales != input {
                return Err(user_error!(
                    "{}: the standardizer has {means} means and {scales} scales, the network \
                     takes {input} features",
                    state_path.display()
                ));
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            state,
        })
    }

    /// The newest generation of `run` whose files all match their digests;
    /// with the reasons older-looking ones were passed over, as warnings.
    pub fn latest(run: &RunDir) -> anyhow::Result<(Self, Vec<String>)> {
        let mut skipped = Vec::new();
        for generation in run.generations()? {
            match Self::open(&generation).and_then(|checkpoint| {
                checkpoint.verify()?;
                Ok(checkpoint)
            }) {
                Ok(checkpoint) => {
                    let warnings = skipped
                        .iter()
                        .map(|reason| {
                            format!(
                                "{reason}; resuming from the generation before it, {} (epoch {})",
                                generation.display(),
                                checkpoint.state.epoch
                            )
                        })
                        .collect();
                    return Ok((checkpoint, warnings));
                }
                Err(error) => skipped.push(crate::error::one_line(&error)),
            }
        }
        if skipped.is_empty() {
            return Err(user_error!(
                "{}: no checkpoint to resume from (no {}/ folder of generations; was it written \
                 by `train --out`?)",
                run.path().display(),
                crate::io::run_dir::GENERATIONS_DIR
            ));
        }
        Err(user_error!(
            "{}: no intact checkpoint to resume from ({})",
            run.path().display(),
            skipped.join("; ")
        ))
    }

    /// Checks every file of the generation against its digest.
    fn verify(&self) -> anyhow::Result<()> {
        let state = &self.state;
        let digests = [
            (MODEL_FILE, Some(&state.model_sha256)),
            (OPTIMIZER_FILE, Some(&state.optimizer_sha256)),
            (CONFIG_FILE, state.config_sha256.as_ref()),
            (METRICS_FILE, state.metrics_sha256.as_ref()),
        ];
        if let Some(best) = &state.best_sha256 {
            self.verified(BEST_FILE, best)?;
        }
        for (name, digest) in digests {
            let Some(digest) = digest else {
                return Err(user_error!(
                    "{}: names no digest of {name}",
                    self.dir.join(STATE_FILE).display()
                ));
            };
            self.verified(name, digest)?;
        }
        Ok(())
    }

    fn verified(&self, name: &str, digest: &str) -> anyhow::Result<Vec<u8>> {
        let bytes = read(&self.dir, name)?;
        if sha256_hex(&bytes) != digest {
            return Err(user_error!(
                "{}: does not match {STATE_FILE} (damaged or edited)",
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

    /// The best validation epoch's weights file, checked against its digest
    /// (`None` for a run without early stopping).
    pub fn best_path(&self) -> anyhow::Result<Option<PathBuf>> {
        match &self.state.best_sha256 {
            Some(digest) => {
                self.verified(BEST_FILE, digest)?;
                Ok(Some(self.dir.join(BEST_FILE)))
            }
            None => Ok(None),
        }
    }

    /// Adam's state, checked against the digest.
    pub fn optimizer_bytes(&self) -> anyhow::Result<Vec<u8>> {
        self.verified(OPTIMIZER_FILE, &self.state.optimizer_sha256)
    }

    /// Refuses to continue on data other than the run's.
    pub fn check_data(&self, split: &Split) -> anyhow::Result<()> {
        let now = data_fingerprint(split);
        match &self.state.data_sha256 {
            Some(then) if *then != now => Err(user_error!(
                "the training data changed since {} was written (data SHA-256 {}... then, {}... \
                 now); resume needs the same data: restore it or start a new run",
                self.dir.display(),
                &then[..12.min(then.len())],
                &now[..12]
            )),
            _ => Ok(()),
        }
    }

    /// The per-epoch records up to the checkpoint.
    pub fn records(&self) -> anyhow::Result<Vec<EpochRecord>> {
        let mut records = read_records(&self.dir.join(METRICS_FILE), self.config.model.activation)?;
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
