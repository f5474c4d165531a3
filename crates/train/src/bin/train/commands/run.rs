//! `train` / `train run`: one training run, the seed's job, with checkpoints,
//! `--resume` and `--init-weights`.

use std::path::Path;

use train::backend::Backend;
use train::config::{InitKind, Overrides, Precision, ResolvedConfig};
use train::io::run_dir::BEST_FILE;
use train::io::weights::read_layer_weights;
use train::session::{self, ResumeOptions, Resumed, RunSession};
use train::training::init::initial_weights_for;
use train::training::trainer::{FitEnd, Trainer, check_records_fit};
use train::{data, user_error};

use crate::cli::{ActivationArg, CommonArgs, RunArgs};
use crate::interrupt::{Interrupted, StopRequest};
use crate::progress::Reporter;

/// Loads the config and opens the backend a command asked for.
pub fn prepare(
    common: &CommonArgs,
    activation: Option<&ActivationArg>,
) -> anyhow::Result<(ResolvedConfig, Backend)> {
    let resolved = ResolvedConfig::load(common.config.as_deref(), &overrides(common, activation))?;
    check_records_fit(&resolved.config, 1)?;
    let backend = Backend::open_or_default(common.backend.backend)?;
    say_if_cpu_driver(&backend);
    Ok((resolved, backend))
}

/// Tells the user, before any training, that wgpu landed on a CPU driver.
fn say_if_cpu_driver(backend: &Backend) {
    if let Some(note) = backend.cpu_driver_note() {
        eprintln!("{note}");
    }
}

/// Everything a run needs before its first step.
struct Plan {
    resolved: ResolvedConfig,
    backend: Backend,
    trainer: Trainer,
    /// The run's life: records, checkpoints (with `--out` or `--resume`), result.
    session: RunSession,
    /// Whether the run starts from scratch (its step-0 state is saved first).
    fresh: bool,
    /// What the summary says about where the weights came from.
    origin: String,
    /// What the summary says about a CSV file's first row, when it was read.
    header: Option<String>,
}

/// Trains one network and reports it.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let plan = match &args.resume {
        Some(dir) => plan_resume(args, dir)?,
        None => plan_fresh(args)?,
    };
    execute(plan, args.quiet)
}

/// The flags that replace config values, `--activation` among them when
/// the command takes it.
fn overrides(common: &CommonArgs, activation: Option<&ActivationArg>) -> Overrides {
    let mut overrides = common.overrides();
    if let Some(arg) = activation {
        overrides.set("--activation", "model.activation", arg.activation);
    }
    overrides
}

fn plan_fresh(args: &RunArgs) -> anyhow::Result<Plan> {
    let mut overrides = overrides(&args.common, Some(&args.activation));
    overrides.set(
        "--checkpoint-every",
        "training.checkpoint_every",
        args.checkpoint_every,
    );
    let resolved = ResolvedConfig::load(args.common.config.as_deref(), &overrides)?;
    check_records_fit(&resolved.config, 1)?;
    let backend = Backend::open_or_default(args.common.backend.backend)?;
    let config = &resolved.config;
    if args.out.dir().is_some() && config.training.precision == Precision::Float64 {
        return Err(user_error!(
            "--out with training.precision = \"float64\": checkpoints hold float32 weights; \
             use float64 only to compare runs"
        ));
    }
    let split = data::load_for(config)?;
    let session = match args.out.dir() {
        Some(out) => RunSession::create(out, config, &split)?,
        None => RunSession::in_memory(config),
    };
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
    let header = split
        .csv_header
        .map(|decision| decision.describe().to_string());
    Ok(Plan {
        resolved,
        backend,
        trainer,
        session,
        fresh: true,
        origin,
        header,
    })
}

fn plan_resume(args: &RunArgs, dir: &Path) -> anyhow::Result<Plan> {
    let options = ResumeOptions {
        epochs: args.common.epochs,
        checkpoint_every: args.checkpoint_every,
        backend: args.common.backend.backend,
    };
    let Resumed {
        session,
        trainer,
        resolved,
        backend,
        warnings,
    } = session::resume(dir, &options)?;
    check_records_fit(&resolved.config, 1)?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let position = trainer.position();
    let origin = format!(
        "resumed from {} at epoch {}{}",
        dir.display(),
        position.epoch,
        if position.batch > 0 {
            format!(", batch {}", position.batch)
        } else {
            String::new()
        }
    );
    Ok(Plan {
        resolved,
        backend,
        trainer,
        session,
        fresh: false,
        origin,
        header: None,
    })
}

fn execute(plan: Plan, quiet: bool) -> anyhow::Result<()> {
    let Plan {
        resolved,
        backend,
        mut trainer,
        mut session,
        fresh,
        origin,
        header,
    } = plan;
    let config = &resolved.config;
    let epochs = config.training.epochs;
    say_if_cpu_driver(&backend);
    if fresh {
        session.start(&trainer)?;
    }

    let stop = StopRequest::install();
    let reporter = Reporter::new(epochs, quiet).starting_at(trainer.position().epoch);
    let first_step = trainer.steps();
    let loop_started = std::time::Instant::now();
    let fitted = trainer.fit(epochs, &stop.flag, |trainer, record| {
        reporter.epoch(&record, epochs);
        session.epoch_done(trainer, record)
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
            return Err(session.diverged(&trainer, error));
        }
    };
    let loop_seconds = loop_started.elapsed().as_secs_f64();
    reporter.finish();
    if interrupted {
        session.save(&trainer)?;
    } else {
        session.finish(&trainer)?;
    }
    let out = session.path();

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
    let last = session.records().last().expect("at least one epoch");
    match early {
        Some(early) => say!(
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
        None => say!("Training complete."),
    }
    if let Some(train_loss) = last.train_loss {
        say!(
            "  training loss  {train_loss:.6} (all training rows, after epoch {})",
            last.epoch
        );
    }
    if let Some(rise) = trainer.rise_note(last.train_loss) {
        say!("  warning        {rise}");
    }
    if let Some(val_loss) = last.val_loss {
        say!("  val loss       {val_loss:.6}");
    }
    say!(
        "  last batch     {:.6} (the per-epoch \"Loss:\", its last mini-batch)",
        last.loss
    );
    let counted = session.records().iter().rev().find_map(|r| {
        r.regions
            .map(|n| format!("{n} linear regions in the data's box"))
            .or(r
                .pieces_per_line
                .map(|p| format!("{p:.2} linear pieces per line")))
            .map(|text| (text, r.epoch))
    });
    if let Some((text, epoch)) = counted {
        say!("  regions        {text} (epoch {epoch})");
    }
    if let Some(accuracy) = last.train_accuracy {
        say!("  train accuracy {:.2}%", accuracy * 100.0);
    }
    if let Some(accuracy) = last.val_accuracy {
        say!("  val accuracy   {:.2}%", accuracy * 100.0);
    }
    say!(
        "  training loop  {:.3} s, {} steps, {:.0} steps/s",
        loop_seconds,
        steps,
        steps as f64 / loop_seconds.max(1e-9)
    );
    say!(
        "  backend        {} on {}",
        backend.kind,
        backend.description
    );
    say!(
        "  network        {:?}, {}, {origin}",
        config.layer_sizes(),
        config.model.activation
    );
    say!("  config         {}", resolved.describe_source());
    if let (Some(header), Some(path)) = (header, &config.data.path) {
        say!("  data           {}: {header}", path.display());
    }
    if let Some(out) = out {
        say!(
            "  wrote          {0}/model.safetensors, checkpoint.toml, metrics.csv, config.toml, checkpoints/",
            out.display()
        );
    }
    Ok(())
}
