//! The JSON session summary: a versioned record of one wrapped session, written by `wrap` and read
//! by `report`. Schema and (de)serialization only; `home::write_atomically` and `report::run` do
//! the file I/O. A summary never contains a key or the session secret.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::aggregate::{Group, GroupBy, Report, Reprice, Totals, aggregate};
use crate::compress::KindTotals;
use crate::usage::UpstreamError;
use crate::usage::ledger::PricedRequest;
use crate::usage::quota::QuotaWindow;

/// Bumped whenever a field changes meaning or disappears; readers skip other versions.
pub const SCHEMA_VERSION: u32 = 1;

/// One wrapped session.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub schema_version: u32,
    /// Random id; `report` counts a session once however many copies of its file it is given.
    pub session_id: String,
    pub headroom_version: String,
    /// `claude` or `codex`.
    pub agent: String,
    /// headroom's own command line, credentials redacted.
    pub argv: Vec<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC.
    pub ended_at: String,
    /// What headroom exited with (the agent's code, or 128+signal).
    pub exit_code: u8,
    /// The directory the agent ran in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The root of the git repository the agent ran in, if any (`report --project` matches it,
    /// else `cwd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// One row per provider and model, for people and `jq`; `report` reads `requests`.
    #[serde(default)]
    pub models: Vec<ModelRow>,
    #[serde(default)]
    pub totals: Totals,
    /// Every request, with its usage and price.
    pub requests: Vec<PricedRequest>,
    /// What compression did, by kind (`log`, `json`, `search`, …): new tool outputs compressed,
    /// their tokens before and after, and how many were cut rather than rewritten losslessly.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub compression: BTreeMap<String, KindTotals>,
    /// `wrap --compare MODEL`: the same tokens priced on that model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<Reprice>,
    /// Read back from a journal: headroom stopped before it wrote the summary (killed, power
    /// lost), so the session counts what it had recorded, and its end and exit code are unknown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
    /// The last known use of each window of the plans that paid for requests, as their upstreams
    /// reported it (`anthropic-ratelimit-unified-*`, `x-codex-*-used-percent`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_quota: Vec<QuotaWindow>,
    /// `wrap --budget USD`: the limit and what happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetOutcome>,
}

/// Totals of one provider and model in a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRow {
    pub provider: String,
    pub model: String,
    /// The price data that priced this model's requests (`null` when none could).
    pub price_source: Option<String>,
    /// Requests the upstream answered with an error, and the first such error.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub upstream_errors: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_upstream_error: Option<UpstreamError>,
    #[serde(flatten)]
    pub totals: Totals,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// How a session's budget went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetOutcome {
    pub budget_usd: f64,
    /// The known cost when the session ended.
    pub spent_usd: f64,
    /// Requests refused because the budget was reached.
    pub refused_requests: u64,
    /// False when some requests had no known price, so the spend may be higher than counted.
    pub fully_enforced: bool,
}

impl SessionSummary {
    /// Fills `models` and `totals` from `requests`.
    pub fn with_rows(mut self) -> Self {
        let report = aggregate(std::slice::from_ref(&self), GroupBy::Model);
        self.models = report
            .rows
            .into_iter()
            .map(|group| {
                let [provider, model] = <[String; 2]>::try_from(group.key).unwrap_or_default();
                let of_row = || {
                    self.requests.iter().filter(|request| {
                        *request.provider == *provider && *request.model == *model
                    })
                };
                let price_source =
                    of_row().find_map(|request| request.price_source.as_deref().map(str::to_owned));
                let mut errors = of_row().filter_map(|request| request.error.as_ref());
                let first_upstream_error = errors.next().cloned();
                let upstream_errors =
                    u64::from(first_upstream_error.is_some()) + errors.count() as u64;
                ModelRow {
                    provider,
                    model,
                    price_source,
                    upstream_errors,
                    first_upstream_error,
                    totals: group.totals,
                }
            })
            .collect();
        self.totals = report.total;
        self
    }
}

impl SessionSummary {
    /// The session as a report by model, from the rows `with_rows` already summed.
    pub fn report(&self) -> Report {
        Report {
            by: GroupBy::Model,
            sessions: 1,
            incomplete_sessions: u64::from(self.incomplete),
            first_started_at: Some(self.started_at.clone()),
            last_ended_at: Some(self.ended_at.clone()),
            rows: self
                .models
                .iter()
                .map(|row| {
                    Group::new(
                        GroupBy::Model,
                        vec![row.provider.clone(), row.model.clone()],
                        row.totals.clone(),
                    )
                })
                .collect(),
            total: self.totals.clone(),
            reprice: self.compare.clone(),
            estimate_rules: self
                .requests
                .iter()
                .filter_map(|request| request.estimate_rule.as_deref())
                .chain(
                    self.compare
                        .iter()
                        .filter_map(|c| c.estimate_rule.as_deref()),
                )
                .map(str::to_owned)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
            priced_later: Vec::new(),
        }
    }
}

/// Why a file is not a summary `report` can use.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not a headroom session summary: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error(
        "summary schema version {0} is not supported by this headroom (it reads version {SCHEMA_VERSION})"
    )]
    UnknownVersion(u64),
    #[error("{0} {1:?} is not an RFC 3339 time")]
    BadTime(&'static str, String),
}

/// Reads a summary, refusing other schema versions.
pub fn parse(bytes: &[u8]) -> Result<SessionSummary, ParseError> {
    #[derive(Deserialize)]
    struct Version {
        schema_version: u64,
    }
    let Version { schema_version } = serde_json::from_slice(bytes)?;
    if schema_version != u64::from(SCHEMA_VERSION) {
        return Err(ParseError::UnknownVersion(schema_version));
    }
    let summary: SessionSummary = serde_json::from_slice(bytes)?;
    // Days, windows and filters all read these: a summary without real times is not one.
    for (field, time) in [
        ("started_at", &summary.started_at),
        ("ended_at", &summary.ended_at),
    ] {
        if humantime::parse_rfc3339_weak(time.trim_end_matches('Z')).is_err() {
            return Err(ParseError::BadTime(field, time.clone()));
        }
    }
    Ok(summary)
}

/// The summary as pretty JSON.
pub fn render(summary: &SessionSummary) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(summary).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_survives_the_round_trip_and_other_versions_are_refused() {
        let summary = SessionSummary {
            schema_version: SCHEMA_VERSION,
            session_id: "abc".into(),
            agent: "claude".into(),
            started_at: "2026-11-30T10:00:00Z".into(),
            ended_at: "2026-11-30T10:30:00Z".into(),
            requests: vec![PricedRequest {
                price_source: Some("test".into()),
                tokens_saved: 7,
                saved_usd: Some(0.25),
                ..crate::report::aggregate::tests::request(
                    "anthropic",
                    "claude-opus-5-5",
                    5,
                    Some(0.5),
                )
            }],
            ..SessionSummary::default()
        }
        .with_rows();
        assert_eq!(summary.models.len(), 1);
        assert_eq!(summary.models[0].price_source.as_deref(), Some("test"));
        assert_eq!(summary.totals.cost_usd, Some(0.5));
        assert_eq!(
            (summary.totals.tokens_saved, summary.totals.saved_usd),
            (7, 0.25)
        );
        assert_eq!(parse(&render(&summary)).unwrap(), summary);
        assert_eq!(
            summary.report(),
            aggregate(std::slice::from_ref(&summary), GroupBy::Model)
        );

        let future = String::from_utf8(render(&summary))
            .unwrap()
            .replace("\"schema_version\": 1", "\"schema_version\": 9");
        assert!(matches!(
            parse(future.as_bytes()),
            Err(ParseError::UnknownVersion(9))
        ));
        assert!(matches!(
            parse(b"{\"schema_version\": 1"),
            Err(ParseError::Corrupt(_))
        ));
        assert!(matches!(parse(b"[]"), Err(ParseError::Corrupt(_))));
        // Only the requests and times are needed; made-up times are refused.
        let minimal = br#"{"schema_version": 1, "session_id": "m", "headroom_version": "0",
            "agent": "codex", "argv": [], "started_at": "2026-11-30T10:00:00Z",
            "ended_at": "2026-11-30T11:00:00Z", "exit_code": 0, "requests": []}"#;
        assert!(parse(minimal).is_ok());
        let yesterday =
            String::from_utf8_lossy(minimal).replace("2026-11-30T10:00:00Z", "yesterday");
        assert!(matches!(
            parse(yesterday.as_bytes()),
            Err(ParseError::BadTime("started_at", _))
        ));
    }
}
