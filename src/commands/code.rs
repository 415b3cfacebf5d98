//! `claude-lb code [-- CLAUDE_ARGS...]`: runs Claude Code pointed at claude-lb.
//!
//! 1. Finds `claude` (`--claude PATH`, else on `PATH`).
//! 2. Picks the address (`--listen`, else the config's `settings.listen`) and asks `GET /`
//!    there: claude-lb answering means it is used as it is; nothing listening means `serve`
//!    (this same binary) starts in the background with its log in a file, and is waited for
//!    until it answers; anything else there is an error.
//! 3. Runs Claude Code with `ANTHROPIC_BASE_URL` (and a key, see [`client_key`]) and waits for
//!    it. Meanwhile SIGINT is caught and dropped: the terminal sends Ctrl-C to the whole
//!    foreground process group, so Claude Code (which inherits the default disposition, since
//!    a caught signal resets on `exec`) receives it, and claude-lb stays to clean up. SIGTERM and
//!    SIGHUP sent to claude-lb alone are passed on to Claude Code.
//! 4. Stops the `serve` it started (SIGTERM, a graceful stop), only once Claude Code has
//!    exited, and exits with Claude Code's exit code (128 + N when it was killed by signal N).
//!
//! The background `serve` runs in a process group of its own, so the terminal's Ctrl-C does not
//! reach it while Claude Code is still using it.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

use crate::cli::{CodeArgs, GlobalArgs};
use crate::commands::ExitStatus;
use crate::commands::instance::{self, Answer};
use crate::ui::Printer;

/// What Claude Code gets as `ANTHROPIC_API_KEY` when no key is set: it refuses to start
/// without one (`Not logged in`), and claude-lb never forwards a client's key to a provider.
pub const PLACEHOLDER_KEY: &str = "claude-lb-placeholder";

/// How long a background `serve` may take to answer `GET /`.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a background `serve` may take to stop after SIGTERM before it is killed. Claude
/// Code has exited by then, so no request of its should be in flight.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

const INSTALL_HINT: &str = "install Claude Code with `npm install -g @anthropic-ai/claude-code`, or name the executable with --claude PATH";

/// Refuses to start Claude Code with the placeholder key against a config whose `clients:`
/// would refuse it.
fn needs_no_key(config: &crate::config::Config, args: &CodeArgs) -> anyhow::Result<()> {
    if !config.clients.is_empty() && client_key(args).as_deref() == Some(PLACEHOLDER_KEY) {
        bail!(
            "this config has `clients:`, so Claude Code needs one of their keys: pass --client-key KEY or set CLAUDE_LB_CLIENT_KEY (`claude-lb clients add NAME` makes one)"
        );
    }
    Ok(())
}

/// `claude-lb code` from the command line; the exit code is Claude Code's.
pub fn run_cli(global: &GlobalArgs, args: &CodeArgs, printer: &Printer) -> ExitCode {
    match run(global, args, *printer) {
        Ok(code) => code,
        Err(error) => ExitStatus::from_result(Err(error), printer).into(),
    }
}

fn run(global: &GlobalArgs, args: &CodeArgs, printer: Printer) -> anyhow::Result<ExitCode> {
    let claude = find_claude(
        args.claude.as_deref(),
        crate::env::process(crate::env::PATH).as_deref(),
    )?;
    // The config is needed for its address when --listen is not given, and to start `serve`.
    let mut config_path = None;
    let listen = if let Some(listen) = args.listen {
        listen
    } else {
        let Some((path, loaded)) = instance::load_config(global, &printer)? else {
            return Ok(ExitStatus::Failure.into());
        };
        config_path = Some(path);
        needs_no_key(&loaded.config, args)?;
        loaded.config.settings.listen
    };
    if listen.port() == 0 {
        bail!(
            "listen address {listen} has port 0; `claude-lb code` needs a fixed port (set settings.listen or --listen)"
        );
    }
    let url = instance::client_url(listen);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = match instance::probe(&url).await {
            Answer::ClaudeLb { version, .. } => {
                notice(printer, format_args!("using claude-lb {version} at {url}"));
                None
            }
            Answer::Other(what) => bail!(
                "{listen} is taken by something that is not claude-lb ({what}); stop it, or choose another address with --listen or settings.listen"
            ),
            Answer::Nothing => {
                let config_path = match config_path {
                    Some(path) => path,
                    None => match instance::load_config(global, &printer)? {
                        Some((path, loaded)) => {
                            needs_no_key(&loaded.config, args)?;
                            path
                        }
                        None => return Ok(ExitStatus::Failure.into()),
                    },
                };
                let server = Background::start(&config_path, listen, &url).await?;
                notice(
                    printer,
                    format_args!(
                        "started claude-lb serve at {url} until Claude Code exits (log: {})",
                        server.log.display()
                    ),
                );
                Some(server)
            }
        };
        let status = run_claude(&claude, &args.claude_args, &url, client_key(args)).await;
        if let Some(server) = server {
            server.stop(printer).await;
        }
        status
    })
}

/// Prints a notice; a closed stderr is no reason to stop Claude Code.
fn notice(printer: Printer, text: impl std::fmt::Display) {
    let _ = printer.notice(format_args!("claude-lb: {text}"));
}

/// The key Claude Code gets: `--client-key` (or `CLAUDE_LB_CLIENT_KEY`) when given; else
/// [`PLACEHOLDER_KEY`] when the environment has no `ANTHROPIC_API_KEY` nor
/// `ANTHROPIC_AUTH_TOKEN`; else `None` (Claude Code uses the one it has).
fn client_key(args: &CodeArgs) -> Option<String> {
    if let Some(key) = &args.client_key {
        return Some(key.clone());
    }
    let has_key = [
        crate::env::ANTHROPIC_API_KEY,
        crate::env::ANTHROPIC_AUTH_TOKEN,
    ]
    .iter()
    .any(|name| crate::env::process(name).is_some_and(|v| !v.is_empty()));
    (!has_key).then(|| PLACEHOLDER_KEY.to_owned())
}

/// `explicit` when given (it must exist), else the first executable `claude` in `path`.
fn find_claude(explicit: Option<&Path>, path: Option<&str>) -> anyhow::Result<PathBuf> {
    if let Some(explicit) = explicit {
        if !explicit.is_file() {
            bail!(
                "--claude {}: no such file; {INSTALL_HINT}",
                explicit.display()
            );
        }
        return Ok(explicit.to_path_buf());
    }
    path.into_iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("claude"))
        .find(|candidate| is_executable(candidate))
        .with_context(|| format!("cannot find `claude` (Claude Code) on PATH; {INSTALL_HINT}"))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = path.metadata() else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// Runs Claude Code to its end and gives its exit code.
async fn run_claude(
    claude: &Path,
    args: &[String],
    url: &str,
    key: Option<String>,
) -> anyhow::Result<ExitCode> {
    // Caught from here on, so that Ctrl-C only reaches Claude Code (see the module doc).
    #[cfg(unix)]
    let mut signals = Signals::new()?;
    let mut command = Command::new(claude);
    command
        .args(args)
        .env(crate::env::ANTHROPIC_BASE_URL, url)
        .kill_on_drop(false);
    if let Some(key) = key {
        command.env(crate::env::ANTHROPIC_API_KEY, key);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start `{}`", claude.display()))?;
    #[cfg(unix)]
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            forward = signals.next() => {
                if let Some(signal) = forward {
                    send(&child, signal);
                }
            }
        }
    };
    #[cfg(not(unix))]
    let status = child.wait().await;
    let status = status.with_context(|| format!("waiting for `{}`", claude.display()))?;
    Ok(exit_code(status))
}

/// Claude Code's exit code, or 128 + N when signal N ended it (as shells report it).
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return ExitCode::from(u8::try_from((128 + signal) & 0xff).unwrap_or(1));
        }
    }
    ExitCode::FAILURE
}

/// The signals claude-lb catches while Claude Code runs.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let catch = |kind: SignalKind| signal(kind).context("cannot catch a signal");
        Ok(Self {
            interrupt: catch(SignalKind::interrupt())?,
            terminate: catch(SignalKind::terminate())?,
            hangup: catch(SignalKind::hangup())?,
        })
    }

    /// The next signal to pass on to Claude Code: `None` for SIGINT, which the terminal has
    /// already delivered to it.
    async fn next(&mut self) -> Option<rustix::process::Signal> {
        use rustix::process::Signal;
        tokio::select! {
            _ = self.interrupt.recv() => None,
            _ = self.terminate.recv() => Some(Signal::TERM),
            _ = self.hangup.recv() => Some(Signal::HUP),
        }
    }
}

/// Sends `signal` to `child`, if it is still running.
#[cfg(unix)]
fn send(child: &Child, signal: rustix::process::Signal) {
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        // The child may have exited in between; then there is nobody left to tell.
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// A `serve` started for the length of one Claude Code session.
struct Background {
    child: Child,
    log: PathBuf,
}

impl Background {
    /// Starts `serve` and waits until it answers `GET /` at `url`.
    async fn start(config: &Path, listen: SocketAddr, url: &str) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find the claude-lb executable")?;
        let log = std::env::temp_dir().join(format!("claude-lb-code-{}.log", std::process::id()));
        let file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create the log file `{}`", log.display()))?;
        let mut command = Command::new(exe);
        command
            .arg("--config")
            .arg(config)
            .args([OsStr::new("serve"), OsStr::new("--listen")])
            .arg(listen.to_string())
            .stdin(Stdio::null())
            .stdout(file.try_clone().context("cannot share the log file")?)
            .stderr(file)
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let child = command.spawn().context("cannot start claude-lb serve")?;
        let mut server = Self { child, log };
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = server.child.try_wait().context("waiting for serve")? {
                bail!(
                    "claude-lb serve stopped before it was ready ({status}):\n{}",
                    server.log_text()
                );
            }
            if let Answer::ClaudeLb { .. } = instance::probe(url).await {
                return Ok(server);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "claude-lb serve did not answer at {url} within {}s (log: {})",
                    READY_TIMEOUT.as_secs(),
                    server.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops `serve` gracefully (SIGTERM), killing it if it takes too long. The log file is
    /// removed after a clean stop and kept (and named) otherwise.
    async fn stop(mut self, printer: Printer) {
        if let Ok(Some(status)) = self.child.try_wait() {
            notice(
                printer,
                format_args!(
                    "claude-lb serve had stopped on its own ({status}); its log: {}",
                    self.log.display()
                ),
            );
            return;
        }
        #[cfg(unix)]
        send(&self.child, rustix::process::Signal::TERM);
        #[cfg(not(unix))]
        let _ = self.child.start_kill();
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => {
                let _ = std::fs::remove_file(&self.log);
            }
            Ok(Ok(status)) => notice(
                printer,
                format_args!(
                    "claude-lb serve exited with {status}; its log: {}",
                    self.log.display()
                ),
            ),
            Ok(Err(_)) | Err(_) => {
                let _ = self.child.kill().await;
                notice(
                    printer,
                    format_args!(
                        "claude-lb serve did not stop within {}s and was killed; its log: {}",
                        STOP_TIMEOUT.as_secs(),
                        self.log.display()
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn find_claude_searches_path_for_an_executable() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let not_exec = dir.path().join("a");
        let exec = dir.path().join("b");
        for d in [&not_exec, &exec] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("claude"), "#!/bin/sh\n").unwrap();
        }
        std::fs::set_permissions(exec.join("claude"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let path = std::env::join_paths([&not_exec, &exec]).unwrap();
        let found = find_claude(None, path.to_str()).unwrap();
        assert_eq!(found, exec.join("claude"));

        let error = find_claude(None, not_exec.to_str())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("npm install -g @anthropic-ai/claude-code"),
            "{error}"
        );
        let error = find_claude(Some(&dir.path().join("nope")), None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("--claude"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn exit_code_passes_codes_and_signals_through() {
        use std::os::unix::process::ExitStatusExt as _;
        let code = |raw| format!("{:?}", exit_code(std::process::ExitStatus::from_raw(raw)));
        assert_eq!(code(7 << 8), format!("{:?}", ExitCode::from(7)));
        assert_eq!(code(0), format!("{:?}", ExitCode::from(0)));
        // Killed by SIGINT (2): 130, as a shell reports it.
        assert_eq!(code(2), format!("{:?}", ExitCode::from(130)));
    }
}
