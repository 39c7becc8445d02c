//! Per (provider, model) totals, shared by every connection of a session. Each finished request is
//! recorded exactly once, priced on the way in; the ledger never touches the network or a file.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
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

impl RequestRecord {
    /// Whether the agent got an error instead of a model response.
    pub fn is_failure(&self) -> bool {
        self.status >= 400
    }
}

/// Totals for one (provider, model).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Row {
    pub provider: String,
    pub model: String,
    pub requests: u64,
    pub failed_requests: u64,
    #[serde(flatten)]
    pub usage: Usage,
    /// Tokens compression removed from what was sent upstream.
    pub tokens_saved: u64,
    /// Sum of the priced requests; `None` as soon as one request with usage had no known price.
    pub cost_usd: Option<f64>,
    /// What the removed tokens would have cost.
    pub saved_usd: Option<f64>,
}

/// Session totals, rows sorted by provider then model.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub rows: Vec<Row>,
}

impl Snapshot {
    /// The sum of all rows; `cost_usd` is the known part, `has_unknown_cost` says if any is missing.
    pub fn total(&self) -> (Row, bool) {
        let mut total = Row {
            provider: "total".into(),
            model: String::new(),
            cost_usd: Some(0.0),
            saved_usd: Some(0.0),
            ..Row::default()
        };
        let mut has_unknown_cost = false;
        for row in &self.rows {
            total.requests += row.requests;
            total.failed_requests += row.failed_requests;
            total.usage.add(&row.usage);
            total.tokens_saved += row.tokens_saved;
            match row.cost_usd {
                Some(cost) => *total.cost_usd.get_or_insert(0.0) += cost,
                None => has_unknown_cost = true,
            }
            total.saved_usd = total.saved_usd.zip(row.saved_usd).map(|(a, b)| a + b);
        }
        (total, has_unknown_cost)
    }
}

/// The session's running totals.
#[derive(Debug)]
pub struct Ledger {
    prices: PriceBook,
    rows: Mutex<BTreeMap<(String, String), Row>>,
    observer: Option<UnboundedSender<RequestRecord>>,
}

impl Ledger {
    /// A ledger pricing with `prices`; every record is also sent to `observer` (for `--verbose`).
    pub fn new(prices: PriceBook, observer: Option<UnboundedSender<RequestRecord>>) -> Self {
        Ledger {
            prices,
            rows: Mutex::new(BTreeMap::new()),
            observer,
        }
    }

    /// Records one finished request.
    pub fn record(&self, record: RequestRecord) {
        // Pricing happens per request, outside the lock, because tiers depend on each request's size.
        let cost = record
            .usage
            .map(|usage| self.prices.cost_usd(record.provider, &record.model, &usage));
        {
            let mut rows = self
                .rows
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            let row = rows
                .entry((record.provider.to_owned(), record.model.clone()))
                .or_insert_with(|| Row {
                    provider: record.provider.to_owned(),
                    model: record.model.clone(),
                    cost_usd: Some(0.0),
                    saved_usd: Some(0.0),
                    ..Row::default()
                });
            row.requests += 1;
            row.failed_requests += u64::from(record.is_failure());
            if let Some(usage) = &record.usage {
                row.usage.add(usage);
            }
            match cost {
                // A response without usage (an error, a count_tokens call) is not billed.
                None => {}
                Some(Some(cost)) => row.cost_usd = row.cost_usd.map(|sum| sum + cost),
                Some(None) => row.cost_usd = None,
            }
        }
        if let Some(observer) = &self.observer {
            let _ = observer.send(record);
        }
    }

    /// The totals so far.
    pub fn snapshot(&self) -> Snapshot {
        let rows = self
            .rows
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        Snapshot {
            rows: rows.values().cloned().collect(),
        }
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
    fn each_request_counts_once_and_unknown_prices_stay_unknown() {
        let ledger = Ledger::new(PriceBook, None);
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 0,
            ..Usage::default()
        };
        ledger.record(record("anthropic", "claude-opus-5-5", 200, Some(usage)));
        ledger.record(record("anthropic", "claude-opus-5-5", 200, Some(usage)));
        ledger.record(record("anthropic", "claude-opus-5-5", 529, None));
        ledger.record(record("openai", "mystery-model", 200, Some(usage)));
        let snapshot = ledger.snapshot();
        assert_eq!(snapshot.rows.len(), 2);
        let opus = &snapshot.rows[0];
        assert_eq!((opus.requests, opus.failed_requests), (3, 1));
        assert_eq!(opus.usage.input_tokens, 2_000_000);
        assert!((opus.cost_usd.unwrap() - 8.0).abs() < 1e-9);
        assert_eq!(snapshot.rows[1].cost_usd, None);
        let (total, has_unknown) = snapshot.total();
        assert!(has_unknown);
        assert_eq!(total.requests, 4);
        assert!((total.cost_usd.unwrap() - 8.0).abs() < 1e-9);
    }
}
