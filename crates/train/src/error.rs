//! The one error type that means "the user asked for something we cannot do".
//!
//! Such errors print as one line and exit with code 2; anything else is a
//! failure of the tool and exits with code 1.

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
/// Exit code for a failure of the tool itself.
pub const EXIT_FAILURE: i32 = 1;

/// The process exit code an error should end with.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    if error.is::<crate::interrupt::Interrupted>() {
        crate::interrupt::EXIT_INTERRUPTED
    } else if error.chain().any(|cause| cause.is::<UserError>()) {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    }
}

/// Renders an error and its causes on a single line.
pub fn one_line(error: &anyhow::Error) -> String {
    format!("{error:#}").replace('\n', " ")
}
