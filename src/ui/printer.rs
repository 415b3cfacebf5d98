//! The [`Printer`]: the one way commands write to stdout and stderr.
//!
//! Writes return `io::Result` instead of panicking as `println!` does, so a closed pipe
//! (`claude-lb ... | head`) reaches `commands::run` as an error it can recognise and exit 0 on.

use std::fmt::Display;
use std::io::{self, Write};

/// Writes command output: data to stdout, diagnostics to stderr.
#[derive(Clone, Copy, Debug, Default)]
pub struct Printer {
    quiet: bool,
}

impl Printer {
    /// `quiet` (`-q`) hides notices; data and errors are always written.
    pub fn new(quiet: bool) -> Self {
        Self { quiet }
    }

    /// Whether `-q` was given.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// One line of data on stdout.
    pub fn line(&self, text: impl Display) -> io::Result<()> {
        let mut out = io::stdout().lock();
        writeln!(out, "{text}")?;
        out.flush()
    }

    /// Raw bytes on stdout (a generated script, for example).
    pub fn bytes(&self, bytes: &[u8]) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()
    }

    /// A notice on stderr (what was done, what to do next); hidden by `-q`.
    pub fn notice(&self, text: impl Display) -> io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        writeln!(io::stderr().lock(), "{text}")
    }

    /// An error on stderr, as `error: ...`; never hidden.
    pub fn error(&self, text: impl Display) {
        // Nothing useful can be done when stderr itself is gone.
        let _ = writeln!(io::stderr().lock(), "error: {text}");
    }
}
