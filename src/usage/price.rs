//! Prices: the built-in list for Anthropic's models (the data file `prices.json` beside this
//! module, with its source and date), and a provider's own `pricing:`, which wins.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::config::Provider;
use crate::core::price::Price;
use crate::core::provider::ModelPattern;

/// The built-in price list, as shipped.
pub const BUILTIN_JSON: &str = include_str!("prices.json");

#[derive(Deserialize)]
struct File {
    source: String,
    as_of: String,
    models: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    model: String,
    input: f64,
    output: f64,
    cache_write: Option<f64>,
    cache_read: Option<f64>,
}

/// The built-in prices, read once.
pub struct Builtin {
    pub source: String,
    pub as_of: String,
    pub prices: Vec<(ModelPattern, Price)>,
}

static BUILTIN: LazyLock<Builtin> = LazyLock::new(|| {
    // The file ships inside the binary and a test reads it, so it always parses.
    let file: File = serde_json::from_str(BUILTIN_JSON).unwrap_or(File {
        source: String::new(),
        as_of: String::new(),
        models: Vec::new(),
    });
    Builtin {
        source: file.source,
        as_of: file.as_of,
        prices: file
            .models
            .into_iter()
            .map(|e| {
                (
                    ModelPattern::new(&e.model),
                    Price {
                        input: e.input,
                        output: e.output,
                        cache_write: e.cache_write,
                        cache_read: e.cache_read,
                    },
                )
            })
            .collect(),
    }
});

/// The built-in price list.
pub fn builtin() -> &'static Builtin {
    &BUILTIN
}

/// The price of `upstream_model` at `provider`: its own `pricing:` first, then the built-in
/// list; `None` when neither knows the model.
pub fn lookup(provider: &Provider, upstream_model: &str) -> Option<Price> {
    provider
        .pricing
        .iter()
        .chain(builtin().prices.iter())
        .find(|(pattern, _)| pattern.matches(upstream_model))
        .map(|(_, price)| *price)
}

/// The price of each upstream model that one provider's `models:` map names, looked up once
/// per configuration, so that a request for one of them is priced by name instead of by
/// matching every pattern again.
#[derive(Debug, Default)]
pub struct ModelPrices(Vec<(Box<str>, Option<Price>)>);

impl ModelPrices {
    /// The prices of the models `provider` maps to.
    pub fn of(provider: &Provider) -> Self {
        let mut prices: Vec<(Box<str>, Option<Price>)> = Vec::new();
        for (_, model) in provider.models.entries() {
            if !prices.iter().any(|(known, _)| known == model) {
                prices.push((model.clone(), lookup(provider, model)));
            }
        }
        Self(prices)
    }

    /// [`lookup`] for `provider`, the provider these prices were made from.
    pub fn price(&self, provider: &Provider, upstream_model: &str) -> Option<Price> {
        match self.0.iter().find(|(model, _)| **model == *upstream_model) {
            Some((_, price)) => *price,
            None => lookup(provider, upstream_model),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_prices_its_mapped_models_as_a_search_of_its_patterns_would() {
        let yaml = "providers:
  - name: relay
    type: anthropic
    auth_type: api_key
    auth_value: k
    base_url: http://127.0.0.1:9
    models:
      claude-*haiku*: claude-haiku-4-5
      claude-opus*: house-model
      '*': claude-sonnet-4-5-20250929
    pricing:
      house-*: { input: 1.0, output: 2.0 }
      claude-haiku-4-5: { input: 0.5, output: 0.5 }
";
        let loaded = crate::config::load_str(yaml, "t.yaml", &|_| None).unwrap();
        let provider = &loaded.config.providers[0];
        let prices = ModelPrices::of(provider);
        assert_eq!(prices.0.len(), 3);
        for model in [
            "claude-haiku-4-5",
            "house-model",
            "claude-sonnet-4-5-20250929",
            "house-other",
            "claude-opus-4-1",
            "unknown-model",
        ] {
            assert_eq!(
                prices.price(provider, model),
                lookup(provider, model),
                "{model}"
            );
        }
        let input = |model| prices.price(provider, model).map(|p| p.input);
        assert_eq!(input("house-model"), Some(1.0));
        assert_eq!(input("claude-haiku-4-5"), Some(0.5));
        assert_eq!(input("claude-sonnet-4-5-20250929"), Some(3.0));
        assert_eq!(input("unknown-model"), None);
    }

    #[test]
    fn the_builtin_list_parses_names_its_source_and_prices_the_current_models() {
        let file: File = serde_json::from_str(BUILTIN_JSON).expect("prices.json parses");
        assert!(file.source.starts_with("https://"), "{}", file.source);
        assert_eq!(file.as_of.len(), 10, "{}", file.as_of);
        assert_eq!(builtin().prices.len(), file.models.len());
        for model in crate::models::CLAUDE_DEFAULTS {
            assert!(
                builtin().prices.iter().any(|(p, _)| p.matches(model)),
                "no built-in price for {model}"
            );
        }
        let sonnet = builtin()
            .prices
            .iter()
            .find(|(p, _)| p.matches("claude-sonnet-4-5-20250929"))
            .map(|(_, price)| *price);
        assert_eq!(
            sonnet,
            Some(Price {
                input: 3.0,
                output: 15.0,
                cache_write: Some(3.75),
                cache_read: Some(0.3)
            })
        );
        assert!(
            !builtin()
                .prices
                .iter()
                .any(|(p, _)| p.matches("deepseek-chat"))
        );
    }
}
