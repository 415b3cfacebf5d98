//! `clients add`, `list` and `remove` through the real binary: the printed key authenticates
//! against a real `serve`, only its digest reaches the file, the file keeps its comments, and a
//! refusal writes nothing.

use std::path::Path;

use claude_lb::config::KeyDigest;
use claude_lb::mock::MockUpstream;

use crate::support::cli::{ClaudeLb, Run};
use crate::support::proxy::{Proxy, body};

/// A commented config with one provider at `base_url`.
fn config_at(base_url: &str) -> String {
    format!(
        "# The team's claude-lb.\nproviders:\n  # the mock\n  - name: main\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"sk-upstream\"\n    base_url: {base_url}\n\n  - name: spare\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"sk-spare\"\n    base_url: {base_url}\n    enabled: false\n\nsettings:\n  failure_cooldown: 5   # seconds\n"
    )
}

fn run_in(config: &Path, args: &[&str]) -> Run {
    ClaudeLb::new()
        .args(["--config"])
        .arg_path(config)
        .args(args)
        .run()
}

/// The key in `clients add`'s output: the value of its `export ANTHROPIC_API_KEY=` line.
fn printed_key(run: &Run) -> String {
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("export ANTHROPIC_API_KEY="))
        .unwrap_or_else(|| panic!("no export line in {run:?}"));
    line.to_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn send(proxy: &Proxy, auth: Option<(&str, String)>) -> u16 {
    let mut request = proxy
        .client
        .post(format!("{}/v1/messages", proxy.url))
        .header("content-type", "application/json")
        .header("anthropic-version", "2023-06-01")
        .body(body("claude-sonnet-4-5", false));
    if let Some((name, value)) = auth {
        request = request.header(name, value);
    }
    request.send().await.unwrap().status().as_u16()
}

#[test]
fn edits_made_at_once_are_each_written_or_refused_never_lost() {
    // Eight `clients add` at once, all reading the same file: each either writes its client
    // or says the file changed under it and writes nothing. None reports a client the file
    // does not hold.
    let lb = ClaudeLb::new();
    let path = lb.write("providers.yaml", &config_at("http://127.0.0.1:9"));
    let children: Vec<_> = (0..8)
        .map(|n| {
            let name = format!("c{n}");
            let child = ClaudeLb::new()
                .args(["--config"])
                .arg_path(&path)
                .args(["clients", "add", &name, "--yes"])
                .spawn();
            (name, child)
        })
        .collect();
    let mut written = Vec::new();
    for (name, child) in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => written.push(name),
            Some(1) => assert!(
                stderr.contains("changed after this command read it"),
                "{name}: {stderr}"
            ),
            other => panic!("{name}: exit {other:?}: {stderr}"),
        }
    }
    assert!(!written.is_empty());
    let list = run_in(&path, &["clients", "list", "--json"]);
    assert_eq!(list.code, 0, "{list:?}");
    let listed: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let mut names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    written.sort();
    assert_eq!(names, written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_prints_a_key_that_authenticates_and_writes_only_its_digest() {
    let mock = MockUpstream::anthropic().start().await;
    let lb = ClaudeLb::new();
    let before = config_at(&mock.base_url());
    let path = lb.write("providers.yaml", &before);
    let run = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || run_in(&path, &["clients", "add", "alice"]))
            .await
            .unwrap()
    };
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with("added client \"alice\" to `"),
        "{run:?}"
    );
    assert!(run.stdout.contains("shown this once only"), "{run:?}");
    let key = printed_key(&run);
    assert!(key.starts_with("clb-") && key.len() == 47, "{key}");
    assert_eq!(run.stdout.matches(&key).count(), 1, "{run:?}");
    // The first client turns authentication on, and the output says so.
    assert!(
        run.stderr
            .contains("every request to `claude-lb serve` must carry a client key"),
        "{run:?}"
    );
    assert!(run.stderr.contains("--client-key"), "{run:?}");
    assert!(!run.stderr.contains(&key), "{run:?}");

    let after = std::fs::read_to_string(&path).unwrap();
    let digest = KeyDigest::of(key.as_bytes()).to_hex();
    assert_eq!(
        after,
        format!("{before}\nclients:\n  - name: alice\n    key_sha256: \"{digest}\"\n"),
    );
    assert!(!after.contains(&key));
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);

    let proxy = Proxy::start_at(path.clone(), None).await;
    assert_eq!(send(&proxy, Some(("x-api-key", key.clone()))).await, 200);
    assert_eq!(
        send(&proxy, Some(("authorization", format!("Bearer {key}")))).await,
        200
    );
    let mut wrong = key.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(send(&proxy, Some(("x-api-key", wrong))).await, 401);
    assert_eq!(send(&proxy, None).await, 401);
    assert_eq!(
        mock.request_count(),
        2,
        "only the two good keys reach the provider"
    );
}

#[test]
fn limits_are_written_and_listed_and_no_key_or_digest_is_ever_shown() {
    let lb = ClaudeLb::new();
    let path = lb.write(
        "providers.yaml",
        &format!(
            "{}clients:\n  - name: ci\n    key: \"${{CI_KEY}}\"\n  - name: bot\n    key: \"${{BOT_KEY}}\"\n  - name: literal\n    key: \"a-literal-key-written-in-the-file\"\n",
            config_at("http://127.0.0.1:9")
        ),
    );
    // Two clients keyed by variables this shell does not export do not look like one key.
    let run = run_in(
        &path,
        &[
            "clients",
            "add",
            "alice",
            "--providers",
            "main,spare",
            "--models",
            "claude-*haiku*,claude-sonnet*",
            "--rpm",
            "60",
            "--max-concurrent",
            "3",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("authentication is now on"), "{run:?}");
    let key = printed_key(&run);
    let digest = KeyDigest::of(key.as_bytes()).to_hex();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.ends_with(&format!(
            "    key: \"a-literal-key-written-in-the-file\"\n  - name: alice\n    key_sha256: \"{digest}\"\n    providers: [main, spare]\n    models: [\"claude-*haiku*\", \"claude-sonnet*\"]\n    max_concurrent: 3\n    requests_per_minute: 60\n"
        )),
        "{text}"
    );

    let json = run_in(&path, &["clients", "list", "--json"]);
    assert_eq!(json.code, 0, "{json:?}");
    for secret in [
        key.as_str(),
        digest.as_str(),
        "a-literal-key-written-in-the-file",
    ] {
        assert!(!json.stdout.contains(secret), "{json:?}");
        assert!(!json.stderr.contains(secret), "{json:?}");
    }
    let list: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        list,
        serde_json::json!([
            {"name": "ci", "key": "${CI_KEY}", "providers": null, "models": null,
             "max_concurrent": null, "requests_per_minute": null, "budget": null},
            {"name": "bot", "key": "${BOT_KEY}", "providers": null, "models": null,
             "max_concurrent": null, "requests_per_minute": null, "budget": null},
            {"name": "literal", "key": "key", "providers": null, "models": null,
             "max_concurrent": null, "requests_per_minute": null, "budget": null},
            {"name": "alice", "key": "sha256", "providers": ["main", "spare"],
             "models": ["claude-*haiku*", "claude-sonnet*"],
             "max_concurrent": 3, "requests_per_minute": 60, "budget": null},
        ])
    );

    let table = run_in(&path, &["clients", "list"]);
    assert_eq!(table.code, 0, "{table:?}");
    for word in [
        "ci",
        "${CI_KEY}",
        "literal",
        "sha256",
        "main, spare",
        "60",
        "all",
        "any",
    ] {
        assert!(table.stdout.contains(word), "{word} in {table:?}");
    }
    assert!(!table.stdout.contains(&digest), "{table:?}");
    assert!(!table.stdout.contains("a-literal-key"), "{table:?}");
}

#[test]
fn a_clients_budget_is_listed() {
    let lb = ClaudeLb::new();
    let path = lb.write(
        "providers.yaml",
        &format!(
            "{}clients:\n  - name: team\n    key: \"clb-team-0123456789abcdefghij\"\n    budget: {{ usd_per_month: 200, tokens_per_day: 20000000 }}\n",
            config_at("http://127.0.0.1:9")
        ),
    );
    let json = run_in(&path, &["clients", "list", "--json"]);
    assert_eq!(json.code, 0, "{json:?}");
    let list: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        list[0]["budget"],
        serde_json::json!({"usd_per_month": 200.0, "tokens_per_day": 20_000_000})
    );
    let table = run_in(&path, &["clients", "list"]);
    assert!(
        table.stdout.contains("$200/month, 20000000 tokens/day"),
        "{table:?}"
    );
}

#[test]
fn a_config_without_clients_lists_none() {
    let lb = ClaudeLb::new();
    let path = lb.write("providers.yaml", &config_at("http://127.0.0.1:9"));
    let run = run_in(&path, &["clients", "list"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with("no clients: every request is served without a key")
    );
    let json = run_in(&path, &["clients", "list", "--json"]);
    assert_eq!(json.stdout.trim(), "[]");
}

#[test]
fn a_refused_add_writes_nothing_and_says_why() {
    let lb = ClaudeLb::new();
    let start = format!(
        "{}clients:\n  # the first\n  - name: alice\n    key_sha256: \"{}\"\n",
        config_at("http://127.0.0.1:9"),
        KeyDigest::of(b"clb-alice-key-for-the-test").to_hex()
    );
    let path = lb.write("providers.yaml", &start);
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["clients", "add", "alice"],
            1,
            "a client named \"alice\" already exists (line 21)",
        ),
        (
            &["clients", "add", "bob", "--providers", "main,mian2"],
            2,
            "no provider named \"mian2\"",
        ),
        (&["clients", "add", "bob", "--rpm", "0"], 2, "--rpm"),
        (
            &["clients", "add", "bob", "--max-concurrent", "lots"],
            2,
            "--max-concurrent",
        ),
        (
            &["clients", "add", "bob", "--models", "a,,b"],
            2,
            "--models has an empty item",
        ),
        (&["clients", "add", "a b"], 2, "invalid client name \"a b\""),
        // No name and no terminal to ask it on.
        (&["clients", "add", "--rpm", "5"], 2, "missing NAME"),
    ];
    for (args, code, message) in cases {
        let run = run_in(&path, args);
        assert_eq!(run.code, *code, "{args:?}: {run:?}");
        assert!(run.stderr.contains(message), "{args:?}: {run:?}");
        assert!(!run.stdout.contains("clb-"), "{args:?}: {run:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), start, "{args:?}");
    }
}

#[test]
fn remove_takes_a_client_out_and_refuses_the_last_one() {
    let lb = ClaudeLb::new();
    let head = config_at("http://127.0.0.1:9");
    let alice = KeyDigest::of(b"clb-alice-key-for-the-test").to_hex();
    let bob = KeyDigest::of(b"clb-bob-key-for-the-test").to_hex();
    let path = lb.write(
        "providers.yaml",
        &format!(
            "{head}clients:\n  # alice's laptop\n  - name: alice\n    key_sha256: \"{alice}\"\n  # the build box\n  - name: bob\n    key_sha256: \"{bob}\"\n    max_concurrent: 2\n"
        ),
    );

    let run = run_in(&path, &["clients", "remove", "alice"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with("removed client \"alice\" from `")
            && run.stdout.ends_with("providers.yaml`\n"),
        "{run:?}"
    );
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        after,
        format!(
            "{head}clients:\n  # the build box\n  - name: bob\n    key_sha256: \"{bob}\"\n    max_concurrent: 2\n"
        )
    );
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);

    let unknown = run_in(&path, &["clients", "remove", "alcie"]);
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(
        unknown.stderr.contains("no client named \"alcie\""),
        "{unknown:?}"
    );

    let last = run_in(&path, &["clients", "remove", "bob"]);
    assert_eq!(last.code, 1, "{last:?}");
    assert!(
        last.stderr.contains("client \"bob\" is the last one"),
        "{last:?}"
    );
    assert!(
        last.stderr
            .contains("delete the whole `clients:` list by hand"),
        "{last:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), after);
}

/// `clients add` without NAME on a real pseudo-terminal: the wizard asks for the name and the
/// limits, shows the block and asks before writing.
#[cfg(unix)]
mod wizard {
    use std::path::Path;
    use std::process::Command;

    use rexpect::process::WaitStatus;
    use rexpect::reader::Options;
    use rexpect::session::{PtySession, spawn_with_options};

    use super::{KeyDigest, config_at};

    const STEP_MS: u64 = 30_000;
    const ENTER: &str = "\r";

    fn spawn(home: &Path, config: &Path, args: &[&str]) -> PtySession {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_claude-lb"));
        cmd.env_clear()
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("TERM", "xterm")
            .current_dir(home)
            .arg("--config")
            .arg(config)
            .args(["clients", "add"])
            .args(args);
        let options = Options::new()
            .timeout_ms(Some(STEP_MS))
            .strip_ansi_escape_codes(true);
        spawn_with_options(cmd, options).unwrap()
    }

    fn answer(session: &mut PtySession, prompt: &str, keys: &str) {
        session
            .exp_string(prompt)
            .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
        session.send(keys).unwrap();
        session.flush().unwrap();
    }

    fn finish(session: &mut PtySession) -> (String, i32) {
        let rest = session.exp_eof().unwrap();
        match session.process_mut().wait().unwrap() {
            WaitStatus::Exited(_, code) => (rest, code),
            other => panic!("the wizard did not exit normally: {other:?}"),
        }
    }

    fn seeded(home: &Path) -> (std::path::PathBuf, String) {
        let path = home.join("providers.yaml");
        let text = format!(
            "{}clients:\n  - name: alice\n    key_sha256: \"{}\"\n",
            config_at("http://127.0.0.1:9"),
            KeyDigest::of(b"clb-alice-key-for-the-test").to_hex()
        );
        std::fs::write(&path, &text).unwrap();
        (path, text)
    }

    #[test]
    fn asks_for_the_name_and_limits_then_writes_after_confirmation() {
        let home = tempfile::tempdir().unwrap();
        let (path, before) = seeded(home.path());
        // --rpm is given, so it is not asked.
        let mut s = spawn(home.path(), &path, &["--rpm", "30"]);
        answer(&mut s, "Name", &format!("alice{ENTER}"));
        answer(
            &mut s,
            "already exists",
            &format!("{}bob{ENTER}", "\x7f".repeat(5)),
        );
        answer(&mut s, "Providers it may use", &format!("mian{ENTER}"));
        answer(
            &mut s,
            "no provider is named",
            &format!("{}main{ENTER}", "\x7f".repeat(4)),
        );
        answer(&mut s, "Model patterns", ENTER);
        answer(&mut s, "Requests in flight", &format!("0{ENTER}"));
        answer(&mut s, "at least 1", &format!("\x7f2{ENTER}"));
        s.exp_string("This will be added to").unwrap();
        s.exp_string("  | ").unwrap();
        answer(&mut s, "Write it to", "y");
        let (rest, code) = finish(&mut s);
        assert_eq!(code, 0, "{rest}");
        assert!(rest.contains("added client \"bob\""), "{rest}");
        assert!(!rest.contains("Requests per minute"), "{rest}");
        let key = rest
            .lines()
            .find_map(|l| l.trim().strip_prefix("export ANTHROPIC_API_KEY="))
            .unwrap_or_else(|| panic!("no export line in {rest}"))
            .trim()
            .to_owned();
        let digest = KeyDigest::of(key.as_bytes()).to_hex();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!(
                "{before}  - name: bob\n    key_sha256: \"{digest}\"\n    providers: [main]\n    max_concurrent: 2\n    requests_per_minute: 30\n"
            )
        );
    }

    #[test]
    fn a_no_at_the_confirmation_writes_nothing_and_shows_no_key() {
        let home = tempfile::tempdir().unwrap();
        let (path, before) = seeded(home.path());
        let mut s = spawn(home.path(), &path, &[]);
        answer(&mut s, "Name", &format!("bob{ENTER}"));
        answer(&mut s, "Providers it may use", ENTER);
        answer(&mut s, "Model patterns", ENTER);
        answer(&mut s, "Requests in flight", ENTER);
        answer(&mut s, "Requests per minute", ENTER);
        answer(&mut s, "Write it to", "n");
        let (rest, code) = finish(&mut s);
        assert_eq!(code, 1, "{rest}");
        assert!(rest.contains("nothing written"), "{rest}");
        assert!(!rest.contains("ANTHROPIC_API_KEY"), "{rest}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_instance_takes_the_first_client_and_a_removal_on_reload() {
    let mock = MockUpstream::anthropic().start().await;
    let lb = ClaudeLb::new();
    let path = lb.write("providers.yaml", &config_at(&mock.base_url()));
    let proxy = Proxy::start_at(path.clone(), None).await;
    assert_eq!(
        send(&proxy, None).await,
        200,
        "no clients: served without a key"
    );

    let add = |name: &'static str| {
        let path = path.clone();
        tokio::task::spawn_blocking(move || run_in(&path, &["clients", "add", name]))
    };
    let alice = add("alice").await.unwrap();
    let bob = add("bob").await.unwrap();
    assert_eq!((alice.code, bob.code), (0, 0), "{alice:?} {bob:?}");
    let reload = || async {
        let response = proxy
            .client
            .post(format!("{}/providers/reload", proxy.url))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    };
    reload().await;
    assert_eq!(send(&proxy, None).await, 401);
    assert_eq!(
        send(&proxy, Some(("x-api-key", printed_key(&alice)))).await,
        200
    );
    assert_eq!(
        send(&proxy, Some(("x-api-key", printed_key(&bob)))).await,
        200
    );

    let removed = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || run_in(&path, &["clients", "remove", "alice"]))
            .await
            .unwrap()
    };
    assert_eq!(removed.code, 0, "{removed:?}");
    reload().await;
    assert_eq!(
        send(&proxy, Some(("x-api-key", printed_key(&alice)))).await,
        401
    );
    assert_eq!(
        send(&proxy, Some(("x-api-key", printed_key(&bob)))).await,
        200
    );
    assert_eq!(mock.request_count(), 4);
}
