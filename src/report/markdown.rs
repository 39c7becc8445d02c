//! The markdown report, ready to paste into a pull request or append to `$GITHUB_STEP_SUMMARY`.
//! Rendering only: report in, `String` out.

use super::aggregate::Report;
use super::format::{VALUE_HEADERS, reprice_line, value_cells};

/// The report as GitHub-flavoured markdown.
pub fn render(report: &Report) -> String {
    let keys = report.by.key_names();
    let mut out = String::from("### headroom cost report\n\n");
    if report.sessions == 0 {
        out.push_str("No sessions found.\n");
        return out;
    }
    let sessions = match report.sessions {
        1 => "1 session".to_owned(),
        n => format!("{n} sessions"),
    };
    match (&report.first_started_at, &report.last_ended_at) {
        (Some(first), Some(last)) => out.push_str(&format!("{sessions}, {first} to {last}.\n\n")),
        _ => out.push_str(&format!("{sessions}.\n\n")),
    }
    let headers: Vec<&str> = keys.iter().copied().chain(VALUE_HEADERS).collect();
    out.push_str(&line(headers.iter().map(|h| h.to_string())));
    out.push_str(&line((0..headers.len()).map(|i| {
        if i < keys.len() {
            "---".to_owned()
        } else {
            "---:".to_owned()
        }
    })));
    for row in &report.rows {
        out.push_str(&line(
            row.key
                .iter()
                .map(|key| escape(key))
                .chain(value_cells(&row.totals)),
        ));
    }
    let mut total_key = vec![String::new(); keys.len()];
    total_key[0] = "**Total**".into();
    out.push_str(&line(
        total_key.into_iter().chain(value_cells(&report.total)),
    ));
    if report.incomplete_sessions > 0 {
        out.push_str(&format!(
            "\n{} of the sessions ended without a summary (headroom was stopped); counted from their journals.\n",
            report.incomplete_sessions
        ));
    }
    for note in super::format::notes(report) {
        out.push_str(&format!("\n{note}\n"));
    }
    if report.total.all_unpriced_requests() > 0 {
        out.push_str(&format!(
            "\n`?`: {} requests have no known price; add their models to prices.toml to count them.\n",
            report.total.all_unpriced_requests()
        ));
    }
    if let Some(reprice) = &report.reprice {
        out.push_str(&format!(
            "\n{}\n",
            reprice_line(reprice, &report.total, "these sessions")
        ));
    }
    out
}

fn line(cells: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = cells.collect();
    format!("| {} |\n", cells.join(" | "))
}

/// A key as a table cell: control characters escaped (a newline would end the row), `|` too.
fn escape(text: &str) -> String {
    super::format::shown(text).replace('|', "\\|")
}
