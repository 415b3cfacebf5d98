//! Text-level edits of a configuration file: add a provider, remove one, enable or disable one.
//!
//! A serde round trip would drop the user's comments and rewrite their layout, so these
//! functions never re-serialise the file. They parse it with `saphyr-parser` to learn where
//! the `providers:` list and each of its items are (character offsets, converted to byte
//! offsets), then splice whole lines of new text in or out. Everything outside the spliced
//! lines stays byte for byte as it was: comments, blank lines, quoting, trailing spaces, CRLF
//! line endings and a byte order mark included.
//!
//! What cannot be edited safely (a flow-style `providers: [...]` list, several YAML documents,
//! a provider written as an alias) is refused with an [`EditError`] that says why, rather than
//! risking a mangled file. These functions are pure: they take the text and return the new
//! text; [`super::save`] validates and writes it.

use std::fmt::Write as _;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::core::provider::{AuthType, ProviderKind};

/// A provider to append to `providers:`, with its values as they will be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewProvider {
    /// The unique name (`[A-Za-z0-9_.-]+`).
    pub name: String,
    pub kind: ProviderKind,
    pub auth_type: AuthType,
    /// The credential as written: a literal, or `${VAR}` to read it from the environment.
    pub auth_value: String,
    /// `None` leaves `base_url` out, so the type's default applies.
    pub base_url: Option<String>,
    /// Client model pattern → upstream model, in order; empty leaves `models` out.
    pub models: Vec<(String, String)>,
    /// `None` leaves `weight` out (the default, 1).
    pub weight: Option<u32>,
    /// `false` writes `enabled: false`; `true` leaves the key out (the default).
    pub enabled: bool,
}

/// Why a configuration file could not be edited. The file is then left as it was.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The text is not YAML at all.
    #[error(
        "line {line}, column {column}: not valid YAML: {message} (fix it first; `claude-lb config validate` shows every problem)"
    )]
    NotYaml {
        line: usize,
        column: usize,
        message: String,
    },
    /// The file holds something claude-lb cannot edit without risking the rest of it.
    #[error("{0}")]
    Unsupported(String),
    /// A provider with this name is already in the file.
    #[error(
        "a provider named {name:?} already exists (line {line}); pick another name, or remove it first with `claude-lb providers remove {name}`"
    )]
    Duplicate { name: String, line: usize },
    /// No provider with this name is in the file.
    #[error("no provider named {name:?} in the file{}{}", list_names(.known), suggestion(.name, .known))]
    NotFound { name: String, known: Vec<String> },
    /// The name is not a valid provider name.
    #[error("invalid provider name {0:?}: use letters, digits, `_`, `.` and `-` only")]
    InvalidName(String),
}

/// `, did you mean "NAME"?` for the closest of `known`, or nothing.
fn suggestion(name: &str, known: &[String]) -> String {
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    super::diagnostic::did_you_mean(name, &known)
}

fn list_names(names: &[String]) -> String {
    if names.is_empty() {
        " (it has none)".to_owned()
    } else {
        format!(
            " (it has: {})",
            names
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

pub use super::validate::is_provider_name as is_valid_name;

/// The names of the providers in `text`, in file order (items without a plain `name` are
/// left out). Used by the wizard to refuse a name already taken.
pub fn provider_names(text: &str) -> Result<Vec<String>, EditError> {
    let doc = Doc::parse(text)?;
    Ok(match doc.providers()? {
        Providers::Items { items, .. } => items.iter().filter_map(|i| i.name.clone()).collect(),
        _ => Vec::new(),
    })
}

/// Appends `provider` to the `providers:` list of `text` and returns the new text.
///
/// A file without `providers:` (an empty file, or one with only `settings:`) gets the key
/// appended at its end. The new item copies the indentation and line endings of the file, and
/// the blank line between items when the existing items have one.
pub fn add_provider(text: &str, provider: &NewProvider) -> Result<String, EditError> {
    if !is_valid_name(&provider.name) {
        return Err(EditError::InvalidName(provider.name.clone()));
    }
    let doc = Doc::parse(text)?;
    let eol = doc.eol();
    match doc.providers()? {
        Providers::Missing => {
            let mut out = String::with_capacity(text.len() + 256);
            out.push_str(text);
            if !out.is_empty() {
                if !out.ends_with('\n') {
                    out.push_str(eol);
                }
                if !ends_with_blank_line(&out) && doc.has_content() {
                    out.push_str(eol);
                }
            }
            out.push_str("providers:");
            out.push_str(eol);
            out.push_str(&render(provider, 2, 4, eol));
            Ok(out)
        }
        Providers::Empty { key_line, clear } => {
            let mut out = String::with_capacity(text.len() + 256);
            let insert_at = doc.src.line_end(key_line);
            let clear = if clear.is_empty() {
                insert_at..insert_at
            } else {
                clear
            };
            out.push_str(&text[..clear.start]);
            out.push_str(&text[clear.end..insert_at]);
            if !out.ends_with('\n') {
                out.push_str(eol);
            }
            out.push_str(&render(provider, 2, 4, eol));
            out.push_str(&text[insert_at..]);
            Ok(out)
        }
        Providers::Items { items, .. } => {
            if let Some(item) = items
                .iter()
                .find(|i| i.name.as_deref() == Some(&provider.name))
            {
                return Err(EditError::Duplicate {
                    name: provider.name.clone(),
                    line: item.dash_line + 1,
                });
            }
            // unwrap: `Items` is never empty.
            let last = items.last().expect("a non-empty list");
            let first = &items[0];
            let after = doc.trailing_comments(last.last_line, first.dash_col);
            let insert_at = doc.src.line_end(after);
            let blank_between = items.len() >= 2 && {
                let second = &items[1];
                second.block_start > 0 && doc.src.is_blank(second.block_start - 1)
            };
            let mut block = String::new();
            if blank_between {
                block.push_str(eol);
            }
            block.push_str(&render(
                provider,
                first.dash_col,
                first.key_col.max(first.dash_col + 2),
                eol,
            ));
            let mut out = String::with_capacity(text.len() + block.len() + 2);
            out.push_str(&text[..insert_at]);
            if !out.ends_with('\n') {
                out.push_str(eol);
            }
            out.push_str(&block);
            out.push_str(&text[insert_at..]);
            Ok(out)
        }
    }
}

/// Removes the provider `name` from `text`: its lines, the comment lines directly above it
/// and the comment lines indented under it. Returns the new text.
pub fn remove_provider(text: &str, name: &str) -> Result<String, EditError> {
    let doc = Doc::parse(text)?;
    let (item, position) = doc.find(name)?;
    let first = item.block_start;
    let last = doc.trailing_comments(item.last_line, item.dash_col);
    let mut remove = doc.src.line_start(first)..doc.src.line_end(last);
    // Keep the blank lines as they were between the remaining items: the one that separated
    // this item from the next (or, for the last item, from the previous) goes with it.
    let blank_after = last + 1 < doc.src.lines.len() && doc.src.is_blank(last + 1);
    let blank_before = first > 0 && doc.src.is_blank(first - 1);
    match position {
        Position::First if blank_after => remove.end = doc.src.line_end(last + 1),
        Position::Middle if blank_before && blank_after => {
            remove.end = doc.src.line_end(last + 1);
        }
        Position::Last if blank_before => remove.start = doc.src.line_start(first - 1),
        Position::Only | Position::First | Position::Middle | Position::Last => {}
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..remove.start]);
    out.push_str(&text[remove.end..]);
    Ok(out)
}

/// Sets `enabled:` of the provider `name` in `text`: rewrites its value when the key is
/// there, adds `enabled: false` when it is not (an absent key already means enabled).
/// Returns the new text, which equals `text` when nothing had to change.
pub fn set_enabled(text: &str, name: &str, enabled: bool) -> Result<String, EditError> {
    let doc = Doc::parse(text)?;
    let (item, _) = doc.find(name)?;
    if item.flow {
        return Err(EditError::Unsupported(format!(
            "provider {name:?} (line {}) is written in flow style (`{{...}}`); set `enabled: {enabled}` in it by hand",
            item.dash_line + 1
        )));
    }
    let word = if enabled { "true" } else { "false" };
    if let Some(value) = &item.enabled {
        if value.bytes.is_empty() {
            return Err(EditError::Unsupported(format!(
                "`enabled:` of provider {name:?} has no value; write `enabled: {enabled}` by hand"
            )));
        }
        if value.text == word {
            return Ok(text.to_owned());
        }
        let mut out = String::with_capacity(text.len() + 1);
        out.push_str(&text[..value.bytes.start]);
        out.push_str(word);
        out.push_str(&text[value.bytes.end..]);
        return Ok(out);
    }
    if enabled {
        return Ok(text.to_owned());
    }
    let insert_at = doc.src.line_end(item.last_line);
    let mut out = String::with_capacity(text.len() + item.key_col + 16);
    out.push_str(&text[..insert_at]);
    if !out.ends_with('\n') {
        out.push_str(doc.eol());
    }
    out.push_str(&" ".repeat(item.key_col));
    out.push_str("enabled: false");
    out.push_str(doc.eol());
    out.push_str(&text[insert_at..]);
    Ok(out)
}

/// The YAML lines for `provider` as one list item: `-` at `dash_col`, keys at `key_col`.
pub fn render(provider: &NewProvider, dash_col: usize, key_col: usize, eol: &str) -> String {
    let key_pad = " ".repeat(key_col);
    let mut out = String::new();
    let mut line = |first: bool, key: &str, value: &str| {
        if first {
            out.push_str(&" ".repeat(dash_col));
            out.push('-');
            out.push_str(&" ".repeat(key_col.saturating_sub(dash_col + 1).max(1)));
        } else {
            out.push_str(&key_pad);
        }
        out.push_str(key);
        out.push(':');
        if !value.is_empty() {
            out.push(' ');
            out.push_str(value);
        }
        out.push_str(eol);
    };
    line(true, "name", &scalar(&provider.name));
    line(false, "type", provider.kind.as_str());
    line(false, "auth_type", provider.auth_type.as_str());
    line(false, "auth_value", &quoted(&provider.auth_value));
    if let Some(url) = &provider.base_url {
        line(false, "base_url", &scalar(url));
    }
    if let Some(weight) = provider.weight {
        line(false, "weight", &weight.to_string());
    }
    if !provider.enabled {
        line(false, "enabled", "false");
    }
    if !provider.models.is_empty() {
        line(false, "models", "");
        for (pattern, model) in &provider.models {
            let _ = write!(
                out,
                "{key_pad}  {}: {}{eol}",
                quoted(pattern),
                quoted(model)
            );
        }
    }
    out
}

/// A YAML scalar for `value`: plain when that is unambiguous, double-quoted otherwise.
fn scalar(value: &str) -> String {
    let plain_safe = value
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/' | b':'))
        && !value.contains(": ")
        && !value.ends_with(':')
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        )
        && value.parse::<f64>().is_err();
    if plain_safe {
        value.to_owned()
    } else {
        quoted(value)
    }
}

/// A double-quoted YAML scalar for `value`, with the escapes YAML needs.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn ends_with_blank_line(text: &str) -> bool {
    let trimmed = text.trim_end_matches(['\n', '\r']);
    trimmed.is_empty() || text[trimmed.len()..].matches('\n').count() >= 2
}

/// The text split into lines, and the conversion from the parser's character offsets.
struct Source<'a> {
    text: &'a str,
    /// The byte offset of every character, then the text's length.
    char_bytes: Vec<usize>,
    /// Each line's bytes, its terminator included.
    lines: Vec<Range<usize>>,
}

impl<'a> Source<'a> {
    fn new(text: &'a str) -> Self {
        let mut char_bytes: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        char_bytes.push(text.len());
        let mut lines = Vec::new();
        let mut start = 0;
        for piece in text.split_inclusive('\n') {
            lines.push(start..start + piece.len());
            start += piece.len();
        }
        Self {
            text,
            char_bytes,
            lines,
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.char_bytes
            .get(char_index)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// The 0-based line holding byte `at`.
    fn line_of(&self, at: usize) -> usize {
        self.lines
            .partition_point(|l| l.end <= at)
            .min(self.lines.len().saturating_sub(1))
    }

    fn line_start(&self, line: usize) -> usize {
        self.lines.get(line).map_or(self.text.len(), |l| l.start)
    }

    fn line_end(&self, line: usize) -> usize {
        self.lines.get(line).map_or(self.text.len(), |l| l.end)
    }

    /// A line without its terminator.
    fn line_text(&self, line: usize) -> &'a str {
        self.lines
            .get(line)
            .map_or("", |l| self.text[l.clone()].trim_end_matches(['\n', '\r']))
    }

    fn is_blank(&self, line: usize) -> bool {
        self.line_text(line).trim().is_empty()
    }

    /// The column of a comment line's `#`, or `None` when the line is not only a comment.
    fn comment_col(&self, line: usize) -> Option<usize> {
        let text = self.line_text(line);
        let trimmed = text.trim_start_matches([' ', '\t']);
        trimmed.starts_with('#').then(|| text.len() - trimmed.len())
    }
}

/// A parsed node, reduced to what the edits need.
struct Node {
    /// The byte where the node starts (for a flow collection, its bracket).
    start: usize,
    /// The byte just after the node's last non-blank character.
    last: usize,
    /// Whether it is a `{...}` or `[...]` collection.
    flow: bool,
    kind: Kind,
}

enum Kind {
    Scalar(String, ScalarStyle),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Alias,
}

impl Node {
    fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(v, ScalarStyle::Plain) if matches!(v.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    fn get(&self, key: &str) -> Option<&Node> {
        let Kind::Map(pairs) = &self.kind else {
            return None;
        };
        pairs
            .iter()
            .find(|(k, _)| matches!(&k.kind, Kind::Scalar(s, _) if s == key))
            .map(|(_, v)| v)
    }
}

/// A scalar value's text and where it is.
struct ScalarAt {
    text: String,
    bytes: Range<usize>,
}

/// One item of the `providers:` list, located.
struct Item {
    name: Option<String>,
    /// The 0-based line of the item's `-`.
    dash_line: usize,
    /// The column of its `-`.
    dash_col: usize,
    /// The column of its keys.
    key_col: usize,
    /// The first line that belongs to it: its `-` line, or the first of the comment lines
    /// directly above it.
    block_start: usize,
    /// Its last line with content (not counting comments under it).
    last_line: usize,
    flow: bool,
    enabled: Option<ScalarAt>,
}

/// Where an item is in its list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Position {
    Only,
    First,
    Middle,
    Last,
}

enum Providers {
    /// No `providers:` key.
    Missing,
    /// `providers:` with no items (nothing, `~` or `[]`); `clear` is the text to delete from
    /// the key's line so that items can follow it.
    Empty {
        key_line: usize,
        clear: Range<usize>,
    },
    /// A block list with at least one item.
    Items { items: Vec<Item> },
}

/// A parsed file: its lines and its top-level node.
struct Doc<'a> {
    src: Source<'a>,
    root: Option<Node>,
}

/// How deeply collections may nest before the file is refused; a config needs four levels.
const MAX_DEPTH: usize = 32;

impl<'a> Doc<'a> {
    fn parse(text: &'a str) -> Result<Self, EditError> {
        if let Some(at) = text.find('\r').filter(|&i| !text[i..].starts_with("\r\n")) {
            let line = text[..at].matches('\n').count() + 1;
            return Err(EditError::Unsupported(format!(
                "line {line} ends with a lone carriage return (old Mac line endings); convert the file to LF or CRLF line endings first"
            )));
        }
        let src = Source::new(text);
        let mut events = Vec::new();
        for event in Parser::new_from_str(text) {
            match event {
                Ok((event, span)) => {
                    events.push((
                        event,
                        src.byte(span.start.index()),
                        src.byte(span.end.index()),
                    ));
                }
                Err(e) => {
                    return Err(EditError::NotYaml {
                        line: e.marker().line(),
                        column: e.marker().col() + 1,
                        message: e.info().to_owned(),
                    });
                }
            }
        }
        let documents = events
            .iter()
            .filter(|(e, _, _)| matches!(e, Event::DocumentStart(_)))
            .count();
        if documents > 1 {
            return Err(EditError::Unsupported(
                "the file holds more than one YAML document (`---`); the config must be a single document".to_owned(),
            ));
        }
        let mut iter = events.into_iter().filter(|(e, _, _)| {
            !matches!(
                e,
                Event::StreamStart
                    | Event::StreamEnd
                    | Event::DocumentStart(_)
                    | Event::DocumentEnd
                    | Event::Nothing
            )
        });
        let root = match iter.next() {
            None => None,
            Some(first) => Some(build(first, &mut iter, &src, 0)?),
        };
        Ok(Self { src, root })
    }

    /// The line ending the file uses (that of its first line).
    fn eol(&self) -> &'static str {
        match self.src.lines.first() {
            Some(l) if self.src.text[l.clone()].ends_with("\r\n") => "\r\n",
            _ => "\n",
        }
    }

    /// Whether the file has a non-null top-level node.
    fn has_content(&self) -> bool {
        self.root.as_ref().is_some_and(|r| !r.is_null())
    }

    fn providers(&self) -> Result<Providers, EditError> {
        let root = match &self.root {
            None => return Ok(Providers::Missing),
            Some(root) if root.is_null() => return Ok(Providers::Missing),
            Some(root) => root,
        };
        let Kind::Map(pairs) = &root.kind else {
            return Err(EditError::Unsupported(
                "the file is not a mapping with `providers:` and `settings:` at the top; fix it first (`claude-lb config validate` says what is wrong)".to_owned(),
            ));
        };
        if root.flow
            || self
                .src
                .line_text(self.src.line_of(root.start))
                .starts_with([' ', '\t'])
        {
            return Err(EditError::Unsupported(
                "the top-level mapping is written in flow style or indented; edit this file by hand".to_owned(),
            ));
        }
        let mut found = pairs
            .iter()
            .filter(|(k, _)| matches!(&k.kind, Kind::Scalar(s, _) if s == "providers"));
        let Some((key, value)) = found.next() else {
            return Ok(Providers::Missing);
        };
        if found.next().is_some() {
            return Err(EditError::Unsupported(
                "`providers:` appears twice at the top of the file; keep one".to_owned(),
            ));
        }
        let key_line = self.src.line_of(key.start);
        if value.is_null() {
            if value.last == value.start {
                return Ok(Providers::Empty {
                    key_line,
                    clear: 0..0,
                });
            }
            if self.src.line_of(value.start) != key_line {
                return Err(EditError::Unsupported(format!(
                    "`providers:` (line {}) has its empty value on another line; write `providers:` alone on its line",
                    key_line + 1
                )));
            }
            return Ok(Providers::Empty {
                key_line,
                clear: self.after_colon(key.last)..value.last,
            });
        }
        match &value.kind {
            Kind::Seq(items) if value.flow => {
                if items.is_empty() && self.src.line_of(value.last) == key_line {
                    Ok(Providers::Empty {
                        key_line,
                        clear: self.after_colon(key.last)..value.last,
                    })
                } else {
                    Err(EditError::Unsupported(format!(
                        "`providers:` (line {}) is written in flow style (`[...]`); rewrite it as a block list (`- name: ...` lines) to edit it with claude-lb",
                        key_line + 1
                    )))
                }
            }
            Kind::Seq(items) => {
                let items = items
                    .iter()
                    .map(|node| self.item(node))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Providers::Items { items })
            }
            _ => Err(EditError::Unsupported(format!(
                "`providers:` (line {}) is not a list; fix it first (`claude-lb config validate` says what is wrong)",
                key_line + 1
            ))),
        }
    }

    /// The byte just after the `:` that follows a key ending at `key_end`.
    fn after_colon(&self, key_end: usize) -> usize {
        self.src.text[key_end..]
            .find(':')
            .map_or(key_end, |i| key_end + i + 1)
    }

    fn item(&self, node: &Node) -> Result<Item, EditError> {
        let line = self.src.line_of(node.start);
        if matches!(node.kind, Kind::Alias) {
            return Err(EditError::Unsupported(format!(
                "the provider on line {} is an alias (`*name`); edit this file by hand",
                line + 1
            )));
        }
        // The item's `-` is the first character before it that is not blank.
        let before = &self.src.text[..node.start];
        let dash = before.trim_end_matches([' ', '\t', '\r', '\n']);
        if !dash.ends_with('-') {
            return Err(EditError::Unsupported(format!(
                "cannot find the `-` of the provider on line {}; edit this file by hand",
                line + 1
            )));
        }
        let dash_at = dash.len() - 1;
        let dash_line = self.src.line_of(dash_at);
        let dash_col = self.src.text[self.src.line_start(dash_line)..dash_at]
            .chars()
            .count();
        if !self.src.text[self.src.line_start(dash_line)..dash_at]
            .chars()
            .all(|c| c == ' ')
        {
            return Err(EditError::Unsupported(format!(
                "the provider on line {} does not start its own line; edit this file by hand",
                dash_line + 1
            )));
        }
        let key_col = self.src.text[self.src.line_start(line)..node.start]
            .chars()
            .count();
        // Comment lines directly above the item, at its indentation and with no blank line
        // between, belong to it (deeper ones are the previous item's commented-out keys).
        let mut block_start = dash_line;
        while block_start > 0
            && self
                .src
                .comment_col(block_start - 1)
                .is_some_and(|c| c == dash_col)
        {
            block_start -= 1;
        }
        let name = match node.get("name").map(|n| &n.kind) {
            Some(Kind::Scalar(s, _)) => Some(s.clone()),
            _ => None,
        };
        let enabled = node.get("enabled").and_then(|n| match &n.kind {
            Kind::Scalar(s, _) => Some(ScalarAt {
                text: s.clone(),
                bytes: n.start..n.last,
            }),
            _ => None,
        });
        Ok(Item {
            name,
            dash_line,
            dash_col,
            key_col,
            block_start,
            last_line: self
                .src
                .line_of(node.last.saturating_sub(1).max(node.start)),
            flow: node.flow,
            enabled,
        })
    }

    /// The provider called `name`, and where it is in the list.
    fn find(&self, name: &str) -> Result<(Item, Position), EditError> {
        let items = match self.providers()? {
            Providers::Items { items } => items,
            Providers::Missing | Providers::Empty { .. } => Vec::new(),
        };
        let known: Vec<String> = items.iter().filter_map(|i| i.name.clone()).collect();
        let count = items.len();
        let mut matching = items
            .into_iter()
            .enumerate()
            .filter(|(_, i)| i.name.as_deref() == Some(name));
        let Some((index, item)) = matching.next() else {
            return Err(EditError::NotFound {
                name: name.to_owned(),
                known,
            });
        };
        if let Some((_, other)) = matching.next() {
            return Err(EditError::Unsupported(format!(
                "two providers are named {name:?} (lines {} and {}); rename or remove one by hand",
                item.dash_line + 1,
                other.dash_line + 1
            )));
        }
        let position = match (index, count) {
            (_, 1) => Position::Only,
            (0, _) => Position::First,
            (i, n) if i + 1 == n => Position::Last,
            _ => Position::Middle,
        };
        Ok((item, position))
    }

    /// The last line of an item that ends on `last_line`, counting the comment lines right
    /// under it that are indented deeper than its `-` (commented-out keys of that item).
    fn trailing_comments(&self, last_line: usize, dash_col: usize) -> usize {
        let mut line = last_line;
        while line + 1 < self.src.lines.len()
            && self.src.comment_col(line + 1).is_some_and(|c| c > dash_col)
        {
            line += 1;
        }
        line
    }
}

type Located<'e> = (Event<'e>, usize, usize);

/// The byte just after a scalar that starts at `start`. The parser's end marker of a quoted
/// scalar reaches over a comment that follows it, so quoted scalars are scanned here.
fn scalar_end(text: &str, start: usize, span_end: usize, style: ScalarStyle) -> usize {
    let bytes = text.as_bytes();
    match style {
        ScalarStyle::DoubleQuoted => {
            let mut i = start + 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => return i + 1,
                    _ => i += 1,
                }
            }
            text.len()
        }
        ScalarStyle::SingleQuoted => {
            let mut i = start + 1;
            while i < bytes.len() {
                match (bytes[i], bytes.get(i + 1)) {
                    (b'\'', Some(b'\'')) => i += 2,
                    (b'\'', _) => return i + 1,
                    _ => i += 1,
                }
            }
            text.len()
        }
        _ => {
            let slice = &text[start..span_end];
            let slice = match (slice.find(" #"), slice.find("\t#")) {
                (Some(a), Some(b)) => &slice[..a.min(b)],
                (Some(a), None) | (None, Some(a)) => &slice[..a],
                (None, None) => slice,
            };
            start + slice.trim_end().len()
        }
    }
}

/// The byte just after the bracket that closes the flow collection opening at `start`.
fn flow_end(text: &str, start: usize) -> Result<usize, EditError> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            b'"' => {
                i = scalar_end(text, i, i, ScalarStyle::DoubleQuoted);
                continue;
            }
            b'\'' => {
                i = scalar_end(text, i, i, ScalarStyle::SingleQuoted);
                continue;
            }
            b'#' if i > 0 && matches!(bytes[i - 1], b' ' | b'\t' | b'\n') => {
                i = text[i..].find('\n').map_or(text.len(), |n| i + n);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Err(EditError::Unsupported(
        "a `[` or `{` is never closed".to_owned(),
    ))
}

/// Builds the node that starts with `first`, reading its children from `rest`.
fn build<'e>(
    first: Located<'e>,
    rest: &mut impl Iterator<Item = Located<'e>>,
    src: &Source<'_>,
    depth: usize,
) -> Result<Node, EditError> {
    if depth > MAX_DEPTH {
        return Err(EditError::Unsupported(format!(
            "nested more than {MAX_DEPTH} levels deep; a config never is"
        )));
    }
    let (event, start, end) = first;
    let flow_at = |at: usize| src.text[at..].starts_with(['[', '{']);
    let truncated = || EditError::Unsupported("the YAML ends unexpectedly".to_owned());
    match event {
        Event::Scalar(value, style, ..) => {
            let last = scalar_end(src.text, start, end.max(start), style);
            Ok(Node {
                start,
                last,
                flow: false,
                kind: Kind::Scalar(value.into_owned(), style),
            })
        }
        Event::Alias(_) => Ok(Node {
            start,
            last: end,
            flow: false,
            kind: Kind::Alias,
        }),
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            loop {
                let next = rest.next().ok_or_else(truncated)?;
                if matches!(next.0, Event::SequenceEnd) {
                    let flow = flow_at(start);
                    let last = if flow {
                        flow_end(src.text, start)?
                    } else {
                        items.last().map_or(start, |n: &Node| n.last)
                    };
                    return Ok(Node {
                        start,
                        last,
                        flow,
                        kind: Kind::Seq(items),
                    });
                }
                items.push(build(next, rest, src, depth + 1)?);
            }
        }
        Event::MappingStart(..) => {
            let mut pairs = Vec::new();
            loop {
                let next = rest.next().ok_or_else(truncated)?;
                if matches!(next.0, Event::MappingEnd) {
                    let flow = flow_at(start);
                    let last = if flow {
                        flow_end(src.text, start)?
                    } else {
                        pairs.last().map_or(start, |(k, v): &(Node, Node)| {
                            // An empty value's position is that of the next token, which
                            // may be lines further down: the key ends the pair then.
                            if v.last > v.start {
                                v.last.max(k.last)
                            } else {
                                k.last
                            }
                        })
                    };
                    return Ok(Node {
                        start,
                        last,
                        flow,
                        kind: Kind::Map(pairs),
                    });
                }
                let key = build(next, rest, src, depth + 1)?;
                let value = build(rest.next().ok_or_else(truncated)?, rest, src, depth + 1)?;
                pairs.push((key, value));
            }
        }
        _ => Err(truncated()),
    }
}

#[cfg(test)]
mod tests;
