//! The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched) for a
//! browser or a CI artifact. Rendering only: overview in, `String` out. Every figure the page
//! shows also sits in a `data-` attribute with its exact value, for tools (and the tests) to read.

use std::fmt::Write;

use super::aggregate::Totals;
use super::format::{cost, count, usd};
use super::overview::{Overview, SessionLine};

/// Colours that stay apart for the common colour-vision deficiencies (Okabe and Ito), in the
/// order providers get them.
const PALETTE: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7F7F7F",
];

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --card: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; padding: 1.5rem 1rem 3rem; max-width: 72rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
p.sub, .note { color: var(--muted); margin: .25rem 0; }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .9rem;
        flex: 1 1 10rem; min-width: 0; }
.card .label { color: var(--muted); font-size: .85rem; }
.card .value { font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child, th.text, td.text { text-align: left; }
thead th { font-size: .85rem; color: var(--muted); font-weight: 600; }
tfoot td { font-weight: 600; border-top: 2px solid var(--ink); }
.provider { display: inline-block; padding: 0 .4rem; border-radius: 4px; color: #fff; font-size: .8rem; }
.legend { display: flex; flex-wrap: wrap; gap: .4rem 1rem; margin: .25rem 0 .5rem; font-size: .9rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem;
          vertical-align: -.1rem; }
svg { width: 100%; min-width: 34rem; height: auto; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .scroll { overflow: visible; }
  .card { break-inside: avoid; }
  h2 { break-after: avoid; }
  table, svg { break-inside: avoid; }
}
"#;

/// The report page. `title_note` says which sessions it covers; `reprice` is `--reprice`'s line.
pub fn render(
    overview: &Overview,
    title_note: &str,
    reprice: Option<&super::aggregate::Reprice>,
) -> String {
    let total = &overview.by_model.total;
    let providers = providers(overview);
    let mut page = String::with_capacity(16 * 1024);
    page.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str("<title>headroom cost report</title>\n<style>");
    page.push_str(STYLE);
    page.push_str("</style>\n</head>\n<body>\n<h1>headroom cost report</h1>\n");
    let _ = writeln!(page, "<p class=\"sub\">{}</p>", escape(title_note));
    headline(&mut page, overview, total);
    if overview.by_model.sessions == 0 {
        page.push_str("<p>No sessions found.</p>\n</body>\n</html>\n");
        return page;
    }
    chart(&mut page, overview, &providers);
    models(&mut page, overview, &providers);
    sessions(&mut page, &overview.sessions);
    compression(&mut page, overview);
    notes(&mut page, overview, reprice);
    page.push_str("</body>\n</html>\n");
    page
}

fn headline(page: &mut String, overview: &Overview, total: &Totals) {
    let prompt = total.usage.prompt_tokens();
    let cache_share = if prompt == 0 {
        0.0
    } else {
        total.usage.cache_read_tokens as f64 / prompt as f64
    };
    let billed = cost(
        total.known_cost_usd,
        total.unpriced_requests,
        total.estimated_requests,
    );
    page.push_str("<section class=\"cards\">\n");
    card(page, "cost", "Cost (billed)", &billed, total.known_cost_usd);
    if !total.plan.is_empty() {
        let plan = cost(
            total.plan.known_cost_usd,
            total.plan.unpriced_requests,
            total.plan.estimated_requests,
        );
        card(
            page,
            "plan",
            "Plan usage (API-equivalent, not billed)",
            &plan,
            total.plan.known_cost_usd,
        );
    }
    let mut saved = usd(total.saved_usd);
    if total.plan.saved_usd != 0.0 {
        saved.push_str(&format!(" + {} (plan)", usd(total.plan.saved_usd)));
    }
    card(
        page,
        "saved",
        "Saved by compression (net of re-reads)",
        &saved,
        total.saved_usd,
    );
    card(
        page,
        "sessions",
        "Sessions",
        &count(overview.by_model.sessions),
        overview.by_model.sessions as f64,
    );
    card(
        page,
        "requests",
        "Requests",
        &count(total.requests),
        total.requests as f64,
    );
    card(
        page,
        "cache",
        "Prompt read from cache",
        &format!("{:.0}%", cache_share * 100.0),
        cache_share,
    );
    page.push_str("</section>\n");
}

fn card(page: &mut String, id: &str, label: &str, shown: &str, value: f64) {
    let _ = writeln!(
        page,
        "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\" id=\"total-{id}\" data-value=\"{value}\">{}</div></div>",
        escape(label),
        escape(shown)
    );
}

/// Providers in order of billed cost, each with its colour.
fn providers(overview: &Overview) -> Vec<(String, &'static str)> {
    let mut costs: Vec<(String, f64)> = Vec::new();
    for row in &overview.by_model.rows {
        match costs.iter_mut().find(|(name, _)| *name == row.key[0]) {
            Some((_, cost)) => *cost += row.totals.known_cost_usd,
            None => costs.push((row.key[0].clone(), row.totals.known_cost_usd)),
        }
    }
    costs.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    costs
        .into_iter()
        .enumerate()
        .map(|(i, (name, _))| (name, PALETTE[i.min(PALETTE.len() - 1)]))
        .collect()
}

fn colour<'a>(providers: &'a [(String, &'static str)], name: &str) -> &'a str {
    providers
        .iter()
        .find(|(provider, _)| provider == name)
        .map_or(PALETTE[PALETTE.len() - 1], |(_, colour)| colour)
}

/// Billed cost per day, stacked by provider.
fn chart(page: &mut String, overview: &Overview, providers: &[(String, &'static str)]) {
    let mut days: Vec<(String, Vec<(String, f64)>)> = Vec::new();
    for row in &overview.by_day_provider.rows {
        let (day, provider) = (&row.key[0], &row.key[1]);
        if days.last().is_none_or(|(last, _)| last != day) {
            days.push((day.clone(), Vec::new()));
        }
        if let Some((_, parts)) = days.last_mut() {
            parts.push((provider.clone(), row.totals.known_cost_usd));
        }
    }
    page.push_str("<h2>Cost per day</h2>\n<div class=\"legend\">");
    for (name, colour) in providers {
        let _ = write!(
            page,
            "<span><span class=\"swatch\" style=\"background:{colour}\"></span>{}</span>",
            escape(name)
        );
    }
    page.push_str("</div>\n");
    let most = days
        .iter()
        .map(|(_, parts)| parts.iter().map(|(_, usd)| usd).sum::<f64>())
        .fold(0.0, f64::max);
    let (width, height, left, bottom, top) = (720.0, 240.0, 56.0, 28.0, 12.0);
    let plot = height - bottom - top;
    let slot = (width - left) / days.len().max(1) as f64;
    let bar = (slot * 0.7).min(48.0);
    // In a scrolling box: on a phone the chart keeps a readable size and scrolls sideways.
    let _ = writeln!(
        page,
        "<div class=\"scroll\"><svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Billed cost per day, stacked by provider\">"
    );
    let _ = writeln!(
        page,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{width}\" y2=\"{}\" stroke=\"#d0d7de\"/>",
        top + plot,
        top + plot
    );
    let _ = writeln!(
        page,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">$0</text>",
        left - 6.0,
        top + 10.0,
        escape(&usd(most)),
        left - 6.0,
        top + plot
    );
    // Day labels thin out so they never overlap.
    let label_every = (days.len() as f64 / 12.0).ceil().max(1.0) as usize;
    for (i, (day, parts)) in days.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = top + plot;
        let total: f64 = parts.iter().map(|(_, usd)| usd).sum();
        let _ = writeln!(
            page,
            "<g class=\"day\" data-day=\"{}\" data-usd=\"{total}\">",
            escape(day)
        );
        for (provider, cost) in parts {
            let h = if most > 0.0 { cost / most * plot } else { 0.0 };
            y -= h;
            let _ = writeln!(
                page,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{} {}: {}</title></rect>",
                colour(providers, provider),
                escape(day),
                escape(provider),
                escape(&usd(*cost))
            );
        }
        page.push_str("</g>\n");
        if i % label_every == 0 {
            let _ = writeln!(
                page,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x + bar / 2.0,
                height - 8.0,
                escape(day.get(5..).unwrap_or(day))
            );
        }
    }
    page.push_str("</svg></div>\n");
}

fn models(page: &mut String, overview: &Overview, providers: &[(String, &'static str)]) {
    page.push_str("<h2>By model</h2>\n<div class=\"scroll\"><table id=\"models\">\n<thead><tr>");
    for (header, text) in [
        ("Model", true),
        ("Provider", true),
        ("Requests", false),
        ("Input", false),
        ("Output", false),
        ("Cache read", false),
        ("Cache write", false),
        ("Cost", false),
        ("Saved", false),
    ] {
        let class = if text { " class=\"text\"" } else { "" };
        let _ = write!(page, "<th{class}>{header}</th>");
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for row in &overview.by_model.rows {
        let (provider, model) = (&row.key[0], &row.key[1]);
        model_row(
            page,
            &row.totals,
            model,
            Some((provider, colour(providers, provider))),
        );
    }
    page.push_str("</tbody>\n<tfoot>\n");
    model_row(page, &overview.by_model.total, "Total", None);
    page.push_str("</tfoot>\n</table></div>\n");
}

fn model_row(page: &mut String, totals: &Totals, name: &str, provider: Option<(&str, &str)>) {
    let cost = super::format::value_cells(totals);
    let (provider_attr, provider_cell) = match provider {
        Some((name, colour)) => (
            format!(" data-provider=\"{}\"", escape(name)),
            format!(
                "<span class=\"provider\" style=\"background:{colour}\">{}</span>",
                escape(name)
            ),
        ),
        None => (String::new(), String::new()),
    };
    let _ = writeln!(
        page,
        "<tr data-model=\"{}\"{provider_attr} data-requests=\"{}\" data-usd=\"{}\" data-plan-usd=\"{}\" data-saved-usd=\"{}\">\
         <td>{}</td><td class=\"text\">{provider_cell}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        escape(name),
        totals.requests,
        totals.known_cost_usd,
        totals.plan.known_cost_usd,
        totals.saved_usd + totals.plan.saved_usd,
        escape(&super::format::shown(name)),
        escape(&cost[0]),
        escape(&cost[1]),
        escape(&cost[2]),
        escape(&cost[3]),
        escape(&cost[4]),
        escape(&cost[6]),
        escape(&cost[7]),
    );
}

/// The newest sessions first; a long history is cut to the latest 200 (the totals above count
/// them all).
fn sessions(page: &mut String, sessions: &[SessionLine]) {
    const SHOWN: usize = 200;
    page.push_str("<h2>Sessions</h2>\n<div class=\"scroll\"><table id=\"sessions\">\n<thead><tr>");
    page.push_str("<th class=\"text\">Started (UTC)</th><th class=\"text\">Agent</th><th class=\"text\">Model</th>");
    page.push_str("<th>Duration</th><th>Requests</th><th>Cost</th></tr></thead>\n<tbody>\n");
    for line in sessions.iter().take(SHOWN) {
        let duration = line.duration_secs.map_or_else(
            || "unknown".to_owned(),
            |secs| humantime::format_duration(std::time::Duration::from_secs(secs)).to_string(),
        );
        let mut cost = cost(line.cost_usd, u64::from(line.unpriced), 0);
        if line.plan_usd > 0.0 {
            cost = format!("{cost} + {} (plan)", usd(line.plan_usd));
        }
        if line.incomplete {
            cost.push_str(" (incomplete)");
        }
        let _ = writeln!(
            page,
            "<tr data-session=\"{}\" data-usd=\"{}\"><td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&line.session_id),
            line.cost_usd,
            escape(&line.started_at.replace('T', " ").replace('Z', "")),
            escape(&line.agent),
            escape(&super::format::shown(&line.model)),
            escape(&duration),
            line.requests,
            escape(&cost),
        );
    }
    page.push_str("</tbody></table></div>\n");
    if sessions.len() > SHOWN {
        let _ = writeln!(
            page,
            "<p class=\"note\">The latest {SHOWN} of {} sessions; the totals count them all.</p>",
            sessions.len()
        );
    }
}

fn compression(page: &mut String, overview: &Overview) {
    if overview.compression.is_empty() {
        return;
    }
    page.push_str(
        "<h2>Compression by kind</h2>\n<div class=\"scroll\"><table id=\"compression\">\n",
    );
    page.push_str("<thead><tr><th class=\"text\">Kind</th><th>Outputs</th><th>Cut (original kept)</th><th>Tokens before</th><th>Tokens after</th><th>Fewer</th></tr></thead>\n<tbody>\n");
    for (kind, totals) in &overview.compression {
        let fewer = if totals.tokens_before == 0 {
            0.0
        } else {
            1.0 - totals.tokens_after as f64 / totals.tokens_before as f64
        };
        let _ = writeln!(
            page,
            "<tr data-kind=\"{}\"><td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}%</td></tr>",
            escape(kind),
            escape(kind),
            count(totals.outputs),
            count(totals.lossy_outputs),
            count(totals.tokens_before),
            count(totals.tokens_after),
            fewer * 100.0
        );
    }
    page.push_str("</tbody></table></div>\n");
}

fn notes(page: &mut String, overview: &Overview, reprice: Option<&super::aggregate::Reprice>) {
    let mut lines = Vec::new();
    if let Some(reprice) = reprice {
        lines.push(super::format::reprice_line(
            reprice,
            &overview.by_model.total,
            "these sessions",
        ));
    }
    lines.extend(super::format::notes(&overview.by_model));
    if overview.by_model.total.all_unpriced_requests() > 0 {
        lines.push(format!(
            "?: {} requests have no known price; add their models to prices.toml to count them.",
            overview.by_model.total.all_unpriced_requests()
        ));
    }
    lines.push(
        "Costs are list prices of each provider as headroom's price data knows them, per request; \
         saved is the price of the tokens compression removed, less what re-reading originals cost."
            .to_owned(),
    );
    for line in lines {
        let _ = writeln!(page, "<p class=\"note\">{}</p>", escape(&line));
    }
}

/// Text made safe inside HTML elements and quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::aggregate::tests::request;
    use crate::report::overview::OverviewAggregator;
    use crate::report::summary::SessionSummary;

    #[test]
    fn names_from_upstreams_cannot_break_out_of_the_page() {
        let mut evil = request("minimax", "<script>alert(1)</script>\"x", 10, Some(0.5));
        evil.provider = "<b>p</b>".into();
        let mut overview = OverviewAggregator::default();
        overview.add(&SessionSummary {
            session_id: "s1".into(),
            agent: "claude".into(),
            started_at: "2026-11-01T10:00:00Z".into(),
            ended_at: "2026-11-01T10:30:00Z".into(),
            requests: vec![evil],
            ..SessionSummary::default()
        });
        let page = render(&overview.finish(), "1 session", None);
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("<b>p</b>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;x"));
        assert!(page.contains("30m"), "the session's duration: {page}");
    }
}
