//! The dependency rule between modules, checked by reading `src/`.
//!
//! Every `crate::X` path in a file under `src/Y` (a `use` or a path written inline, outside
//! comments) is an edge `Y -> X` between top-level modules. An edge must be in [`ALLOWED`] (the
//! same list as ARCHITECTURE.md's "Dependency rule"). Whatever is allowed, the top-level
//! modules must not form a cycle, nor the submodules of `dispatch`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The allowed edges between top-level modules: `(from, [to, ...])`. A module not listed
/// imports nothing from the crate. `core` and `translate` are pure and import no module that
/// does I/O; `proxy` (the server) imports nothing from `ui` (the screen).
const ALLOWED: &[(&str, &[&str])] = &[
    ("access", &["config", "core", "logging", "shared"]),
    ("cli", &["config", "core", "env", "logging"]),
    (
        "commands",
        &[
            "cli",
            "config",
            "core",
            "dispatch",
            "env",
            "limits",
            "logging",
            "metrics",
            "mock",
            "models",
            "proxy",
            "sse",
            "translate",
            "ui",
            "upstream",
            "usage",
        ],
    ),
    ("config", &["core", "env", "models"]),
    ("core", &[]),
    (
        "dispatch",
        &[
            "config",
            "core",
            "limits",
            "logging",
            "metrics",
            "shared",
            "sse",
            "translate",
            "upstream",
            "usage",
        ],
    ),
    ("logging", &["config", "env"]),
    ("metrics", &["core"]),
    ("mock", &["core", "sse", "translate"]),
    (
        "proxy",
        &[
            "access",
            "config",
            "core",
            "dispatch",
            "limits",
            "logging",
            "metrics",
            "translate",
            "upstream",
            "usage",
        ],
    ),
    ("shared", &["config", "core", "logging", "metrics", "usage"]),
    ("translate", &["core", "limits", "sse"]),
    ("ui", &["config", "core", "env", "logging", "models"]),
    (
        "upstream",
        &["config", "core", "env", "limits", "models", "translate"],
    ),
    ("usage", &["config", "core", "metrics", "models"]),
];

/// The submodules whose own edges are checked for cycles.
const CHECKED_INSIDE: &[&str] = &["dispatch"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text of a Rust file without its comments (line, block and doc comments); string
/// literals are kept, which is harmless for this scan.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn ident_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first path segment of every item a path starting at `prefix` names: `prefix::a::b` gives
/// `a`, `prefix::{a::b, c}` gives `a` and `c`.
fn names_after(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut from = 0;
    while let Some(i) = text[from..].find(prefix) {
        let at = from + i;
        from = at + prefix.len();
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = text[from..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // The names at depth 0 of the group: each one after `{` or `,`.
            let mut depth = 0;
            let mut expect = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => expect = true,
                    c if expect && depth == 0 && (c.is_ascii_alphabetic() || c == '_') => {
                        names.insert(ident_at(&group[j..]).to_owned());
                        expect = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(rest);
            if !name.is_empty() {
                names.insert(name.to_owned());
            }
        }
    }
    names
}

/// Edges between top-level modules, and between the submodules of [`CHECKED_INSIDE`], with
/// the file that makes each one.
fn edges() -> BTreeMap<(String, String), PathBuf> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut top_modules = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        top_modules.insert(first.trim_end_matches(".rs").to_owned());
    }
    let mut edges = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap();
        let parts: Vec<&str> = rel
            .components()
            .map(|c| c.as_os_str().to_str().unwrap().trim_end_matches(".rs"))
            .collect();
        let from = parts[0];
        if from == "lib" || from == "main" {
            continue;
        }
        let text = without_comments(&fs::read_to_string(file).unwrap());
        for to in names_after(&text, "crate::") {
            if to != from && top_modules.contains(&to) {
                edges
                    .entry((from.to_owned(), to))
                    .or_insert_with(|| rel.to_owned());
            }
        }
        // Submodule edges: `a.rs` (or `a/...`) of `dispatch` naming a sibling through `super::`
        // or `crate::dispatch::`.
        if CHECKED_INSIDE.contains(&from) && parts.len() >= 2 && parts[1] != "mod" {
            let sub = parts[1];
            let siblings: BTreeSet<String> = files
                .iter()
                .filter_map(|f| {
                    let r = f.strip_prefix(root.join(from)).ok()?;
                    let first = r.components().next()?.as_os_str().to_str()?;
                    Some(first.trim_end_matches(".rs").to_owned())
                })
                .filter(|s| s != "mod")
                .collect();
            let mut named = names_after(&text, &format!("crate::{from}::"));
            // Only a file directly in the submodule's folder reaches a sibling with `super::`.
            if parts.len() == 2 {
                named.extend(names_after(&text, "super::"));
            }
            for to in named {
                if to != sub && siblings.contains(&to) {
                    edges
                        .entry((format!("{from}::{sub}"), format!("{from}::{to}")))
                        .or_insert_with(|| rel.to_owned());
                }
            }
        }
    }
    edges
}

fn is_allowed(from: &str, to: &str) -> bool {
    if from.contains("::") {
        // Inside a module, any edge is allowed as long as there is no cycle.
        return true;
    }
    ALLOWED
        .iter()
        .any(|(f, tos)| *f == from && tos.contains(&to))
}

/// The first cycle found among `edges`, as `a -> b -> ... -> a`.
fn find_cycle(edges: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeSet<(String, String)>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for (_, to) in edges.iter().filter(|(from, _)| from == node) {
            if let Some(cycle) = visit(to, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for (from, _) in edges {
        if let Some(cycle) = visit(from, edges, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn every_edge_between_modules_is_allowed() {
    let edges = edges();
    assert!(
        edges.contains_key(&("commands".to_owned(), "cli".to_owned())),
        "the scan finds nothing: it no longer reads `src/`"
    );
    let unexpected: Vec<String> = edges
        .iter()
        .filter(|((from, to), _)| !is_allowed(from, to))
        .map(|((from, to), file)| format!("{from} -> {to} (first in src/{})", file.display()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "edges outside the dependency rule (add them to ARCHITECTURE.md and ALLOWED only if \
         the design says so):\n{}",
        unexpected.join("\n")
    );
}

#[test]
fn modules_form_no_cycle() {
    let edges: BTreeSet<(String, String)> = edges().into_keys().collect();
    assert_eq!(find_cycle(&edges), None);
}

#[test]
fn the_rule_itself_has_no_cycle_and_keeps_the_server_off_the_screen() {
    let allowed: BTreeSet<(String, String)> = ALLOWED
        .iter()
        .flat_map(|(from, tos)| tos.iter().map(|to| ((*from).to_owned(), (*to).to_owned())))
        .collect();
    assert_eq!(find_cycle(&allowed), None);
    assert!(!is_allowed("proxy", "ui"));
    for io in [
        "upstream", "proxy", "dispatch", "ui", "commands", "mock", "logging",
    ] {
        assert!(!is_allowed("core", io), "core -> {io}");
        assert!(!is_allowed("translate", io), "translate -> {io}");
    }
}

#[test]
fn the_scan_reads_groups_paths_and_skips_comments() {
    let text = without_comments(
        "use crate::{config::{A, B}, core};\n// use crate::ui;\nlet x = crate::models::X;\n\
         /* crate::proxy */ use super::stream::S;",
    );
    assert_eq!(
        names_after(&text, "crate::"),
        ["config", "core", "models"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
    assert_eq!(
        names_after(&text, "super::"),
        ["stream"].into_iter().map(str::to_owned).collect()
    );
    let cycle: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(f, t)| (f.to_owned(), t.to_owned()))
        .collect();
    assert_eq!(
        find_cycle(&cycle),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

/// `config::yaml` is the one module that reads YAML: no other file names the YAML crates.
#[test]
fn only_config_yaml_knows_the_yaml_crates() {
    let src = src();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut knowing: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = without_comments(&fs::read_to_string(path).unwrap());
            text.contains("saphyr::") || text.contains("saphyr_parser::")
        })
        .map(|path| {
            path.strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    knowing.sort();
    assert_eq!(knowing, ["config/yaml.rs"]);
}
