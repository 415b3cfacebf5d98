//! The processes under load: `claude-lb serve`, `claude-lb mock` and the floor proxy, killed
//! when dropped, and what `/proc` says about them.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::BIN;

/// A child process that is killed when dropped.
pub(crate) struct Process {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

impl Process {
    /// Starts `claude-lb` with `args` and waits until it listens on `addr`.
    pub(crate) fn spawn(args: &[&str], addr: SocketAddr) -> anyhow::Result<Self> {
        Self::spawn_program(Path::new(BIN), args, addr)
    }

    /// Starts `program` with `args` and waits until it listens on `addr`.
    pub(crate) fn spawn_program(
        program: &Path,
        args: &[&str],
        addr: SocketAddr,
    ) -> anyhow::Result<Self> {
        let name = program.file_name().map_or_else(
            || program.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let child = Command::new(program)
            .args(args)
            .env_remove("CLAUDE_LB_CONFIG")
            .env_remove("CLAUDE_LB_LOG")
            .env_remove("CLAUDE_LB_LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        let mut process = Self { child, addr };
        let deadline = std::time::Duration::from_secs(15);
        let mut waited = Duration::ZERO;
        while TcpStream::connect(addr).is_err() {
            if let Some(status) = process.child.try_wait()? {
                bail!("`{name} {}` exited at start: {status}", args.join(" "));
            }
            if waited > deadline {
                bail!("`{name} {}` did not listen on {addr}", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(20));
            waited += Duration::from_millis(20);
        }
        Ok(process)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmRSS` and `VmHWM`, in KiB.
    pub(crate) fn memory(&self) -> anyhow::Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .with_context(|| format!("no {name} in /proc/PID/status"))
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// User plus system CPU time so far, in clock ticks.
    pub(crate) fn cpu_ticks(&self) -> anyhow::Result<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        // The command name may hold spaces; the fields after its closing parenthesis do not.
        let rest = &stat[stat.rfind(')').context("malformed /proc/PID/stat")? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after `) `.
        let utime: u64 = fields[11].parse()?;
        let stime: u64 = fields[12].parse()?;
        Ok(utime + stime)
    }

    /// CPU time so far, in nanoseconds, summed over the process's threads (from
    /// `/proc/PID/task/*/schedstat`, far finer than clock ticks).
    pub(crate) fn cpu_ns(&self) -> anyhow::Result<u64> {
        let mut total = 0;
        for task in std::fs::read_dir(format!("/proc/{}/task", self.pid()))? {
            let schedstat = std::fs::read_to_string(task?.path().join("schedstat"))?;
            let on_cpu: u64 = schedstat
                .split_whitespace()
                .next()
                .context("empty schedstat")?
                .parse()?;
            total += on_cpu;
        }
        Ok(total)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

pub(crate) fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

pub(crate) fn mock(kind: &str, extra: &[&str]) -> anyhow::Result<Process> {
    let addr = free_addr()?;
    let listen = addr.to_string();
    let mut args = vec!["mock", "--type", kind, "--listen", &listen];
    args.extend_from_slice(extra);
    Process::spawn(&args, addr)
}

/// The floor proxy (this bench binary in its `--floor` mode) in front of `upstream`.
pub(crate) fn floor(upstream: SocketAddr) -> anyhow::Result<Process> {
    let addr = free_addr()?;
    let exe = std::env::current_exe().context("cannot find the bench binary")?;
    Process::spawn_program(
        &exe,
        &["--floor", &addr.to_string(), &upstream.to_string()],
        addr,
    )
}
