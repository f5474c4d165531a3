//! The one error type that means "the user asked for something we cannot do",
//! and the exit codes the `train` binary gives each kind of error.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the environment failed us (disk full, read-only, permission) or an internal error |
//! | 2 | the user's input: a config key, a flag, a file, a backend, a busy run directory |
//! | 3 | training diverged (a non-finite loss, gradients or weights, or a training loss above `training.divergence_threshold`) |
//! | 4 | the run directory is being written by another process |
//! | 130 / 143 | stopped by Ctrl-C / SIGTERM after writing a checkpoint |

use std::fmt;

/// A mistake in the user's input: a config key, a flag, a file, a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError(pub String);

impl UserError {
    /// Wraps a message that already says what is wrong and where.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// Shorthand for returning a [`UserError`] as an `anyhow::Error`.
#[macro_export]
macro_rules! user_error {
    ($($arg:tt)*) => {
        anyhow::Error::new($crate::error::UserError::new(format!($($arg)*)))
    };
}

/// Exit code for a user's mistake.
pub const EXIT_USAGE: i32 = 2;
/// Exit code for a failure of the environment or of the tool itself.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for a run whose loss or weights stopped being finite.
pub const EXIT_DIVERGED: i32 = 3;
/// Exit code for a run directory another process holds: a sweep's parent
/// reads it as "left to that process", never by matching the message.
pub const EXIT_BUSY: i32 = 4;

/// An I/O error's reason without Rust's `(os error N)` suffix.
pub fn describe_io_error(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => error.to_string(),
    }
}

/// The most a config, sweep or plan file may hold: they are a few KiB of
/// TOML or JSON, and a device (`/dev/zero`) would otherwise fill memory.
pub const TEXT_FILE_LIMIT: u64 = 16 << 20;

/// Reads a small text file (a config, a sweep, a plan) that errors call a
/// `what` (e.g. "config file"), refusing one larger than [`TEXT_FILE_LIMIT`]
/// before reading more than that, a pipe or device included.
pub fn read_text_file(path: &std::path::Path, what: &str) -> Result<String, UserError> {
    use std::io::Read as _;
    let cannot =
        |reason: String| UserError::new(format!("cannot read {what} {}: {reason}", path.display()));
    let file = std::fs::File::open(path).map_err(|error| cannot(describe_io_error(&error)))?;
    let too_large = || {
        cannot(format!(
            "larger than {} MiB, the most a {what} may hold",
            TEXT_FILE_LIMIT >> 20
        ))
    };
    if file
        .metadata()
        .is_ok_and(|meta| meta.is_file() && meta.len() > TEXT_FILE_LIMIT)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(TEXT_FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| cannot(describe_io_error(&error)))?;
    if bytes.len() as u64 > TEXT_FILE_LIMIT {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|_| cannot("not UTF-8 text".into()))
}

/// Renders an error and its causes on a single line.
pub fn one_line(error: &anyhow::Error) -> String {
    format!("{error:#}").replace('\n', " ")
}
