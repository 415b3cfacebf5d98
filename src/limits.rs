//! Every bound on what one provider answer or one request may make claude-lb hold in memory
//! or spend in time, in one place.
//!
//! A provider is trusted to speak the API, not to be small or quick: an endless body, a flood
//! of events before any content or a tool call that never ends must cost a bounded amount of
//! memory. Exceeding a bound is a failed attempt with a reason that names it: before the
//! commit point it fails over like any other broken answer, after it the stream ends with
//! one Anthropic `error` event.

use std::time::Duration;

const MIB: usize = 1024 * 1024;

/// The largest whole (non-streaming) answer read from a provider. Anthropic's largest
/// answers (128k output tokens) are well under 2 MiB of JSON.
pub const MAX_WHOLE_ANSWER: usize = 32 * MIB;

/// The largest error body (a non-2xx answer) read from a provider, whether it is passed on
/// to the client or only quoted in the attempt's message.
pub const MAX_ERROR_BODY: usize = MIB;

/// The most bytes of events held back before a stream's commit point (`message_start` and
/// `ping` are a few hundred bytes in a real stream).
pub const MAX_HELD_BYTES: usize = 4 * MIB;

/// The most upstream events taken before a stream's commit point.
pub const MAX_EVENTS_BEFORE_COMMIT: usize = 10_000;

/// The most tool-call argument bytes one translated stream buffers, all calls together.
/// Arguments are buffered while a call waits for its name or for an earlier call to finish.
pub const MAX_TOOL_ARGUMENTS: usize = 16 * MIB;

/// The largest `GET /v1/models` listing read from a provider.
pub const MAX_MODEL_LIST: usize = 4 * MIB;

/// The largest `count_tokens` body estimated locally (the local estimate parses it whole).
pub const MAX_LOCAL_COUNT_TOKENS_BODY: usize = 8 * MIB;

/// How many local token estimates run at once; more wait their turn.
pub const MAX_CONCURRENT_LOCAL_COUNTS: usize = 2;

/// How long a client has to send a whole request body once its headers are in: a body that
/// stops arriving is given up then, so half-sent bodies cannot hold memory for as long as
/// their senders like. Two minutes carry the largest body (32 MiB) over 2.5 Mbit/s.
pub const REQUEST_BODY_DEADLINE: Duration = Duration::from_secs(120);

/// The largest request header section (431 beyond), over HTTP/1 and HTTP/2.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// How long a connection with no request in flight is kept open before it is closed: longer
/// than the keep-alive of the usual HTTP clients (Node's 4 s, Python's 5 s), so that a client
/// never sends on a connection the proxy is closing.
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(75);

/// The shortest total deadline of a whole (non-streaming) answer: ten minutes, the time the
/// Anthropic SDKs allow a non-streaming request.
pub const WHOLE_ANSWER_MIN_DEADLINE: Duration = Duration::from_secs(600);

/// The longest total deadline of a whole answer: an hour, the time the Anthropic SDKs expect
/// 128k output tokens to take.
pub const WHOLE_ANSWER_MAX_DEADLINE: Duration = Duration::from_secs(3600);

/// The total deadline of a whole (non-streaming) answer for a request with this `max_tokens`:
/// as the Anthropic SDKs reckon, an hour per 128k output tokens, at least
/// [`WHOLE_ANSWER_MIN_DEADLINE`] and at most [`WHOLE_ANSWER_MAX_DEADLINE`].
pub fn whole_answer_deadline(max_tokens: Option<u64>) -> Duration {
    let expected = max_tokens.unwrap_or(0).saturating_mul(3600) / 128_000;
    Duration::from_secs(expected).clamp(WHOLE_ANSWER_MIN_DEADLINE, WHOLE_ANSWER_MAX_DEADLINE)
}

/// Says how large a bound is, for messages: `32 MiB`, or bytes below a MiB.
pub fn describe_bytes(bytes: usize) -> String {
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_answer_deadline_scales_with_max_tokens_within_bounds() {
        for (max_tokens, secs) in [
            (None, 600),
            (Some(1024), 600),
            (Some(21_333), 600),
            (Some(32_000), 900),
            (Some(64_000), 1800),
            (Some(128_000), 3600),
            (Some(u64::MAX), 3600),
        ] {
            assert_eq!(
                whole_answer_deadline(max_tokens),
                Duration::from_secs(secs),
                "{max_tokens:?}"
            );
        }
    }

    #[test]
    fn describes_bounds_in_mib() {
        assert_eq!(describe_bytes(32 * MIB), "32 MiB");
        assert_eq!(describe_bytes(1000), "1000 bytes");
    }
}
