//! `claude-lb top` against a real `serve` on `127.0.0.1:0`: the admin route it reads its ticker
//! from (`GET /events`), its errors without a terminal, and the real binary in a real
//! pseudo-terminal (drawn, reloaded, disconnected and back, quit with the terminal restored).

use claude_lb::mock::{MockUpstream, Reply};

use crate::check::{run_bin, unreachable};
use crate::support::cli::ClaudeLb;
use crate::support::proxy::{Proxy, body};

fn pool(first: &str, second: &str) -> String {
    format!(
        "providers:\n  - name: first\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {first}\n  - name: second\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{TEST_SECRET}}\"\n    base_url: {second}\nsettings:\n  failure_cooldown: 60\n"
    )
}

#[tokio::test]
async fn events_lists_the_latest_failovers_newest_first() {
    let first = MockUpstream::anthropic()
        .reply(Reply::status(529))
        .reply(Reply::status(500))
        .start()
        .await;
    let second = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&pool(&first.base_url(), &second.base_url())).await;

    let (status, events) = proxy.get_json("/events").await;
    assert_eq!(status, 200);
    assert_eq!(events, serde_json::json!([]));

    let response = proxy.messages(body("claude-opus-5-5", false)).await;
    assert_eq!(response.status(), 200);
    let (status, events) = proxy.get_json("/events").await;
    assert_eq!(status, 200);
    let list = events.as_array().unwrap();
    assert_eq!(list.len(), 1, "{events}");
    assert_eq!(list[0]["provider"], "first");
    assert_eq!(list[0]["kind"], "cooldown");
    assert_eq!(list[0]["reason"], "status_529");
    assert!(list[0]["at_unix_ms"].as_u64().unwrap() > 1_600_000_000_000);

    let refused = proxy
        .client
        .post(format!("{}/events", proxy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 405);
}

#[tokio::test]
async fn top_exits_1_with_the_reason_when_no_instance_answers() {
    let gone = unreachable();
    let url = gone.url.clone();
    let mut lb = ClaudeLb::new();
    lb.args(["top", "--remote", &url]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    let expect = format!("error: cannot reach claude-lb at {url}/providers: connection refused");
    assert!(run.stderr.starts_with(&expect), "{run:?}");
}

#[tokio::test]
async fn top_says_when_the_admin_api_is_refused() {
    // Every route of the first poll (they are read at once) is refused.
    let mut guarded = MockUpstream::anthropic();
    for _ in 0..5 {
        guarded = guarded.reply(Reply::status(401));
    }
    let guarded = guarded.start().await;
    let mut lb = ClaudeLb::new();
    lb.args(["top", "--remote", &guarded.url(), "--admin-token", "tok-1"]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("answered HTTP 401"), "{run:?}");
    assert!(run.stderr.contains("--admin-token"), "{run:?}");
    // The token went out as a bearer, on every route.
    let seen = guarded.requests();
    assert!(!seen.is_empty());
    for request in &seen {
        assert_eq!(request.headers["authorization"], "Bearer tok-1");
    }
}

#[tokio::test]
async fn top_needs_a_terminal() {
    let first = MockUpstream::anthropic().start().await;
    let second = MockUpstream::anthropic().start().await;
    let proxy = Proxy::start(&pool(&first.base_url(), &second.base_url())).await;
    let mut lb = ClaudeLb::new();
    lb.args(["top", "--remote", &proxy.url]);
    let run = run_bin(lb).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("stdout is not one"), "{run:?}");
    assert!(run.stderr.contains("providers list --remote"), "{run:?}");
}

#[cfg(unix)]
mod pty {
    use std::path::Path;
    use std::process::Command;

    use claude_lb::mock::MockUpstream;
    use claude_lb::proxy;
    use rexpect::process::{Signal, WaitStatus};
    use rexpect::reader::Options;
    use rexpect::session::{PtySession, spawn_with_options};
    use tokio::net::TcpListener;

    use super::pool;
    use crate::check::unreachable;
    use crate::support::proxy::Proxy;

    /// How long one screen may take to appear (generous: CI machines are slow and shared).
    const STEP_MS: u64 = 30_000;

    /// `top --remote URL` on an 80×24 pty (set with `stty`, as a terminal emulator would), in
    /// an empty environment; the escape sequences are kept, to see the terminal restored.
    /// `home` must outlive the session: it is the child's working directory.
    fn spawn(home: &Path, url: &str) -> PtySession {
        spawn_with(home, url, &[])
    }

    fn spawn_with(home: &Path, url: &str, env: &[(&str, &str)]) -> PtySession {
        let mut cmd = Command::new("/bin/sh");
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", home)
            .env("TERM", "xterm")
            .envs(env.iter().copied())
            .current_dir(home)
            .arg("-c")
            .arg("stty rows 24 cols 80 && exec \"$0\" top --remote \"$1\" --interval 200ms")
            .arg(env!("CARGO_BIN_EXE_claude-lb"))
            .arg(url);
        let options = Options::new().timeout_ms(Some(STEP_MS));
        spawn_with_options(cmd, options).unwrap()
    }

    fn expect(session: &mut PtySession, text: &str) -> String {
        session
            .exp_string(text)
            .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn top_draws_the_pool_reloads_survives_a_restart_and_quits_cleanly() {
        let first = MockUpstream::anthropic().start().await;
        let second = MockUpstream::anthropic().start().await;
        let mut proxy = Proxy::start(&pool(&first.base_url(), &second.base_url())).await;
        let url = proxy.url.clone();
        let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
        let state = proxy.state.clone();
        let home = tempfile::tempdir().unwrap();
        let home_path = home.path().to_path_buf();

        let mut session = tokio::task::spawn_blocking(move || {
            let mut s = spawn(&home_path, &url);
            // The alternate screen, then the panel with both providers.
            expect(&mut s, "\x1b[?1049h");
            expect(&mut s, "providers");
            expect(&mut s, "first");
            expect(&mut s, "second");
            expect(&mut s, "available");
            s.send("r").unwrap();
            s.flush().unwrap();
            // Only changed cells are drawn ("reloading…" becomes "reloaded: 2 providers" by
            // its last letters), so the test waits for the part that is new.
            expect(&mut s, "2 providers");
            s
        })
        .await
        .unwrap();

        // The instance goes away: `top` says so and keeps going.
        proxy.begin_shutdown().await.unwrap().unwrap();
        session = tokio::task::spawn_blocking(move || {
            expect(&mut session, "disconnected,");
            expect(&mut session, "retrying:");
            session
        })
        .await
        .unwrap();

        // It comes back on the same address: `top` reconnects.
        let listener = TcpListener::bind(addr).await.unwrap();
        let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(proxy::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        let (rest, status) = tokio::task::spawn_blocking(move || {
            expect(&mut session, "connected");
            session.send("q").unwrap();
            session.flush().unwrap();
            let rest = session.exp_eof().unwrap();
            let status = session.process_mut().wait().unwrap();
            (rest, status)
        })
        .await
        .unwrap();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {rest:?}"
        );
        // The alternate screen is left and the cursor shown again.
        assert!(rest.contains("\x1b[?1049l"), "{rest:?}");
        assert!(rest.contains("\x1b[?25h"), "{rest:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_color_draws_without_colour_and_ctrl_c_quits() {
        let first = MockUpstream::anthropic().start().await;
        let second = MockUpstream::anthropic().start().await;
        let proxy = Proxy::start(&pool(&first.base_url(), &second.base_url())).await;
        let url = proxy.url.clone();
        let home = tempfile::tempdir().unwrap();
        let home_path = home.path().to_path_buf();
        let (seen, rest, status) = tokio::task::spawn_blocking(move || {
            let mut s = spawn_with(&home_path, &url, &[("NO_COLOR", "1")]);
            let seen = expect(&mut s, "available");
            s.send("\x03").unwrap();
            s.flush().unwrap();
            let rest = s.exp_eof().unwrap();
            let status = s.process_mut().wait().unwrap();
            (seen, rest, status)
        })
        .await
        .unwrap();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        // Bold and reverse remain; no foreground or background colour is ever set.
        for text in [&seen, &rest] {
            assert!(!text.contains("\x1b[38;"), "{text:?}");
            assert!(!text.contains("\x1b[48;"), "{text:?}");
        }
        assert!(rest.contains("\x1b[?1049l"), "{rest:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigterm_restores_the_terminal_too() {
        let first = MockUpstream::anthropic().start().await;
        let second = MockUpstream::anthropic().start().await;
        let proxy = Proxy::start(&pool(&first.base_url(), &second.base_url())).await;
        let url = proxy.url.clone();
        let home = tempfile::tempdir().unwrap();
        let home_path = home.path().to_path_buf();
        let (rest, status) = tokio::task::spawn_blocking(move || {
            let mut s = spawn(&home_path, &url);
            expect(&mut s, "available");
            s.process_mut().signal(Signal::SIGTERM).unwrap();
            let rest = s.exp_eof().unwrap();
            let status = s.process_mut().wait().unwrap();
            (rest, status)
        })
        .await
        .unwrap();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        assert!(rest.contains("\x1b[?1049l"), "{rest:?}");
        assert!(rest.contains("\x1b[?25h"), "{rest:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dead_url_exits_1_without_taking_the_screen() {
        let gone = unreachable();
        let url = gone.url.clone();
        let home = tempfile::tempdir().unwrap();
        let home_path = home.path().to_path_buf();
        let (rest, status) = tokio::task::spawn_blocking(move || {
            let mut s = spawn_with(&home_path, &url, &[]);
            let rest = s.exp_eof().unwrap();
            let status = s.process_mut().wait().unwrap();
            (rest, status)
        })
        .await
        .unwrap();
        assert!(
            matches!(status, WaitStatus::Exited(_, 1)),
            "{status:?}: {rest:?}"
        );
        assert!(rest.contains("connection refused"), "{rest:?}");
        assert!(!rest.contains("\x1b[?1049h"), "{rest:?}");
    }

    /// The terminal goes away under `top` without a signal reaching it (its window closed while
    /// it ran in another session): it must end, not spin reading nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_terminal_that_hangs_up_ends_top() {
        let first = MockUpstream::anthropic().start().await;
        let second = MockUpstream::anthropic().start().await;
        let proxy = Proxy::start(&pool(&first.base_url(), &second.base_url())).await;
        let url = proxy.url.clone();
        let home = tempfile::tempdir().unwrap();
        let home_path = home.path().to_path_buf();
        let pid = tokio::task::spawn_blocking(move || {
            let mut cmd = Command::new("/bin/sh");
            cmd.env_clear()
                .env("PATH", "/usr/bin:/bin")
                .env("HOME", &home_path)
                .env("TERM", "xterm")
                .current_dir(&home_path)
                .arg("-c")
                // `top` in a session of its own, reading the pty as its stdin: closing the pty
                // hangs its terminal up, and no SIGHUP reaches it.
                .arg(
                    "stty rows 24 cols 80; exec 3<&0; \
                     setsid \"$0\" top --remote \"$1\" --interval 200ms 0<&3 & \
                     echo \"top-pid:$!:\"; wait",
                )
                .arg(env!("CARGO_BIN_EXE_claude-lb"))
                .arg(&url);
            let mut s = spawn_with_options(cmd, Options::new().timeout_ms(Some(STEP_MS))).unwrap();
            let (_, found) = s.exp_regex("top-pid:[0-9]+:").unwrap();
            let pid: u32 = found
                .trim_start_matches("top-pid:")
                .trim_end_matches(':')
                .parse()
                .unwrap();
            expect(&mut s, "available");
            // Dropping the session ends the shell and closes the pty.
            drop(s);
            pid
        })
        .await
        .unwrap();
        let ended = |pid: u32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map_or(true, |stat| stat.split(' ').nth(2) == Some("Z"))
        };
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
        while !ended(pid) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let gone = ended(pid);
        if !gone {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        assert!(
            gone,
            "top (pid {pid}) still runs after its terminal hung up"
        );
    }
}
