use serde_json::json;

use crate::support::{Dir, MockUpstream, Reply, wrap_stub};

const ANTHROPIC_OK: &str = r#"{"id":"msg_1","type":"message","model":"claude-opus-5-5","content":[],"usage":{"input_tokens":10,"output_tokens":2}}"#;
const MINIMAX_OK: &str = r#"{"id":"msg_2","type":"message","model":"MiniMax-M3","content":[],"usage":{"input_tokens":10,"output_tokens":2}}"#;

fn messages(model: &str) -> serde_json::Value {
    json!({"path": "/v1/messages?beta=true", "body": {"model": model, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}})
}

#[test]
fn minimax_key_never_reaches_anthropic_and_anthropic_key_never_reaches_minimax() {
    let anthropic = MockUpstream::start("", |_| Reply::Json(200, ANTHROPIC_OK.into()));
    let minimax = MockUpstream::start("/anthropic", |_| Reply::Json(200, MINIMAX_OK.into()));
    let dir = Dir::new();
    let plan = json!({"requests": [messages("minimax/MiniMax-M3"), messages("claude-opus-5-5")]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &anthropic.url)
        .env("MINIMAX_TARGET_API_URL", &minimax.url)
        .env("MINIMAX_API_KEY", "mm-secret-key")
        .env("ANTHROPIC_API_KEY", "sk-ant-user-key")
        .assert()
        .success();

    let to_minimax = minimax.requests();
    assert_eq!(
        to_minimax.len(),
        1,
        "exactly the MiniMax request reaches MiniMax"
    );
    let request = &to_minimax[0];
    assert_eq!(request.path_and_query, "/anthropic/v1/messages?beta=true");
    assert_eq!(request.json()["model"], "MiniMax-M3");
    assert_eq!(
        request.header("authorization"),
        Some("Bearer mm-secret-key")
    );
    assert!(
        !request.everything().contains("sk-ant-user-key"),
        "{request:?}"
    );
    assert_eq!(request.header("x-api-key"), None);

    let to_anthropic = anthropic.requests();
    assert_eq!(
        to_anthropic.len(),
        1,
        "exactly the Claude request reaches Anthropic"
    );
    let request = &to_anthropic[0];
    assert_eq!(request.path_and_query, "/v1/messages?beta=true");
    assert_eq!(request.header("x-api-key"), Some("sk-ant-user-key"));
    assert!(
        !request.everything().contains("mm-secret-key"),
        "{request:?}"
    );
    assert_eq!(request.json()["model"], "claude-opus-5-5");
}

#[test]
fn model_splice_keeps_every_other_byte() {
    let minimax = MockUpstream::start("/anthropic", |_| Reply::Json(200, MINIMAX_OK.into()));
    let dir = Dir::new();
    let raw = r#"{"z_first":true,  "model":"minimax/MiniMax-M3", "messages":[{"role":"user","content":"caf\u00e9 \"q\""}],"max_tokens":5}"#;
    let plan = json!({"requests": [{"path": "/v1/messages", "body_raw": raw}]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("MINIMAX_TARGET_API_URL", &minimax.url)
        .env("MINIMAX_API_KEY", "mm")
        .assert()
        .success();
    let expected = raw.replace("minimax/MiniMax-M3", "MiniMax-M3");
    assert_eq!(
        String::from_utf8(minimax.requests()[0].body.clone()).unwrap(),
        expected
    );
}

#[test]
fn codex_on_minimax_reaches_the_openai_compatible_endpoint_without_the_openai_key() {
    let openai = MockUpstream::start("/v1", |_| Reply::Json(500, "{}".into()));
    let minimax = MockUpstream::start("/v1", |_| {
        Reply::Json(
            200,
            r#"{"model":"MiniMax-M3","usage":{"input_tokens":7,"output_tokens":3}}"#.into(),
        )
    });
    let dir = Dir::new();
    let plan = json!({"requests": [{"path": "/responses", "body": {"model": "minimax/MiniMax-M3", "input": "hi", "stream": false}}]});
    wrap_stub(&dir, "codex", &plan, &["--model", "minimax/MiniMax-M3"])
        .env("OPENAI_TARGET_API_URL", &openai.url)
        .env("MINIMAX_OPENAI_TARGET_API_URL", &minimax.url)
        .env("MINIMAX_API_KEY", "mm-secret-key")
        .env("OPENAI_API_KEY", "sk-openai-user-key")
        .assert()
        .success();
    assert!(openai.requests().is_empty());
    let requests = minimax.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path_and_query, "/v1/responses");
    assert_eq!(requests[0].json()["model"], "MiniMax-M3");
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer mm-secret-key")
    );
    assert!(!requests[0].everything().contains("sk-openai-user-key"));
}

#[test]
fn openai_routes_keep_the_agents_key() {
    let openai = MockUpstream::start("/v1", |_| {
        Reply::Json(
            200,
            r#"{"model":"gpt-6.1-sol","usage":{"prompt_tokens":5,"completion_tokens":1}}"#.into(),
        )
    });
    let dir = Dir::new();
    let plan = json!({"requests": [
        {"path": "/chat/completions", "body": {"model": "gpt-6.1-sol", "messages": []}},
        {"path": "/models", "method": "GET", "body_raw": ""},
    ]});
    wrap_stub(&dir, "codex", &plan, &[])
        .env("OPENAI_TARGET_API_URL", &openai.url)
        .env("MINIMAX_API_KEY", "mm-secret-key")
        .env("OPENAI_API_KEY", "sk-openai-user-key")
        .assert()
        .success();
    let requests = openai.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path_and_query, "/v1/chat/completions");
    assert_eq!(requests[1].path_and_query, "/v1/models");
    assert_eq!(
        (requests[0].method.as_str(), requests[1].method.as_str()),
        ("POST", "GET")
    );
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some("Bearer sk-openai-user-key")
        );
        assert!(!request.everything().contains("mm-secret-key"));
    }
}

#[test]
fn minimax_model_without_key_gets_a_provider_shaped_401() {
    let minimax = MockUpstream::start("/anthropic", |_| Reply::Json(200, MINIMAX_OK.into()));
    let dir = Dir::new();
    let plan = json!({"requests": [messages("MiniMax-M2.7")]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("MINIMAX_TARGET_API_URL", &minimax.url)
        .assert()
        .success();
    assert!(minimax.requests().is_empty());
    let stub = dir.read_json("stub.json");
    let response = &stub["responses"][0];
    assert_eq!(response["status"], 401);
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("MINIMAX_API_KEY")
    );
}

#[test]
fn requests_outside_the_session_prefix_get_404_and_are_never_forwarded() {
    let anthropic = MockUpstream::start("", |_| Reply::Json(200, ANTHROPIC_OK.into()));
    let dir = Dir::new();
    let body = json!({"model": "claude-opus-5-5"});
    let plan = json!({"requests": [
        {"path": "/v1/messages", "raw_path": true, "body": body},
        {"path": "/s/00000000000000000000000000000000/v1/messages", "raw_path": true, "body": body},
        {"path": "/", "raw_path": true, "method": "HEAD", "body_raw": ""},
    ]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &anthropic.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let stub = dir.read_json("stub.json");
    assert_eq!(stub["responses"][0]["status"], 404);
    assert_eq!(stub["responses"][1]["status"], 404);
    assert_eq!(stub["responses"][2]["status"], 200);
    assert!(anthropic.requests().is_empty());
    let base = stub["base"].as_str().unwrap();
    let secret = base.rsplit('/').next().unwrap();
    assert_eq!(secret.len(), 32, "128-bit hex secret in {base}");
}

#[test]
fn dead_upstream_gets_a_502_naming_the_url_and_counts_as_failed() {
    // Bind and drop a listener so the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = Dir::new();
    let plan = json!({"requests": [messages("claude-opus-5-5")]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let stub = dir.read_json("stub.json");
    let response = &stub["responses"][0];
    assert_eq!(response["status"], 502);
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains(&url),
        "{body}"
    );
    let summary = dir.read_json("summary.json");
    assert_eq!(summary["totals"]["failed_requests"], 1);
}

#[test]
fn upstream_that_never_accepts_gets_a_504_instead_of_a_hang() {
    // Fill the listener's accept queue without ever accepting: further connects then stall in the
    // kernel, which is what an unreachable host looks like.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    while let Ok(stream) =
        std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(300))
    {
        queued.push(stream);
        assert!(queued.len() < 10_000, "the accept queue never filled");
    }
    let url = format!("http://{addr}");
    let dir = Dir::new();
    let plan = json!({"requests": [{"path": "/responses", "body": {"model": "gpt-6.1-sol"}}]});
    wrap_stub(&dir, "codex", &plan, &[])
        .env("OPENAI_TARGET_API_URL", &url)
        .env("OPENAI_API_KEY", "sk")
        .env("HEADROOM_CONNECT_TIMEOUT", "0.5")
        .assert()
        .success();
    let response = &dir.read_json("stub.json")["responses"][0];
    assert_eq!(response["status"], 504);
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["type"], "server_error");
    assert!(
        body["error"]["message"].as_str().unwrap().contains(&url),
        "{body}"
    );
    assert_eq!(
        dir.read_json("summary.json")["totals"]["failed_requests"],
        1
    );
    drop(listener);
}

#[test]
fn bad_connect_timeout_is_a_usage_error() {
    let dir = Dir::new();
    wrap_stub(&dir, "claude", &json!({}), &[])
        .env("HEADROOM_CONNECT_TIMEOUT", "soon")
        .assert()
        .code(2);
}

/// Codex signed in with ChatGPT (no API key: it sends its own token and `chatgpt-account-id`)
/// reaches the ChatGPT backend it uses in that mode, with its token, and the platform API gets
/// nothing (it refuses such tokens). The session secret goes nowhere.
#[test]
fn a_chatgpt_sign_in_reaches_the_chatgpt_backend_with_its_own_token() {
    let answer = json!({"model": "gpt-6.1-sol", "usage": {"input_tokens": 50, "output_tokens": 5}})
        .to_string();
    let plan_headers = vec![
        ("x-codex-primary-used-percent", "12".to_owned()),
        ("x-codex-primary-window-minutes", "300".to_owned()),
        ("x-codex-secondary-used-percent", "64".to_owned()),
        ("x-codex-secondary-window-minutes", "10080".to_owned()),
    ];
    let chatgpt = MockUpstream::start("", {
        let answer = answer.clone();
        move |_| Reply::JsonWithHeaders(200, answer.clone(), plan_headers.clone())
    });
    let platform = MockUpstream::start("", move |_| Reply::Json(200, answer.clone()));
    let dir = Dir::new();
    let body = json!({"model": "gpt-6.1-sol", "input": "hi"});
    let plan = json!({"requests": [
        {"path": "/responses", "body": body, "headers": {"chatgpt-account-id": "acct_123"}},
    ], "env_dump": ["HEADROOM_SESSION_TOKEN"]});
    // A budget far below the plan usage's API-equivalent: plan usage is not billed, so nothing is
    // refused.
    let codex_home = dir.path("codex-home");
    std::fs::create_dir_all(&codex_home).unwrap();
    let auth = json!({"OPENAI_API_KEY": null, "tokens": {"access_token": "chatgpt-access-token"}});
    std::fs::write(codex_home.join("auth.json"), auth.to_string()).unwrap();
    let run = wrap_stub(&dir, "codex", &plan, &["--budget", "0.000001"])
        .env("CODEX_HOME", &codex_home)
        .env("STUB_OWN_LOGIN", "chatgpt-access-token")
        .env("CHATGPT_TARGET_API_URL", &chatgpt.url)
        .env("OPENAI_TARGET_API_URL", &platform.url)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    let stub = dir.read_json("stub.json");
    assert_eq!(stub["responses"][0]["status"], 200, "{stub}");
    assert!(platform.requests().is_empty());
    let sent = &chatgpt.requests()[0];
    assert_eq!(sent.path_and_query, "/responses");
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer chatgpt-access-token")
    );
    assert_eq!(sent.header("chatgpt-account-id"), Some("acct_123"));
    let token = stub["env"]["HEADROOM_SESSION_TOKEN"].as_str().unwrap();
    assert!(
        !sent.everything().contains(token),
        "the session secret reached the backend"
    );
    let summary = dir.read_json("summary.json");
    assert_eq!(summary["requests"][0]["provider"], "openai");
    assert_eq!(summary["requests"][0]["billing"], "subscription");
    // Priced as the API would have billed it, kept apart from billed dollars.
    let totals = &summary["totals"];
    assert_eq!(totals["cost_usd"], 0.0, "{totals}");
    assert_eq!(totals["plan"]["requests"], 1);
    assert!(
        totals["plan"]["cost_usd"].as_f64().unwrap() > 0.0,
        "{totals}"
    );
    assert_eq!(summary["budget"]["refused_requests"], 0);
    let quota: Vec<_> = summary["plan_quota"]
        .as_array()
        .unwrap()
        .iter()
        .map(|window| (window["window"].clone(), window["used_percent"].clone()))
        .collect();
    assert_eq!(
        quota,
        [(json!("5h"), json!(12.0)), (json!("7d"), json!(64.0))]
    );
    assert!(stderr.contains(" (plan) |"), "{stderr}");
    assert!(stderr.contains("(plan): API-equivalent"), "{stderr}");
    assert!(
        stderr.contains("ChatGPT plan: 12% of the 5-hour window used"),
        "{stderr}"
    );
}

/// Claude Code signed in to a Claude plan (an OAuth bearer with the OAuth beta flag) is plan
/// usage; an API key, or a bearer without the flag, is billed by the API.
#[test]
fn a_claude_plan_sign_in_is_recorded_as_subscription_usage() {
    let upstream = MockUpstream::start("", |_| {
        Reply::JsonWithHeaders(
            200,
            ANTHROPIC_OK.into(),
            vec![
                ("anthropic-ratelimit-unified-5h-utilization", "0.43".into()),
                ("anthropic-ratelimit-unified-5h-reset", "1796072400".into()),
                ("anthropic-ratelimit-unified-status", "allowed".into()),
            ],
        )
    });
    let dir = Dir::new();
    let body = json!({"model": "claude-opus-5-5", "max_tokens": 5, "messages": []});
    let plan = json!({"requests": [
        {"path": "/v1/messages", "body": body, "headers": {"anthropic-beta": "claude-code-20250219,oauth-2025-04-20"}},
        {"path": "/v1/messages", "body": body, "headers": {"anthropic-beta": "claude-code-20250219"}},
    ]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env_remove("ANTHROPIC_API_KEY")
        .env("ANTHROPIC_AUTH_TOKEN", "oauth-access-token")
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .assert()
        .success();
    let summary = dir.read_json("summary.json");
    assert_eq!(summary["requests"][0]["billing"], "subscription");
    assert_eq!(summary["requests"][1]["billing"], "api");
    let totals = &summary["totals"];
    assert_eq!(totals["plan"]["requests"], 1, "{totals}");
    assert_eq!(totals["plan"]["cost_usd"], totals["cost_usd"], "{totals}");
    let window = &summary["plan_quota"][0];
    assert_eq!(
        (&window["plan"], &window["window"], &window["resets_at"]),
        (
            &json!("claude"),
            &json!("5h"),
            &json!("2026-11-30T21:00:00Z")
        )
    );
    assert!((window["used_percent"].as_f64().unwrap() - 43.0).abs() < 1e-9);
    assert_eq!(
        upstream.requests()[0].header("authorization"),
        Some("Bearer oauth-access-token"),
        "the plan's token passes through"
    );
}
