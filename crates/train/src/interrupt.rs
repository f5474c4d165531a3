//! Ctrl-C: the first asks training to stop after the current step (so a final
//! checkpoint can be written); a second one exits at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells expect.
pub const EXIT_INTERRUPTED: i32 = 130;

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The flag Ctrl-C sets; installs the handler on first use. If the handler
/// cannot be installed, the flag is never set and Ctrl-C keeps its default
/// effect of ending the process.
pub fn stop_flag() -> Arc<AtomicBool> {
    STOP.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&flag);
        let _ = ctrlc::set_handler(move || {
            if seen.swap(true, Ordering::SeqCst) {
                eprintln!("\ninterrupted again: exiting without a final checkpoint");
                std::process::exit(EXIT_INTERRUPTED);
            }
            eprintln!("\ninterrupt: stopping after the current step (Ctrl-C again to quit now)");
        });
        flag
    })
    .clone()
}

/// A run that stopped because the user asked it to.
#[derive(Debug)]
pub struct Interrupted(pub String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Interrupted {}
