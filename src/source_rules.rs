//! Rules about which module may know what, checked by reading the source.

// Tests may unwrap: a panic is a test failure with its location.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/<dir>`, as (path relative to `src`, text).
fn sources(dir: &str) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src.join(dir), &mut files);
    files.sort();
    files
        .iter()
        .map(|path| {
            let name = path.strip_prefix(&src).unwrap().display().to_string();
            (name, std::fs::read_to_string(path).unwrap())
        })
        .collect()
}

/// `config::yaml` is the one module that reads YAML.
#[test]
fn only_config_yaml_knows_the_yaml_crates() {
    let knowing: Vec<String> = sources("")
        .into_iter()
        .filter(|(_, text)| text.contains("saphyr::") || text.contains("saphyr_parser::"))
        .map(|(name, _)| name)
        .filter(|name| name != "source_rules.rs")
        .collect();
    assert_eq!(knowing, ["config/yaml.rs"]);
}

/// The pure core owns the types it decides on: code in `core` (comments aside) names no other
/// module of the crate, so the configuration and the I/O depend on it, never the other way
/// round.
#[test]
fn core_uses_nothing_outside_core() {
    let needle = "crate::";
    let mut outside = Vec::new();
    for (name, text) in sources("core") {
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            let mut rest = trimmed;
            while let Some(at) = rest.find(needle) {
                rest = &rest[at + needle.len()..];
                if !rest.starts_with("core") {
                    outside.push(format!("{name}:{}: {line}", n + 1));
                }
            }
        }
    }
    assert!(outside.is_empty(), "{outside:#?}");
}
