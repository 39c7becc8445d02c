//! The CSV report, one row per group and a `total` row; an unknown cost is an empty cell. The
//! `cost`/`saved` columns are billed dollars; `plan_*` the API-equivalent of plan usage. Rendering
//! only; quoting is the `csv` crate's.

use super::aggregate::{Report, Totals};

const VALUE_COLUMNS: [&str; 17] = [
    "requests",
    "failed_requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "tokens_saved",
    "cost_usd",
    "known_cost_usd",
    "unpriced_requests",
    "saved_usd",
    "plan_requests",
    "plan_cost_usd",
    "plan_known_cost_usd",
    "plan_unpriced_requests",
    "plan_saved_usd",
];

/// The report as CSV.
pub fn render(report: &Report) -> Vec<u8> {
    let keys: Vec<String> = report
        .by
        .key_names()
        .iter()
        .map(|key| key.to_ascii_lowercase())
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .chain(VALUE_COLUMNS)
        .collect();
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for row in &report.rows {
        rows.push(row.key.iter().cloned().chain(values(&row.totals)).collect());
    }
    let mut total_key = vec![String::new(); keys.len()];
    total_key[0] = "total".into();
    rows.push(total_key.into_iter().chain(values(&report.total)).collect());
    for row in rows {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(row);
    }
    writer.into_inner().unwrap_or_default()
}

/// Dollars as the JSON report writes them: micro-dollars, no float noise.
fn dollars(value: f64) -> String {
    ((value * 1e6).round() / 1e6).to_string()
}

fn values(totals: &Totals) -> Vec<String> {
    vec![
        totals.requests.to_string(),
        totals.failed_requests.to_string(),
        totals.usage.input_tokens.to_string(),
        totals.usage.output_tokens.to_string(),
        totals.usage.cache_read_tokens.to_string(),
        totals.usage.cache_write_5m_tokens.to_string(),
        totals.usage.cache_write_1h_tokens.to_string(),
        totals.tokens_saved.to_string(),
        totals.cost_usd.map(dollars).unwrap_or_default(),
        dollars(totals.known_cost_usd),
        totals.unpriced_requests.to_string(),
        dollars(totals.saved_usd),
        totals.plan.requests.to_string(),
        totals.plan.cost_usd.map(dollars).unwrap_or_default(),
        dollars(totals.plan.known_cost_usd),
        totals.plan.unpriced_requests.to_string(),
        dollars(totals.plan.saved_usd),
    ]
}
