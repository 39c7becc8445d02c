//! What another local user or process, or a hostile upstream, can do (issue 11). Each test is one
//! attack that must fail, built from what the attacker can see.

use serde_json::{Value, json};

use crate::support::{Dir, MockUpstream, Reply, wrap_stub};

/// The status of each response the stub agent got.
fn statuses(stub: &Value) -> Vec<u64> {
    stub["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|response| response["status"].as_u64().unwrap())
        .collect()
}

/// Waits (30 s at most) until `done` holds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// What the stub agent announces once it knows the proxy: its address, base path, credentials
/// and pid.
fn announced(announce: &std::path::Path) -> Value {
    wait_until("the agent never started", || announce.exists());
    serde_json::from_str(&std::fs::read_to_string(announce).unwrap()).unwrap()
}

fn ok_upstream() -> MockUpstream {
    MockUpstream::start("", |_| {
        Reply::Json(
            200,
            json!({"model": "MiniMax-M3", "usage": {"input_tokens": 5, "output_tokens": 1}})
                .to_string(),
        )
    })
}

/// Another user sees Codex's argv in `ps` (the base URL headroom gave it): with only that, a
/// request naming a MiniMax model gets nothing forwarded, while Codex itself still gets through.
#[test]
fn another_user_who_sees_codexs_argv_cannot_spend_the_minimax_or_openai_key() {
    let minimax = ok_upstream();
    let openai = ok_upstream();
    let dir = Dir::new();
    let body = json!({"model": "minimax/MiniMax-M3", "input": "hi"});
    let openai_body = json!({"model": "gpt-6.1-sol", "input": "hi"});
    let plan = json!({"requests": [
        {"path": "/responses", "body": body, "as_other_user": true},
        {"path": "/responses", "body": openai_body, "as_other_user": true},
        {"path": "/responses", "body": body, "as_other_user": true, "headers": {"Authorization": "Bearer guess"}},
        {"path": "/responses", "body": body},
        {"path": "/responses", "body": openai_body},
    ], "env_dump": ["OPENAI_API_KEY", "HEADROOM_SESSION_TOKEN"]});
    wrap_stub(&dir, "codex", &plan, &["--model", "minimax/MiniMax-M3"])
        .env("MINIMAX_API_KEY", "mm-secret-key")
        .env("OPENAI_API_KEY", "sk-openai-user")
        .env("MINIMAX_OPENAI_TARGET_API_URL", &minimax.url)
        .env("OPENAI_TARGET_API_URL", &openai.url)
        .assert()
        .success();
    let stub = dir.read_json("stub.json");
    let statuses = statuses(&stub);
    assert_eq!(statuses, [404, 404, 404, 200, 200], "{stub}");
    // Only Codex's own two requests went out, each with the key of its own upstream.
    let to_minimax = minimax.requests();
    let to_openai = openai.requests();
    assert_eq!((to_minimax.len(), to_openai.len()), (1, 1));
    assert_eq!(
        to_minimax[0].header("authorization"),
        Some("Bearer mm-secret-key")
    );
    assert_eq!(
        to_openai[0].header("authorization"),
        Some("Bearer sk-openai-user")
    );
    // Nothing that authorizes a request is in Codex's argv, and the key headroom holds for it is
    // not in its environment.
    let argv = stub["argv"].to_string();
    let token = stub["env"]["HEADROOM_SESSION_TOKEN"].as_str().unwrap();
    assert!(
        !argv.contains(token) && !argv.contains("sk-openai-user"),
        "{argv}"
    );
    assert_eq!(stub["env"]["OPENAI_API_KEY"], Value::Null);
    for request in to_minimax.iter().chain(&to_openai) {
        for (name, value) in &request.headers {
            assert!(
                !value.contains(token),
                "the session secret reached an upstream in {name}"
            );
        }
    }
}

/// Paths that an upstream could normalise out of its base (`/anthropic/../x`) are refused.
#[test]
fn paths_that_leave_the_upstream_base_are_refused() {
    let minimax = ok_upstream();
    let dir = Dir::new();
    let body = json!({"model": "minimax/MiniMax-M3", "messages": []});
    let plan = json!({"requests": [
        {"path": "/v1/../../admin", "body": body},
        {"path": "/v1/%2e%2e/admin", "body": body},
        {"path": "/v1/./messages", "body": body},
        {"path": "/v1/messages", "body": body},
    ]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("MINIMAX_API_KEY", "mm-secret-key")
        .env("MINIMAX_TARGET_API_URL", &minimax.url)
        .assert()
        .success();
    let stub = dir.read_json("stub.json");
    let statuses = statuses(&stub);
    assert_eq!(statuses, [400, 400, 400, 200], "{stub}");
    assert_eq!(minimax.requests().len(), 1);
    assert_eq!(minimax.requests()[0].path_and_query, "/v1/messages");
}

/// An upstream that answers with a redirect gets it relayed to the agent; headroom itself never
/// follows it, so no credential reaches the redirect's target.
#[test]
fn upstream_redirects_are_relayed_never_followed() {
    let elsewhere = ok_upstream();
    let target = format!("{}/v1/messages", elsewhere.url);
    for status in [301u16, 302, 307, 308] {
        let location = target.clone();
        let redirecting =
            MockUpstream::start("", move |_| Reply::Redirect(status, location.clone()));
        let dir = Dir::new();
        let body = json!({"model": "minimax/MiniMax-M3", "messages": []});
        let plan = json!({"requests": [{"path": "/v1/messages", "body": body}]});
        wrap_stub(&dir, "claude", &plan, &[])
            .env("MINIMAX_API_KEY", "mm-secret-key")
            .env("MINIMAX_TARGET_API_URL", &redirecting.url)
            .assert()
            .success();
        let response = &dir.read_json("stub.json")["responses"][0];
        assert_eq!(response["status"], status, "{response}");
        assert_eq!(response["headers"]["location"], target.as_str());
        assert_eq!(redirecting.requests().len(), 1);
    }
    assert!(elsewhere.requests().is_empty(), "a redirect was followed");
}

/// A hostile upstream's model name cannot colour the terminal or forge lines, and token counts
/// past what any request can use are flagged, not summed or priced (they used to wrap to 26).
#[test]
fn hostile_upstream_names_and_counts_reach_neither_the_terminal_nor_the_totals() {
    let evil = "claude-opus-5-5\u{1b}[31m\nheadroom: 200 forged line\u{7}";
    let hostile = MockUpstream::start("", move |request| {
        let huge = request.path_and_query.contains("huge");
        let tokens = if huge { u64::MAX } else { 1_000 };
        Reply::Json(
            200,
            json!({"model": evil, "usage": {"input_tokens": tokens, "output_tokens": tokens}})
                .to_string(),
        )
    });
    let dir = Dir::new();
    let body = json!({"model": "claude-opus-5-5", "messages": []});
    let plan = json!({"requests": [
        {"path": "/v1/messages", "body": body},
        {"path": "/v1/messages?huge=1", "body": body},
        {"path": "/v1/messages?huge=2", "body": body},
    ]});
    let output = wrap_stub(&dir, "claude", &plan, &["--color", "never"])
        .arg("-v")
        .env("ANTHROPIC_API_KEY", "sk")
        .env("ANTHROPIC_TARGET_API_URL", &hostile.url)
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    assert!(
        !stderr
            .lines()
            .any(|line| line.starts_with("headroom: 200 forged")),
        "{stderr}"
    );
    let summary = dir.read_json("summary.json");
    assert_eq!(summary["totals"]["input_tokens"], 1_000, "{summary}");
    assert_eq!(summary["totals"]["output_tokens"], 1_000);
    assert!(
        summary["totals"]["cost_usd"].is_null(),
        "the cost is unknown, not $5e14"
    );
    let flagged = summary["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|request| request["implausible_usage"] == true)
        .count();
    assert_eq!(flagged, 2);
}

/// In a MiniMax session, a body whose model an upstream could read differently (duplicate keys,
/// a non-string model, bytes after the JSON) gets a 400 instead of going to Anthropic.
#[test]
fn a_body_with_an_unreadable_model_in_a_minimax_session_goes_nowhere() {
    let minimax = ok_upstream();
    let anthropic = ok_upstream();
    let dir = Dir::new();
    let plan = json!({"requests": [
        {"path": "/v1/messages", "body_raw": r#"{"model":"minimax/MiniMax-M3","model":"claude-opus-5-5","messages":[]}"#},
        {"path": "/v1/messages", "body_raw": r#"{"model":["minimax/MiniMax-M3"],"messages":[]}"#},
        {"path": "/v1/messages", "body_raw": r#"{"model":"minimax/MiniMax-M3","messages":[]} trailing"#},
        {"path": "/v1/messages", "body_raw": r#"{"model":"minimax/MiniMax-M3","messages":[]}"#},
    ]});
    wrap_stub(&dir, "claude", &plan, &["--model", "minimax/MiniMax-M3"])
        .env("MINIMAX_API_KEY", "mm-secret-key")
        .env("ANTHROPIC_API_KEY", "sk-ant-user")
        .env("MINIMAX_TARGET_API_URL", &minimax.url)
        .env("ANTHROPIC_TARGET_API_URL", &anthropic.url)
        .assert()
        .success();
    let stub = dir.read_json("stub.json");
    let statuses = statuses(&stub);
    assert_eq!(statuses, [400, 400, 400, 200], "{stub}");
    assert!(
        stub["responses"][0]["body"]
            .as_str()
            .unwrap()
            .contains("\"type\":\"error\"")
    );
    assert!(
        anthropic.requests().is_empty(),
        "a MiniMax conversation reached Anthropic"
    );
    assert_eq!(minimax.requests().len(), 1);
}

/// A local process that opens more idle sockets than headroom may have file descriptors cannot
/// lock the agent out: strangers' connections are closed first and the accept loop backs off.
#[test]
fn an_idle_socket_flood_at_the_fd_limit_does_not_lock_the_agent_out() {
    use std::os::unix::process::CommandExt;
    let upstream = ok_upstream();
    let dir = Dir::new();
    let (announce, gate) = (dir.path("listening"), dir.path("flooded"));
    let body = json!({"model": "claude-opus-5-5", "messages": []});
    let plan = json!({
        "announce": announce, "wait_for": gate,
        "requests": [{"path": "/v1/messages", "body": body}],
    });
    let plan_path = dir.write("plan.json", &plan.to_string());
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_headroom"));
    command
        .env("STUB_PLAN", plan_path)
        .env("STUB_OUT", dir.path("stub.json"))
        .env("HEADROOM_HOME", dir.path("home"))
        .env("ANTHROPIC_API_KEY", "sk")
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .args(["--quiet", "wrap", "claude", "--agent-bin"])
        .arg(crate::support::stub_agent())
        .arg("--summary")
        .arg(dir.path("summary.json"));
    // SAFETY: setrlimit is async-signal-safe and touches only the child being started.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 256,
                rlim_max: 256,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let mut headroom = command.spawn().unwrap();
    let proxy = announced(&announce);
    let address = proxy["address"].as_str().unwrap();
    let flood: Vec<std::net::TcpStream> = (0..300)
        .filter_map(|_| std::net::TcpStream::connect(address).ok())
        .collect();
    assert!(flood.len() > 256, "{} sockets opened", flood.len());
    std::fs::write(&gate, "go").unwrap();
    // Generous: the request completes at once; this only stops a hung test.
    wait_until("the agent's request never completed", || {
        headroom.try_wait().unwrap().is_some()
    });
    let status = headroom.wait().unwrap();
    drop(flood);
    assert!(status.success());
    let stub = dir.read_json("stub.json");
    assert_eq!(stub["responses"][0]["status"], 200, "{stub}");
    assert_eq!(upstream.requests().len(), 1);
}

/// Large bodies sent at once cannot take the machine's memory: past 256 MiB in flight, the next
/// request gets a provider-shaped 503 before its body is read, and the agent is served again as
/// soon as the others are gone.
#[test]
fn request_bodies_in_flight_have_one_memory_budget() {
    use std::io::{Read, Write};
    let upstream = ok_upstream();
    let dir = Dir::new();
    let (announce, gate) = (dir.path("listening"), dir.path("released"));
    let body = json!({"model": "claude-opus-5-5", "messages": []});
    let plan = json!({
        "announce": announce, "wait_for": gate,
        "requests": [{"path": "/v1/messages", "body": body}],
    });
    let mut headroom = wrap_stub(&dir, "claude", &plan, &[]);
    headroom
        .env("ANTHROPIC_API_KEY", "sk")
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url);
    let headroom = std::thread::spawn(move || {
        headroom.assert().success();
    });
    let proxy = announced(&announce);
    let send_head = |length: usize| {
        let mut tcp = std::net::TcpStream::connect(proxy["address"].as_str().unwrap()).unwrap();
        let mut head = format!(
            "POST {}/v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nx-api-key: {}\r\n\r\n{{",
            proxy["path"].as_str().unwrap(),
            proxy["headers"]["x-api-key"].as_str().unwrap()
        );
        head.push_str(&" ".repeat(1024));
        tcp.write_all(head.as_bytes()).unwrap();
        tcp
    };
    // Four 60 MiB bodies on their way (only their first bytes sent) hold 240 MiB.
    let held: Vec<std::net::TcpStream> = (0..4).map(|_| send_head(60 << 20)).collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut fifth = send_head(60 << 20);
    fifth
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut answer = [0u8; 4096];
    let read = fifth.read(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"type\":\"error\""), "{answer}");
    drop(held);
    drop(fifth);
    std::fs::write(&gate, "go").unwrap();
    headroom.join().unwrap();
    assert_eq!(dir.read_json("stub.json")["responses"][0]["status"], 200);
    assert_eq!(upstream.requests().len(), 1);
}

/// Twenty requests at once under a $5 budget: each holds its worst case ($0.42) while in flight,
/// so no more go out than the budget covers, and the session spends no more than it (before,
/// every request checked only what had been spent, and all twenty went out).
#[test]
fn a_budget_holds_under_concurrent_requests() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Barrier};
    let dir = Dir::new();
    let upstream_gate = dir.path("upstream-gate");
    let usage_start = json!({"input_tokens": 0, "cache_creation_input_tokens": 50000,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 50000}, "output_tokens": 1});
    let chunks = crate::support::sse(&[
        json!({"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-opus-5-5","content":[],"usage":usage_start}}),
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1000}}),
        json!({"type":"message_stop"}),
    ]);
    let gate = upstream_gate.clone();
    let upstream = MockUpstream::start("", move |_| Reply::Sse {
        chunks: chunks.clone(),
        gate: Some(gate.clone()),
    });
    let (announce, agent_gate) = (dir.path("listening"), dir.path("agent-gate"));
    let plan = json!({"announce": announce, "wait_for": agent_gate, "requests": []});
    let mut headroom = wrap_stub(&dir, "claude", &plan, &["--budget", "5"]);
    headroom
        .env("ANTHROPIC_API_KEY", "sk")
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url);
    let headroom = std::thread::spawn(move || {
        headroom.assert().success();
    });
    let proxy = announced(&announce);
    // A 50,000-byte body asking for 1,000 output tokens: at most 50,000 prompt tokens at $8/MTok
    // (1-hour cache writes) and 1,000 at $20/MTok = $0.42, which is also what each is billed.
    let body = json!({"model": "claude-opus-5-5", "max_tokens": 1000, "stream": true,
        "system": "x".repeat(49_880)})
    .to_string();
    let started = Arc::new(Barrier::new(20));
    let senders: Vec<_> = (0..20)
        .map(|_| {
            let (proxy, body, started) = (proxy.clone(), body.clone(), started.clone());
            std::thread::spawn(move || {
                let mut tcp =
                    std::net::TcpStream::connect(proxy["address"].as_str().unwrap()).unwrap();
                let request = format!(
                    "POST {}/v1/messages HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-api-key: {}\r\n\r\n{body}",
                    proxy["path"].as_str().unwrap(),
                    body.len(),
                    proxy["headers"]["x-api-key"].as_str().unwrap()
                );
                started.wait();
                tcp.write_all(request.as_bytes()).unwrap();
                let mut status = [0u8; 12];
                tcp.read_exact(&mut status).unwrap();
                let status = String::from_utf8_lossy(&status[9..12]).into_owned();
                (status, tcp)
            })
        })
        .collect();
    let answered: Vec<(String, std::net::TcpStream)> = senders
        .into_iter()
        .map(|sender| sender.join().unwrap())
        .collect();
    // All twenty have their answer's head while every forwarded one is still in flight.
    std::fs::write(&upstream_gate, "go").unwrap();
    let mut forwarded = 0;
    for (status, mut tcp) in answered {
        let mut rest = Vec::new();
        let _ = tcp.read_to_end(&mut rest);
        match status.as_str() {
            "200" => forwarded += 1,
            "400" => assert!(String::from_utf8_lossy(&rest).contains("budget of $5.00")),
            other => panic!("status {other}"),
        }
    }
    std::fs::write(&agent_gate, "go").unwrap();
    headroom.join().unwrap();
    assert_eq!(
        forwarded, 11,
        "11 x $0.42 = $4.62 fits in $5, 12 x $0.42 does not"
    );
    assert_eq!(upstream.requests().len(), 11);
    let summary = dir.read_json("summary.json");
    let spent = summary["budget"]["spent_usd"].as_f64().unwrap();
    assert!(spent <= 5.0 && (spent - 4.62).abs() < 1e-9, "{spent}");
    assert_eq!(summary["budget"]["refused_requests"], 9);
    assert_eq!(summary["budget"]["fully_enforced"], true);
}

/// An upstream that never answers, or goes quiet mid-answer, holds the agent only as long as the
/// documented timeouts: the agent gets its provider's error shape, and the request is in the
/// summary as failed (and, cut mid-answer, as partial with the usage seen so far).
#[test]
fn an_upstream_that_never_answers_or_goes_quiet_is_timed_out_and_recorded() {
    let dir = Dir::new();
    let silent = MockUpstream::start("", |_| Reply::Hang);
    let plan = json!({"requests": [{"path": "/v1/messages", "body": {"model": "claude-opus-5-5", "max_tokens": 10}}]});
    let started = std::time::Instant::now();
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_API_KEY", "sk")
        .env("ANTHROPIC_TARGET_API_URL", &silent.url)
        .env("HEADROOM_RESPONSE_TIMEOUT", "1")
        .assert()
        .success();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "not held until the upstream gave up"
    );
    let stub = dir.read_json("stub.json");
    assert_eq!(stub["responses"][0]["status"], 504);
    let error: Value =
        serde_json::from_str(stub["responses"][0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(error["type"], "error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HEADROOM_RESPONSE_TIMEOUT")
    );
    let summary = dir.read_json("summary.json");
    assert_eq!(summary["totals"]["requests"], 1);
    assert_eq!(summary["totals"]["failed_requests"], 1);

    // Quiet after the first event: the stream ends with an error event.
    let dir = Dir::new();
    let gate = dir.path("never");
    let chunks = crate::support::sse(&[
        json!({"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-opus-5-5","content":[],"usage":{"input_tokens":1200,"output_tokens":1}}}),
        json!({"type":"message_stop"}),
    ]);
    let quiet = MockUpstream::start("", move |_| Reply::Sse {
        chunks: chunks.clone(),
        gate: Some(gate.clone()),
    });
    let plan = json!({"requests": [{"path": "/v1/messages", "body": {"model": "claude-opus-5-5", "max_tokens": 10, "stream": true}}]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_API_KEY", "sk")
        .env("ANTHROPIC_TARGET_API_URL", &quiet.url)
        .env("HEADROOM_STREAM_IDLE_TIMEOUT", "1")
        .assert()
        .success();
    let stub = dir.read_json("stub.json");
    let body = stub["responses"][0]["body"].as_str().unwrap();
    assert!(
        body.contains("message_start") && body.contains("event: error"),
        "{body}"
    );
    assert!(body.contains("HEADROOM_STREAM_IDLE_TIMEOUT"), "{body}");
    let summary = dir.read_json("summary.json");
    let request = &summary["requests"][0];
    assert_eq!(request["status"], 504, "{request}");
    assert_eq!(request["partial"], true);
    assert_eq!(
        request["usage"]["input_tokens"], 1200,
        "the usage seen so far counts"
    );
}

/// The agent hanging up mid-answer (or exiting) leaves the request in the summary, as partial.
#[test]
fn an_answer_cut_off_by_the_agent_is_recorded_as_partial() {
    let dir = Dir::new();
    let gate = dir.path("gate");
    let chunks = crate::support::sse(&[
        json!({"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-opus-5-5","content":[],"usage":{"input_tokens":700,"output_tokens":1}}}),
        json!({"type":"message_stop"}),
    ]);
    let (chunks_, gate_) = (chunks.clone(), gate.clone());
    let upstream = MockUpstream::start("", move |_| Reply::Sse {
        chunks: chunks_.clone(),
        gate: Some(gate_.with_extension("unused")),
    });
    let plan = json!({"requests": [{"path": "/v1/messages", "body": {"model": "claude-opus-5-5", "max_tokens": 10, "stream": true}, "gate": gate, "abandon": true}]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_API_KEY", "sk")
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .assert()
        .success();
    let summary = dir.read_json("summary.json");
    let request = &summary["requests"][0];
    assert_eq!(request["partial"], true, "{request}");
    assert_eq!(request["usage"]["input_tokens"], 700);
}

/// headroom killed with SIGKILL (no summary written): the agent does not run on against a closed
/// port, and `headroom report` still counts the session's requests from its journal, marked as
/// ended without a summary.
#[test]
fn a_killed_headroom_takes_the_agent_along_and_its_session_still_counts() {
    let upstream = ok_upstream();
    let dir = Dir::new();
    let (announce, done) = (dir.path("listening"), dir.path("done"));
    let body = json!({"model": "claude-opus-5-5", "max_tokens": 10, "messages": []});
    let plan = json!({
        "announce": announce,
        "requests": [{"path": "/v1/messages", "body": body}, {"path": "/v1/messages", "body": body}],
        "linger": {"done": done, "seconds": 60},
    });
    let plan_path = dir.write("plan.json", &plan.to_string());
    let mut headroom = std::process::Command::new(env!("CARGO_BIN_EXE_headroom"))
        .env("STUB_PLAN", plan_path)
        .env("STUB_OUT", dir.path("stub.json"))
        .env("HEADROOM_HOME", dir.path("home"))
        .env("ANTHROPIC_API_KEY", "sk")
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .args(["--quiet", "wrap", "claude", "--agent-bin"])
        .arg(crate::support::stub_agent())
        .spawn()
        .unwrap();
    wait_until("the agent never sent its requests", || done.exists());
    let agent_pid = announced(&announce)["pid"].as_i64().unwrap() as libc::pid_t;
    // The journal's lines are written off the request path: wait until both are there.
    let sessions = dir.path("home/sessions");
    let journal_lines = || {
        std::fs::read_dir(&sessions)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".journal.jsonl")
            })
            .map(|entry| {
                std::fs::read_to_string(entry.path())
                    .unwrap_or_default()
                    .lines()
                    .count()
            })
            .sum::<usize>()
    };
    wait_until("the journal never got both requests", || {
        journal_lines() >= 3
    });
    headroom.kill().unwrap();
    headroom.wait().unwrap();
    // SAFETY: signal 0 only asks whether the process exists.
    wait_until("the agent outlived headroom", || unsafe {
        libc::kill(agent_pid, 0) != 0
    });
    let report = crate::support::headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .args(["report", "--all", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&report.stderr);
    assert!(report.status.success(), "{stderr}");
    let json: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(json["total"]["requests"], 2, "{json}");
    assert_eq!(json["sessions"], 1);
    assert_eq!(
        json["incomplete_sessions"], 1,
        "marked as known only from its journal"
    );
    assert!(stderr.contains("ended without a summary"), "{stderr}");
}
