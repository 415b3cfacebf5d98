//! `claude-lb code`, `env` and `health` with the real binary: a fake `claude` on `PATH` that
//! prints what it was given and exits with a chosen code.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tokio::time::Instant;

use crate::support::cli::{ClaudeLb, Run};

const BIN: &str = env!("CARGO_BIN_EXE_claude-lb");

/// A port nothing listens on (bound, read and released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A valid config whose one provider is never called, listening on `port`.
fn config(port: u16) -> String {
    format!(
        "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: http://127.0.0.1:9\nsettings:\n  listen: 127.0.0.1:{port}\n"
    )
}

/// A `claude-lb` whose `PATH` starts with a fake `claude`: it prints its environment and
/// arguments, asks `claude-lb health` about the address it was pointed at, and exits with
/// `$FAKE_EXIT`.
fn with_fake_claude() -> ClaudeLb {
    let mut cli = ClaudeLb::new();
    let script = "#!/bin/sh\n\
        echo \"BASE_URL=$ANTHROPIC_BASE_URL\"\n\
        echo \"API_KEY=$ANTHROPIC_API_KEY\"\n\
        echo \"ARGS=$*\"\n\
        \"$CLB\" health --listen \"${ANTHROPIC_BASE_URL#http://}\" && echo HEALTH=ok\n\
        exit \"${FAKE_EXIT:-0}\"\n";
    let claude = cli.write("bin/claude", script);
    make_executable(&claude);
    let path = format!("{}:/usr/bin:/bin", cli.home().join("bin").display());
    cli.env("PATH", path).env("CLB", BIN);
    cli
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn is_listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// The log file `code` named in its notice.
fn log_path(run: &Run) -> Option<String> {
    let start = run.stderr.find("(log: ")? + "(log: ".len();
    let end = run.stderr[start..].find(')')? + start;
    Some(run.stderr[start..end].to_owned())
}

#[test]
fn code_starts_serve_for_claude_and_stops_it_when_claude_exits() {
    let port = free_port();
    let mut cli = with_fake_claude();
    cli.write("providers.yaml", &config(port));
    let run = cli
        .env("FAKE_EXIT", "7")
        .args(["code", "--", "-p", "say hi", "--output-format", "json"])
        .run();
    assert_eq!(run.code, 7, "{run:?}");
    let url = format!("http://127.0.0.1:{port}");
    assert!(run.stdout.contains(&format!("BASE_URL={url}\n")), "{run:?}");
    assert!(
        run.stdout.contains("ARGS=-p say hi --output-format json\n"),
        "{run:?}"
    );
    // Without a key in the environment, Claude Code gets a placeholder rather than refusing
    // to start.
    assert!(
        run.stdout.contains("API_KEY=claude-lb-placeholder\n"),
        "{run:?}"
    );
    // claude-lb was answering while Claude Code ran...
    assert!(run.stdout.contains("HEALTH=ok"), "{run:?}");
    assert!(
        run.stdout.contains(&format!("{url}: claude-lb ")),
        "{run:?}"
    );
    assert!(run.stderr.contains("started claude-lb serve"), "{run:?}");
    // ... and is gone, its log with it, once Claude Code has exited.
    assert!(!is_listening(port), "serve still listening on {port}");
    let log = log_path(&run).expect("the notice names the log file");
    assert!(!Path::new(&log).exists(), "{log} left behind");
}

#[test]
fn code_passes_a_zero_exit_and_the_client_key_through() {
    let port = free_port();
    let mut cli = with_fake_claude();
    cli.write("providers.yaml", &config(port));
    let run = cli
        .env("CLAUDE_LB_CLIENT_KEY", "clb-from-env")
        .args(["code"])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("API_KEY=clb-from-env\n"), "{run:?}");
    assert!(run.stdout.contains("ARGS=\n"), "{run:?}");
    assert!(!is_listening(port));
}

#[test]
fn code_with_clients_needs_a_client_key_and_passes_it_to_claude() {
    let port = free_port();
    let key = "clb-code-0123456789abcdefghijklmnop";
    let yaml = format!(
        "{}clients:\n  - name: me\n    key: \"{key}\"\n",
        config(port)
    );
    // Without a key: refused, with the address from the config or from --listen alike.
    let elsewhere = format!("127.0.0.1:{}", free_port());
    for listen in [&[][..], &["--listen", elsewhere.as_str()][..]] {
        let mut cli = with_fake_claude();
        cli.write("providers.yaml", &yaml);
        let run = cli.args(["code"]).args(listen.iter().copied()).run();
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("--client-key"), "{run:?}");
        assert!(
            !run.stdout.contains("BASE_URL="),
            "Claude Code was not started: {run:?}"
        );
    }
    let mut cli = with_fake_claude();
    cli.write("providers.yaml", &yaml);
    let run = cli.args(["code", "--client-key", key]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains(&format!("API_KEY={key}\n")), "{run:?}");
    assert!(run.stdout.contains("HEALTH=ok"), "{run:?}");
}

#[test]
fn code_uses_a_running_instance_and_leaves_it_running() {
    let port = free_port();
    let mut server = ClaudeLb::new();
    let config_path = server.write("providers.yaml", &config(port));
    let mut serve = server
        .args(["serve", "--config"])
        .arg_path(&config_path)
        .spawn();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !is_listening(port) {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    // This `code` has no config at all: had it tried to start a second `serve`, it would
    // have failed for want of one.
    let mut cli = with_fake_claude();
    let run = cli
        .args(["code", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--client-key", "clb-flag"])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("using claude-lb"), "{run:?}");
    assert!(!run.stderr.contains("started"), "{run:?}");
    assert!(run.stdout.contains("HEALTH=ok"), "{run:?}");
    assert!(run.stdout.contains("API_KEY=clb-flag\n"), "{run:?}");

    assert!(
        serve.try_wait().unwrap().is_none(),
        "the running serve was stopped"
    );
    assert!(is_listening(port));
    serve.kill().unwrap();
    serve.wait().unwrap();
}

#[test]
fn code_refuses_a_port_held_by_something_else() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Answers every connection with a plain web page; ends with the test process.
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
            );
        }
    });
    let mut cli = with_fake_claude();
    cli.write("providers.yaml", &config(addr.port()));
    let run = cli.args(["code"]).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "{addr} is taken by something that is not claude-lb"
        )),
        "{run:?}"
    );
    assert!(!run.stdout.contains("BASE_URL"), "claude ran: {run:?}");
}

#[test]
fn code_without_claude_says_how_to_install_it() {
    let mut cli = ClaudeLb::new();
    cli.write("providers.yaml", &config(free_port()));
    let empty = cli.home().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let run = cli.env("PATH", &empty).args(["code"]).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("npm install -g @anthropic-ai/claude-code"),
        "{run:?}"
    );
}

#[test]
fn code_with_an_invalid_config_reports_every_problem_and_runs_nothing() {
    let mut cli = with_fake_claude();
    cli.write(
        "providers.yaml",
        "providers:\n  - name: a\n    type: opneai\n    auth_value: k\nsettings:\n  listen: nowhere\n",
    );
    let run = cli.args(["code"]).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("providers[0].type"), "{run:?}");
    assert!(run.stderr.contains("settings.listen"), "{run:?}");
    assert!(run.stderr.contains("invalid config, 3 errors"), "{run:?}");
    assert!(!run.stdout.contains("BASE_URL"), "claude ran: {run:?}");
}

#[test]
fn env_prints_each_shells_lines() {
    let cases = [
        (
            "bash",
            "export ANTHROPIC_BASE_URL='http://127.0.0.1:9000'\nexport ANTHROPIC_API_KEY='clb-k'\n",
        ),
        (
            "zsh",
            "export ANTHROPIC_BASE_URL='http://127.0.0.1:9000'\nexport ANTHROPIC_API_KEY='clb-k'\n",
        ),
        (
            "fish",
            "set -gx ANTHROPIC_BASE_URL 'http://127.0.0.1:9000'\nset -gx ANTHROPIC_API_KEY 'clb-k'\n",
        ),
        (
            "powershell",
            "$env:ANTHROPIC_BASE_URL = 'http://127.0.0.1:9000'\n$env:ANTHROPIC_API_KEY = 'clb-k'\n",
        ),
    ];
    for (shell, expected) in cases {
        let run = ClaudeLb::new()
            .args(["env", "--shell", shell, "--listen", "127.0.0.1:9000"])
            .args(["--client-key", "clb-k"])
            .run();
        assert_eq!(run.code, 0, "{shell}: {run:?}");
        assert_eq!(run.stdout, expected, "{shell}");
    }
}

#[test]
fn env_reads_an_address_as_every_command_does() {
    for listen in ["9000", ":9000", "localhost:9000"] {
        let run = ClaudeLb::new()
            .args(["env", "--shell", "bash", "--listen", listen])
            .run();
        assert_eq!(run.code, 0, "{listen}: {run:?}");
        assert_eq!(
            run.stdout, "export ANTHROPIC_BASE_URL='http://127.0.0.1:9000'\n",
            "{listen}"
        );
    }
    let run = ClaudeLb::new()
        .args(["env", "--listen", "nine-thousand"])
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("expected an address and port"),
        "{run:?}"
    );
}

#[test]
fn env_follows_the_config_and_the_login_shell() {
    let mut cli = ClaudeLb::new();
    cli.write(
        "providers.yaml",
        &config(8123).replace(
            "127.0.0.1:8123",
            "0.0.0.0:8123\n  allow_unauthenticated_public: true",
        ),
    );
    let run = cli.env("SHELL", "/usr/bin/fish").args(["env"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    // Listening on every interface is reached through loopback; no key without one given.
    assert_eq!(
        run.stdout,
        "set -gx ANTHROPIC_BASE_URL 'http://127.0.0.1:8123'\n"
    );
}

#[test]
fn env_output_evaluates_in_bash() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .env_clear()
        .env("HOME", home.path())
        .env("CLB", BIN)
        .current_dir(home.path())
        .args([
            "-c",
            r#"eval "$("$CLB" env --shell bash --listen 127.0.0.1:9000 --client-key "it's \$x")" && printf '%s|%s' "$ANTHROPIC_BASE_URL" "$ANTHROPIC_API_KEY""#,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "http://127.0.0.1:9000|it's $x"
    );
}

#[test]
fn env_without_a_config_or_address_says_why() {
    let run = ClaudeLb::new().args(["env"]).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(run.stderr.contains("no config file found"), "{run:?}");
}

#[test]
fn health_fails_when_nothing_listens() {
    let port = free_port();
    let run = ClaudeLb::new()
        .args(["health", "--listen", &format!("127.0.0.1:{port}")])
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("nothing is listening"), "{run:?}");
}

/// Ctrl-C in the terminal reaches Claude Code (here it exits 42 on SIGINT), not claude-lb,
/// which outlives it, stops its `serve` and exits with Claude Code's code.
#[test]
fn ctrl_c_reaches_claude_and_claude_lb_cleans_up_after_it() {
    use rexpect::process::WaitStatus;
    use rexpect::reader::Options;
    use rexpect::session::spawn_with_options;

    let port = free_port();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("providers.yaml"), config(port)).unwrap();
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(
        bin.join("claude"),
        "#!/bin/sh\ntrap 'echo CLAUDE_GOT_INT; exit 42' INT\necho CLAUDE_READY\nwhile :; do sleep 0.1; done\n",
    )
    .unwrap();
    make_executable(&bin.join("claude"));
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("HOME", home.path())
        .env("TERM", "xterm")
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .current_dir(home.path())
        .arg("code");
    let options = Options::new()
        .timeout_ms(Some(30_000))
        .strip_ansi_escape_codes(true);
    let mut session = spawn_with_options(cmd, options).unwrap();
    session.exp_string("CLAUDE_READY").unwrap();
    assert!(is_listening(port), "serve is not running while claude runs");
    session.send_control('c').unwrap();
    session.exp_string("CLAUDE_GOT_INT").unwrap();
    let rest = session.exp_eof().unwrap();
    let status = session.process_mut().wait().unwrap();
    assert!(
        matches!(status, WaitStatus::Exited(_, 42)),
        "{status:?}: {rest}"
    );
    assert!(!is_listening(port), "serve still listening on {port}");
}
