//! Session benchmark, run on demand: `cargo bench --bench session`. Prints numbers; asserts nothing.
//!
//! A simulated Claude Code session (each turn adds an assistant tool call and the tool's output,
//! with `cache_control` on the newest output, moved forward each turn as the real client does) is
//! billed by a mock that applies prompt caching the way Anthropic bills it:
//! the longest prefix of the request identical to a prefix written earlier is a cache read
//! (0.05x input on claude-opus-5-5), the rest up to the `cache_control` breakpoint is a cache write
//! (1.25x), anything after it plain input. The same session runs straight to the mock and through
//! `headroom wrap`; the bench prints both bills, the real difference, and the saving headroom
//! reported in its summary. Two sessions: tests/corpus (8 outputs of the kinds the compressors
//! were first written for, twice over, each as a `Bash` call), and tests/fidelity (all 60 real
//! outputs of 14 kinds, each with the tool call that produced it: `Read`, `Grep`, `Bash`...).

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use serde_json::{Value, json};

/// claude-opus-5-5, USD per MTok (https://platform.claude.com/docs/en/about-claude/pricing).
const INPUT: f64 = 4.0;
const CACHE_READ: f64 = 0.2;
const CACHE_WRITE: f64 = 5.0;
const OUTPUT: f64 = 20.0;
const OUTPUT_TOKENS: u64 = 150;
const ROUNDS_OVER_CORPUS: usize = 2;

#[derive(Default)]
struct Billing {
    /// Per run: written prefixes (length → bytes) and the bill so far.
    runs: HashMap<String, (Vec<Vec<u8>>, f64)>,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if std::env::var("BENCH_ROLE").as_deref() == Ok("agent") {
        let corpus = std::env::var("BENCH_CORPUS").unwrap();
        runtime.block_on(run_session(
            &std::env::var("ANTHROPIC_BASE_URL").unwrap(),
            &format!("{corpus} proxied"),
            &corpus,
        ));
        return;
    }
    // An output early in a session is replayed (and its saving read from the cache) on every
    // later turn, so the order of the fidelity corpus (logs first) would flatter it: it runs both
    // ways, and the mean of the two gives every output the same weight.
    for corpus in ["corpus", "fidelity", "fidelity-reversed"] {
        runtime.block_on(session(corpus));
    }
}

/// Runs one corpus's session direct and through headroom, and prints the bills.
async fn session(corpus: &str) {
    {
        let billing = Arc::new(Mutex::new(Billing::default()));
        let upstream = format!("http://{}", start_upstream(billing.clone()).await);
        let direct_run = format!("{corpus} direct");
        let turns = run_session(&upstream, &direct_run, corpus).await;

        let dir = tempfile::tempdir().unwrap();
        common::wrap_self(dir.path(), &upstream, &[("BENCH_CORPUS", corpus.as_ref())]);
        let summary_path = dir.path().join("summary.json");
        let summary: Value =
            serde_json::from_str(&std::fs::read_to_string(summary_path).unwrap()).unwrap();
        let billing = billing.lock().unwrap();
        let direct = billing.runs[&direct_run].1;
        let proxied = billing.runs[&format!("{corpus} proxied")].1;
        let real = direct - proxied;
        let reported = summary["totals"]["saved_usd"].as_f64().unwrap();
        let headroom_cost = summary["totals"]["cost_usd"].as_f64().unwrap();
        println!(
            "simulated Claude Code session over tests/{corpus}: {turns} turns, one tool output per turn, billed with prompt caching"
        );
        println!("bill direct:               ${direct:.4}");
        println!(
            "bill through headroom:     ${proxied:.4}  ({:.1}% lower; headroom's own cost figure ${headroom_cost:.4})",
            100.0 * real / direct
        );
        println!("real saving:               ${real:.4}");
        println!(
            "saving headroom reported:  ${reported:.4}  ({:+.1}% off the real saving)",
            100.0 * (reported - real) / real
        );
        println!(
            "tokens saved (headroom):   {}",
            summary["totals"]["tokens_saved"]
        );
    }
}

/// The session's tool calls (tool name and input as JSON) and their outputs.
fn outputs(corpus: &str) -> Vec<(String, String, String)> {
    if corpus == "fidelity-reversed" {
        let mut outputs = outputs("fidelity");
        outputs.reverse();
        return outputs;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(corpus);
    if corpus == "fidelity" {
        let manifest: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap())
                .unwrap();
        return manifest
            .iter()
            .map(|sample| {
                let text =
                    std::fs::read_to_string(dir.join(sample["file"].as_str().unwrap())).unwrap();
                // Codex's shell calls, as Claude Code's Bash runs them.
                let (tool, input) = match sample["tool"].as_str().unwrap() {
                    "shell" => {
                        let argv = sample["input"]["command"].as_array().unwrap();
                        let script = argv.last().and_then(Value::as_str).unwrap_or_default();
                        ("Bash".to_owned(), json!({"command": script}))
                    }
                    tool => (tool.to_owned(), sample["input"].clone()),
                };
                (tool, input.to_string(), text)
            })
            .collect();
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name != "facts.json")
        .collect();
    names.sort();
    let dir = &dir;
    let names = &names;
    (0..ROUNDS_OVER_CORPUS)
        .flat_map(|round| {
            names.iter().enumerate().map(move |(step, name)| {
                let text = std::fs::read_to_string(dir.join(name)).unwrap();
                let input = json!({"command": format!("step {round}.{step}")}).to_string();
                ("Bash".to_owned(), input, format!("run {round}\n{text}"))
            })
        })
        .collect()
}

/// Sends the session's requests to `base`, in order; returns the number of turns.
async fn run_session(base: &str, run: &str, corpus: &str) -> usize {
    let client = reqwest::Client::new();
    let outputs = outputs(corpus);
    // Messages as JSON text with a fixed key order, like the real client sends them.
    let mut messages =
        vec![r#"{"role":"user","content":"Fix the failing build and tests."}"#.to_owned()];
    let system = "You are Claude Code. ".repeat(500);
    for (turn, (tool, input, output)) in outputs.iter().enumerate() {
        messages.push(format!(
            r#"{{"role":"assistant","content":[{{"type":"tool_use","id":"t{turn}","name":{},"input":{input}}}]}}"#,
            json!(tool)
        ));
        let content = serde_json::to_string(output).unwrap();
        let block = |marker: bool| {
            let cache = if marker {
                r#","cache_control":{"type":"ephemeral"}"#
            } else {
                ""
            };
            format!(
                r#"{{"role":"user","content":[{{"type":"tool_result","tool_use_id":"t{turn}","content":{content}{cache}}}]}}"#
            )
        };
        // The previous newest block loses its marker; this one gets it.
        if turn > 0 {
            let last = messages.len() - 2;
            messages[last] = messages[last].replace(r#","cache_control":{"type":"ephemeral"}"#, "");
        }
        messages.push(block(true));
        let body = format!(
            r#"{{"model":"claude-opus-5-5","max_tokens":32000,"system":{},"messages":[{}]}}"#,
            json!(system),
            messages.join(",")
        );
        let response = client
            .post(format!("{base}/v1/messages"))
            .header("x-api-key", "bench")
            .header("x-bench-run", run)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
    }
    outputs.len()
}

/// Tokens of a slice of the body, on roughly what the provider tokenizes (JSON escapes undone).
fn tokens(bytes: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(bytes)
        .replace("\\n", "\n")
        .replace("\\\"", "\"")
        .replace("\\t", "\t")
        .replace("\\\\", "\\");
    bpe_openai::o200k_base().count(text.as_str()) as u64
}

/// Bills one request with prefix caching and returns the usage the provider would report.
fn bill(billing: &Mutex<Billing>, run: &str, body: &[u8]) -> Value {
    let marker = br#","cache_control""#;
    let breakpoint = body
        .windows(marker.len())
        .rposition(|w| w == marker)
        .unwrap_or(0);
    let mut billing = billing.lock().unwrap();
    let (prefixes, total) = billing.runs.entry(run.to_owned()).or_default();
    let read_len = prefixes
        .iter()
        .filter(|prefix| body.starts_with(prefix))
        .map(Vec::len)
        .max()
        .unwrap_or(0);
    let read = tokens(&body[..read_len]);
    let write = if breakpoint > read_len {
        tokens(&body[read_len..breakpoint])
    } else {
        0
    };
    let input = tokens(&body[read_len.max(breakpoint)..]);
    if breakpoint > read_len {
        prefixes.push(body[..breakpoint].to_vec());
    }
    *total += (input as f64 * INPUT
        + read as f64 * CACHE_READ
        + write as f64 * CACHE_WRITE
        + OUTPUT_TOKENS as f64 * OUTPUT)
        / 1e6;
    json!({"input_tokens": input, "cache_read_input_tokens": read, "cache_creation_input_tokens": write, "output_tokens": OUTPUT_TOKENS})
}

/// A loopback upstream that bills every request with prompt caching.
async fn start_upstream(billing: Arc<Mutex<Billing>>) -> std::net::SocketAddr {
    common::serve(move |request: Request<hyper::body::Incoming>| {
        let billing = billing.clone();
        async move {
            let run = request.headers().get("x-bench-run").and_then(|v| v.to_str().ok()).unwrap_or("?").to_owned();
            let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let usage = bill(&billing, &run, &body);
            let reply = json!({"id": "msg", "type": "message", "model": "claude-opus-5-5", "content": [{"type": "text", "text": "ok"}], "usage": usage});
            Response::builder()
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(reply.to_string())).boxed())
                .unwrap()
        }
    })
    .await
}
