//! Pure: the several views the HTML report shows at once, folded from sessions in one pass:
//! totals and rows by model, cost per day and provider, one line per session, and compression by
//! kind. No I/O, no rendering.

use std::collections::BTreeMap;

use super::aggregate::{Aggregator, GroupBy, Report};
use super::summary::SessionSummary;
use crate::compress::KindTotals;

/// One session, as the HTML report lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionLine {
    pub session_id: String,
    pub agent: String,
    pub started_at: String,
    /// `None` when the end is unknown (a session read from its journal).
    pub duration_secs: Option<u64>,
    /// The model most of its requests went to.
    pub model: String,
    pub requests: u64,
    /// Billed dollars (known part), the plan's API-equivalent, and whether some price is unknown.
    pub cost_usd: f64,
    pub plan_usd: f64,
    pub unpriced: bool,
    pub incomplete: bool,
}

/// Everything the HTML report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub by_model: Report,
    /// Rows keyed `[day, provider]`.
    pub by_day_provider: Report,
    /// Newest first.
    pub sessions: Vec<SessionLine>,
    pub compression: BTreeMap<String, KindTotals>,
}

/// Folds sessions into an `Overview`.
#[derive(Debug)]
pub struct OverviewAggregator {
    by_model: Aggregator,
    by_day_provider: Aggregator,
    sessions: Vec<SessionLine>,
    compression: BTreeMap<String, KindTotals>,
}

impl Default for OverviewAggregator {
    fn default() -> Self {
        OverviewAggregator {
            by_model: Aggregator::new(GroupBy::Model),
            by_day_provider: Aggregator::new(GroupBy::DayProvider),
            sessions: Vec::new(),
            compression: BTreeMap::new(),
        }
    }
}

impl OverviewAggregator {
    /// Counts days in `zone` instead of UTC.
    pub fn in_time_zone(mut self, zone: jiff::tz::TimeZone) -> Self {
        self.by_day_provider = self.by_day_provider.in_time_zone(zone);
        self
    }

    /// Adds one session.
    pub fn add(&mut self, session: &SessionSummary) {
        self.by_model.add(session);
        self.by_day_provider.add(session);
        for (kind, totals) in &session.compression {
            let sum = self.compression.entry(kind.clone()).or_default();
            sum.outputs += totals.outputs;
            sum.tokens_before += totals.tokens_before;
            sum.tokens_after += totals.tokens_after;
            sum.lossy_outputs += totals.lossy_outputs;
        }
        let one = super::aggregate::aggregate(std::slice::from_ref(session), GroupBy::Model);
        let model = one
            .rows
            .iter()
            .max_by_key(|row| row.totals.requests)
            .map(|row| row.key[1].clone())
            .unwrap_or_default();
        let time = |text: &str| humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok();
        let duration_secs = match (time(&session.started_at), time(&session.ended_at)) {
            (Some(start), Some(end)) if !session.incomplete => {
                end.duration_since(start).ok().map(|d| d.as_secs())
            }
            _ => None,
        };
        self.sessions.push(SessionLine {
            session_id: session.session_id.chars().take(8).collect(),
            agent: session.agent.clone(),
            started_at: session.started_at.clone(),
            duration_secs,
            model,
            requests: one.total.requests,
            cost_usd: one.total.known_cost_usd,
            plan_usd: one.total.plan.known_cost_usd,
            unpriced: one.total.all_unpriced_requests() > 0,
            incomplete: session.incomplete,
        });
    }

    /// The overview so far.
    pub fn finish(self) -> Overview {
        let mut sessions = self.sessions;
        sessions.sort_by(|a, b| b.started_at.cmp(&a.started_at));
        Overview {
            by_model: self.by_model.finish(),
            by_day_provider: self.by_day_provider.finish(),
            sessions,
            compression: self.compression,
        }
    }
}
