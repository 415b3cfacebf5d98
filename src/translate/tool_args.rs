//! Tool call arguments: OpenAI's JSON-string arguments made into text that always parses as an
//! Anthropic `input` object.
//!
//! [`JsonPrefix`] checks argument text incrementally, fragment by fragment, and forwards only
//! what can still be the start of a valid JSON object: raw control characters inside strings
//! are escaped, a bad escape becomes a literal backslash, and from the first byte that cannot
//! belong to a JSON object on, the rest is dropped. At any point it can say what text completes
//! what it forwarded (closing a string, a literal, a dangling key, the brackets). The streaming
//! translator sends that completion as the last `input_json_delta` of a tool block, so Claude
//! Code can always parse the input at `content_block_stop`, even when the upstream was cut by
//! `finish_reason: length` or sent garbage; the non-streaming translator uses the same rules, so
//! both paths agree.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// An incremental checker and repairer of JSON object text.
#[derive(Clone, Debug, Default)]
pub(crate) struct JsonPrefix {
    /// Open objects (`true`) and arrays (`false`).
    stack: Vec<bool>,
    state: State,
    /// A byte that cannot continue the text was seen: everything after it is dropped.
    dead: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// Before the top-level `{`.
    #[default]
    Start,
    /// After `{`: a key or `}`.
    KeyOrEnd,
    /// After `,` in an object: a key.
    Key,
    /// Inside a key string.
    InKey(Escape),
    /// After a key: `:`.
    Colon,
    /// After `:`, or after `,` in an array: a value.
    Value,
    /// After `[`: a value or `]`.
    ValueOrEnd,
    /// Inside a string value.
    InString(Escape),
    /// Inside `true`, `false` or `null`: the bytes still expected.
    Literal(&'static [u8]),
    /// Inside a number.
    Number(Num),
    /// After a value: `,` or a closing bracket.
    AfterValue,
    /// The top-level object is closed.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    None,
    Backslash,
    /// Inside `\uXXXX`: how many hex digits are still expected.
    Unicode(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
}

impl JsonPrefix {
    /// Checks `fragment` and appends what may be forwarded of it to `out`.
    pub(crate) fn feed(&mut self, fragment: &str, out: &mut String) {
        for c in fragment.chars() {
            if self.dead {
                return;
            }
            self.step(c, out);
        }
    }

    /// Whether the forwarded text is a complete JSON object.
    pub(crate) fn is_complete(&self) -> bool {
        self.state == State::Done
    }

    /// The text that completes what was forwarded into a valid JSON object.
    pub(crate) fn completion(&self) -> String {
        let mut out = String::new();
        let after = match self.state {
            State::Start => return "{}".to_owned(),
            State::Done
            | State::AfterValue
            | State::KeyOrEnd
            | State::ValueOrEnd
            | State::Number(Num::Zero | Num::Int | Num::Frac | Num::ExpDigits) => "",
            State::Key => "\"\":null",
            State::InKey(escape) => {
                close_string(escape, &mut out);
                ":null"
            }
            State::Colon => ":null",
            State::Value => "null",
            State::InString(escape) => {
                close_string(escape, &mut out);
                ""
            }
            State::Literal(rest) => {
                out.extend(rest.iter().map(|b| char::from(*b)));
                ""
            }
            State::Number(Num::Minus | Num::Dot | Num::Exp | Num::ExpSign) => "0",
        };
        out.push_str(after);
        for is_object in self.stack.iter().rev() {
            out.push(if *is_object { '}' } else { ']' });
        }
        out
    }

    fn step(&mut self, c: char, out: &mut String) {
        match self.state {
            State::InKey(escape) | State::InString(escape) => self.string_char(c, escape, out),
            State::Literal(rest) => {
                if rest.first().map(|b| char::from(*b)) == Some(c) {
                    out.push(c);
                    self.state = if rest.len() == 1 {
                        State::AfterValue
                    } else {
                        State::Literal(&rest[1..])
                    };
                } else {
                    self.dead = true;
                }
            }
            State::Number(num) => {
                if let Some(next) = number_step(num, c) {
                    out.push(c);
                    self.state = State::Number(next);
                } else if matches!(num, Num::Minus | Num::Dot | Num::Exp | Num::ExpSign) {
                    self.dead = true;
                } else {
                    // The number ended; the character belongs to what follows it.
                    self.state = State::AfterValue;
                    self.step(c, out);
                }
            }
            _ if c.is_ascii_whitespace() => out.push(c),
            State::Start => self.expect(c == '{', c, out, |p| {
                p.stack.push(true);
                State::KeyOrEnd
            }),
            State::KeyOrEnd if c == '}' => self.close(c, out),
            State::KeyOrEnd | State::Key => {
                self.expect(c == '"', c, out, |_| State::InKey(Escape::None));
            }
            State::Colon => self.expect(c == ':', c, out, |_| State::Value),
            State::ValueOrEnd if c == ']' => self.close(c, out),
            State::Value | State::ValueOrEnd => self.value(c, out),
            State::AfterValue => match (c, self.stack.last()) {
                (',', Some(true)) => {
                    out.push(c);
                    self.state = State::Key;
                }
                (',', Some(false)) => {
                    out.push(c);
                    self.state = State::Value;
                }
                ('}', Some(true)) | (']', Some(false)) => self.close(c, out),
                _ => self.dead = true,
            },
            State::Done => self.dead = true,
        }
    }

    fn expect(
        &mut self,
        ok: bool,
        c: char,
        out: &mut String,
        next: impl FnOnce(&mut Self) -> State,
    ) {
        if ok {
            out.push(c);
            self.state = next(self);
        } else {
            self.dead = true;
        }
    }

    fn close(&mut self, c: char, out: &mut String) {
        out.push(c);
        self.stack.pop();
        self.state = if self.stack.is_empty() {
            State::Done
        } else {
            State::AfterValue
        };
    }

    fn value(&mut self, c: char, out: &mut String) {
        let next = match c {
            '"' => State::InString(Escape::None),
            '{' => {
                self.stack.push(true);
                State::KeyOrEnd
            }
            '[' => {
                self.stack.push(false);
                State::ValueOrEnd
            }
            't' => State::Literal(b"rue"),
            'f' => State::Literal(b"alse"),
            'n' => State::Literal(b"ull"),
            '-' => State::Number(Num::Minus),
            '0' => State::Number(Num::Zero),
            '1'..='9' => State::Number(Num::Int),
            _ => {
                self.dead = true;
                return;
            }
        };
        out.push(c);
        self.state = next;
    }

    fn string_char(&mut self, c: char, escape: Escape, out: &mut String) {
        let in_key = matches!(self.state, State::InKey(_));
        let set = |p: &mut Self, e: Escape| {
            p.state = if in_key {
                State::InKey(e)
            } else {
                State::InString(e)
            };
        };
        match escape {
            Escape::Backslash => {
                if matches!(c, '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') {
                    out.push(c);
                    set(self, Escape::None);
                } else if c == 'u' {
                    out.push(c);
                    set(self, Escape::Unicode(4));
                } else {
                    // Not an escape: make the backslash literal and keep the character.
                    out.push('\\');
                    set(self, Escape::None);
                    self.string_char(c, Escape::None, out);
                }
            }
            Escape::Unicode(left) => {
                if c.is_ascii_hexdigit() {
                    out.push(c);
                    set(
                        self,
                        if left == 1 {
                            Escape::None
                        } else {
                            Escape::Unicode(left - 1)
                        },
                    );
                } else {
                    out.extend(std::iter::repeat_n('0', usize::from(left)));
                    set(self, Escape::None);
                    self.string_char(c, Escape::None, out);
                }
            }
            Escape::None => match c {
                '"' => {
                    out.push(c);
                    self.state = if in_key {
                        State::Colon
                    } else {
                        State::AfterValue
                    };
                }
                '\\' => {
                    out.push(c);
                    set(self, Escape::Backslash);
                }
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if u32::from(c) < 0x20 => {
                    // unwrap: writing to a String cannot fail.
                    write!(out, "\\u{:04x}", u32::from(c)).expect("write to string");
                }
                c => out.push(c),
            },
        }
    }
}

fn close_string(escape: Escape, out: &mut String) {
    match escape {
        Escape::None => {}
        Escape::Backslash => out.push('\\'),
        Escape::Unicode(left) => out.extend(std::iter::repeat_n('0', usize::from(left))),
    }
    out.push('"');
}

fn number_step(num: Num, c: char) -> Option<Num> {
    Some(match (num, c) {
        (Num::Minus, '0') => Num::Zero,
        (Num::Minus | Num::Int, '0'..='9') => Num::Int,
        (Num::Zero | Num::Int, '.') => Num::Dot,
        (Num::Dot | Num::Frac, '0'..='9') => Num::Frac,
        (Num::Zero | Num::Int | Num::Frac, 'e' | 'E') => Num::Exp,
        (Num::Exp, '+' | '-') => Num::ExpSign,
        (Num::Exp | Num::ExpSign | Num::ExpDigits, '0'..='9') => Num::ExpDigits,
        _ => return None,
    })
}

/// The repaired text of complete arguments: what [`JsonPrefix`] forwards plus its completion.
pub(crate) fn repair(args: &str) -> String {
    let mut checker = JsonPrefix::default();
    let mut out = String::with_capacity(args.len() + 8);
    checker.feed(args, &mut out);
    out.push_str(&checker.completion());
    out
}

/// The Anthropic `input` for OpenAI `arguments`: the parsed object when they are one; the
/// inner object when they were JSON-encoded twice; otherwise the object [`repair`] makes of
/// them (as the streaming translator would), which is `{}` for empty or garbage arguments.
pub(crate) fn to_input(args: &str) -> Value {
    match serde_json::from_str::<Value>(args) {
        Ok(Value::Object(map)) => return Value::Object(map),
        Ok(Value::String(inner)) => {
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&inner) {
                return Value::Object(map);
            }
        }
        _ => {}
    }
    match serde_json::from_str::<Value>(&repair(args)) {
        Ok(Value::Object(map)) => Value::Object(map),
        _ => Value::Object(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::{JsonPrefix, repair, to_input};

    #[test]
    fn repairs_cut_and_broken_arguments() {
        let cases = [
            ("", "{}"),
            ("  ", "  {}"),
            ("{}", "{}"),
            (r#"{"a":1}"#, r#"{"a":1}"#),
            (r#"{"command":"ls -la"#, r#"{"command":"ls -la"}"#),
            (r#"{"a":"x\"#, r#"{"a":"x\\"}"#),
            (r#"{"a":"\u00"#, r#"{"a":"\u0000"}"#),
            (r#"{"a":[1,{"b":2"#, r#"{"a":[1,{"b":2}]}"#),
            (r#"{"a""#, r#"{"a":null}"#),
            (r#"{"a":"#, r#"{"a":null}"#),
            (r#"{"a":1,"#, r#"{"a":1,"":null}"#),
            (r#"{"a":[1,"#, r#"{"a":[1,null]}"#),
            (r#"{"a":tru"#, r#"{"a":true}"#),
            (r#"{"a":-"#, r#"{"a":-0}"#),
            (r#"{"a":1.5e"#, r#"{"a":1.5e0}"#),
            (
                "{\"a\":\"line\nbreak\ttab\u{1}\"}",
                r#"{"a":"line\nbreak\ttab\u0001"}"#,
            ),
            (r#"{"a":"C:\dir"}"#, r#"{"a":"C:\\dir"}"#),
            (r#"{"a":1} trailing"#, r#"{"a":1} "#),
            (r#"{"a":1}}"#, r#"{"a":1}"#),
            ("not json", "{}"),
            ("[1,2]", "{}"),
            (r#"{"a":xyz}"#, r#"{"a":null}"#),
        ];
        for (args, expect) in cases {
            assert_eq!(repair(args), expect, "repair of {args:?}");
            assert!(serde_json::from_str::<Value>(&repair(args)).is_ok_and(|v| v.is_object()));
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

    proptest! {
        #[test]
        fn forwarded_text_plus_completion_always_parses(
            fragments in proptest::collection::vec("[a-z0-9{}\\[\\]\":,. \\\\\n-]{0,6}", 0..20),
        ) {
            let mut checker = JsonPrefix::default();
            let mut out = String::new();
            for fragment in &fragments {
                checker.feed(fragment, &mut out);
            }
            out.push_str(&checker.completion());
            let parsed: Result<Value, _> = serde_json::from_str(&out);
            prop_assert!(parsed.as_ref().is_ok_and(Value::is_object), "{:?} -> {:?}", fragments, out);
        }

        #[test]
        fn valid_objects_pass_through_unchanged_however_fragmented(
            value in proptest::collection::btree_map("[a-z\"\\\\]{0,4}", "[ -~é\n]{0,8}", 0..4),
            cut in 1..7usize,
        ) {
            let text = serde_json::to_string(&value).expect("json");
            let mut checker = JsonPrefix::default();
            let mut out = String::new();
            let chars: Vec<char> = text.chars().collect();
            for piece in chars.chunks(cut) {
                checker.feed(&piece.iter().collect::<String>(), &mut out);
            }
            prop_assert_eq!(&out, &text);
            prop_assert!(checker.is_complete());
            prop_assert_eq!(checker.completion(), "");
        }
    }
}
