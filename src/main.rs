//! headroom: run a coding agent through a local proxy that counts its tokens and cost.
//!
//! `main` only parses the command line, dispatches, and turns errors into messages and exit codes.

mod body;
mod cli;
mod compress;
mod config;
mod env;
mod error;
mod home;
mod manual;
mod output;
mod pricing;
mod providers;
mod proxy;
mod report;
mod statusline;
mod telemetry;
mod tokens;
mod usage;
mod wrap;

use std::io::Write;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::error::ExitStatus;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let status = match run(cli) {
        Ok(status) => status,
        Err(error) => {
            eprintln!("headroom: error: {}", error::one_line(&error));
            let known = error.downcast_ref::<error::Error>();
            if let Some(hint) = known.and_then(error::Error::hint) {
                eprintln!("hint: {hint}");
            }
            known.map_or(ExitStatus::Failure, error::Error::exit_status)
        }
    };
    std::process::ExitCode::from(status.code())
}

fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Wrap(args) => wrap::run(&args, &cli.global),
        Command::Report(args) => report::run(&args, &cli.global),
        Command::Providers { providers } => providers::command::run(&providers),
        // Claude Code reads the line through a pipe and shows its colours: colour unless told not.
        Command::Statusline => Ok(statusline::run_statusline(match cli.global.color {
            cli::ColorChoice::Always => true,
            cli::ColorChoice::Never => false,
            cli::ColorChoice::Auto => env::var(env::NO_COLOR).is_none(),
        })),
        Command::Status => Ok(statusline::run_status(
            output::Stream::Stdout.fit(cli.global.color).color,
        )),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "headroom",
                &mut std::io::stdout(),
            );
            Ok(ExitStatus::Success)
        }
        Command::Man { command } => {
            let mut page = Vec::new();
            manual::render(command.as_deref(), &mut page)?;
            std::io::stdout().write_all(&page)?;
            Ok(ExitStatus::Success)
        }
    }
}
