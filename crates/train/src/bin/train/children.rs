//! The `train` processes a sweep is waiting on, so that a stop reaches them.
//!
//! Ctrl-C in a terminal and Slurm's `scancel` signal every process of the
//! job, children included; Kubernetes (and a plain `kill PID`) signals only
//! the sweep's own process. So a sweep that is asked to stop waits a grace
//! period for its children to stop by themselves, then passes the signal on
//! to those still running: each child is signalled once either way (a second
//! signal would make it quit without its final checkpoint).

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Child, Command, Output};
use std::sync::Mutex;
use std::time::Duration;

/// How long a stopping sweep leaves its children to stop on their own.
pub const FORWARD_AFTER: Duration = Duration::from_secs(5);

/// The children running now, by pid.
#[derive(Default)]
pub struct Children {
    running: Mutex<BTreeSet<u32>>,
}

impl Children {
    /// Runs `command` to its end, as `Command::output` would, with its pid
    /// registered while it runs. Only stderr is piped (the sweep's children
    /// print their errors there and are run `--quiet`).
    pub fn output(&self, command: &mut Command) -> std::io::Result<Output> {
        let mut child = command.spawn()?;
        let pid = child.id();
        self.running().insert(pid);
        let output = self.wait(&mut child, pid);
        self.running().remove(&pid);
        output
    }

    /// Reads the child's stderr to its end, waits for it to exit without
    /// reaping it, takes its pid out of the set, and only then reaps it: a
    /// pid in the set is always one of ours, never a reused number.
    fn wait(&self, child: &mut Child, pid: u32) -> std::io::Result<Output> {
        let mut stderr = Vec::new();
        if let Some(mut pipe) = child.stderr.take() {
            pipe.read_to_end(&mut stderr)?;
        }
        exited_unreaped(pid)?;
        self.running().remove(&pid);
        let status = child.wait()?;
        Ok(Output {
            status,
            stdout: Vec::new(),
            stderr,
        })
    }

    /// Sends `signal` to every child still running.
    pub fn signal_all(&self, signal: i32) -> usize {
        let running = self.running();
        for &pid in running.iter() {
            // SAFETY: kill(2) with a pid of an unreaped child of ours.
            unsafe { libc::kill(pid as libc::pid_t, signal) };
        }
        running.len()
    }

    fn running(&self) -> std::sync::MutexGuard<'_, BTreeSet<u32>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Blocks until child `pid` has exited, leaving it to be reaped (`WNOWAIT`).
fn exited_unreaped(pid: u32) -> std::io::Result<()> {
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid(2).
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid(2) on our own child, writing only into `info`.
        let done = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if done == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}
