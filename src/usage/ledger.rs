//! The session's record of finished requests, shared by every connection. Each request is recorded
//! exactly once and priced on the way in (tiers depend on each request's own size); its saving is
//! priced when the requests are read at the end, once compression has counted it. Nothing reads
//! savings while the proxy serves, and pricing one costs a model lookup in the price data (a
//! sizable share of a compressed request's cost on the proxy thread, measured with `cargo bench
//! --bench compress`). The ledger never touches the network or a file.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use super::journal::Journal;
use super::quota::QuotaWindow;
use super::status::LiveStatus;
use super::{Billing, Compression, PromptDelta, UpstreamError, Usage};
use crate::pricing::PriceBook;
use crate::providers::Provider;

/// One finished request, as the proxy saw it.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// Who served it.
    pub provider: Provider,
    /// The model as reported by the upstream, else as forwarded.
    pub model: String,
    /// Upstream host, for `--verbose` (never a URL with credentials).
    pub upstream: String,
    /// HTTP status returned to the agent.
    pub status: u16,
    /// Usage the response reported, if any.
    pub usage: Option<Usage>,
    /// The error the upstream answered with, if any.
    pub error: Option<UpstreamError>,
    /// Time from receiving the request to the end of the response.
    pub latency: Duration,
    /// Time from receiving the request to the upstream's response headers, when it answered.
    pub first_byte: Option<Duration>,
    /// What compression did to this request, if anything.
    pub compression: Option<Arc<dyn Compression>>,
    /// The answer did not run to its end (see `PricedRequest::partial`).
    pub partial: bool,
    /// Who pays for it.
    pub billing: Billing,
}

impl RequestRecord {
    /// A request headroom answered itself (refused, or its upstream unreachable): no usage, no
    /// upstream answer.
    pub fn unanswered(
        provider: Provider,
        model: String,
        upstream: String,
        status: u16,
        latency: Duration,
        billing: Billing,
    ) -> Self {
        RequestRecord {
            provider,
            model,
            upstream,
            status,
            usage: None,
            error: None,
            latency,
            first_byte: None,
            compression: None,
            partial: false,
            billing,
        }
    }
}

/// One request with its price, as kept in the ledger and in the session summary.
///
/// The names are shared (`Arc<str>`): a session keeps every request for the summary, and a few
/// distinct names repeated thousands of times should not cost a copy each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricedRequest {
    pub provider: Arc<str>,
    pub model: Arc<str>,
    pub status: u16,
    /// `None` when the response reported no usage (errors, count_tokens): nothing was billed.
    pub usage: Option<Usage>,
    /// `None` when usage was reported but has no known price.
    pub cost_usd: Option<f64>,
    /// Which price data priced it.
    pub price_source: Option<Arc<str>>,
    /// Part of the price is an estimate, by the rule in `estimate_rule` (a rate the provider does
    /// not publish, derived from one it does).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate_rule: Option<Arc<str>>,
    /// Tokens compression removed from the request.
    #[serde(default)]
    pub tokens_saved: u64,
    /// What compression saved on this request, net of what the agent's reads of originals added;
    /// `None` when unknown.
    #[serde(default)]
    pub saved_usd: Option<f64>,
    /// Reads of compressed outputs' originals in this request's newest turn.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retrievals: u64,
    /// Tokens those reads (and replays of earlier ones) put into the prompt.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retrieved_tokens: u64,
    /// `subscription` when a plan the agent is signed in to pays (its cost is then what the API
    /// would have charged), else `api`.
    #[serde(default)]
    pub billing: Billing,
    /// The answer did not run to its end: the agent hung up (status 499), the upstream broke off
    /// (502) or went quiet (504), or the session ended first. Its usage is what had arrived.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// The error the upstream answered with (type and message, made safe to show).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<UpstreamError>,
    /// When the answer ended (RFC 3339, milliseconds) and how long the request took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Time to the upstream's response headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_byte_ms: Option<u64>,
    /// The upstream reported more tokens than any request can use: its usage is kept here as
    /// reported, but neither priced (the cost is unknown) nor summed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implausible_usage: bool,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl State {
    fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.names.get(name) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(name);
        self.names.insert(shared.clone());
        shared
    }
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

#[derive(Debug)]
struct UnpricedSaving {
    /// The request's index in `State::requests`.
    index: usize,
    /// The provider its prices are under in the price data.
    price_provider: &'static str,
    compression: Arc<dyn Compression>,
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<PricedRequest>,
    /// Requests whose saving is not priced yet (see the top of this file).
    unpriced_savings: Vec<UnpricedSaving>,
    /// Every distinct provider, model and price-source name, shared by the requests.
    names: HashSet<Arc<str>>,
    /// Billed (`Billing::Api`) requests only: what the budget counts.
    known_cost_usd: f64,
    unpriced_requests: u64,
    /// Worst-case costs of the requests in flight under a budget (see `reserve`).
    reserved_usd: f64,
    /// The last known use of each plan window, one entry per plan and window.
    quota: Vec<QuotaWindow>,
}

/// A request's worst-case cost, held against the budget while it is in flight and released
/// (when dropped) once its real cost is recorded.
#[derive(Debug)]
pub struct Reservation {
    ledger: Arc<Ledger>,
    usd: f64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut state = self.ledger.lock();
        state.reserved_usd = (state.reserved_usd - self.usd).max(0.0);
    }
}

/// Why a request may not go out under the budget.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Its worst case does not fit in what is left.
    Exhausted {
        spent_usd: f64,
        reserved_usd: f64,
        worst_usd: f64,
    },
    /// The model has no known price, so its cost cannot be bounded.
    Unpriced,
}

/// The session's running record.
#[derive(Debug)]
pub struct Ledger {
    prices: PriceBook,
    state: Mutex<State>,
    observer: Option<UnboundedSender<RequestRecord>>,
    /// Where each finished request is also appended, for a session that never writes its summary.
    journal: Mutex<Option<Journal>>,
}

impl Ledger {
    /// A ledger pricing with `prices`; every record is also sent to `observer` (for `--verbose`).
    pub fn new(prices: PriceBook, observer: Option<UnboundedSender<RequestRecord>>) -> Self {
        Ledger {
            prices,
            state: Mutex::new(State::default()),
            observer,
            journal: Mutex::new(None),
        }
    }

    /// Appends every request recorded from now on to `journal` too.
    pub fn with_journal(self, journal: Journal) -> Self {
        *self
            .journal
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(journal);
        self
    }

    /// The journal, taken out (to remove it once the summary is written, or to flush it).
    pub fn take_journal(&self) -> Option<Journal> {
        self.journal
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take()
    }

    /// Records one finished request.
    pub fn record(&self, record: RequestRecord) {
        let implausible_usage = record.usage.is_some_and(|usage| !usage.is_plausible());
        let priced = record
            .usage
            .as_ref()
            .filter(|_| !implausible_usage)
            .and_then(|usage| {
                self.prices
                    .price(record.provider.price_id(), &record.model, usage)
            });
        // Pricing above happens outside the lock; only the bookkeeping below is inside.
        let mut state = self.lock();
        if let Some(compression) = &record.compression {
            let index = state.requests.len();
            state.unpriced_savings.push(UnpricedSaving {
                index,
                price_provider: record.provider.price_id(),
                compression: compression.clone(),
            });
        }
        let request = PricedRequest {
            provider: state.intern(record.provider.id()),
            model: state.intern(&record.model),
            status: record.status,
            usage: record.usage,
            cost_usd: match (&record.usage, &priced) {
                (None, _) => Some(0.0),
                (Some(_), priced) => priced.as_ref().map(|priced| priced.usd),
            },
            estimated: priced
                .as_ref()
                .is_some_and(|priced| priced.estimate.is_some()),
            estimate_rule: priced
                .as_ref()
                .and_then(|priced| priced.estimate)
                .map(|rule| state.intern(rule)),
            price_source: priced.map(|priced| state.intern(&priced.source)),
            // Set by `requests` when it has savings.
            tokens_saved: 0,
            saved_usd: Some(0.0),
            retrievals: record
                .compression
                .as_ref()
                .map_or(0, |compression| compression.retrievals()),
            retrieved_tokens: 0,
            partial: record.partial,
            billing: record.billing,
            error: record.error.clone(),
            finished_at: Some(
                humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            ),
            latency_ms: u64::try_from(record.latency.as_millis()).ok(),
            first_byte_ms: record
                .first_byte
                .and_then(|first| u64::try_from(first.as_millis()).ok()),
            implausible_usage,
        };
        if request.billing == Billing::Api {
            state.known_cost_usd += request.cost_usd.unwrap_or(0.0);
            state.unpriced_requests += u64::from(request.is_unpriced());
        }
        if let Some(journal) = &*self
            .journal
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
        {
            journal.append(&request);
        }
        state.requests.push(request);
        drop(state);
        if let Some(observer) = &self.observer {
            let _ = observer.send(record);
        }
    }

    /// What compression saved on this request: the price of the usage the provider would have
    /// billed without compression (the removed tokens back, the reads of originals it caused
    /// gone), minus the price of what it billed. Negative when reads cost more than was removed.
    ///
    /// Tokens of the newest turn would have been written to the cache when the provider reports
    /// cache writes for the request (else sent as plain input); tokens replayed from earlier
    /// turns would have been read from the cache when it reports cache reads.
    fn saved_usd(
        &self,
        provider: &str,
        model: &str,
        usage: Option<Usage>,
        billed_usd: Option<f64>,
        delta: PromptDelta,
    ) -> Option<f64> {
        let Some(usage) = usage.filter(|_| delta != PromptDelta::default()) else {
            // Nothing changed, or nothing billed (an error reply): nothing saved.
            return Some(0.0);
        };
        let mut without = usage;
        let newest = match (usage.cache_write_5m_tokens, usage.cache_write_1h_tokens) {
            (0, 0) => &mut without.input_tokens,
            (five, one) if one > five => &mut without.cache_write_1h_tokens,
            _ => &mut without.cache_write_5m_tokens,
        };
        *newest = newest
            .saturating_add(delta.removed_newest)
            .saturating_sub(delta.added_newest);
        let earlier = if usage.cache_read_tokens > 0 {
            &mut without.cache_read_tokens
        } else {
            &mut without.input_tokens
        };
        *earlier = earlier
            .saturating_add(delta.removed_earlier)
            .saturating_sub(delta.added_earlier);
        let counterfactual = self.prices.price(provider, model, &without)?.usd;
        Some(counterfactual - billed_usd?)
    }

    /// Holds the worst case of a request (`prompt_tokens` at most in, `output_tokens` at most out)
    /// against `budget_usd`, if it fits beside what is spent and what requests in flight hold:
    /// concurrent requests can then never spend more than the budget together.
    pub fn reserve(
        self: &Arc<Self>,
        budget_usd: f64,
        provider: &str,
        model: &str,
        prompt_tokens: u64,
        output_tokens: u64,
    ) -> Result<Reservation, Refusal> {
        let worst_usd = self
            .prices
            .worst_case(provider, model, prompt_tokens, output_tokens)
            .ok_or(Refusal::Unpriced)?;
        let mut state = self.lock();
        if state.known_cost_usd + state.reserved_usd + worst_usd > budget_usd {
            return Err(Refusal::Exhausted {
                spent_usd: state.known_cost_usd,
                reserved_usd: state.reserved_usd,
                worst_usd,
            });
        }
        state.reserved_usd += worst_usd;
        drop(state);
        Ok(Reservation {
            ledger: self.clone(),
            usd: worst_usd,
        })
    }

    /// The known billed cost so far, and how many billed requests had no known price (plan usage
    /// is not billed).
    pub fn spent(&self) -> (f64, u64) {
        let state = self.lock();
        (state.known_cost_usd, state.unpriced_requests)
    }

    /// Keeps `windows` as the last known use of their plan windows.
    pub fn note_quota(&self, windows: Vec<QuotaWindow>) {
        if windows.is_empty() {
            return;
        }
        let mut state = self.lock();
        for window in windows {
            state
                .quota
                .retain(|known| (&known.plan, &known.window) != (&window.plan, &window.window));
            state.quota.push(window);
        }
    }

    /// The last known use of each plan window, by plan and window.
    pub fn quota(&self) -> Vec<QuotaWindow> {
        let mut quota = self.lock().quota.clone();
        quota.sort_by(|a, b| (&a.plan, &a.window).cmp(&(&b.plan, &b.window)));
        quota
    }

    /// The session's figures so far (pricing the savings counted so far first, which may wait
    /// for counts under way: call it off the request path).
    pub fn status(&self, budget_usd: Option<f64>) -> LiveStatus {
        self.settle_savings();
        let plan_quota = self.quota();
        let state = self.lock();
        let mut status = LiveStatus {
            budget_left_usd: budget_usd.map(|budget| (budget - state.known_cost_usd).max(0.0)),
            plan_quota,
            ..LiveStatus::default()
        };
        for request in &state.requests {
            status.requests += 1;
            status.failed_requests += u64::from(request.is_failure());
            if let Some(usage) = request.usage.filter(|_| !request.implausible_usage) {
                status.input_tokens += usage.input_tokens;
                status.output_tokens += usage.output_tokens;
                status.cache_read_tokens += usage.cache_read_tokens;
                status.cache_write_tokens += usage.cache_write_tokens();
            }
            status.saved_usd += request.saved_usd.unwrap_or(0.0);
            match request.billing {
                Billing::Api => {
                    status.cost_usd += request.cost_usd.unwrap_or(0.0);
                    status.unpriced_requests += u64::from(request.is_unpriced());
                    status.estimated_requests += u64::from(request.estimated);
                }
                Billing::Subscription => {
                    status.plan_usd += request.cost_usd.unwrap_or(0.0);
                    status.plan_requests += 1;
                }
            }
            if request.error.is_some() {
                status.last_error = request.error.clone();
            }
        }
        if let Some(last) = state.requests.iter().rev().find(|r| r.usage.is_some()) {
            status.last_model = Some(last.model.to_string());
            status.last_provider = Some(last.provider.to_string());
        }
        let prompt = status.input_tokens + status.cache_read_tokens + status.cache_write_tokens;
        if prompt > 0 {
            status.cache_read_share = status.cache_read_tokens as f64 / prompt as f64;
        }
        status
    }

    /// Every request so far, in the order they finished, each saving priced (waiting for counts
    /// still under way: call it once the proxy is done).
    pub fn requests(&self) -> Vec<PricedRequest> {
        self.requests_since(0)
    }

    /// The requests from the `from`-th on (for an exporter that sent the earlier ones), each
    /// saving priced.
    pub fn requests_since(&self, from: usize) -> Vec<PricedRequest> {
        self.settle_savings();
        self.lock()
            .requests
            .get(from..)
            .unwrap_or_default()
            .to_vec()
    }

    /// Prices the savings of the requests recorded so far. The counts and prices are made
    /// outside the lock, so the proxy can record requests meanwhile.
    fn settle_savings(&self) {
        /// A saving to price, with what pricing it needs of its request.
        struct Pending {
            saving: UnpricedSaving,
            model: Arc<str>,
            usage: Option<Usage>,
            cost_usd: Option<f64>,
        }
        let pending: Vec<Pending> = {
            let mut state = self.lock();
            let State {
                requests,
                unpriced_savings,
                ..
            } = &mut *state;
            unpriced_savings
                .drain(..)
                .map(|saving| {
                    let request = &requests[saving.index];
                    Pending {
                        model: request.model.clone(),
                        usage: request.usage,
                        cost_usd: request.cost_usd,
                        saving,
                    }
                })
                .collect()
        };
        if pending.is_empty() {
            return;
        }
        let priced: Vec<(usize, PromptDelta, Option<f64>)> = pending
            .into_iter()
            .map(|pending| {
                let delta = pending.saving.compression.delta();
                let saved = self.saved_usd(
                    pending.saving.price_provider,
                    &pending.model,
                    pending.usage,
                    pending.cost_usd,
                    delta,
                );
                (pending.saving.index, delta, saved)
            })
            .collect();
        let mut state = self.lock();
        for (index, delta, saved_usd) in priced {
            let request = &mut state.requests[index];
            request.tokens_saved = delta.removed_newest.saturating_add(delta.removed_earlier);
            request.retrieved_tokens = delta.added_newest.saturating_add(delta.added_earlier);
            request.saved_usd = saved_usd;
        }
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
        let provider = match provider {
            "anthropic" => Provider::Anthropic,
            "openai" => Provider::OpenAi,
            other => Provider::Compatible(crate::providers::table().get(other).unwrap()),
        };
        RequestRecord {
            provider,
            model: model.into(),
            upstream: "test".into(),
            status,
            usage,
            error: None,
            latency: Duration::ZERO,
            first_byte: None,
            compression: None,
            partial: false,
            billing: Billing::Api,
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

    // claude-opus-5-5: $4 input, $0.20 cache read, $5 5-minute cache write per MTok
    // (https://platform.claude.com/docs/en/about-claude/pricing).
    #[test]
    fn removed_tokens_are_priced_where_they_would_have_been_billed() {
        let ledger = Ledger::new(PriceBook::default(), None);
        let cached = Usage {
            input_tokens: 10,
            cache_read_tokens: 50_000,
            cache_write_5m_tokens: 3_000,
            ..Usage::default()
        };
        let mut with_removed = record("anthropic", "claude-opus-5-5", 200, Some(cached));
        with_removed.compression = Some(Arc::new(crate::compress::Savings::counted(PromptDelta {
            removed_newest: 1_000,
            removed_earlier: 20_000,
            ..PromptDelta::default()
        })));
        ledger.record(with_removed.clone());
        let mut uncached = with_removed;
        uncached.usage = Some(Usage {
            input_tokens: 500,
            ..Usage::default()
        });
        ledger.record(uncached);
        let requests = ledger.requests();
        assert_eq!(requests[0].tokens_saved, 21_000);
        let cached_saving = 1_000.0 * 5e-6 + 20_000.0 * 0.2e-6;
        assert!((requests[0].saved_usd.unwrap() - cached_saving).abs() < 1e-12);
        let plain_saving = 21_000.0 * 4e-6;
        assert!((requests[1].saved_usd.unwrap() - plain_saving).abs() < 1e-12);
    }

    #[test]
    fn a_saving_still_being_counted_is_priced_once_counted() {
        let ledger = Ledger::new(PriceBook::default(), None);
        let usage = Usage {
            input_tokens: 500,
            ..Usage::default()
        };
        let original = "error: could not compile `headroom`\n".repeat(40);
        let mut pending = record("anthropic", "claude-opus-5-5", 200, Some(usage));
        let savings = crate::compress::Savings::uncounted(&original);
        assert!(savings.is_pending());
        pending.compression = Some(Arc::new(savings));
        ledger.record(pending);
        assert_eq!(
            ledger.lock().unpriced_savings.len(),
            1,
            "recording never counts"
        );
        // The summary does, if nothing else did first.
        let tokens = crate::tokens::count(&original);
        let requests = ledger.requests();
        assert_eq!(requests[0].tokens_saved, tokens);
        assert!((requests[0].saved_usd.unwrap() - tokens as f64 * 4e-6).abs() < 1e-12);
        assert_eq!(requests[0].cost_usd, Some(500.0 * 4e-6));
    }
}
