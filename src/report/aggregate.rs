//! Pure: turns priced requests (of one session, or of many summaries) into grouped totals, and
//! prices the same tokens on another model. No I/O, no rendering.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::summary::SessionSummary;
use crate::pricing::PriceBook;
use crate::usage::ledger::PricedRequest;
use crate::usage::{Billing, Usage};

/// Sums over a group of requests.
///
/// Request and token counts cover every request. The dollar fields cover only requests billed by
/// the API (`billing: "api"`): usage a subscription plan covers is kept apart in `plan`, at its
/// API-equivalent price, so a plan is never added to billed dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub requests: u64,
    pub failed_requests: u64,
    #[serde(flatten)]
    pub usage: Usage,
    /// Tokens compression removed from what was sent upstream.
    pub tokens_saved: u64,
    /// The billed cost; `null` when any billed request in the group has no known price.
    #[serde(serialize_with = "micro_usd_opt")]
    pub cost_usd: Option<f64>,
    /// The priced part of the billed cost.
    #[serde(serialize_with = "micro_usd")]
    pub known_cost_usd: f64,
    /// Billed requests at a price headroom does not know.
    pub unpriced_requests: u64,
    /// What compression saved on billed requests: the removed tokens' price, less what reads of
    /// originals cost.
    #[serde(serialize_with = "micro_usd")]
    pub saved_usd: f64,
    /// Billed requests whose price is partly estimated (see `Report::estimate_rules`).
    #[serde(default)]
    pub estimated_requests: u64,
    /// Usage a subscription covers (a ChatGPT login, a Claude plan), priced as the API would
    /// have billed it. Absent when there was none.
    #[serde(default, skip_serializing_if = "PlanTotals::is_empty")]
    pub plan: PlanTotals,
    /// Reads of compressed outputs' originals by the agent.
    #[serde(default)]
    pub retrievals: u64,
    /// Tokens those reads put into prompts.
    #[serde(default)]
    pub retrieved_tokens: u64,
}

impl Default for Totals {
    fn default() -> Self {
        Totals {
            requests: 0,
            failed_requests: 0,
            usage: Usage::default(),
            tokens_saved: 0,
            cost_usd: Some(0.0),
            known_cost_usd: 0.0,
            unpriced_requests: 0,
            saved_usd: 0.0,
            estimated_requests: 0,
            plan: PlanTotals::default(),
            retrievals: 0,
            retrieved_tokens: 0,
        }
    }
}

/// The money side of usage a subscription covers: what the API would have charged for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanTotals {
    /// Requests a plan paid for.
    pub requests: u64,
    /// API-equivalent cost; `null` when any of them has no known price.
    #[serde(serialize_with = "micro_usd_opt")]
    pub cost_usd: Option<f64>,
    /// The priced part of that.
    #[serde(serialize_with = "micro_usd")]
    pub known_cost_usd: f64,
    pub unpriced_requests: u64,
    /// API-equivalent dollars compression saved on them (the plan's quota is what it really
    /// spared).
    #[serde(serialize_with = "micro_usd")]
    pub saved_usd: f64,
    /// Of them, requests whose price is partly estimated.
    #[serde(default)]
    pub estimated_requests: u64,
}

impl Default for PlanTotals {
    fn default() -> Self {
        PlanTotals {
            requests: 0,
            cost_usd: Some(0.0),
            known_cost_usd: 0.0,
            unpriced_requests: 0,
            saved_usd: 0.0,
            estimated_requests: 0,
        }
    }
}

impl PlanTotals {
    pub fn is_empty(&self) -> bool {
        self.requests == 0
    }
}

impl Totals {
    /// Requests of any billing with no known price.
    pub fn all_unpriced_requests(&self) -> u64 {
        self.unpriced_requests + self.plan.unpriced_requests
    }

    /// Adds one request.
    pub fn add(&mut self, request: &PricedRequest) {
        self.requests += 1;
        self.failed_requests += u64::from(request.is_failure());
        if let Some(usage) = request
            .usage
            .as_ref()
            .filter(|_| !request.implausible_usage)
        {
            self.usage.add(usage);
        }
        self.tokens_saved = self.tokens_saved.saturating_add(request.tokens_saved);
        self.retrievals += request.retrievals;
        self.retrieved_tokens = self
            .retrieved_tokens
            .saturating_add(request.retrieved_tokens);
        let cost = request.cost_usd.unwrap_or(0.0);
        let unpriced = u64::from(request.is_unpriced());
        let saved = request.saved_usd.unwrap_or(0.0);
        let estimated = u64::from(request.estimated);
        match request.billing {
            Billing::Api => {
                self.estimated_requests += estimated;
                self.known_cost_usd += cost;
                self.unpriced_requests += unpriced;
                self.saved_usd += saved;
                self.cost_usd = (self.unpriced_requests == 0).then_some(self.known_cost_usd);
            }
            Billing::Subscription => {
                let plan = &mut self.plan;
                plan.requests += 1;
                plan.estimated_requests += estimated;
                plan.known_cost_usd += cost;
                plan.unpriced_requests += unpriced;
                plan.saved_usd += saved;
                plan.cost_usd = (plan.unpriced_requests == 0).then_some(plan.known_cost_usd);
            }
        }
    }
}

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// One row per provider and model.
    Model,
    /// One row per provider.
    Provider,
    /// One row per agent (claude, codex).
    Agent,
    /// One row per day the session started (UTC, or with --tz local your own).
    Day,
    /// One row per session.
    Session,
    /// One row per way of paying: `api`, or `subscription` (a plan; its cost is API-equivalent).
    Billing,
    /// One row per day and provider (the HTML report's chart).
    #[value(skip)]
    DayProvider,
}

impl GroupBy {
    /// The names of the key columns.
    pub fn key_names(self) -> &'static [&'static str] {
        match self {
            GroupBy::Model => &["Provider", "Model"],
            GroupBy::Provider => &["Provider"],
            GroupBy::Agent => &["Agent"],
            GroupBy::Day => &["Day"],
            GroupBy::Session => &["Session", "Agent", "Started"],
            GroupBy::Billing => &["Billing"],
            GroupBy::DayProvider => &["Day", "Provider"],
        }
    }

    fn key(self, session: &SessionSummary, request: &PricedRequest, day: &str) -> Vec<String> {
        match self {
            GroupBy::Model => vec![request.provider.to_string(), request.model.to_string()],
            GroupBy::Provider => vec![request.provider.to_string()],
            GroupBy::Agent => vec![session.agent.clone()],
            GroupBy::Day => vec![day.to_owned()],
            GroupBy::Billing => vec![request.billing.id().to_owned()],
            GroupBy::DayProvider => vec![day.to_owned(), request.provider.to_string()],
            GroupBy::Session => vec![
                session.session_id.chars().take(8).collect(),
                session.agent.clone(),
                session.started_at.clone(),
            ],
        }
    }
}

/// Requests priced when the report ran rather than when they were recorded: they had no known
/// price, or an estimated one, and today's price book (with the user's overrides) knows better.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PricedLater {
    pub provider: String,
    pub model: String,
    pub requests: u64,
    /// The price data that priced them now.
    pub source: String,
}

/// Prices again the requests of `session` that had no known price or an estimated one, with
/// `prices`; returns what changed, one entry per provider, model and source.
pub fn price_again(session: &mut SessionSummary, prices: &PriceBook) -> Vec<PricedLater> {
    let providers = crate::providers::table();
    let mut changed: Vec<PricedLater> = Vec::new();
    for request in &mut session.requests {
        if request.implausible_usage || !(request.is_unpriced() || request.estimated) {
            continue;
        }
        let Some(usage) = request.usage else {
            continue;
        };
        let price_id = providers.price_id(&request.provider);
        let Some(priced) = prices.price(price_id, &request.model, &usage) else {
            continue;
        };
        if request.estimated && priced.estimate.is_some() {
            // Still an estimate: nothing better is known.
            continue;
        }
        request.cost_usd = Some(priced.usd);
        request.estimated = priced.estimate.is_some();
        request.estimate_rule = priced.estimate.map(std::sync::Arc::from);
        request.price_source = Some(std::sync::Arc::from(priced.source.as_str()));
        match changed.iter_mut().find(|later| {
            later.provider == *request.provider
                && later.model == *request.model
                && later.source == priced.source
        }) {
            Some(later) => later.requests += 1,
            None => changed.push(PricedLater {
                provider: request.provider.to_string(),
                model: request.model.to_string(),
                requests: 1,
                source: priced.source,
            }),
        }
    }
    changed
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The key values, in the order of `GroupBy::key_names`.
    pub key: Vec<String>,
    /// The same values by name (`provider`, `model`, `day`…).
    pub keys: BTreeMap<String, String>,
    #[serde(flatten)]
    pub totals: Totals,
}

impl Group {
    /// A row grouped `by`, with key values in the order of `by.key_names()`.
    pub fn new(by: GroupBy, key: Vec<String>, totals: Totals) -> Self {
        let keys = by
            .key_names()
            .iter()
            .map(|name| name.to_ascii_lowercase())
            .zip(key.iter().cloned())
            .collect();
        Group { key, keys, totals }
    }
}

/// Rounds dollars to micro-dollars in reports: float sums such as 0.22859999999999997 are noise.
pub fn micro_usd<S: serde::Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((value * 1e6).round() / 1e6)
}

/// `micro_usd` for a cost that may be unknown.
pub fn micro_usd_opt<S: serde::Serializer>(
    value: &Option<f64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => micro_usd(value, serializer),
        None => serializer.serialize_none(),
    }
}

/// The same token counts priced on another model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reprice {
    pub model: String,
    /// `null` when some request cannot be priced on that model.
    #[serde(serialize_with = "micro_usd_opt")]
    pub cost_usd: Option<f64>,
    #[serde(serialize_with = "micro_usd")]
    pub known_cost_usd: f64,
    pub unpriced_requests: u64,
    /// Requests priced partly by an estimated rate, and the rule.
    #[serde(default)]
    pub estimated_requests: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate_rule: Option<String>,
}

/// Grouped totals over sessions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub by: GroupBy,
    pub sessions: u64,
    /// Of them, sessions known only from their journal (headroom was stopped before it wrote the
    /// summary): counted with what they recorded.
    pub incomplete_sessions: u64,
    /// The earliest session start, RFC 3339.
    pub first_started_at: Option<String>,
    /// The latest session end, RFC 3339.
    pub last_ended_at: Option<String>,
    pub rows: Vec<Group>,
    pub total: Totals,
    pub reprice: Option<Reprice>,
    /// The rules behind estimated prices (in rows or in the reprice), each once.
    pub estimate_rules: Vec<String>,
    /// Requests priced when the report ran, not when they were recorded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub priced_later: Vec<PricedLater>,
}

/// Folds sessions into grouped totals one at a time, so memory does not grow with their number.
#[derive(Debug)]
pub struct Aggregator {
    by: GroupBy,
    groups: BTreeMap<Vec<String>, Totals>,
    total: Totals,
    sessions: u64,
    incomplete_sessions: u64,
    first_started_at: Option<String>,
    last_ended_at: Option<String>,
    reprice: Option<(PriceBook, Reprice)>,
    estimate_rules: std::collections::BTreeSet<String>,
    priced_later: Vec<PricedLater>,
    /// Where days begin and end for `--by day`.
    time_zone: jiff::tz::TimeZone,
}

/// The calendar day (`2026-11-30`) of an RFC 3339 time in `zone`; the time's own date when it
/// does not parse.
pub fn day_in(time: &str, zone: &jiff::tz::TimeZone) -> String {
    match time.parse::<jiff::Timestamp>() {
        Ok(instant) => instant.to_zoned(zone.clone()).date().to_string(),
        Err(_) => time.chars().take(10).collect(),
    }
}

impl Aggregator {
    /// An empty aggregation grouped `by`.
    pub fn new(by: GroupBy) -> Self {
        Aggregator {
            by,
            groups: BTreeMap::new(),
            total: Totals::default(),
            sessions: 0,
            incomplete_sessions: 0,
            first_started_at: None,
            last_ended_at: None,
            reprice: None,
            estimate_rules: Default::default(),
            priced_later: Vec::new(),
            time_zone: jiff::tz::TimeZone::UTC,
        }
    }

    /// Groups days in `zone` instead of UTC.
    pub fn in_time_zone(mut self, zone: jiff::tz::TimeZone) -> Self {
        self.time_zone = zone;
        self
    }

    /// Notes requests of the sessions added that were priced when the report ran.
    pub fn note_priced_later(&mut self, later: Vec<PricedLater>) {
        for entry in later {
            match self.priced_later.iter_mut().find(|known| {
                (&known.provider, &known.model, &known.source)
                    == (&entry.provider, &entry.model, &entry.source)
            }) {
                Some(known) => known.requests += entry.requests,
                None => self.priced_later.push(entry),
            }
        }
    }

    /// Also prices every request on `model` (see `reprice`).
    pub fn with_reprice(mut self, model: &str, prices: PriceBook) -> Self {
        let empty = reprice([], model, &prices);
        self.reprice = Some((prices, empty));
        self
    }

    /// Adds one session.
    pub fn add(&mut self, session: &SessionSummary) {
        self.sessions += 1;
        self.incomplete_sessions += u64::from(session.incomplete);
        // Only day groupings need the day; parsing the time is wasted on the others.
        let day = match self.by {
            GroupBy::Day | GroupBy::DayProvider => day_in(&session.started_at, &self.time_zone),
            _ => String::new(),
        };
        for request in &session.requests {
            self.groups
                .entry(self.by.key(session, request, &day))
                .or_default()
                .add(request);
            self.total.add(request);
            if let Some(rule) = &request.estimate_rule {
                self.estimate_rules.insert(rule.to_string());
            }
        }
        if let Some((prices, sum)) = &mut self.reprice {
            let part = reprice(&session.requests, &sum.model, prices);
            self.estimate_rules.extend(part.estimate_rule.clone());
            sum.estimate_rule = sum.estimate_rule.take().or(part.estimate_rule);
            sum.known_cost_usd += part.known_cost_usd;
            sum.unpriced_requests += part.unpriced_requests;
            sum.estimated_requests += part.estimated_requests;
            sum.cost_usd = (sum.unpriced_requests == 0).then_some(sum.known_cost_usd);
        }
        if self
            .first_started_at
            .as_ref()
            .is_none_or(|first| session.started_at < *first)
        {
            self.first_started_at = Some(session.started_at.clone());
        }
        if self
            .last_ended_at
            .as_ref()
            .is_none_or(|last| session.ended_at > *last)
        {
            self.last_ended_at = Some(session.ended_at.clone());
        }
    }

    /// The report so far.
    pub fn finish(self) -> Report {
        let mut rows: Vec<Group> = self
            .groups
            .into_iter()
            .map(|(key, totals)| Group::new(self.by, key, totals))
            .collect();
        if self.by == GroupBy::Session {
            // Sessions read in the order they ran, not by their random ids.
            rows.sort_by(|a, b| a.key[2].cmp(&b.key[2]).then_with(|| a.key.cmp(&b.key)));
        }
        Report {
            by: self.by,
            sessions: self.sessions,
            incomplete_sessions: self.incomplete_sessions,
            first_started_at: self.first_started_at,
            last_ended_at: self.last_ended_at,
            rows,
            total: self.total,
            reprice: self.reprice.map(|(_, reprice)| reprice),
            estimate_rules: self.estimate_rules.into_iter().collect(),
            priced_later: self.priced_later,
        }
    }
}

/// Groups every request of `sessions`.
pub fn aggregate(sessions: &[SessionSummary], by: GroupBy) -> Report {
    let mut aggregator = Aggregator::new(by);
    for session in sessions {
        aggregator.add(session);
    }
    aggregator.finish()
}

/// Prices every request of `requests` on `model` instead, keeping each request's own token split
/// (fresh input, cache reads and writes, output) and applying tiers per request.
pub fn reprice<'a>(
    requests: impl IntoIterator<Item = &'a PricedRequest>,
    model: &str,
    prices: &PriceBook,
) -> Reprice {
    let provider = crate::providers::table().price_provider_of(model);
    let mut result = Reprice {
        model: model.to_owned(),
        cost_usd: None,
        known_cost_usd: 0.0,
        unpriced_requests: 0,
        estimated_requests: 0,
        estimate_rule: None,
    };
    for usage in requests
        .into_iter()
        .filter_map(|request| request.usage.as_ref())
    {
        match prices.price(provider, model, usage) {
            Some(priced) => {
                result.known_cost_usd += priced.usd;
                if let Some(rule) = priced.estimate {
                    result.estimated_requests += 1;
                    result.estimate_rule.get_or_insert_with(|| rule.to_owned());
                }
            }
            None => result.unpriced_requests += 1,
        }
    }
    result.cost_usd = (result.unpriced_requests == 0).then_some(result.known_cost_usd);
    result
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn request(
        provider: &str,
        model: &str,
        input: u64,
        cost: Option<f64>,
    ) -> PricedRequest {
        PricedRequest {
            retrievals: 0,
            retrieved_tokens: 0,
            implausible_usage: false,
            billing: crate::usage::Billing::Api,
            partial: false,
            provider: provider.into(),
            model: model.into(),
            status: 200,
            usage: Some(Usage {
                input_tokens: input,
                ..Usage::default()
            }),
            cost_usd: cost,
            price_source: None,
            estimated: false,
            estimate_rule: None,
            error: None,
            finished_at: None,
            latency_ms: None,
            first_byte_ms: None,
            tokens_saved: 0,
            saved_usd: Some(0.0),
        }
    }

    fn session(id: &str, agent: &str, day: &str, requests: Vec<PricedRequest>) -> SessionSummary {
        SessionSummary {
            session_id: id.into(),
            agent: agent.into(),
            started_at: format!("{day}T10:00:00Z"),
            ended_at: format!("{day}T11:00:00Z"),
            requests,
            ..SessionSummary::default()
        }
    }

    #[test]
    fn groups_by_each_key_and_keeps_unknown_costs_unknown() {
        let sessions = vec![
            session(
                "aaaaaaaa11",
                "claude",
                "2026-11-01",
                vec![request("anthropic", "claude-opus-5-5", 10, Some(1.0))],
            ),
            session(
                "bbbbbbbb22",
                "codex",
                "2026-11-02",
                vec![
                    request("openai", "gpt-6.1-sol", 20, Some(2.0)),
                    request("openai", "private", 5, None),
                ],
            ),
        ];
        let by_model = aggregate(&sessions, GroupBy::Model);
        assert_eq!(by_model.rows.len(), 3);
        assert_eq!(by_model.total.requests, 3);
        assert_eq!(by_model.total.cost_usd, None);
        assert_eq!(by_model.total.known_cost_usd, 3.0);
        assert_eq!(by_model.total.unpriced_requests, 1);
        assert_eq!(
            by_model.first_started_at.as_deref(),
            Some("2026-11-01T10:00:00Z")
        );
        assert_eq!(
            by_model.last_ended_at.as_deref(),
            Some("2026-11-02T11:00:00Z")
        );

        let by_agent = aggregate(&sessions, GroupBy::Agent);
        let keys: Vec<_> = by_agent.rows.iter().map(|row| row.key.join("/")).collect();
        assert_eq!(keys, ["claude", "codex"]);
        assert_eq!(by_agent.rows[0].totals.cost_usd, Some(1.0));
        assert_eq!(by_agent.rows[1].totals.cost_usd, None);

        let by_day = aggregate(&sessions, GroupBy::Day);
        assert_eq!(by_day.rows[1].key, ["2026-11-02"]);
        // The latest session has the smallest id: rows still follow the start times.
        let latest = session(
            "00000000ff",
            "codex",
            "2026-11-05",
            vec![request("openai", "gpt-6.1-sol", 1, Some(0.1))],
        );
        let by_session = aggregate(
            &[latest, sessions[1].clone(), sessions[0].clone()],
            GroupBy::Session,
        );
        let ids: Vec<&str> = by_session
            .rows
            .iter()
            .map(|row| row.key[0].as_str())
            .collect();
        assert_eq!(ids, ["aaaaaaaa", "bbbbbbbb", "00000000"]);
        assert_eq!(aggregate(&sessions, GroupBy::Provider).rows.len(), 2);
    }

    #[test]
    fn plan_usage_and_billed_usage_are_rows_of_their_own() {
        let mut plan = request("openai", "gpt-6.1-sol", 20, Some(2.0));
        plan.billing = crate::usage::Billing::Subscription;
        let sessions = vec![session(
            "cccccccc33",
            "codex",
            "2026-11-03",
            vec![plan, request("openai", "gpt-6.1-sol", 10, Some(1.0))],
        )];
        let by_billing = aggregate(&sessions, GroupBy::Billing);
        let rows: Vec<_> = by_billing
            .rows
            .iter()
            .map(|row| (row.key.join("/"), row.totals.cost_usd))
            .collect();
        assert_eq!(
            rows,
            [
                ("api".to_owned(), Some(1.0)),
                ("subscription".to_owned(), Some(0.0))
            ]
        );
        // The plan's API-equivalent cost stays beside the billed dollars, never inside them.
        let total = &by_billing.total;
        assert_eq!((total.cost_usd, total.known_cost_usd), (Some(1.0), 1.0));
        assert_eq!(total.plan.requests, 1);
        assert_eq!(total.plan.cost_usd, Some(2.0));
        assert_eq!(total.requests, 2);
        assert_eq!(total.usage.input_tokens, 30);
    }

    #[test]
    fn reprice_keeps_the_cache_split_and_applies_tiers_per_request() {
        let cached = PricedRequest {
            usage: Some(Usage {
                input_tokens: 1_000,
                cache_read_tokens: 100_000,
                output_tokens: 500,
                ..Usage::default()
            }),
            ..request("anthropic", "claude-opus-5-5", 0, Some(0.0))
        };
        let big = request("anthropic", "claude-opus-5-5", 600_000, Some(0.0));
        let result = reprice([&cached, &big], "MiniMax-M3", &PriceBook::default());
        // MiniMax-M3: $0.30 input, $0.06 cached, $1.20 output per MTok; input above 512K tokens bills
        // at twice that (https://platform.minimax.io/docs/guides/pricing-paygo).
        let expected =
            (1_000.0 * 0.3 + 100_000.0 * 0.06 + 500.0 * 1.2) / 1e6 + 600_000.0 * 0.6 / 1e6;
        assert!(
            (result.cost_usd.unwrap() - expected).abs() < 1e-12,
            "{result:?}"
        );
        let unknown = reprice([&cached], "no-such-model", &PriceBook::default());
        assert_eq!((unknown.cost_usd, unknown.unpriced_requests), (None, 1));
    }
}
