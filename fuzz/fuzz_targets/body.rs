//! The body of the `sse_translate` fuzz target, shared with a long-running property test in
//! `tests/it/translate.rs` (which includes this file by path) so it also runs on stable.

use claude_lb::sse::SseParser;
use claude_lb::translate::stream::OpenAiToAnthropic;
use claude_lb::translate::validate::validate;

/// Feeds `data` to the parser and translator the way the proxy does, and panics if the
/// Anthropic output is not a well-formed event stream.
///
/// The first four bytes choose the read sizes (1 to 256 bytes, cycled); the rest is the
/// upstream body.
pub(crate) fn run(data: &[u8]) {
    let (sizes, upstream) = data.split_at(data.len().min(4));
    let sizes: Vec<usize> = sizes.iter().map(|b| usize::from(*b) + 1).collect();
    let mut parser = SseParser::with_max_event_size(64 * 1024);
    let mut translator = OpenAiToAnthropic::new("claude-sonnet-4-5", "msg_fuzz".to_owned());
    let mut out = Vec::new();
    let mut failed = false;
    let feed =
        |data: &str, translator: &mut OpenAiToAnthropic, out: &mut Vec<u8>, failed: &mut bool| {
            if *failed {
                return;
            }
            if let Err(error) = translator.push(data, out) {
                let (_, error_type, message) = error.to_anthropic();
                translator.write_error(error_type, &message, out);
                *failed = true;
            }
        };
    let mut rest = upstream;
    let mut i = 0;
    while !rest.is_empty() {
        let size = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(rest.len())
            .min(rest.len());
        i += 1;
        parser.push(&rest[..size]);
        rest = &rest[size..];
        while let Some(event) = parser.next_event() {
            match event {
                Ok(event) => feed(&event.data, &mut translator, &mut out, &mut failed),
                Err(error) => {
                    translator.write_error("api_error", &error.to_string(), &mut out);
                    failed = true;
                }
            }
        }
    }
    match parser.finish() {
        Some(Ok(event)) => feed(&event.data, &mut translator, &mut out, &mut failed),
        Some(Err(error)) => {
            translator.write_error("api_error", &error.to_string(), &mut out);
            failed = true;
        }
        None => {}
    }
    if !failed && let Err(error) = translator.finish(&mut out) {
        let (_, error_type, message) = error.to_anthropic();
        translator.write_error(error_type, &message, &mut out);
    }
    if let Err(problem) = validate(&out) {
        panic!(
            "malformed Anthropic stream: {problem}\n{}",
            String::from_utf8_lossy(&out)
        );
    }
}
