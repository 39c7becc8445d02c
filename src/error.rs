//! The error kinds a caller branches on, and the one table that turns outcomes into exit codes.
//! Every exit code headroom can return is defined here and nowhere else.

use std::path::PathBuf;

/// How a headroom run ends; `code` is the only place that maps it to a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything worked.
    Success,
    /// headroom itself failed.
    Failure,
    /// A bad flag, value or environment setting.
    Usage,
    /// `report --budget`: the total is over the budget.
    OverBudget,
    /// `report --budget`: nothing readable to check, or an unreadable summary the total would
    /// miss (without `--skip-unreadable`): the gate fails closed.
    Unchecked,
    /// The agent binary exists but could not be executed.
    AgentNotExecutable,
    /// The agent binary was not found.
    AgentNotFound,
    /// The agent exited with this code.
    Agent(u8),
    /// The agent was killed by this signal number.
    AgentSignal(i32),
}

impl ExitStatus {
    /// The process exit code for this outcome.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::OverBudget => 3,
            ExitStatus::Unchecked => 4,
            ExitStatus::AgentNotExecutable => 126,
            ExitStatus::AgentNotFound => 127,
            ExitStatus::Agent(code) => code,
            // The shell convention; saturate so an out-of-range signal never wraps to success.
            ExitStatus::AgentSignal(signal) => u8::try_from(128 + signal).unwrap_or(255),
        }
    }
}

/// Every exit code with its meaning, in the order `--help`, the man page and the README show them.
pub const EXIT_CODES: [(&str, &str); 9] = [
    (
        "<agent's code>",
        "`wrap` exits with the agent's own exit code",
    ),
    ("128+N", "the agent was killed by signal N"),
    ("0", "success (other subcommands)"),
    ("1", "headroom itself failed (the message says why)"),
    (
        "2",
        "usage or configuration error (bad flag or file, missing key for a provider's model)",
    ),
    ("3", "`report --budget`: the total cost is over the budget"),
    (
        "4",
        "`report --budget`: no readable summary to check, or an unreadable one (see --skip-unreadable)",
    ),
    (
        "126",
        "the agent binary was found but could not be executed",
    ),
    (
        "127",
        "the agent binary was not found (install it or pass --agent-bin)",
    ),
];

/// An error and its causes on one line, each cause once: a cause whose text the line already
/// holds (libraries often repeat their source in their own message) is left out.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// The exit codes as `--help` shows them, each meaning wrapped under itself within 80 columns.
pub fn exit_codes_help() -> String {
    const INDENT: usize = 18;
    let mut text = String::from("Exit codes:\n");
    for (code, meaning) in EXIT_CODES {
        let mut line = format!("  {code:<16}");
        for word in meaning.split(' ') {
            if line.len() + word.len() > 80 && line.len() > INDENT {
                text.push_str(line.trim_end());
                text.push('\n');
                line = " ".repeat(INDENT);
            }
            line.push_str(word);
            line.push(' ');
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text.trim_end().to_owned()
}

/// Failures that need their own exit code or hint; everything else is an `anyhow` chain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The agent was not found on PATH (or at --agent-bin).
    #[error("`{program}` was not found{where_}")]
    AgentNotFound {
        program: String,
        where_: String,
        install: &'static str,
    },
    /// The agent exists but the OS refused to run it.
    #[error("could not execute {path}: {why}")]
    AgentNotExecutable {
        path: PathBuf,
        /// The real cause: not executable, its `#!` interpreter missing, …
        why: String,
        hint: String,
    },
    /// A configuration problem the user fixes with a flag or env var.
    #[error("{message}")]
    Config {
        message: String,
        hint: Option<String>,
    },
}

impl Error {
    /// The exit status this error ends the run with.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::AgentNotFound { .. } => ExitStatus::AgentNotFound,
            Error::AgentNotExecutable { .. } => ExitStatus::AgentNotExecutable,
            Error::Config { .. } => ExitStatus::Usage,
        }
    }

    /// A line telling the user what to do next, if there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::AgentNotFound { install, .. } => Some(format!(
                "install it with `{install}`, or pass its path with --agent-bin"
            )),
            Error::AgentNotExecutable { hint, .. } => Some(hint.clone()),
            Error::Config { hint, .. } => hint.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_chain_says_each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("error sending request for url (http://x/): {0}")]
        struct Repeats(#[source] std::io::Error);
        let inner = std::io::Error::other("connection refused");
        let error = anyhow::Error::new(Repeats(inner)).context("could not reach the upstream");
        assert_eq!(
            one_line(&error),
            "could not reach the upstream: error sending request for url (http://x/): connection refused"
        );
    }

    #[test]
    fn exit_codes_follow_the_documented_table() {
        let cases = [
            (ExitStatus::Success, 0),
            (ExitStatus::Failure, 1),
            (ExitStatus::Usage, 2),
            (ExitStatus::OverBudget, 3),
            (ExitStatus::Unchecked, 4),
            (ExitStatus::AgentNotExecutable, 126),
            (ExitStatus::AgentNotFound, 127),
            (ExitStatus::Agent(0), 0),
            (ExitStatus::Agent(42), 42),
            (ExitStatus::AgentSignal(15), 143),
            (ExitStatus::AgentSignal(9), 137),
            (ExitStatus::AgentSignal(500), 255),
        ];
        for (status, code) in cases {
            assert_eq!(status.code(), code, "{status:?}");
            if !matches!(status, ExitStatus::Agent(_) | ExitStatus::AgentSignal(_)) {
                assert!(
                    EXIT_CODES
                        .iter()
                        .any(|(shown, _)| *shown == code.to_string()),
                    "{code} is not documented"
                );
            }
        }
    }
}
