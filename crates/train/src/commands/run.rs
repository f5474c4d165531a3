//! `train` / `train run`: one training run, the seed's job.

use std::path::Path;

use crate::backend::{Backend, BackendKind};
use crate::cli::{CommonArgs, RunArgs};
use crate::config::{ResolvedConfig, RunConfig};
use crate::data::Split;
use crate::init::initial_weights;
use crate::metrics::write_metrics;
use crate::output::{ensure_dir, write_atomic};
use crate::progress::Reporter;
use crate::trainer::train;
use crate::{data, user_error};

/// Loads the config and opens the backend a command asked for.
pub fn prepare(common: &CommonArgs) -> anyhow::Result<(ResolvedConfig, Backend)> {
    let resolved = ResolvedConfig::load(common.config.as_deref(), &common.overrides())?;
    let kind = match common.backend {
        Some(kind) => kind,
        None => BackendKind::default_for_build().ok_or_else(|| {
            user_error!("this build has no backend; rebuild with --features flex")
        })?,
    };
    let backend = Backend::open(kind)?;
    Ok((resolved, backend))
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

/// Trains one network and reports it.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let (resolved, backend) = prepare(&args.common)?;
    let config = &resolved.config;
    let split = load_data(config)?;
    if let Some(out) = &args.out {
        ensure_dir(out)?;
    }
    let weights = initial_weights(&config.layer_sizes(), config.seed);
    let epochs = config.training.epochs;
    let reporter = Reporter::new(epochs, args.quiet);
    let outcome = train(config, &backend, &split, &weights, |record| {
        reporter.epoch(record, epochs)
    })?;
    reporter.finish();

    let last = outcome.records.last().expect("at least one epoch");
    println!("Training complete.");
    println!("  final loss     {:.6} (epoch {})", last.loss, last.epoch);
    if let Some(val_loss) = last.val_loss {
        println!("  val loss       {val_loss:.6}");
    }
    println!(
        "  training loop  {:.3} s, {} steps, {:.0} steps/s",
        outcome.seconds,
        outcome.steps,
        outcome.steps as f64 / outcome.seconds.max(1e-9)
    );
    println!(
        "  backend        {} on {}",
        backend.kind, backend.description
    );
    println!(
        "  network        {:?}, {}",
        config.layer_sizes(),
        config.model.activation
    );
    println!("  config         {}", resolved.describe_source());
    if let Some(out) = &args.out {
        write_metrics(&out.join("metrics.csv"), &outcome.records)?;
        write_atomic(&out.join("config.toml"), config.to_toml().as_bytes())?;
        println!(
            "  wrote          {}/metrics.csv, {}/config.toml",
            out.display(),
            out.display()
        );
    }
    Ok(())
}
