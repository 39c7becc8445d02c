//! The cost table printed when a wrapped agent exits: one row per (provider, model) and a total.
//! Rendering only: snapshot in, `String` out. An unknown cost reads `?`, never `$0.00`.

use comfy_table::presets::{ASCII_MARKDOWN, UTF8_FULL_CONDENSED};
use comfy_table::{Attribute, Cell, CellAlignment, ContentArrangement, Table};

use crate::usage::ledger::{Row, Snapshot};

/// How the table may decorate itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Box drawing and bold headers, for a color terminal.
    Rich,
    /// Plain ASCII, for logs, pipes and NO_COLOR.
    Plain,
}

const HEADERS: [&str; 10] = [
    "Provider",
    "Model",
    "Requests",
    "Input",
    "Output",
    "Cache read",
    "Cache write",
    "Tokens saved",
    "Cost USD",
    "Saved USD",
];

/// The table for a session.
pub fn render(snapshot: &Snapshot, style: Style) -> String {
    let mut table = Table::new();
    table.set_content_arrangement(ContentArrangement::Disabled);
    match style {
        Style::Rich => {
            table.load_style(UTF8_FULL_CONDENSED);
            // The caller already decided that color is wanted (`--color`, NO_COLOR, TTY).
            table.enforce_styling();
            table.set_header(
                HEADERS
                    .iter()
                    .map(|h| Cell::new(h).add_attribute(Attribute::Bold)),
            );
        }
        Style::Plain => {
            table.load_style(ASCII_MARKDOWN);
            table.force_no_tty();
            table.set_header(HEADERS);
        }
    }
    for row in &snapshot.rows {
        table.add_row(cells(row, &row.provider, &row.model, row.cost_usd.map(usd)));
    }
    let (total, has_unknown_cost) = snapshot.total();
    let total_cost = match (total.cost_usd, has_unknown_cost) {
        (Some(cost), true) if cost > 0.0 => format!("{} + ?", usd(cost)),
        (_, true) => "?".to_owned(),
        (cost, false) => usd(cost.unwrap_or(0.0)),
    };
    table.add_row(cells(&total, "Total", "", Some(total_cost)));
    for column in 2..HEADERS.len() {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table.to_string()
}

fn cells(row: &Row, provider: &str, model: &str, cost: Option<String>) -> Vec<String> {
    let mut requests = count(row.requests);
    if row.failed_requests > 0 {
        requests.push_str(&format!(" ({} failed)", count(row.failed_requests)));
    }
    vec![
        provider.to_owned(),
        model.to_owned(),
        requests,
        count(row.usage.input_tokens),
        count(row.usage.output_tokens),
        count(row.usage.cache_read_tokens),
        count(row.usage.cache_write_tokens()),
        count(row.tokens_saved),
        cost.unwrap_or_else(|| "?".to_owned()),
        row.saved_usd.map_or_else(|| "?".to_owned(), usd),
    ]
}

/// Dollars with enough digits that small sessions do not read as zero.
pub fn usd(amount: f64) -> String {
    if amount != 0.0 && amount.abs() < 0.01 {
        format!("${amount:.4}")
    } else {
        format!("${amount:.2}")
    }
}

/// A count with thousands separators.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::Usage;

    fn row(provider: &str, model: &str, cost: Option<f64>) -> Row {
        Row {
            provider: provider.into(),
            model: model.into(),
            requests: 3,
            failed_requests: u64::from(cost.is_none()),
            usage: Usage {
                input_tokens: 1_234,
                output_tokens: 567,
                cache_read_tokens: 1_000_000,
                cache_write_5m_tokens: 20_000,
                cache_write_1h_tokens: 0,
            },
            tokens_saved: 0,
            cost_usd: cost,
            saved_usd: Some(0.0),
        }
    }

    #[test]
    fn plain_table_shows_unknown_cost_as_question_mark() {
        let snapshot = Snapshot {
            rows: vec![
                row("anthropic", "claude-opus-5-5", Some(0.3412)),
                row("minimax", "MiniMax-M3", None),
            ],
        };
        insta::assert_snapshot!(render(&snapshot, Style::Plain), @r"
        | Provider  | Model           |     Requests | Input | Output | Cache read | Cache write | Tokens saved |  Cost USD | Saved USD |
        |-----------|-----------------|--------------|-------|--------|------------|-------------|--------------|-----------|-----------|
        | anthropic | claude-opus-5-5 |            3 | 1,234 |    567 |  1,000,000 |      20,000 |            0 |     $0.34 |     $0.00 |
        | minimax   | MiniMax-M3      | 3 (1 failed) | 1,234 |    567 |  1,000,000 |      20,000 |            0 |         ? |     $0.00 |
        | Total     |                 | 6 (1 failed) | 2,468 |  1,134 |  2,000,000 |      40,000 |            0 | $0.34 + ? |     $0.00 |
        ");
    }

    #[test]
    fn formats_counts_and_dollars() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(12_345_678), "12,345,678");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.004), "$0.0040");
        assert_eq!(usd(12.345), "$12.35");
    }
}
