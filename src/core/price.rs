//! What tokens cost: a price in USD per million tokens, and the cost of one answer's usage.
//!
//! Pure arithmetic: the prices come from the configuration (`pricing:` of a provider) or the
//! built-in list of the usage ledger, and the tokens from the answer.

/// USD per million tokens, for one model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Writing the prompt cache; when unknown, cache writes cost the input price.
    pub cache_write: Option<f64>,
    /// Reading the prompt cache; when unknown, cache reads cost the input price.
    pub cache_read: Option<f64>,
}

/// The tokens of one answer, as the provider reported them. `input` excludes the cached
/// tokens, which are counted apart (as Anthropic reports them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_creation: u64,
}

impl Tokens {
    /// Every token the answer processed: input, output and both kinds of cached input.
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.output)
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_creation)
    }
}

impl Price {
    /// The cost in USD of `tokens` at this price.
    #[allow(clippy::cast_precision_loss)] // Token counts stay far below 2^52.
    pub fn cost(&self, tokens: &Tokens) -> f64 {
        let per = |n: u64, usd: f64| n as f64 * usd / 1_000_000.0;
        per(tokens.input, self.input)
            + per(tokens.output, self.output)
            + per(tokens.cache_read, self.cache_read.unwrap_or(self.input))
            + per(
                tokens.cache_creation,
                self.cache_write.unwrap_or(self.input),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_adds_each_kind_of_token_at_its_price() {
        let price = Price {
            input: 3.0,
            output: 15.0,
            cache_write: Some(3.75),
            cache_read: Some(0.3),
        };
        let tokens = Tokens {
            input: 1_000_000,
            output: 100_000,
            cache_read: 2_000_000,
            cache_creation: 10_000,
        };
        let cost = price.cost(&tokens);
        assert!((cost - (3.0 + 1.5 + 0.6 + 0.0375)).abs() < 1e-9, "{cost}");
        assert_eq!(tokens.total(), 3_110_000);
    }

    #[test]
    fn unknown_cache_prices_fall_back_to_the_input_price() {
        let price = Price {
            input: 2.0,
            output: 8.0,
            cache_write: None,
            cache_read: None,
        };
        let tokens = Tokens {
            cache_read: 500_000,
            cache_creation: 500_000,
            ..Tokens::default()
        };
        assert!((price.cost(&tokens) - 2.0).abs() < 1e-9);
    }
}
