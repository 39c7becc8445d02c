//! `headroom report` over many summaries, run on demand: `cargo bench --bench report`. Prints the
//! wall time and peak resident memory of `headroom report` (release build) over 1,000 and 10,000
//! generated session summaries; asserts nothing. Memory should stay flat as the file count grows:
//! summaries are folded into the totals one at a time.

use std::time::Instant;

use nix::sys::resource::{UsageWho, getrusage};
use serde_json::json;

const REQUESTS_PER_SESSION: usize = 20;

fn main() {
    let headroom = env!("CARGO_BIN_EXE_headroom");
    println!("headroom report benchmark ({REQUESTS_PER_SESSION} requests per summary)");
    for sessions in [1_000usize, 10_000] {
        let dir = tempfile::tempdir().unwrap();
        write_summaries(dir.path(), sessions);
        // Warm the page cache so both sizes are measured the same way.
        run(headroom, dir.path());
        let started = Instant::now();
        let peak_kib = run(headroom, dir.path());
        println!(
            "{sessions:>6} summaries: {:>7.1} ms, peak RSS of this and earlier runs {:.1} MB",
            started.elapsed().as_secs_f64() * 1000.0,
            peak_kib as f64 / 1024.0
        );
    }
}

/// Runs one report and returns the largest peak RSS of any child so far (KiB).
fn run(headroom: &str, dir: &std::path::Path) -> i64 {
    let output = std::process::Command::new(headroom)
        .args([
            "report",
            "--format",
            "json",
            "--by",
            "day",
            "--reprice",
            "MiniMax-M3",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss()
}

fn write_summaries(dir: &std::path::Path, sessions: usize) {
    let models = [
        "claude-opus-5-5",
        "claude-sonnet-4-5",
        "MiniMax-M3",
        "gpt-6.1-sol",
    ];
    for i in 0..sessions {
        let requests: Vec<_> = (0..REQUESTS_PER_SESSION)
            .map(|j| {
                let model = models[(i + j) % models.len()];
                json!({
                    "provider": if model.starts_with("claude") { "anthropic" } else if model.starts_with("gpt") { "openai" } else { "minimax" },
                    "model": model, "status": 200,
                    "usage": {"input_tokens": 1000 + j, "output_tokens": 300, "cache_read_tokens": 40000,
                              "cache_write_5m_tokens": 2000, "cache_write_1h_tokens": 0},
                    "cost_usd": 0.05, "price_source": "bench",
                })
            })
            .collect();
        let day = 1 + i % 28;
        let summary = json!({
            "schema_version": 1, "session_id": format!("{i:032x}"), "headroom_version": "0.1.0",
            "agent": "claude", "argv": ["headroom", "wrap", "claude"],
            "started_at": format!("2026-10-{day:02}T10:00:00Z"), "ended_at": format!("2026-10-{day:02}T11:00:00Z"),
            "exit_code": 0, "models": [], "requests": requests,
            "totals": {"requests": 0, "failed_requests": 0, "input_tokens": 0, "output_tokens": 0,
                       "cache_read_tokens": 0, "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0,
                       "tokens_saved": 0, "cost_usd": 0.0, "known_cost_usd": 0.0, "unpriced_requests": 0, "saved_usd": 0.0},
        });
        std::fs::write(dir.join(format!("{i:06}.json")), summary.to_string()).unwrap();
    }
}
