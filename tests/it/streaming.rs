use serde_json::json;

use crate::support::{Dir, MockUpstream, Reply, wrap_stub};

fn anthropic_stream() -> Vec<String> {
    vec![
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"claude-opus-5-5\",\"usage\":{\"input_tokens\":11,\"output_tokens\":1}}}\n\n".into(),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"caf".into(),
        "\u{e9} \\u00e9\"}}\n\n: ping\n\n".into(),
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".into(),
    ]
}

#[test]
fn sse_arrives_byte_identical_and_before_the_upstream_finishes() {
    let dir = Dir::new();
    let gate = dir.path("gate");
    let chunks = anthropic_stream();
    let upstream = {
        let (chunks, gate) = (chunks.clone(), gate.clone());
        MockUpstream::start("", move |_| Reply::Sse {
            chunks: chunks.clone(),
            gate: Some(gate.clone()),
        })
    };
    let plan = json!({"requests": [{
        "path": "/v1/messages?beta=true",
        "body": {"model": "claude-opus-5-5", "stream": true, "messages": []},
        "gate": gate,
    }]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    // The upstream held everything after the first event until the agent had received that event.
    assert_eq!(upstream.gates(), [true]);
    let stub = dir.read_json("stub.json");
    let response = &stub["responses"][0];
    assert_eq!(response["status"], 200);
    assert_eq!(response["headers"]["content-type"], "text/event-stream");
    assert_eq!(response["body"].as_str().unwrap(), chunks.concat());

    let summary = dir.read_json("summary.json");
    let row = crate::support::summary_row(&summary, "claude-opus-5-5");
    assert_eq!(row["input_tokens"], 11);
    assert_eq!(row["output_tokens"], 5);
    assert_eq!(row["requests"], 1);
}

#[test]
fn an_agent_that_hangs_up_mid_stream_still_gets_its_request_counted() {
    let dir = Dir::new();
    let gate = dir.path("gate");
    let upstream = {
        let gate = gate.clone();
        MockUpstream::start("", move |_| Reply::Sse {
            chunks: anthropic_stream(),
            gate: Some(gate.clone()),
        })
    };
    let plan = json!({"requests": [{
        "path": "/v1/messages",
        "body": {"model": "claude-opus-5-5", "stream": true},
        "gate": gate,
        "abandon": true,
    }]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let summary = dir.read_json("summary.json");
    let row = crate::support::summary_row(&summary, "claude-opus-5-5");
    assert_eq!(row["requests"], 1);
    // Only message_start arrived before the hang-up: its input count is what was billed so far.
    assert_eq!(row["input_tokens"], 11);
}

#[test]
fn verbose_prints_one_line_per_request_without_secrets() {
    let upstream = MockUpstream::start("", |_| Reply::Sse {
        chunks: anthropic_stream(),
        gate: None,
    });
    let dir = Dir::new();
    let body = json!({"path": "/v1/messages?beta=true", "body": {"model": "claude-opus-5-5", "stream": true}});
    let plan = json!({"requests": [body, body]});
    let assert = wrap_stub(&dir, "claude", &plan, &["--verbose"])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk-ant-verbose-secret")
        .env("MINIMAX_API_KEY", "mm-verbose-secret")
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("headroom: 200 "))
        .collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    let host = upstream.url.trim_start_matches("http://");
    for line in &lines {
        assert!(line.contains("anthropic claude-opus-5-5"), "{line}");
        assert!(line.contains(&format!("via {host}")), "{line}");
        assert!(line.contains("in=11 out=5"), "{line}");
        assert!(line.ends_with("ms"), "{line}");
    }
    let secret = dir.read_json("stub.json")["base"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    for leaked in [
        "sk-ant-verbose-secret",
        "mm-verbose-secret",
        secret.as_str(),
    ] {
        assert!(!stderr.contains(leaked), "stderr leaks {leaked}:\n{stderr}");
    }
}
