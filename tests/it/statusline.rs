//! `headroom statusline` and `headroom status` against a live session: the figures are the
//! ledger's, the user's own status line comes first, nothing is said without a session, and the
//! status endpoint is the session's alone and never reaches an upstream.

use serde_json::{Value, json};

use crate::support::{Dir, MockUpstream, Reply, headroom, wrap_stub};

/// Claude Code's status line input, as its statusline docs describe it.
fn claude_stdin() -> String {
    json!({
        "hook_event_name": "Status",
        "session_id": "abc123",
        "transcript_path": "/tmp/t.jsonl",
        "cwd": "/home/u/project",
        "model": {"id": "claude-opus-5-5", "display_name": "Opus"},
        "workspace": {"current_dir": "/home/u/project", "project_dir": "/home/u/project"},
        "version": "2.1.331",
        "output_style": {"name": "default"},
        "cost": {"total_cost_usd": 9.99, "total_duration_ms": 1000, "total_api_duration_ms": 800,
                 "total_lines_added": 1, "total_lines_removed": 0},
        "context_window": {"total_input_tokens": 1000, "total_output_tokens": 10,
                           "context_window_size": 200000},
        "rate_limits": {"five_hour": {"used_percentage": 43.0, "resets_at": 1796072400},
                        "seven_day": {"used_percentage": 12.5, "resets_at": 1796500000}}
    })
    .to_string()
}

fn anthropic_answer() -> Reply {
    Reply::Json(
        200,
        json!({"model": "claude-opus-5-5", "usage": {"input_tokens": 1000,
               "cache_read_input_tokens": 9000, "output_tokens": 100}})
        .to_string(),
    )
}

#[test]
fn the_status_line_shows_the_ledgers_figures_after_the_users_own_line() {
    let upstream = MockUpstream::start("", |_| anthropic_answer());
    let dir = Dir::new();
    let user_line = dir.write(
        "user-line.sh",
        "#!/bin/sh\nread -r input\necho \"mine: $(printf %s \"$input\" | cut -c1-1)\"\n",
    );
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&user_line).unwrap().permissions(),
        0o755,
    );
    let body = json!({"model": "claude-opus-5-5", "max_tokens": 5, "messages": []});
    let statusline = |env: Value| json!({"argv": [assert_cmd::cargo::cargo_bin("headroom"), "statusline"], "stdin": claude_stdin(), "env": env});
    let plan = json!({
        "requests": [{"path": "/v1/messages", "body": body}, {"path": "/v1/messages", "body": body}],
        "run": [
            statusline(json!({})),
            statusline(json!({"NO_COLOR": "1"})),
            statusline(json!({"NO_COLOR": "1", "HEADROOM_USER_STATUSLINE": format!("sh {}", user_line.display())})),
        ],
    });
    wrap_stub(&dir, "claude", &plan, &["--budget", "5"])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let stub = dir.read_json("stub.json");
    let runs = stub["runs"].as_array().unwrap();
    for run in runs {
        assert_eq!(run["code"], 0, "{run}");
        assert_eq!(run["stderr"], "", "never an error in the status bar");
    }
    // claude-opus-5-5: 1,000 in at $4, 9,000 cache reads at $0.20, 100 out at $20 per MTok.
    let one = 1000.0 * 4e-6 + 9000.0 * 0.2e-6 + 100.0 * 20e-6;
    let summary = dir.read_json("summary.json");
    let cost = summary["totals"]["cost_usd"].as_f64().unwrap();
    assert!((cost - 2.0 * one).abs() < 1e-12);
    let plain = runs[1]["stdout"].as_str().unwrap().trim_end();
    assert_eq!(
        plain,
        format!(
            "claude-opus-5-5 via anthropic · ${:.2} · cache 90% · ${:.2} left · plan 5h 43% 7d 12%",
            2.0 * one,
            5.0 - 2.0 * one
        )
    );
    assert!(
        runs[0]["stdout"].as_str().unwrap().contains('\u{1b}'),
        "colour by default"
    );
    let chained = runs[2]["stdout"].as_str().unwrap().trim_end();
    assert_eq!(
        chained,
        format!("mine: {{ │ {plain}"),
        "the user's line first, with the same stdin"
    );
}

#[test]
fn without_a_session_the_status_line_is_the_users_own_or_nothing() {
    let dir = Dir::new();
    let run = |env: &[(&str, &str)]| {
        let output = headroom()
            .env_remove("ANTHROPIC_BASE_URL")
            .envs(env.iter().copied())
            .arg("statusline")
            .write_stdin(claude_stdin())
            .output()
            .unwrap();
        assert!(output.status.success());
        assert!(
            output.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(run(&[]), "");
    // A session that is gone, or a URL that is not a session: the same silence.
    assert_eq!(
        run(&[("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/s/deadbeef")]),
        ""
    );
    assert_eq!(
        run(&[("ANTHROPIC_BASE_URL", "https://api.anthropic.com")]),
        ""
    );
    let user = dir.write("line.sh", "echo my own line");
    let line = format!("sh {}", user.display());
    assert_eq!(run(&[("HEADROOM_USER_STATUSLINE", &line)]), "my own line\n");
    // Garbage on stdin changes nothing.
    let output = headroom()
        .arg("statusline")
        .write_stdin("not json")
        .output()
        .unwrap();
    assert!(output.status.success() && output.stdout.is_empty() && output.stderr.is_empty());
}

/// The status endpoint answers only with the session secret and is never forwarded.
#[test]
fn the_status_endpoint_is_the_sessions_alone_and_never_reaches_an_upstream() {
    let upstream = MockUpstream::start("", |_| anthropic_answer());
    let dir = Dir::new();
    let plan = json!({"requests": [
        {"path": "/headroom/status", "method": "GET", "body_raw": ""},
        {"path": "/headroom/status", "method": "GET", "body_raw": "", "as_other_user": true, "raw_path": true},
        {"path": "/headroom/status", "method": "POST", "body_raw": "{}"},
    ]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let stub = dir.read_json("stub.json");
    let responses = stub["responses"].as_array().unwrap();
    assert_eq!(responses[0]["status"], 200, "{stub}");
    let status: Value = serde_json::from_str(responses[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(status["requests"], 0);
    assert_eq!(responses[1]["status"], 404, "without the secret: {stub}");
    assert_eq!(responses[2]["status"], 405);
    assert!(
        upstream.requests().is_empty(),
        "nothing reached the upstream"
    );
    assert!(
        !dir.path("home/sessions").exists()
            || dir.read_json("summary.json")["requests"] == json!([])
    );
}

/// `headroom status` in another terminal finds the newest running session through its 0600 file
/// in the runtime directory, and prints nothing once the session is over.
#[test]
fn status_in_another_terminal_finds_the_running_session() {
    use std::os::unix::fs::PermissionsExt;
    let upstream = MockUpstream::start("", |_| anthropic_answer());
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("run")).unwrap();
    let body = json!({"model": "claude-opus-5-5", "max_tokens": 5, "messages": []});
    let plan = json!({
        "requests": [{"path": "/v1/messages", "body": body}],
        "run": [{"argv": [assert_cmd::cargo::cargo_bin("headroom"), "status", "--color", "never"], "stdin": "",
                 "env": {"ANTHROPIC_BASE_URL": ""}}],
    });
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .env("XDG_RUNTIME_DIR", dir.path("run"))
        .assert()
        .success();
    let stub = dir.read_json("stub.json");
    let line = stub["runs"][0]["stdout"].as_str().unwrap();
    // One request: 1,000 in at $4, 9,000 cache reads at $0.20, 100 out at $20 per MTok.
    assert_eq!(
        line, "claude-opus-5-5 via anthropic · $0.0078 · cache 90%\n",
        "{stub}"
    );
    let listed = dir.path("run/headroom");
    let left: Vec<_> = std::fs::read_dir(&listed).unwrap().collect();
    assert!(
        left.is_empty(),
        "the session's file is removed when it ends"
    );
    assert_eq!(
        std::fs::metadata(&listed).unwrap().permissions().mode() & 0o077,
        0,
        "a directory only the user can enter"
    );
    let after = headroom()
        .env("XDG_RUNTIME_DIR", dir.path("run"))
        .arg("status")
        .output()
        .unwrap();
    assert!(after.status.success() && after.stdout.is_empty());
}
