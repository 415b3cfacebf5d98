//! Spinners on stderr (`check`, `test`), drawn with `indicatif`.
//!
//! Spinners are hidden when stderr is not a terminal or with `-q`, so scripts and logs never
//! see them; the command's real output goes to stdout either way.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a spinner redraws.
const TICK: Duration = Duration::from_millis(80);

/// A group of spinners drawn together, one line each.
#[derive(Debug)]
pub struct Spinners {
    multi: MultiProgress,
}

impl Spinners {
    /// Spinners on stderr, hidden when `quiet` or when stderr is not a terminal.
    pub fn new(quiet: bool) -> Self {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Self {
            multi: MultiProgress::with_draw_target(target),
        }
    }

    /// Adds a spinning line showing `message`.
    pub fn add(&self, message: impl Into<Cow<'static, str>>) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        let style = ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_message(message);
        bar.enable_steady_tick(TICK);
        bar
    }

    /// Removes every spinner line from the terminal.
    pub fn clear(&self) {
        // A terminal that cannot be cleared leaves a spinner line behind; nothing else breaks.
        let _ = self.multi.clear();
    }
}
