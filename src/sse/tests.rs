use proptest::prelude::*;

use super::{SseError, SseEvent, SseParser, write_event};

/// Feeds `input` in chunks of `size` bytes and collects every result, including the one
/// `finish` returns.
fn parse_chunked(input: &[u8], size: usize) -> Vec<Result<SseEvent, SseError>> {
    let mut parser = SseParser::new();
    let mut out = Vec::new();
    for chunk in input.chunks(size.max(1)) {
        parser.push(chunk);
        while let Some(item) = parser.next_event() {
            out.push(item);
        }
    }
    if let Some(item) = parser.finish() {
        out.push(item);
    }
    out
}

fn events(input: &[u8]) -> Vec<(Option<String>, String, Vec<u8>)> {
    parse_chunked(input, input.len())
        .into_iter()
        .map(|item| {
            let event = item.expect("valid event");
            (event.event, event.data, event.raw.to_vec())
        })
        .collect()
}

/// The `\n` of a final `\r\n` is not part of any event when the chunk before it ended with
/// the `\r` (the event was dispatched at once); it is the only byte the raw framing can lose.
fn trim_final_lf(bytes: &[u8]) -> &[u8] {
    bytes
        .strip_suffix(b"\r\n")
        .map_or(bytes, |rest| &bytes[..=rest.len()])
}

#[track_caller]
fn check(input: &str, expect: &[(Option<&str>, &str, &str)]) {
    let expect: Vec<_> = expect
        .iter()
        .map(|(e, d, r)| (e.map(str::to_owned), (*d).to_owned(), r.as_bytes().to_vec()))
        .collect();
    assert_eq!(events(input.as_bytes()), expect, "whole input");
    // The result must not depend on how the input is chunked; only a `\n` of a `\r\n` split
    // across chunks may move to the next event's raw bytes.
    let fields = |v: &[(Option<String>, String, Vec<u8>)]| -> Vec<(Option<String>, String)> {
        v.iter().map(|(e, d, _)| (e.clone(), d.clone())).collect()
    };
    let raw = |v: &[(Option<String>, String, Vec<u8>)]| -> Vec<u8> {
        v.iter().flat_map(|(_, _, r)| r.clone()).collect()
    };
    for size in 1..=7 {
        let chunked: Vec<_> = parse_chunked(input.as_bytes(), size)
            .into_iter()
            .map(|item| {
                let event = item.expect("valid event");
                (event.event, event.data, event.raw.to_vec())
            })
            .collect();
        assert_eq!(fields(&chunked), fields(&expect), "chunks of {size} bytes");
        assert_eq!(
            trim_final_lf(&raw(&chunked)),
            trim_final_lf(&raw(&expect)),
            "raw bytes, chunks of {size} bytes"
        );
    }
}

#[test]
fn parses_line_ending_variants() {
    check(
        "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        &[(
            Some("ping"),
            "{\"type\":\"ping\"}",
            "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        )],
    );
    check("data: a\r\n\r\n", &[(None, "a", "data: a\r\n\r\n")]);
    check(
        "data: a\r\rdata: b\r\r",
        &[(None, "a", "data: a\r\r"), (None, "b", "data: b\r\r")],
    );
    check(
        "data: a\n\ndata: b\r\n\r\ndata: c\r\r",
        &[
            (None, "a", "data: a\n\n"),
            (None, "b", "data: b\r\n\r\n"),
            (None, "c", "data: c\r\r"),
        ],
    );
}

#[test]
fn joins_multi_line_data_and_accepts_data_without_space() {
    check(
        "data:x\ndata:  y\ndata\n\n",
        &[(None, "x\n y\n", "data:x\ndata:  y\ndata\n\n")],
    );
}

#[test]
fn skips_comments_but_keeps_them_in_raw() {
    check(
        ": OPENROUTER PROCESSING\n\n: keep-alive\ndata: {}\n: inside\n\n",
        &[(None, "{}", ": keep-alive\ndata: {}\n: inside\n\n")],
    );
    check(": only a comment\n\n\n\n", &[]);
    let mut parser = SseParser::new();
    parser.push(b": OPENROUTER PROCESSING\n\n: keep-alive\n\n");
    assert!(parser.next_event().is_none());
    assert_eq!(parser.comment_count(), 2);
}

#[test]
fn ignores_id_and_retry_fields() {
    check(
        "id: 7\nretry: 10\ndata: x\n\n",
        &[(None, "x", "id: 7\nretry: 10\ndata: x\n\n")],
    );
}

#[test]
fn strips_byte_order_mark() {
    check("\u{feff}data: x\n\n", &[(None, "x", "data: x\n\n")]);
}

#[test]
fn keeps_multi_byte_utf8_split_across_chunks() {
    check(
        "data: héllo 日本 🎉\n\n",
        &[(None, "héllo 日本 🎉", "data: héllo 日本 🎉\n\n")],
    );
}

#[test]
fn finish_returns_an_event_without_blank_line() {
    check(
        "data: a\n\ndata: b",
        &[(None, "a", "data: a\n\n"), (None, "b", "data: b")],
    );
    check(
        "data: a\n\ndata: b\n",
        &[(None, "a", "data: a\n\n"), (None, "b", "data: b\n")],
    );
    check(
        "data: a\n\n: trailing comment",
        &[(None, "a", "data: a\n\n")],
    );
}

#[test]
fn reports_invalid_utf8_and_recovers() {
    let input = b"data: bad \xff\xfe\ndata: more\n\ndata: ok\n\n";
    for size in 1..=5 {
        let out = parse_chunked(input, size);
        assert_eq!(out.len(), 2, "chunks of {size}");
        assert_eq!(out[0], Err(SseError::InvalidUtf8 { valid_up_to: 4 }));
        assert_eq!(out[1].as_ref().expect("valid").data, "ok");
    }
}

#[test]
fn rejects_oversized_events_and_recovers() {
    let mut input = b"data: ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 100));
    input.extend_from_slice(b"\ndata: y\n\ndata: small\n\n");
    for size in [1, 3, 64, input.len()] {
        let mut parser = SseParser::with_max_event_size(50);
        let mut out = Vec::new();
        for chunk in input.chunks(size) {
            parser.push(chunk);
            while let Some(item) = parser.next_event() {
                out.push(item);
            }
        }
        assert_eq!(out.len(), 2, "chunks of {size}: {out:?}");
        assert_eq!(out[0], Err(SseError::TooLarge { limit: 50 }));
        assert_eq!(out[1].as_ref().expect("valid").data, "small");
    }
}

#[test]
fn bounds_memory_for_an_endless_line() {
    let mut parser = SseParser::with_max_event_size(1024);
    let mut errors = 0;
    for _ in 0..1000 {
        parser.push(&[b'x'; 100]);
        while let Some(item) = parser.next_event() {
            assert!(item.is_err());
            errors += 1;
        }
        assert!(
            parser.buf.len() <= 1124,
            "buffer grew to {}",
            parser.buf.len()
        );
    }
    assert_eq!(errors, 1);
    parser.push(b"\n\ndata: after\n\n");
    let event = parser.next_event().expect("an event").expect("valid");
    assert_eq!(event.data, "after");
}

#[test]
fn garbage_line_without_blank_separator_stays_in_the_event() {
    // A line that is neither a field nor a comment is ignored, as the SSE standard says.
    check(
        "garbage\ndata: x\n\n",
        &[(None, "x", "garbage\ndata: x\n\n")],
    );
}

#[test]
fn write_event_round_trips() {
    let mut out = Vec::new();
    write_event(&mut out, "message_stop", "{\"type\":\"message_stop\"}");
    write_event(&mut out, "x", "line1\nline2");
    assert_eq!(
        String::from_utf8(out.clone()).expect("utf-8"),
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\nevent: x\ndata: line1\ndata: line2\n\n"
    );
    let parsed = events(&out);
    assert_eq!(parsed[1].1, "line1\nline2");
}

fn arb_event() -> impl Strategy<Value = (Option<String>, Vec<String>, Vec<String>, usize)> {
    (
        proptest::option::of("[a-z_]{1,12}"),
        proptest::collection::vec("[ -~é日🎉]{0,20}", 1..4),
        proptest::collection::vec("[ -~]{0,10}", 0..2),
        0..3usize,
    )
}

proptest! {
    #[test]
    fn any_chunking_yields_the_same_events(
        events_in in proptest::collection::vec(arb_event(), 0..6),
        cuts in proptest::collection::vec(1..40usize, 1..20),
    ) {
        let mut input = Vec::new();
        let mut expect = Vec::new();
        for (name, data, comments, ending) in &events_in {
            let nl = ["\n", "\r\n", "\r"][*ending];
            let start = input.len();
            for comment in comments {
                input.extend_from_slice(format!(":{comment}{nl}").as_bytes());
            }
            if let Some(name) = name {
                input.extend_from_slice(format!("event: {name}{nl}").as_bytes());
            }
            for line in data {
                input.extend_from_slice(format!("data: {line}{nl}").as_bytes());
            }
            input.extend_from_slice(nl.as_bytes());
            expect.push((name.clone(), data.join("\n"), input[start..].to_vec()));
        }
        let mut parser = SseParser::new();
        let mut got = Vec::new();
        let mut rest = &input[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = cuts[i % cuts.len()].min(rest.len());
            i += 1;
            parser.push(&rest[..n]);
            rest = &rest[n..];
            while let Some(item) = parser.next_event() {
                let event = item.expect("valid");
                got.push((event.event, event.data, event.raw.to_vec()));
            }
        }
        if let Some(item) = parser.finish() {
            let event = item.expect("valid");
            got.push((event.event, event.data, event.raw.to_vec()));
        }
        let fields = |v: &[(Option<String>, String, Vec<u8>)]| -> Vec<(Option<String>, String)> {
            v.iter().map(|(e, d, _)| (e.clone(), d.clone())).collect()
        };
        prop_assert_eq!(fields(&got), fields(&expect));
        let raw_got: Vec<u8> = got.iter().flat_map(|(_, _, r)| r.clone()).collect();
        prop_assert_eq!(trim_final_lf(&raw_got), trim_final_lf(&input));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        input in proptest::collection::vec(any::<u8>(), 0..400),
        size in 1..50usize,
    ) {
        let mut parser = SseParser::with_max_event_size(64);
        for chunk in input.chunks(size) {
            parser.push(chunk);
            while let Some(item) = parser.next_event() {
                if let Ok(event) = item {
                    prop_assert!(event.raw.len() <= 64 + 2);
                }
            }
        }
        let _ = parser.finish();
    }
}
