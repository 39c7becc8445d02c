//! The JSON report for machines: the grouped rows, totals and what-if pricing, with `null` for
//! unknown costs and dollars rounded to micro-dollars. Its schema is in the README; like the
//! session summary, fields are only ever added, and `schema_version` changes only with a change
//! of meaning. Rendering only.

use serde::Serialize;

use super::aggregate::Report;

/// The version of the JSON report's schema.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Versioned<'a> {
    schema_version: u32,
    #[serde(flatten)]
    report: &'a Report,
}

/// The report as pretty JSON.
pub fn render(report: &Report) -> Vec<u8> {
    let versioned = Versioned {
        schema_version: SCHEMA_VERSION,
        report,
    };
    let mut bytes = serde_json::to_vec_pretty(&versioned).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
