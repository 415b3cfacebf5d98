//! The one module that reads YAML: everything that knows the YAML crates (`saphyr` and
//! `saphyr-parser`) is here, and the rest of `config` works on what it returns.
//!
//! A config file is read in two shapes, for two jobs, from the same parser:
//!
//! - the **value tree** ([`documents`], [`Node`]) that [`super::raw`] walks to load a config:
//!   saphyr's loader, which resolves anchors and aliases and refuses duplicate keys, with every
//!   scalar kept as the text the user wrote (`early_parse(false)`) and the line and column
//!   where each node starts;
//! - the **located tree** ([`locate`], [`Located`]) that [`super::edit`] splices lines with:
//!   every node's byte extent (where it starts and just after its last character, which the
//!   loader does not keep: the parser's end marker of a quoted scalar reaches over a comment
//!   that follows it), whether a collection is flow style, and aliases left as aliases, since
//!   an edit must not expand them.
//!
//! Both refuse a file nested more than [`MAX_DEPTH`] levels deep: the parser's own loader
//! recurses once per level, so `- - - -` repeated could overflow the stack.

use std::ops::Range;

use saphyr::{MarkedYaml, Marker, ScalarStyle, ScanError, YamlData, YamlLoader};
use saphyr_parser::{Event, Parser, SpannedEventReceiver};

use super::diagnostic::{Pos, Problems};

/// Why a file could not be located for an edit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum LocateError {
    /// The text is not YAML: where the parser stopped, and its words.
    NotYaml {
        line: usize,
        column: usize,
        message: String,
    },
    /// The file holds something an edit cannot handle safely.
    Unsupported(String),
}

/// A node of the value tree, with the position where it starts.
pub(super) type Node<'a> = MarkedYaml<'a>;

/// How deeply collections may nest; a real config needs four levels.
pub(super) const MAX_DEPTH: usize = 32;

/// The YAML documents in `text` (empty ones left out), or `None` (with the problem recorded)
/// when it is not YAML.
pub(super) fn documents<'a>(text: &'a str, problems: &mut Problems) -> Option<Vec<Node<'a>>> {
    let mut loader: YamlLoader<'a, Node<'a>> = YamlLoader::default();
    loader.early_parse(false);
    // The parser's own `load` recurses once per nesting level, so a file of nested `- - - -`
    // could overflow the stack: feed the loader event by event instead, with a depth limit.
    let mut depth = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(event) => event,
            Err(e) => {
                scan_error(&e, problems);
                return None;
            }
        };
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            problems.error(
                marker_pos(span.start),
                "",
                format!("nested more than {MAX_DEPTH} levels deep; a config never is"),
            );
            return None;
        }
        let end = event == Event::StreamEnd;
        loader.on_event(event, span);
        if end {
            break;
        }
    }
    if let Some(e) = loader.error() {
        scan_error(e, problems);
        return None;
    }
    let mut documents = loader.into_documents();
    documents.retain(|d| !matches!(d.data, YamlData::BadValue));
    Some(documents)
}

fn scan_error(e: &ScanError, problems: &mut Problems) {
    let info = e.info();
    let info = match info {
        "duplicated key in mapping" => "a key appears twice in the same mapping",
        "recursion limit exceeded" => "nested too deeply",
        // The parser's words for a misindented line, said as what to do about it.
        "mapping values are not allowed in this context" => {
            "this `key: value` is indented deeper than the keys beside it, so it reads as part of the value above; line it up with those keys (or quote a value that contains \": \")"
        }
        _ if info.contains("did not find expected '-' indicator") => {
            "this line lines up with nothing above it: it is neither a new item of the list above (which would start with `-`) nor a key beside the ones it belongs with; indent it exactly like those keys"
        }
        _ if info.contains("block mapping, did not find expected key") => {
            "this line is indented differently from the keys of the mapping above it; line it up with them (YAML nests by indentation, in spaces)"
        }
        other => other,
    };
    let hint = if info.contains("tab") {
        " (indent with spaces: YAML does not allow tabs in indentation)"
    } else {
        ""
    };
    problems.error(
        marker_pos(*e.marker()),
        "",
        format!("not valid YAML: {info}{hint}"),
    );
}

fn marker_pos(m: Marker) -> Pos {
    // saphyr's lines are 1-based and its columns 0-based.
    Pos::new(m.line(), m.col() + 1)
}

pub(super) fn pos(node: &Node<'_>) -> Pos {
    marker_pos(node.span.start)
}

/// Looks through a tag (`!foo [..]`) to the node it applies to.
pub(super) fn untag<'n, 'a>(mut node: &'n Node<'a>) -> &'n Node<'a> {
    while let YamlData::Tagged(_, inner) = &node.data {
        node = inner;
    }
    node
}

pub(super) fn is_null(node: &Node<'_>) -> bool {
    match &node.data {
        YamlData::Representation(text, ScalarStyle::Plain, _) => {
            matches!(&**text, "" | "~" | "null" | "Null" | "NULL")
        }
        _ => false,
    }
}

/// What a node is, for messages ("found a list").
pub(super) fn describe(node: &Node<'_>) -> &'static str {
    let node = untag(node);
    if is_null(node) {
        return "nothing";
    }
    match &node.data {
        YamlData::Sequence(_) => "a list",
        YamlData::Mapping(_) => "a mapping",
        YamlData::Representation(..) | YamlData::Value(_) => "a single value",
        _ => "an unsupported value",
    }
}

/// The text of a scalar (looking through a tag), as written: `None` for a list or a mapping.
pub(super) fn scalar<'n>(node: &'n Node<'_>) -> Option<&'n str> {
    match &untag(node).data {
        YamlData::Representation(text, ..) => Some(text),
        _ => None,
    }
}

/// The items of a list (looking through a tag), or `None` when `node` is not a list.
pub(super) fn sequence<'n, 'a>(node: &'n Node<'a>) -> Option<&'n [Node<'a>]> {
    match &untag(node).data {
        YamlData::Sequence(items) => Some(items),
        _ => None,
    }
}

/// The `key: value` pairs of a mapping (looking through a tag), in file order, or `None` when
/// `node` is not a mapping.
pub(super) fn mapping<'n, 'a>(node: &'n Node<'a>) -> Option<Vec<(&'n Node<'a>, &'n Node<'a>)>> {
    match &untag(node).data {
        YamlData::Mapping(map) => Some(map.iter().collect()),
        _ => None,
    }
}

/// The text split into lines, and the conversion from the parser's character offsets.
pub(super) struct Source<'a> {
    pub(super) text: &'a str,
    /// The byte offset of every character, then the text's length.
    char_bytes: Vec<usize>,
    /// Each line's bytes, its terminator included.
    pub(super) lines: Vec<Range<usize>>,
}

impl<'a> Source<'a> {
    pub(super) fn new(text: &'a str) -> Self {
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
    pub(super) fn line_of(&self, at: usize) -> usize {
        self.lines
            .partition_point(|l| l.end <= at)
            .min(self.lines.len().saturating_sub(1))
    }

    pub(super) fn line_start(&self, line: usize) -> usize {
        self.lines.get(line).map_or(self.text.len(), |l| l.start)
    }

    pub(super) fn line_end(&self, line: usize) -> usize {
        self.lines.get(line).map_or(self.text.len(), |l| l.end)
    }

    /// A line without its terminator.
    pub(super) fn line_text(&self, line: usize) -> &'a str {
        self.lines
            .get(line)
            .map_or("", |l| self.text[l.clone()].trim_end_matches(['\n', '\r']))
    }

    pub(super) fn is_blank(&self, line: usize) -> bool {
        self.line_text(line).trim().is_empty()
    }

    /// The column of a comment line's `#`, or `None` when the line is not only a comment.
    pub(super) fn comment_col(&self, line: usize) -> Option<usize> {
        let text = self.line_text(line);
        let trimmed = text.trim_start_matches([' ', '\t']);
        trimmed.starts_with('#').then(|| text.len() - trimmed.len())
    }
}

/// A node of the located tree, reduced to what a text edit needs: where it is, in bytes.
pub(super) struct Located {
    /// The byte where the node starts (for a flow collection, its bracket).
    pub(super) start: usize,
    /// The byte just after the node's last non-blank character.
    pub(super) last: usize,
    /// Whether it is a `{...}` or `[...]` collection.
    pub(super) flow: bool,
    pub(super) kind: Kind,
}

pub(super) enum Kind {
    /// The value, and whether it was written plain (unquoted).
    Scalar(String, bool),
    Seq(Vec<Located>),
    Map(Vec<(Located, Located)>),
    Alias,
}

impl Located {
    pub(super) fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(v, true) if matches!(v.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub(super) fn get(&self, key: &str) -> Option<&Located> {
        let Kind::Map(pairs) = &self.kind else {
            return None;
        };
        pairs
            .iter()
            .find(|(k, _)| matches!(&k.kind, Kind::Scalar(s, _) if s == key))
            .map(|(_, v)| v)
    }
}

/// The located tree of the single document in `src` (`None` when it holds no node).
pub(super) fn locate(src: &Source<'_>) -> Result<Option<Located>, LocateError> {
    let mut events = Vec::new();
    for event in Parser::new_from_str(src.text) {
        match event {
            Ok((event, span)) => {
                events.push((
                    event,
                    src.byte(span.start.index()),
                    src.byte(span.end.index()),
                ));
            }
            Err(e) => {
                return Err(LocateError::NotYaml {
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
        return Err(LocateError::Unsupported(
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
        Some(first) => Some(build(first, &mut iter, src, 0)?),
    };
    Ok(root)
}

type LocatedEvent<'e> = (Event<'e>, usize, usize);

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
fn flow_end(text: &str, start: usize) -> Result<usize, LocateError> {
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
    Err(LocateError::Unsupported(
        "a `[` or `{` is never closed".to_owned(),
    ))
}

/// Builds the node that starts with `first`, reading its children from `rest`.
fn build<'e>(
    first: LocatedEvent<'e>,
    rest: &mut impl Iterator<Item = LocatedEvent<'e>>,
    src: &Source<'_>,
    depth: usize,
) -> Result<Located, LocateError> {
    if depth > MAX_DEPTH {
        return Err(LocateError::Unsupported(format!(
            "nested more than {MAX_DEPTH} levels deep; a config never is"
        )));
    }
    let (event, start, end) = first;
    let flow_at = |at: usize| src.text[at..].starts_with(['[', '{']);
    let truncated = || LocateError::Unsupported("the YAML ends unexpectedly".to_owned());
    match event {
        Event::Scalar(value, style, ..) => {
            let last = scalar_end(src.text, start, end.max(start), style);
            Ok(Located {
                start,
                last,
                flow: false,
                kind: Kind::Scalar(value.into_owned(), style == ScalarStyle::Plain),
            })
        }
        Event::Alias(_) => Ok(Located {
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
                        items.last().map_or(start, |n: &Located| n.last)
                    };
                    return Ok(Located {
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
                        pairs.last().map_or(start, |(k, v): &(Located, Located)| {
                            // An empty value's position is that of the next token, which
                            // may be lines further down: the key ends the pair then.
                            if v.last > v.start {
                                v.last.max(k.last)
                            } else {
                                k.last
                            }
                        })
                    };
                    return Ok(Located {
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
