//! The `train` command: parse, dispatch, map errors to one line and an exit code.

use clap::Parser;
use train::cli::Cli;
use train::error::{exit_code, one_line};

fn main() {
    // SAFETY: first thing in main, before any thread exists.
    unsafe { train::backend::pin_default_device_to_cpu() };
    // Crash tests set FAILPOINTS; without the `failpoints` feature there are none.
    #[cfg(feature = "failpoints")]
    let _fail_points = fail::FailScenario::setup();
    let cli = Cli::parse();
    if let Err(error) = train::commands::dispatch(cli) {
        eprintln!("error: {}", one_line(&error));
        std::process::exit(exit_code(&error));
    }
}
