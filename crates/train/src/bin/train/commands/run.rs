//! `train` / `train run`: one training run, the seed's job, with checkpoints,
//! `--resume` and `--init-weights`.

use std::path::Path;

use anyhow::Context;
use model::LayerWeights;
use train::backend::Backend;
use train::config::{InitKind, Overrides, Precision, ResolvedConfig, ScheduleKind};
use train::io::checkpoint::{self, Checkpoint, Checkpointer};
use train::io::result::{RunResult, read_result, remove_result, write_result};
use train::io::run_dir::{BEST_FILE, CONFIG_FILE, METRICS_FILE, RunDir, STATE_FILE};
use train::io::weights::read_layer_weights;
use train::training::divergence::Diverged;
use train::training::init::initial_weights_for;
use train::training::trainer::{EpochRecord, FitEnd, Trainer};
use train::{data, user_error};

use crate::cli::{CommonArgs, RunArgs};
use crate::interrupt::{Interrupted, StopRequest};
use crate::progress::Reporter;

/// Loads the config and opens the backend a command asked for.
pub fn prepare(common: &CommonArgs) -> anyhow::Result<(ResolvedConfig, Backend)> {
    let resolved = ResolvedConfig::load(common.config.as_deref(), &common.overrides())?;
    let backend = Backend::open_or_default(common.backend)?;
    Ok((resolved, backend))
}

/// Everything a run needs before its first step.
struct Plan {
    resolved: ResolvedConfig,
    backend: Backend,
    trainer: Trainer,
    /// Records of epochs a resumed run already has.
    records: Vec<EpochRecord>,
    /// Writes the checkpoints, with `--out` or `--resume`.
    checkpointer: Option<Checkpointer>,
    /// Whether the run starts from scratch (its step-0 state is saved first).
    fresh: bool,
    /// What the summary says about where the weights came from.
    origin: String,
}

/// Trains one network and reports it.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let plan = match &args.resume {
        Some(dir) => plan_resume(args, dir)?,
        None => plan_fresh(args)?,
    };
    execute(plan, args.quiet)
}

fn plan_fresh(args: &RunArgs) -> anyhow::Result<Plan> {
    let mut overrides = args.common.overrides();
    overrides.set(
        "--checkpoint-every",
        "training.checkpoint_every",
        args.checkpoint_every,
    );
    let resolved = ResolvedConfig::load(args.common.config.as_deref(), &overrides)?;
    let backend = Backend::open_or_default(args.common.backend)?;
    let config = &resolved.config;
    let run_dir = match &args.out {
        Some(out) => {
            if config.training.precision == Precision::Float64 {
                return Err(user_error!(
                    "--out with training.precision = \"float64\": checkpoints hold float32 weights; \
                     use float64 only to compare runs"
                ));
            }
            let run_dir = RunDir::create(out)?;
            refuse_existing_run(&run_dir)?;
            Some(run_dir)
        }
        None => None,
    };
    let split = data::load_for(config)?;
    let (weights, origin) = match &args.init_weights {
        Some(path) => (
            read_layer_weights(
                path,
                &config.layer_sizes(),
                config.model.activation,
                &backend.device,
            )?,
            format!("initial weights from {}", path.display()),
        ),
        None => (
            initial_weights_for(config),
            match config.model.init {
                InitKind::Pytorch => format!("initial weights from seed {}", config.seed),
                init => format!("initial weights from seed {}, {}", config.seed, init.name()),
            },
        ),
    };
    let trainer = Trainer::new(config, &backend, &split, &weights)?;
    let checkpointer = run_dir.map(|dir| Checkpointer::new(dir, config, &split));
    Ok(Plan {
        resolved,
        backend,
        trainer,
        records: Vec::new(),
        checkpointer,
        fresh: true,
        origin,
    })
}

/// A fresh run never replaces a run's checkpoints, finished or not.
fn refuse_existing_run(run_dir: &RunDir) -> anyhow::Result<()> {
    let out = run_dir.path();
    let shown = out.display();
    if !RunDir::holds_run(out) {
        // A run publishes metrics.csv only with its first checkpoint: one
        // without checkpoints is another command's (`diagnose`, `compare`).
        if let Some(file) = [METRICS_FILE, "summary.csv", "compare.csv"]
            .into_iter()
            .find(|file| out.join(file).exists())
        {
            return Err(user_error!(
                "{shown} holds another command's output ({file} without checkpoints, as `train \
                 diagnose` or `train compare` write); choose another --out"
            ));
        }
        return Ok(());
    }
    let Ok((previous, _)) = Checkpoint::latest(run_dir) else {
        return Err(user_error!(
            "{shown} already holds a run's files; choose another --out (or remove it)"
        ));
    };
    let (done, planned) = (previous.state.epoch, previous.config.training.epochs);
    if previous
        .state
        .early_stop
        .is_some_and(|early| early.should_stop())
    {
        return Err(user_error!(
            "{shown} holds a finished run (stopped early at epoch {done}); choose another --out"
        ));
    }
    if done < planned || previous.state.batch > 0 {
        return Err(user_error!(
            "{shown} holds an unfinished run (epoch {done} of {planned}); continue it with \
             `train --resume {shown}` or choose another --out"
        ));
    }
    Err(user_error!(
        "{shown} holds a finished run ({done} epochs); train it further with `train --resume \
         {shown} --epochs N`, or choose another --out"
    ))
}

fn plan_resume(args: &RunArgs, dir: &Path) -> anyhow::Result<Plan> {
    let run_dir = RunDir::open(dir)?;
    let (checkpoint, warnings) = Checkpoint::latest(&run_dir)?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    checkpoint::republish(&run_dir, &checkpoint)?;
    let mut overrides = Overrides::default();
    overrides
        .set("--epochs", "training.epochs", args.common.epochs)
        .set(
            "--checkpoint-every",
            "training.checkpoint_every",
            args.checkpoint_every,
        );
    // A schedule keeps the shape it was planned with: trained past its
    // epochs, the run continues at the schedule's final rate.
    let schedule = &checkpoint.config.training.schedule;
    if schedule.kind != ScheduleKind::Constant && schedule.horizon_epochs.is_none() {
        overrides.set(
            "--epochs",
            "training.schedule.horizon_epochs",
            args.common
                .epochs
                .map(|_| checkpoint.config.training.epochs),
        );
    }
    let config_path = checkpoint.dir.join(CONFIG_FILE);
    let resolved =
        ResolvedConfig::resolve(checkpoint.config.clone(), Some(&config_path), &overrides)?;
    let config = &resolved.config;
    let state = &checkpoint.state;
    let planned = config.training.epochs;
    // A diverged run is finished: it would only diverge again, the same way.
    if let Ok(Some(result)) = read_result(run_dir.path())
        && let Some(diverged) = result.diverged_epoch
        && args
            .common
            .epochs
            .is_none_or(|epochs| epochs <= checkpoint.config.training.epochs)
    {
        return Err(user_error!(
            "{} diverged in epoch {diverged} and is finished (its last finite checkpoint is \
             epoch {}); to train it again anyway pass --epochs N with N > {}",
            dir.display(),
            state.epoch,
            checkpoint.config.training.epochs
        ));
    }
    if let Some(early) = state.early_stop.filter(|early| early.should_stop()) {
        return Err(user_error!(
            "{} stopped early at epoch {} (no better validation loss than epoch {}'s for {} \
             epochs); it is finished: its best weights are in {}",
            dir.display(),
            state.epoch,
            early.best_epoch,
            early.epochs_without_improvement,
            dir.join(BEST_FILE).display()
        ));
    }
    if state.epoch >= planned {
        let place = if state.batch > 0 {
            format!(
                "{} epochs and {} batches of the next",
                state.epoch, state.batch
            )
        } else {
            format!("all {} epochs of its run", state.epoch)
        };
        return Err(user_error!(
            "{} has trained {place}; pass --epochs N with N > {} to train further",
            dir.display(),
            state.epoch
        ));
    }
    let backend = Backend::open_or_default(args.common.backend)?;
    let split = data::load_for(config)?;
    checkpoint.check_data(&split)?;
    if split.standardizer != state.standardizer {
        return Err(user_error!(
            "the data of {} changed since the checkpoint (its standardisation differs)",
            config_path.display()
        ));
    }
    let weights: Vec<LayerWeights> = read_layer_weights(
        &checkpoint.model_path()?,
        &config.layer_sizes(),
        config.model.activation,
        &backend.device,
    )?;
    let trainer = Trainer::new(config, &backend, &split, &weights)?
        .restore(
            checkpoint.optimizer_bytes()?,
            state.position(),
            state.elapsed_s,
        )
        .with_context(|| format!("{}", checkpoint.dir.join(STATE_FILE).display()))?;
    let trainer = match &state.partial_grad_norms {
        Some(partial) => trainer.restore_grad_norms(partial.steps, &partial.sums),
        None => trainer,
    };
    let trainer = match state.early_stop {
        Some(early) => {
            let best = match checkpoint.best_path()? {
                Some(path) => Some(read_layer_weights(
                    &path,
                    &config.layer_sizes(),
                    config.model.activation,
                    &backend.device,
                )?),
                None => None,
            };
            trainer.restore_early_stop(early, best.as_deref(), config, &backend)?
        }
        None => trainer,
    };
    let records = checkpoint.records()?;
    // Trained further, a finished run is not done until it ends again.
    remove_result(run_dir.path())?;
    let checkpointer = Checkpointer::new(run_dir, config, &split).continuing(&checkpoint);
    let origin = format!(
        "resumed from {} at epoch {}{}",
        dir.display(),
        state.epoch,
        if state.batch > 0 {
            format!(", batch {}", state.batch)
        } else {
            String::new()
        }
    );
    Ok(Plan {
        resolved,
        backend,
        trainer,
        records,
        checkpointer: Some(checkpointer),
        fresh: false,
        origin,
    })
}

fn execute(plan: Plan, quiet: bool) -> anyhow::Result<()> {
    let Plan {
        resolved,
        backend,
        mut trainer,
        mut records,
        mut checkpointer,
        fresh,
        origin,
    } = plan;
    let config = &resolved.config;
    let epochs = config.training.epochs;
    let every = config.training.checkpoint_every;
    if fresh {
        // A run is resumable from its first instant, and a divergence in the
        // first epochs still leaves its finite starting point.
        save(checkpointer.as_mut(), &trainer, &records)?;
    }

    let stop = StopRequest::install();
    let reporter = Reporter::new(epochs, quiet).starting_at(trainer.position().epoch);
    let first_step = trainer.steps();
    let loop_started = std::time::Instant::now();
    let fitted = trainer.fit(epochs, &stop.flag, |trainer, record| {
        reporter.epoch(&record, epochs);
        records.push(record);
        let epoch = trainer.position().epoch;
        if every > 0 && epoch % every == 0 && epoch < epochs {
            save(checkpointer.as_mut(), trainer, &records)?;
        }
        Ok(())
    });
    let early = fitted
        .as_ref()
        .is_ok_and(|end| *end == FitEnd::EarlyStopped)
        .then(|| trainer.early_stop())
        .flatten();
    let interrupted = match fitted {
        Ok(end) => end == FitEnd::Stopped,
        Err(error) => {
            reporter.finish();
            if let (Some(diverged), Some(checkpointer)) =
                (error.downcast_ref::<Diverged>(), checkpointer.as_ref())
            {
                let result =
                    RunResult::of(config, &records, Some(diverged.epoch), trainer.seconds());
                write_result(checkpointer.path(), &result)?;
            }
            return Err(note_kept_checkpoint(error, checkpointer.as_ref()));
        }
    };
    let loop_seconds = loop_started.elapsed().as_secs_f64();
    reporter.finish();
    save(checkpointer.as_mut(), &trainer, &records)?;
    let out = checkpointer.as_ref().map(Checkpointer::path);
    if let (Some(out), false) = (out, interrupted) {
        // Last: the run's final record, which makes it done.
        write_result(
            out,
            &RunResult::of(config, &records, None, trainer.seconds()),
        )?;
    }

    if interrupted {
        let mut stopped = stop.stopped().unwrap_or(Interrupted {
            signal: signal_hook::consts::SIGINT,
            message: String::new(),
        });
        let position = trainer.position();
        let place = format!(
            "epoch {} of {epochs}, batch {} (step {})",
            position.epoch, position.batch, position.steps
        );
        stopped.message = match out {
            Some(out) => format!(
                "interrupted by {} at {place}; checkpoint written to {1}; continue with `train --resume {1}`",
                stopped.by(),
                out.display()
            ),
            None => format!(
                "interrupted by {} at {place}; no --out, so nothing was saved",
                stopped.by()
            ),
        };
        return Err(anyhow::Error::new(stopped));
    }

    let steps = trainer.steps() - first_step;
    let last = records.last().expect("at least one epoch");
    match early {
        Some(early) => println!(
            "Stopped early at epoch {}: the validation loss has not improved for {} epochs \
             (best {:.6} at epoch {}{}).",
            last.epoch,
            early.epochs_without_improvement,
            early.best_loss,
            early.best_epoch,
            out.map_or(String::new(), |out| format!(
                "; its weights are in {}",
                out.join(BEST_FILE).display()
            ))
        ),
        None => println!("Training complete."),
    }
    println!("  final loss     {:.6} (epoch {})", last.loss, last.epoch);
    if let Some(val_loss) = last.val_loss {
        println!("  val loss       {val_loss:.6}");
    }
    if let Some(accuracy) = last.train_accuracy {
        println!("  train accuracy {:.2}%", accuracy * 100.0);
    }
    if let Some(accuracy) = last.val_accuracy {
        println!("  val accuracy   {:.2}%", accuracy * 100.0);
    }
    println!(
        "  training loop  {:.3} s, {} steps, {:.0} steps/s",
        loop_seconds,
        steps,
        steps as f64 / loop_seconds.max(1e-9)
    );
    println!(
        "  backend        {} on {}",
        backend.kind, backend.description
    );
    println!(
        "  network        {:?}, {}, {origin}",
        config.layer_sizes(),
        config.model.activation
    );
    println!("  config         {}", resolved.describe_source());
    if let Some(out) = out {
        println!(
            "  wrote          {0}/model.safetensors, checkpoint.toml, metrics.csv, config.toml, checkpoints/",
            out.display()
        );
    }
    Ok(())
}

/// Checkpoints the run if it has a directory.
fn save(
    checkpointer: Option<&mut Checkpointer>,
    trainer: &Trainer,
    records: &[EpochRecord],
) -> anyhow::Result<()> {
    match checkpointer {
        Some(checkpointer) => checkpointer
            .save(trainer, records)
            .map_err(|error| note_kept_checkpoint(error, Some(checkpointer))),
        None => Ok(()),
    }
}

/// Adds to a divergence which checkpoint the run keeps.
fn note_kept_checkpoint(
    error: anyhow::Error,
    checkpointer: Option<&Checkpointer>,
) -> anyhow::Error {
    match (error.downcast::<Diverged>(), checkpointer) {
        (Ok(mut diverged), Some(checkpointer)) => {
            diverged.note = match checkpointer.last_epoch() {
                Some(epoch) => format!(
                    "{} keeps its last finite checkpoint, epoch {epoch}",
                    checkpointer.path().display()
                ),
                None => format!("nothing was written to {}", checkpointer.path().display()),
            };
            diverged.into()
        }
        (Ok(diverged), None) => diverged.into(),
        (Err(error), _) => error,
    }
}
