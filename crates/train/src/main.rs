//! The `train` command: parse, dispatch, map errors to one line and an exit code.

use clap::Parser;
use train::cli::Cli;
use train::error::{exit_code, one_line};

fn main() {
    let cli = Cli::parse();
    if let Err(error) = train::commands::dispatch(cli) {
        eprintln!("error: {}", one_line(&error));
        std::process::exit(exit_code(&error));
    }
}
