//! The fidelity corpus (tests/fidelity, made by .ci/make-fidelity-corpus) as requests: each output
//! sent back the way its tool's agent sends it (Claude Code's `tool_use`/`tool_result` blocks, or
//! Codex's Responses `function_call`/`function_call_output` items), and read back from the body the
//! proxy would forward. Shared by the fidelity tests (`super`) and `cargo bench --bench compress`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::providers::Family;

/// One output of the corpus, as manifest.json describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Sample {
    pub file: String,
    pub kind: String,
    /// `Bash`, `Read`, `Grep`, `Glob` (Claude Code) or `shell` (Codex).
    pub tool: String,
    pub input: Value,
    /// What the engineer needs from it, verbatim.
    pub facts: Vec<String>,
}

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fidelity")
}

/// Every sample with its text.
pub fn load() -> Vec<(Sample, String)> {
    let manifest = std::fs::read_to_string(dir().join("manifest.json")).expect("manifest.json");
    let samples: Vec<Sample> = serde_json::from_str(&manifest).expect("manifest.json is valid");
    samples
        .into_iter()
        .map(|sample| {
            let text = std::fs::read_to_string(dir().join(&sample.file))
                .unwrap_or_else(|error| panic!("{}: {error}", sample.file));
            (sample, text)
        })
        .collect()
}

/// A request whose newest turn is this sample's tool call and output; `tag` makes it unique.
pub fn request(sample: &Sample, text: &str, tag: usize) -> (Vec<u8>, Family) {
    let id = format!("call_{tag}");
    if sample.tool == "shell" {
        let body = json!({"model": "gpt-6.1-sol", "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "look into it"}]},
            {"type": "function_call", "call_id": id, "name": "shell", "arguments": sample.input.to_string()},
            {"type": "function_call_output", "call_id": id, "output": text},
        ]});
        return (serde_json::to_vec(&body).unwrap(), Family::OpenAi);
    }
    let body = json!({"model": "claude-opus-5-5", "max_tokens": 100, "messages": [
        {"role": "user", "content": "look into it"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": id, "name": sample.tool, "input": sample.input}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": text, "cache_control": {"type": "ephemeral"}}]},
    ]});
    (serde_json::to_vec(&body).unwrap(), Family::Anthropic)
}

/// The sample's output as a forwarded body holds it.
pub fn output(body: &[u8], family: Family) -> String {
    let body: Value = serde_json::from_slice(body).expect("forwarded body is JSON");
    let text = match family {
        Family::Anthropic => &body["messages"][2]["content"][0]["content"],
        Family::OpenAi => &body["input"][2]["output"],
    };
    text.as_str().expect("the output is a string").to_owned()
}

/// Whether the agent sees `fact` in a forwarded output: verbatim, or as a lossless layout writes
/// it. JSON loses only whitespace between tokens (`"image": "x"` is sent as `"image":"x"`), and a
/// path in a folded listing is its folder's line followed, among the indented lines under it, by
/// its name.
pub fn is_visible(forwarded: &str, fact: &str) -> bool {
    if forwarded.contains(fact) || forwarded.contains(&crate::compress::json::minify(fact)) {
        return true;
    }
    let Some((folder, name)) = fact.rsplit_once('/') else {
        return false;
    };
    let (folder, name) = (format!("{folder}/"), format!("  {name}"));
    let lines: Vec<&str> = forwarded.split('\n').collect();
    lines.iter().enumerate().any(|(i, line)| {
        *line == folder
            && lines[i + 1..]
                .iter()
                .take_while(|next| next.starts_with("  "))
                .any(|next| *next == name)
    })
}
