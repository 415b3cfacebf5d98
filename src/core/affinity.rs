//! Session affinity: which provider each client session last used.
//!
//! # Policy
//!
//! Anthropic's prompt cache lives with one provider (one organisation, one key). Claude Code
//! resends its whole conversation on every turn and relies on that cache, so a turn that lands
//! on another provider pays for the whole prompt again, and a thinking block signed by one
//! provider is refused by another. So the requests of one session go to the provider that
//! answered the session's last request, while that provider is available; the selector puts it
//! first ([`crate::core::select::Selector::plan`]'s `preferred`), and whichever provider answers
//! becomes the session's, so a session that failed over stays where it landed.
//!
//! The table is bounded twice. An entry expires `ttl` after the session's last request (the
//! caller passes `ttl`, so a reload that changes it applies at once), and at most
//! [`MAX_SESSIONS`] entries are kept, the least recently used dropped first. Entries live in
//! one linked hash map ordered by last use: a lookup moves its entry to the back, so the front
//! holds the entries to expire or evict first, and both bounds cost O(1) per request.
//!
//! Sessions are keyed by a keyed 64-bit hash of their id, not the id itself: an entry's size
//! does not depend on what a client sends, and the table never holds client text. Two
//! sessions whose hashes collide (about one chance in 10⁹ with 100,000 sessions) would only
//! share a preferred provider. Replicas that share sessions must agree on the keys, so their
//! tables ([`AffinityTable::shared`]) use the first 64 bits of the id's SHA-256 instead of a
//! key of their own.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use hashlink::LinkedHashMap;
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::core::provider::ProviderId;

/// The most sessions remembered at once.
pub const MAX_SESSIONS: usize = 100_000;

/// A session, as the table knows it: a keyed hash of its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionKey(u64);

impl SessionKey {
    /// The key as a number, as replicas exchange it.
    pub fn to_bits(self) -> u64 {
        self.0
    }

    pub fn from_bits(bits: u64) -> Self {
        Self(bits)
    }
}

/// How session ids become keys.
#[derive(Debug)]
enum Keying {
    /// With random keys per process, so that a client cannot make two sessions collide on
    /// purpose.
    Random(std::collections::hash_map::RandomState),
    /// The same in every process: SHA-256, for replicas that share sessions.
    Stable,
}

/// The provider of every recent session; shared by all requests and kept across reloads.
#[derive(Debug)]
pub struct AffinityTable {
    /// Every session's entry, least recently used first. A blocking `parking_lot::Mutex`:
    /// each critical section is a hash lookup and a few pointer moves, never across an
    /// `.await`.
    sessions: Mutex<LinkedHashMap<SessionKey, Entry>>,
    capacity: usize,
    keying: Keying,
}

#[derive(Clone, Debug)]
struct Entry {
    provider: ProviderId,
    last_used: Instant,
}

/// How many sessions one provider holds, and when they were last used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSessions {
    pub provider: ProviderId,
    pub sessions: u64,
    /// The least recent last use among them.
    pub oldest: Instant,
    /// The most recent last use among them.
    pub newest: Instant,
}

impl Default for AffinityTable {
    fn default() -> Self {
        Self::new(MAX_SESSIONS)
    }
}

impl AffinityTable {
    /// A table that remembers at most `capacity` sessions (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            sessions: Mutex::new(LinkedHashMap::new()),
            capacity: capacity.max(1),
            keying: Keying::Random(std::collections::hash_map::RandomState::new()),
        }
    }

    /// A table whose keys are the same in every process, for replicas that share sessions.
    pub fn shared(capacity: usize) -> Self {
        Self {
            keying: Keying::Stable,
            ..Self::new(capacity)
        }
    }

    /// The key of the session whose id is `id`, for the requests of the routing rule named
    /// `route` (`None`: the requests no rule took). A session has a provider of its own in
    /// each route it sends requests to, so that a rule's requests (Claude Code's background
    /// requests to a cheaper model, say) do not move the session's other requests to the
    /// rule's provider. (The dispatcher still lets a rule's request follow the provider of the
    /// session's other requests when the rule holds it: see `dispatch`.)
    pub fn key(&self, id: &str, route: Option<&str>) -> SessionKey {
        // A NUL cannot be in a session header; in a decoded `metadata` id it could at worst
        // make two sessions share a preferred provider, as a hash collision would.
        let parts = [id.as_bytes(), b"\0", route.unwrap_or_default().as_bytes()];
        let parts = if route.is_some() {
            &parts[..]
        } else {
            &parts[..1]
        };
        match &self.keying {
            Keying::Random(state) => {
                let mut hasher = state.build_hasher();
                for part in parts {
                    hasher.write(part);
                }
                SessionKey(hasher.finish())
            }
            Keying::Stable => {
                let mut context = ring::digest::Context::new(&ring::digest::SHA256);
                for part in parts {
                    context.update(part);
                }
                let mut first = [0u8; 8];
                first.copy_from_slice(&context.finish().as_ref()[..8]);
                SessionKey(u64::from_be_bytes(first))
            }
        }
    }

    /// The provider of `session`, when its last use is less than `ttl` ago; counts as a use.
    pub fn lookup(&self, session: SessionKey, ttl: Duration, now: Instant) -> Option<ProviderId> {
        self.lookup_used(session, ttl, now)
            .map(|(provider, _)| provider)
    }

    /// As [`Self::lookup`], with the time of the use before this one.
    pub fn lookup_used(
        &self,
        session: SessionKey,
        ttl: Duration,
        now: Instant,
    ) -> Option<(ProviderId, Instant)> {
        let mut sessions = self.sessions.lock();
        let entry = sessions.to_back(&session)?;
        if now.saturating_duration_since(entry.last_used) >= ttl {
            sessions.remove(&session);
            return None;
        }
        let before = std::mem::replace(&mut entry.last_used, now);
        Some((entry.provider.clone(), before))
    }

    /// The provider of `session` and its last use, when that is less than `ttl` ago; does not
    /// count as a use.
    pub fn peek(
        &self,
        session: SessionKey,
        ttl: Duration,
        now: Instant,
    ) -> Option<(ProviderId, Instant)> {
        let sessions = self.sessions.lock();
        let entry = sessions.get(&session)?;
        (now.saturating_duration_since(entry.last_used) < ttl)
            .then(|| (entry.provider.clone(), entry.last_used))
    }

    /// Makes `provider` the provider of `session`, as of `now`; drops the sessions whose last
    /// use is `ttl` ago or more, then the least recently used ones beyond the capacity.
    pub fn record(&self, session: SessionKey, provider: &ProviderId, ttl: Duration, now: Instant) {
        let mut sessions = self.sessions.lock();
        match sessions.to_back(&session) {
            Some(entry) => {
                if entry.provider != *provider {
                    entry.provider = provider.clone();
                }
                entry.last_used = now;
            }
            None => {
                sessions.insert(
                    session,
                    Entry {
                        provider: provider.clone(),
                        last_used: now,
                    },
                );
            }
        }
        while let Some((_, oldest)) = sessions.front() {
            let expired = now.saturating_duration_since(oldest.last_used) >= ttl;
            if !expired && sessions.len() <= self.capacity {
                break;
            }
            sessions.pop_front();
        }
    }

    /// Forgets the sessions of the providers for which `keep` is false (on reload, those whose
    /// identity changed: a new key means a new cache).
    pub fn retain(&self, keep: impl Fn(&ProviderId) -> bool) {
        self.sessions
            .lock()
            .retain(|_, entry| keep(&entry.provider));
    }

    /// The sessions not expired at `now`.
    pub fn len(&self, ttl: Duration, now: Instant) -> usize {
        self.sessions
            .lock()
            .values()
            .filter(|e| now.saturating_duration_since(e.last_used) < ttl)
            .count()
    }

    /// Whether no session is remembered at `now`.
    pub fn is_empty(&self, ttl: Duration, now: Instant) -> bool {
        self.len(ttl, now) == 0
    }

    /// The sessions of each provider that holds any, not expired at `now`, by provider name.
    pub fn by_provider(&self, ttl: Duration, now: Instant) -> Vec<ProviderSessions> {
        let sessions = self.sessions.lock();
        let mut out: Vec<ProviderSessions> = Vec::new();
        for entry in sessions.values() {
            if now.saturating_duration_since(entry.last_used) >= ttl {
                continue;
            }
            match out.iter_mut().find(|p| p.provider == entry.provider) {
                Some(p) => {
                    p.sessions += 1;
                    p.oldest = p.oldest.min(entry.last_used);
                    p.newest = p.newest.max(entry.last_used);
                }
                None => out.push(ProviderSessions {
                    provider: entry.provider.clone(),
                    sessions: 1,
                    oldest: entry.last_used,
                    newest: entry.last_used,
                }),
            }
        }
        out.sort_by(|a, b| a.provider.cmp(&b.provider));
        out
    }
}

#[cfg(test)]
mod tests {
    // Tests may unwrap: a panic is a test failure with its location.
    #![allow(clippy::unwrap_used)]

    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn id(name: &str) -> ProviderId {
        ProviderId::new(name)
    }

    #[test]
    fn a_session_keeps_the_provider_that_answered_it_last() {
        let table = AffinityTable::default();
        let now = Instant::now();
        let s = table.key("session-1", None);
        assert_eq!(table.lookup(s, HOUR, now), None);
        table.record(s, &id("a"), HOUR, now);
        assert_eq!(table.lookup(s, HOUR, now), Some(id("a")));
        table.record(s, &id("b"), HOUR, now);
        assert_eq!(table.lookup(s, HOUR, now), Some(id("b")));
        assert_eq!(table.lookup(table.key("session-2", None), HOUR, now), None);
        assert_eq!(table.key("session-1", None), s);
        assert_ne!(table.key("session-2", None), s);
    }

    #[test]
    fn an_entry_expires_ttl_after_its_last_use() {
        let table = AffinityTable::default();
        let start = Instant::now();
        let s = table.key("s", None);
        table.record(s, &id("a"), HOUR, start);
        // A use half-way renews it.
        let half = start + HOUR / 2;
        assert_eq!(table.lookup(s, HOUR, half), Some(id("a")));
        assert_eq!(
            table.lookup(s, HOUR, half + HOUR - Duration::from_secs(1)),
            Some(id("a"))
        );
        let later = half + HOUR - Duration::from_secs(1) + HOUR;
        assert_eq!(table.lookup(s, HOUR, later), None);
        assert!(table.is_empty(HOUR, later));
        // A shorter ttl from a reload applies at once.
        table.record(s, &id("a"), HOUR, later);
        assert_eq!(
            table.lookup(s, Duration::from_secs(60), later + Duration::from_secs(61)),
            None
        );
    }

    #[test]
    fn recording_drops_expired_sessions_from_the_front() {
        let table = AffinityTable::default();
        let start = Instant::now();
        for n in 0..10 {
            table.record(table.key(&format!("old-{n}"), None), &id("a"), HOUR, start);
        }
        table.record(table.key("new", None), &id("b"), HOUR, start + HOUR);
        assert_eq!(table.sessions.lock().len(), 1);
    }

    #[test]
    fn the_least_recently_used_session_goes_first_beyond_the_capacity() {
        let table = AffinityTable::new(3);
        let now = Instant::now();
        let keys: Vec<SessionKey> = (0..3).map(|n| table.key(&format!("s{n}"), None)).collect();
        for k in &keys {
            table.record(*k, &id("a"), HOUR, now);
        }
        // s0 is used again, so s1 is now the least recently used.
        assert_eq!(table.lookup(keys[0], HOUR, now), Some(id("a")));
        table.record(table.key("s3", None), &id("b"), HOUR, now);
        assert_eq!(table.len(HOUR, now), 3);
        assert_eq!(table.lookup(keys[1], HOUR, now), None);
        assert_eq!(table.lookup(keys[0], HOUR, now), Some(id("a")));
        assert_eq!(table.lookup(keys[2], HOUR, now), Some(id("a")));
    }

    #[test]
    fn the_default_table_holds_at_most_max_sessions() {
        let table = AffinityTable::default();
        let now = Instant::now();
        for n in 0..MAX_SESSIONS + 500 {
            table.record(table.key(&n.to_string(), None), &id("a"), HOUR, now);
        }
        assert_eq!(table.len(HOUR, now), MAX_SESSIONS);
        // The first ones in are the ones dropped.
        assert_eq!(table.lookup(table.key("0", None), HOUR, now), None);
        assert_eq!(
            table.lookup(
                table.key(&(MAX_SESSIONS + 499).to_string(), None),
                HOUR,
                now
            ),
            Some(id("a"))
        );
    }

    #[test]
    fn retain_forgets_the_sessions_of_changed_providers_and_counts_the_rest() {
        let table = AffinityTable::default();
        let start = Instant::now();
        table.record(table.key("1", None), &id("a"), HOUR, start);
        table.record(
            table.key("2", None),
            &id("a"),
            HOUR,
            start + Duration::from_secs(5),
        );
        table.record(table.key("3", None), &id("b"), HOUR, start);
        let counts = table.by_provider(HOUR, start + Duration::from_secs(10));
        assert_eq!(
            counts,
            [
                ProviderSessions {
                    provider: id("a"),
                    sessions: 2,
                    oldest: start,
                    newest: start + Duration::from_secs(5),
                },
                ProviderSessions {
                    provider: id("b"),
                    sessions: 1,
                    oldest: start,
                    newest: start,
                },
            ]
        );
        table.retain(|p| p.as_str() != "a");
        assert_eq!(table.len(HOUR, start), 1);
        assert_eq!(
            table.lookup(table.key("3", None), HOUR, start),
            Some(id("b"))
        );
    }

    #[test]
    fn shared_tables_key_a_session_alike_and_private_ones_do_not_have_to() {
        let one = AffinityTable::shared(10);
        let two = AffinityTable::shared(10);
        assert_eq!(one.key("session-1", None), two.key("session-1", None));
        assert_ne!(one.key("session-1", None), one.key("session-2", None));
        // The first 64 bits of SHA-256("session-1"), so that any replica, of any version,
        // finds the same key.
        assert_eq!(one.key("session-1", None).to_bits(), 0x8409_7828_fc31_a8c8);
        let key = SessionKey::from_bits(one.key("session-1", None).to_bits());
        assert_eq!(key, two.key("session-1", None));
        // A route's key is also the same in every replica: SHA-256("session-1\0background").
        assert_eq!(
            one.key("session-1", Some("background")).to_bits(),
            0xef79_4834_c59b_e9af
        );
        assert_eq!(
            one.key("session-1", Some("background")),
            two.key("session-1", Some("background"))
        );
    }

    #[test]
    fn a_session_has_a_provider_of_its_own_in_each_route() {
        for table in [AffinityTable::default(), AffinityTable::shared(10)] {
            let now = Instant::now();
            let main = table.key("s", None);
            let background = table.key("s", Some("background"));
            let thinking = table.key("s", Some("thinking"));
            assert_ne!(main, background);
            assert_ne!(background, thinking);
            table.record(main, &id("a"), HOUR, now);
            table.record(background, &id("cheap"), HOUR, now);
            assert_eq!(table.lookup(main, HOUR, now), Some(id("a")));
            assert_eq!(table.lookup(background, HOUR, now), Some(id("cheap")));
            assert_eq!(table.lookup(thinking, HOUR, now), None);
            // `peek` does not renew; `lookup_used` does, and says when the last use was.
            let later = now + Duration::from_secs(5);
            assert_eq!(table.peek(main, HOUR, later), Some((id("a"), now)));
            assert_eq!(table.lookup_used(main, HOUR, later), Some((id("a"), now)));
            assert_eq!(table.peek(main, HOUR, later), Some((id("a"), later)));
            assert_eq!(table.peek(main, Duration::from_secs(1), later + HOUR), None);
            // The parts are kept apart: an id ending in a route's name is not that route.
            assert_ne!(table.key("sbackground", None), background);
            assert_ne!(table.key("s", Some("")), main);
        }
    }
}
