//! `tracing` logs on stderr, filtered by `CLAUDE_LB_LOG`, the `-v`/`-q` flags and the config's
//! `log_level`.
//!
//! Precedence: `CLAUDE_LB_LOG` (a full `tracing` filter such as `debug` or
//! `claude_lb=trace,hyper=info`) wins. Otherwise the base level is the config's `log_level`
//! (once a command has loaded one; `warn` before), and each `-v` raises it one step
//! (`warn` → `info` → `debug` → `trace`) while `-q` lowers it to `error`. The filter sits behind
//! a reload handle, so `serve` can apply a new `log_level` after a config reload with
//! [`set_config_level`].

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::registry::LookupSpan;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

use crate::config::{LogFormat, LogLevel};
use crate::env::CLAUDE_LB_LOG;

/// How much logging the command line asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verbosity {
    /// How many times `-v` was given.
    pub verbose: u8,
    /// Whether `-q` was given.
    pub quiet: bool,
}

/// What [`set_config_level`] needs to recompute the filter.
struct State {
    env_filter: Option<String>,
    verbosity: Verbosity,
    handle: reload::Handle<EnvFilter, Registry>,
    /// Whether lines have colours (stderr is a terminal).
    colours: bool,
}

static STATE: OnceLock<State> = OnceLock::new();

/// The filter directive for the given inputs (pure, so the precedence is testable).
///
/// `env_filter` is the value of `CLAUDE_LB_LOG`; an empty or unparsable value is ignored.
pub fn directive(
    env_filter: Option<&str>,
    verbosity: Verbosity,
    config_level: Option<LogLevel>,
) -> String {
    if let Some(env) = env_filter.map(str::trim).filter(|e| !e.is_empty()) {
        if EnvFilter::try_new(env).is_ok() {
            return env.to_owned();
        }
    }
    let level = if verbosity.quiet {
        LogLevel::Error
    } else {
        (0..verbosity.verbose).fold(config_level.unwrap_or(LogLevel::Warn), |l, _| louder(l))
    };
    match level {
        LogLevel::Error | LogLevel::Warn => level.as_str().to_owned(),
        // Other crates stay at `warn` so that `-v` shows claude-lb's own story.
        _ => format!("warn,claude_lb={}", level.as_str()),
    }
}

fn louder(level: LogLevel) -> LogLevel {
    match level {
        LogLevel::Error => LogLevel::Warn,
        LogLevel::Warn => LogLevel::Info,
        LogLevel::Info => LogLevel::Debug,
        LogLevel::Debug | LogLevel::Trace => LogLevel::Trace,
    }
}

/// Installs the global log subscriber (stderr); later calls do nothing.
pub fn init(verbosity: Verbosity, config_level: Option<LogLevel>) {
    let env_filter = crate::env::process(CLAUDE_LB_LOG);
    let filter = EnvFilter::new(directive(env_filter.as_deref(), verbosity, config_level));
    let (layer, handle) = reload::Layer::new(filter);
    let colours = std::io::stderr().is_terminal();
    let fmt = lines_layer(|| Stderr, colours);
    if tracing_subscriber::registry()
        .with(layer)
        .with(fmt)
        .try_init()
        .is_err()
    {
        return;
    }
    if let Some(bad) = env_filter
        .as_deref()
        .filter(|e| EnvFilter::try_new(e.trim()).is_err())
    {
        tracing::warn!("ignoring {CLAUDE_LB_LOG}={bad:?}: not a valid log filter");
    }
    let _ = STATE.set(State {
        env_filter,
        verbosity,
        handle,
        colours,
    });
}

/// The layer that formats lines (text or JSON, [`Lines`]) and writes them to `writer`.
fn lines_layer<S, W>(
    writer: W,
    colours: bool,
) -> tracing_subscriber::fmt::Layer<S, PlainFields, Lines, W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + 'static,
{
    tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(colours)
        .fmt_fields(PlainFields)
        .event_format(Lines {
            text: format::format().with_target(false).with_timer(LineTime),
        })
}

/// The lines that `events` write through the log's formatter (as [`init`] installs it, without
/// colours), for tests.
#[cfg(test)]
pub(crate) fn capture(events: impl FnOnce()) -> String {
    let buffer = TestBuffer::default();
    let sink = buffer.clone();
    let subscriber = tracing_subscriber::registry().with(lines_layer(move || sink.clone(), false));
    tracing::subscriber::with_default(subscriber, events);
    buffer.text()
}

/// Where a test's subscriber writes its lines.
#[cfg(test)]
#[derive(Clone, Default)]
struct TestBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl TestBuffer {
    fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
impl std::io::Write for TestBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How many bytes of lines a runtime worker keeps before writing them without waiting to
/// park.
const WORKER_BUFFER: usize = 16 * 1024;

thread_local! {
    /// The lines this thread has not written yet: `Some` on a runtime worker of `serve`, which
    /// writes them each time it runs out of work ([`worker_parks`]), so that a busy worker
    /// writes the lines of many requests at once instead of one write each.
    static PENDING: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
}

/// Called by `serve`'s runtime each time a worker thread runs out of work (and as it stops):
/// writes the lines the worker kept, and from its first call on, makes the worker keep its
/// lines until the next one (or until [`WORKER_BUFFER`] bytes wait). Every other thread writes
/// each line as it comes.
pub fn worker_parks() {
    PENDING.with_borrow_mut(|pending| match pending {
        Some(lines) => write_out(lines, &mut std::io::stderr()),
        None => *pending = Some(Vec::with_capacity(WORKER_BUFFER)),
    });
}

/// Writes `lines` to `sink` at once and empties it (a line that cannot be written is lost,
/// as a line written directly would be).
fn write_out(lines: &mut Vec<u8>, sink: &mut impl std::io::Write) {
    if !lines.is_empty() {
        let _ = sink.write_all(lines);
        lines.clear();
    }
}

/// Keeps `line` in `pending` when this thread keeps its lines (writing them all to `sink`
/// once [`WORKER_BUFFER`] bytes wait), or writes it to `sink` now.
fn keep_or_write(
    pending: &mut Option<Vec<u8>>,
    line: &[u8],
    sink: &mut impl std::io::Write,
) -> std::io::Result<()> {
    match pending {
        Some(lines) => {
            lines.extend_from_slice(line);
            if lines.len() >= WORKER_BUFFER {
                write_out(lines, sink);
            }
            Ok(())
        }
        None => sink.write_all(line),
    }
}

/// The log's writer: stderr, through the thread's kept lines on a runtime worker.
struct Stderr;

impl std::io::Write for Stderr {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        PENDING.with_borrow_mut(|pending| keep_or_write(pending, line, &mut std::io::stderr()))?;
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether a line written now goes out as plain text: the log [`init`] installed, in the text
/// format, without colours. A line can then be written as a [`PlainLine`], without `tracing`'s
/// dispatch; otherwise (JSON, a terminal, a test's own subscriber) it goes through `tracing`.
pub fn plain_text() -> bool {
    STATE.get().is_some_and(|state| !state.colours) && FORMAT.load(Ordering::Relaxed) & JSON == 0
}

/// One log line as the text format writes an event whose fields are the ones added here, in
/// order (`2026-12-07T04:26:48.203872Z  INFO ok request_id=req_1 model="m" status=200`), built
/// straight into a string: the request log line, which every request writes, costs about half
/// the instructions this way that it costs through `tracing`'s dispatch and its visitors. Only
/// for when [`plain_text`] holds and the caller's level is enabled.
pub struct PlainLine(String);

impl PlainLine {
    /// A line of `level` with its time and its message (escaped as the text format escapes a
    /// message).
    pub fn new(level: tracing::Level, message: &str) -> Self {
        use std::fmt::Write as _;
        let mut text = String::with_capacity(256);
        let _ = LineTime.format_time(&mut Writer::new(&mut text));
        text.push_str(match level {
            tracing::Level::TRACE => " TRACE ",
            tracing::Level::DEBUG => " DEBUG ",
            tracing::Level::INFO => "  INFO ",
            tracing::Level::WARN => "  WARN ",
            tracing::Level::ERROR => " ERROR ",
        });
        let _ = Escaping(&mut text).write_str(message);
        Self(text)
    }

    /// `name=value`, the value as it is (what a `%` field writes).
    pub fn display(&mut self, name: &str, value: &str) {
        self.name(name);
        self.0.push_str(value);
    }

    /// `name="value"`, the value quoted and escaped as its `Debug` writes it (what a string
    /// field writes).
    pub fn string(&mut self, name: &str, value: &str) {
        use std::fmt::Write as _;
        self.name(name);
        if quotes_as_it_is(value) {
            self.0.push('"');
            self.0.push_str(value);
            self.0.push('"');
        } else {
            let _ = write!(self.0, "{value:?}");
        }
    }

    /// `name=n` (what an integer field writes).
    pub fn integer(&mut self, name: &str, n: u64) {
        self.name(name);
        let _ = write_digits(&mut self.0, n, 1);
    }

    fn name(&mut self, name: &str) {
        self.0.push(' ');
        self.0.push_str(name);
        self.0.push('=');
    }

    /// The line's text, with its line break.
    pub(crate) fn finish(mut self) -> String {
        self.0.push('\n');
        self.0
    }

    /// Writes the line, as the log's writer writes a line: kept by a runtime worker until it
    /// parks, written at once by any other thread.
    pub fn write(self) {
        let line = self.finish();
        PENDING.with_borrow_mut(|pending| {
            let _ = keep_or_write(pending, line.as_bytes(), &mut std::io::stderr());
        });
    }
}

/// Whether `Debug` writes `value` as it is between quotes: printable ASCII without `"` and `\`.
fn quotes_as_it_is(value: &str) -> bool {
    value
        .bytes()
        .all(|b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\')
}

/// Applies a (re)loaded config's `log_level`, unless `CLAUDE_LB_LOG` overrides it.
pub fn set_config_level(level: LogLevel) {
    if let Some(state) = STATE.get() {
        let filter = EnvFilter::new(directive(
            state.env_filter.as_deref(),
            state.verbosity,
            Some(level),
        ));
        let _ = state.handle.reload(filter);
    }
}

/// The log format: unset (text until a config says otherwise), or set by `--log-format`, which
/// then wins over `settings.log_format`.
static FORMAT: AtomicU8 = AtomicU8::new(0);
const TEXT: u8 = 1;
const JSON: u8 = 2;
const FROM_FLAG: u8 = 4;

/// `--log-format`: wins over the config's `log_format` from now on.
pub fn set_flag_format(format: LogFormat) {
    FORMAT.store(code(format) | FROM_FLAG, Ordering::Relaxed);
}

/// The config's `log_format` (at start and on every reload), unless `--log-format` was given.
pub fn set_config_format(format: LogFormat) {
    let _ = FORMAT.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
        (now & FROM_FLAG == 0).then_some(code(format))
    });
}

fn code(format: LogFormat) -> u8 {
    match format {
        LogFormat::Text => TEXT,
        LogFormat::Json => JSON,
    }
}

/// Writes each event as text, or as one JSON object per line with `timestamp`, `level`,
/// `message` and the event's fields.
struct Lines {
    text: format::Format<format::Full, LineTime>,
}

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        if FORMAT.load(Ordering::Relaxed) & JSON == 0 {
            return self.text.format_event(ctx, writer, event);
        }
        let mut timestamp = String::new();
        LineTime.format_time(&mut Writer::new(&mut timestamp))?;
        let mut fields = JsonFields(serde_json::Map::new());
        fields.0.insert("timestamp".into(), timestamp.into());
        fields
            .0
            .insert("level".into(), event.metadata().level().as_str().into());
        event.record(&mut fields);
        writeln!(writer, "{}", serde_json::Value::Object(fields.0))
    }
}

/// A line's time as `tracing-subscriber`'s [`SystemTime`] writes it (`2026-12-07T04:26:48.203872Z`,
/// UTC), with the part up to the second formatted once a second per thread instead of for every
/// line.
struct LineTime;

thread_local! {
    /// The Unix second last formatted on this thread, and its text up to the second.
    static SECOND: std::cell::RefCell<(u64, String)> =
        const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

/// The text of a line's time up to the second: `YYYY-MM-DDTHH:MM:SS`.
const SECOND_LEN: usize = 19;

fn unix_now() -> Option<std::time::Duration> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
}

impl FormatTime for LineTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        let Some(now) = unix_now() else {
            return SystemTime.format_time(w);
        };
        SECOND.with_borrow_mut(|(second, text)| {
            if *second != now.as_secs() {
                let mut full = String::new();
                SystemTime.format_time(&mut Writer::new(&mut full))?;
                // `full` was read after `now`: it is of the same second only if the clock has
                // not moved on to the next one meanwhile (nor has it a year past 9999).
                let same = unix_now().is_some_and(|after| after.as_secs() == now.as_secs());
                if !same || full.as_bytes().get(SECOND_LEN) != Some(&b'.') {
                    return w.write_str(&full);
                }
                text.clear();
                text.push_str(&full[..SECOND_LEN]);
                *second = now.as_secs();
            }
            w.write_str(text)?;
            w.write_char('.')?;
            write_digits(w, u64::from(now.subsec_micros()), 6)?;
            w.write_char('Z')
        })
    }
}

/// `n` in decimal, with leading zeros up to `width` digits (at most 20).
fn write_digits(w: &mut impl std::fmt::Write, mut n: u64, width: usize) -> std::fmt::Result {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = start.min(digits.len().saturating_sub(width));
    w.write_str(std::str::from_utf8(&digits[start..]).unwrap_or_default())
}

/// The fields of a text line, written as `tracing-subscriber`'s default field formatter writes
/// them (`name=value` with the value's `Debug`, the message first and bare, ANSI escapes in the
/// message escaped), without its styling when the line has no colours: painting every name and
/// `=` in an empty style cost more than the rest of a request's log line. With colours (a
/// terminal), the default formatter writes them.
struct PlainFields;

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        if writer.has_ansi_escapes() {
            return format::DefaultFields::new().format_fields(writer, fields);
        }
        let mut visitor = PlainVisitor {
            sanitize: writer.sanitizes_ansi_escapes(),
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct PlainVisitor<'writer> {
    writer: Writer<'writer>,
    sanitize: bool,
    first: bool,
    result: std::fmt::Result,
}

impl PlainVisitor<'_> {
    /// The space before every field but the first.
    fn pad(&mut self) -> std::fmt::Result {
        if std::mem::take(&mut self.first) {
            Ok(())
        } else {
            self.writer.write_char(' ')
        }
    }

    fn write(&mut self, field: &Field, value: &dyn std::fmt::Debug) -> std::fmt::Result {
        use std::fmt::Write as _;
        // The metadata of a `log` record, already written as the line's own.
        if field.name().starts_with("log.") {
            return Ok(());
        }
        self.pad()?;
        match field.name() {
            "message" if self.sanitize => {
                write!(Escaping(&mut self.writer), "{value:?}")
            }
            "message" => write!(self.writer, "{value:?}"),
            name => {
                let name = name.strip_prefix("r#").unwrap_or(name);
                write!(self.writer, "{name}={value:?}")
            }
        }
    }
}

impl PlainVisitor<'_> {
    /// A string field with nothing to escape (printable ASCII without `"` and `\`), quoted.
    fn write_quoted(&mut self, field: &Field, value: &str) -> std::fmt::Result {
        if field.name().starts_with("log.") {
            return Ok(());
        }
        self.pad()?;
        let name = field.name();
        self.writer
            .write_str(name.strip_prefix("r#").unwrap_or(name))?;
        self.writer.write_str("=\"")?;
        self.writer.write_str(value)?;
        self.writer.write_char('"')
    }

    /// An integer field, written as its `Debug` writes it, without going through formatting.
    fn write_integer(&mut self, field: &Field, negative: bool, magnitude: u64) -> std::fmt::Result {
        if field.name().starts_with("log.") {
            return Ok(());
        }
        self.pad()?;
        let name = field.name();
        if name != "message" {
            self.writer
                .write_str(name.strip_prefix("r#").unwrap_or(name))?;
            self.writer.write_char('=')?;
        }
        if negative {
            self.writer.write_char('-')?;
        }
        write_digits(&mut self.writer, magnitude, 1)
    }
}

impl Visit for PlainVisitor<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.result.is_ok() {
            self.result = self.write_integer(field, false, value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.result.is_ok() {
            self.result = self.write_integer(field, value < 0, value.unsigned_abs());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_ok() {
            self.result = if field.name() == "message" {
                self.write(field, &format_args!("{value}"))
            } else if quotes_as_it_is(value) {
                // What `Debug` writes for a string with nothing to escape, without its
                // escaping machinery.
                self.write_quoted(field, value)
            } else {
                self.write(field, &value)
            };
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // Rare: the default formatter writes it (no colours here, so its text is the same).
        if self.result.is_ok() {
            let mut default = format::DefaultVisitor::new(self.writer.by_ref(), self.first);
            default.record_error(field, value);
            self.first = false;
            self.result = tracing_subscriber::field::VisitOutput::finish(default);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if self.result.is_ok() {
            self.result = self.write(field, value);
        }
    }
}

/// Writes through to a line, with the characters that could drive a terminal (ESC, BEL, BS,
/// FF, DEL and the C1 controls) escaped, as the default formatter escapes a message.
struct Escaping<'a, W>(&'a mut W);

impl<W: std::fmt::Write> std::fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let clean = |c: char| {
            !matches!(
                c,
                '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' | '\u{80}'..='\u{9f}'
            )
        };
        if text.chars().all(clean) {
            return self.0.write_str(text);
        }
        for c in text.chars() {
            match c {
                '\x1b' => self.0.write_str("\\x1b")?,
                '\x07' => self.0.write_str("\\x07")?,
                '\x08' => self.0.write_str("\\x08")?,
                '\x0c' => self.0.write_str("\\x0c")?,
                '\x7f' => self.0.write_str("\\x7f")?,
                '\u{80}'..='\u{9f}' => write!(self.0, "\\u{{{:x}}}", u32::from(c))?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

struct JsonFields(serde_json::Map<String, serde_json::Value>);

impl Visit for JsonFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

/// How many bytes of a client's `model` a log line keeps.
pub const MODEL_LIMIT: usize = 256;

/// How many bytes of a free-text message (a failure, an error) a log line keeps.
pub const TEXT_LIMIT: usize = 4096;

/// `text` made safe for one log line: control characters (line breaks included, and the
/// Unicode line and paragraph separators) written as escapes, so that a value sent by a
/// client or a provider can never start a forged line, and cut to at most `max` bytes of
/// input, saying how long it was.
pub fn escape(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    let needs_escape = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    if text.len() <= max && !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 32);
    for c in text[..end].chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if end < text.len() {
        use std::fmt::Write as _;
        let _ = write!(out, "…({} bytes in all)", text.len());
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_keeps_its_lines_until_it_parks_or_has_kept_enough() {
        let mut sink = Vec::new();
        // A thread that does not keep its lines writes each at once.
        let mut direct = None;
        keep_or_write(&mut direct, b"one\n", &mut sink).unwrap();
        assert_eq!(sink, b"one\n");
        sink.clear();
        let mut kept = Some(Vec::new());
        keep_or_write(&mut kept, b"two\n", &mut sink).unwrap();
        keep_or_write(&mut kept, b"three\n", &mut sink).unwrap();
        assert!(sink.is_empty(), "kept until the worker parks");
        write_out(kept.as_mut().unwrap(), &mut sink);
        assert_eq!(sink, b"two\nthree\n");
        write_out(kept.as_mut().unwrap(), &mut sink);
        assert_eq!(sink, b"two\nthree\n", "nothing written twice");
        sink.clear();
        let long = vec![b'x'; WORKER_BUFFER];
        keep_or_write(&mut kept, b"four\n", &mut sink).unwrap();
        keep_or_write(&mut kept, &long, &mut sink).unwrap();
        assert_eq!(sink.len(), WORKER_BUFFER + 5, "written once enough is kept");
        assert!(kept.unwrap().is_empty());
    }

    #[test]
    fn escaping_keeps_a_value_on_one_bounded_line() {
        assert_eq!(escape("claude-opus-5-5", 16), "claude-opus-5-5");
        assert_eq!(
            escape("m\nINFO forged line\r\u{1b}[31m", 100),
            "m\\nINFO forged line\\r\\u{1b}[31m"
        );
        assert_eq!(escape("a\u{2028}b", 100), "a\\u{2028}b");
        let huge = "x".repeat(16 * 1024 * 1024);
        let escaped = escape(&huge, MODEL_LIMIT);
        assert!(escaped.len() < MODEL_LIMIT + 40, "{}", escaped.len());
        assert!(escaped.ends_with("…(16777216 bytes in all)"), "{escaped}");
        // A cut never splits a character.
        assert_eq!(escape("éé", 3), "é…(4 bytes in all)");
    }

    /// The lines `events` write through a text formatter with `fields`, without time.
    fn lines<N>(fields: N, events: fn()) -> String
    where
        N: for<'w> FormatFields<'w> + Send + Sync + 'static,
    {
        let buffer = TestBuffer::default();
        let sink = buffer.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .fmt_fields(fields);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, events);
        buffer.text()
    }

    #[test]
    fn plain_fields_write_what_the_default_formatter_writes() {
        fn events() {
            let error = std::io::Error::other("disk full");
            let none: Option<&str> = None;
            tracing::info!(
                request_id = %"req_1",
                model = "claude \"x\"\n",
                status = 200u16,
                latency_ms = 12u64,
                delta = -3i64,
                zero = 0u64,
                largest = u64::MAX,
                smallest = i64::MIN,
                ok = true,
                ratio = 0.5f64,
                route = none,
                r#type = "t",
                client = "ci bot ~'1' {x}",
                empty = "",
                path = "a\\b",
                "ok \x1b[31m \u{85} é"
            );
            tracing::warn!(
                error = &error as &(dyn std::error::Error + 'static),
                "failed: {}",
                3
            );
            tracing::warn!("no fields");
            tracing::info!(only = 1u64);
            tracing::info!(message = 7u64, r#in = -7i64);
        }
        let plain = lines(PlainFields, events);
        assert_eq!(plain, lines(format::DefaultFields::new(), events));
        assert!(
            plain.contains(
                "ok \\x1b[31m \\u{85} é request_id=req_1 model=\"claude \\\"x\\\"\\n\" status=200"
            ),
            "{plain}"
        );
    }

    #[test]
    fn a_lines_time_is_what_the_default_timer_writes_to_the_microsecond() {
        let text = |timer: &dyn FormatTime| {
            let mut text = String::new();
            timer.format_time(&mut Writer::new(&mut text)).unwrap();
            text
        };
        // For more than a second, so that the text up to the second is both made and reused.
        let started = tokio::time::Instant::now();
        let mut lines = 0;
        while started.elapsed() < std::time::Duration::from_millis(1_100) {
            let before = text(&SystemTime);
            let ours = text(&LineTime);
            let after = text(&SystemTime);
            assert_eq!(ours.len(), before.len(), "{ours} vs {before}");
            assert!(
                before.as_str() <= ours.as_str() && ours.as_str() <= after.as_str(),
                "{before} <= {ours} <= {after}"
            );
            lines += 1;
            if lines % 1000 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        let mut digits = String::new();
        write_digits(&mut digits, 42, 6).unwrap();
        write_digits(&mut digits, u64::MAX, 1).unwrap();
        assert_eq!(digits, "00004218446744073709551615");
    }

    #[track_caller]
    fn check(env: Option<&str>, verbose: u8, quiet: bool, config: Option<LogLevel>, expect: &str) {
        assert_eq!(directive(env, Verbosity { verbose, quiet }, config), expect);
    }

    #[test]
    fn precedence() {
        check(None, 0, false, None, "warn");
        check(None, 1, false, None, "warn,claude_lb=info");
        check(None, 2, false, None, "warn,claude_lb=debug");
        check(None, 9, false, None, "warn,claude_lb=trace");
        check(None, 0, true, None, "error");
        check(None, 0, false, Some(LogLevel::Info), "warn,claude_lb=info");
        check(None, 1, false, Some(LogLevel::Info), "warn,claude_lb=debug");
        check(None, 0, true, Some(LogLevel::Debug), "error");
        check(Some("hyper=trace"), 0, true, None, "hyper=trace");
        check(Some("  "), 0, false, Some(LogLevel::Error), "error");
        check(Some("=[bad"), 0, false, None, "warn");
    }
}
