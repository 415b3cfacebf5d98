//! Running the real `claude-lb` binary in a scrubbed environment.
//!
//! Each [`ClaudeLb`] gets its own temporary home: `HOME`, `XDG_CONFIG_HOME` and `XDG_DATA_HOME`
//! (where `serve` keeps its usage ledger by default) point into it and
//! it is the working directory, and every `ANTHROPIC_*`, `OPENAI_*`, `CLAUDE_LB_*`, `RUST_LOG`
//! and `NO_COLOR` variable of the test process is removed, so no test sees the developer's keys
//! or config.

// Test helpers panic on a broken test environment, which is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// A `claude-lb` invocation being prepared.
pub(crate) struct ClaudeLb {
    cmd: Command,
    home: TempDir,
}

/// What a finished invocation did.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit code (`-1` when killed by a signal).
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl ClaudeLb {
    pub(crate) fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_claude-lb"));
        for (name, _) in std::env::vars_os() {
            let name_str = name.to_string_lossy();
            if [
                "ANTHROPIC_",
                "OPENAI_",
                "CLAUDE_LB_",
                "RUST_LOG",
                "NO_COLOR",
                "SSL_CERT_",
            ]
            .iter()
            .any(|p| name_str.starts_with(p))
            {
                cmd.env_remove(&name);
            }
        }
        cmd.env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .current_dir(home.path());
        Self { cmd, home }
    }

    /// The temporary home directory (also the working directory).
    pub(crate) fn home(&self) -> &Path {
        self.home.path()
    }

    /// Where the user config file lives for this invocation.
    pub(crate) fn user_config(&self) -> PathBuf {
        self.home().join(".config/claude-lb/providers.yaml")
    }

    /// Writes `contents` to `name` in the home directory and returns its path.
    pub(crate) fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.home().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        // As `providers add` would create it: a key written out in a file others can read
        // earns a warning, which tests that do not look for it should not see.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        path
    }

    pub(crate) fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub(crate) fn arg_path(&mut self, path: &Path) -> &mut Self {
        self.cmd.arg(path);
        self
    }

    pub(crate) fn env(&mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        self.cmd.env(name, value);
        self
    }

    /// Runs to completion. The home directory's path is replaced by `[HOME]` in the output.
    pub(crate) fn run(&mut self) -> Run {
        let out = self.cmd.output().unwrap();
        let home = self.home().display().to_string();
        let clean = |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&home, "[HOME]");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: clean(&out.stdout),
            stderr: clean(&out.stderr),
        }
    }

    /// Starts the binary in the background with stdout and stderr piped.
    pub(crate) fn spawn(&mut self) -> std::process::Child {
        self.cmd
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs with stdout going into a pipe whose reading end is closed at once, as in
    /// `claude-lb ... | head -0`. Output larger than the pipe's buffer is sure to hit it.
    pub(crate) fn run_into_closed_pipe(&mut self) -> Run {
        let mut child = self
            .cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::new(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
