use serde_json::{Value, json};

use crate::support::{Dir, MockUpstream, Reply, summary_row, wrap_stub};

fn build_log() -> String {
    let mut lines: Vec<String> = (0..600)
        .map(|i| format!("   Compiling dependency-{i} v1.{i}.0"))
        .collect();
    lines[321] =
        "error[E0425]: cannot find value `config` in this scope --> src/main.rs:88:13".into();
    lines.join("\n")
}

fn session_body() -> Value {
    json!({"model": "claude-opus-5-5", "max_tokens": 100, "messages": [
        {"role": "user", "content": "build it"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cargo build"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": build_log(), "cache_control": {"type": "ephemeral"}}]},
    ]})
}

fn upstream() -> MockUpstream {
    MockUpstream::start("", |_| {
        Reply::Json(200, json!({"model":"claude-opus-5-5","usage":{"input_tokens":900,"output_tokens":10,"cache_creation_input_tokens":2000}}).to_string())
    })
}

#[test]
fn large_tool_output_is_compressed_with_its_facts_and_a_path_to_the_original() {
    let upstream = upstream();
    let dir = Dir::new();
    let plan = json!({"requests": [{"path": "/v1/messages", "body": session_body()}]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let forwarded = upstream.requests()[0].json();
    let text = forwarded["messages"][2]["content"][0]["content"]
        .as_str()
        .unwrap();
    assert!(
        text.contains(
            "error[E0425]: cannot find value `config` in this scope --> src/main.rs:88:13"
        )
    );
    assert!(text.contains("Compiling dependency-0 ") && text.contains("Compiling dependency-599 "));
    assert!(
        text.len() * 4 < build_log().len(),
        "{} vs {}",
        text.len(),
        build_log().len()
    );
    assert_eq!(
        forwarded["messages"][2]["content"][0]["cache_control"],
        json!({"type": "ephemeral"})
    );
    let path = text
        .split("full output: ")
        .nth(1)
        .unwrap()
        .split(" ...]")
        .next()
        .unwrap();
    assert!(
        path.starts_with(dir.path("home/originals").to_str().unwrap()),
        "{path}"
    );
    assert_eq!(
        std::fs::read_to_string(path).unwrap(),
        build_log(),
        "the original is kept whole"
    );

    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "claude-opus-5-5");
    let saved = row["tokens_saved"].as_u64().unwrap();
    assert!(saved > 3000, "{row}");
    // The provider reported cache writes, so the removed tokens of the newest turn would have been
    // written to the 5-minute cache: $5 per MTok on claude-opus-5-5.
    let saved_usd = row["saved_usd"].as_f64().unwrap();
    assert!((saved_usd - saved as f64 * 5e-6).abs() < 1e-9, "{row}");
}

#[test]
fn no_compress_and_headroom_compress_off_forward_the_original_bytes() {
    for (args, env) in [(&["--no-compress"][..], None), (&[][..], Some("off"))] {
        let upstream = upstream();
        let dir = Dir::new();
        let raw = session_body().to_string();
        let plan = json!({"requests": [{"path": "/v1/messages", "body_raw": raw}]});
        let mut command = wrap_stub(&dir, "claude", &plan, args);
        command
            .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
            .env("ANTHROPIC_API_KEY", "sk");
        if let Some(value) = env {
            command.env("HEADROOM_COMPRESS", value);
        }
        command.assert().success();
        assert_eq!(
            String::from_utf8(upstream.requests()[0].body.clone()).unwrap(),
            raw
        );
        let summary = dir.read_json("summary.json");
        assert_eq!(summary["totals"]["tokens_saved"], 0);
        assert!(
            summary["totals"]["cost_usd"].as_f64().unwrap() > 0.0,
            "the table still shows cost"
        );
    }
}
