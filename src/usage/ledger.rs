//! The session's record of finished requests, shared by every connection. Each request is recorded
//! exactly once and priced on the way in (tiers depend on each request's own size); the ledger
//! never touches the network or a file.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use super::Usage;
use crate::pricing::PriceBook;

/// One finished request, as the proxy saw it.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// Provider id (`anthropic`, `openai`, `minimax`).
    pub provider: &'static str,
    /// The model as reported by the upstream, else as forwarded.
    pub model: String,
    /// Upstream host, for `--verbose` (never a URL with credentials).
    pub upstream: String,
    /// HTTP status returned to the agent.
    pub status: u16,
    /// Usage the response reported, if any.
    pub usage: Option<Usage>,
    /// Time from receiving the request to the end of the response.
    pub latency: Duration,
}

/// One request with its price, as kept in the ledger and in the session summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricedRequest {
    pub provider: String,
    pub model: String,
    pub status: u16,
    /// `None` when the response reported no usage (errors, count_tokens): nothing was billed.
    pub usage: Option<Usage>,
    /// `None` when usage was reported but has no known price.
    pub cost_usd: Option<f64>,
    /// Which price data priced it.
    pub price_source: Option<String>,
}

impl PricedRequest {
    /// Whether the agent got an error instead of a model response.
    pub fn is_failure(&self) -> bool {
        self.status >= 400
    }

    /// Whether the request was billed at a price headroom does not know.
    pub fn is_unpriced(&self) -> bool {
        self.usage.is_some() && self.cost_usd.is_none()
    }
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<PricedRequest>,
    known_cost_usd: f64,
    unpriced_requests: u64,
}

/// The session's running record.
#[derive(Debug)]
pub struct Ledger {
    prices: PriceBook,
    state: Mutex<State>,
    observer: Option<UnboundedSender<RequestRecord>>,
}

impl Ledger {
    /// A ledger pricing with `prices`; every record is also sent to `observer` (for `--verbose`).
    pub fn new(prices: PriceBook, observer: Option<UnboundedSender<RequestRecord>>) -> Self {
        Ledger {
            prices,
            state: Mutex::new(State::default()),
            observer,
        }
    }

    /// Records one finished request.
    pub fn record(&self, record: RequestRecord) {
        let priced = record
            .usage
            .as_ref()
            .and_then(|usage| self.prices.price(record.provider, &record.model, usage));
        let request = PricedRequest {
            provider: record.provider.to_owned(),
            model: record.model.clone(),
            status: record.status,
            usage: record.usage,
            cost_usd: match (&record.usage, &priced) {
                (None, _) => Some(0.0),
                (Some(_), priced) => priced.as_ref().map(|priced| priced.usd),
            },
            price_source: priced.map(|priced| priced.source),
        };
        {
            let mut state = self.lock();
            state.known_cost_usd += request.cost_usd.unwrap_or(0.0);
            state.unpriced_requests += u64::from(request.is_unpriced());
            state.requests.push(request);
        }
        if let Some(observer) = &self.observer {
            let _ = observer.send(record);
        }
    }

    /// The known cost so far, and how many requests had no known price.
    pub fn spent(&self) -> (f64, u64) {
        let state = self.lock();
        (state.known_cost_usd, state.unpriced_requests)
    }

    /// Every request so far, in the order they finished.
    pub fn requests(&self) -> Vec<PricedRequest> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        provider: &'static str,
        model: &str,
        status: u16,
        usage: Option<Usage>,
    ) -> RequestRecord {
        RequestRecord {
            provider,
            model: model.into(),
            upstream: "test".into(),
            status,
            usage,
            latency: Duration::ZERO,
        }
    }

    #[test]
    fn each_request_is_priced_once_and_unknown_prices_stay_unknown() {
        let ledger = Ledger::new(PriceBook::default(), None);
        let usage = Usage {
            input_tokens: 1_000_000,
            ..Usage::default()
        };
        ledger.record(record("anthropic", "claude-opus-5-5", 200, Some(usage)));
        ledger.record(record("anthropic", "claude-opus-5-5", 529, None));
        ledger.record(record("openai", "mystery-model", 200, Some(usage)));
        let requests = ledger.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[0].cost_usd, Some(4.0));
        assert_eq!(
            requests[0].price_source.as_deref(),
            Some(crate::pricing::BUNDLED_SOURCE)
        );
        assert_eq!(
            requests[1].cost_usd,
            Some(0.0),
            "an error reply is not billed"
        );
        assert!(requests[1].is_failure());
        assert!(requests[2].is_unpriced());
        assert_eq!(ledger.spent(), (4.0, 1));
    }
}
