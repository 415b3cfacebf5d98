//! `providers add`, `remove`, `enable` and `disable` through the real binary, without a
//! terminal: every answer as a flag, the file's comments kept, nothing lost on a refusal.

use std::path::Path;

use claude_lb::config;
use claude_lb::mock::{MockUpstream, Reply};

use crate::support::cli::{ClaudeLb, Run};
use crate::support::{env_of, fixture};

fn seed() -> String {
    std::fs::read_to_string(fixture("seed-providers.yaml")).unwrap()
}

const DEEPSEEK: &[&str] = &[
    "providers",
    "add",
    "--name",
    "deepseek",
    "--type",
    "openai",
    "--auth-env",
    "DEEPSEEK_API_KEY",
    "--base-url",
    "https://api.deepseek.com/v1",
    "--model",
    "claude-*opus*=deepseek-reasoner",
    "--model",
    "*=deepseek-chat",
    "--weight",
    "3",
    "--yes",
];

const DEEPSEEK_BLOCK: &str = concat!(
    "  - name: deepseek\n",
    "    type: openai\n",
    "    auth_type: api_key\n",
    "    auth_value: \"${DEEPSEEK_API_KEY}\"\n",
    "    base_url: https://api.deepseek.com/v1\n",
    "    weight: 3\n",
    "    models:\n",
    "      \"claude-*opus*\": \"deepseek-reasoner\"\n",
    "      \"*\": \"deepseek-chat\"\n",
);

fn run_in(lb: &mut ClaudeLb, config: &Path, args: &[&str]) -> Run {
    lb.args(["--config"]).arg_path(config).args(args).run()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn all_flags_add_to_a_commented_file_and_keep_every_other_byte() {
    let mut lb = ClaudeLb::new();
    let path = lb.write("providers.yaml", &seed());
    let run = lb
        .env("DEEPSEEK_API_KEY", "sk-test")
        .args(["--config", "providers.yaml"])
        .args(DEEPSEEK)
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "added provider \"deepseek\" to `providers.yaml`\n"
    );
    assert_eq!(
        run.stderr, "next: `claude-lb check --provider deepseek`\n",
        "{run:?}"
    );
    let after = std::fs::read_to_string(&path).unwrap();
    // The seed's items are separated by a blank line, so the new item is too; it goes right
    // after the last item, before the blank line and `settings:`.
    let seed = seed();
    let (head, tail) = seed.split_at(seed.find("\nsettings:").unwrap());
    assert_eq!(after, format!("{head}\n{DEEPSEEK_BLOCK}{tail}"));
    assert!(after.contains("  # 第三方Claude服务商\n"));
    let loaded = config::load(&path, &env_of(&[("DEEPSEEK_API_KEY", "sk-test")])).unwrap();
    let new = &loaded.config.providers[3];
    assert_eq!(new.id.as_str(), "deepseek");
    assert_eq!(new.weight.get(), 3);
    assert_eq!(new.models.map("claude-opus-4-1"), Some("deepseek-reasoner"));
    assert_eq!(new.models.map("claude-sonnet-4-5"), Some("deepseek-chat"));
}

#[test]
fn missing_flags_without_a_terminal_are_a_usage_error() {
    let mut lb = ClaudeLb::new();
    let path = lb.write("p.yaml", &seed());
    let run = run_in(&mut lb, &path, &["providers", "add", "--name", "x"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: missing --type, --auth-env (or --auth-value) (there is no terminal to ask on); see `claude-lb providers add --help`\n"
    );
    let run = ClaudeLb::new().args(["providers", "add"]).run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("missing --name, --type, --auth-env (or --auth-value)"),
        "{run:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), seed());

    for (args, expect) in [
        (
            &["--model", "nomodel"][..],
            "invalid --model: \"nomodel\" is not PATTERN=MODEL",
        ),
        (&["--auth-env", "1BAD"][..], "invalid --auth-env \"1BAD\""),
        (&["--name", "a b"][..], "invalid --name \"a b\""),
    ] {
        let run = run_in(
            &mut ClaudeLb::new(),
            &path,
            &[&["providers", "add"][..], args].concat(),
        );
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(expect), "{run:?}");
    }
}

#[test]
fn a_duplicate_name_changes_nothing() {
    let mut lb = ClaudeLb::new();
    let path = lb.write("p.yaml", &seed());
    let run = run_in(
        &mut lb,
        &path,
        &[
            "providers",
            "add",
            "--name",
            "openrouter",
            "--type",
            "openai",
            "--auth-env",
            "K",
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "a provider named \"openrouter\" already exists (line 17); pick another name, or remove it first with `claude-lb providers remove openrouter`; nothing written"
        ),
        "{run:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), seed());
}

#[test]
fn a_literal_key_is_allowed_with_a_warning_and_a_new_file_is_private() {
    let mut lb = ClaudeLb::new();
    let path = lb.home().join("new/dir/providers.yaml");
    let run = run_in(
        &mut lb,
        &path,
        &[
            "providers",
            "add",
            "--name",
            "main",
            "--type",
            "anthropic",
            "--auth-value",
            "sk-ant-x",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("(new file, readable by you only)"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("stored in plain text") && run.stderr.contains("--auth-env VAR"),
        "{run:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "providers:\n  - name: main\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"sk-ant-x\"\n"
    );
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn without_any_config_the_user_dir_file_is_created() {
    let mut lb = ClaudeLb::new();
    let run = lb
        .args([
            "providers",
            "add",
            "--name",
            "main",
            "--type",
            "anthropic",
            "--auth-env",
            "KEY",
        ])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let path = lb.user_config();
    assert_eq!(
        run.stdout,
        "added provider \"main\" to `[HOME]/.config/claude-lb/providers.yaml` (new file, readable by you only)\n"
    );
    // The variable is not set for the binary, which says what `serve` would do about it.
    assert!(
        run.stderr.contains("environment variable KEY is not set"),
        "{run:?}"
    );
    assert!(config::load(&path, &env_of(&[("KEY", "k")])).is_ok());
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
}

#[cfg(unix)]
#[test]
fn an_existing_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let mut lb = ClaudeLb::new();
    let path = lb.write("p.yaml", &seed());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let run = run_in(&mut lb, &path, DEEPSEEK);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mode(&path), 0o640);
}

#[test]
fn remove_enable_disable_round_trip_gives_back_the_file() {
    let home = ClaudeLb::new();
    let path = home.write("p.yaml", &seed());
    let step = |args: &[&str]| {
        let run = ClaudeLb::new()
            .args(["--config"])
            .arg_path(&path)
            .args(args)
            .run();
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        (run, std::fs::read_to_string(&path).unwrap())
    };
    step(DEEPSEEK);
    let (run, disabled) = step(&["providers", "disable", "deepseek"]);
    assert!(
        run.stdout
            .starts_with("disabled provider \"deepseek\" in `"),
        "{run:?}"
    );
    assert!(
        disabled.contains("\"deepseek-chat\"\n    enabled: false\n"),
        "{disabled}"
    );
    let (run, _) = step(&["providers", "disable", "deepseek"]);
    assert!(run.stdout.contains("already disabled"), "{run:?}");
    let (_, enabled) = step(&["providers", "enable", "deepseek"]);
    assert!(
        enabled.contains("\"deepseek-chat\"\n    enabled: true\n"),
        "{enabled}"
    );
    let (run, removed) = step(&["providers", "remove", "deepseek"]);
    assert!(
        run.stdout
            .starts_with("removed provider \"deepseek\" from `"),
        "{run:?}"
    );
    assert_eq!(removed, seed());

    let (_, disabled) = step(&["providers", "disable", "custom_provider"]);
    assert_eq!(
        disabled,
        seed().replacen(
            "    auth_value: \"your-token\"\n    enabled: true",
            "    auth_value: \"your-token\"\n    enabled: false",
            1
        )
    );
    step(&["providers", "enable", "custom_provider"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), seed());
}

#[test]
fn edits_that_would_break_the_config_are_refused() {
    let lb = ClaudeLb::new();
    let one = "# only one\nproviders:\n  - name: main\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n";
    let path = lb.write("p.yaml", one);
    let run = ClaudeLb::new()
        .args(["--config"])
        .arg_path(&path)
        .args(["providers", "remove", "main"])
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("not saved: the result would be an invalid config (1 error):")
            && run.stderr.contains("providers: no providers"),
        "{run:?}"
    );
    let run = ClaudeLb::new()
        .args(["--config"])
        .arg_path(&path)
        .args(["providers", "disable", "main"])
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no enabled provider"), "{run:?}");
    let run = ClaudeLb::new()
        .args(["--config"])
        .arg_path(&path)
        .args(["providers", "enable", "nope"])
        .run();
    assert_eq!(run.code, 2, "an unknown name is a usage error: {run:?}");
    assert!(
        run.stderr
            .contains("no provider named \"nope\" in the file (it has: \"main\")"),
        "{run:?}"
    );
    for command in ["enable", "disable", "remove"] {
        let run = ClaudeLb::new()
            .args(["--config"])
            .arg_path(&path)
            .args(["providers", command, "mian"])
            .run();
        assert_eq!(run.code, 2, "{command}: {run:?}");
        assert!(
            run.stderr.contains("did you mean \"main\"?"),
            "{command}: {run:?}"
        );
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), one);

    let flow = "providers: [{name: a, type: anthropic, auth_type: api_key, auth_value: k}]\n";
    let path = lb.write("flow.yaml", flow);
    let run = ClaudeLb::new()
        .args(["--config"])
        .arg_path(&path)
        .args([
            "providers",
            "add",
            "--name",
            "b",
            "--type",
            "anthropic",
            "--auth-env",
            "K",
        ])
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("flow style"), "{run:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), flow);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_sends_one_minimal_request_and_a_failure_stops_the_save() {
    let mock = MockUpstream::openai().start().await;
    let lb = ClaudeLb::new();
    let path = lb.write("p.yaml", &seed());
    let base_url = mock.base_url();
    let add = |name: &'static str, path: std::path::PathBuf, base_url: String| {
        tokio::task::spawn_blocking(move || {
            ClaudeLb::new()
                .env("LOCAL_KEY", "sk-local")
                .args(["--config"])
                .arg_path(&path)
                .args([
                    "providers",
                    "add",
                    "--name",
                    name,
                    "--type",
                    "openai",
                    "--auth-env",
                    "LOCAL_KEY",
                    "--base-url",
                    &base_url,
                    "--model",
                    "*=small-model",
                    "--probe",
                ])
                .run()
        })
    };
    let run = add("local", path.clone(), base_url.clone()).await.unwrap();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("probe: probe ok: HTTP 200 in "),
        "{run:?}"
    );
    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path(), "/v1/chat/completions");
    assert_eq!(requests[0].header("authorization"), Some("Bearer sk-local"));
    let json = requests[0].json.as_ref().unwrap();
    assert_eq!(json["model"], "small-model");
    assert_eq!(json["max_tokens"], 1);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("- name: local\n")
    );

    let refusing = MockUpstream::openai()
        .reply(Reply::json(
            401,
            serde_json::json!({"error": {"message": "bad key"}}),
        ))
        .start()
        .await;
    let before = std::fs::read_to_string(&path).unwrap();
    let run = add("other", path.clone(), refusing.base_url())
        .await
        .unwrap();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("probe failed: key rejected (HTTP 401)"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("not saved because the probe failed"),
        "{run:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
}

#[tokio::test]
async fn adding_a_key_variable_while_serve_runs_says_the_instance_cannot_see_it() {
    let mock = MockUpstream::anthropic().start().await;
    let base = format!(
        "providers:\n  - name: main\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n    base_url: {}\n",
        mock.base_url()
    );
    let proxy = crate::support::proxy::Proxy::start(&base).await;
    let addr = proxy.url.trim_start_matches("http://").to_owned();
    let mut lb = ClaudeLb::new();
    let path = lb.write(
        "providers.yaml",
        &format!("{base}settings:\n  listen: \"{addr}\"\n"),
    );
    lb.args([
        "providers",
        "add",
        "--name",
        "second",
        "--type",
        "anthropic",
        "--auth-env",
        "NEW_KEY",
        "--config",
    ])
    .arg_path(&path);
    let run = crate::check::run_bin(lb).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("NEW_KEY is not set in this shell"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(&format!(
            "a claude-lb is running at http://{addr}; it cannot see a variable exported after it started"
        )) && run.stderr.contains("export NEW_KEY="),
        "{run:?}"
    );
}

#[test]
fn a_base_url_ending_in_a_path_claude_lb_appends_is_refused_before_writing() {
    for (kind, url, fix) in [
        (
            "anthropic",
            "https://relay.example/v1",
            "https://relay.example",
        ),
        (
            "anthropic",
            "https://relay.example/v1/messages",
            "https://relay.example",
        ),
        (
            "openai",
            "https://x.example/v1/chat/completions",
            "https://x.example/v1",
        ),
    ] {
        let lb = ClaudeLb::new();
        let path = lb.write("p.yaml", &seed());
        let run = ClaudeLb::new()
            .args(["--config"])
            .arg_path(&path)
            .args([
                "providers",
                "add",
                "--name",
                "r",
                "--type",
                kind,
                "--auth-env",
                "K",
                "--base-url",
                url,
            ])
            .run();
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(&format!("enter {fix}")), "{run:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), seed());
    }
}
