//! `claude-lb top`: a live view of a running instance in the terminal, read from its admin API
//! only.
//!
//! `client` polls the routes, `stats` turns successive polls into rates, percentiles and
//! countdowns (pure), `view` draws them (ratatui). This module is the thin loop between them and
//! the terminal: a background task polls every `--interval` and sends what it read over a
//! channel; the main thread draws, waits for a key at most a tenth of a second, and on `q` or
//! Ctrl-C leaves. The terminal is restored however it ends: on return, on error, on panic
//! (through a panic hook), and on SIGTERM, SIGINT or SIGHUP (turned into a quit).
//!
//! The first poll happens before the screen is taken, so a wrong URL is an error on stderr
//! (exit 1) in the words of `providers list --remote`; after that a failed poll only marks the
//! instance disconnected until a poll succeeds again.

pub mod client;
pub mod stats;
pub mod view;

use std::io::{self, IsTerminal as _};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::{Context as _, bail};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::{cursor, execute, terminal};
use tokio::time::Instant;

use crate::cli::{GlobalArgs, TopArgs};
use crate::commands::ExitStatus;
use crate::commands::instance;
use crate::ui::Printer;
use crate::upstream::remote;

use client::Client;
use stats::{Dashboard, Poll};

/// How long a reload's result stays in the status line.
const MESSAGE_FOR: Duration = Duration::from_secs(8);

/// What the background tasks tell the screen.
enum Update {
    Poll(Box<Poll>),
    Failed(String),
    Reloaded(String),
    /// SIGTERM, SIGINT or SIGHUP: leave as on `q`, so the terminal is restored.
    Quit,
}

/// `claude-lb top` from the command line.
pub fn run(global: &GlobalArgs, args: &TopArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let url = match &args.remote {
        Some(url) => url.clone(),
        None => match instance::listen_address(None, global, printer)? {
            Some(listen) => instance::client_url(listen),
            None => return Ok(ExitStatus::Failure),
        },
    };
    let base = remote::instance_url(&url).map_err(anyhow::Error::msg)?;
    let color = crate::env::process(crate::env::NO_COLOR).is_none_or(|v| v.is_empty());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let client = Arc::new(Client::new(base, args.admin.admin_token.clone())?);
    // A wrong URL, or something that is not claude-lb, fails here, before the screen is taken.
    let first = runtime.block_on(client.poll())?;
    if !io::stdout().is_terminal() {
        bail!(
            "`top` draws on a terminal and stdout is not one; for a one-off listing use \
             `claude-lb providers list --remote {url}`"
        );
    }

    let (tx, rx) = mpsc::channel();
    {
        let client = client.clone();
        let tx = tx.clone();
        let interval = args.interval;
        // Dropped with the runtime when `top` ends: it only reads.
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let update = match client.poll().await {
                    Ok(poll) => Update::Poll(Box::new(poll)),
                    Err(error) => Update::Failed(short_reason(&error)),
                };
                if tx.send(update).is_err() {
                    break;
                }
            }
        });
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered before the screen is taken: from then on SIGTERM, SIGINT and SIGHUP (the
        // terminal closed) no longer kill the process but quit as `q` does, restoring the
        // terminal. The task ends with the runtime.
        let _context = runtime.enter();
        let mut signals = Vec::new();
        for kind in [
            SignalKind::terminate(),
            SignalKind::interrupt(),
            SignalKind::hangup(),
        ] {
            signals.push(signal(kind).context("cannot listen for signals")?);
        }
        let tx = tx.clone();
        runtime.spawn(async move {
            let received = signals.iter_mut().map(|s| Box::pin(s.recv()));
            futures_util::future::select_all(received).await;
            let _ = tx.send(Update::Quit);
        });
    }
    let mut dashboard = Dashboard::new();
    dashboard.ingest(first, Instant::now());
    let mut watch = Watch {
        runtime: &runtime,
        client,
        tx,
        rx,
        interval: args.interval,
        color,
        dashboard,
        keys: Keys::default(),
    };
    let restore = TerminalGuard::enter()?;
    let result = watch.run();
    drop(restore);
    runtime.shutdown_background();
    result.map(|()| ExitStatus::Success)
}

/// The screen's loop and what it needs.
struct Watch<'a> {
    runtime: &'a tokio::runtime::Runtime,
    client: Arc<Client>,
    tx: mpsc::Sender<Update>,
    rx: mpsc::Receiver<Update>,
    interval: Duration,
    color: bool,
    dashboard: Dashboard,
    keys: Keys,
}

impl Watch<'_> {
    /// Draws, reads a key, and again, until `q` or Ctrl-C.
    fn run(&mut self) -> anyhow::Result<()> {
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(io::stdout()))
                .context("cannot draw on the terminal")?;
        terminal.clear()?;
        loop {
            if self.take_updates() {
                return Ok(());
            }
            self.draw(&mut terminal)?;
            match wait_for_input(Duration::from_millis(100)).context("cannot read the keyboard")? {
                Input::None => continue,
                Input::HungUp => return Ok(()),
                Input::Ready => {}
            }
            // Every event crossterm has read, not only the first: it may have read several keys
            // at once, and those it keeps are not seen by the next wait.
            while event::poll(Duration::ZERO).context("cannot read the keyboard")? {
                let event = event::read().context("cannot read the keyboard")?;
                if self.on_event(&event) {
                    return Ok(());
                }
            }
        }
    }

    /// Acts on one terminal event; true when it asks to quit.
    fn on_event(&mut self, event: &Event) -> bool {
        let Event::Key(key) = event else {
            return false;
        };
        if key.kind != KeyEventKind::Press {
            return false;
        }
        match key.code {
            KeyCode::Char('q') => return true,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return true,
            KeyCode::Esc => self.keys.help = false,
            KeyCode::Char('?' | 'h') => self.keys.help = !self.keys.help,
            KeyCode::Char('s') => self.dashboard.sort = self.dashboard.sort.next(),
            KeyCode::Char('r') => self.reload(),
            _ => {}
        }
        false
    }

    /// Takes in what the background tasks sent; true when it is time to quit.
    fn take_updates(&mut self) -> bool {
        while let Ok(update) = self.rx.try_recv() {
            match update {
                Update::Poll(poll) => self.dashboard.ingest(*poll, Instant::now()),
                Update::Failed(reason) => self.dashboard.disconnected(reason),
                Update::Reloaded(message) => self.keys.message = Some((message, Instant::now())),
                Update::Quit => return true,
            }
        }
        if self
            .keys
            .message
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() > MESSAGE_FOR)
        {
            self.keys.message = None;
        }
        false
    }

    fn draw(
        &self,
        terminal: &mut ratatui::Terminal<ratatui::backend::CrosstermBackend<io::Stdout>>,
    ) -> anyhow::Result<()> {
        let dashboard = &self.dashboard;
        let rows = dashboard.rows(Instant::now());
        let totals = dashboard.totals();
        let empty = Poll::default();
        let poll = dashboard.poll().unwrap_or(&empty);
        let screen = view::Screen {
            url: self.client.base(),
            interval: self.interval,
            rows: &rows,
            totals: &totals,
            events: poll.events.as_deref(),
            link: &dashboard.link,
            notes: &poll.notes,
            message: self.keys.message.as_ref().map(|(m, _)| m.as_str()),
            sort: dashboard.sort,
            help: self.keys.help,
            color: self.color,
        };
        terminal
            .draw(|frame| view::draw(frame, &screen))
            .context("cannot draw on the terminal")?;
        Ok(())
    }

    /// Asks the instance to reload; the answer comes back as an update.
    fn reload(&mut self) {
        self.keys.message = Some(("reloading…".to_owned(), Instant::now()));
        let client = self.client.clone();
        let tx = self.tx.clone();
        self.runtime.spawn(async move {
            let _ = tx.send(Update::Reloaded(client.reload().await));
        });
    }
}

/// What waiting for a key found.
#[derive(Debug, PartialEq, Eq)]
enum Input {
    None,
    Ready,
    /// The terminal is gone (its window closed, the ssh connection dropped).
    HungUp,
}

/// Waits up to `timeout` for a key on the terminal.
///
/// crossterm's own wait reads a terminal that hung up forever (each read gives 0 bytes and it
/// reads again), so `top` would spin instead of ending: on Unix, when the keys come from stdin,
/// this waits with `poll` itself and says when the terminal is gone; crossterm then only reads
/// what is there.
fn wait_for_input(timeout: Duration) -> io::Result<Input> {
    #[cfg(unix)]
    {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let stdin = io::stdin();
        if stdin.is_terminal() {
            let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
            let timeout = Timespec::try_from(timeout).map_err(io::Error::other)?;
            match poll(&mut fds, Some(&timeout)) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => return Ok(Input::None),
                Err(error) => return Err(error.into()),
            }
            let seen = fds[0].revents();
            if seen.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL) {
                return Ok(Input::HungUp);
            }
            if !seen.contains(PollFlags::IN) {
                return Ok(Input::None);
            }
            // A hung-up terminal reads as "ready" with nothing to read, and is no longer a
            // terminal to `isatty`.
            return Ok(if stdin.is_terminal() {
                Input::Ready
            } else {
                Input::HungUp
            });
        }
    }
    Ok(if event::poll(timeout)? {
        Input::Ready
    } else {
        Input::None
    })
}

/// What the keys changed.
#[derive(Default)]
struct Keys {
    help: bool,
    message: Option<(String, Instant)>,
}

/// A poll's error on one line for the status line: without the URL (the title shows it) and
/// without the hint meant for a command's last words.
fn short_reason(error: &anyhow::Error) -> String {
    let text = format!("{error:#}");
    let text = text
        .split("; is `claude-lb serve` running there?")
        .next()
        .unwrap_or(&text);
    let text = text
        .strip_prefix("cannot reach claude-lb at ")
        .and_then(|rest| rest.split_once(": "))
        .map_or(text, |(_url, why)| why);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The terminal in raw mode on the alternate screen, with the cursor hidden, for as long as it
/// lives; dropping it (or a panic) gives the terminal back as it was.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> anyhow::Result<Self> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        terminal::enable_raw_mode().context("cannot put the terminal in raw mode")?;
        let guard = Self;
        execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)
            .context("cannot switch to the alternate screen")?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_error_is_one_line_without_the_hint() {
        let error = anyhow::anyhow!(
            "cannot reach claude-lb at http://h:1/providers: connection refused; is `claude-lb serve` running there?"
        );
        assert_eq!(short_reason(&error), "connection refused");
        let other = anyhow::anyhow!(
            "http://h:1/providers answered HTTP 404 (`x`), not claude-lb's provider list; is `claude-lb serve` running there?"
        );
        assert_eq!(
            short_reason(&other),
            "http://h:1/providers answered HTTP 404 (`x`), not claude-lb's provider list"
        );
    }
}
