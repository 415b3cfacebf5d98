//! The `providers add` wizard in a real pseudo-terminal: the binary is spawned on a pty, the
//! test answers its prompts as a person would (typing, arrow keys, Enter), then checks the file.
//!
//! Every expectation has a timeout and the child is killed when the session is dropped, so a
//! prompt that never comes fails the test instead of hanging CI.

#![cfg(unix)]

use std::path::Path;
use std::process::Command;

use claude_lb::config;
use claude_lb::mock::MockUpstream;
use rexpect::process::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::{PtySession, spawn_with_options};

use crate::support::{env_of, fixture};

/// How long one prompt may take to appear (generous: CI machines are slow and shared).
const STEP_MS: u64 = 30_000;
const DOWN: &str = "\x1b[B";
const ENTER: &str = "\r";

/// Spawns `claude-lb --config PATH providers add ARGS` on a pty, in an empty environment.
fn spawn(home: &Path, config: &Path, args: &[&str]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_claude-lb"));
    cmd.env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("TERM", "xterm")
        .current_dir(home)
        .arg("--config")
        .arg(config)
        .args(["providers", "add"])
        .args(args);
    let options = Options::new()
        .timeout_ms(Some(STEP_MS))
        .strip_ansi_escape_codes(true);
    spawn_with_options(cmd, options).unwrap()
}

/// Waits for `prompt`, then types `keys`.
fn answer(session: &mut PtySession, prompt: &str, keys: &str) {
    session
        .exp_string(prompt)
        .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
    session.send(keys).unwrap();
    session.flush().unwrap();
}

/// Waits for the end of the output and returns it, with the exit code.
fn finish(session: &mut PtySession) -> (String, i32) {
    let rest = session.exp_eof().unwrap();
    let status = session.process_mut().wait().unwrap();
    let code = match status {
        WaitStatus::Exited(_, code) => code,
        other => panic!("the wizard did not exit normally: {other:?}"),
    };
    (rest, code)
}

#[test]
fn wizard_adds_a_deepseek_provider_from_its_preset() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("providers.yaml");
    let seed = std::fs::read_to_string(fixture("seed-providers.yaml")).unwrap();
    std::fs::write(&path, &seed).unwrap();

    let mut s = spawn(home.path(), &path, &[]);
    // A taken name is refused on the spot, then a free one is accepted.
    answer(&mut s, "Name", &format!("openrouter{ENTER}"));
    answer(
        &mut s,
        "already exists",
        &format!("{}deepseek{ENTER}", "\x7f".repeat(10)),
    );
    // DeepSeek is the second service of the anthropic type, with its own URL and key variable.
    answer(&mut s, "Type", ENTER);
    answer(&mut s, "Which service?", &format!("{DOWN}{ENTER}"));
    answer(&mut s, "How is the credential sent?", ENTER);
    answer(&mut s, "Where is the key?", ENTER);
    answer(&mut s, "Environment variable", ENTER);
    // An anthropic-type URL ending in `/v1` is refused before anything is written.
    answer(
        &mut s,
        "Base URL",
        &format!("https://api.deepseek.com/v1{ENTER}"),
    );
    answer(
        &mut s,
        "enter https://api.deepseek.com",
        &format!("https://api.deepseek.com/anthropic{ENTER}"),
    );
    answer(&mut s, "Model map", ENTER);
    answer(&mut s, "Weight", &format!("2{ENTER}"));
    s.exp_string("This will be added to").unwrap();
    s.exp_string("  | ").unwrap();
    answer(&mut s, "Probe the provider now", "n");
    answer(&mut s, "Write it to", "y");
    let (rest, code) = finish(&mut s);
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains("added provider \"deepseek\""), "{rest}");

    let after = std::fs::read_to_string(&path).unwrap();
    let (head, tail) = seed.split_at(seed.find("\nsettings:").unwrap());
    assert_eq!(
        after,
        format!(
            "{head}\n  - name: deepseek\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${{DEEPSEEK_API_KEY}}\"\n    base_url: https://api.deepseek.com/anthropic\n    weight: 2\n{tail}"
        )
    );
    config::load(&path, &env_of(&[("DEEPSEEK_API_KEY", "k")])).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wizard_takes_a_hidden_key_and_probes_before_saving() {
    let mock = MockUpstream::anthropic().start().await;
    let base_url = mock.base_url();
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("new/providers.yaml");
    let home_path = home.path().to_path_buf();
    let config_path = path.clone();
    let (output, code) = tokio::task::spawn_blocking(move || {
        // The name comes as a flag; the wizard asks for the rest.
        let mut s = spawn(&home_path, &config_path, &["--name", "relay"]);
        answer(&mut s, "Type", ENTER);
        // The relay is the last anthropic-type service.
        answer(
            &mut s,
            "Which service?",
            &format!("{}{ENTER}", DOWN.repeat(5)),
        );
        // The relay preset makes auth_token the default.
        answer(&mut s, "How is the credential sent?", ENTER);
        answer(&mut s, "Where is the key?", &format!("{DOWN}{ENTER}"));
        answer(&mut s, "Key (hidden)", &format!("sk-secret-relay{ENTER}"));
        // The key is never echoed, not even as it is typed.
        let shown = s.exp_string("Base URL").unwrap();
        assert!(!shown.contains("sk-secret"), "{shown}");
        assert!(shown.contains("stored in plain text"), "{shown}");
        s.send(&format!("{base_url}{ENTER}")).unwrap();
        s.flush().unwrap();
        answer(&mut s, "Model map", ENTER);
        answer(&mut s, "Weight", ENTER);
        // The preview shows the key masked; the file still gets it.
        let preview = s.exp_string("Probe the provider now").unwrap();
        assert!(preview.contains("auth_value: \"*****\""), "{preview}");
        assert!(!preview.contains("sk-secret"), "{preview}");
        s.send("y").unwrap();
        s.flush().unwrap();
        s.exp_string("probe ok: HTTP 200").unwrap();
        answer(&mut s, "Write it to", "y");
        let (rest, code) = finish(&mut s);
        (rest, code)
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("(new file, readable by you only)"),
        "{output}"
    );
    let requests = mock.requests();
    assert_eq!(requests.len(), 1, "one probe");
    assert_eq!(requests[0].path(), "/v1/messages");
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer sk-secret-relay")
    );
    assert_eq!(requests[0].json.as_ref().unwrap()["max_tokens"], 1);
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        after,
        format!(
            "providers:\n  - name: relay\n    type: anthropic\n    auth_type: auth_token\n    auth_value: \"sk-secret-relay\"\n    base_url: {}\n",
            mock.base_url()
        )
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn declining_at_the_end_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("providers.yaml");
    let original = "# keep me\nsettings:\n  log_level: info\n";
    std::fs::write(&path, original).unwrap();
    let mut s = spawn(
        home.path(),
        &path,
        &[
            "--type",
            "anthropic",
            "--auth-env",
            "K",
            "--base-url",
            "https://api.anthropic.com",
        ],
    );
    answer(&mut s, "Name", &format!("main{ENTER}"));
    answer(&mut s, "Which service?", ENTER);
    answer(&mut s, "How is the credential sent?", ENTER);
    answer(&mut s, "Model map", ENTER);
    answer(&mut s, "Weight", ENTER);
    answer(&mut s, "Probe the provider now", "n");
    answer(&mut s, "Write it to", "n");
    let (rest, code) = finish(&mut s);
    assert_eq!(code, 1, "{rest}");
    assert!(rest.contains("nothing written"), "{rest}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
}

#[test]
fn ctrl_c_cancels_and_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("providers.yaml");
    let seed = std::fs::read_to_string(fixture("seed-providers.yaml")).unwrap();
    std::fs::write(&path, &seed).unwrap();
    for keys_before_ctrl_c in [&[][..], &["x\r"][..]] {
        let mut s = spawn(home.path(), &path, &[]);
        answer(&mut s, "Name", keys_before_ctrl_c.concat().as_str());
        if !keys_before_ctrl_c.is_empty() {
            s.exp_string("Type").unwrap();
        }
        s.send_control('c').unwrap();
        // The cursor a menu hides is shown again (`ESC [ ? 25 h`), the exit is a normal 1.
        let (rest, code) = finish(&mut s);
        assert_eq!(code, 1, "{rest}");
        assert!(rest.contains("cancelled; nothing written"), "{rest}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), seed);
    }
}

/// A table on a terminal fits 80 columns, even on a pty that reports 0 columns.
#[test]
fn tables_fit_a_terminal_of_unknown_width() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("providers.yaml");
    std::fs::write(
        &path,
        "providers:\n  - name: a-provider-with-a-rather-long-name\n    type: openai\n    auth_type: api_key\n    auth_value: \"${A_VERY_LONG_ENVIRONMENT_VARIABLE_NAME_FOR_THE_KEY}\"\n    base_url: https://very-long-host-name.example.com/some/long/path/v1\n    models:\n      \"claude-*haiku*\": some-provider/a-small-model-name\n      \"*\": some-provider/a-large-model-name\n",
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_claude-lb"));
    cmd.env_clear()
        .env("HOME", home.path())
        .env("TERM", "xterm")
        .env("A_VERY_LONG_ENVIRONMENT_VARIABLE_NAME_FOR_THE_KEY", "k")
        .arg("--config")
        .arg(&path)
        .args(["providers", "list"]);
    let options = Options::new()
        .timeout_ms(Some(STEP_MS))
        .strip_ansi_escape_codes(true);
    let mut s = spawn_with_options(cmd, options).unwrap();
    let (out, code) = finish(&mut s);
    assert_eq!(code, 0, "{out}");
    // The pty reader hands over bytes as characters; the table is UTF-8.
    let out = String::from_utf8(out.chars().map(|c| c as u8).collect()).unwrap();
    assert!(out.contains("a-provi"), "{out}");
    for line in out.lines().filter(|l| l.contains('│')) {
        assert!(line.trim_end().chars().count() <= 80, "{line:?} in\n{out}");
    }
    assert!(out.contains('…'), "{out}");
    // Fixed columns stay on one line: no row of the table is only a continuation.
    let body: Vec<&str> = out.lines().filter(|l| l.contains('│')).collect();
    assert!(body.iter().any(|l| l.contains("openai")), "{out}");
    assert!(
        out.contains("some-provider/a-small-model-name") || out.contains("claude-*haiku*"),
        "the model map wraps at spaces, keeping words whole: {out}"
    );
}
