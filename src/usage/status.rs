//! The session's figures so far, as `GET {session}/headroom/status` answers them for status lines
//! (`headroom statusline`, `headroom status`). Built by the ledger; a public little format, so
//! fields are only added.

use serde::{Deserialize, Serialize};

use super::UpstreamError;
use super::quota::QuotaWindow;

/// What the session has done so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveStatus {
    pub requests: u64,
    pub failed_requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// Billed dollars with a known price.
    pub cost_usd: f64,
    /// Billed requests without a known price (the cost is then at least `cost_usd`).
    pub unpriced_requests: u64,
    /// Billed requests priced partly by an estimated rate.
    pub estimated_requests: u64,
    /// API-equivalent dollars of usage a plan covers (not billed).
    pub plan_usd: f64,
    pub plan_requests: u64,
    /// What compression saved so far (billed and plan), net of re-reads.
    pub saved_usd: f64,
    /// The model and provider of the latest request.
    pub last_model: Option<String>,
    pub last_provider: Option<String>,
    /// Cache reads as a share of all prompt tokens, 0 to 1.
    pub cache_read_share: f64,
    /// `wrap --budget`: what is left of it.
    pub budget_left_usd: Option<f64>,
    /// The latest error an upstream answered with.
    pub last_error: Option<UpstreamError>,
    /// The last known use of each plan window.
    pub plan_quota: Vec<QuotaWindow>,
}
