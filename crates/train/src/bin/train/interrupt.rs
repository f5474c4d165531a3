//! Ctrl-C and SIGTERM: the first asks training to stop after the current step
//! (so a final checkpoint can be written); a second one exits at once, which
//! cannot tear a checkpoint because checkpoints are written as whole
//! generations (see [`train::io::run_dir`]).

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// What the signal handler shares with the training loop.
pub struct StopRequest {
    /// Set by the first signal; the trainer polls it between steps.
    pub flag: Arc<AtomicBool>,
    /// The signal that set it (0 until then).
    signal: Arc<AtomicI32>,
}

static STOP: OnceLock<StopRequest> = OnceLock::new();

impl StopRequest {
    /// The request Ctrl-C and SIGTERM set; installs the handler on first use.
    /// If the handler cannot be installed, the signals keep their default
    /// effect of ending the process.
    pub fn install() -> &'static StopRequest {
        STOP.get_or_init(|| {
            let request = StopRequest {
                flag: Arc::new(AtomicBool::new(false)),
                signal: Arc::new(AtomicI32::new(0)),
            };
            if let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) {
                let (flag, seen) = (Arc::clone(&request.flag), Arc::clone(&request.signal));
                std::thread::spawn(move || {
                    for signal in signals.forever() {
                        if flag.load(Ordering::SeqCst) {
                            eprintln!(
                                "\n{} again: exiting now; the last complete checkpoint stays",
                                name(signal)
                            );
                            std::process::exit(128 + signal);
                        }
                        // Which signal first, so the loop that sees the flag can name it.
                        seen.store(signal, Ordering::SeqCst);
                        flag.store(true, Ordering::SeqCst);
                        eprintln!(
                            "\n{}: stopping after the current step (again to quit now)",
                            name(signal)
                        );
                    }
                });
            }
            request
        })
    }

    /// How the run was stopped, once a signal came.
    pub fn stopped(&self) -> Option<Interrupted> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(Interrupted {
                signal,
                message: String::new(),
            }),
        }
    }
}

fn name(signal: i32) -> &'static str {
    if signal == SIGTERM {
        "SIGTERM"
    } else {
        "interrupt"
    }
}

/// A run that stopped because the user (or the system, with SIGTERM) asked it to.
#[derive(Debug)]
pub struct Interrupted {
    /// SIGINT or SIGTERM.
    pub signal: i32,
    /// What happened and how to continue.
    pub message: String,
}

impl Interrupted {
    /// The signal's name as a user knows it.
    pub fn by(&self) -> &'static str {
        if self.signal == SIGTERM {
            "SIGTERM"
        } else {
            "Ctrl-C"
        }
    }

    /// The exit code a shell expects for the signal: 130 for SIGINT, 143
    /// for SIGTERM.
    pub fn exit_code(&self) -> i32 {
        128 + self.signal
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Interrupted {}
