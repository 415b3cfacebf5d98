//! A real PostgreSQL server for the tests that need one: `initdb` into a temporary directory,
//! `postgres` on a free loopback port with its socket in that directory, started once per test
//! binary ([`shared`]), with a database of its own for each test ([`database`]); a test that
//! stops its server starts one of its own ([`PgServer::start`]).
//!
//! No server outlives the tests: each runs under a small shell that stops it (fast shutdown)
//! and removes its directory as soon as its standard input closes, which happens when the
//! [`PgServer`] is dropped or the test process ends, however it ends.
//!
//! PostgreSQL refuses to run as root: as root (here and in CI), the server runs as the
//! `postgres` user that Debian's package creates. A machine without the server binaries fails
//! these tests, saying how to install them.

// Test helpers panic on a broken test environment, which is a test failure.
#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::time::Instant;

const INSTALL: &str = "install PostgreSQL's server (on Debian or Ubuntu: `apt-get install postgresql`; `.ci/run` does it when `initdb` is missing)";

/// A running PostgreSQL server.
pub(crate) struct PgServer {
    port: u16,
    dir: PathBuf,
    bindir: PathBuf,
    /// Whose the server's processes and files are (the `postgres` user when the tests run as
    /// root).
    owner: Option<(u32, u32)>,
    /// The shell's standard input: closing it stops the server.
    stop: Option<ChildStdin>,
    shell: Option<Child>,
}

impl PgServer {
    /// Initialises a cluster and starts a server on it, or panics saying why it cannot.
    pub(crate) fn start() -> Self {
        let bindir = bindir().unwrap_or_else(|| panic!("no PostgreSQL server binaries (`initdb`, `postgres`) found via `pg_config --bindir`, PATH or /usr/lib/postgresql/*/bin: {INSTALL}"));
        let owner = owner();
        let dir = tempfile::Builder::new()
            .prefix("claude-lb-pg-")
            .tempdir()
            .unwrap()
            .keep();
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        let output = as_owner(Command::new(bindir.join("initdb")), owner)
            .current_dir(&dir)
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
                "-D",
            ])
            .arg(dir.join("data"))
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {}: {e}; {INSTALL}",
                    bindir.join("initdb").display()
                )
            });
        assert!(
            output.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let mut server = Self {
            port: 0,
            dir,
            bindir,
            owner,
            stop: None,
            shell: None,
        };
        server.run();
        server
    }

    /// Starts the server on its cluster (again, after [`PgServer::stop`]), on a free port the
    /// first time and on the same one after.
    pub(crate) fn run(&mut self) {
        let mut last = String::new();
        for _ in 0..5 {
            if self.port == 0 || !last.is_empty() {
                self.port = free_port();
            }
            match self.try_run() {
                Ok(()) => return,
                Err(why) => {
                    last = why;
                    self.stop();
                }
            }
        }
        panic!("the PostgreSQL server does not start: {last}; {INSTALL}");
    }

    fn try_run(&mut self) -> Result<(), String> {
        let log = self.dir.join("server.log");
        // A line on the pipe stops the server ([`PgServer::stop`]); its end (the test process
        // ended, however) also removes the directory.
        let script = r#"
            "$1/postgres" -D "$2/data" -p "$3" -k "$2" -c listen_addresses=127.0.0.1 \
                -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                -c max_connections=200 >>"$2/server.log" 2>&1 &
            pid=$!
            if read -r _; then keep=1; else keep=; fi
            kill -INT "$pid" 2>/dev/null
            wait "$pid"
            [ -n "$keep" ] || rm -rf "$2"
        "#;
        let mut shell = as_owner(Command::new("sh"), self.owner)
            .current_dir(&self.dir)
            .args(["-c", script, "pg"])
            .arg(&self.bindir)
            .arg(&self.dir)
            .arg(self.port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start sh: {e}"))?;
        self.stop = shell.stdin.take();
        self.shell = Some(shell);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // The client is dropped where it was made: dropping it stops its runtime.
            if off_runtime(|| {
                postgres::Client::connect(&self.url("postgres"), postgres::NoTls).is_ok()
            }) {
                return Ok(());
            }
            if let Some(status) = self
                .shell
                .as_mut()
                .and_then(|s| s.try_wait().ok().flatten())
            {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("it exited ({status}): {log}"));
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("it did not accept connections within 30s: {log}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (a fast shutdown) and waits until it has.
    pub(crate) fn stop(&mut self) {
        if let Some(mut stop) = self.stop.take() {
            let _ = stop.write_all(b"\n");
        }
        if let Some(mut shell) = self.shell.take() {
            let _ = shell.wait();
        }
    }

    /// The URL of `database` on this server.
    pub(crate) fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A new, empty database on this server; its URL. Its text sorts by an English locale's
    /// rules where the server has ICU (as a production database's often does), not by bytes.
    pub(crate) fn database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        off_runtime(|| {
            let mut admin =
                postgres::Client::connect(&self.url("postgres"), postgres::NoTls).unwrap();
            let icu = format!(
                "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"
            );
            if admin.batch_execute(&icu).is_err() {
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap();
            }
        });
        self.url(&name)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server the tests of this binary share (started by the first that asks).
pub(crate) fn shared() -> &'static PgServer {
    static SERVER: OnceLock<PgServer> = OnceLock::new();
    SERVER.get_or_init(PgServer::start)
}

/// A new, empty database on the shared server; its URL.
pub(crate) fn database() -> String {
    shared().database()
}

/// Runs `f` on a thread of its own: the synchronous PostgreSQL client starts a runtime of its
/// own, which cannot start on a thread that drives one (an async test's).
pub(crate) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(f).join().unwrap())
}

/// `command`, run as `owner` when given (who may not enter the test's working directory: the
/// commands run in the server's own).
fn as_owner(mut command: Command, owner: Option<(u32, u32)>) -> Command {
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid).env("HOME", "/");
    }
    command
}

/// The `postgres` user's uid and gid when the tests run as root (PostgreSQL refuses root);
/// `None` otherwise.
fn owner() -> Option<(u32, u32)> {
    if !rustix::process::geteuid().is_root() {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .unwrap_or_else(|| panic!("the tests run as root, which PostgreSQL refuses, and there is no `postgres` user to run it as: {INSTALL}"));
    let fields: Vec<&str> = line.split(':').collect();
    Some((fields[2].parse().unwrap(), fields[3].parse().unwrap()))
}

/// The directory with `initdb` and `postgres`.
fn bindir() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_both(&dir) {
            return Some(dir);
        }
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("initdb"))
            .find(|initdb| initdb.is_file())
            .and_then(|initdb| std::fs::canonicalize(initdb).ok())
            .and_then(|initdb| initdb.parent().map(Path::to_path_buf))
            .filter(|dir| has_both(dir))
    });
    if on_path.is_some() {
        return on_path;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_both(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
