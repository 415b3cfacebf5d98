//! Provider identity and the per-provider facts that routing needs.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

/// The unique name of a provider, as written in the config (`[A-Za-z0-9_.-]+`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderId(Arc<str>);

impl ProviderId {
    /// Wraps a name that the config layer has already validated.
    pub fn new(name: &str) -> Self {
        Self(Arc::from(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// Which API a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// The Anthropic Messages API: requests pass through byte for byte.
    Anthropic,
    /// OpenAI Chat Completions: requests and responses are translated.
    OpenAi,
}

impl ProviderKind {
    /// The name used in the config file (`type:`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anthropic => "anthropic",
            Self::OpenAi => "openai",
        }
    }
}

/// The header that carries an Anthropic API key (a provider's, or a client's claude-lb key): a
/// constant, since a header name given as text is parsed again at each use.
pub const X_API_KEY: http::HeaderName = http::HeaderName::from_static("x-api-key");

/// The header that carries a provider's credential upstream, marked sensitive:
/// `Authorization: Bearer <key>` for an OpenAI-type provider or an `auth_token`, `x-api-key:
/// <key>` otherwise. `None` for a key that cannot be a header value (which the config rejects).
pub fn credential_header(
    kind: ProviderKind,
    auth_type: AuthType,
    key: &str,
) -> Option<(http::HeaderName, http::HeaderValue)> {
    let bearer = matches!(
        (kind, auth_type),
        (ProviderKind::OpenAi, _) | (ProviderKind::Anthropic, AuthType::AuthToken)
    );
    let (name, value) = if bearer {
        (
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&format!("Bearer {key}")),
        )
    } else {
        (X_API_KEY, http::HeaderValue::from_str(key))
    };
    let mut value = value.ok()?;
    value.set_sensitive(true);
    Some((name, value))
}

/// How the provider's credential is presented upstream: `x-api-key` or `Authorization: Bearer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthType {
    /// `x-api-key` for type anthropic, `Authorization: Bearer` for type openai.
    ApiKey,
    /// `Authorization: Bearer` for every type.
    AuthToken,
}

impl AuthType {
    /// The name used in the config file (`auth_type:`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::AuthToken => "auth_token",
        }
    }
}

/// A client model pattern in a `models` map: `*` matches any run of characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPattern(Box<str>);

impl ModelPattern {
    pub fn new(pattern: &str) -> Self {
        Self(Box::from(pattern))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `model` matches this pattern as a whole (`*` matches any run, even empty).
    pub fn matches(&self, model: &str) -> bool {
        glob_match(self.0.as_bytes(), model.as_bytes())
    }
}

/// Iterative glob matching with `*` only, linear in practice (backtracks to the last star).
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// A provider's `models` map: client model pattern → this provider's model, first match wins.
///
/// An empty map (no `models` key) serves every model under its own name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelMap {
    entries: Vec<(ModelPattern, Box<str>)>,
}

impl ModelMap {
    pub fn new(entries: Vec<(ModelPattern, Box<str>)>) -> Self {
        Self { entries }
    }

    pub fn entries(&self) -> &[(ModelPattern, Box<str>)] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The upstream model name for `model`, or `None` when this provider does not serve it.
    pub fn map<'a>(&'a self, model: &'a str) -> Option<&'a str> {
        if self.entries.is_empty() {
            return Some(model);
        }
        self.entries
            .iter()
            .find(|(pattern, _)| pattern.matches(model))
            .map(|(_, target)| &**target)
    }
}

/// What selection needs to know about one provider.
///
/// `core` decides on these facts only; the configuration's provider type (which also holds the
/// credential, the URL and the headers, none of which a decision reads) implements this, so the
/// pure core depends on nothing outside itself.
pub trait Routable {
    fn id(&self) -> &ProviderId;
    /// The client models it serves, and the names it knows them by.
    fn models(&self) -> &ModelMap;
    /// Its share under the `weighted` strategy.
    fn weight(&self) -> NonZeroU32;
    /// Whether requests may go to it at all (enabled, with its credential).
    fn usable(&self) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_goes_in_the_header_its_provider_reads() {
        let header = |kind, auth| {
            credential_header(kind, auth, "sk-1").map(|(name, value)| {
                (
                    name.to_string(),
                    value.to_str().unwrap().to_owned(),
                    value.is_sensitive(),
                )
            })
        };
        let api_key = ("x-api-key".to_owned(), "sk-1".to_owned(), true);
        let bearer = ("authorization".to_owned(), "Bearer sk-1".to_owned(), true);
        assert_eq!(
            header(ProviderKind::Anthropic, AuthType::ApiKey),
            Some(api_key)
        );
        assert_eq!(
            header(ProviderKind::Anthropic, AuthType::AuthToken),
            Some(bearer.clone())
        );
        assert_eq!(
            header(ProviderKind::OpenAi, AuthType::ApiKey),
            Some(bearer.clone())
        );
        assert_eq!(
            header(ProviderKind::OpenAi, AuthType::AuthToken),
            Some(bearer)
        );
        assert_eq!(
            credential_header(ProviderKind::Anthropic, AuthType::ApiKey, "sk\n1"),
            None
        );
    }

    #[track_caller]
    fn check(pattern: &str, model: &str, expect: bool) {
        assert_eq!(
            ModelPattern::new(pattern).matches(model),
            expect,
            "{pattern} ~ {model}"
        );
    }

    #[test]
    fn glob() {
        check("*", "", true);
        check("*", "claude-opus-5-5", true);
        check("claude-*haiku*", "claude-haiku-5-5", true);
        check("claude-*haiku*", "claude-3-5-haiku-latest", true);
        check("claude-*haiku*", "claude-sonnet-5-5", false);
        check("claude-opus-5-5", "claude-opus-5-5", true);
        check("claude-opus-5-5", "claude-opus-5-50", false);
        check("*-5-5", "claude-opus-5-5", true);
        check("a*b*c", "aXbYbZc", true);
        check("a*b*c", "aXbYbZ", false);
    }

    #[test]
    fn map_first_match_wins_and_empty_serves_all() {
        let map = ModelMap::new(vec![
            (ModelPattern::new("claude-*haiku*"), "small".into()),
            (ModelPattern::new("*"), "big".into()),
        ]);
        assert_eq!(map.map("claude-haiku-5-5"), Some("small"));
        assert_eq!(map.map("claude-opus-5-5"), Some("big"));
        let only = ModelMap::new(vec![(ModelPattern::new("gpt-*"), "x".into())]);
        assert_eq!(only.map("claude-opus-5-5"), None);
        assert_eq!(ModelMap::default().map("anything"), Some("anything"));
    }
}
