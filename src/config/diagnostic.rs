//! One problem found in a configuration file, with where it is and what to do about it.
//!
//! A [`Diagnostic`] renders as `FILE:LINE:COL: field.path: message` (errors) or
//! `FILE:LINE:COL: warning: field.path: message` (warnings), one line each, so that editors
//! and terminals can jump to the spot and `serve` can put the same lines in its logs and in
//! the body of a refused reload.

use std::fmt;
use std::sync::Arc;

/// Whether a problem stops the configuration from loading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The configuration is refused.
    Error,
    /// The configuration loads, but probably does not do what its author meant.
    Warning,
}

/// A position in a file: 1-based line and column (the column counts characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    /// The very start of a file.
    pub const START: Self = Self { line: 1, column: 1 };

    pub fn new(line: usize, column: usize) -> Self {
        Self {
            line: line.max(1),
            column: column.max(1),
        }
    }
}

/// One problem in a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file name as the user gave it (or a label such as `<reload>` for text).
    pub file: Arc<str>,
    /// The 1-based line.
    pub line: usize,
    /// The 1-based column, counted in characters.
    pub column: usize,
    /// The field concerned, such as `providers[2].type`; empty for the document itself.
    pub path: String,
    /// What is wrong and, where it helps, what to write instead. Never contains a secret.
    pub message: String,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// The problems found so far while loading one file, errors and warnings apart.
#[derive(Debug)]
pub(crate) struct Problems {
    file: Arc<str>,
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) warnings: Vec<Diagnostic>,
}

impl Problems {
    pub(crate) fn new(file: &str) -> Self {
        Self {
            file: Arc::from(file),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn make(&self, severity: Severity, pos: Pos, path: &str, message: String) -> Diagnostic {
        Diagnostic {
            severity,
            file: Arc::clone(&self.file),
            line: pos.line,
            column: pos.column,
            path: path.to_owned(),
            message,
        }
    }

    pub(crate) fn error(&mut self, pos: Pos, path: &str, message: impl Into<String>) {
        let d = self.make(Severity::Error, pos, path, message.into());
        self.errors.push(d);
    }

    pub(crate) fn warn(&mut self, pos: Pos, path: &str, message: impl Into<String>) {
        let d = self.make(Severity::Warning, pos, path, message.into());
        self.warnings.push(d);
    }

    /// Puts both lists in file order (stable, so problems at one spot keep their order).
    pub(crate) fn sort(&mut self) {
        self.errors.sort_by_key(|d| (d.line, d.column));
        self.warnings.sort_by_key(|d| (d.line, d.column));
    }
}

/// The candidate closest to `word` by edit distance, when it is close enough to be a likely typo.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&word, c), *c))
        .filter(|&(d, c)| d <= (c.chars().count() / 3).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// `, did you mean "x"?` for the closest candidate, or nothing.
pub(crate) fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    closest(word, candidates).map_or_else(String::new, |c| format!(", did you mean {c:?}?"))
}

/// The edit distance between two strings (insertions, deletions, substitutions and swaps of two
/// neighbouring characters, each counting 1), in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j] is the distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("opneai", "openai"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("base_ulr", "base_url"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions() {
        let kinds = ["anthropic", "openai"];
        assert_eq!(closest("opneai", &kinds), Some("openai"));
        assert_eq!(closest("OpenAI", &kinds), Some("openai"));
        assert_eq!(closest("gemini", &kinds), None);
        assert_eq!(
            did_you_mean("tpye", &["type", "name"]),
            ", did you mean \"type\"?"
        );
    }

    #[test]
    fn renders_one_line() {
        let mut p = Problems::new("providers.yaml");
        p.error(Pos::new(3, 5), "providers[0].type", "bad");
        p.warn(Pos::new(1, 1), "", "odd");
        assert_eq!(
            p.errors[0].to_string(),
            "providers.yaml:3:5: providers[0].type: bad"
        );
        assert_eq!(
            p.warnings[0].to_string(),
            "providers.yaml:1:1: warning: odd"
        );
    }
}
