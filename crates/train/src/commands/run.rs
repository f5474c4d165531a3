//! `train` / `train run`: one training run, the seed's job, with checkpoints,
//! `--resume` and `--init-weights`.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use model::LayerWeights;

use crate::backend::{Backend, BackendKind};
use crate::checkpoint::{self, CONFIG_FILE, Checkpoint, METRICS_FILE, STATE_FILE};
use crate::cli::{CommonArgs, RunArgs};
use crate::config::{Overrides, Precision, ResolvedConfig, RunConfig};
use crate::data::Split;
use crate::init::initial_weights;
use crate::interrupt::{Interrupted, stop_flag};
use crate::metrics::write_metrics;
use crate::output::{ensure_dir, write_atomic};
use crate::progress::Reporter;
use crate::trainer::{EpochRecord, Position, Trainer};
use crate::weights::read_layer_weights;
use crate::{data, user_error};

/// Loads the config and opens the backend a command asked for.
pub fn prepare(common: &CommonArgs) -> anyhow::Result<(ResolvedConfig, Backend)> {
    let resolved = ResolvedConfig::load(common.config.as_deref(), &common.overrides())?;
    let backend = open_backend(common.backend)?;
    Ok((resolved, backend))
}

/// Opens the asked-for backend, or the build's default.
pub fn open_backend(kind: Option<BackendKind>) -> anyhow::Result<Backend> {
    let kind = match kind {
        Some(kind) => kind,
        None => BackendKind::default_for_build().ok_or_else(|| {
            user_error!("this build has no backend; rebuild with --features flex")
        })?,
    };
    Ok(Backend::open(kind)?)
}

/// Builds the config's data set and checks it fits the network's input.
pub fn load_data(config: &RunConfig) -> anyhow::Result<Split> {
    let split = data::load(&config.data, config.seed)?;
    if split.train.features != config.model.input {
        return Err(user_error!(
            "model.input is {} but {} has {} feature columns",
            config.model.input,
            config
                .data
                .path
                .as_deref()
                .unwrap_or(Path::new("the data"))
                .display(),
            split.train.features
        ));
    }
    Ok(split)
}

/// Everything a run needs before its first step.
struct Plan {
    resolved: ResolvedConfig,
    backend: Backend,
    split: Split,
    trainer: Trainer,
    /// Records of epochs a resumed run already has.
    records: Vec<EpochRecord>,
    out: Option<PathBuf>,
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
    overrides.checkpoint_every = args.checkpoint_every;
    let resolved = ResolvedConfig::load(args.common.config.as_deref(), &overrides)?;
    let backend = open_backend(args.common.backend)?;
    let config = &resolved.config;
    let split = load_data(config)?;
    if let Some(out) = &args.out {
        if config.training.precision == Precision::Float64 {
            return Err(user_error!(
                "--out with training.precision = \"float64\": checkpoints hold float32 weights; \
                 use float64 only to compare runs"
            ));
        }
        ensure_dir(out)?;
        refuse_unfinished_run(out)?;
    }
    let seeded = initial_weights(&config.layer_sizes(), config.seed);
    let (weights, origin) = match &args.init_weights {
        Some(path) => (
            read_layer_weights(path, &seeded, config.model.activation, &backend.device)?,
            format!("initial weights from {}", path.display()),
        ),
        None => (seeded, format!("initial weights from seed {}", config.seed)),
    };
    let trainer = Trainer::new(config, &backend, &split, &weights)?;
    Ok(Plan {
        resolved,
        backend,
        split,
        trainer,
        records: Vec::new(),
        out: args.out.clone(),
        origin,
    })
}

/// A fresh run must not overwrite a checkpoint that could still be resumed.
fn refuse_unfinished_run(out: &Path) -> anyhow::Result<()> {
    if !out.join(STATE_FILE).exists() {
        return Ok(());
    }
    let Ok(previous) = Checkpoint::open(out) else {
        return Ok(());
    };
    let (done, planned) = (previous.state.epoch, previous.config.training.epochs);
    if done < planned || previous.state.batch > 0 {
        return Err(user_error!(
            "{} holds an unfinished run (epoch {done} of {planned}); continue it with \
             `train --resume {}` or choose another --out",
            out.display(),
            out.display()
        ));
    }
    Ok(())
}

fn plan_resume(args: &RunArgs, dir: &Path) -> anyhow::Result<Plan> {
    let checkpoint = Checkpoint::open(dir)?;
    let overrides = Overrides {
        epochs: args.common.epochs,
        checkpoint_every: args.checkpoint_every,
        ..Overrides::default()
    };
    let config_path = dir.join(CONFIG_FILE);
    let resolved =
        ResolvedConfig::resolve(checkpoint.config.clone(), Some(&config_path), &overrides)?;
    let config = &resolved.config;
    let state = &checkpoint.state;
    if state.epoch >= config.training.epochs {
        return Err(user_error!(
            "{} has finished all {} epochs of its run; pass --epochs N with N > {} to train further",
            dir.display(),
            state.epoch,
            state.epoch
        ));
    }
    let backend = open_backend(args.common.backend)?;
    let split = load_data(config)?;
    if split.standardizer != state.standardizer {
        return Err(user_error!(
            "the data of {} changed since the checkpoint (its standardisation differs)",
            config_path.display()
        ));
    }
    let template = initial_weights(&config.layer_sizes(), config.seed);
    let weights: Vec<LayerWeights> = read_layer_weights(
        &checkpoint.model_path()?,
        &template,
        config.model.activation,
        &backend.device,
    )?;
    let position = Position {
        epoch: state.epoch,
        batch: state.batch,
        steps: state.steps,
    };
    let trainer = Trainer::new(config, &backend, &split, &weights)?.restore(
        checkpoint.optimizer_bytes()?,
        position,
        state.elapsed_s,
    )?;
    let records = checkpoint.records()?;
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
        split,
        trainer,
        records,
        out: Some(dir.to_path_buf()),
        origin,
    })
}

fn execute(plan: Plan, quiet: bool) -> anyhow::Result<()> {
    let Plan {
        resolved,
        backend,
        split,
        mut trainer,
        mut records,
        out,
        origin,
    } = plan;
    let config = &resolved.config;
    let epochs = config.training.epochs;
    let every = config.training.checkpoint_every;
    let standardizer = split.standardizer.as_ref();
    let save = |trainer: &Trainer, records: &[EpochRecord]| -> anyhow::Result<()> {
        match &out {
            Some(out) => checkpoint::save(out, config, trainer, records, standardizer),
            None => Ok(()),
        }
    };

    let stop = stop_flag();
    let reporter = Reporter::new(epochs, quiet).starting_at(trainer.position().epoch);
    let first_step = trainer.steps();
    trainer.start_clock();
    let loop_started = std::time::Instant::now();
    let mut interrupted = false;
    while trainer.position().epoch < epochs {
        let Some(record) = trainer.run_epoch_until(&stop) else {
            interrupted = true;
            break;
        };
        reporter.epoch(&record, epochs);
        records.push(record);
        let epoch = trainer.position().epoch;
        if every > 0 && epoch % every == 0 && epoch < epochs {
            save(&trainer, &records)?;
        }
        if stop.load(Ordering::Relaxed) && epoch < epochs {
            interrupted = true;
            break;
        }
    }
    let loop_seconds = loop_started.elapsed().as_secs_f64();
    reporter.finish();
    save(&trainer, &records)?;

    if interrupted {
        let position = trainer.position();
        let place = format!(
            "epoch {} of {epochs}, batch {} (step {})",
            position.epoch, position.batch, position.steps
        );
        return Err(anyhow::Error::new(Interrupted(match &out {
            Some(out) => format!(
                "interrupted by Ctrl-C at {place}; checkpoint written to {0}; continue with `train --resume {0}`",
                out.display()
            ),
            None => format!("interrupted by Ctrl-C at {place}; no --out, so nothing was saved"),
        })));
    }

    let steps = trainer.steps() - first_step;
    let last = records.last().expect("at least one epoch");
    println!("Training complete.");
    println!("  final loss     {:.6} (epoch {})", last.loss, last.epoch);
    if let Some(val_loss) = last.val_loss {
        println!("  val loss       {val_loss:.6}");
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
    if let Some(out) = &out {
        println!(
            "  wrote          {0}/model.safetensors, optimizer.bpk, checkpoint.toml, metrics.csv, config.toml",
            out.display()
        );
    }
    Ok(())
}

/// Writes a finished run's metrics and config without a checkpoint (used by
/// commands that train but keep no weights).
pub fn write_run_files(
    out: &Path,
    config: &RunConfig,
    records: &[EpochRecord],
) -> anyhow::Result<()> {
    write_metrics(&out.join(METRICS_FILE), records)?;
    write_atomic(&out.join(CONFIG_FILE), config.to_toml().as_bytes())
}
