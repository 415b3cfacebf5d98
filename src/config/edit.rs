//! Text-level edits of a configuration file: add a provider, remove one, enable or disable one;
//! add a client or remove one.
//!
//! A serde round trip would drop the user's comments and rewrite their layout, so these
//! functions never re-serialise the file. They locate it with [`super::yaml::locate`] to learn where
//! the `providers:` (or `clients:`) list and each of its items are (character offsets, converted
//! to byte offsets), then splice whole lines of new text in or out. Everything outside the spliced
//! lines stays byte for byte as it was: comments, blank lines, quoting, trailing spaces, CRLF
//! line endings and a byte order mark included.
//!
//! What cannot be edited safely (a flow-style `providers: [...]` list, several YAML documents,
//! a provider written as an alias) is refused with an [`EditError`] that says why, rather than
//! risking a mangled file. These functions are pure: they take the text and return the new
//! text; [`super::save`] validates and writes it.

use std::fmt::Write as _;
use std::ops::Range;

use super::yaml::{self, Kind, LocateError, Located, Source};
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

/// A client to append to `clients:`, with its values as they will be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewClient {
    /// The unique name (`[A-Za-z0-9_.-]+`).
    pub name: String,
    /// The SHA-256 of the key, as 64 lowercase hexadecimal digits.
    pub key_sha256: String,
    /// The providers it may reach; empty leaves `providers` out (all of them).
    pub providers: Vec<String>,
    /// The model patterns it may request; empty leaves `models` out (any).
    pub models: Vec<String>,
    pub max_concurrent: Option<u32>,
    pub requests_per_minute: Option<u32>,
}

/// The top-level list an edit applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Providers,
    Clients,
}

impl Section {
    /// The top-level key: `providers` or `clients`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Providers => "providers",
            Self::Clients => "clients",
        }
    }

    /// One item of it: `provider` or `client`.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Providers => "provider",
            Self::Clients => "client",
        }
    }
}

impl From<LocateError> for EditError {
    fn from(e: LocateError) -> Self {
        match e {
            LocateError::NotYaml {
                line,
                column,
                message,
            } => Self::NotYaml {
                line,
                column,
                message,
            },
            LocateError::Unsupported(reason) => Self::Unsupported(reason),
        }
    }
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
    /// An item with this name is already in the list.
    #[error(
        "a {} named {name:?} already exists (line {line}); pick another name, or remove it first with `claude-lb {} remove {name}`",
        .what.noun(), .what.key()
    )]
    Duplicate {
        what: Section,
        name: String,
        line: usize,
    },
    /// No item with this name is in the list.
    #[error("no {} named {name:?} in the file{}{}", .what.noun(), list_names(.known), suggestion(.name, .known))]
    NotFound {
        what: Section,
        name: String,
        known: Vec<String>,
    },
    /// The name is not a valid name.
    #[error("invalid {} name {name:?}: use letters, digits, `_`, `.` and `-` only", .what.noun())]
    InvalidName { what: Section, name: String },
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
    names(text, Section::Providers)
}

/// The names of the clients in `text`, in file order; empty when there is no `clients:`.
pub fn client_names(text: &str) -> Result<Vec<String>, EditError> {
    names(text, Section::Clients)
}

fn names(text: &str, what: Section) -> Result<Vec<String>, EditError> {
    let doc = Doc::parse(text)?;
    Ok(match doc.list(what)? {
        List::Items { items, .. } => items.iter().filter_map(|i| i.name.clone()).collect(),
        _ => Vec::new(),
    })
}

/// Appends `provider` to the `providers:` list of `text` and returns the new text.
///
/// A file without `providers:` (an empty file, or one with only `settings:`) gets the key
/// appended at its end. The new item copies the indentation and line endings of the file, and
/// the blank line between items when the existing items have one.
pub fn add_provider(text: &str, provider: &NewProvider) -> Result<String, EditError> {
    add_item(
        text,
        Section::Providers,
        &provider.name,
        |dash_col, key_col, eol| render(provider, dash_col, key_col, eol),
    )
}

/// Appends `client` to the `clients:` list of `text` and returns the new text, as
/// [`add_provider`] does for a provider; a file without `clients:` gets the key at its end.
pub fn add_client(text: &str, client: &NewClient) -> Result<String, EditError> {
    add_item(
        text,
        Section::Clients,
        &client.name,
        |dash_col, key_col, eol| render_client(client, dash_col, key_col, eol),
    )
}

/// Appends the item `render(dash_col, key_col, eol)` named `name` to the list `what`.
fn add_item(
    text: &str,
    what: Section,
    name: &str,
    render: impl Fn(usize, usize, &str) -> String,
) -> Result<String, EditError> {
    if !is_valid_name(name) {
        return Err(EditError::InvalidName {
            what,
            name: name.to_owned(),
        });
    }
    let doc = Doc::parse(text)?;
    let eol = doc.eol();
    match doc.list(what)? {
        List::Missing => {
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
            out.push_str(what.key());
            out.push(':');
            out.push_str(eol);
            out.push_str(&render(2, 4, eol));
            Ok(out)
        }
        List::Empty { key_line, clear } => {
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
            out.push_str(&render(2, 4, eol));
            out.push_str(&text[insert_at..]);
            Ok(out)
        }
        List::Items { items, .. } => {
            if let Some(item) = items.iter().find(|i| i.name.as_deref() == Some(name)) {
                return Err(EditError::Duplicate {
                    what,
                    name: name.to_owned(),
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
    remove_item(text, Section::Providers, name)
}

/// Removes the client `name` from `text`, as [`remove_provider`] removes a provider.
pub fn remove_client(text: &str, name: &str) -> Result<String, EditError> {
    remove_item(text, Section::Clients, name)
}

fn remove_item(text: &str, what: Section, name: &str) -> Result<String, EditError> {
    let doc = Doc::parse(text)?;
    let (item, position) = doc.find(what, name)?;
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
    let (item, _) = doc.find(Section::Providers, name)?;
    if item.flow {
        return Err(EditError::Unsupported(format!(
            "provider {name:?} (line {}) is written in flow style (`{{...}}`); set `enabled: {enabled}` in it by hand",
            item.dash_line + 1
        )));
    }
    if item.enabled_unusual {
        return Err(EditError::Unsupported(format!(
            "`enabled:` of provider {name:?} (line {}) is a YAML alias, anchor or tag, not a plain true or false; set `enabled: {enabled}` by hand",
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

/// The YAML lines for `client` as one list item: `-` at `dash_col`, keys at `key_col`.
pub fn render_client(client: &NewClient, dash_col: usize, key_col: usize, eol: &str) -> String {
    let mut out = String::new();
    out.push_str(&" ".repeat(dash_col));
    out.push('-');
    out.push_str(&" ".repeat(key_col.saturating_sub(dash_col + 1).max(1)));
    let _ = write!(out, "name: {}{eol}", scalar(&client.name));
    let key_pad = " ".repeat(key_col);
    let _ = write!(
        out,
        "{key_pad}key_sha256: {}{eol}",
        quoted(&client.key_sha256)
    );
    let flow = |values: &[String], quote: fn(&str) -> String| {
        values
            .iter()
            .map(|v| quote(v))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !client.providers.is_empty() {
        let _ = write!(
            out,
            "{key_pad}providers: [{}]{eol}",
            flow(&client.providers, scalar)
        );
    }
    if !client.models.is_empty() {
        let _ = write!(
            out,
            "{key_pad}models: [{}]{eol}",
            flow(&client.models, quoted)
        );
    }
    if let Some(n) = client.max_concurrent {
        let _ = write!(out, "{key_pad}max_concurrent: {n}{eol}");
    }
    if let Some(n) = client.requests_per_minute {
        let _ = write!(out, "{key_pad}requests_per_minute: {n}{eol}");
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

/// A scalar value's text and where it is.
struct ScalarAt {
    text: String,
    bytes: Range<usize>,
}

/// One item of a `providers:` or `clients:` list, located.
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
    /// Its `enabled:` is an alias, is anchored or has a tag.
    enabled_unusual: bool,
}

/// Where an item is in its list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Position {
    Only,
    First,
    Middle,
    Last,
}

enum List {
    /// No such key.
    Missing,
    /// The key with no items (nothing, `~` or `[]`); `clear` is the text to delete from
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
    root: Option<Located>,
}

impl<'a> Doc<'a> {
    fn parse(text: &'a str) -> Result<Self, EditError> {
        if let Some(at) = text.find('\r').filter(|&i| !text[i..].starts_with("\r\n")) {
            let line = text[..at].matches('\n').count() + 1;
            return Err(EditError::Unsupported(format!(
                "line {line} ends with a lone carriage return (old Mac line endings); convert the file to LF or CRLF line endings first"
            )));
        }
        let src = Source::new(text);
        let root = yaml::locate(&src)?;
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

    /// The top-level list `what`.
    fn list(&self, what: Section) -> Result<List, EditError> {
        let key_name = what.key();
        let root = match &self.root {
            None => return Ok(List::Missing),
            Some(root) if root.is_null() => return Ok(List::Missing),
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
            .filter(|(k, _)| matches!(&k.kind, Kind::Scalar(s, _) if s == key_name));
        let Some((key, value)) = found.next() else {
            return Ok(List::Missing);
        };
        if found.next().is_some() {
            return Err(EditError::Unsupported(format!(
                "`{key_name}:` appears twice at the top of the file; keep one"
            )));
        }
        let key_line = self.src.line_of(key.start);
        if value.is_null() {
            if value.last == value.start {
                return Ok(List::Empty {
                    key_line,
                    clear: 0..0,
                });
            }
            if self.src.line_of(value.start) != key_line {
                return Err(EditError::Unsupported(format!(
                    "`{key_name}:` (line {}) has its empty value on another line; write `{key_name}:` alone on its line",
                    key_line + 1
                )));
            }
            return Ok(List::Empty {
                key_line,
                clear: self.after_colon(key.last)..value.last,
            });
        }
        match &value.kind {
            Kind::Seq(items) if value.flow => {
                if items.is_empty() && self.src.line_of(value.last) == key_line {
                    Ok(List::Empty {
                        key_line,
                        clear: self.after_colon(key.last)..value.last,
                    })
                } else {
                    Err(EditError::Unsupported(format!(
                        "`{key_name}:` (line {}) is written in flow style (`[...]`); rewrite it as a block list (`- name: ...` lines) to edit it with claude-lb",
                        key_line + 1
                    )))
                }
            }
            Kind::Seq(items) => {
                let items = items
                    .iter()
                    .map(|node| self.item(node, what))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(List::Items { items })
            }
            _ => Err(EditError::Unsupported(format!(
                "`{key_name}:` (line {}) is not a list; fix it first (`claude-lb config validate` says what is wrong)",
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

    fn item(&self, node: &Located, what: Section) -> Result<Item, EditError> {
        let noun = what.noun();
        let line = self.src.line_of(node.start);
        if matches!(node.kind, Kind::Alias) {
            return Err(EditError::Unsupported(format!(
                "the {noun} on line {} is an alias (`*name`); edit this file by hand",
                line + 1
            )));
        }
        // The item's `-` is the first character before it that is not blank.
        let before = &self.src.text[..node.start];
        let dash = before.trim_end_matches([' ', '\t', '\r', '\n']);
        if !dash.ends_with('-') {
            return Err(EditError::Unsupported(format!(
                "cannot find the `-` of the {noun} on line {}; edit this file by hand",
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
                "the {noun} on line {} does not start its own line; edit this file by hand",
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
        let enabled_node = node.get("enabled");
        // An alias, an anchor or a tag is not a value a plain edit can replace.
        let enabled_unusual = enabled_node.is_some_and(|n| {
            !matches!(n.kind, Kind::Scalar(..))
                || matches!(
                    self.src.text.as_bytes().get(n.start),
                    Some(b'&' | b'*' | b'!')
                )
        });
        let enabled = enabled_node.and_then(|n| match &n.kind {
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
            enabled_unusual,
        })
    }

    /// The item of `what` called `name`, and where it is in the list.
    fn find(&self, what: Section, name: &str) -> Result<(Item, Position), EditError> {
        let items = match self.list(what)? {
            List::Items { items } => items,
            List::Missing | List::Empty { .. } => Vec::new(),
        };
        let known: Vec<String> = items.iter().filter_map(|i| i.name.clone()).collect();
        let count = items.len();
        let mut matching = items
            .into_iter()
            .enumerate()
            .filter(|(_, i)| i.name.as_deref() == Some(name));
        let Some((index, item)) = matching.next() else {
            return Err(EditError::NotFound {
                what,
                name: name.to_owned(),
                known,
            });
        };
        if let Some((_, other)) = matching.next() {
            return Err(EditError::Unsupported(format!(
                "two {}s are named {name:?} (lines {} and {}); rename or remove one by hand",
                what.noun(),
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

#[cfg(test)]
mod tests;
