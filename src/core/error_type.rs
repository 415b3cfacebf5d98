//! The error types of the Anthropic API, each with the HTTP status Anthropic answers it with.
//!
//! They live in the pure core because the core decides on them (which error event fails over,
//! which verdict answers a request every provider failed); `translate` re-exports them beside
//! the wire types.

/// The error types Anthropic defines, each with its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    InvalidRequest,
    Authentication,
    Billing,
    Permission,
    NotFound,
    Conflict,
    RequestTooLarge,
    RateLimit,
    Api,
    Timeout,
    Overloaded,
}

impl ErrorType {
    pub(crate) const ALL: [Self; 11] = [
        Self::InvalidRequest,
        Self::Authentication,
        Self::Billing,
        Self::Permission,
        Self::NotFound,
        Self::Conflict,
        Self::RequestTooLarge,
        Self::RateLimit,
        Self::Api,
        Self::Timeout,
        Self::Overloaded,
    ];

    /// The type's name on the wire, e.g. `overloaded_error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request_error",
            Self::Authentication => "authentication_error",
            Self::Billing => "billing_error",
            Self::Permission => "permission_error",
            Self::NotFound => "not_found_error",
            Self::Conflict => "conflict_error",
            Self::RequestTooLarge => "request_too_large",
            Self::RateLimit => "rate_limit_error",
            Self::Api => "api_error",
            Self::Timeout => "timeout_error",
            Self::Overloaded => "overloaded_error",
        }
    }

    /// The type of a wire name, `None` for a name Anthropic does not define.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The HTTP status Anthropic answers this type with.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Authentication => 401,
            Self::Billing => 402,
            Self::Permission => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::RequestTooLarge => 413,
            Self::RateLimit => 429,
            Self::Api => 500,
            Self::Timeout => 504,
            Self::Overloaded => 529,
        }
    }

    /// The type for an HTTP status claude-lb answers with: the inverse of [`Self::status`],
    /// with `invalid_request_error` for another 4xx and `api_error` for anything else.
    pub fn for_status(status: u16) -> Self {
        Self::ALL
            .into_iter()
            .find(|t| t.status() == status && *t != Self::InvalidRequest && *t != Self::Api)
            .unwrap_or(if (400..=499).contains(&status) {
                Self::InvalidRequest
            } else {
                Self::Api
            })
    }
}
