//! The price book: what one request cost, from the `genai-prices` crate's bundled data (offline),
//! plus the few facts it lacks, kept in `MISSING_CACHE_WRITE_PRICE` below. A model with no known
//! price is reported as unknown (`None`), never as $0.

use genai_prices::{Calculator, PriceRequest, UsageKey};

use crate::usage::Usage;

/// Where prices come from, recorded in every summary.
pub const PRICE_SOURCE: &str = "genai-prices 0.2.1 (bundled data)";

/// Models whose bundled entry has no cache-write rate although the provider bills cache writes.
///
/// genai-prices would price such writes at the plain input rate; we call the cost unknown instead.
/// MiniMax-M3: MiniMax's pay-as-you-go page lists new input, cached input and output, but no
/// cache-write rate (checked 2026-11; M2.7 shows $0.375/MTok, M3 shows none).
const MISSING_CACHE_WRITE_PRICE: &[(&str, &str)] = &[("minimax", "minimax-m3")];

/// Prices requests with the data built into this headroom release.
#[derive(Debug, Clone, Copy)]
pub struct PriceBook;

impl PriceBook {
    /// Decodes the bundled data now (tens of milliseconds), so the first priced request does not
    /// pay for it.
    pub fn warm_up() {
        let _ = Calculator::bundled();
        release_decoding_garbage();
    }

    /// The cost in USD of one request, or `None` when the model (or a part of its usage) has no
    /// known price. Tiers by input size apply to this request alone.
    pub fn cost_usd(&self, provider_id: &str, model: &str, usage: &Usage) -> Option<f64> {
        let model = crate::proxy::route::upstream_model_name(model);
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
        let price = Calculator::bundled().calculate(&request).ok()?;
        let lacks_write_price = MISSING_CACHE_WRITE_PRICE
            .iter()
            .any(|&(provider, id)| provider == price.provider_id && id == price.model_id);
        if lacks_write_price && usage.cache_write_tokens() > 0 {
            return None;
        }
        Some(price.total_price)
    }
}

/// Decoding the bundled data allocates about 19 MB of which only about 9 MB stay in use; glibc
/// keeps the freed rest mapped. Handing it back keeps headroom's resident memory under 20 MB for
/// the whole session (measured with `cargo bench --bench proxy`).
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

    fn usage(input: u64, output: u64, read: u64, write_5m: u64, write_1h: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_read_tokens: read,
            cache_write_5m_tokens: write_5m,
            cache_write_1h_tokens: write_1h,
        }
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
    // $0.10 cached up to 272K prompt tokens (https://developers.openai.com/api/docs/pricing).
    #[test]
    fn prices_each_part_at_its_own_rate() {
        let book = PriceBook;
        let opus = book.cost_usd(
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
        let m27 = book.cost_usd(
            "minimax",
            "MiniMax-M2.7",
            &usage(10_000, 1_000, 50_000, 4_000, 0),
        );
        assert_usd(
            m27,
            10_000.0 * 0.3e-6 + 1_000.0 * 1.2e-6 + 50_000.0 * 0.06e-6 + 4_000.0 * 0.375e-6,
        );
        let gpt = book.cost_usd("openai", "gpt-6.1-sol", &usage(400, 50, 600, 0, 0));
        assert_usd(gpt, 400.0 * 2e-6 + 50.0 * 10e-6 + 600.0 * 0.1e-6);
    }

    #[test]
    fn minimax_m3_doubles_above_512k_input() {
        let book = PriceBook;
        let below = book.cost_usd(
            "minimax",
            "minimax/MiniMax-M3",
            &usage(500_000, 1_000, 12_000, 0, 0),
        );
        assert_usd(
            below,
            500_000.0 * 0.3e-6 + 1_000.0 * 1.2e-6 + 12_000.0 * 0.06e-6,
        );
        let above = book.cost_usd(
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
        let book = PriceBook;
        assert_eq!(
            book.cost_usd("anthropic", "claude-nonexistent-9", &usage(10, 10, 0, 0, 0)),
            None
        );
        assert_eq!(
            book.cost_usd("openai", "my-private-model", &usage(10, 10, 0, 0, 0)),
            None
        );
        // MiniMax publishes no cache-write rate for M3: a request that wrote to the cache is unknown.
        assert_eq!(
            book.cost_usd("minimax", "MiniMax-M3", &usage(10, 10, 0, 100, 0)),
            None
        );
    }
}
