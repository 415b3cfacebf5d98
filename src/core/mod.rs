//! Pure decisions: which providers exist, in which order to try them, how healthy each is,
//! and what an attempt's outcome means.
//!
//! Nothing here does I/O or reads the clock: time comes in as a `now` argument.

pub mod classify;
pub mod health;
pub mod provider;
pub mod retry_after;
pub mod select;

#[cfg(test)]
mod tests {
    // Tests may unwrap: a panic is a test failure with its location.
    #![allow(clippy::unwrap_used)]

    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The pure core owns the types it decides on: code in `core` (comments aside) names no
    /// other module of the crate, so the configuration and the I/O depend on it, never the
    /// other way round.
    #[test]
    fn core_uses_nothing_outside_core() {
        let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
        let mut files = Vec::new();
        rust_files(&core, &mut files);
        // Spelt in two pieces so that this test does not find itself.
        let needle = concat!("crate", "::");
        let mut outside = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let trimmed = line.trim_start();
                if trimmed.starts_with("//") {
                    continue;
                }
                let mut rest = trimmed;
                while let Some(at) = rest.find(needle) {
                    rest = &rest[at + needle.len()..];
                    if !rest.starts_with("core") {
                        outside.push(format!("{}:{}: {line}", path.display(), n + 1));
                    }
                }
            }
        }
        assert!(outside.is_empty(), "{outside:#?}");
    }
}
