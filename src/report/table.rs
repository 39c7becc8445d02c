//! The terminal table: one row per group and a total, for `wrap` (stderr) and `report --format
//! table`. Rendering only: report in, `String` out. An unknown cost reads `?`, never `$0.00`.

use comfy_table::presets::{ASCII_MARKDOWN, UTF8_FULL_CONDENSED};
use comfy_table::{Attribute, Cell, CellAlignment, ContentArrangement, Table};

use super::aggregate::Report;
use super::format::{VALUE_HEADERS, shown, value_cells};

/// How the table may decorate itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Box drawing and bold headers, for a color terminal.
    Rich,
    /// Plain ASCII, for logs, pipes and NO_COLOR.
    Plain,
}

/// The value columns shown when the full table is wider than the terminal, narrowest last (by
/// index into `VALUE_HEADERS`): requests, input, output, cost, saved; then requests, cost, saved.
const NARROWER: [&[usize]; 2] = [&[0, 1, 2, 6, 7], &[0, 6, 7]];

/// The table for a report, fitted to `width` columns when given: the full table if it fits, else
/// fewer value columns, else cells wrapped to the width.
pub fn render(report: &Report, style: Style, width: Option<u16>) -> String {
    let all: Vec<usize> = (0..VALUE_HEADERS.len()).collect();
    let full = build(report, style, &all, None);
    let Some(width) = width else {
        return full;
    };
    let fits = |text: &str| {
        text.lines()
            .all(|line| console_width(line) <= usize::from(width))
    };
    if fits(&full) {
        return full;
    }
    for columns in NARROWER {
        let narrower = build(report, style, columns, None);
        if fits(&narrower) {
            return narrower;
        }
    }
    build(report, style, NARROWER[NARROWER.len() - 1], Some(width))
}

/// Printed width of a line: characters, not counting escape sequences.
fn console_width(line: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in line.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, c) if c.is_ascii_alphabetic() => in_escape = false,
            (true, _) => {}
            (false, _) => width += 1,
        }
    }
    width
}

fn build(report: &Report, style: Style, columns: &[usize], wrap_to: Option<u16>) -> String {
    let keys = report.by.key_names();
    let headers: Vec<&str> = keys
        .iter()
        .copied()
        .chain(columns.iter().map(|&i| VALUE_HEADERS[i]))
        .collect();
    let pick =
        |cells: Vec<String>| -> Vec<String> { columns.iter().map(|&i| cells[i].clone()).collect() };
    let mut table = Table::new();
    match wrap_to {
        Some(width) => {
            table.set_content_arrangement(ContentArrangement::Dynamic);
            table.set_width(width);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    match style {
        Style::Rich => {
            table.load_style(UTF8_FULL_CONDENSED);
            // The caller already decided that color is wanted (`--color`, NO_COLOR, TTY).
            table.enforce_styling();
            table.set_header(
                headers
                    .iter()
                    .map(|h| Cell::new(h).add_attribute(Attribute::Bold)),
            );
        }
        Style::Plain => {
            table.load_style(ASCII_MARKDOWN);
            table.force_no_tty();
            table.set_header(headers);
        }
    }
    for row in &report.rows {
        table.add_row(
            row.key
                .iter()
                .map(|key| shown(key))
                .chain(pick(value_cells(&row.totals))),
        );
    }
    let mut total_key = vec![String::new(); keys.len()];
    total_key[0] = "Total".into();
    table.add_row(
        total_key
            .into_iter()
            .chain(pick(value_cells(&report.total))),
    );
    for column in keys.len()..keys.len() + columns.len() {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::aggregate::{Group, GroupBy, Totals};
    use crate::usage::Usage;

    fn totals(cost: Option<f64>) -> Totals {
        Totals {
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
            known_cost_usd: cost.unwrap_or(0.0),
            unpriced_requests: u64::from(cost.is_none()),
            saved_usd: 0.0,
            estimated_requests: 0,
            plan: Default::default(),
            retrievals: 0,
            retrieved_tokens: 0,
        }
    }

    #[test]
    fn plain_table_shows_unknown_cost_as_question_mark() {
        let mut total = totals(Some(0.3412));
        total.requests = 6;
        total.failed_requests = 1;
        total.usage.add(&totals(None).usage);
        total.unpriced_requests = 1;
        total.cost_usd = None;
        let report = Report {
            by: GroupBy::Model,
            sessions: 1,
            incomplete_sessions: 0,
            first_started_at: None,
            last_ended_at: None,
            rows: vec![
                Group::new(
                    GroupBy::Model,
                    vec!["anthropic".into(), "claude-opus-5-5".into()],
                    totals(Some(0.3412)),
                ),
                Group::new(
                    GroupBy::Model,
                    vec!["minimax".into(), "MiniMax-M3".into()],
                    totals(None),
                ),
            ],
            total,
            reprice: None,
            estimate_rules: vec![],
            priced_later: vec![],
        };
        // An 80-column terminal gets the columns that fit.
        insta::assert_snapshot!(render(&report, Style::Plain, Some(80)), @r"
        | Provider  | Model           |     Requests |  Cost USD | Saved USD |
        |-----------|-----------------|--------------|-----------|-----------|
        | anthropic | claude-opus-5-5 |            3 |     $0.34 |     $0.00 |
        | minimax   | MiniMax-M3      | 3 (1 failed) |         ? |     $0.00 |
        | Total     |                 | 6 (1 failed) | $0.34 + ? |     $0.00 |
        ");
        let middle = render(&report, Style::Plain, Some(90));
        assert!(middle.contains("| Input |"), "{middle}");
        let narrow = render(&report, Style::Plain, Some(60));
        assert!(
            narrow.lines().all(|line| line.chars().count() <= 60),
            "{narrow}"
        );
        assert!(
            narrow.contains("Cost USD") && !narrow.contains("Input"),
            "{narrow}"
        );
        let tiny = render(&report, Style::Rich, Some(40));
        assert!(tiny.lines().all(|line| console_width(line) <= 40), "{tiny}");
        insta::assert_snapshot!(render(&report, Style::Plain, None), @r"
        | Provider  | Model           |     Requests | Input | Output | Cache read | Cache write | Tokens saved |  Cost USD | Saved USD |
        |-----------|-----------------|--------------|-------|--------|------------|-------------|--------------|-----------|-----------|
        | anthropic | claude-opus-5-5 |            3 | 1,234 |    567 |  1,000,000 |      20,000 |            0 |     $0.34 |     $0.00 |
        | minimax   | MiniMax-M3      | 3 (1 failed) | 1,234 |    567 |  1,000,000 |      20,000 |            0 |         ? |     $0.00 |
        | Total     |                 | 6 (1 failed) | 2,468 |  1,134 |  2,000,000 |      40,000 |            0 | $0.34 + ? |     $0.00 |
        ");
    }
}
