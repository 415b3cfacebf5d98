// Tests may unwrap: a panic is a test failure with its location.
#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn messages_read_back_as_written_and_unknown_ones_are_refused() {
    let message = Message::Cooldown {
        from: "r1".to_owned(),
        provider: "a".to_owned(),
        until_ms: 1_800_000_000_000,
        error: "HTTP 529".to_owned(),
        rate_limited: true,
    };
    let text = serde_json::to_string(&message).unwrap();
    assert_eq!(
        text,
        r#"{"kind":"cooldown","from":"r1","provider":"a","until_ms":1800000000000,"error":"HTTP 529","rate_limited":true}"#
    );
    assert!(matches!(
        serde_json::from_str::<Message>(&text).unwrap(),
        Message::Cooldown {
            until_ms: 1_800_000_000_000,
            ..
        }
    ));
    assert!(serde_json::from_str::<Message>(r#"{"kind":"reboot","from":"r1"}"#).is_err());
}

#[test]
fn instants_travel_as_unix_milliseconds() {
    let now = Instant::now();
    let later = now + Duration::from_secs(90);
    let ms = ms_of(later);
    let back = instant_of(ms, now).unwrap();
    // Two readings of the wall clock apart: within a few milliseconds.
    let apart = if back > later {
        back - later
    } else {
        later - back
    };
    assert!(apart < Duration::from_millis(50), "{apart:?}");
    assert_eq!(
        instant_of(now_ms() - 1000, now),
        None,
        "a time already past"
    );
}

#[test]
fn keys_name_what_they_hold() {
    assert_eq!(
        session_key(SessionKey::from_bits(0xab)),
        "claude-lb:session:00000000000000ab"
    );
    assert_eq!(cooldown_key(&ProviderId::new("a")), "claude-lb:cooldown:a");
    assert_eq!(
        budget_keys("alice", 10, 20),
        (
            "claude-lb:budget:alice:tokens:10".to_owned(),
            "claude-lb:budget:alice:usd:20".to_owned()
        )
    );
    assert_eq!(replica_name().len(), 16);
    assert_ne!(replica_name(), replica_name());
}
