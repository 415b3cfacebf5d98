//! The simulated provider: answers Anthropic Messages and `OpenAI` Chat Completions requests
//! with generated, well-formed responses (streaming or not, text or a tool call), and injects
//! faults at a seeded, deterministic rate.
//!
//! Generation is a pure function of the request body, the options and a sequence number, so
//! the same request always gets the same answer. The request is parsed with a borrowed,
//! targeted parse (only the client's latest turn and the tools up to the one called are
//! decoded), because Claude Code bodies are large and this server is the benchmark's baseline.
//!
//! This module holds the options and the seeded fault plan; [`answer`] reads a request and
//! decides what the simulated model answers, and [`render`] writes that answer in either wire
//! format.

mod answer;
mod render;

use std::time::Duration;

use crate::core::num::splitmix64;

pub(crate) use render::{Generated, count_tokens, generate, models};

/// How the simulated provider behaves.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Wait before sending the response headers (zero: no timer at all).
    pub latency: Duration,
    /// Wait before each streamed event after the first (zero: the stream is sent in one write).
    pub event_gap: Duration,
    /// Share of generation requests (messages, chat completions) that get a fault, 0 to 1.
    pub fail_rate: f64,
    /// Which faults, in which proportions, when one is injected.
    pub fault: FaultMix,
    /// Seed of the fault sequence: the same seed gives the same faults for the same request
    /// numbers.
    pub seed: u64,
    /// Seconds sent in `retry-after` with an injected 429.
    pub retry_after_secs: u64,
    /// Words of generated text per answer (each word counts as one output token).
    pub words: usize,
    /// Record every request (turn off for long benchmark runs to bound memory).
    pub record: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            event_gap: Duration::ZERO,
            fail_rate: 0.0,
            fault: FaultMix::default(),
            seed: 0,
            retry_after_secs: 1,
            words: 12,
            record: true,
        }
    }
}

/// Relative shares of each fault kind; they need not add up to one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaultMix {
    /// HTTP 529 `overloaded_error` (Anthropic kind) or 503 `server_error` (`OpenAI` kind).
    pub overloaded: f64,
    /// HTTP 429 with `retry-after`.
    pub rate_limited: f64,
    /// A 200 whose body is cut halfway (after half the events when streaming).
    pub cut_stream: f64,
    /// Headers never sent (until shutdown).
    pub stall: f64,
}

impl Default for FaultMix {
    fn default() -> Self {
        Self {
            overloaded: 0.4,
            rate_limited: 0.3,
            cut_stream: 0.3,
            stall: 0.0,
        }
    }
}

/// One injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    Overloaded,
    RateLimited,
    CutStream,
    Stall,
}

/// Why a [`SimOptions`] cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SimError {
    #[error("fail rate {0} is outside 0..=1")]
    FailRate(f64),
    #[error("fault share `{name}` is {value}; a share must be a finite number, 0 or more")]
    Share { name: &'static str, value: f64 },
    #[error(
        "every fault share is 0 while the fail rate is {0}; give at least one fault kind a share"
    )]
    EmptyMix(f64),
}

impl SimOptions {
    /// Checks the rates and shares.
    pub fn validate(&self) -> Result<(), SimError> {
        if !(0.0..=1.0).contains(&self.fail_rate) {
            return Err(SimError::FailRate(self.fail_rate));
        }
        let FaultMix {
            overloaded,
            rate_limited,
            cut_stream,
            stall,
        } = self.fault;
        for (name, value) in [
            ("overloaded", overloaded),
            ("rate_limited", rate_limited),
            ("cut_stream", cut_stream),
            ("stall", stall),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(SimError::Share { name, value });
            }
        }
        if self.fail_rate > 0.0 && overloaded + rate_limited + cut_stream + stall <= 0.0 {
            return Err(SimError::EmptyMix(self.fail_rate));
        }
        Ok(())
    }

    /// The fault injected into generation request number `n` (counting from 0), if any.
    ///
    /// Deterministic: a function of the seed, the rate, the mix and `n` only.
    pub fn fault_for(&self, n: u64) -> Option<Fault> {
        if self.fail_rate <= 0.0 {
            return None;
        }
        let first = splitmix64(self.seed ^ n.wrapping_mul(0xA076_1D64_78BD_642F));
        if unit(first) >= self.fail_rate {
            return None;
        }
        let FaultMix {
            overloaded,
            rate_limited,
            cut_stream,
            stall,
        } = self.fault;
        let pick = unit(splitmix64(first)) * (overloaded + rate_limited + cut_stream + stall);
        let fault = if pick < overloaded {
            Fault::Overloaded
        } else if pick < overloaded + rate_limited {
            Fault::RateLimited
        } else if pick < overloaded + rate_limited + cut_stream || stall <= 0.0 {
            Fault::CutStream
        } else {
            Fault::Stall
        };
        Some(fault)
    }
}

/// Maps 53 random bits onto `[0, 1)`.
#[allow(clippy::cast_precision_loss)] // 53 bits fit an f64 mantissa exactly.
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1_u64 << 53) as f64
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn validate_names_the_bad_field() {
        let bad_rate = SimOptions {
            fail_rate: 1.5,
            ..SimOptions::default()
        };
        assert_eq!(bad_rate.validate(), Err(SimError::FailRate(1.5)));
        let bad_share = SimOptions {
            fault: FaultMix {
                stall: -1.0,
                ..FaultMix::default()
            },
            ..SimOptions::default()
        };
        assert_eq!(
            bad_share.validate(),
            Err(SimError::Share {
                name: "stall",
                value: -1.0
            })
        );
        let empty = SimOptions {
            fail_rate: 0.5,
            fault: FaultMix {
                overloaded: 0.0,
                rate_limited: 0.0,
                cut_stream: 0.0,
                stall: 0.0,
            },
            ..SimOptions::default()
        };
        assert_eq!(empty.validate(), Err(SimError::EmptyMix(0.5)));
        assert_eq!(SimOptions::default().validate(), Ok(()));
    }
}
