//! One module per subcommand; each turns parsed arguments into work.

pub mod bench;
pub mod collapse;
pub mod compare;
pub mod diagnose;
pub mod export;
pub mod plot;
pub mod predict;
pub mod regions;
pub mod run;
pub mod serve;
pub mod study;
pub mod sweep;

use crate::cli::{Cli, Command};

/// Runs whatever the command line asked for.
pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => run::run(&cli.run),
        Some(Command::Run(args)) => run::run(&args),
        Some(Command::Compare(args)) => compare::run(&args),
        Some(Command::Collapse(args)) => collapse::run(&args),
        Some(Command::Diagnose(args)) => diagnose::run(&args),
        Some(Command::Plot(command)) => plot::run(&command),
        Some(Command::Regions(args)) => regions::run(&args),
        Some(Command::Sweep(command)) => sweep::run(&command),
        Some(Command::Serve(args)) => serve::run(&args),
        Some(Command::Predict(args)) => predict::predict(&args),
        Some(Command::Eval(args)) => predict::eval(&args),
        Some(Command::Bench(args)) => bench::run(&args),
        Some(Command::BenchWorker(args)) => bench::worker(&args),
        Some(Command::Export(args)) => export::run(&args),
    }
}

/// The config's data, split; for a CSV file, one line on stderr says how
/// its first row was read (a header, or data), as the run summary does.
pub fn load_data(config: &train::config::RunConfig) -> anyhow::Result<train::data::Split> {
    let split = train::data::load_for(config)?;
    if let (Some(header), Some(path)) = (split.csv_header, &config.data.path) {
        eprintln!("read {}: {}", path.display(), header.describe());
    }
    Ok(split)
}
