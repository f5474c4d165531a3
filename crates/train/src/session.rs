//! One home for a run's life. Whether a run directory may be started,
//! continued, or is done is answered here, from its checkpoint state and
//! `result.json`, read under the directory's lock; so are the checkpoints
//! along the way and the `result.json` that ends it. `train`, the live
//! lab's workers and `sweep run` all go through it, so they cannot disagree
//! about what a directory holds.
//!
//! ```text
//! RunStatus       what a locked directory holds (empty, unfinished, finished, stopped early, diverged)
//! RunError        why a directory was refused, typed (holds a run, another command's, done)
//! RunSession      a run being trained: its records, checkpoints on time, the end
//! resume()        a run continued from its newest intact checkpoint
//! point_action()  what `sweep run` does with a point, decided under its lock
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context;
use model::LayerWeights;

use crate::backend::{Backend, BackendKind};
use crate::config::{Overrides, ResolvedConfig, RunConfig, ScheduleKind};
use crate::data::{self, Split};
use crate::io::checkpoint::{self, Checkpoint, Checkpointer};
use crate::io::result::{RESULT_FILE, RunResult, read_result, remove_result, write_result};
use crate::io::run_dir::{BEST_FILE, CONFIG_FILE, METRICS_FILE, RunDir, RunDirBusy, STATE_FILE};
use crate::io::weights::read_trained_weights;
use crate::training::divergence::Diverged;
use crate::training::trainer::{EpochRecord, Trainer};
use crate::user_error;

/// What a run directory holds, read while holding its lock.
#[derive(Clone, Debug, PartialEq)]
pub enum RunStatus {
    /// No run yet (nothing, or a writer killed before its first checkpoint).
    Empty,
    /// Its newest checkpoint is at `epoch` (and `batch` batches into the
    /// next) of `planned` epochs.
    Unfinished {
        epoch: usize,
        batch: usize,
        planned: usize,
    },
    /// Every planned epoch is done; `recorded` once `result.json` says so
    /// (a run killed between its last checkpoint and its result is not).
    Finished { epochs: usize, recorded: bool },
    /// Early stopping ended it at `epoch`.
    StoppedEarly {
        epoch: usize,
        best_epoch: usize,
        patience_used: usize,
    },
    /// It diverged in `epoch`; its last finite checkpoint is `kept`.
    Diverged {
        epoch: usize,
        kept: usize,
        planned: usize,
    },
    /// It holds checkpoints, none of them intact; the reason.
    Unreadable(String),
}

impl RunStatus {
    /// Reads what `dir` holds; the caller holds its lock.
    pub fn read(dir: &RunDir) -> Self {
        if !RunDir::holds_run(dir.path()) {
            return Self::Empty;
        }
        match Checkpoint::latest(dir) {
            Ok((latest, _)) => Self::of(&latest, read_result(dir.path()).ok().flatten()),
            Err(error) => Self::Unreadable(crate::error::one_line(&error)),
        }
    }

    /// What the newest intact checkpoint and the run's result (if any) say.
    fn of(latest: &Checkpoint, result: Option<RunResult>) -> Self {
        let state = &latest.state;
        let planned = latest.config.training.epochs;
        if let Some(epoch) = result.as_ref().and_then(|result| result.diverged_epoch) {
            return Self::Diverged {
                epoch,
                kept: state.epoch,
                planned,
            };
        }
        if let Some(early) = state.early_stop.filter(|early| early.should_stop()) {
            return Self::StoppedEarly {
                epoch: state.epoch,
                best_epoch: early.best_epoch,
                patience_used: early.epochs_without_improvement,
            };
        }
        if state.epoch >= planned && state.batch == 0 {
            return Self::Finished {
                epochs: state.epoch,
                recorded: result.is_some(),
            };
        }
        Self::Unfinished {
            epoch: state.epoch,
            batch: state.batch,
            planned,
        }
    }

    /// Whether the run needs no more training (finished, stopped early or
    /// diverged), whether or not its result is recorded yet.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Self::Finished { .. } | Self::StoppedEarly { .. } | Self::Diverged { .. }
        )
    }
}

/// Why a run directory was refused (a busy one is [`RunDirBusy`]). Callers
/// in the same process match the kind; the `train` binary exits with 2.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A fresh run was pointed at a directory that holds a run.
    #[error("{}", holds_run_message(.path, .status))]
    HoldsRun { path: PathBuf, status: RunStatus },
    /// A fresh run was pointed at another command's output.
    #[error(
        "{} holds another command's output ({file} without checkpoints, as `train diagnose` or \
         `train compare` write); choose another --out",
        .path.display()
    )]
    ForeignOutput { path: PathBuf, file: &'static str },
    /// `--resume` of a run that needs no more training.
    #[error("{}", done_message(.path, .status))]
    Done { path: PathBuf, status: RunStatus },
}

fn holds_run_message(path: &Path, status: &RunStatus) -> String {
    let shown = path.display();
    match status {
        RunStatus::Unfinished { epoch, planned, .. } => format!(
            "{shown} holds an unfinished run (epoch {epoch} of {planned}); continue it with \
             `train --resume {shown}` or choose another --out"
        ),
        RunStatus::Finished { epochs, .. } => format!(
            "{shown} holds a finished run ({epochs} epochs); train it further with `train \
             --resume {shown} --epochs N`, or choose another --out"
        ),
        RunStatus::StoppedEarly { epoch, .. } => format!(
            "{shown} holds a finished run (stopped early at epoch {epoch}); choose another --out"
        ),
        RunStatus::Diverged { epoch, .. } => {
            format!("{shown} holds a run that diverged in epoch {epoch}; choose another --out")
        }
        RunStatus::Empty | RunStatus::Unreadable(_) => {
            format!("{shown} already holds a run's files; choose another --out (or remove it)")
        }
    }
}

fn done_message(path: &Path, status: &RunStatus) -> String {
    let shown = path.display();
    match status {
        RunStatus::StoppedEarly {
            epoch,
            best_epoch,
            patience_used,
        } => format!(
            "{shown} stopped early at epoch {epoch} (no better validation loss than epoch \
             {best_epoch}'s for {patience_used} epochs); it is finished: its best weights are in \
             {}",
            path.join(BEST_FILE).display()
        ),
        RunStatus::Diverged {
            epoch,
            kept,
            planned,
        } => format!(
            "{shown} diverged in epoch {epoch} and is finished (its last finite checkpoint is \
             epoch {kept}); to train it again anyway pass --epochs N with N > {planned}"
        ),
        RunStatus::Unfinished { epoch, batch, .. } if *batch > 0 => format!(
            "{shown} has trained {epoch} epochs and {batch} batches of the next; pass --epochs N \
             with N > {epoch} to train further"
        ),
        RunStatus::Unfinished { epoch, .. } | RunStatus::Finished { epochs: epoch, .. } => format!(
            "{shown} has trained all {epoch} epochs of its run; pass --epochs N with N > {epoch} \
             to train further"
        ),
        RunStatus::Empty | RunStatus::Unreadable(_) => format!("{shown} holds no run to resume"),
    }
}

/// Files another command (`diagnose`, `compare`) leaves in its `--out`; a
/// run publishes its metrics.csv only with its first checkpoint.
const FOREIGN_FILES: [&str; 3] = [METRICS_FILE, "summary.csv", "compare.csv"];

/// A run being trained: its records and, with a directory, its checkpoints
/// (the step-0 one, every `training.checkpoint_every` epochs, at a stop, at
/// the end) and the `result.json` that makes it done.
#[derive(Debug)]
pub struct RunSession {
    checkpointer: Option<Checkpointer>,
    config: RunConfig,
    records: Vec<EpochRecord>,
    /// Steps of the newest checkpoint written or continued from.
    saved_steps: Option<usize>,
}

impl RunSession {
    /// A run without a directory: records only.
    pub fn in_memory(config: &RunConfig) -> Self {
        Self {
            checkpointer: None,
            config: config.clone(),
            records: Vec::new(),
            saved_steps: None,
        }
    }

    /// Takes `path` for a fresh run of `config` on `split`: refused when
    /// another process holds it ([`RunDirBusy`]), when it holds a run
    /// ([`RunError::HoldsRun`]) or another command's output.
    pub fn create(path: &Path, config: &RunConfig, split: &Split) -> anyhow::Result<Self> {
        let run_dir = RunDir::create(path)?;
        match RunStatus::read(&run_dir) {
            RunStatus::Empty => {}
            status => {
                return Err(RunError::HoldsRun {
                    path: path.to_path_buf(),
                    status,
                }
                .into());
            }
        }
        if let Some(file) = FOREIGN_FILES
            .into_iter()
            .find(|file| path.join(file).exists())
        {
            return Err(RunError::ForeignOutput {
                path: path.to_path_buf(),
                file,
            }
            .into());
        }
        // A detected CSV header is recorded as decided: a resume or a
        // replay of `config.toml` reads the file the same way.
        let mut config = config.clone();
        if let Some(decision) = split.csv_header {
            config.data.header = crate::config::CsvHeader(Some(decision.header));
        }
        Ok(Self {
            checkpointer: Some(Checkpointer::new(run_dir, &config, split)),
            config,
            records: Vec::new(),
            saved_steps: None,
        })
    }

    /// The run directory, if it has one.
    pub fn path(&self) -> Option<&Path> {
        self.checkpointer.as_ref().map(Checkpointer::path)
    }

    /// Every epoch's record so far (a resumed run's earlier ones first).
    pub fn records(&self) -> &[EpochRecord] {
        &self.records
    }

    /// The first checkpoint, of step 0: a run is resumable from its first
    /// instant, and a divergence in its first epochs keeps its start.
    pub fn start(&mut self, trainer: &Trainer) -> anyhow::Result<()> {
        self.save(trainer)
    }

    /// Records an epoch and checkpoints when one is due (the last epoch's
    /// comes with [`RunSession::finish`]).
    pub fn epoch_done(&mut self, trainer: &Trainer, record: EpochRecord) -> anyhow::Result<()> {
        self.records.push(record);
        let every = self.config.training.checkpoint_every;
        let epoch = trainer.position().epoch;
        if every > 0 && epoch.is_multiple_of(every) && epoch < self.config.training.epochs {
            self.save(trainer)?;
        }
        Ok(())
    }

    /// Checkpoints now (a stop, a pause, a download), unless the newest
    /// checkpoint is of this very step. A divergence found on the way says
    /// which checkpoint the run keeps.
    pub fn save(&mut self, trainer: &Trainer) -> anyhow::Result<()> {
        let Some(checkpointer) = self.checkpointer.as_mut() else {
            return Ok(());
        };
        if self.saved_steps == Some(trainer.steps()) {
            return Ok(());
        }
        match checkpointer.save(trainer, &self.records) {
            Ok(()) => {
                self.saved_steps = Some(trainer.steps());
                Ok(())
            }
            Err(error) => Err(self.diverged(trainer, error)),
        }
    }

    /// The run is done (every epoch, or stopped early): the final
    /// checkpoint, then `result.json`, which makes it done.
    pub fn finish(&mut self, trainer: &Trainer) -> anyhow::Result<()> {
        self.save(trainer)?;
        if let Some(path) = self.path() {
            let mut result = RunResult::of(
                &self.config,
                &self.records,
                None,
                trainer.seconds(),
                trainer.start_loss(),
            );
            if let Some(test) = trainer.test_scores() {
                result.test_loss = Some(test.loss);
                result.test_accuracy = test.accuracy;
            }
            write_result(path, &result)?;
        }
        Ok(())
    }

    /// Training failed with `error`. A divergence is the end of the run:
    /// `result.json` records its epoch (the last finite checkpoint stays)
    /// and the error names what the directory keeps. Other errors pass.
    pub fn diverged(&mut self, trainer: &Trainer, error: anyhow::Error) -> anyhow::Error {
        let mut diverged = match error.downcast::<Diverged>() {
            Ok(diverged) => diverged,
            Err(error) => return error,
        };
        let Some(checkpointer) = self.checkpointer.as_ref() else {
            return diverged.into();
        };
        let result = RunResult::of(
            &self.config,
            &self.records,
            Some(diverged.epoch),
            trainer.seconds(),
            trainer.start_loss(),
        );
        if let Err(error) = write_result(checkpointer.path(), &result) {
            return error.context(diverged.to_string());
        }
        diverged.note = match checkpointer.last_epoch() {
            Some(epoch) => format!(
                "{} keeps its last finite checkpoint, epoch {epoch}",
                checkpointer.path().display()
            ),
            None => format!("nothing was written to {}", checkpointer.path().display()),
        };
        diverged.into()
    }
}

/// What `--resume` may change.
#[derive(Clone, Debug, Default)]
pub struct ResumeOptions {
    /// `--epochs`: train to this many epochs.
    pub epochs: Option<usize>,
    /// `--checkpoint-every`.
    pub checkpoint_every: Option<usize>,
    /// `--backend`; the build's default when absent.
    pub backend: Option<BackendKind>,
}

/// A run continued from its newest intact checkpoint, ready to train.
pub struct Resumed {
    pub session: RunSession,
    pub trainer: Trainer,
    pub resolved: ResolvedConfig,
    pub backend: Backend,
    /// Generations passed over (damaged), as warnings to show.
    pub warnings: Vec<String>,
}

/// Continues the run in `dir`: refused when busy, when it holds no intact
/// checkpoint, when its data changed, and when it needs no more training
/// ([`RunError::Done`]: finished, stopped early, diverged; `--epochs N`
/// beyond its plan trains a finished or diverged run further).
pub fn resume(dir: &Path, options: &ResumeOptions) -> anyhow::Result<Resumed> {
    let run_dir = RunDir::open(dir)?;
    let (checkpoint, warnings) = Checkpoint::latest(&run_dir)?;
    checkpoint::republish(&run_dir, &checkpoint)?;
    let mut overrides = Overrides::default();
    overrides
        .set("--epochs", "training.epochs", options.epochs)
        .set(
            "--checkpoint-every",
            "training.checkpoint_every",
            options.checkpoint_every,
        );
    // A schedule keeps the shape it was planned with: trained past its
    // epochs, the run continues at the schedule's final rate.
    let schedule = &checkpoint.config.training.schedule;
    if schedule.kind != ScheduleKind::Constant && schedule.horizon_epochs.is_none() {
        overrides.set(
            "--epochs",
            "training.schedule.horizon_epochs",
            options.epochs.map(|_| checkpoint.config.training.epochs),
        );
    }
    let config_path = checkpoint.dir.join(CONFIG_FILE);
    let resolved =
        ResolvedConfig::resolve(checkpoint.config.clone(), Some(&config_path), &overrides)?;
    let config = &resolved.config;
    let state = &checkpoint.state;
    let status = RunStatus::of(&checkpoint, read_result(dir).ok().flatten());
    let done = |status: RunStatus| RunError::Done {
        path: dir.to_path_buf(),
        status,
    };
    match status {
        RunStatus::StoppedEarly { .. } => return Err(done(status).into()),
        RunStatus::Diverged { planned, .. } if options.epochs.is_none_or(|n| n <= planned) => {
            return Err(done(status).into());
        }
        _ if state.epoch >= config.training.epochs => {
            let status = RunStatus::Unfinished {
                epoch: state.epoch,
                batch: state.batch,
                planned: config.training.epochs,
            };
            return Err(done(status).into());
        }
        _ => {}
    }
    let backend = Backend::open_or_default(options.backend)?;
    let split = data::load_for(config)?;
    checkpoint.check_data(&split)?;
    if split.standardizer != state.standardizer {
        return Err(user_error!(
            "the data of {} changed since the checkpoint (its standardisation differs)",
            config_path.display()
        ));
    }
    let read_weights = |path: &Path| -> anyhow::Result<Vec<LayerWeights>> {
        read_trained_weights(
            path,
            &config.layer_sizes(),
            config.model.activation,
            &backend.device,
        )
    };
    let weights = read_weights(&checkpoint.model_path()?)?;
    let trainer = Trainer::new(config, &backend, &split, &weights)?
        .restore(
            checkpoint.optimizer_bytes()?,
            state.position(),
            state.elapsed_s,
        )
        .with_context(|| format!("{}", checkpoint.dir.join(STATE_FILE).display()))?
        .with_start_loss(state.start_train_loss);
    let trainer = match &state.partial_grad_norms {
        Some(partial) => trainer.restore_grad_norms(partial.steps, &partial.sums),
        None => trainer,
    };
    let trainer = match state.early_stop {
        Some(early) => {
            let best = checkpoint
                .best_path()?
                .map(|path| read_weights(&path))
                .transpose()?;
            trainer.restore_early_stop(early, best.as_deref(), config, &backend)?
        }
        None => trainer,
    };
    let records = checkpoint.records()?;
    // Trained further, a finished run is not done until it ends again.
    remove_result(run_dir.path())?;
    let checkpointer = Checkpointer::new(run_dir, config, &split).continuing(&checkpoint);
    let session = RunSession {
        checkpointer: Some(checkpointer),
        config: config.clone(),
        records,
        saved_steps: Some(state.steps),
    };
    Ok(Resumed {
        session,
        trainer,
        resolved,
        backend,
        warnings,
    })
}

/// What `sweep run` does with one point's run directory.
#[derive(Clone, Debug, PartialEq)]
pub enum PointAction {
    /// Done before (its `result.json` is there).
    Done,
    /// It had trained every epoch but was stopped before its result was
    /// written: the result was written now, under its lock.
    Recorded,
    /// Another process holds it.
    Busy,
    /// Train it from the start (`train --out`).
    Fresh,
    /// Continue it (`train --resume`).
    Resume,
}

/// Decides under `dir`'s lock what a sweep does with the point; the lock is
/// released on return, before a child process takes it. A `result.json`
/// that cannot be read counts as missing: it is removed (the reason comes
/// back, to show) and the point trained or recorded again.
pub fn point_action(dir: &Path) -> anyhow::Result<(PointAction, Option<String>)> {
    if !dir.join(RESULT_FILE).exists() && !RunDir::holds_run(dir) {
        return Ok((PointAction::Fresh, None));
    }
    let run_dir = match RunDir::open(dir) {
        Ok(run_dir) => run_dir,
        Err(error) if error.is::<RunDirBusy>() => return Ok((PointAction::Busy, None)),
        Err(error) => return Err(error),
    };
    let damaged = match read_result(dir) {
        Ok(Some(_)) => return Ok((PointAction::Done, None)),
        Ok(None) => None,
        Err(error) => {
            remove_result(dir)?;
            Some(crate::error::one_line(&error))
        }
    };
    let action = match RunStatus::read(&run_dir) {
        RunStatus::Empty => PointAction::Fresh,
        RunStatus::Finished { .. } | RunStatus::StoppedEarly { .. } => {
            // Killed between its last generation and publishing it, the
            // stable files may still be an older generation's.
            let (checkpoint, _) = Checkpoint::latest(&run_dir)?;
            checkpoint::republish(&run_dir, &checkpoint)?;
            let records = checkpoint.records()?;
            let result = RunResult::of(
                &checkpoint.config,
                &records,
                None,
                checkpoint.state.elapsed_s,
                checkpoint.state.start_train_loss,
            );
            write_result(dir, &result)?;
            PointAction::Recorded
        }
        _ => PointAction::Resume,
    };
    Ok((action, damaged))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::training::init::initial_weights_for;

    /// A 3-epoch seed run trained in `dir` to `until` epochs (then stopped).
    fn train_in(dir: &Path, until: usize) -> (RunSession, Trainer) {
        let mut config = RunConfig::default();
        config.training.epochs = 3;
        let backend = Backend::open_or_default(BackendKind::default_for_build()).unwrap();
        let split = data::load_for(&config).unwrap();
        let mut session = RunSession::create(dir, &config, &split).unwrap();
        let weights = initial_weights_for(&config);
        let mut trainer = Trainer::new(&config, &backend, &split, &weights).unwrap();
        session.start(&trainer).unwrap();
        trainer
            .fit(until, &AtomicBool::new(false), |trainer, record| {
                session.epoch_done(trainer, record)
            })
            .unwrap();
        (session, trainer)
    }

    #[test]
    fn the_status_and_the_refusals_come_from_the_locked_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let (mut session, trainer) = train_in(&path, 2);
        session.save(&trainer).unwrap();
        drop(session);
        let status = |path: &Path| RunStatus::read(&RunDir::open(path).unwrap());
        assert_eq!(
            status(&path),
            RunStatus::Unfinished {
                epoch: 2,
                batch: 0,
                planned: 3
            }
        );
        assert_eq!(point_action(&path).unwrap(), (PointAction::Resume, None));

        // A fresh run is refused, by kind, and a second writer is busy.
        let config = RunConfig::default();
        let split = data::load_for(&config).unwrap();
        let refused = RunSession::create(&path, &config, &split).unwrap_err();
        assert!(matches!(
            refused.downcast_ref::<RunError>(),
            Some(RunError::HoldsRun { .. })
        ));
        let held = RunDir::open(&path).unwrap();
        assert_eq!(point_action(&path).unwrap(), (PointAction::Busy, None));
        let busy = resume(&path, &ResumeOptions::default()).err().unwrap();
        assert!(busy.is::<RunDirBusy>(), "{busy}");
        drop(held);

        // Resumed to the end: finished and recorded; a plain resume is done.
        let resumed = resume(&path, &ResumeOptions::default()).unwrap();
        let (mut session, mut trainer) = (resumed.session, resumed.trainer);
        trainer
            .fit(3, &AtomicBool::new(false), |trainer, record| {
                session.epoch_done(trainer, record)
            })
            .unwrap();
        session.finish(&trainer).unwrap();
        assert_eq!(session.records().len(), 3);
        drop(session);
        assert_eq!(
            status(&path),
            RunStatus::Finished {
                epochs: 3,
                recorded: true
            }
        );
        let done = resume(&path, &ResumeOptions::default()).err().unwrap();
        assert!(matches!(
            done.downcast_ref::<RunError>(),
            Some(RunError::Done { .. })
        ));
        assert_eq!(point_action(&path).unwrap(), (PointAction::Done, None));

        // Without its result (killed in between), a sweep records it, and
        // publishes its last generation if the kill came before that.
        std::fs::remove_file(path.join(RESULT_FILE)).unwrap();
        let metrics = std::fs::read(path.join(METRICS_FILE)).unwrap();
        std::fs::write(path.join(METRICS_FILE), &metrics[..metrics.len() / 2]).unwrap();
        assert_eq!(point_action(&path).unwrap(), (PointAction::Recorded, None));
        assert_eq!(std::fs::read(path.join(METRICS_FILE)).unwrap(), metrics);
        std::fs::write(path.join(RESULT_FILE), "{\"epochs\": ").unwrap();
        let (action, damaged) = point_action(&path).unwrap();
        assert_eq!(action, PointAction::Recorded);
        assert!(damaged.is_some_and(|why| why.contains("result.json")));
    }
}
