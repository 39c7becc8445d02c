//! Test fixtures: the `headroom` command, temp dirs, a recording mock upstream on 127.0.0.1:0, and
//! the scripted stub agent.

pub mod upstream;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use upstream::{MockUpstream, Recorded, Reply};

/// The headroom binary under test, with a clean slate of the variables headroom reads.
pub fn headroom() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("headroom").expect("binary built");
    for name in [
        "ANTHROPIC_TARGET_API_URL",
        "OPENAI_TARGET_API_URL",
        "MINIMAX_TARGET_API_URL",
        "MINIMAX_OPENAI_TARGET_API_URL",
        "MINIMAX_API_KEY",
        "DEEPSEEK_API_KEY",
        "DEEPSEEK_TARGET_API_URL",
        "DEEPSEEK_OPENAI_TARGET_API_URL",
        "MOONSHOT_API_KEY",
        "MOONSHOT_TARGET_API_URL",
        "MOONSHOT_OPENAI_TARGET_API_URL",
        "ZAI_API_KEY",
        "ZAI_TARGET_API_URL",
        "ZAI_OPENAI_TARGET_API_URL",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_MODEL",
        "OPENAI_API_KEY",
        "HEADROOM_HOME",
        "NO_COLOR",
        "CODEX_API_KEY",
    ] {
        command.env_remove(name);
    }
    // The user's own Codex sign-in (`~/.codex/auth.json`) stays out of the tests, and so do the
    // summaries' fallback places (the XDG state directory, a directory under TMPDIR).
    command.env("CODEX_HOME", "/nonexistent/codex-home");
    command.env("XDG_STATE_HOME", "/nonexistent/state");
    command.env("TMPDIR", "/nonexistent/tmp");
    command
}

/// The stub agent script (see `stub_agent.py`).
pub fn stub_agent() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/stub_agent.py")
}

/// A temporary directory that lives as long as the value.
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Dir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("write fixture");
        path
    }

    pub fn read_json(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.path(name))
            .unwrap_or_else(|error| panic!("read {name}: {error}"));
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {name}: {error}\n{text}"))
    }
}

/// A wrap run of the stub agent with `plan`; returns the command ready to run, with the summary
/// going to `summary.json` and the stub's observations to `stub.json` in `dir`.
pub fn wrap_stub(dir: &Dir, agent: &str, plan: &Value, extra: &[&str]) -> assert_cmd::Command {
    let plan_path = dir.write("plan.json", &plan.to_string());
    let mut command = headroom();
    command
        .env("STUB_PLAN", plan_path)
        .env("STUB_OUT", dir.path("stub.json"))
        .env("HEADROOM_HOME", dir.path("home"))
        .arg("wrap")
        .arg(agent)
        .arg("--agent-bin")
        .arg(stub_agent())
        .arg("--summary")
        .arg(dir.path("summary.json"))
        .args(extra);
    command
}

/// SSE chunks, one per event, named after each event's `type`.
pub fn sse(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| {
            format!(
                "event: {}\ndata: {event}\n\n",
                event["type"].as_str().unwrap_or("message")
            )
        })
        .collect()
}

/// The row of `summary` for `model`.
pub fn summary_row<'a>(summary: &'a Value, model: &str) -> &'a Value {
    summary["models"]
        .as_array()
        .expect("models array")
        .iter()
        .find(|row| row["model"] == model)
        .unwrap_or_else(|| panic!("no row for {model} in {summary:#}"))
}
