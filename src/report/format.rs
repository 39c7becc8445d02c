//! How numbers and money read in the human renderers (table, markdown): thousands separators,
//! enough decimals that small costs never read as zero, `?` for unknown costs, and names from
//! upstreams made safe to print.

use super::aggregate::{Report, Reprice, Totals};

/// The line under a table whose figures include plan usage.
pub const PLAN_NOTE: &str = "(plan): API-equivalent, what the API would charge for usage your plan covers \
     (ChatGPT login, Claude plan);\n        not billed, not in billed totals, not counted by --budget.";

/// Longest name shown in a terminal; longer ones are cut with `…`.
const MAX_SHOWN_CHARS: usize = 64;

/// A name that came from outside (a model name an upstream reported) as it may reach a terminal:
/// control characters written as escapes, so no byte of it can colour the terminal, move the
/// cursor or forge a line, and cut to `MAX_SHOWN_CHARS`.
pub fn shown(name: &str) -> String {
    let mut out = String::with_capacity(name.len().min(MAX_SHOWN_CHARS + 8));
    for (i, c) in name.chars().enumerate() {
        if i == MAX_SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

pub use crate::pricing::usd;

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

/// A cost that may be partly unknown or estimated: `$1.20`, `~$1.20`, `$1.20 + ?`, or `?`.
pub fn cost(known_usd: f64, unpriced_requests: u64, estimated_requests: u64) -> String {
    let mark = if estimated_requests > 0 { "~" } else { "" };
    match unpriced_requests {
        0 => format!("{mark}{}", usd(known_usd)),
        _ if known_usd > 0.0 => format!("{mark}{} + ?", usd(known_usd)),
        _ => "?".to_owned(),
    }
}

/// The lines under a table: what `(plan)` and `~` mean, when they appear.
pub fn notes(report: &Report) -> Vec<String> {
    let mut notes = Vec::new();
    if !report.total.plan.is_empty() {
        notes.push(PLAN_NOTE.to_owned());
    }
    for rule in &report.estimate_rules {
        notes.push(format!("~ estimated: {rule}."));
    }
    for later in &report.priced_later {
        notes.push(format!(
            "Priced now, not when recorded: {} request(s) of {} {} ({}).",
            later.requests,
            shown(&later.provider),
            shown(&later.model),
            later.source
        ));
    }
    notes
}

/// The value columns shared by every human renderer, after the key columns.
pub const VALUE_HEADERS: [&str; 8] = [
    "Requests",
    "Input",
    "Output",
    "Cache read",
    "Cache write",
    "Tokens saved",
    "Cost USD",
    "Saved USD",
];

/// The value cells of one row.
pub fn value_cells(totals: &Totals) -> Vec<String> {
    let mut requests = count(totals.requests);
    if totals.failed_requests > 0 {
        requests.push_str(&format!(" ({} failed)", count(totals.failed_requests)));
    }
    vec![
        requests,
        count(totals.usage.input_tokens),
        count(totals.usage.output_tokens),
        count(totals.usage.cache_read_tokens),
        count(totals.usage.cache_write_tokens()),
        count(totals.tokens_saved),
        with_plan(
            totals,
            cost(
                totals.known_cost_usd,
                totals.unpriced_requests,
                totals.estimated_requests,
            ),
            cost(
                totals.plan.known_cost_usd,
                totals.plan.unpriced_requests,
                totals.plan.estimated_requests,
            ),
        ),
        if totals.plan.saved_usd == 0.0 && totals.requests > totals.plan.requests {
            usd(totals.saved_usd)
        } else {
            with_plan(totals, usd(totals.saved_usd), usd(totals.plan.saved_usd))
        },
    ]
}

/// A money cell: the billed figure, and beside it the plan's API-equivalent marked `(plan)`.
fn with_plan(totals: &Totals, billed: String, plan: String) -> String {
    match (
        totals.plan.requests,
        totals.requests.saturating_sub(totals.plan.requests),
    ) {
        (0, _) => billed,
        (_, 0) => format!("{plan} (plan)"),
        _ => format!("{billed} + {plan} (plan)"),
    }
}

/// "On MODEL this would have cost $X instead of $Y."
pub fn reprice_line(reprice: &Reprice, actual: &Totals, subject: &str) -> String {
    format!(
        "On {} {subject} would have cost {} instead of {}.",
        reprice.model,
        cost(
            reprice.known_cost_usd,
            reprice.unpriced_requests,
            reprice.estimated_requests
        ),
        cost(
            actual.known_cost_usd,
            actual.unpriced_requests,
            actual.estimated_requests
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_upstreams_cannot_reach_the_terminal_raw() {
        assert_eq!(shown("MiniMax-M3"), "MiniMax-M3");
        assert_eq!(shown("x\u{1b}[31mred\u{7}"), "x\\u{1b}[31mred\\u{7}");
        assert_eq!(shown("a\nheadroom: 200 forged"), "a\\nheadroom: 200 forged");
        let long = "m".repeat(100);
        assert_eq!(shown(&long).chars().count(), MAX_SHOWN_CHARS + 1);
        assert!(shown(&long).ends_with('…'));
    }

    #[test]
    fn plan_money_is_marked_and_never_added_to_billed_money() {
        use crate::report::aggregate::tests::request;
        use crate::usage::Billing;
        let mut plan = request("openai", "gpt-6.1-sol", 10, Some(0.5));
        plan.billing = Billing::Subscription;
        let mut only_plan = Totals::default();
        only_plan.add(&plan);
        let cells = value_cells(&only_plan);
        assert_eq!(cells[6..], ["$0.50 (plan)", "$0.00 (plan)"]);
        let mut with_saving = plan.clone();
        with_saving.saved_usd = Some(0.125);
        let mut saved = Totals::default();
        saved.add(&request("openai", "gpt-6.1-sol", 10, Some(1.0)));
        assert_eq!(
            value_cells(&saved)[7],
            "$0.00",
            "no plan part when the plan saved nothing"
        );
        saved.add(&with_saving);
        assert_eq!(value_cells(&saved)[7], "$0.00 + $0.12 (plan)");
        let mut mixed = only_plan.clone();
        mixed.add(&request("openai", "gpt-6.1-sol", 10, Some(1.25)));
        mixed.add(&request("openai", "private", 10, None));
        assert_eq!(value_cells(&mixed)[6], "$1.25 + ? + $0.50 (plan)");
        let billed = request("openai", "gpt-6.1-sol", 10, Some(1.25));
        let mut only_billed = Totals::default();
        only_billed.add(&billed);
        assert_eq!(value_cells(&only_billed)[6], "$1.25");
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
        assert_eq!(cost(1.5, 0, 0), "$1.50");
        assert_eq!(cost(1.5, 0, 1), "~$1.50");
        assert_eq!(cost(1.5, 2, 0), "$1.50 + ?");
        assert_eq!(cost(0.0, 2, 1), "?");
    }
}
