//! The JSON report for machines: the grouped rows, totals and what-if pricing, with `null` for
//! unknown costs. Rendering only.

use super::aggregate::Report;

/// The report as pretty JSON.
pub fn render(report: &Report) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(report).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
