//! Integration tests: the real `headroom` binary, a stub agent it launches, and mock upstreams on
//! 127.0.0.1:0. One binary, one module per behaviour family.

mod support;

/// Usage, cost, the table and the JSON summary.
mod accounting;
/// Flags, help, completions, man page, and errors before anything runs.
mod cli;
/// Tool outputs compressed on the way, with their facts and the original kept.
mod compression;
/// The provider table: every provider reached by prefix and name, with its own key only.
mod providers;
/// The real Claude Code and Codex CLIs, end to end.
mod real_clients;
/// `headroom report`: reading summaries, grouping, formats, budget gate.
mod report;
/// Which upstream gets each request, and whose key goes with it.
mod routing;
/// Attacks by other local users and processes, and hostile upstreams.
mod security;
/// `headroom statusline` and `headroom status` on a live session.
mod statusline;
/// Responses relayed byte for byte while they arrive.
mod streaming;
/// OpenTelemetry export, decoded with the official protocol definitions.
mod telemetry;
/// Launching the agent: env and argv injection, exit codes, signals.
mod wrap;
