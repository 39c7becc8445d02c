//! `headroom wrap`: start the proxy, launch the agent pointed at it, wait, stop the proxy, then
//! print the cost table and write the session summary. The agent owns stdout and the terminal;
//! everything headroom prints goes to stderr.

pub mod child;
pub mod claude;
pub mod codex;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use tokio::sync::mpsc;

use crate::cli::{AgentKind, ColorChoice, GlobalArgs, WrapArgs};
use crate::env::{self, Secret};
use crate::error::{Error, ExitStatus};
use crate::pricing::{PRICE_SOURCE, PriceBook};
use crate::proxy::route::{Family, Upstreams, is_minimax_model};
use crate::proxy::server::Proxy;
use crate::report::json::{SCHEMA_VERSION, SessionSummary, Totals};
use crate::report::table::{self, Style};
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
}

/// Runs `headroom wrap`.
pub fn run(args: &WrapArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let started_at = SystemTime::now();
    let (program_name, install, family) = match args.agent {
        AgentKind::Claude => (claude::PROGRAM, claude::INSTALL, Family::Anthropic),
        AgentKind::Codex => (codex::PROGRAM, codex::INSTALL, Family::OpenAi),
    };
    let program = find_agent(args, program_name, install)?;
    let upstreams = Upstreams::from_env();
    if let Some(model) = args
        .model
        .as_deref()
        .filter(|model| is_minimax_model(model))
        && upstreams.minimax_key.is_none()
    {
        return Err(Error::Config {
            message: format!(
                "--model {model} runs on MiniMax, but {} is not set",
                env::MINIMAX_API_KEY
            ),
            hint: Some(format!(
                "export {}=<your MiniMax key> and run again",
                env::MINIMAX_API_KEY
            )),
        }
        .into());
    }

    // One thread is plenty for one agent's traffic, and on a small machine it measured faster than
    // a worker pool competing with the agent for cores (`cargo bench --bench proxy`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let (status, snapshot) = runtime.block_on(async {
        let (records_tx, records_rx) = mpsc::unbounded_channel();
        let ledger = Arc::new(Ledger::new(PriceBook, global.verbose.then_some(records_tx)));
        let proxy = Proxy::start(upstreams, family, ledger.clone()).await?;
        let session = Session {
            program,
            base_url: proxy.base_url.clone(),
            secret: proxy.secret.clone(),
        };
        let model = args.model.as_deref();
        let launch = match args.agent {
            AgentKind::Claude => claude::launch(&session, model, &args.agent_args),
            AgentKind::Codex => codex::launch(
                &session,
                model,
                &args.agent_args,
                env::var(env::OPENAI_API_KEY).is_some(),
            ),
        };
        let printer = tokio::spawn(print_records(records_rx));
        // Decode the price data while the agent starts, not before it.
        tokio::task::spawn_blocking(PriceBook::warm_up);
        let status = child::run(&launch, install).await;
        proxy.shutdown().await;
        let snapshot = ledger.snapshot();
        drop(ledger);
        let _ = printer.await;
        anyhow::Ok((status?, snapshot))
    })?;

    if !global.quiet {
        let style = if use_color(global.color) {
            Style::Rich
        } else {
            Style::Plain
        };
        eprintln!("{}", table::render(&snapshot, style));
    }
    let summary = SessionSummary {
        schema_version: SCHEMA_VERSION,
        headroom_version: env!("CARGO_PKG_VERSION"),
        agent: program_name,
        argv: redacted_argv(),
        started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
        ended_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        exit_code: status.code(),
        price_source: PRICE_SOURCE,
        totals: Totals::of(&snapshot),
        models: snapshot.rows,
    };
    // The agent's work is done either way: a summary that cannot be written is a warning, and
    // headroom still exits with the agent's status.
    match write_summary(args, &summary, started_at) {
        Ok(path) if !global.quiet => {
            eprintln!("headroom: session summary written to {}", path.display())
        }
        Ok(_) => {}
        Err(error) => eprintln!("headroom: warning: {error:#}"),
    }
    Ok(status)
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

fn write_summary(
    args: &WrapArgs,
    summary: &SessionSummary,
    started_at: SystemTime,
) -> anyhow::Result<PathBuf> {
    let path = match &args.summary {
        Some(path) => path.clone(),
        None => {
            let stamp = humantime::format_rfc3339_seconds(started_at)
                .to_string()
                .replace(':', "-");
            let name = format!("{stamp}-{}-{}.json", summary.agent, std::process::id());
            crate::report::default_sessions_dir()?.join(name)
        }
    };
    crate::report::write_atomically(&path, &crate::report::json::render(summary)).context(
        "could not write the session summary (pass --summary PATH to choose another place)",
    )?;
    Ok(path)
}

/// headroom's command line with every credential value from the environment blanked out.
fn redacted_argv() -> Vec<String> {
    let credentials: Vec<String> = env::CREDENTIAL_VARS
        .iter()
        .filter_map(|name| env::var(name))
        .collect();
    std::env::args()
        .map(|arg| {
            credentials.iter().fold(arg, |arg, credential| {
                arg.replace(credential.as_str(), "***")
            })
        })
        .collect()
}

/// `--color` first, then NO_COLOR, then whether stderr is a terminal.
fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => env::var(env::NO_COLOR).is_none() && std::io::stderr().is_terminal(),
    }
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
        eprintln!(
            "headroom: {} {} {} via {} {} {:.0}ms",
            record.status,
            record.provider,
            record.model,
            record.upstream,
            tokens,
            record.latency.as_secs_f64() * 1000.0
        );
    }
}
