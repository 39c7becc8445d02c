//! The JSON session summary: a versioned, machine-read record of one wrapped session. Rendering
//! only; `report::write_atomically` puts it on disk. It never contains a key or the session secret.

use serde::Serialize;

use crate::usage::ledger::{Row, Snapshot};

/// Bumped whenever a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// One wrapped session.
#[derive(Debug, Serialize)]
pub struct SessionSummary {
    pub schema_version: u32,
    pub headroom_version: &'static str,
    /// `claude` or `codex`.
    pub agent: &'static str,
    /// headroom's own command line, credentials redacted.
    pub argv: Vec<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC.
    pub ended_at: String,
    /// What headroom exited with (the agent's code, or 128+signal).
    pub exit_code: u8,
    /// Which price data priced the rows.
    pub price_source: &'static str,
    pub models: Vec<Row>,
    pub totals: Totals,
}

/// Sums over all rows.
#[derive(Debug, Serialize)]
pub struct Totals {
    #[serde(flatten)]
    pub row: Row,
    /// True when at least one row's cost is unknown: then `cost_usd` covers only the known rows.
    pub cost_incomplete: bool,
}

impl Totals {
    /// The totals of a ledger snapshot.
    pub fn of(snapshot: &Snapshot) -> Self {
        let (row, cost_incomplete) = snapshot.total();
        Totals {
            row,
            cost_incomplete,
        }
    }
}

/// The summary as pretty JSON.
pub fn render(summary: &SessionSummary) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(summary).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
