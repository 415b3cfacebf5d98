//! The binary's contract: exit codes, messages, where the config is looked for, `config init`,
//! completions, and the committed `completions/` and `man/` being up to date.

use std::path::Path;

use insta::assert_snapshot;

use crate::support::cli::ClaudeLb;
use crate::support::private_fixture;

const VALID: &str = "\
providers:
  - name: main
    type: anthropic
    auth_type: api_key
    auth_value: sk-ant-test
";

#[test]
fn validate_seed_fixture_passes_with_warnings() {
    let seed = private_fixture("seed-providers.yaml", "validate_seed");
    let run = ClaudeLb::new()
        .args(["config", "validate", "--config"])
        .arg_path(&seed)
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "");
    let stdout = run
        .stdout
        .replace(&seed.display().to_string(), "seed-providers.yaml");
    assert_snapshot!(stdout, @r#"
seed-providers.yaml:10:5: warning: providers[1]: `auth_type: auth_token` without `base_url`: provider "custom_provider" would send its token to the official API (https://api.anthropic.com); set `base_url` to the relay's URL
seed-providers.yaml:17:5: warning: providers[2]: openai provider "openrouter" has no `models` map, so Claude model names such as claude-opus-5-5 would be sent to it as they are; add a map such as `models: {"claude-*haiku*": "SMALL_MODEL", "*": "LARGE_MODEL"}`
seed-providers.yaml:20:17: warning: providers[2].auth_value: this looks like an OpenRouter key (it starts with "sk-or-") but it would be sent to https://api.openai.com/v1; set `base_url: https://openrouter.ai/api/v1`
seed-providers.yaml: valid, 3 providers (3 enabled), 3 warnings
"#);
}

#[test]
fn validate_reports_every_error_and_exits_1() {
    let mut lb = ClaudeLb::new();
    lb.write(
        "bad.yaml",
        "providers:\n  - name: x y\n    type: opneai\n    auth_type: api_key\n    auth_value: k\n",
    );
    let run = lb
        .args(["config", "validate", "--config", "bad.yaml"])
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stderr, "");
    assert_snapshot!(run.stdout, @r#"
bad.yaml:2:11: providers[0].name: invalid provider name "x y" (use only letters, digits, `_`, `.` and `-`, such as "my_relay")
bad.yaml:3:11: providers[0].type: unknown provider type "opneai" (expected anthropic or openai), did you mean "openai"?
bad.yaml: invalid, 2 errors, no warnings
"#);
}

#[test]
fn a_closed_stdout_exits_0_quietly() {
    // About 150 KB of report, far more than a pipe buffers.
    let keys = (0..1000)
        .map(|i| {
            format!(
                "  unknown_setting_{i}: 1
"
            )
        })
        .collect::<Vec<_>>()
        .concat();
    let mut lb = ClaudeLb::new();
    lb.write("big-report.yaml", &format!("{VALID}settings:\n{keys}"));
    let run = lb
        .args(["config", "validate", "--config", "big-report.yaml"])
        .run_into_closed_pipe();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "");
}

#[test]
fn validate_without_any_config_says_where_it_looked() {
    let run = ClaudeLb::new().args(["config", "validate"]).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_snapshot!(run.stderr, @"
error: no config file found; tried `[HOME]/providers.yaml`, `[HOME]/.config/claude-lb/providers.yaml`
(create one with `claude-lb providers add` or `claude-lb config init`, or name one with `--config PATH` or $CLAUDE_LB_CONFIG)
");
}

#[test]
fn validate_names_a_missing_explicit_file_and_the_os_reason() {
    let run = ClaudeLb::new()
        .args(["config", "validate", "--config", "missing.yaml"])
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_snapshot!(run.stderr, @"error: cannot read config file `missing.yaml`: No such file or directory (os error 2)");
}

#[test]
fn config_is_found_by_env_then_working_directory_then_user_dir() {
    let mut lb = ClaudeLb::new();
    lb.write(".config/claude-lb/providers.yaml", VALID);
    let run = lb.args(["config", "validate"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with("[HOME]/.config/claude-lb/providers.yaml: valid"),
        "{run:?}"
    );

    let mut lb = ClaudeLb::new();
    lb.write("providers.yaml", VALID);
    let run = lb.args(["config", "validate"]).run();
    assert!(
        run.stdout.starts_with("[HOME]/providers.yaml: valid"),
        "{run:?}"
    );

    let mut lb = ClaudeLb::new();
    lb.write("providers.yaml", "not: [valid");
    let other = lb.write("elsewhere/team.yaml", VALID);
    let run = lb
        .args(["config", "validate"])
        .env("CLAUDE_LB_CONFIG", &other)
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with("[HOME]/elsewhere/team.yaml: valid"),
        "{run:?}"
    );
}

#[test]
fn config_init_writes_a_private_starter_once() {
    let mut lb = ClaudeLb::new();
    let path = lb.user_config();
    let run = lb.args(["config", "init"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_snapshot!(run.stdout, @"wrote a starter config to `[HOME]/.config/claude-lb/providers.yaml`");
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, claude_lb::commands::config_init::STARTER);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let again = lb.run();
    assert_eq!(again.code, 1, "{again:?}");
    assert_snapshot!(again.stderr, @"error: `[HOME]/.config/claude-lb/providers.yaml` already exists; not overwriting it (move it away first, or write elsewhere with `--config PATH`)");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);

    let mut check = ClaudeLb::new();
    check
        .args(["config", "validate", "--config"])
        .arg_path(&path);
    let without_key = check.run();
    // The only provider misses its key: nothing `serve` could use.
    assert_eq!(without_key.code, 1, "{without_key:?}");
    assert!(
        without_key.stdout.contains("no provider is usable"),
        "{without_key:?}"
    );
    assert!(
        without_key.stdout.contains("ANTHROPIC_API_KEY is not set"),
        "{without_key:?}"
    );
    let with_key = check.env("ANTHROPIC_API_KEY", "sk-ant-x").run();
    assert_eq!(with_key.code, 0, "{with_key:?}");
}

#[test]
fn config_init_honours_explicit_path() {
    let mut lb = ClaudeLb::new();
    let run = lb
        .args(["config", "init", "--config", "sub/dir/lb.yaml"])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(lb.home().join("sub/dir/lb.yaml").is_file());
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = ClaudeLb::new().args(["completions", shell]).run();
        assert_eq!(run.code, 0, "{shell}: {run:?}");
        assert!(run.stdout.contains("claude-lb"), "{shell}");
        assert!(run.stdout.contains("validate"), "{shell}");
        assert!(
            !run.stdout.contains("generate"),
            "{shell}: the generator is hidden"
        );
    }
}

/// Completes `claude-lb WORDS…` in a real bash with the script `completions bash` prints, and
/// returns the candidates.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let words_list = words.join(" ");
    let program = format!(
        "source \"$1\"; COMP_WORDS=(claude-lb {words_list}); COMP_CWORD={cword}; COMP_LINE=\"claude-lb {words_list}\"; COMP_POINT=${{#COMP_LINE}}; _claude__lb claude-lb \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        cword = words.len()
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program, "bash"])
        .arg(script)
        .env_clear()
        .output()
        .expect("running bash");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_past_the_first_word() {
    let mut lb = ClaudeLb::new();
    let run = lb.args(["completions", "bash"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    let script = lb.home().join("claude-lb.bash");
    std::fs::write(&script, &run.stdout).unwrap();
    assert_eq!(bash_complete(&script, &["providers", "en"]), ["enable"]);
    assert_eq!(bash_complete(&script, &["config", "va"]), ["validate"]);
    assert_eq!(bash_complete(&script, &["pro"]), ["providers"]);
    let flags = bash_complete(&script, &["providers", "list", "--j"]);
    assert_eq!(flags, ["--json"]);
    // Provider names come from the config the command line names.
    let config = lb.write(
        "p.yaml",
        "providers:\n  - name: main\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n  - name: spare\n    type: anthropic\n    auth_type: api_key\n    auth_value: k2\n",
    );
    let bin = env!("CARGO_BIN_EXE_claude-lb");
    let config = config.display().to_string();
    let names = |words: &[&str]| {
        let program = format!(
            "source \"$1\"; COMP_WORDS=({bin} --config {config} {}); COMP_CWORD={}; _claude__lb__names \"${{COMP_WORDS[0]}}\" \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            words.join(" "),
            words.len() + 2
        );
        let out = std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &program, "bash"])
            .arg(&script)
            .env_clear()
            .output()
            .expect("running bash");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(names(&["providers", "disable", "sp"]), "spare\n");
    assert_eq!(names(&["providers", "remove", ""]), "main\nspare\n");
    assert_eq!(names(&["check", "--provider", "m"]), "main\n");
    // Elsewhere the generated completion answers.
    assert_eq!(names(&["providers", "en"]), "enable\n");
    // The shipped script is the same one.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/claude-lb.bash");
    assert_eq!(bash_complete(&shipped, &["providers", "en"]), ["enable"]);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["config", "bogus"][..],
        &["completions", "tcsh"],
        &["-v", "-q", "config", "validate"],
        &["--no-such-flag"],
        &[],
    ] {
        let run = ClaudeLb::new().args(args).run();
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
    }
}

#[test]
fn help_and_version() {
    let run = ClaudeLb::new().args(["--help"]).run();
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("Examples:"), "{}", run.stdout);
    assert!(
        run.stdout.contains("claude-lb config validate"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("generate"), "the generator is hidden");
    let run = ClaudeLb::new().args(["--version"]).run();
    assert_eq!(
        run.stdout,
        format!("claude-lb {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// Every command line shown for starting Claude Code is complete: Claude Code refuses to start
/// without a key of its own (`Not logged in · Please run /login`).
#[test]
fn every_claude_code_line_shown_carries_a_key() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = vec![
        (
            "README.md".to_owned(),
            std::fs::read_to_string(repo.join("README.md")).unwrap(),
        ),
        (
            "config.example.yaml".to_owned(),
            std::fs::read_to_string(repo.join("config.example.yaml")).unwrap(),
        ),
    ];
    for args in [&["--help"][..], &["serve", "--help"], &["demo", "--help"]] {
        let run = ClaudeLb::new().args(args).run();
        assert_eq!(run.code, 0, "{run:?}");
        texts.push((args.join(" "), run.stdout));
    }
    let mut seen = 0;
    for (source, text) in &texts {
        for line in text
            .lines()
            .filter(|l| l.contains("ANTHROPIC_BASE_URL=http"))
        {
            seen += 1;
            assert!(line.contains("ANTHROPIC_API_KEY="), "{source}: {line}");
        }
    }
    assert!(seen >= 5, "only {seen} lines found");
}

/// The committed `completions/` and `man/` are what the current CLI generates.
#[test]
fn generated_files_are_up_to_date() {
    let mut lb = ClaudeLb::new();
    let out = lb.home().join("generated");
    let run = lb.args(["generate", "--out-dir"]).arg_path(&out).run();
    assert_eq!(run.code, 0, "{run:?}");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for dir in ["completions", "man"] {
        let fresh = list(&out.join(dir));
        assert!(!fresh.is_empty(), "nothing generated in {dir}/");
        let committed = list(&repo.join(dir));
        for name in fresh.iter().chain(&committed) {
            let a = std::fs::read(out.join(dir).join(name)).ok();
            let b = std::fs::read(repo.join(dir).join(name)).ok();
            if a != b {
                stale.push(format!("{dir}/{name}"));
            }
        }
    }
    stale.dedup();
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}\nrefresh them with `cargo run -- generate --out-dir .` and commit the result"
    );
    let man = list(&out.join("man"));
    for page in [
        "claude-lb.1",
        "claude-lb-config.1",
        "claude-lb-config-validate.1",
        "claude-lb-config-init.1",
        "claude-lb-completions.1",
    ] {
        assert!(man.iter().any(|m| m == page), "{page} missing from {man:?}");
    }
}

fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| {
                    e.expect("listing a directory")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn config_validate_json_reports_errors_and_warnings() {
    let mut lb = ClaudeLb::new();
    let path = lb.write(
        "p.yaml",
        "providers:\n  - name: a\n    type: opneai\n    auth_type: api_key\n    auth_value: k\nsettings:\n  listen: 0.0.0.0:1\n  allow_unauthenticated_public: true\n",
    );
    let run = lb
        .args(["config", "validate", "--json", "--config"])
        .arg_path(&path)
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"][0]["line"], 3);
    assert_eq!(report["errors"][0]["column"], 11);
    assert_eq!(report["errors"][0]["path"], "providers[0].type");
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean \"openai\"?")
    );
    assert_eq!(report["warnings"][0]["path"], "settings.listen");

    let mut lb = ClaudeLb::new();
    let path = lb.write(
        "p.yaml",
        "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: k\n",
    );
    let run = lb
        .args(["config", "validate", "--json", "--config"])
        .arg_path(&path)
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["providers"], 1);
    assert_eq!(report["enabled"], 1);
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(report["warnings"], serde_json::json!([]));

    // What `serve` refuses is invalid here too, and a file that cannot be read is still one
    // JSON document on stdout.
    let unusable = "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${CLAUDE_LB_TEST_UNSET_KEY}\"\n";
    let lb = ClaudeLb::new();
    let path = lb.write("p.yaml", unusable);
    let missing = path.with_file_name("missing.yaml");
    for (file, message) in [(&path, "no provider is usable"), (&missing, "missing.yaml")] {
        let mut lb = ClaudeLb::new();
        let run = lb
            .args(["config", "validate", "--json", "--config"])
            .arg_path(file)
            .run();
        assert_eq!(run.code, 1, "{run:?}");
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["valid"], false, "{report}");
        assert_eq!(report["errors"][0]["line"], serde_json::Value::Null);
        let text = report["errors"][0]["message"].as_str().unwrap();
        assert!(text.contains(message), "{text}");
    }
}

#[test]
fn man_pages_have_files_environment_exit_status_examples_and_a_config_page() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let main = std::fs::read_to_string(repo.join("man/claude-lb.1")).unwrap();
    for section in [
        ".SH FILES",
        ".SH ENVIRONMENT",
        ".SH \"EXIT STATUS\"",
        ".SH EXAMPLES",
    ] {
        assert!(main.contains(section), "{section} missing from claude-lb.1");
    }
    for (var, _) in claude_lb::env::DOCUMENTED {
        assert!(main.contains(&format!("\\fB{var}\\fR")), "{var}");
    }
    let config = std::fs::read_to_string(repo.join("man/claude-lb-config.5")).unwrap();
    assert!(config.starts_with(".TH claude-lb-config 5"), "{config}");
    for key in claude_lb::config::reference::PROVIDER
        .iter()
        .chain(claude_lb::config::reference::SETTINGS)
    {
        let name = key.name.replace('-', "\\-");
        assert!(config.contains(&format!(".TP\n\\fB{name}\\fR")), "{name}");
    }
}

#[cfg(unix)]
#[test]
fn validate_warns_about_a_readable_key_and_refuses_a_writable_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let mut lb = ClaudeLb::new();
    let path = lb.write(
        "keys.yaml",
        "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: sk-ant-literal\n",
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = lb
        .args(["config", "validate", "--config", "keys.yaml"])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("warning: the file holds 1 literal key written out and other users can read it (mode 644)"),
        "{run:?}"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o646)).unwrap();
    let run = lb.run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("is writable by other users (mode 646); refusing to load it"),
        "{run:?}"
    );
}
