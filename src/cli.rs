//! The command line, as clap derive types only: every flag's help text lives here, next to the flag.
//! Nothing in this room runs anything.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES_HELP: &str = "\
Exit codes:
  <agent's code>  `wrap` exits with the agent's own exit code
  128+N           the agent was killed by signal N
  0               success (other subcommands)
  1               headroom itself failed (the message says why)
  2               usage or configuration error (bad flag, missing key for a MiniMax model)
  126             the agent binary was found but could not be executed
  127             the agent binary was not found (install it or pass --agent-bin)";

/// Run Claude Code or Codex through a local proxy that counts tokens and cost.
///
/// headroom starts an HTTP proxy on 127.0.0.1 (random port, private per session), launches
/// your agent pointed at it, forwards its API traffic to the right upstream byte for byte,
/// and prints what the session cost when the agent exits.
#[derive(Debug, Parser)]
#[command(name = "headroom", version, about, long_about, after_long_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags that apply to every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print nothing of headroom's own (no cost table); errors still go to stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print one line per proxied request on stderr: status, model, upstream, tokens, latency.
    ///
    /// Lines never contain a key or the session secret.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// When to use color in headroom's output.
    ///
    /// `auto` uses color only when stderr is a terminal and NO_COLOR is unset.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// When to color output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Color when stderr is a terminal and NO_COLOR is not set.
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
    #[command(after_long_help = EXIT_CODES_HELP)]
    Wrap(WrapArgs),

    /// Print a shell completion script to stdout.
    Completions {
        /// The shell to generate completions for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the man page (roff) to stdout.
    Man,
}

/// The agents headroom knows how to launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AgentKind {
    /// Claude Code (`claude`, npm package @anthropic-ai/claude-code).
    Claude,
    /// OpenAI Codex CLI (`codex`, npm package @openai/codex).
    Codex,
}

/// Arguments of `headroom wrap`.
#[derive(Debug, Args)]
pub struct WrapArgs {
    /// The agent to run.
    #[arg(value_enum)]
    pub agent: AgentKind,

    /// Run the agent on this model.
    ///
    /// `minimax/<model>` or any `MiniMax-*` name sends the traffic to MiniMax with
    /// MINIMAX_API_KEY (the prefix is stripped upstream): `--model minimax/MiniMax-M3` is the
    /// one-command way to run Claude Code or Codex on MiniMax.
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

    /// Arguments passed to the agent unchanged (write them after `--`).
    #[arg(last = true, value_name = "AGENT_ARGS", allow_hyphen_values = true)]
    pub agent_args: Vec<String>,
}
