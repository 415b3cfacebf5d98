//! The wire shapes of the admin API, shared by the server (`serve`) and its clients
//! (`providers list --remote`, `top`), so both read and write one type.

use serde::{Deserialize, Serialize};

/// One provider as `GET /providers` describes it: its live state, never a secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderStatus {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub enabled: bool,
    /// `available`, `cooling_down`, `unusable` or `disabled`; kept as text so a client shows a
    /// state a newer server adds instead of refusing the whole list.
    pub state: String,
    /// Why an enabled provider cannot take requests (`missing $VAR`), when it cannot.
    #[serde(default)]
    pub unusable: Option<String>,
    /// Seconds of cooldown left, to a tenth.
    pub cooldown_remaining_s: f64,
    pub consecutive_failures: u32,
    pub requests: u64,
    pub failures: u64,
    pub last_error: Option<String>,
    pub latency_ms: Option<u64>,
}

/// One element of `GET /events`: a failed attempt or a failed request, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEntry {
    /// When, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The provider it happened to; absent for a request no provider could answer.
    #[serde(default)]
    pub provider: Option<String>,
    /// `failover`, `cooldown` or `failed_request`; kept as text so a client shows a kind a
    /// newer server adds.
    pub kind: String,
    /// Why (`status_529`, `timeout`, ...), or empty.
    #[serde(default)]
    pub reason: String,
}

impl From<&crate::metrics::Event> for EventEntry {
    fn from(event: &crate::metrics::Event) -> Self {
        Self {
            at_unix_ms: event.at_unix_ms,
            provider: event.provider.as_ref().map(|p| p.as_str().to_owned()),
            kind: event.kind.as_str().to_owned(),
            reason: event.reason.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_status_has_the_documented_keys_and_reads_back() {
        let status = ProviderStatus {
            name: "main".to_owned(),
            kind: "anthropic".to_owned(),
            enabled: true,
            state: "cooling_down".to_owned(),
            unusable: None,
            cooldown_remaining_s: 12.5,
            consecutive_failures: 2,
            requests: 9,
            failures: 3,
            last_error: Some("HTTP 529 overloaded_error: Overloaded".to_owned()),
            latency_ms: Some(840),
        };
        let value = serde_json::to_value(&status).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "consecutive_failures",
                "cooldown_remaining_s",
                "enabled",
                "failures",
                "last_error",
                "latency_ms",
                "name",
                "requests",
                "state",
                "type",
                "unusable",
            ]
        );
        assert_eq!(
            serde_json::from_value::<ProviderStatus>(value).unwrap(),
            status
        );
    }
}
