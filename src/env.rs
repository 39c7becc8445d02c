//! Every environment variable headroom reads or sets in the agent's environment, as documented
//! constants, and the `Secret` type that keys travel in. Nothing else reads the environment for
//! configuration.

use std::fmt;

/// Upstream for Anthropic Messages traffic (default `https://api.anthropic.com`).
pub const ANTHROPIC_TARGET_API_URL: &str = "ANTHROPIC_TARGET_API_URL";
/// Upstream for OpenAI Responses / Chat Completions traffic (default `https://api.openai.com/v1`).
pub const OPENAI_TARGET_API_URL: &str = "OPENAI_TARGET_API_URL";
// Each provider of the table (`crate::providers`) has its own variables, named there: its key
// (`MINIMAX_API_KEY`, `DEEPSEEK_API_KEY`, `MOONSHOT_API_KEY`, `ZAI_API_KEY`, `<NAME>_API_KEY`),
// sent only to its own URLs, and its URLs (`<NAME>_TARGET_API_URL`,
// `<NAME>_OPENAI_TARGET_API_URL`).
/// Seconds to wait for a connection to an upstream before answering 504 (default 10).
pub const HEADROOM_CONNECT_TIMEOUT: &str = "HEADROOM_CONNECT_TIMEOUT";
/// Seconds to wait for an upstream's response headers before answering 504 (default 600).
pub const HEADROOM_RESPONSE_TIMEOUT: &str = "HEADROOM_RESPONSE_TIMEOUT";
/// Seconds a response may send nothing before headroom ends it with an error (default 300).
pub const HEADROOM_STREAM_IDLE_TIMEOUT: &str = "HEADROOM_STREAM_IDLE_TIMEOUT";
/// `full` (default), `lossless` or `off` (also `0`, `false`, `no`), like `wrap --compress`.
pub const HEADROOM_COMPRESS: &str = "HEADROOM_COMPRESS";
/// Where headroom keeps its data (session summaries in `sessions/`).
pub const HEADROOM_HOME: &str = "HEADROOM_HOME";
/// GitHub Actions' job summary file; `report --format markdown` appends to it when set.
pub const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
/// Disables colour when set to anything non-empty (<https://no-color.org>). Read through
/// `anstream` with CLICOLOR, CLICOLOR_FORCE and TERM (`crate::output`), and here for the status
/// line, whose stdout is always a pipe.
pub const NO_COLOR: &str = "NO_COLOR";

/// Set for Claude Code: the proxy's session URL.
pub const ANTHROPIC_BASE_URL: &str = "ANTHROPIC_BASE_URL";
/// The user's Anthropic key; removed from Claude Code's environment when it runs on MiniMax.
pub const ANTHROPIC_API_KEY: &str = "ANTHROPIC_API_KEY";
/// Set for Claude Code on MiniMax: the session secret, so no real key is in the child at all.
pub const ANTHROPIC_AUTH_TOKEN: &str = "ANTHROPIC_AUTH_TOKEN";
/// Set for Claude Code with `--model`: the main model.
pub const ANTHROPIC_MODEL: &str = "ANTHROPIC_MODEL";
/// Set for Claude Code on MiniMax so that background requests stay on MiniMax too.
pub const ANTHROPIC_BACKGROUND_MODELS: [&str; 4] = [
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
];
/// The ChatGPT backend for Codex with a ChatGPT login (default
/// `https://chatgpt.com/backend-api/codex`).
pub const CHATGPT_TARGET_API_URL: &str = "CHATGPT_TARGET_API_URL";
/// The user's OpenAI key: held by the proxy, which sends it to OpenAI for Codex (and takes it out
/// of Codex's environment).
pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";
/// Set for Codex: holds the session secret, sent in the session header (and as the bearer where
/// headroom holds the key). Never in argv.
pub const HEADROOM_SESSION_TOKEN: &str = "HEADROOM_SESSION_TOKEN";
/// Claude Code's OAuth token for a Claude plan (passed through untouched).
pub const CLAUDE_CODE_OAUTH_TOKEN: &str = "CLAUDE_CODE_OAUTH_TOKEN";
/// Claude Code's configuration directory (default `~/.claude`): read for the user's own
/// `statusLine`.
pub const CLAUDE_CONFIG_DIR: &str = "CLAUDE_CONFIG_DIR";
/// Set for Claude Code's status line: the user's own `statusLine` command, which `headroom
/// statusline` runs and prints before its own segment.
pub const HEADROOM_USER_STATUSLINE: &str = "HEADROOM_USER_STATUSLINE";
/// Codex's own API key variable (passed through untouched).
pub const CODEX_API_KEY: &str = "CODEX_API_KEY";
/// Codex's home (default `~/.codex`): read only to see whether Codex is signed in (`auth.json`).
pub const CODEX_HOME: &str = "CODEX_HOME";
/// OpenTelemetry exporter headers, which usually carry a collector's API key.
pub const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";

/// The variables a user sets, with what they do, as the man pages list them.
pub const DOCUMENTED: [(&str, &str); 18] = [
    (
        ANTHROPIC_TARGET_API_URL,
        "Upstream for Anthropic Messages (default https://api.anthropic.com).",
    ),
    (
        OPENAI_TARGET_API_URL,
        "Upstream for OpenAI Responses and Chat Completions (default https://api.openai.com/v1).",
    ),
    (
        CHATGPT_TARGET_API_URL,
        "Where Codex signed in with ChatGPT goes (default https://chatgpt.com/backend-api/codex).",
    ),
    (
        "<NAME>_API_KEY",
        "A provider's key (MINIMAX_API_KEY, DEEPSEEK_API_KEY, MOONSHOT_API_KEY, ZAI_API_KEY, or a providers.toml entry's key_env), sent only to that provider.",
    ),
    (
        "<NAME>_TARGET_API_URL",
        "A provider's Anthropic-compatible URL, replacing its default.",
    ),
    (
        "<NAME>_OPENAI_TARGET_API_URL",
        "A provider's OpenAI-compatible URL, replacing its default.",
    ),
    (
        OPENAI_API_KEY,
        "Held by headroom for Codex and sent to OpenAI; taken out of Codex's environment.",
    ),
    (
        HEADROOM_HOME,
        "Where sessions/, originals/, prices.toml and providers.toml live (default ~/.local/share/headroom).",
    ),
    (
        HEADROOM_COMPRESS,
        "full (default), lossless or off, like wrap --compress.",
    ),
    (
        HEADROOM_CONNECT_TIMEOUT,
        "Seconds to wait for an upstream connection (default 10).",
    ),
    (
        HEADROOM_RESPONSE_TIMEOUT,
        "Seconds to wait for an upstream's response headers (default 600).",
    ),
    (
        HEADROOM_STREAM_IDLE_TIMEOUT,
        "Seconds an answer may send nothing before it is ended with an error (default 300).",
    ),
    (
        CODEX_HOME,
        "Codex's home (default ~/.codex), read to see whether Codex is signed in and which provider it uses.",
    ),
    (
        GITHUB_STEP_SUMMARY,
        "report --format markdown also appends the report to this file.",
    ),
    (
        "NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM",
        "Colour, decided per output stream: off with NO_COLOR, CLICOLOR=0, TERM=dumb or off a terminal; forced by CLICOLOR_FORCE.",
    ),
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "Where OpenTelemetry export goes (OTLP over HTTP/protobuf); setting one turns export on.",
    ),
    (
        "OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, OTEL_METRIC_EXPORT_INTERVAL, OTEL_TRACES_EXPORTER",
        "Headers sent to the collector, resource attributes (team, repo), the service name, the export interval in ms (default 60000), and otlp to export spans too.",
    ),
    (
        "XDG_STATE_HOME, TMPDIR",
        "Fallback places for a session summary that cannot be written where asked.",
    ),
];

/// Every variable whose value is a credential, besides the providers' keys; their values are
/// redacted from summaries.
pub const CREDENTIAL_VARS: [&str; 7] = [
    ANTHROPIC_API_KEY,
    ANTHROPIC_AUTH_TOKEN,
    OPENAI_API_KEY,
    HEADROOM_SESSION_TOKEN,
    CLAUDE_CODE_OAUTH_TOKEN,
    CODEX_API_KEY,
    OTEL_EXPORTER_OTLP_HEADERS,
];

/// Reads a variable, treating unset, empty and non-UTF-8 alike as absent.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// A credential; `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// 128 random bits, hex-encoded.
    pub fn random() -> anyhow::Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|error| anyhow::anyhow!("no randomness available: {error}"))?;
        Ok(Secret(
            bytes.iter().map(|byte| format!("{byte:02x}")).collect(),
        ))
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is this credential, compared in time that does not depend on where
    /// they differ (a local process could otherwise guess the session secret byte by byte).
    pub fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), candidate.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("sk-live-123");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.expose(), "sk-live-123");
    }
}
