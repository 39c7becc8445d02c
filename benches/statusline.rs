//! `cargo bench --bench statusline`: how long `headroom statusline` takes end to end (process
//! start to exit, with Claude Code's JSON on stdin, asking a live session's proxy), beside `true`
//! started the same way in the same run. Target: under 20 ms p50.
//!
//! The benchmark runs itself as the agent of `headroom wrap claude` (so the proxy and the session
//! environment are the real ones) and times the status line from inside the session.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

const ROUNDS: usize = 200;

fn main() {
    if std::env::var_os("BENCH_ROLE").is_some() {
        return agent();
    }
    let dir = tempfile::tempdir().unwrap();
    // The session's upstream is never asked: the status line talks to the proxy only.
    common::wrap_self(dir.path(), "http://127.0.0.1:9", &[]);
}

fn run(program: &str, args: &[&str], stdin: &[u8]) -> f64 {
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin);
    }
    child.wait().unwrap();
    started.elapsed().as_secs_f64() * 1000.0
}

fn agent() {
    let stdin = serde_json::json!({
        "session_id": "bench", "model": {"id": "claude-opus-5-5", "display_name": "Opus"},
        "workspace": {"current_dir": "/tmp"}, "cost": {"total_cost_usd": 0.0},
        "rate_limits": {"five_hour": {"used_percentage": 40.0}}
    })
    .to_string();
    let headroom = env!("CARGO_BIN_EXE_headroom");
    let (mut ours, mut baseline) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(run(headroom, &["statusline"], stdin.as_bytes()));
        baseline.push(run("true", &[], stdin.as_bytes()));
    }
    let (p50, p99) = common::percentiles(&mut ours);
    let (base50, base99) = common::percentiles(&mut baseline);
    println!("headroom statusline, {ROUNDS} runs, process start to exit:");
    println!("  statusline  p50 {p50:.2} ms  p99 {p99:.2} ms");
    println!("  true        p50 {base50:.2} ms  p99 {base99:.2} ms");
    println!("  statusline minus true: p50 {:.2} ms", p50 - base50);
}
