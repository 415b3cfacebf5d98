//! A fast look at the top level of a JSON request body, without parsing it.
//!
//! A pass-through request needs only its `model` (to route and perhaps rename it), so the
//! body is walked until that key is found: strings are skipped with a byte search, nested
//! values by counting brackets, and nothing is allocated. Claude Code writes `model` first,
//! so the walk usually stops after a few bytes, whatever the size of the body. The result is
//! not a validation of the JSON: an upstream that receives a malformed body says so itself.

use std::ops::Range;

/// Where a top-level string value sits in a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found<'a> {
    /// The unescaped value, borrowed when it has no escapes.
    pub value: std::borrow::Cow<'a, str>,
    /// The byte range of the value's JSON string literal, quotes included.
    pub span: Range<usize>,
}

/// The value of the top-level key `key` when it is a string.
pub fn top_level_string<'a>(body: &'a [u8], key: &str) -> Option<Found<'a>> {
    string_at(body, top_level_value(body, key)?)
}

/// Why a request body's `model` cannot be trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// No top-level `model` string.
    Missing,
    /// More than one top-level `model` key. Parsers upstream disagree on which one counts
    /// (most keep the last; routing would see the first), so such a body is refused.
    Duplicate,
}

/// The top-level `model` of a request, refusing a body that names it twice, also when one of
/// the names is spelled with escapes (`"mod\u0065l"`), which every JSON parser reads as
/// `model`. Unlike [`top_level_string`], this walks the whole top level: the bytes of nested
/// values are skipped with a vectorised search, never parsed.
pub fn model(body: &[u8]) -> Result<Found<'_>, ModelError> {
    request(body).model
}

/// The byte ranges of the values of every top-level member named `key` (escapes in the name
/// decoded), in body order; a walk of the whole top level.
pub fn top_level_values(body: &[u8], key: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    walk_top_level(body, |name, value| {
        if key_is(name, key) {
            found.push(value);
        }
    });
    found
}

/// What routing reads from the top level of a request body, in one walk of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scanned<'a> {
    /// The `model`, as [`model`] finds it.
    pub model: Result<Found<'a>, ModelError>,
    /// The byte range of the last top-level `metadata` value (the one a parser that keeps the
    /// last duplicate reads), whatever its kind.
    pub metadata: Option<Range<usize>>,
    /// The byte range of the first top-level `max_tokens` value (the one [`top_level_value`]
    /// finds), whatever its kind.
    pub max_tokens: Option<Range<usize>>,
}

/// The `model`, the `metadata` and the `max_tokens` of a request, in one walk of the whole top
/// level (nested values skipped, never parsed).
pub fn request(body: &[u8]) -> Scanned<'_> {
    let mut models = Vec::new();
    let mut metadata = None;
    let mut max_tokens = None;
    walk_top_level(body, |name, value| {
        if key_is(name, "model") {
            models.push(value);
        } else if key_is(name, "metadata") {
            metadata = Some(value);
        } else if max_tokens.is_none() && key_is(name, "max_tokens") {
            max_tokens = Some(value);
        }
    });
    let model = match models.as_slice() {
        [] => Err(ModelError::Missing),
        [span] => string_at(body, span.clone()).ok_or(ModelError::Missing),
        _ => Err(ModelError::Duplicate),
    };
    Scanned {
        model,
        metadata,
        max_tokens,
    }
}

/// The longest session id that counts; a longer one is no session (nobody's session id is
/// that long, and the id is hashed, never stored, whatever its length).
pub const MAX_SESSION_ID: usize = 256;

/// The `session_id` inside `metadata.user_id`, where `metadata` is the byte range of the
/// request's `metadata` value. Claude Code writes `user_id` as a JSON object encoded in a JSON
/// string (`"{\"device_id\":…,\"session_id\":\"…\"}"`): the string is decoded, and its
/// top level walked the same way as a body's, so nothing is parsed whole. `None` unless every
/// step finds what it expects and the id is a non-empty string of at most
/// [`MAX_SESSION_ID`] bytes.
///
/// Where a name appears twice, the last one counts, as for the parsers that keep the last
/// duplicate (`serde_json`, Python, JavaScript, Go).
pub fn metadata_session(body: &[u8], metadata: Range<usize>) -> Option<String> {
    let user_id = last_member(body, metadata.start, "user_id")?;
    if user_id.end > metadata.end {
        return None;
    }
    let user_id = string_at(body, user_id)?;
    let inner = user_id.value.as_bytes();
    let session = string_at(inner, last_member(inner, 0, "session_id")?)?;
    let id = session.value;
    (!id.is_empty() && id.len() <= MAX_SESSION_ID).then(|| id.into_owned())
}

/// The byte range of the value of the last member named `key` (escapes decoded) of the object
/// that starts at `object`.
fn last_member(body: &[u8], object: usize, key: &str) -> Option<Range<usize>> {
    let mut found = None;
    walk_members(body, object, |name, value| {
        if key_is(name, key) {
            found = Some(value);
        }
    });
    found
}

/// Calls `visit` with the name literal (quotes included) and the value's byte range of every
/// member of the top-level object, in body order, until the end or the first malformed member.
fn walk_top_level(body: &[u8], visit: impl FnMut(&[u8], Range<usize>)) {
    walk_members(body, 0, visit);
}

/// Calls `visit` for every member of the object that starts at `object` (leading white space
/// allowed), as [`walk_top_level`] does for the top level.
fn walk_members(body: &[u8], object: usize, mut visit: impl FnMut(&[u8], Range<usize>)) {
    let mut at = skip_ws(body, object);
    if body.get(at) != Some(&b'{') {
        return;
    }
    at += 1;
    loop {
        at = skip_ws(body, at);
        match body.get(at) {
            Some(b',') => {
                at += 1;
                continue;
            }
            Some(b'"') => {}
            _ => break,
        }
        let Some(name_end) = string_end(body, at) else {
            break;
        };
        let name = &body[at..name_end];
        at = skip_ws(body, name_end);
        if body.get(at) != Some(&b':') {
            break;
        }
        at = skip_ws(body, at + 1);
        let Some(value_end) = value_end(body, at) else {
            break;
        };
        visit(name, at..value_end);
        at = value_end;
    }
}

/// Whether the JSON string literal `literal` (quotes included) spells `key`, escapes decoded.
fn key_is(literal: &[u8], key: &str) -> bool {
    let inner = &literal[1..literal.len() - 1];
    if !inner.contains(&b'\\') {
        return inner == key.as_bytes();
    }
    std::str::from_utf8(literal)
        .ok()
        .and_then(|text| serde_json::from_str::<String>(text).ok())
        .is_some_and(|name| name == key)
}

/// The string value whose literal spans `span`, or `None` when it is not a string.
pub fn string_at(body: &[u8], span: Range<usize>) -> Option<Found<'_>> {
    if body.get(span.start) != Some(&b'"') {
        return None;
    }
    let literal = std::str::from_utf8(&body[span.clone()]).ok()?;
    let text = if literal.contains('\\') {
        std::borrow::Cow::Owned(serde_json::from_str::<String>(literal).ok()?)
    } else {
        std::borrow::Cow::Borrowed(&literal[1..literal.len() - 1])
    };
    Some(Found { value: text, span })
}

/// The value of the top-level key `key` when it is `true` or `false`.
pub fn top_level_bool(body: &[u8], key: &str) -> Option<bool> {
    let value = top_level_value(body, key)?;
    match &body[value] {
        b"true" => Some(true),
        b"false" => Some(false),
        _ => None,
    }
}

/// The byte range of the raw value of the top-level key `key`.
pub fn top_level_value(body: &[u8], key: &str) -> Option<Range<usize>> {
    member(body, 0, key)
}

/// The byte range of the value of the top-level key `key` when it is the object's last
/// member, found from the end of the body: an Anthropic answer ends with its `usage`, so the
/// members before it (the answer's text, a long tool call) are not walked. `None` when the
/// body does not end with that member (then [`top_level_value`] walks it from the start).
///
/// A match is an unescaped `"key"` after `{` or `,`, followed by `:`, a value, and only the
/// closing brace of the body: in well-formed JSON that brace closes the object holding the
/// member, so the member is at the top level.
pub fn last_top_level_value(body: &[u8], key: &str) -> Option<Range<usize>> {
    /// How many occurrences of the key's text from the end are tried before giving up.
    const TRIES: usize = 4;
    let close = body
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
    if body[close] != b'}' {
        return None;
    }
    let key = key.as_bytes();
    // The key's occurrences from the end, found from its first byte: the member is near the
    // end, and building a reverse substring searcher would cost more than this walk.
    let (&first, _) = key.split_first()?;
    let before_close = &body[..close];
    memchr::memrchr_iter(first, before_close)
        .filter(|&at| before_close[at..].starts_with(key))
        .take(TRIES)
        .find_map(|at| {
            let open = at.checked_sub(1)?;
            let before = body[..open]
                .iter()
                .rposition(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
            if body[open] != b'"'
                || body.get(at + key.len()) != Some(&b'"')
                || !matches!(body[before], b'{' | b',')
            {
                return None;
            }
            let colon = skip_ws(body, at + key.len() + 1);
            if body.get(colon) != Some(&b':') {
                return None;
            }
            let start = skip_ws(body, colon + 1);
            let end = value_end(body, start)?;
            (skip_ws(body, end) == close).then_some(start..end)
        })
}

/// The byte range of the value of `key` in the object that starts at `object` (leading
/// white space allowed).
pub fn member(body: &[u8], object: usize, key: &str) -> Option<Range<usize>> {
    let mut at = skip_ws(body, object);
    if body.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    loop {
        at = skip_ws(body, at);
        match body.get(at)? {
            b',' => {
                at += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let name_end = string_end(body, at)?;
        let name = &body[at + 1..name_end - 1];
        at = skip_ws(body, name_end);
        if body.get(at) != Some(&b':') {
            return None;
        }
        at = skip_ws(body, at + 1);
        let value_end = value_end(body, at)?;
        if name == key.as_bytes() {
            return Some(at..value_end);
        }
        at = value_end;
    }
}

/// The byte ranges of the elements of the array that starts at `array`, or `None` when
/// there is no well-formed array there.
pub fn elements(body: &[u8], array: usize) -> Option<Vec<Range<usize>>> {
    let mut at = skip_ws(body, array);
    if body.get(at) != Some(&b'[') {
        return None;
    }
    at = skip_ws(body, at + 1);
    let mut out = Vec::new();
    if body.get(at) == Some(&b']') {
        return Some(out);
    }
    loop {
        let end = value_end(body, at)?;
        out.push(at..end);
        at = skip_ws(body, end);
        match body.get(at)? {
            b',' => at = skip_ws(body, at + 1),
            b']' => return Some(out),
            _ => return None,
        }
    }
}

fn skip_ws(body: &[u8], mut at: usize) -> usize {
    while matches!(body.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The index just past the closing quote of the string that opens at `at`.
fn string_end(body: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        // memchr's vectorised search: a long string (a pasted file, an image) is skipped at
        // memory speed rather than byte by byte.
        let rel = memchr::memchr2(b'"', b'\\', body.get(i..)?)?;
        i += rel;
        if body[i] == b'\\' {
            i += 2;
        } else {
            return Some(i + 1);
        }
    }
}

/// The index just past the value that starts at `at`.
fn value_end(body: &[u8], at: usize) -> Option<usize> {
    match body.get(at)? {
        b'"' => string_end(body, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                let rel = body
                    .get(i..)?
                    .iter()
                    .position(|&b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'))?;
                i += rel;
                match body[i] {
                    b'"' => {
                        i = string_end(body, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    _ => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                }
                i += 1;
            }
        }
        _ => {
            let rel = body[at..]
                .iter()
                .position(|&b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(body.len() - at);
            (rel > 0).then_some(at + rel)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_model(body: &str, expect: Option<&str>) {
        let found = top_level_string(body.as_bytes(), "model");
        assert_eq!(found.as_ref().map(|f| &*f.value), expect, "{body}");
        if let Some(found) = found {
            let literal = &body[found.span];
            assert_eq!(
                serde_json::from_str::<String>(literal).unwrap(),
                found.value
            );
        }
    }

    #[test]
    fn finds_top_level_model_only() {
        check_model(
            r#"{"model":"claude-opus-5-5","max_tokens":1}"#,
            Some("claude-opus-5-5"),
        );
        check_model(r#" { "max_tokens" : 1 , "model" : "m" } "#, Some("m"));
        check_model(
            r#"{"messages":[{"model":"inner","content":"a \"model\": \"x\" {"}],"model":"outer"}"#,
            Some("outer"),
        );
        check_model(r#"{"metadata":{"model":"inner"}}"#, None);
        check_model(r#"{"model":"a\"b\\c"}"#, Some("a\"b\\c"));
        check_model(r#"{"model":"é✓"}"#, Some("é✓"));
        check_model(r#"{"model":42}"#, None);
        check_model("[1,2]", None);
        check_model("", None);
        check_model(r#"{"model":"unterminated"#, None);
        check_model(r#"{"a":[[[[{"b":"]]]"}]]]],"model":"deep"}"#, Some("deep"));
    }

    #[test]
    fn finds_stream_flag() {
        assert_eq!(top_level_bool(br#"{"stream":true}"#, "stream"), Some(true));
        assert_eq!(
            top_level_bool(br#"{"a":{"stream":true},"stream":false}"#, "stream"),
            Some(false)
        );
        assert_eq!(top_level_bool(br#"{"a":1}"#, "stream"), None);
        assert_eq!(top_level_bool(br#"{"stream":"yes"}"#, "stream"), None);
    }

    #[test]
    fn a_duplicate_model_is_refused_however_it_is_spelled() {
        for body in [
            r#"{"model":"a","max_tokens":1,"model":"b"}"#,
            r#"{"model":"a","mod\u0065l":"b"}"#,
            r#"{"\u006dodel":"a", "messages":[{"model":"x"}], "model":"b"}"#,
            r#"{"model":"a","model":42}"#,
        ] {
            assert_eq!(model(body.as_bytes()), Err(ModelError::Duplicate), "{body}");
        }
        for body in [
            r#"{"max_tokens":1}"#,
            r#"{"model":42}"#,
            r#"{"metadata":{"model":"inner"}}"#,
            "",
        ] {
            assert_eq!(model(body.as_bytes()), Err(ModelError::Missing), "{body}");
        }
        let body = r#"{"messages":[{"model":"inner"}],"model":"m","metadata":{"model":"x"}}"#;
        let found = model(body.as_bytes()).unwrap();
        assert_eq!(&*found.value, "m");
        assert_eq!(&body[found.span], "\"m\"");
    }

    /// The session id of a body, through [`request`] and [`metadata_session`].
    fn session(body: &str) -> Option<String> {
        let metadata = request(body.as_bytes()).metadata?;
        metadata_session(body.as_bytes(), metadata)
    }

    #[test]
    fn the_request_scan_finds_max_tokens_where_a_member_search_would() {
        for body in [
            r#"{"model":"m","messages":[{"role":"user","content":"{\"max_tokens\":1}"}],"max_tokens":32000}"#,
            r#"{"max_tokens":64000,"model":"m","tools":[{"max_tokens":2}],"max_tokens":1}"#,
            r#"{"model":"m","metadata":{"max_tokens":5}}"#,
            r#"{"model":"m","max_tokens":"many"}"#,
        ] {
            let scanned = request(body.as_bytes());
            assert_eq!(
                scanned.max_tokens,
                top_level_value(body.as_bytes(), "max_tokens"),
                "{body}"
            );
        }
        let body = br#"{"model":"m","messages":[],"max_tokens":32000}"#;
        let span = request(body).max_tokens.unwrap();
        assert_eq!(&body[span], b"32000");
    }

    #[test]
    fn finds_the_session_id_inside_metadata_user_id() {
        // What Claude Code sends: a JSON object encoded in a JSON string.
        let user_id = serde_json::json!({
            "device_id": "d1",
            "account_uuid": "",
            "session_id": "2f0e-session",
        })
        .to_string();
        let body = serde_json::json!({
            "model": "m",
            "messages": [{"role": "user", "content": "{\"session_id\":\"fake\"}"}],
            "metadata": {"user_id": user_id},
        })
        .to_string();
        assert_eq!(session(&body).as_deref(), Some("2f0e-session"));
        let scanned = request(body.as_bytes());
        assert_eq!(
            scanned.model.map(|m| m.value.into_owned()),
            Ok("m".to_owned())
        );
        // The last metadata counts, as for a parser that keeps the last duplicate.
        let twice = r#"{"metadata":{"user_id":"{\"session_id\":\"first\"}"},"model":"m","metadata":{"user_id":"{\"session_id\":\"second\"}"}}"#;
        assert_eq!(session(twice).as_deref(), Some("second"));
    }

    #[test]
    fn no_session_from_anything_else() {
        let long = "x".repeat(MAX_SESSION_ID + 1);
        for body in [
            r#"{"model":"m"}"#.to_owned(),
            r#"{"metadata":null}"#.to_owned(),
            r#"{"metadata":"session_id"}"#.to_owned(),
            r#"{"metadata":{"user_id":42}}"#.to_owned(),
            r#"{"metadata":{"user_id":"plain-user"}}"#.to_owned(),
            r#"{"metadata":{"user_id":"{\"session_id\":42}"}}"#.to_owned(),
            r#"{"metadata":{"user_id":"{\"session_id\":\"\"}"}}"#.to_owned(),
            r#"{"metadata":{"user_id":"{\"inner\":{\"session_id\":\"nested\"}}"}}"#.to_owned(),
            r#"{"metadata":{"other":{"user_id":"{\"session_id\":\"deep\"}"}}}"#.to_owned(),
            r#"{"messages":[{"metadata":{"user_id":"{\"session_id\":\"inner\"}"}}]}"#.to_owned(),
            r#"{"metadata":{"user_id":"{\"session_id\":\"cut"#.to_owned(),
            format!(r#"{{"metadata":{{"user_id":"{{\"session_id\":\"{long}\"}}"}}}}"#),
        ] {
            assert_eq!(session(&body), None, "{body}");
        }
        let at_limit = "y".repeat(MAX_SESSION_ID);
        let body = format!(r#"{{"metadata":{{"user_id":"{{\"session_id\":\"{at_limit}\"}}"}}}}"#);
        assert_eq!(session(&body), Some(at_limit));
    }

    #[test]
    fn the_last_member_is_found_from_the_end_only_at_the_top_level() {
        fn found(body: &str) -> Option<&str> {
            last_top_level_value(body.as_bytes(), "usage").map(|r| &body[r])
        }
        assert_eq!(
            found(r#"{"content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":3}}"#),
            Some(r#"{"input_tokens":3}"#)
        );
        assert_eq!(
            found(" {\"a\":1 ,\n \"usage\" :\t[1, 2] }\n"),
            Some("[1, 2]")
        );
        // The key's text later in a string or a nested object is passed over.
        assert_eq!(
            found(r#"{"usage":{"input_tokens":3},"text":"a \"usage\":{\"x\":1}"}"#),
            None
        );
        assert_eq!(found(r#"{"meta":{"usage":{"input_tokens":9}}}"#), None);
        assert_eq!(
            found(r#"{"usage":{"input_tokens":3},"meta":{"usage":{"input_tokens":9}}}"#),
            None
        );
        // A key that only ends with the name, and a body that is not an object.
        assert_eq!(found(r#"{"x_usage":1}"#), None);
        assert_eq!(found(r#"{"x\"usage":1}"#), None);
        assert_eq!(found(r#"["usage",{"usage":1}]"#), None);
        assert_eq!(found(r#"{"usage":1"#), None);
        assert_eq!(found(""), None);
    }

    proptest::proptest! {
        #[test]
        fn the_last_member_from_the_end_agrees_with_the_walk(
            members in proptest::collection::vec(
                (proptest::sample::select(vec!["usage", "content", "usage_x", "id"]), "\\PC{0,12}", 0..3usize),
                1..5,
            ),
        ) {
            let value = |text: &str, shape: usize| match shape {
                0 => serde_json::json!(text),
                1 => serde_json::json!({"usage": text, "n": [text]}),
                _ => serde_json::json!([text, {"usage": {}}]),
            };
            let body = format!(
                "{{{}}}",
                members
                    .iter()
                    .map(|(key, text, shape)| format!("\"{key}\":{}", value(text, *shape)))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let last_is_usage = members.last().is_some_and(|(key, _, _)| *key == "usage");
            let only = members.iter().filter(|(key, _, _)| *key == "usage").count() == 1;
            let from_end = last_top_level_value(body.as_bytes(), "usage");
            if last_is_usage && only {
                proptest::prop_assert_eq!(from_end, top_level_value(body.as_bytes(), "usage"), "{}", body);
            } else if !last_is_usage {
                proptest::prop_assert_eq!(from_end, None, "{}", body);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = top_level_string(&bytes, "model");
            let _ = top_level_bool(&bytes, "stream");
            let _ = model(&bytes);
            let _ = last_top_level_value(&bytes, "usage");
            let _ = last_top_level_value(&[b"{\"usage\":", &bytes[..], b"}"].concat(), "usage");
            let scanned = request(&bytes);
            if let Some(metadata) = scanned.metadata {
                let _ = metadata_session(&bytes, metadata);
            }
        }

        #[test]
        fn the_session_agrees_with_serde(
            session_id in "\\PC{0,40}",
            device in "\\PC{0,10}",
            extra in "\\PC{0,20}",
        ) {
            let user_id = serde_json::json!({"device_id": device, "session_id": session_id}).to_string();
            let body = serde_json::json!({
                "model": "m",
                "messages": [{"role": "user", "content": extra}],
                "metadata": {"user_id": user_id},
            })
            .to_string();
            let expect = (!session_id.is_empty() && session_id.len() <= MAX_SESSION_ID)
                .then(|| session_id.clone());
            proptest::prop_assert_eq!(session(&body), expect);
        }

        #[test]
        fn model_agrees_with_serde_on_duplicates(
            keys in proptest::collection::vec(proptest::sample::select(vec!["model", "mod\\u0065l", "max_tokens", "modelx"]), 0..5),
        ) {
            let members: Vec<String> = keys.iter().enumerate().map(|(i, k)| format!("\"{k}\":\"v{i}\"")).collect();
            let body = format!("{{{}}}", members.join(","));
            let named_model = keys.iter().filter(|k| **k == "model" || **k == "mod\\u0065l").count();
            let expect = match named_model {
                0 => Err(ModelError::Missing),
                1 => {
                    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
                    Ok(value["model"].as_str().unwrap().to_owned())
                }
                _ => Err(ModelError::Duplicate),
            };
            proptest::prop_assert_eq!(model(body.as_bytes()).map(|f| f.value.into_owned()), expect, "{}", body);
        }

        #[test]
        fn agrees_with_serde(model in "\\PC{0,20}", extra in "\\PC{0,20}") {
            let body = serde_json::json!({"messages":[{"role":"user","content":extra}],"model":model}).to_string();
            let found = top_level_string(body.as_bytes(), "model").unwrap();
            proptest::prop_assert_eq!(&*found.value, model.as_str());
        }
    }
}
