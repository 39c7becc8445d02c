//! The price book: what one request cost. Rates come from user overrides (a TOML file) first, then
//! from the `genai-prices` crate's bundled data (offline), plus the few rates that data lacks,
//! estimated by the provider's own published rule (`ESTIMATED_CACHE_WRITES`, marked estimated). A model or usage part with no known price makes the cost
//! unknown (`None`), never $0. Pure: the caller reads the override file.

use std::collections::BTreeMap;

use std::sync::LazyLock;

use genai_prices::{Calculator, PriceRequest, UsageKey};
use serde::Deserialize;

use crate::usage::Usage;

/// The bundled price data, recorded with every priced row.
pub const BUNDLED_SOURCE: &str = "genai-prices 0.2.1 (bundled data)";

/// A cache-write rate the price data lacks although the provider bills cache writes, estimated
/// by a rule the provider publishes for its other models.
struct EstimatedCacheWrite {
    provider: &'static str,
    /// The price data's model id.
    model_id: &'static str,
    /// The write rate as a multiple of the input rate of the request's tier.
    of_input: f64,
    /// Shown under tables and kept in the summary with each estimated request.
    rule: &'static str,
}

/// genai-prices would price these writes at the plain input rate, which is too low.
///
/// MiniMax-M3: MiniMax's pay-as-you-go page (https://platform.minimax.io/docs/guides/pricing-paygo,
/// checked 2026-11) lists new input, cached input and output, but no cache-write rate; its
/// explicit cache writes on MiniMax-M2.7 cost 1.25x input ($0.375 against $0.30 per MTok). A user
/// who knows the real rate can put it in prices.toml, which then prices the request exactly.
const ESTIMATED_CACHE_WRITES: &[EstimatedCacheWrite] = &[EstimatedCacheWrite {
    provider: "minimax",
    model_id: "minimax-m3",
    of_input: 1.25,
    rule: "MiniMax-M3 cache writes priced at 1.25x input, MiniMax's rate for explicit cache writes on its \
           other models (it publishes none for M3)",
}];

/// Dollars with enough digits that small amounts do not read as zero: `$1.20`, `$0.0040`.
pub fn usd(amount: f64) -> String {
    if amount != 0.0 && amount.abs() < 0.01 {
        format!("${amount:.4}")
    } else {
        format!("${amount:.2}")
    }
}

/// What one request cost and which data said so.
#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    pub usd: f64,
    pub source: String,
    /// The rule an estimated part of the price came from; `None` when every rate is published.
    pub estimate: Option<&'static str>,
}

/// User-supplied rates, USD per million tokens. A part that is used but has no rate here makes
/// the request's cost unknown.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideRates {
    pub input: f64,
    pub output: f64,
    pub cache_read: Option<f64>,
    /// 5-minute cache writes.
    pub cache_write: Option<f64>,
    pub cache_write_1h: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideFile {
    #[serde(default)]
    models: BTreeMap<String, OverrideRates>,
}

/// Prices requests: overrides first, then the bundled data.
#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    /// Keyed by canonical model name, lowercase.
    overrides: BTreeMap<String, OverrideRates>,
    /// Shown as the source of overridden prices: the file they came from.
    overrides_source: String,
}

/// The ways a price override file can be wrong.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct OverrideError {
    pub path: String,
    pub message: String,
}

impl PriceBook {
    /// Decodes the bundled data now (tens of milliseconds), so the first priced request does not
    /// pay for it.
    pub fn warm_up() {
        let _ = calculator();
        release_decoding_garbage();
    }

    /// A book with the overrides in `text` (the TOML of the file at `path`).
    pub fn with_overrides(text: &str, path: &str) -> Result<Self, OverrideError> {
        let file: OverrideFile = toml::from_str(text).map_err(|error| OverrideError {
            path: path.to_owned(),
            message: crate::config::toml_error(&error, text),
        })?;
        let mut overrides = BTreeMap::new();
        for (name, rates) in file.models {
            let rates_ok = [
                Some(rates.input),
                Some(rates.output),
                rates.cache_read,
                rates.cache_write,
                rates.cache_write_1h,
            ]
            .into_iter()
            .flatten()
            .all(|rate| rate.is_finite() && rate >= 0.0);
            if !rates_ok {
                return Err(OverrideError {
                    path: path.to_owned(),
                    message: format!(
                        "model {name:?}: rates must be non-negative numbers (USD per million tokens)"
                    ),
                });
            }
            overrides.insert(canonical_model(&name).to_ascii_lowercase(), rates);
        }
        Ok(PriceBook {
            overrides,
            overrides_source: format!("override ({path})"),
        })
    }

    /// The cost of one request, or `None` when the model (or a part of its usage) has no known
    /// price. Tiers by input size apply to this request alone.
    pub fn price(&self, provider_id: &str, model: &str, usage: &Usage) -> Option<Priced> {
        let model = canonical_model(model);
        if let Some(rates) = self.overrides.get(&model.to_ascii_lowercase()) {
            return override_cost(rates, usage).map(|usd| Priced {
                usd,
                source: self.overrides_source.clone(),
                estimate: None,
            });
        }
        bundled_cost(provider_id, model, usage).map(|(usd, estimate)| Priced {
            usd,
            source: BUNDLED_SOURCE.to_owned(),
            estimate,
        })
    }

    /// The most one request can cost on `model` with at most `prompt_tokens` in and
    /// `output_tokens` out: every prompt token at the dearest of the input and cache-write rates
    /// (with the tier that many tokens reach), then the output. `None` when the model has no
    /// known price.
    pub fn worst_case(
        &self,
        provider_id: &str,
        model: &str,
        prompt_tokens: u64,
        output_tokens: u64,
    ) -> Option<f64> {
        let priced = |usage: Usage| {
            self.price(provider_id, model, &usage)
                .map(|priced| priced.usd)
        };
        let base = Usage {
            output_tokens,
            ..Usage::default()
        };
        let input = priced(Usage {
            input_tokens: prompt_tokens,
            ..base
        })?;
        let writes = [
            Usage {
                cache_write_5m_tokens: prompt_tokens,
                ..base
            },
            Usage {
                cache_write_1h_tokens: prompt_tokens,
                ..base
            },
        ];
        Some(writes.into_iter().filter_map(priced).fold(input, f64::max))
    }
}

fn override_cost(rates: &OverrideRates, usage: &Usage) -> Option<f64> {
    let part = |tokens: u64, rate: Option<f64>| match (tokens, rate) {
        (0, _) => Some(0.0),
        (tokens, Some(rate)) => Some(tokens as f64 * rate / 1e6),
        (_, None) => None,
    };
    Some(
        part(usage.input_tokens, Some(rates.input))?
            + part(usage.output_tokens, Some(rates.output))?
            + part(usage.cache_read_tokens, rates.cache_read)?
            + part(usage.cache_write_5m_tokens, rates.cache_write)?
            + part(usage.cache_write_1h_tokens, rates.cache_write_1h)?,
    )
}

/// The providers headroom routes to: the only ones whose prices it loads (`.ci/update-prices`
/// keeps `src/prices.json` in step with genai-prices' bundled data for them).
#[cfg(test)]
const PROVIDERS: [&str; 7] = [
    "anthropic",
    "openai",
    "minimax",
    "deepseek",
    "moonshotai",
    "zai",
    "zhipuai",
];

/// genai-prices' bundled data for `PROVIDERS` only, decoded once. The data of all 47 providers
/// kept some 17 MB of memory for the whole session, most of headroom's footprint.
pub fn calculator() -> &'static Calculator {
    static OURS: LazyLock<Option<Calculator>> =
        LazyLock::new(|| Calculator::from_json(include_bytes!("prices.json")).ok());
    // The tests check the copy decodes and matches; should it not, the full data still prices.
    OURS.as_ref().unwrap_or_else(|| Calculator::bundled())
}

fn bundled_cost(
    provider_id: &str,
    model: &str,
    usage: &Usage,
) -> Option<(f64, Option<&'static str>)> {
    // genai-prices counts every prompt token as input and the cache parts as subsets of it.
    let priced = genai_prices::Usage::from([
        (UsageKey::INPUT_TOKENS, usage.prompt_tokens() as f64),
        (UsageKey::OUTPUT_TOKENS, usage.output_tokens as f64),
        (UsageKey::CACHE_READ_TOKENS, usage.cache_read_tokens as f64),
        (
            UsageKey::CACHE_WRITE_TOKENS,
            usage.cache_write_tokens() as f64,
        ),
        (
            UsageKey::CACHE_WRITE_5M_TOKENS,
            usage.cache_write_5m_tokens as f64,
        ),
        (
            UsageKey::CACHE_WRITE_1H_TOKENS,
            usage.cache_write_1h_tokens as f64,
        ),
    ]);
    let request = PriceRequest::new(model, &priced).with_provider_id(provider_id);
    let price = calculator().calculate(&request).ok()?;
    let writes = usage.cache_write_tokens();
    let Some(estimated) = ESTIMATED_CACHE_WRITES
        .iter()
        .find(|rule| rule.provider == price.provider_id && rule.model_id == price.model_id)
        .filter(|_| writes > 0)
    else {
        return Some((price.total_price, None));
    };
    // The writes were priced as plain input; add the rest of the estimated rate, at the input
    // rate of the tier this whole prompt reaches.
    let prompt = usage.prompt_tokens();
    let all_input = genai_prices::Usage::from([(UsageKey::INPUT_TOKENS, prompt as f64)]);
    let input_usd = calculator()
        .calculate(&PriceRequest::new(model, &all_input).with_provider_id(provider_id))
        .ok()?
        .total_price;
    let input_rate = input_usd / prompt as f64;
    let extra = writes as f64 * input_rate * (estimated.of_input - 1.0);
    Some((price.total_price + extra, Some(estimated.rule)))
}

/// The name a model is priced under: without a provider prefix (`minimax/`, `deepseek/`,
/// `anthropic/`, any one word and a slash), a Bedrock region and vendor prefix and version suffix
/// (`us.anthropic.claude-sonnet-4-5-20250929-v1:0`), or a Vertex `@date`
/// (`claude-sonnet-4-5@20250929`). Dated ids themselves are matched by the price data.
pub fn canonical_model(model: &str) -> &str {
    let mut name = model.trim();
    if let Some((provider, rest)) = name.split_once('/')
        && !rest.is_empty()
        && !provider.is_empty()
        && provider
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        name = rest;
    }
    for region in ["us.", "eu.", "apac.", "global."] {
        if let Some(rest) = name.strip_prefix(region) {
            name = rest;
        }
    }
    if let Some(rest) = name.strip_prefix("anthropic.") {
        name = rest;
        // Bedrock ids end in a version such as `-v1:0`.
        if let Some((base, version)) = name.rsplit_once("-v")
            && version.contains(':')
        {
            name = base;
        }
    }
    name.split('@').next().unwrap_or(name)
}

/// Decoding the bundled data allocates about 19 MB of which only about 9 MB stay in use; glibc
/// keeps the freed rest mapped. Handing it back saves about 10 MB of resident memory for the
/// whole session (measured with `cargo bench --bench proxy`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_decoding_garbage() {
    // SAFETY: malloc_trim only returns free heap pages to the OS; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_decoding_garbage() {}

#[cfg(test)]
mod tests {
    use super::*;

    /// src/prices.json is genai-prices' own data for the providers headroom routes to: every
    /// model of theirs is there and prices the same (else run `.ci/update-prices`).
    #[test]
    fn the_loaded_price_data_is_the_bundled_data_of_our_providers() {
        let ours = Calculator::from_json(include_bytes!("prices.json")).expect("it decodes");
        let bundled = Calculator::bundled();
        let usage = genai_prices::Usage::from([
            (UsageKey::INPUT_TOKENS, 300_000.0),
            (UsageKey::OUTPUT_TOKENS, 2_000.0),
            (UsageKey::CACHE_READ_TOKENS, 100_000.0),
            (UsageKey::CACHE_WRITE_TOKENS, 50_000.0),
        ]);
        let mut models = 0;
        for provider in PROVIDERS {
            let theirs = bundled
                .find_provider(Some(provider), None)
                .unwrap()
                .unwrap_or_else(|| panic!("{provider} is not in genai-prices"));
            let mine = ours.find_provider(Some(provider), None).unwrap().unwrap();
            let ids = |info: genai_prices::ProviderInfo<'_>| {
                info.models()
                    .map(|model| model.id().to_owned())
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(mine), ids(theirs), "{provider}: run .ci/update-prices");
            for model in ids(theirs) {
                let request = PriceRequest::new(&model, &usage).with_provider_id(provider);
                let price = |calculator: &Calculator| {
                    calculator
                        .calculate(&request)
                        .ok()
                        .map(|price| price.total_price)
                };
                assert_eq!(price(&ours), price(bundled), "{provider} {model}");
                models += 1;
            }
        }
        assert!(models > 100, "{models}");
        assert!(std::ptr::eq(calculator(), calculator()));
    }

    fn usage(input: u64, output: u64, read: u64, write_5m: u64, write_1h: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_read_tokens: read,
            cache_write_5m_tokens: write_5m,
            cache_write_1h_tokens: write_1h,
        }
    }

    fn cost(provider: &str, model: &str, usage: &Usage) -> Option<f64> {
        PriceBook::default()
            .price(provider, model, usage)
            .map(|priced| priced.usd)
    }

    fn assert_usd(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("a known price");
        assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
    }

    // Expected figures are worked by hand from the vendors' published per-MTok rates:
    // claude-opus-5-5 $4 in / $20 out / $0.20 cache read / $5 5m write / $8 1h write
    // (https://platform.claude.com/docs/en/about-claude/pricing); MiniMax-M3 $0.30 in / $1.20 out /
    // $0.06 cached, all doubled above 512K input, MiniMax-M2.7 $0.30 / $1.20 / $0.06 read / $0.375
    // write (https://platform.minimax.io/docs/guides/pricing-paygo); gpt-6.1-sol $2 in / $10 out /
    // $0.10 cached up to 272K prompt tokens (https://developers.openai.com/api/docs/pricing);
    // claude-sonnet-4-5 $3 in / $15 out / $0.30 read / $3.75 5m write up to 200K.
    #[test]
    fn prices_each_part_at_its_own_rate() {
        let opus = cost(
            "anthropic",
            "claude-opus-5-5",
            &usage(1_000, 2_000, 100_000, 10_000, 5_000),
        );
        assert_usd(
            opus,
            1_000.0 * 4e-6
                + 2_000.0 * 20e-6
                + 100_000.0 * 0.2e-6
                + 10_000.0 * 5e-6
                + 5_000.0 * 8e-6,
        );
        let m27 = cost(
            "minimax",
            "MiniMax-M2.7",
            &usage(10_000, 1_000, 50_000, 4_000, 0),
        );
        assert_usd(
            m27,
            10_000.0 * 0.3e-6 + 1_000.0 * 1.2e-6 + 50_000.0 * 0.06e-6 + 4_000.0 * 0.375e-6,
        );
        let gpt = cost("openai", "gpt-6.1-sol", &usage(400, 50, 600, 0, 0));
        assert_usd(gpt, 400.0 * 2e-6 + 50.0 * 10e-6 + 600.0 * 0.1e-6);
    }

    #[test]
    fn minimax_m3_doubles_above_512k_input() {
        let below = cost(
            "minimax",
            "minimax/MiniMax-M3",
            &usage(500_000, 1_000, 12_000, 0, 0),
        );
        assert_usd(
            below,
            500_000.0 * 0.3e-6 + 1_000.0 * 1.2e-6 + 12_000.0 * 0.06e-6,
        );
        let above = cost(
            "minimax",
            "MiniMax-M3",
            &usage(600_000, 1_000, 12_000, 0, 0),
        );
        assert_usd(
            above,
            600_000.0 * 0.6e-6 + 1_000.0 * 2.4e-6 + 12_000.0 * 0.12e-6,
        );
    }

    #[test]
    fn unknown_prices_are_none_never_zero() {
        assert_eq!(
            cost("anthropic", "claude-nonexistent-9", &usage(10, 10, 0, 0, 0)),
            None
        );
        assert_eq!(
            cost("openai", "my-private-model", &usage(10, 10, 0, 0, 0)),
            None
        );
    }

    #[test]
    fn a_missing_cache_write_rate_is_estimated_by_the_providers_rule_and_says_so() {
        // MiniMax publishes no cache-write rate for M3: its writes cost 1.25x input, the rate of
        // its other models, at the tier the whole prompt reaches.
        let priced = PriceBook::default()
            .price("minimax", "MiniMax-M3", &usage(1_000, 100, 0, 10_000, 0))
            .unwrap();
        assert_usd(
            Some(priced.usd),
            1_000.0 * 0.3e-6 + 100.0 * 1.2e-6 + 10_000.0 * 0.375e-6,
        );
        assert!(priced.estimate.unwrap().contains("1.25x input"));
        let big = cost("minimax", "MiniMax-M3", &usage(500_000, 0, 0, 100_000, 0));
        assert_usd(big, 500_000.0 * 0.6e-6 + 100_000.0 * 0.75e-6);
        // Without writes, or with a published write rate, nothing is estimated.
        let plain = PriceBook::default()
            .price("minimax", "MiniMax-M3", &usage(1_000, 100, 5_000, 0, 0))
            .unwrap();
        assert_eq!(plain.estimate, None);
        let m27 = PriceBook::default()
            .price("minimax", "MiniMax-M2.7", &usage(1_000, 100, 0, 10_000, 0))
            .unwrap();
        assert_eq!(m27.estimate, None);
    }

    #[test]
    fn aliases_resolve_to_the_same_price() {
        let tokens = usage(1_000, 100, 0, 0, 0);
        let expected = cost("anthropic", "claude-sonnet-4-5", &tokens).unwrap();
        assert!((expected - (1_000.0 * 3e-6 + 100.0 * 15e-6)).abs() < 1e-12);
        for alias in [
            "claude-sonnet-4-5-20250929",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "claude-sonnet-4-5@20250929",
            "anthropic/claude-sonnet-4-5",
        ] {
            assert_eq!(cost("anthropic", alias, &tokens), Some(expected), "{alias}");
        }
        assert_eq!(canonical_model("minimax/MiniMax-M3"), "MiniMax-M3");
        assert_eq!(canonical_model("minimax/"), "minimax/");
    }

    #[test]
    fn overrides_add_and_replace_models() {
        let book = PriceBook::with_overrides(
            r#"
            [models."my-private-model"]
            input = 1.0
            output = 2.0

            [models."minimax/MiniMax-M3"]
            input = 0.3
            output = 1.2
            cache_read = 0.06
            cache_write = 0.375
            "#,
            "prices.toml",
        )
        .unwrap();
        let private = book
            .price(
                "openai",
                "my-private-model",
                &usage(1_000_000, 1_000_000, 0, 0, 0),
            )
            .unwrap();
        assert!((private.usd - 3.0).abs() < 1e-9);
        assert_eq!(private.source, "override (prices.toml)");
        // A part without a rate is unknown, not free.
        assert_eq!(
            book.price("openai", "my-private-model", &usage(1, 1, 5, 0, 0)),
            None
        );
        let m3 = book
            .price("minimax", "MiniMax-M3", &usage(0, 0, 0, 1_000_000, 0))
            .unwrap();
        assert!((m3.usd - 0.375).abs() < 1e-9);
        assert_eq!(
            book.price(
                "anthropic",
                "claude-opus-5-5",
                &usage(1_000_000, 0, 0, 0, 0)
            )
            .map(|p| p.source),
            Some(BUNDLED_SOURCE.to_owned())
        );
    }

    #[test]
    fn bad_override_files_name_the_file_and_line() {
        let cases = [
            ("[models.x]\ninput = 1\noutput = \"two\"\n", "line 3"),
            ("[models.x]\ninput = 1\n", "output"),
            ("[models.x]\ninput = 1\noutput = 2\nbogus = 3\n", "bogus"),
            ("[models.x]\ninput = -1.0\noutput = 2\n", "non-negative"),
        ];
        for (text, needle) in cases {
            let error = PriceBook::with_overrides(text, "/home/u/prices.toml")
                .unwrap_err()
                .to_string();
            assert!(error.starts_with("/home/u/prices.toml: "), "{error}");
            assert!(error.contains(needle), "{needle} missing from: {error}");
        }
    }
}
