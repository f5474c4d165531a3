//! A run directory: the stable files users read, the checkpoint generations
//! behind them, and the lock that gives it one writer.
//!
//! ```text
//! DIR/config.toml, model.safetensors, metrics.csv, checkpoint.toml
//!                          copies of the newest generation, each replaced
//!                          atomically once that generation is complete
//! DIR/checkpoints/step-000000001500/   one generation: every file above
//!                          plus optimizer.bpk; written under a `.partial-`
//!                          name, fsynced, then renamed into place
//! DIR/.lock                held (flock) by the one process writing DIR;
//!                          names it: pid, host, start time, command
//! ```
//!
//! A crash at any instant leaves the previous generation whole: a generation
//! only gets its final name once all its files are on disk, and older ones
//! are deleted only after a newer one is complete (the newest two are kept).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::RunConfig;
use crate::error::describe_io_error;
use crate::io::atomic::write_atomic;
use crate::io::history::write_metrics;
use crate::io::no_follow::open_no_follow;
use crate::training::trainer::EpochRecord;
use crate::user_error;

/// The weights, loadable by PyTorch's `load_state_dict`.
pub const MODEL_FILE: &str = "model.safetensors";
/// The best validation epoch's weights, with `training.early_stop`.
pub const BEST_FILE: &str = "best.safetensors";
/// Adam's state (only inside generations).
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";
/// Where training stands and the digests of the files beside it.
pub const STATE_FILE: &str = "checkpoint.toml";
/// The resolved run config.
pub const CONFIG_FILE: &str = "config.toml";
/// Per-epoch records so far.
pub const METRICS_FILE: &str = "metrics.csv";
/// The folder of checkpoint generations.
pub const GENERATIONS_DIR: &str = "checkpoints";
/// The lock file; its contents name the holder.
pub const LOCK_FILE: &str = ".lock";
/// Prefix of anything not yet complete (files and generation folders).
const PARTIAL_PREFIX: &str = ".partial-";
/// Complete generations kept on disk.
const KEEP_GENERATIONS: usize = 2;

/// Every fail point on the way of a checkpoint, in the order they are met;
/// the crash tests visit each one.
pub const CHECKPOINT_FAIL_POINTS: &[&str] = &[
    "checkpoint::generation::config.toml",
    "checkpoint::generation::model.safetensors",
    "checkpoint::generation::model.safetensors::half",
    "checkpoint::generation::optimizer.bpk",
    "checkpoint::generation::metrics.csv",
    "checkpoint::generation::checkpoint.toml",
    "checkpoint::rename",
    "checkpoint::publish::config.toml",
    "checkpoint::publish::model.safetensors",
    "checkpoint::publish::metrics.csv",
    "checkpoint::publish::checkpoint.toml",
    "checkpoint::prune",
];

/// The environment variable that arms the fail points (for the crash tests).
pub const FAIL_POINTS_VAR: &str = "ACTLAB_FAILPOINTS";

/// Arms the fail points `ACTLAB_FAILPOINTS` names, as
/// `NAME=ACTIONS;NAME=ACTIONS` in the `fail` crate's action syntax
/// (`return(abort)`, `3*off->return(enospc)`); nothing when it is unset.
pub fn arm_fail_points_from_env() -> Result<(), crate::error::UserError> {
    let Ok(spec) = std::env::var(FAIL_POINTS_VAR) else {
        return Ok(());
    };
    for item in spec.split(';').filter(|item| !item.trim().is_empty()) {
        let (name, actions) = item.split_once('=').ok_or_else(|| {
            crate::error::UserError::new(format!("{FAIL_POINTS_VAR}: `{item}` is not NAME=ACTIONS"))
        })?;
        fail::cfg(name.trim(), actions.trim()).map_err(|error| {
            crate::error::UserError::new(format!("{FAIL_POINTS_VAR}: `{item}`: {error}"))
        })?;
    }
    Ok(())
}

/// A fail point on the way of a checkpoint. Armed by
/// `ACTLAB_FAILPOINTS="NAME=return(abort)"`, it kills the process here as
/// `kill -9` would (no destructor runs, temporary files stay), and
/// `return(enospc)` fails here as a full disk does. Unarmed it does nothing.
fn fail_point(name: &str) -> std::io::Result<()> {
    fail::fail_point!(name, |action: Option<String>| match action.as_deref() {
        Some("enospc") => Err(std::io::Error::from_raw_os_error(28)),
        _ => std::process::abort(),
    });
    let _ = name;
    Ok(())
}

/// Another process holds the run directory's lock.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} is being written by {holder}; wait for it to finish or choose another directory",
    path.display()
)]
pub struct RunDirBusy {
    /// The directory.
    pub path: PathBuf,
    /// Who holds it, as its lock file names it.
    pub holder: String,
}

/// A run directory this process writes; the lock lasts as long as the value.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    _lock: File,
}

impl RunDir {
    /// Creates `path` if needed and takes it for writing.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        if path.exists() && !path.is_dir() {
            return Err(user_error!(
                "--out {}: exists and is not a directory (--out takes a directory)",
                path.display()
            ));
        }
        std::fs::create_dir_all(path).map_err(|error| {
            anyhow::anyhow!(
                "cannot create output directory {}: {}",
                path.display(),
                describe_io_error(&error)
            )
        })?;
        Self::lock(path)
    }

    /// Takes `path` for a command that trains but keeps no weights
    /// (`diagnose`, `compare`): locked like a run, and refused if it holds a
    /// run's checkpoints, whose `config.toml` and `metrics.csv` it would replace.
    pub fn for_experiment(path: &Path, command: &str) -> anyhow::Result<Self> {
        let run_dir = Self::create(path)?;
        if Self::holds_run(path) {
            return Err(user_error!(
                "{} holds a training run (checkpoints); `train {command}` would replace its \
                 files: choose another --out",
                path.display()
            ));
        }
        Ok(run_dir)
    }

    /// Writes an experiment's resolved config and per-epoch history (no
    /// checkpoint: the weights are not kept).
    pub fn write_history(&self, config: &RunConfig, records: &[EpochRecord]) -> anyhow::Result<()> {
        write_metrics(
            &self.path.join(METRICS_FILE),
            records,
            config.model.activation,
        )?;
        write_atomic(
            &self.path.join(CONFIG_FILE),
            config.to_toml_in(&self.path).as_bytes(),
        )
    }

    /// Takes an existing run directory for writing (`--resume`).
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if !path.is_dir() {
            return Err(user_error!(
                "{}: no such directory (expected the --out directory of a run)",
                path.display()
            ));
        }
        Self::lock(path)
    }

    /// Locks `path/.lock`, names this process in it and removes what an
    /// earlier, killed writer left half-done.
    fn lock(path: &Path) -> anyhow::Result<Self> {
        let lock_path = path.join(LOCK_FILE);
        let mut file = open_no_follow(
            &lock_path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )
        .map_err(|message| user_error!("{message}"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                // From the file held open: the name may have been replaced since.
                let mut holder = String::new();
                // A line naming the holder; a planted huge file is cut short.
                let _ = (&file).take(4096).read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => "another process".to_string(),
                    holder => holder.to_string(),
                };
                return Err(RunDirBusy {
                    path: path.to_path_buf(),
                    holder,
                }
                .into());
            }
            Err(TryLockError::Error(error)) => {
                return Err(anyhow::anyhow!(
                    "cannot lock {}: {}",
                    lock_path.display(),
                    describe_io_error(&error)
                ));
            }
        }
        file.set_len(0)
            .and_then(|()| writeln!(file, "{}", holder_description()))
            .with_context(|| format!("cannot write {}", lock_path.display()))?;
        let run_dir = Self {
            path: path.to_path_buf(),
            _lock: file,
        };
        run_dir.remove_debris()?;
        Ok(run_dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `path` already holds a training run: a checkpoint state or a
    /// complete generation (a writer killed before its first generation was
    /// complete leaves nothing worth keeping).
    pub fn holds_run(path: &Path) -> bool {
        let generation = |entry: std::fs::DirEntry| {
            let name = entry.file_name();
            name.to_string_lossy().starts_with("step-") && entry.path().is_dir()
        };
        path.join(STATE_FILE).exists()
            || std::fs::read_dir(path.join(GENERATIONS_DIR))
                .is_ok_and(|entries| entries.flatten().any(generation))
    }

    fn generations_dir(&self) -> PathBuf {
        self.path.join(GENERATIONS_DIR)
    }

    /// Temporary files and unfinished generations of a writer that died.
    fn remove_debris(&self) -> anyhow::Result<()> {
        for dir in [self.path.clone(), self.generations_dir()] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if !entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(PARTIAL_PREFIX)
                {
                    continue;
                }
                let path = entry.path();
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                removed.with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
        Ok(())
    }

    /// The complete generations, newest first.
    pub fn generations(&self) -> anyhow::Result<Vec<PathBuf>> {
        let dir = self.generations_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => {
                return Err(error).with_context(|| format!("cannot list {}", dir.display()));
            }
        };
        let mut generations: Vec<(u64, PathBuf)> = entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().to_string();
                let steps = name.strip_prefix("step-")?.parse().ok()?;
                Some((steps, entry.path()))
            })
            .collect();
        generations.sort_by_key(|(steps, _)| std::cmp::Reverse(*steps));
        Ok(generations.into_iter().map(|(_, path)| path).collect())
    }

    /// Writes the generation of step `steps` from `files` (name, bytes; the
    /// state file last) and returns its folder. A generation of the same step
    /// already on disk is the same training state, so it is kept as it is.
    pub fn write_generation(
        &self,
        steps: usize,
        files: &[(&str, &[u8])],
    ) -> anyhow::Result<PathBuf> {
        let name = generation_name(steps);
        let parent = self.generations_dir();
        let done = parent.join(&name);
        if done.is_dir() {
            return Ok(done);
        }
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let partial = parent.join(format!("{PARTIAL_PREFIX}{name}"));
        if partial.exists() {
            std::fs::remove_dir_all(&partial)
                .with_context(|| format!("cannot remove {}", partial.display()))?;
        }
        let written = write_files(&partial, files).and_then(|()| {
            fail_point("checkpoint::rename")?;
            std::fs::rename(&partial, &done)?;
            sync_dir(&parent)
        });
        if let Err(error) = written {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(error)
                .with_context(|| format!("cannot write checkpoint {}", done.display()));
        }
        Ok(done)
    }

    /// Replaces the run's stable files with a complete generation's, one
    /// atomic rename each, the state file last.
    pub fn publish(&self, files: &[(&str, &[u8])]) -> anyhow::Result<()> {
        for (name, bytes) in files {
            if *name == OPTIMIZER_FILE {
                continue;
            }
            let path = self.path.join(name);
            fail_point(&format!("checkpoint::publish::{name}"))
                .with_context(|| format!("cannot write {}", path.display()))?;
            write_atomic(&path, bytes)?;
        }
        sync_dir(&self.path)
    }

    /// Deletes all but the newest complete generations.
    pub fn prune(&self) -> anyhow::Result<()> {
        fail_point("checkpoint::prune")
            .with_context(|| format!("cannot prune {}", self.generations_dir().display()))?;
        for old in self.generations()?.iter().skip(KEEP_GENERATIONS) {
            std::fs::remove_dir_all(old)
                .with_context(|| format!("cannot remove {}", old.display()))?;
        }
        Ok(())
    }
}

/// The folder name of the generation at step `steps` (sorts by step).
fn generation_name(steps: usize) -> String {
    format!("step-{steps:012}")
}

/// The generation of step `steps` relative to the run directory, as
/// `checkpoint.toml` names it.
pub fn generation_path(steps: usize) -> String {
    format!("{GENERATIONS_DIR}/{}", generation_name(steps))
}

/// Writes `files` into a new folder `dir`, each fsynced, then the folder.
fn write_files(dir: &Path, files: &[(&str, &[u8])]) -> anyhow::Result<()> {
    std::fs::create_dir(dir)?;
    for (name, bytes) in files {
        fail_point(&format!("checkpoint::generation::{name}"))?;
        let path = dir.join(name);
        let mut file = File::create(&path)?;
        let half = bytes.len() / 2;
        file.write_all(&bytes[..half])?;
        fail_point(&format!("checkpoint::generation::{name}::half"))?;
        file.write_all(&bytes[half..])?;
        file.sync_all()?;
    }
    sync_dir(dir)
}

/// Makes a folder's entries (new names, renames) durable.
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("cannot flush {}", dir.display()))
}

/// Who holds the lock, as the refusal of a second writer shows it.
fn holder_description() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_else(|_| "this host".into());
    let started = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    // Lossy: an argument need not be UTF-8 (a path), and the line only names the holder.
    let command: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    format!(
        "pid {} on {host}, started {started} (`{}`)",
        std::process::id(),
        command.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holder_named() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunDir::create(dir.path()).unwrap();
        let error = RunDir::open(dir.path()).unwrap_err().to_string();
        let expected = format!(
            "{} is being written by pid {} on ",
            dir.path().display(),
            std::process::id()
        );
        assert!(error.starts_with(&expected), "{error}");
        assert!(error.ends_with("; wait for it to finish or choose another directory"));
        drop(first);
        RunDir::open(dir.path()).unwrap();
    }

    #[test]
    fn generations_are_listed_newest_first_and_pruned_to_two() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        for steps in [10, 30, 20] {
            run.write_generation(steps, &[(STATE_FILE, b"x")]).unwrap();
        }
        let names = |run: &RunDir| -> Vec<String> {
            run.generations()
                .unwrap()
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
                .collect()
        };
        assert_eq!(
            names(&run),
            [
                "step-000000000030",
                "step-000000000020",
                "step-000000000010"
            ]
        );
        run.prune().unwrap();
        assert_eq!(names(&run), ["step-000000000030", "step-000000000020"]);
    }

    #[test]
    fn debris_of_a_dead_writer_is_removed_on_the_next_lock() {
        let dir = tempfile::tempdir().unwrap();
        let partial_dir = dir.path().join(GENERATIONS_DIR).join(".partial-step-1");
        std::fs::create_dir_all(&partial_dir).unwrap();
        std::fs::write(dir.path().join(".partial-abc"), b"half").unwrap();
        let run = RunDir::open(dir.path()).unwrap();
        assert!(!partial_dir.exists());
        assert!(!dir.path().join(".partial-abc").exists());
        assert!(run.generations().unwrap().is_empty());
    }
}
