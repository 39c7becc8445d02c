//! `headroom report`, and the file side of session summaries: finding and reading them (skipping
//! corrupt, foreign and duplicate files with a warning, counting journals of sessions that never
//! wrote one) and the budget gate. The
//! rooms beside this one only aggregate (`aggregate`) or render (`table`, `markdown`, `json`,
//! `csv`); nothing in `report/` touches the network.

pub mod aggregate;
pub mod csv;
pub mod format;
pub mod html;
pub mod json;
pub mod markdown;
pub mod overview;
pub mod summary;
pub mod table;

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;

use self::aggregate::Aggregator;
use self::overview::OverviewAggregator;
use crate::cli::{AgentKind, GlobalArgs, ReportArgs, ReportFormat, TimeZoneChoice};
use crate::error::{Error, ExitStatus};
use crate::{config, env};

/// The window `report` uses on the sessions directory when neither --since nor --all is given.
const DEFAULT_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);
/// Fewer files than this are read without a progress bar.
const PROGRESS_BAR_MIN_FILES: usize = 200;

/// Runs `headroom report`.
pub fn run(args: &ReportArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let (prices, warning) = config::price_book(args.prices.prices.as_deref())?;
    if let Some(warning) = warning {
        eprintln!("headroom: warning: {warning}");
    }
    // `--reprice` of a provider's model prices it under that provider's price data.
    let (providers, warning) = config::providers(args.providers.providers.as_deref())?;
    if let Some(warning) = warning {
        eprintln!("headroom: warning: {warning}");
    }
    crate::providers::install(providers);
    let since = match (&args.since, args.all, args.paths.is_empty()) {
        (Some(text), _, _) => Some(parse_since(text, SystemTime::now())?),
        (None, false, true) => Some(SystemTime::now() - DEFAULT_WINDOW),
        _ => None,
    };
    let roots = if args.paths.is_empty() {
        let mut roots = vec![crate::home::sessions_dir()?];
        roots.extend(
            crate::home::fallback_sessions_dirs()
                .into_iter()
                .filter(|dir| dir.is_dir()),
        );
        roots
    } else {
        args.paths.clone()
    };
    let files = summary_files(&roots, args.paths.is_empty())?;

    let until = args
        .until
        .as_deref()
        .map(|text| parse_since(text, SystemTime::now()))
        .transpose()?;
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        return Err(Error::Config {
            message: "--since is not before --until: no session can match".into(),
            hint: Some("swap them, e.g. --since 2026-11-01 --until 2026-11-08".into()),
        }
        .into());
    }
    let zone = match args.tz {
        TimeZoneChoice::Utc => jiff::tz::TimeZone::UTC,
        TimeZoneChoice::Local => jiff::tz::TimeZone::system(),
    };
    let filter = Filter::new(args)?;
    let otlp = match args.otlp.otlp {
        true => crate::telemetry::Config::from_env(true, args.otlp.otlp_traces)?,
        false => None,
    };
    let mut to_export: Vec<summary::SessionSummary> = Vec::new();
    let mut filtered_out = 0u64;
    let mut aggregator = Aggregator::new(args.by).in_time_zone(zone.clone());
    let mut overview = (args.format == ReportFormat::Html)
        .then(|| OverviewAggregator::default().in_time_zone(zone));
    if let Some(model) = &args.reprice {
        aggregator = aggregator.with_reprice(model, prices.clone());
    }
    let progress = progress_bar(files.len(), global.quiet);
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    // Journals after summaries: a journal whose session has a summary is left out.
    let (journals, summaries): (Vec<&PathBuf>, Vec<&PathBuf>) = files
        .iter()
        .partition(|file| crate::usage::journal::is_journal(file));
    let mut incomplete = 0;
    let mut unreadable: Vec<PathBuf> = Vec::new();
    let in_order = summaries
        .into_iter()
        .map(|file| (file, false))
        .chain(journals.into_iter().map(|file| (file, true)));
    for (file, is_journal) in in_order {
        progress.inc(1);
        let read = std::fs::read(file).map_err(anyhow::Error::from);
        let read = if is_journal {
            read.and_then(|bytes| from_journal(file, &bytes))
        } else {
            read.and_then(|bytes| Ok(summary::parse(&bytes)?))
        };
        if is_journal
            && let Ok(summary) = &read
            && seen.contains_key(&summary.session_id)
        {
            continue;
        }
        let mut summary = match read {
            Ok(summary) => summary,
            Err(error) => {
                progress.suspend(|| {
                    eprintln!(
                        "headroom: warning: skipping {}: {}",
                        file.display(),
                        crate::error::one_line(&error)
                    )
                });
                unreadable.push(file.clone());
                continue;
            }
        };
        if let Some(first) = seen.get(&summary.session_id) {
            progress.suspend(|| {
                eprintln!(
                    "headroom: warning: skipping {}: same session as {}",
                    file.display(),
                    first.display()
                )
            });
            continue;
        }
        seen.insert(summary.session_id.clone(), file.clone());
        let started = humantime::parse_rfc3339_weak(summary.started_at.trim_end_matches('Z')).ok();
        if since.is_some_and(|since| started.is_some_and(|started| started < since))
            || until.is_some_and(|until| started.is_some_and(|started| started >= until))
            || !filter.keeps(&mut summary)
        {
            filtered_out += 1;
            continue;
        }
        incomplete += u64::from(summary.incomplete);
        aggregator.note_priced_later(aggregate::price_again(&mut summary, &prices));
        aggregator.add(&summary);
        if let Some(overview) = &mut overview {
            overview.add(&summary);
        }
        if otlp.is_some() {
            to_export.push(summary);
        }
    }
    progress.finish_and_clear();
    if incomplete > 0 && !global.quiet {
        eprintln!(
            "headroom: note: {incomplete} session(s) ended without a summary (headroom was stopped); counted from their journals"
        );
    }
    let report = aggregator.finish();
    if report.sessions == 0 && !global.quiet {
        let places: Vec<String> = roots
            .iter()
            .map(|root| root.display().to_string())
            .collect();
        let since = since
            .map(|since| format!(" since {}", humantime::format_rfc3339_seconds(since)))
            .unwrap_or_default();
        if filtered_out > 0 {
            eprintln!(
                "headroom: none of the {filtered_out} sessions found in {}{since} matches the filters",
                places.join(", ")
            );
        } else {
            eprintln!(
                "headroom: no sessions found in {}{since}",
                places.join(", ")
            );
        }
    }

    let mut stdout = std::io::stdout().lock();
    match args.format {
        // Nothing to show: the line on stderr says where headroom looked.
        ReportFormat::Table if report.sessions == 0 => {}
        ReportFormat::Table => {
            let fit = crate::output::Stream::Stdout.fit(global.color);
            let style = if fit.color {
                table::Style::Rich
            } else {
                table::Style::Plain
            };
            writeln!(stdout, "{}", table::render(&report, style, fit.width))?;
            if let Some(reprice) = &report.reprice {
                writeln!(
                    stdout,
                    "{}",
                    format::reprice_line(reprice, &report.total, "these sessions")
                )?;
            }
            for note in format::notes(&report) {
                writeln!(stdout, "{note}")?;
            }
        }
        ReportFormat::Markdown => {
            let text = markdown::render(&report);
            stdout.write_all(text.as_bytes())?;
            if let Some(path) = env::var(env::GITHUB_STEP_SUMMARY) {
                append(Path::new(&path), &text)?;
            }
        }
        ReportFormat::Json => stdout.write_all(&json::render(&report))?,
        ReportFormat::Csv => stdout.write_all(&csv::render(&report))?,
        ReportFormat::Html => {
            let overview = overview.map(OverviewAggregator::finish);
            let covers = match (&report.first_started_at, &report.last_ended_at) {
                (Some(first), Some(last)) => format!(
                    "{} sessions, {} to {} (UTC)",
                    report.sessions,
                    first.replace('T', " ").trim_end_matches('Z'),
                    last.replace('T', " ").trim_end_matches('Z')
                ),
                _ => format!("{} sessions", report.sessions),
            };
            if let Some(overview) = overview {
                stdout.write_all(
                    html::render(&overview, &covers, report.reprice.as_ref()).as_bytes(),
                )?;
            }
        }
    }
    stdout.flush()?;

    if let Some(reprice) = report
        .reprice
        .as_ref()
        .filter(|reprice| reprice.unpriced_requests > 0 && reprice.known_cost_usd == 0.0)
    {
        eprintln!(
            "headroom: warning: --reprice {}: no known price for this model; check its name (`headroom providers`) or add it to prices.toml",
            format::shown(&reprice.model)
        );
    }
    if report.total.all_unpriced_requests() > 0 && !global.quiet {
        eprintln!(
            "hint: {} request(s) have no known price (shown as ?); add their models to prices.toml, with cache_read and cache_write rates if they use the cache (see `headroom report --help`)",
            report.total.all_unpriced_requests()
        );
    }
    if let Some(config) = &otlp {
        export_sessions(config, &to_export, global)?;
    }
    let Some(budget) = args.budget else {
        return Ok(ExitStatus::Success);
    };
    // A gate whose input is unreadable must not pass.
    if report.sessions == 0 {
        eprintln!(
            "headroom: error: no readable session summary, so the budget of {} cannot be checked",
            format::usd(budget)
        );
        return Ok(ExitStatus::Unchecked);
    }
    if !unreadable.is_empty() && !args.skip_unreadable {
        eprintln!(
            "headroom: error: {} summary file(s) could not be read, so the total may be short of the budget's; \
             fix or remove them, or pass --skip-unreadable",
            unreadable.len()
        );
        return Ok(ExitStatus::Unchecked);
    }
    let spent = report.total.known_cost_usd;
    if spent > budget {
        let (mut shown_spent, mut shown_budget) = (format::usd(spent), format::usd(budget));
        if shown_spent == shown_budget {
            // Rounded alike, they would read as equal.
            (shown_spent, shown_budget) = (format!("${spent:.6}"), format!("${budget:.6}"));
        }
        eprintln!("headroom: total cost {shown_spent} is over the budget of {shown_budget}");
        return Ok(ExitStatus::OverBudget);
    }
    if report.total.unpriced_requests > 0 {
        eprintln!(
            "headroom: warning: the known cost {} is within the budget of {}, but {} requests have no known price",
            format::usd(spent),
            format::usd(budget),
            report.total.unpriced_requests
        );
    }
    Ok(ExitStatus::Success)
}

/// `report --otlp`: sends each selected session not sent before as its own window, and notes
/// it, so running the report again counts nothing twice.
fn export_sessions(
    otlp: &crate::telemetry::Config,
    sessions: &[summary::SessionSummary],
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let record = config::headroom_home()
        .map(|home| home.join("otlp-exported"))
        .context("no place to note exported sessions; set HEADROOM_HOME")?;
    let done = crate::telemetry::exported_ids(&record);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let client = reqwest::Client::new();
    let time = |text: &str| humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok();
    let (mut sent, mut skipped) = (0, 0);
    for session in sessions {
        if done.contains(&session.session_id) {
            skipped += 1;
            continue;
        }
        let (Some(start), Some(end)) = (time(&session.started_at), time(&session.ended_at)) else {
            continue;
        };
        let refused = session
            .budget
            .as_ref()
            .map_or(0, |budget| budget.refused_requests);
        runtime
            .block_on(crate::telemetry::export(
                &client,
                otlp,
                &session.session_id,
                &session.agent,
                (start, end.max(start)),
                refused,
                &session.requests,
            ))
            .map_err(|error| {
                anyhow::anyhow!(
                    "could not export to the OpenTelemetry collector: {error} ({sent} sessions sent before it failed)"
                )
            })?;
        crate::telemetry::note_exported(&record, &session.session_id)
            .with_context(|| format!("could not write {}", record.display()))?;
        sent += 1;
    }
    if !global.quiet {
        eprintln!(
            "headroom: exported {sent} sessions to {} ({skipped} sent before, skipped)",
            otlp.metrics_url
        );
    }
    Ok(())
}

/// `--model`, `--agent`, `--project`: which sessions, and which of their requests, count.
struct Filter {
    model: Option<String>,
    agent: Option<&'static str>,
    project: Option<PathBuf>,
}

impl Filter {
    fn new(args: &ReportArgs) -> Result<Filter, Error> {
        let project = match &args.project {
            None => None,
            Some(path) => Some(std::fs::canonicalize(path).map_err(|error| Error::Config {
                message: format!("--project {}: {error}", path.display()),
                hint: Some("give a directory that exists, e.g. --project .".into()),
            })?),
        };
        Ok(Filter {
            model: args.model.as_ref().map(|model| model.to_lowercase()),
            agent: args.agent.map(AgentKind::name),
            project,
        })
    }

    /// Whether the session counts; leaves in it only the requests that do.
    fn keeps(&self, session: &mut summary::SessionSummary) -> bool {
        if self.agent.is_some_and(|agent| session.agent != agent) {
            return false;
        }
        if let Some(project) = &self.project {
            // A project found by the git root (or, outside a repository, the directory) it ran in.
            let place = session.project.as_ref().or(session.cwd.as_ref());
            if !place.is_some_and(|place| Path::new(place).starts_with(project)) {
                return false;
            }
        }
        if let Some(model) = &self.model {
            session.requests.retain(|request| {
                request.model.to_lowercase().contains(model.as_str())
                    || request.provider.to_lowercase().contains(model.as_str())
            });
            return !session.requests.is_empty();
        }
        true
    }
}

/// A session read back from its journal: what it recorded, marked incomplete, ended when the
/// journal was last written.
fn from_journal(path: &Path, bytes: &[u8]) -> anyhow::Result<summary::SessionSummary> {
    let (header, requests) = crate::usage::journal::read(bytes)?;
    let ended = std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .map(|time| humantime::format_rfc3339_seconds(time).to_string())
        .unwrap_or_else(|_| header.started_at.clone());
    Ok(summary::SessionSummary {
        schema_version: summary::SCHEMA_VERSION,
        session_id: header.session_id,
        headroom_version: header.headroom_version,
        agent: header.agent,
        argv: header.argv,
        started_at: header.started_at,
        cwd: header.cwd,
        project: header.project,
        ended_at: ended,
        requests,
        incomplete: true,
        ..summary::SessionSummary::default()
    }
    .with_rows())
}

/// `7d`, `24h`, `2weeks` ago, or a date (`2026-11-01`) or RFC 3339 time.
fn parse_since(text: &str, now: SystemTime) -> Result<SystemTime, Error> {
    if let Ok(duration) = humantime::parse_duration(text) {
        return Ok(now.checked_sub(duration).unwrap_or(SystemTime::UNIX_EPOCH));
    }
    let time = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    humantime::parse_rfc3339_weak(time.trim_end_matches('Z')).map_err(|_| Error::Config {
        message: format!("--since {text:?} is neither a duration nor a date"),
        hint: Some("use e.g. --since 7d, --since 24h or --since 2026-11-01".into()),
    })
}

/// The summary files under `roots`: files as given, `*.json` directly inside directories, sorted.
/// A missing default directory just means no sessions yet.
fn summary_files(roots: &[PathBuf], is_default: bool) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for root in roots {
        if root.is_dir() {
            let entries = std::fs::read_dir(root)
                .with_context(|| format!("could not read {}", root.display()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| {
                    (path.extension().is_some_and(|ext| ext == "json")
                        || crate::usage::journal::is_journal(path))
                        && path.is_file()
                })
                .collect();
            found.sort();
            files.extend(found);
        } else if root.exists() {
            files.push(root.clone());
        } else if !is_default {
            return Err(Error::Config {
                message: format!("{} does not exist", root.display()),
                hint: Some(
                    "pass summary files or directories, or none for the sessions directory".into(),
                ),
            }
            .into());
        }
    }
    Ok(files)
}

fn progress_bar(files: usize, quiet: bool) -> indicatif::ProgressBar {
    if quiet || files < PROGRESS_BAR_MIN_FILES || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(files as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("reading summaries {bar:30} {pos}/{len}")
    {
        bar.set_style(style);
    }
    bar
}

fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("could not open {} (GITHUB_STEP_SUMMARY)", path.display()))?;
    writeln!(file, "{text}").with_context(|| format!("could not write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_durations_and_dates() {
        let now = humantime::parse_rfc3339("2026-11-25T12:00:00Z").unwrap();
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(parse_since("7d", now).unwrap(), now - 7 * day);
        assert_eq!(parse_since("24h", now).unwrap(), now - day);
        assert_eq!(
            parse_since("2026-11-01", now).unwrap(),
            humantime::parse_rfc3339("2026-11-01T00:00:00Z").unwrap()
        );
        assert_eq!(
            parse_since("2026-11-01T06:30:00Z", now).unwrap(),
            humantime::parse_rfc3339("2026-11-01T06:30:00Z").unwrap()
        );
        assert!(parse_since("last tuesday", now).is_err());
    }
}
