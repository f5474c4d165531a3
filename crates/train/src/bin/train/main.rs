//! The `train` command: parse, dispatch, map errors to one line and an exit
//! code (the table is in README.md, "Exit codes").

/// `println!` that never panics: a reader that went away (`| head -1`)
/// must not stop a training run.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod children;
mod cli;
mod commands;
mod interrupt;
mod progress;

use clap::Parser;
use train::error::{EXIT_BUSY, EXIT_DIVERGED, EXIT_FAILURE, EXIT_USAGE, UserError, one_line};
use train::io::run_dir::RunDirBusy;
use train::session::RunError;
use train::training::divergence::{Diverged, DivergedRuns};

use crate::cli::Cli;
use crate::interrupt::Interrupted;

/// A training step allocates and frees dozens of small tensors and graph
/// nodes; mimalloc serves them faster than glibc's malloc (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // SAFETY: first thing in main, before any thread exists.
    unsafe {
        train::backend::pin_default_device_to_cpu();
        train::backend::give_mesa_a_runtime_dir();
    }
    // The crash tests arm fail points through ACTLAB_FAILPOINTS.
    if let Err(error) = train::io::run_dir::arm_fail_points_from_env() {
        eprintln!("error: {error}");
        std::process::exit(EXIT_USAGE);
    }
    let cli = Cli::parse();
    let trains = matches!(
        cli.command,
        None | Some(cli::Command::Run(_)) | Some(cli::Command::Serve(_))
    );
    if !trains {
        // `train predict ... | head -1`: end quietly when the reader goes
        // away, as Unix tools do, rather than panic on the next print. A
        // training run keeps Rust's default and writes its lines with
        // `say!`, which ignores a closed pipe: `train | head -1` still
        // trains to the end and saves (and the lab's pages come and go).
        // SAFETY: before any thread exists; SIG_DFL is a valid disposition.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    if let Err(error) = commands::dispatch(cli) {
        eprintln!("error: {}", one_line(&error));
        std::process::exit(exit_code(&error));
    }
}

/// The process exit code an error should end with.
fn exit_code(error: &anyhow::Error) -> i32 {
    let any = |test: fn(&(dyn std::error::Error + 'static)) -> bool| error.chain().any(test);
    if let Some(interrupted) = error.downcast_ref::<Interrupted>() {
        interrupted.exit_code()
    } else if any(|cause| cause.is::<Diverged>() || cause.is::<DivergedRuns>()) {
        EXIT_DIVERGED
    } else if any(|cause| cause.is::<RunDirBusy>()) {
        EXIT_BUSY
    } else if any(|cause| cause.is::<UserError>() || cause.is::<RunError>()) {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    }
}
