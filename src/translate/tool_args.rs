//! Tool call arguments: turning OpenAI's JSON-string arguments into an Anthropic `input` object,
//! and repairing arguments cut short (for instance by `finish_reason: length`).
//!
//! The repair only ever *appends* text (closing a string, brackets, a dangling key), so the
//! streaming translator can send it as one last `input_json_delta` after fragments it has
//! already forwarded, and the non-streaming translator gets the same object.

use serde_json::{Map, Value};

/// The text to append to `args` so that it parses as a JSON object, `None` when it already
/// does (or when no appended text can fix it). Empty arguments get `{}`.
pub(crate) fn repair_suffix(args: &str) -> Option<String> {
    if args.trim().is_empty() {
        return Some("{}".to_owned());
    }
    if serde_json::from_str::<serde::de::IgnoredAny>(args).is_ok() {
        return None;
    }
    let mut closers = Vec::new();
    let mut in_string = false;
    let mut escape = false;
    for c in args.chars() {
        if in_string {
            match (escape, c) {
                (true, _) => escape = false,
                (false, '\\') => escape = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => closers.push('}'),
            '[' => closers.push(']'),
            '}' | ']' => {
                closers.pop();
            }
            _ => {}
        }
    }
    let mut quote = String::new();
    if in_string {
        if escape {
            quote.push('\\');
        }
        quote.push('"');
    }
    let close: String = closers.iter().rev().collect();
    ["", ":null", "null", "\"\":null"]
        .iter()
        .map(|middle| format!("{quote}{middle}{close}"))
        .find(|suffix| {
            let mut candidate = String::with_capacity(args.len() + suffix.len());
            candidate.push_str(args);
            candidate.push_str(suffix);
            matches!(
                serde_json::from_str::<Value>(&candidate),
                Ok(Value::Object(_))
            )
        })
}

/// The Anthropic `input` for OpenAI `arguments`: the parsed object; `{}` for empty arguments;
/// the inner object when the arguments were JSON-encoded twice; the repaired object when they
/// were cut short; `{}` when nothing can be recovered.
pub(crate) fn to_input(args: &str) -> Value {
    match serde_json::from_str::<Value>(args) {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(Value::String(inner)) => match serde_json::from_str::<Value>(&inner) {
            Ok(Value::Object(map)) => Value::Object(map),
            _ => Value::Object(Map::new()),
        },
        Ok(_) => Value::Object(Map::new()),
        Err(_) => repair_suffix(args)
            .and_then(|suffix| serde_json::from_str(&format!("{args}{suffix}")).ok())
            .unwrap_or_else(|| Value::Object(Map::new())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{repair_suffix, to_input};

    #[test]
    fn repairs_by_appending() {
        let cases = [
            ("", Some("{}")),
            ("  ", Some("{}")),
            ("{}", None),
            (r#"{"a":1}"#, None),
            (r#"{"command":"ls -la"#, Some(r#""}"#)),
            (r#"{"a":"x\"#, Some(r#"\"}"#)),
            (r#"{"a":[1,{"b":2"#, Some("}]}")),
            (r#"{"a""#, Some(":null}")),
            (r#"{"a":"#, Some("null}")),
            (r#"{"a":1,"#, Some(r#""":null}"#)),
            ("{", Some("}")),
            (r#"{"a":tru"#, None),
        ];
        for (args, expect) in cases {
            assert_eq!(repair_suffix(args).as_deref(), expect, "repair of {args:?}");
        }
    }

    #[test]
    fn converts_arguments_to_input() {
        assert_eq!(to_input(r#"{"command":"ls"}"#), json!({"command": "ls"}));
        assert_eq!(to_input(""), json!({}));
        assert_eq!(to_input(r#""{\"a\":1}""#), json!({"a": 1}));
        assert_eq!(
            to_input(r#"{"command":"ls -la"#),
            json!({"command": "ls -la"})
        );
        assert_eq!(to_input("[1,2]"), json!({}));
        assert_eq!(to_input("not json at all"), json!({}));
    }
}
