//! The provider table end to end: each built-in provider and a user-defined one get their own
//! requests, by prefix and by name, at their own URLs, with their own key and no other; a missing
//! key or an API a provider does not serve is a clear error; the user's own base URL is kept.

use serde_json::{Value, json};

use crate::support::{Dir, MockUpstream, Reply, headroom, wrap_stub};

/// An Anthropic answer naming `model`.
fn answer(model: &str) -> Reply {
    Reply::Json(
        200,
        json!({"id": "msg_1", "type": "message", "model": model, "content": [],
               "usage": {"input_tokens": 10, "output_tokens": 2}})
        .to_string(),
    )
}

fn messages(model: &str) -> Value {
    json!({"path": "/v1/messages?beta=true",
           "body": {"model": model, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}})
}

const GATEWAY: &str = r#"
[providers.gateway]
anthropic_url = "http://127.0.0.1:9/unused"
prefixes = ["gw/"]
names = ["corp-"]
"#;

/// (provider, model by prefix, model by name, name sent upstream for the prefixed one)
const CASES: [(&str, &str, &str, &str); 5] = [
    (
        "minimax",
        "minimax/MiniMax-M3",
        "MiniMax-M2.7",
        "MiniMax-M3",
    ),
    (
        "deepseek",
        "deepseek/deepseek-v4-pro",
        "deepseek-flash",
        "deepseek-v4-pro",
    ),
    ("moonshot", "moonshot/kimi-k3", "kimi-k2.5", "kimi-k3"),
    ("zai", "zai/glm-5.3", "GLM-5.3-Flash", "glm-5.3"),
    ("gateway", "gw/corp-large", "corp-small", "corp-large"),
];

#[test]
fn each_provider_gets_its_own_requests_with_its_own_key_and_no_other() {
    let anthropic = MockUpstream::start("", |_| answer("claude-opus-5-5"));
    let mocks: Vec<(&str, MockUpstream)> = CASES
        .iter()
        .map(|(name, _, _, upstream)| {
            let upstream = upstream.to_string();
            (
                *name,
                MockUpstream::start("/anthropic", move |_| answer(&upstream)),
            )
        })
        .collect();
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("home")).unwrap();
    dir.write("home/providers.toml", GATEWAY);
    let mut requests: Vec<Value> = CASES
        .iter()
        .flat_map(|(_, prefixed, named, _)| [messages(prefixed), messages(named)])
        .collect();
    requests.push(messages("claude-opus-5-5"));
    let mut command = wrap_stub(&dir, "claude", &json!({"requests": requests}), &[]);
    command
        .env("ANTHROPIC_TARGET_API_URL", &anthropic.url)
        .env("ANTHROPIC_API_KEY", "key-of-the-user-anthropic");
    for (name, mock) in &mocks {
        let upper = name.to_ascii_uppercase();
        command
            .env(format!("{upper}_TARGET_API_URL"), &mock.url)
            .env(format!("{upper}_API_KEY"), format!("key-of-{name}"));
    }
    command.assert().success();

    let keys: Vec<String> = CASES
        .iter()
        .map(|(name, ..)| format!("key-of-{name}"))
        .chain(["key-of-the-user-anthropic".to_owned()])
        .collect();
    for ((name, prefixed, named, upstream_name), (_, mock)) in CASES.iter().zip(&mocks) {
        let received = mock.requests();
        assert_eq!(received.len(), 2, "{name} got exactly its two requests");
        assert_eq!(
            received[0].path_and_query,
            "/anthropic/v1/messages?beta=true"
        );
        assert_eq!(received[0].json()["model"], *upstream_name, "{prefixed}");
        assert_eq!(received[1].json()["model"], *named, "a name goes as it is");
        for request in &received {
            assert_eq!(
                request.header("authorization"),
                Some(format!("Bearer key-of-{name}").as_str())
            );
            let everything = request.everything();
            for key in keys.iter().filter(|key| **key != format!("key-of-{name}")) {
                assert!(!everything.contains(key.as_str()), "{key} reached {name}");
            }
        }
    }
    let received = anthropic.requests();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].header("x-api-key"),
        Some("key-of-the-user-anthropic")
    );
    for key in keys
        .iter()
        .filter(|key| key.starts_with("key-of-") && !key.ends_with("anthropic"))
    {
        assert!(
            !received[0].everything().contains(key.as_str()),
            "{key} reached Anthropic"
        );
    }
    let summary = dir.read_json("summary.json");
    let providers: Vec<&str> = summary["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|request| request["provider"].as_str().unwrap())
        .collect();
    assert_eq!(
        providers,
        [
            "minimax",
            "minimax",
            "deepseek",
            "deepseek",
            "moonshot",
            "moonshot",
            "zai",
            "zai",
            "gateway",
            "gateway",
            "anthropic"
        ]
    );
}

/// A request for a provider whose key is not set gets an answer in the agent's own error format
/// naming the variable, and goes nowhere.
#[test]
fn a_missing_key_is_a_provider_shaped_401_naming_the_variable() {
    let moonshot = MockUpstream::start("/anthropic", |_| answer("kimi-k2.5"));
    let dir = Dir::new();
    wrap_stub(
        &dir,
        "claude",
        &json!({"requests": [messages("kimi-k2.5")]}),
        &[],
    )
    .env("MOONSHOT_TARGET_API_URL", &moonshot.url)
    .env("ANTHROPIC_API_KEY", "sk-ant")
    .assert()
    .success();
    let stub = dir.read_json("stub.json");
    let response = &stub["responses"][0];
    assert_eq!(response["status"], 401, "{stub}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["type"], "error", "Anthropic's error shape: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("MOONSHOT_API_KEY"),
        "{body}"
    );
    assert!(moonshot.requests().is_empty());
}

#[test]
fn wrap_stops_before_starting_when_a_provider_cannot_serve_the_session() {
    let dir = Dir::new();
    let assert = wrap_stub(
        &dir,
        "claude",
        &json!({}),
        &["--model", "deepseek/deepseek-v4-pro"],
    )
    .assert()
    .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("DEEPSEEK_API_KEY is not set"), "{stderr}");

    let assert = wrap_stub(&dir, "codex", &json!({}), &["--model", "deepseek-flash"])
        .env("DEEPSEEK_API_KEY", "ds")
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("runs on deepseek, which serves no OpenAI Responses API"),
        "{stderr}"
    );
    assert!(!dir.path("stub.json").exists(), "the agent was started");
}

/// Codex on Z.ai, which serves the Responses API: its OpenAI-compatible URL, its key, the name
/// without prefix, the context window Codex cannot know, and the OpenAI key out of Codex's way.
#[test]
fn codex_runs_on_a_provider_that_serves_the_responses_api() {
    let zai = MockUpstream::start("/api/v1", |_| {
        Reply::Json(
            200,
            json!({"model": "glm-5.3", "usage": {"input_tokens": 7, "output_tokens": 3}})
                .to_string(),
        )
    });
    let dir = Dir::new();
    let plan = json!({"requests": [{"path": "/responses", "body": {"model": "zai/glm-5.3", "input": "hi"}}],
                      "env_dump": ["OPENAI_API_KEY"]});
    wrap_stub(&dir, "codex", &plan, &["--model", "zai/glm-5.3"])
        .env("ZAI_OPENAI_TARGET_API_URL", &zai.url)
        .env("ZAI_API_KEY", "zai-key")
        .env("OPENAI_API_KEY", "sk-openai-user")
        .assert()
        .success();
    let received = zai.requests();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path_and_query, "/api/v1/responses");
    assert_eq!(received[0].json()["model"], "glm-5.3");
    assert_eq!(received[0].header("authorization"), Some("Bearer zai-key"));
    assert!(!received[0].everything().contains("sk-openai-user"));
    let stub = dir.read_json("stub.json");
    assert_eq!(stub["env"]["OPENAI_API_KEY"], Value::Null);
    let argv: Vec<String> = serde_json::from_value(stub["argv"].clone()).unwrap();
    assert!(
        argv.contains(&"model_context_window=1000000".to_owned()),
        "{argv:?}"
    );
    let summary = dir.read_json("summary.json");
    assert_eq!(summary["requests"][0]["provider"], "zai");
    assert!(
        summary["requests"][0]["cost_usd"].as_f64().unwrap() > 0.0,
        "priced as Z.ai's GLM-5.3"
    );
}

/// Claude Code already pointed somewhere by the user: that stays its upstream (said once on
/// stderr) unless ANTHROPIC_TARGET_API_URL says otherwise.
#[test]
fn the_users_own_anthropic_base_url_is_kept() {
    let own = MockUpstream::start("/proxy", |_| answer("claude-opus-5-5"));
    let dir = Dir::new();
    let assert = wrap_stub(
        &dir,
        "claude",
        &json!({"requests": [messages("claude-opus-5-5")]}),
        &[],
    )
    .env("ANTHROPIC_BASE_URL", &own.url)
    .env("ANTHROPIC_API_KEY", "sk-ant")
    .assert()
    .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!("forwarding to {}", own.url)),
        "{stderr}"
    );
    assert!(stderr.contains("ANTHROPIC_TARGET_API_URL"), "{stderr}");
    assert_eq!(
        own.requests()[0].path_and_query,
        "/proxy/v1/messages?beta=true"
    );
    let stub = dir.read_json("stub.json");
    assert!(
        stub["base"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "Claude Code itself is pointed at headroom: {stub}"
    );
}

#[test]
fn providers_lists_the_table_with_keys_named_never_shown() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("home")).unwrap();
    dir.write("home/providers.toml", GATEWAY);
    let output = headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .env("GATEWAY_API_KEY", "very-secret-gateway-key")
        .env(
            "DEEPSEEK_TARGET_API_URL",
            "https://deepseek.example.cn/anthropic",
        )
        .arg("providers")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("GATEWAY_API_KEY (set)"), "{stdout}");
    assert!(stdout.contains("MINIMAX_API_KEY (not set)"), "{stdout}");
    assert!(
        stdout.contains("https://deepseek.example.cn/anthropic"),
        "{stdout}"
    );
    assert!(stdout.contains("providers.toml"), "{stdout}");
    assert!(!stdout.contains("very-secret-gateway-key"));

    // A bad file in its default place: a warning with file and line, and the built-ins.
    dir.write(
        "home/providers.toml",
        "[providers.gateway]\nanthropic_url = 3\n",
    );
    let output = headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .arg("providers")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("providers.toml: line 2, column 17"),
        "{stderr}"
    );
    assert!(stderr.contains("using the built-in providers"), "{stderr}");
    // Given by the flag: an error.
    headroom()
        .args(["providers", "--providers"])
        .arg(dir.path("home/providers.toml"))
        .assert()
        .code(2);
    headroom()
        .args(["providers", "--providers"])
        .arg(dir.path("missing.toml"))
        .assert()
        .code(2);
}

/// A provider that refuses what the agent sends (thinking settings, too many tools): the refusals
/// are counted per provider after the table with the first error, and kept per model and per
/// request in the summary, safe to show (one line, no key).
#[test]
fn provider_errors_are_listed_after_the_table_and_kept_in_the_summary() {
    let deepseek = MockUpstream::start("/anthropic", |request| {
        if request.json()["thinking"].is_object() {
            Reply::Json(
                400,
                json!({"type": "error", "error": {"type": "invalid_request_error",
                       "message": "thinking is not supported\nfor key sk-abcdefghijklmnopqrstuvwxyz0123"}})
                .to_string(),
            )
        } else {
            answer("deepseek-flash")
        }
    });
    let dir = Dir::new();
    let mut thinking = messages("deepseek-flash");
    thinking["body"]["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    let plan = json!({"requests": [thinking.clone(), thinking, messages("deepseek-flash")]});
    let assert = wrap_stub(&dir, "claude", &plan, &["--model", "deepseek-flash"])
        .env("DEEPSEEK_TARGET_API_URL", &deepseek.url)
        .env("DEEPSEEK_API_KEY", "ds-key")
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains(
            "headroom: deepseek answered 2 requests with an error; the first: 400 invalid_request_error: \
             thinking is not supported for key ***"
        ),
        "{stderr}"
    );
    let summary = dir.read_json("summary.json");
    let row = &summary["models"][0];
    assert_eq!(row["upstream_errors"], 2, "{row}");
    assert_eq!(row["first_upstream_error"]["type"], "invalid_request_error");
    assert_eq!(summary["requests"][0]["error"]["status"], 400);
    assert!(summary["requests"][2].get("error").is_none());
    assert!(!summary.to_string().contains("sk-abcdefghijklmnop"));
}
