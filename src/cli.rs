//! The command line, as clap derive types only: every flag's help text lives here, next to the flag.
//! Nothing in this room runs anything.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::aggregate::GroupBy;

/// Run Claude Code or Codex through a local proxy that counts tokens and cost.
///
/// headroom starts an HTTP proxy on 127.0.0.1 (random port, private per session), launches
/// your agent pointed at it, forwards its API traffic to the right upstream byte for byte,
/// and prints what the session cost when the agent exits.
#[derive(Debug, Parser)]
#[command(name = "headroom", version, about, long_about, after_long_help = crate::error::exit_codes_help())]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags that apply to every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print nothing of headroom's own on stderr (for `wrap`: no cost table); errors still go
    /// there. What a command writes to stdout (a report) is still written.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// `wrap`: print one line per proxied request on stderr: status, model, upstream, tokens,
    /// latency.
    ///
    /// Lines never contain a key or the session secret.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// When to use color in headroom's output.
    ///
    /// `auto` decides per stream (the table of `wrap` goes to stderr, that of `report` to stdout):
    /// color when that stream is a terminal whose TERM is not `dumb`, unless NO_COLOR is set or
    /// CLICOLOR=0; CLICOLOR_FORCE forces it.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// When to color output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Color when the stream written to is a terminal (and NO_COLOR is not set).
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an agent through the proxy, then print the session's tokens and cost.
    ///
    /// Everything after `--` is passed to the agent verbatim:
    ///
    ///   headroom wrap claude -- -p "fix the failing test"
    ///
    ///   headroom wrap claude --model minimax/MiniMax-M3
    ///
    ///   headroom wrap codex -- exec "add a changelog entry"
    #[command(after_long_help = crate::error::exit_codes_help())]
    Wrap(WrapArgs),

    /// Aggregate session summaries into a cost report (for people, PRs and CI).
    ///
    ///   headroom report                          last 30 days, by model
    ///
    ///   headroom report --all --by day           everything since install, per day
    ///
    ///   headroom report cost.json --format markdown --budget 5
    ///
    /// With `--format markdown` and GITHUB_STEP_SUMMARY set, the report is also appended there.
    #[command(after_long_help = crate::error::exit_codes_help())]
    Report(ReportArgs),

    /// List the providers a model can run on: URLs in effect, key variables and whether they
    /// are set (never their values), and which models go where.
    ///
    ///   headroom providers
    ///
    ///   headroom providers --providers ./team-providers.toml
    Providers {
        #[command(flatten)]
        providers: ProviderArgs,
    },

    /// The command Claude Code runs for its status line (set up by `headroom wrap claude`).
    ///
    /// Reads Claude Code's JSON on stdin, asks the session's proxy for the figures so far and
    /// prints one line: model and provider, cost (`~` estimated, `plan` for plan usage), what
    /// compression saved, cache reads, budget left, plan windows. The user's own status line
    /// comes first when there is one. Without a headroom session it prints that line or nothing,
    /// and it never prints an error.
    Statusline,

    /// Print the status line of the newest running headroom session (for another terminal or a
    /// tmux status bar); nothing when none is running.
    Status,

    /// Print a shell completion script to stdout.
    Completions {
        /// The shell to generate completions for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print a manual page (roff) to stdout: headroom's, or a subcommand's.
    ///
    ///   headroom man > headroom.1
    ///
    ///   headroom man wrap > headroom-wrap.1
    Man {
        /// The subcommand whose page to print.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(crate::manual::PAGES))]
        command: Option<String>,
    },
}

/// The agents headroom knows how to launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AgentKind {
    /// Claude Code (`claude`, npm package @anthropic-ai/claude-code).
    Claude,
    /// OpenAI Codex CLI (`codex`, npm package @openai/codex).
    Codex,
}

impl AgentKind {
    /// The agent's name, as summaries record it.
    pub fn name(self) -> &'static str {
        match self {
            AgentKind::Claude => "claude",
            AgentKind::Codex => "codex",
        }
    }
}

/// Arguments of `headroom wrap`.
#[derive(Debug, Args)]
pub struct WrapArgs {
    /// The agent to run.
    #[arg(value_enum)]
    pub agent: AgentKind,

    /// Run the agent on this model, and on its provider.
    ///
    /// A model of a provider in the table (`headroom providers`) goes to that provider with its
    /// own key, and the agent's key is taken out of its environment: `minimax/MiniMax-M3` or
    /// `MiniMax-*` (MINIMAX_API_KEY), `deepseek/…` or `deepseek-*` (DEEPSEEK_API_KEY),
    /// `moonshot/…` or `kimi-*` (MOONSHOT_API_KEY), `zai/…` or `glm-*` (ZAI_API_KEY). The
    /// `provider/` prefix is removed upstream. Codex needs a provider that serves the Responses
    /// API (MiniMax, Z.ai).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,

    /// Path of the agent binary, instead of looking it up on PATH.
    #[arg(long, value_name = "PATH")]
    pub agent_bin: Option<PathBuf>,

    /// Where to write the JSON session summary.
    ///
    /// Default: `$HEADROOM_HOME/sessions/` or, without HEADROOM_HOME, the user data directory
    /// (`~/.local/share/headroom/sessions/` on Linux).
    #[arg(long, value_name = "PATH")]
    pub summary: Option<PathBuf>,

    /// Also price the session's tokens on this model and print one line under the table.
    ///
    /// Each request keeps its own split of fresh input, cache reads, cache writes and output, and
    /// tiers apply per request: `--compare MiniMax-M3`.
    #[arg(long, value_name = "MODEL")]
    pub compare: Option<String>,

    /// Stop forwarding once the session's known cost reaches USD.
    ///
    /// Further requests get an error the agent shows to the user, naming the budget, the amount
    /// spent and how to raise it. Requests whose price is unknown cannot be counted; the summary
    /// then says the budget was not fully enforced.
    ///
    /// The budget counts billed dollars only: requests a subscription pays for (Codex signed in
    /// with ChatGPT, Claude Code on a Claude plan) are never refused by it and their
    /// API-equivalent cost is not counted, because the plan's own quota limits them.
    #[arg(long, value_name = "USD", value_parser = parse_usd)]
    pub budget: Option<f64>,

    /// How far large tool outputs may be shrunk (also: HEADROOM_COMPRESS=MODE).
    ///
    /// `full` (the default) first rewrites outputs losslessly (search results grouped by file,
    /// paths grouped by folder, JSON arrays as tables with every value's exact text, repeated
    /// lines counted), then cuts only kinds with a clear notion of what matters: logs and test or
    /// build output (every error and warning line is kept, with its stack trace), diffs and
    /// history (every header and changed line is kept), long JSON arrays and search results past
    /// 400 matches. What is cut stays in a file named in the output, under
    /// `$HEADROOM_HOME/originals/`, which the agent may read. `lossless` never cuts anything;
    /// `off` forwards tool outputs exactly as sent. Files the agent reads (Read, `cat`, `sed -n`
    /// …), source code, configuration, documentation and tables are never cut in any mode.
    #[arg(long, value_enum, value_name = "MODE")]
    pub compress: Option<CompressMode>,

    /// Do not show headroom's figures in Claude Code's status line.
    ///
    /// By default `wrap claude` passes Claude Code `--settings '{"statusLine":{"type":"command",
    /// "command":"<this headroom> statusline"}}'` (before your arguments; your files are not
    /// edited). Your own statusLine, from ~/.claude/settings.json, .claude/settings.json or
    /// .claude/settings.local.json (the last one found wins, as in Claude Code), keeps running:
    /// its line is printed first, then headroom's.
    #[arg(long)]
    pub no_statusline: bool,

    /// Forward tool outputs as the agent sent them; the same as `--compress off`.
    #[arg(long, conflicts_with = "compress")]
    pub no_compress: bool,

    #[command(flatten)]
    pub prices: PriceArgs,

    #[command(flatten)]
    pub providers: ProviderArgs,

    #[command(flatten)]
    pub otlp: OtlpArgs,

    /// Arguments passed to the agent unchanged (write them after `--`).
    #[arg(last = true, value_name = "AGENT_ARGS", allow_hyphen_values = true)]
    pub agent_args: Vec<String>,
}

/// How far tool outputs may be shrunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompressMode {
    /// Lossless rewrites, then cuts of logs, diffs, long JSON arrays and long search results.
    Full,
    /// Only rewrites the original can be rebuilt from; nothing is left out.
    Lossless,
    /// Tool outputs forwarded exactly as the agent sent them.
    Off,
}

impl CompressMode {
    /// The mode a `HEADROOM_COMPRESS` value names, if any.
    pub fn from_env_value(value: &str) -> Option<CompressMode> {
        match value.trim().to_ascii_lowercase().as_str() {
            "full" | "on" | "1" | "true" | "yes" | "" => Some(CompressMode::Full),
            "lossless" => Some(CompressMode::Lossless),
            "off" | "0" | "false" | "no" => Some(CompressMode::Off),
            _ => None,
        }
    }
}

/// Where user price overrides come from.
#[derive(Debug, Args)]
pub struct PriceArgs {
    /// Price overrides (TOML) that add or replace models.
    ///
    /// Default: `$HEADROOM_HOME/prices.toml` (or `~/.local/share/headroom/prices.toml`) when it
    /// exists. Rates are USD per million tokens:
    ///
    ///   [models."my-model"]
    ///   input = 1.0
    ///   output = 4.0
    ///   cache_read = 0.1        # optional
    ///   cache_write = 1.25      # 5-minute writes, optional
    ///   cache_write_1h = 2.0    # optional
    #[arg(long, value_name = "FILE", verbatim_doc_comment)]
    pub prices: Option<PathBuf>,
}

/// OpenTelemetry export.
#[derive(Debug, Args)]
pub struct OtlpArgs {
    /// Export to an OpenTelemetry collector (OTLP over HTTP/protobuf), also when no
    /// OTEL_EXPORTER_OTLP_*ENDPOINT is set (then to http://localhost:4318).
    ///
    /// Export is on whenever OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
    /// is set; OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME and
    /// OTEL_METRIC_EXPORT_INTERVAL (ms, default 60000) apply. Metrics follow the GenAI semantic
    /// conventions (gen_ai.client.token.usage, gen_ai.client.operation.duration) plus headroom.*
    /// (cost, cache tokens, compression, budget refusals); see the README, "For teams".
    #[arg(long)]
    pub otlp: bool,

    /// Also export one span per request (GenAI attributes, never content); also with
    /// OTEL_TRACES_EXPORTER=otlp.
    #[arg(long)]
    pub otlp_traces: bool,
}

/// Where user-defined providers come from.
#[derive(Debug, Args)]
pub struct ProviderArgs {
    /// Providers (TOML) that add to the built-in table or change its entries.
    ///
    /// Default: `$HEADROOM_HOME/providers.toml` (or `~/.local/share/headroom/providers.toml`)
    /// when it exists. An entry of a built-in name changes only the fields it gives; a new one
    /// needs a URL, and is reached by `<name>/…` unless it gives other prefixes or names. A user
    /// entry wins over a built-in one for the same model, and the longest match wins:
    ///
    ///   [providers.gateway]
    ///   anthropic_url = "https://llm.example.com/anthropic"
    ///   openai_url = "https://llm.example.com/v1"   # optional
    ///   responses = true          # the OpenAI URL serves the Responses API (Codex)
    ///   key_env = "GATEWAY_API_KEY"                 # default: <NAME>_API_KEY
    ///   prefixes = ["gw/"]        # removed upstream (default: gateway/)
    ///   names = ["corp-"]         # sent as they are: corp-large
    ///   price_provider = "anthropic"                # optional: whose prices apply
    ///   context_windows = { "corp-large" = 200000 } # optional, for Codex
    #[arg(long, value_name = "FILE", verbatim_doc_comment)]
    pub providers: Option<PathBuf>,
}

/// The time zone days are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimeZoneChoice {
    Utc,
    Local,
}

/// Output formats of `headroom report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A table for the terminal.
    Table,
    /// A GitHub-flavoured markdown table for PRs and job summaries.
    Markdown,
    /// JSON with `null` for unknown costs.
    Json,
    /// CSV with an empty cell for unknown costs.
    Csv,
    /// One self-contained HTML page (no network): totals, cost per day by provider, models,
    /// sessions and compression. It always shows those views; --by does not apply.
    Html,
}

/// Arguments of `headroom report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Summary files or directories of them (default: the sessions directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Only sessions that started after this: a duration (`7d`, `24h`, `2weeks`) or a date
    /// (`2026-11-01`, or RFC 3339).
    ///
    /// Default when reading the sessions directory: 30 days. Files and directories given as PATH
    /// are read whole unless --since is given.
    #[arg(long, value_name = "WHEN", conflicts_with = "all")]
    pub since: Option<String>,

    /// Only sessions that started before this (same forms as --since).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    /// Every session since install: the lifetime view.
    #[arg(long)]
    pub all: bool,

    /// Only requests to models whose name contains this (any case), e.g. `--model opus` or
    /// `--model minimax`; sessions without any are left out.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,

    /// Only sessions of this agent.
    #[arg(long, value_enum)]
    pub agent: Option<AgentKind>,

    /// Only sessions run in this project: the git repository (or directory) the agent ran in is
    /// PATH or inside it. `--project .` is the repository you are in.
    #[arg(long, value_name = "PATH")]
    pub project: Option<PathBuf>,

    /// Where days begin for `--by day` and the HTML report's chart: `utc` or `local` (the system
    /// time zone, or TZ).
    #[arg(long, value_enum, default_value_t = TimeZoneChoice::Utc)]
    pub tz: TimeZoneChoice,

    /// How to group rows.
    #[arg(long, value_enum, default_value_t = GroupBy::Model)]
    pub by: GroupBy,

    /// Output format (written to stdout).
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Exit with code 3 when the total known cost is over USD (for CI).
    ///
    /// The gate fails closed: with no readable summary, or with a summary it cannot read, it exits
    /// with code 4 instead of passing (`--skip-unreadable` lets unreadable files be skipped).
    ///
    /// Billed dollars only: the API-equivalent cost of usage a subscription covers, shown with
    /// `(plan)`, is not counted (as in `wrap --budget`).
    #[arg(long, value_name = "USD", value_parser = parse_usd)]
    pub budget: Option<f64>,

    /// Also price the same tokens on this model, request by request (a line under the table,
    /// markdown and HTML reports; `reprice` in JSON; not in CSV).
    #[arg(long, value_name = "MODEL")]
    pub reprice: Option<String>,

    /// With --budget, skip summaries that cannot be read (with a warning) instead of failing.
    #[arg(long)]
    pub skip_unreadable: bool,

    #[command(flatten)]
    pub prices: PriceArgs,

    #[command(flatten)]
    pub providers: ProviderArgs,

    /// With --otlp: send the selected sessions to the collector as metrics with their own
    /// times (sessions sent before are skipped; the list is $HEADROOM_HOME/otlp-exported).
    #[command(flatten)]
    pub otlp: OtlpArgs,
}

fn parse_usd(text: &str) -> Result<f64, String> {
    let amount: f64 = text
        .trim_start_matches('$')
        .parse()
        .map_err(|_| format!("{text:?} is not an amount in USD (e.g. 5 or 2.50)"))?;
    if amount.is_finite() && amount >= 0.0 {
        Ok(amount)
    } else {
        Err(format!("{text:?} must be a non-negative amount in USD"))
    }
}
