//! A real `redis-server` process of the test's own, on a free loopback port.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

use super::tls::TestCa;

/// How to get the server when it is missing.
const INSTALL: &str = "install Debian's redis-server package (`apt-get install redis-server`) or put redis-server on PATH";

/// A `redis-server` that lives as long as this value; it can be stopped and started again on
/// the same port.
pub(crate) struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// With TLS only: the CA that signed the server's certificate.
    tls_ca: Option<TestCa>,
}

impl RedisServer {
    /// Starts a server on a free loopback port. Panics, saying how to install one, when there
    /// is no `redis-server`.
    pub(crate) fn start() -> Self {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let mut server = Self {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
            tls_ca: None,
        };
        server.restart();
        server
    }

    /// A server that speaks TLS only, with a certificate for 127.0.0.1 signed by a CA of its
    /// own ([`RedisServer::tls_ca`]).
    pub(crate) fn start_tls() -> Self {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let ca = TestCa::new();
        let identity = ca.server();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("server.pem"), identity.cert_pem).unwrap();
        std::fs::write(dir.path().join("server.key"), identity.key_pem).unwrap();
        std::fs::copy(ca.file(), dir.path().join("ca.pem")).unwrap();
        let mut server = Self {
            port,
            dir,
            child: None,
            tls_ca: Some(ca),
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:PORT/0`, or `rediss://` for a TLS server.
    pub(crate) fn url(&self) -> String {
        let scheme = if self.tls_ca.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}/0", self.port)
    }

    /// The CA of a TLS server's certificate.
    pub(crate) fn tls_ca(&self) -> PathBuf {
        self.tls_ca.as_ref().unwrap().file()
    }

    /// Kills the server at once (no shutdown handshake), as a crash would.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server without closing its connections (`SIGSTOP`): a Redis that hangs.
    pub(crate) fn pause(&self) {
        self.signal("STOP");
    }

    /// Lets a paused server go on (`SIGCONT`).
    pub(crate) fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        let child = self.child.as_ref().expect("the server runs");
        let status = Command::new("kill")
            .args([format!("-{name}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// Starts the server (again) on the same port, with no data: a restarted Redis has lost
    /// everything.
    pub(crate) fn restart(&mut self) {
        self.kill();
        let binary = binary();
        let mut command = Command::new(&binary);
        if self.tls_ca.is_some() {
            let file = |name: &str| self.dir.path().join(name).display().to_string();
            command
                .args(["--port", "0", "--tls-port", &self.port.to_string()])
                .args(["--tls-cert-file", &file("server.pem")])
                .args(["--tls-key-file", &file("server.key")])
                .args(["--tls-ca-cert-file", &file("ca.pem")])
                .args(["--tls-auth-clients", "no"]);
        } else {
            command.args(["--port", &self.port.to_string()]);
        }
        let child = command
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--protected-mode", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL}", binary.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let ready = if self.tls_ca.is_some() {
                TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            } else {
                self.ping()
            };
            if ready {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} never answered PING", self.port);
    }

    /// Whether the server answers `PING` now.
    pub(crate) fn ping(&self) -> bool {
        self.command(&["PING"])
            .is_some_and(|a| a.starts_with("+PONG"))
    }

    /// Sends one command and returns the raw reply, or `None` when the server does not answer.
    pub(crate) fn command(&self, args: &[&str]) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            let _ = write!(request, "${}\r\n{arg}\r\n", arg.len());
        }
        stream.write_all(request.as_bytes()).ok()?;
        let mut reply = vec![0u8; 4096];
        let n = stream.read(&mut reply).ok()?;
        Some(String::from_utf8_lossy(&reply[..n]).into_owned())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if self.child.is_some() {
            // A paused server ignores SIGKILL until it runs again on some systems: wake it.
            self.signal("CONT");
        }
        self.kill();
    }
}

/// `redis-server` on PATH or where Debian puts it.
fn binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("redis-server"))
            .collect::<Vec<_>>()
    });
    on_path
        .chain([
            PathBuf::from("/usr/bin/redis-server"),
            PathBuf::from("/usr/sbin/redis-server"),
        ])
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no redis-server found; {INSTALL}"))
}
