//! `headroom wrap`: start the proxy, launch the agent pointed at it, wait, stop the proxy, then
//! print the cost table and write the session summary. The agent owns stdout and the terminal;
//! everything headroom prints goes to stderr.

pub mod child;
pub mod claude;
pub mod codex;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use tokio::sync::mpsc;

use crate::cli::{AgentKind, CompressMode, GlobalArgs, WrapArgs};
use crate::compress::Compressor;
use crate::env::{self, Secret};
use crate::error::{Error, ExitStatus};
use crate::pricing::PriceBook;
use crate::providers::{Family, Provider, Spec};
use crate::proxy::route::Upstreams;
use crate::proxy::server::{Proxy, ProxyOptions};
use crate::report::aggregate::reprice;
use crate::report::format;
use crate::report::summary::{BudgetOutcome, SCHEMA_VERSION, SessionSummary};
use crate::report::table::{self, Style};
use crate::usage::journal::{self, Journal, JournalHeader};
use crate::usage::ledger::{Ledger, RequestRecord};

/// What an agent launcher needs to know about the running session.
#[derive(Debug)]
pub struct Session {
    /// The agent executable.
    pub program: PathBuf,
    /// `http://127.0.0.1:PORT/s/<secret>`.
    pub base_url: Secret,
    /// The session secret alone.
    pub secret: Secret,
    /// `http://127.0.0.1:PORT`, no secret: for an agent whose argv others can see.
    pub origin: String,
    /// Where originals of cut tool outputs are kept, when outputs may be cut: the agent is
    /// allowed to read there.
    pub originals: Option<PathBuf>,
}

/// Runs `headroom wrap`.
pub fn run(args: &WrapArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let started_at = SystemTime::now();
    let (program_name, install, family) = match args.agent {
        AgentKind::Claude => (claude::PROGRAM, claude::INSTALL, Family::Anthropic),
        AgentKind::Codex => (codex::PROGRAM, codex::INSTALL, Family::OpenAi),
    };
    let program = find_agent(args, program_name, install)?;
    let (providers, warning) = crate::config::providers(args.providers.providers.as_deref())?;
    if let Some(warning) = warning {
        eprintln!("headroom: warning: {warning}");
    }
    let providers = crate::providers::install(providers);
    let mut upstreams = Upstreams::from_env(providers);
    let resolved = args
        .model
        .as_deref()
        .and_then(|model| providers.resolve(model));
    if let Some(resolved) = resolved {
        check_provider(args, resolved.spec, &upstreams)?;
    } else if let Some((prefix, _)) = args
        .model
        .as_deref()
        .and_then(|model| model.split_once('/'))
        && !["anthropic", "openai"].contains(&prefix.to_ascii_lowercase().as_str())
        && !global.quiet
    {
        // A typo (`minmax/…`) would otherwise go to the agent's own provider unremarked.
        eprintln!(
            "headroom: warning: --model {}: no provider is named {prefix:?} (`headroom providers` lists them); \
             the model goes to the agent's own provider as it is",
            args.model.as_deref().unwrap_or_default()
        );
    }
    let codex_auth = match args.agent {
        AgentKind::Claude => {
            respect_own_url(
                &mut upstreams.anthropic,
                env::ANTHROPIC_TARGET_API_URL,
                env::var(env::ANTHROPIC_BASE_URL),
                "ANTHROPIC_BASE_URL",
                global,
            );
            codex::Auth::OpenAi
        }
        AgentKind::Codex => {
            let config = codex::config();
            let own = codex::own_provider(config.as_ref());
            if let Some(own) = &own {
                respect_own_url(
                    &mut upstreams.openai,
                    env::OPENAI_TARGET_API_URL,
                    Some(own.base_url.clone()),
                    &format!("model_provider {:?} in Codex's config.toml", own.name),
                    global,
                );
            }
            let auth = codex::auth(
                resolved.is_some(),
                env::var(env::OPENAI_API_KEY).is_some(),
                own,
            );
            if auth == codex::Auth::OpenAi {
                codex::check_sign_in(&args.agent_args, config.as_ref())?;
            }
            auth
        }
    };

    let compress_mode = compress_mode(args)?;
    let otlp = crate::telemetry::Config::from_env(args.otlp.otlp, args.otlp.otlp_traces)?;
    let (prices, warning) = crate::config::price_book(args.prices.prices.as_deref())?;
    if let Some(warning) = warning {
        eprintln!("headroom: warning: {warning}");
    }
    let session_id = Secret::random()?.expose().to_owned();

    // One thread is plenty for one agent's traffic, and on a small machine it measured faster than
    // a worker pool competing with the agent for cores (`cargo bench --bench proxy`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let place = Place::here();
    let journal = start_journal(&session_id, program_name, started_at, &place);
    let Ended {
        status,
        requests,
        refused_requests,
        spent,
        compression,
        plan_quota,
        journal,
        export_error,
    } = runtime.block_on(async {
        let (records_tx, records_rx) = mpsc::unbounded_channel();
        let mut ledger = Ledger::new(prices.clone(), global.verbose.then_some(records_tx));
        if let Some(journal) = journal {
            ledger = ledger.with_journal(journal);
        }
        let ledger = Arc::new(ledger);
        let compressor = compressor(compress_mode);
        let options = ProxyOptions {
            upstreams,
            default_family: family,
            budget_usd: args.budget,
            compressor: compressor.clone(),
            pinned_provider: resolved.map(|resolved| Provider::Compatible(resolved.spec)),
        };
        let proxy = Proxy::start(options, ledger.clone()).await?;
        let live = otlp.map(|config| {
            crate::telemetry::Live::start(
                config,
                ledger.clone(),
                &session_id,
                program_name,
                started_at,
            )
        });
        let session = Session {
            program,
            base_url: proxy.base_url.clone(),
            secret: proxy.secret.clone(),
            origin: proxy.origin.clone(),
            originals: compressor
                .as_deref()
                .and_then(Compressor::originals_dir)
                .map(PathBuf::from),
        };
        let model = args.model.as_deref();
        let launch = match args.agent {
            AgentKind::Claude => {
                let statusline = std::env::current_dir()
                    .ok()
                    .filter(|_| !args.no_statusline)
                    .and_then(|cwd| claude::StatusLine::for_this_headroom(&cwd));
                claude::launch(
                    &session,
                    model,
                    resolved.is_some(),
                    statusline.as_ref(),
                    &args.agent_args,
                )
            }
            AgentKind::Codex => {
                codex::launch(&session, model, resolved, &codex_auth, &args.agent_args)
            }
        };
        let printer = tokio::spawn(print_records(records_rx));
        // Decode the price data, build the tokenizer's tables and tidy old originals while the
        // agent starts, not before it; one after the other, so a core stays free for the start.
        let compresses = compressor.is_some();
        tokio::task::spawn_blocking(move || {
            PriceBook::warm_up();
            if compresses {
                crate::tokens::warm_up();
            }
            if let Some(dir) = originals_dir() {
                // A failed prune leaves old originals for the next start to remove.
                let _ = crate::compress::originals::prune(&dir, SystemTime::now());
            }
        });
        // Listed while it runs, for `headroom status` in another terminal.
        let running = crate::home::register_running(
            &session_id,
            &crate::home::RunningSession {
                pid: std::process::id(),
                agent: program_name.to_owned(),
                started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
                base_url: session.base_url.expose().to_owned(),
            },
        );
        let status = child::run(&launch, install).await;
        drop(running);
        let refused_requests = proxy.refused_requests();
        proxy.shutdown().await;
        let export_error = match live {
            Some(live) => live.finish(refused_requests).await,
            None => None,
        };
        let compression = compressor
            .as_deref()
            .map(|compressor| {
                finish_originals(compressor);
                compressor.kinds()
            })
            .unwrap_or_default();
        let requests = ledger.requests();
        let spent = ledger.spent();
        let plan_quota = ledger.quota();
        let journal = ledger.take_journal();
        drop(ledger);
        let _ = printer.await;
        // The agent never ran: nothing went through headroom, and no journal may outlive it.
        let status = match status {
            Ok(status) => status,
            Err(error) => {
                if let Some(journal) = journal {
                    journal.remove();
                }
                return Err(error);
            }
        };
        anyhow::Ok(Ended {
            status,
            requests,
            refused_requests,
            spent,
            compression,
            plan_quota,
            journal,
            export_error,
        })
    })?;
    if let Some(error) = export_error {
        eprintln!(
            "headroom: warning: the OpenTelemetry export failed ({error}); the session's totals are in its summary as usual"
        );
    }

    let mut summary = SessionSummary {
        schema_version: SCHEMA_VERSION,
        session_id,
        headroom_version: env!("CARGO_PKG_VERSION").to_owned(),
        agent: program_name.to_owned(),
        argv: redacted_argv(),
        started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
        ended_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        exit_code: status.code(),
        cwd: place.cwd,
        project: place.project,
        requests,
        compression,
        plan_quota,
        budget: args.budget.map(|budget_usd| BudgetOutcome {
            budget_usd,
            spent_usd: spent.0,
            refused_requests,
            // Requests are held to their worst case before they go, so the budget holds unless a
            // price was unknown (counted as nothing) or an upstream billed past its worst case.
            fully_enforced: spent.1 == 0 && spent.0 <= budget_usd,
        }),
        ..SessionSummary::default()
    }
    .with_rows();
    summary.compare = args
        .compare
        .as_deref()
        .map(|model| reprice(&summary.requests, model, &prices));

    // A session that sent nothing (a failed login, `--help`) has nothing to show or count.
    if summary.requests.is_empty() && args.summary.is_none() {
        if let Some(journal) = journal {
            journal.remove();
        }
        if !global.quiet {
            eprintln!("headroom: no requests went through headroom; nothing to count");
        }
        return Ok(status);
    }
    if !global.quiet {
        print_session(&summary, global);
    }
    // The agent's work is done either way: a summary that cannot be written where asked goes to
    // a fallback place `headroom report` also reads, and headroom still exits with the agent's
    // status.
    match write_summary(args, &summary, started_at) {
        Ok(written) => {
            // The summary holds everything the journal did.
            if let Some(journal) = journal {
                journal.remove();
            }
            if let Some(error) = &written.instead_of {
                eprintln!(
                    "headroom: warning: {}; the summary was written to {} instead (`headroom report` reads it there)",
                    crate::error::one_line(error),
                    written.path.display()
                );
            } else if !global.quiet {
                eprintln!(
                    "headroom: session summary written to {}",
                    written.path.display()
                );
            }
        }
        Err(error) => {
            if let Some(mut journal) = journal {
                journal.flush();
            }
            eprintln!(
                "headroom: warning: {}; `headroom report` will still count the session from its journal",
                crate::error::one_line(&error)
            );
        }
    }
    Ok(status)
}

/// The session's journal in the sessions directory, where `headroom report` looks; a session
/// runs on without one (it then counts only if its summary is written).
fn start_journal(
    session_id: &str,
    agent: &str,
    started_at: SystemTime,
    place: &Place,
) -> Option<Journal> {
    let header = JournalHeader {
        journal: 1,
        session_id: session_id.to_owned(),
        headroom_version: env!("CARGO_PKG_VERSION").to_owned(),
        agent: agent.to_owned(),
        argv: redacted_argv(),
        started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
        cwd: place.cwd.clone(),
        project: place.project.clone(),
    };
    let journal = crate::home::sessions_dir()
        .and_then(|dir| Journal::create(dir.join(journal::file_name(session_id)), &header));
    match journal {
        Ok(journal) => Some(journal),
        Err(error) => {
            eprintln!(
                "headroom: warning: no journal for this session ({}); if headroom is killed, the session is not counted",
                crate::error::one_line(&error)
            );
            None
        }
    }
}

/// What a session left when its agent ended.
struct Ended {
    status: ExitStatus,
    requests: Vec<crate::usage::ledger::PricedRequest>,
    refused_requests: u64,
    /// Known billed cost, and billed requests without a price.
    spent: (f64, u64),
    compression: std::collections::BTreeMap<String, crate::compress::KindTotals>,
    plan_quota: Vec<crate::usage::quota::QuotaWindow>,
    journal: Option<Journal>,
    /// Why the OpenTelemetry export failed, if it did.
    export_error: Option<String>,
}

/// Where the agent runs: the working directory, and the git repository around it.
struct Place {
    cwd: Option<String>,
    project: Option<String>,
}

impl Place {
    fn here() -> Place {
        let cwd = std::env::current_dir().ok();
        let project = cwd.as_deref().and_then(|dir| {
            dir.ancestors()
                .find(|dir| dir.join(".git").exists())
                .map(|root| root.display().to_string())
        });
        Place {
            cwd: cwd.map(|dir| dir.display().to_string()),
            project,
        }
    }
}

/// Stops before anything starts when `--model` names a provider this session cannot use: its key
/// is not set, or the agent speaks an API the provider does not serve.
fn check_provider(
    args: &WrapArgs,
    spec: &'static Spec,
    upstreams: &Upstreams,
) -> Result<(), Error> {
    let model = args.model.as_deref().unwrap_or_default();
    if upstreams.key_for(Provider::Compatible(spec)).is_none() {
        return Err(Error::Config {
            message: format!(
                "--model {model} runs on {}, but {} is not set",
                spec.name, spec.key_env
            ),
            hint: Some(format!(
                "export {}=<your {} key> and run again",
                spec.key_env, spec.name
            )),
        });
    }
    let reached = upstreams.compatible(spec);
    let (serves, api, url_env) = match args.agent {
        AgentKind::Claude => (
            reached.is_some_and(|upstream| upstream.anthropic.is_some()),
            "Anthropic-compatible API (Claude Code needs one)",
            &spec.anthropic_url_env,
        ),
        AgentKind::Codex => (
            reached.is_some_and(|upstream| upstream.openai.is_some()) && spec.responses,
            "OpenAI Responses API (Codex needs one)",
            &spec.openai_url_env,
        ),
    };
    if serves {
        return Ok(());
    }
    Err(Error::Config {
        message: format!(
            "--model {model} runs on {}, which serves no {api}",
            spec.name
        ),
        hint: Some(format!(
            "run it with the other agent, or, if {} does serve it, set {url_env} (and `responses = true` for Codex) in providers.toml (see `headroom providers`)",
            spec.name
        )),
    })
}

/// Uses the upstream the user already points the agent at (`ANTHROPIC_BASE_URL`, a Codex
/// `model_provider`) unless `target_var` names another, and says so once.
fn respect_own_url(
    upstream: &mut String,
    target_var: &str,
    own: Option<String>,
    source: &str,
    global: &GlobalArgs,
) {
    let Some(own) = own.filter(|_| env::var(target_var).is_none()) else {
        return;
    };
    let own = own.trim_end_matches('/').to_owned();
    if !global.quiet {
        eprintln!("headroom: forwarding to {own} ({source}); set {target_var} to send elsewhere");
    }
    *upstream = own;
}

/// The cost table and notes under it, on stderr.
fn print_session(summary: &SessionSummary, global: &GlobalArgs) {
    let fit = crate::output::Stream::Stderr.fit(global.color);
    let style = if fit.color { Style::Rich } else { Style::Plain };
    let report = summary.report();
    eprintln!("{}", table::render(&report, style, fit.width));
    for note in format::notes(&report) {
        eprintln!("{note}");
    }
    for window in &summary.plan_quota {
        eprintln!("{}", window.line());
    }
    for line in upstream_error_lines(summary) {
        eprintln!("{line}");
    }
    if let Some(compare) = &summary.compare {
        eprintln!(
            "{}",
            format::reprice_line(compare, &summary.totals, "this session")
        );
    }
    for row in summary
        .models
        .iter()
        .filter(|row| row.totals.all_unpriced_requests() > 0)
    {
        eprintln!(
            "hint: {} has no known price (shown as ?); add it to prices.toml, with cache_read and cache_write rates if it uses the cache (see `headroom wrap --help`, --prices)",
            format::shown(&row.model)
        );
    }
    if let Some(budget) = summary
        .budget
        .as_ref()
        .filter(|budget| budget.refused_requests > 0)
    {
        eprintln!(
            "headroom: the budget of {} refused {} request(s): their worst case did not fit beside the {} spent",
            format::usd(budget.budget_usd),
            budget.refused_requests,
            format::usd(budget.spent_usd)
        );
    }
}

/// One line per provider that answered requests with an error: how many, and the first error
/// (the agent's retries otherwise hide why a session failed).
fn upstream_error_lines(summary: &SessionSummary) -> Vec<String> {
    let mut by_provider: Vec<(&str, u64, &crate::usage::UpstreamError)> = Vec::new();
    for request in &summary.requests {
        let Some(error) = &request.error else {
            continue;
        };
        match by_provider
            .iter_mut()
            .find(|(provider, ..)| *provider == &*request.provider)
        {
            Some((_, count, _)) => *count += 1,
            None => by_provider.push((&request.provider, 1, error)),
        }
    }
    by_provider
        .into_iter()
        .map(|(provider, count, first)| {
            let requests = if count == 1 { "request" } else { "requests" };
            format!(
                "headroom: {provider} answered {count} {requests} with an error; the first: {}",
                first.line()
            )
        })
        .collect()
}

/// How far tool outputs may be shrunk: `--compress`, `--no-compress`, else `HEADROOM_COMPRESS`.
fn compress_mode(args: &WrapArgs) -> Result<CompressMode, Error> {
    if args.no_compress {
        return Ok(CompressMode::Off);
    }
    if let Some(mode) = args.compress {
        return Ok(mode);
    }
    match env::var(env::HEADROOM_COMPRESS) {
        None => Ok(CompressMode::Full),
        Some(value) => CompressMode::from_env_value(&value).ok_or_else(|| Error::Config {
            message: format!(
                "{}={value:?} is not a compression mode",
                env::HEADROOM_COMPRESS
            ),
            hint: Some(format!(
                "set {} to full, lossless or off, or unset it",
                env::HEADROOM_COMPRESS
            )),
        }),
    }
}

/// The session's compressor, unless compression is turned off. Without a folder for originals
/// (`--compress lossless`, or one that cannot be created) it only compresses losslessly.
fn compressor(mode: CompressMode) -> Option<Arc<Compressor>> {
    match mode {
        CompressMode::Off => return None,
        CompressMode::Lossless => return Some(Arc::new(Compressor::new(None))),
        CompressMode::Full => {}
    }
    let originals = originals_dir().filter(|dir| match std::fs::create_dir_all(dir) {
        Ok(()) => true,
        Err(error) => {
            eprintln!(
                "headroom: warning: could not create {} ({error}); tool outputs are compressed \
                 only where nothing is left out this session (set {} to a writable folder)",
                dir.display(),
                env::HEADROOM_HOME
            );
            false
        }
    });
    Some(Arc::new(Compressor::new(originals)))
}

/// Writes the originals no request got to write (their markers already name the files), and
/// warns about any that could not be written.
fn finish_originals(compressor: &Compressor) {
    let unkept = compressor.finish_all(&crate::compress::originals::keep);
    if unkept.count > 0 {
        eprintln!(
            "headroom: warning: {} full tool output(s) could not be written ({}); markers sent \
             to the model name files that do not exist",
            unkept.count,
            unkept.first_error.as_deref().unwrap_or("unknown error")
        );
    }
}

/// Where originals of lossy compressions are kept: shared by sessions, so a resumed session still
/// finds the files its earlier turns point at.
fn originals_dir() -> Option<PathBuf> {
    crate::config::headroom_home().map(|home| home.join("originals"))
}

fn find_agent(args: &WrapArgs, program: &str, install: &'static str) -> Result<PathBuf, Error> {
    match &args.agent_bin {
        Some(path) if path.exists() => Ok(path.clone()),
        Some(path) => Err(Error::AgentNotFound {
            program: program.to_owned(),
            where_: format!(" at {} (--agent-bin)", path.display()),
            install,
        }),
        None => which::which(program).map_err(|_| Error::AgentNotFound {
            program: program.to_owned(),
            where_: " on PATH".into(),
            install,
        }),
    }
}

/// Where a summary went, and why not where it was asked to go.
struct Written {
    path: PathBuf,
    instead_of: Option<anyhow::Error>,
}

/// Writes the summary where asked (`--summary`, else the sessions directory), else to the first
/// fallback directory that takes it.
fn write_summary(
    args: &WrapArgs,
    summary: &SessionSummary,
    started_at: SystemTime,
) -> anyhow::Result<Written> {
    let stamp = humantime::format_rfc3339_seconds(started_at)
        .to_string()
        .replace(':', "-");
    let name = format!(
        "{stamp}-{}-{}.json",
        summary.agent,
        &summary.session_id[..8]
    );
    let bytes = crate::report::summary::render(summary);
    let asked = match &args.summary {
        Some(path) => Ok(path.clone()),
        None => crate::home::sessions_dir().map(|dir| dir.join(&name)),
    };
    let error =
        match asked.and_then(|path| crate::home::write_atomically(&path, &bytes).map(|()| path)) {
            Ok(path) => {
                return Ok(Written {
                    path,
                    instead_of: None,
                });
            }
            Err(error) => error.context("could not write the session summary"),
        };
    match crate::home::write_to_fallback(&name, &bytes) {
        Some(path) => Ok(Written {
            path,
            instead_of: Some(error),
        }),
        None => {
            Err(error.context("nor in any fallback place (pass --summary PATH to choose another)"))
        }
    }
}

/// headroom's command line with every credential value from the environment blanked out.
fn redacted_argv() -> Vec<String> {
    let provider_keys = crate::providers::table()
        .specs()
        .map(|spec| spec.key_env.as_str());
    let credentials: Vec<String> = env::CREDENTIAL_VARS
        .into_iter()
        .chain(provider_keys)
        .filter_map(env::var)
        .collect();
    std::env::args()
        .map(|arg| {
            credentials.iter().fold(arg, |arg, credential| {
                arg.replace(credential.as_str(), "***")
            })
        })
        .collect()
}

/// `--verbose`: one line per finished request, as requests finish.
async fn print_records(mut records: mpsc::UnboundedReceiver<RequestRecord>) {
    while let Some(record) = records.recv().await {
        let tokens = record.usage.map_or_else(
            || "no usage".to_owned(),
            |usage| {
                format!(
                    "in={} out={} cache_read={} cache_write={}",
                    usage.input_tokens,
                    usage.output_tokens,
                    usage.cache_read_tokens,
                    usage.cache_write_tokens()
                )
            },
        );
        let compressed = record
            .compression
            .as_ref()
            .map(|compression| {
                let kinds = compression.kinds();
                let mut note = String::new();
                if !kinds.is_empty() {
                    note.push_str(&format!(" compressed={}", kinds.join(",")));
                }
                if compression.retrievals() > 0 {
                    note.push_str(&format!(" originals_read={}", compression.retrievals()));
                }
                note
            })
            .unwrap_or_default();
        eprintln!(
            "headroom: {} {} {} via {} {}{} {:.0}ms",
            record.status,
            record.provider,
            format::shown(&record.model),
            record.upstream,
            tokens,
            compressed,
            record.latency.as_secs_f64() * 1000.0
        );
    }
}
