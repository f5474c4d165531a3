//! `train collapse`.

use train::experiments::collapse::{collapse, explain};
use train::training::divergence::DivergedRuns;

use crate::cli::CollapseArgs;
use crate::commands::run::prepare;

/// Trains the networks, folds them, prints the verdict.
pub fn run(args: &CollapseArgs) -> anyhow::Result<()> {
    let (resolved, backend) = prepare(&args.common, None)?;
    let config = &resolved.config;
    let split = crate::commands::load_data(config)?;
    let reports = collapse(config, &backend, &split, &args.activations)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        print!("{}", explain(&reports));
    }
    let diverged = reports.iter().filter(|r| r.diverged.is_some());
    Ok(DivergedRuns::check(
        diverged.map(|r| r.activation.clone()).collect(),
    )?)
}
