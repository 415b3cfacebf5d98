//! What one attempt needs to know, shared by the attempt up to the commit point
//! (`attempt`) and the committed stream after it (`stream`), so that neither imports the other
//! for it.

use std::ops::Range;
use std::sync::Arc;

use tokio::time::Instant;

use super::{ClientRequest, Generation, Route};
use crate::config::{Provider, Settings};
use crate::core::health::HealthTable;
use crate::metrics::Metrics;
use crate::upstream::Upstream;

/// One attempt against one provider: the request, the provider and the shared state.
pub(super) struct Context<'a> {
    pub provider: &'a Provider,
    /// Removes `provider`'s key from what it says.
    pub scrubber: &'a crate::upstream::Scrubber,
    /// The prices of the models `provider` maps to.
    pub prices: &'a crate::usage::price::ModelPrices,
    pub settings: &'a Settings,
    pub upstream: &'a Upstream,
    pub health: &'a Arc<HealthTable>,
    pub metrics: &'a Arc<Metrics>,
    pub generation: &'a Arc<Generation>,
    pub request: &'a ClientRequest,
    pub client_model: &'a str,
    pub model_span: Range<usize>,
    pub upstream_model: &'a str,
    pub request_id: &'a Arc<str>,
    pub started: Instant,
    /// When the request arrived, in milliseconds since the Unix epoch, for the usage ledger.
    pub started_ms: i64,
    pub route: Route,
    /// The routing rule that chose the providers, for the log line (see `Decided::label`).
    pub route_label: Option<&'a Arc<str>>,
    pub recorder: &'a crate::usage::Recorder,
    /// How long a whole (non-streamed) answer may take, from the request's `max_tokens`
    /// ([`crate::limits::whole_answer_deadline`]), read in the body scan that found the model.
    pub whole_answer: std::time::Duration,
}
