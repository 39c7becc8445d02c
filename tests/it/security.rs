//! What another local user or process, or a hostile upstream, can do (issue 11). Each test is one
//! attack that must fail, built from what the attacker can see.

use serde_json::{Value, json};

use crate::support::{Dir, MockUpstream, Reply, wrap_stub};

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
    let statuses: Vec<u64> = stub["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
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
    let statuses: Vec<u64> = stub["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [400, 400, 400, 200], "{stub}");
    assert_eq!(minimax.requests().len(), 1);
    assert_eq!(minimax.requests()[0].path_and_query, "/v1/messages");
}
