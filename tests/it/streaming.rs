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
