use serde_json::{Value, json};

use crate::support::{Dir, MockUpstream, Reply, sse, summary_row, wrap_stub};

fn assert_usd(value: &Value, expected: f64) {
    let actual = value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"));
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

#[test]
fn anthropic_cache_reads_and_writes_are_priced_at_their_own_rates() {
    let upstream = MockUpstream::start("", |_| Reply::Sse {
        chunks: sse(&[
            json!({"type":"message_start","message":{"model":"claude-opus-5-5","usage":{"input_tokens":100,"cache_read_input_tokens":20000,"cache_creation_input_tokens":3000,"cache_creation":{"ephemeral_5m_input_tokens":2000,"ephemeral_1h_input_tokens":1000},"output_tokens":1}}}),
            json!({"type":"message_delta","delta":{},"usage":{"output_tokens":400}}),
        ]),
        gate: None,
    });
    let dir = Dir::new();
    let body =
        json!({"path": "/v1/messages", "body": {"model": "claude-opus-5-5", "stream": true}});
    let plan = json!({"requests": [body, body]});
    let assert = wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "claude-opus-5-5");
    assert_eq!(row["provider"], "anthropic");
    assert_eq!(row["requests"], 2);
    assert_eq!(row["input_tokens"], 200);
    assert_eq!(row["output_tokens"], 800);
    assert_eq!(row["cache_read_tokens"], 40000);
    assert_eq!(row["cache_write_5m_tokens"], 4000);
    assert_eq!(row["cache_write_1h_tokens"], 2000);
    // claude-opus-5-5: $4 input, $20 output, $0.20 cache read, $5 5-minute and $8 1-hour writes per
    // MTok (https://platform.claude.com/docs/en/about-claude/pricing).
    let per_request =
        100.0 * 4e-6 + 400.0 * 20e-6 + 20000.0 * 0.2e-6 + 2000.0 * 5e-6 + 1000.0 * 8e-6;
    assert_usd(&row["cost_usd"], 2.0 * per_request);
    assert_usd(&summary["totals"]["cost_usd"], 2.0 * per_request);
    assert_eq!(summary["totals"]["unpriced_requests"], 0);
    assert_eq!(row["price_source"], "genai-prices 0.2.1 (bundled data)");
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("| anthropic | claude-opus-5-5 |"),
        "{stderr}"
    );
    assert!(stderr.contains("$0.06"), "{stderr}");
}

#[test]
fn minimax_usage_only_in_message_delta_is_counted() {
    let upstream = MockUpstream::start("/anthropic", |_| Reply::Sse {
        chunks: sse(&[
            json!({"type":"message_start","message":{"model":"MiniMax-M2.7","usage":{"input_tokens":0,"output_tokens":0}}}),
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}),
            json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":1500,"output_tokens":80}}),
        ]),
        gate: None,
    });
    let dir = Dir::new();
    let plan = json!({"requests": [{"path": "/v1/messages", "body": {"model": "minimax/MiniMax-M2.7", "stream": true}}]});
    wrap_stub(&dir, "claude", &plan, &["--model", "minimax/MiniMax-M2.7"])
        .env("MINIMAX_TARGET_API_URL", &upstream.url)
        .env("MINIMAX_API_KEY", "mm")
        .assert()
        .success();
    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "MiniMax-M2.7");
    assert_eq!(row["provider"], "minimax");
    assert_eq!(row["input_tokens"], 1500);
    assert_eq!(row["output_tokens"], 80);
    // MiniMax-M2.7: $0.30 input, $1.20 output per MTok (https://platform.minimax.io/docs/guides/pricing-paygo).
    assert_usd(&row["cost_usd"], 1500.0 * 0.3e-6 + 80.0 * 1.2e-6);
}

#[test]
fn responses_and_chat_completions_usage_with_cached_input() {
    let upstream = MockUpstream::start("/v1", |request| {
        if request.path_and_query.ends_with("/responses") {
            Reply::Sse {
                chunks: sse(&[
                    json!({"type":"response.created","response":{"model":"gpt-6.1-sol","usage":null}}),
                    json!({"type":"response.completed","response":{"model":"gpt-6.1-sol","usage":{"input_tokens":10000,"input_tokens_details":{"cached_tokens":8000},"output_tokens":300}}}),
                ]),
                gate: None,
            }
        } else {
            Reply::Json(
                200,
                json!({"model":"gpt-6.1-sol","usage":{"prompt_tokens":1000,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":0}}}).to_string(),
            )
        }
    });
    let dir = Dir::new();
    let plan = json!({"requests": [
        {"path": "/responses", "body": {"model": "gpt-6.1-sol", "stream": true}},
        {"path": "/chat/completions", "body": {"model": "gpt-6.1-sol"}},
    ]});
    wrap_stub(&dir, "codex", &plan, &[])
        .env("OPENAI_TARGET_API_URL", &upstream.url)
        .env("OPENAI_API_KEY", "sk")
        .assert()
        .success();
    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "gpt-6.1-sol");
    assert_eq!(row["requests"], 2);
    assert_eq!(row["input_tokens"], 2000 + 1000);
    assert_eq!(row["cache_read_tokens"], 8000);
    assert_eq!(row["output_tokens"], 320);
    // gpt-6.1-sol: $2 input, $0.10 cached input, $10 output per MTok below 272K
    // (https://developers.openai.com/api/docs/pricing).
    assert_usd(
        &row["cost_usd"],
        3000.0 * 2e-6 + 8000.0 * 0.1e-6 + 320.0 * 10e-6,
    );
}

#[test]
fn unknown_model_cost_is_null_and_question_mark_never_zero() {
    let upstream = MockUpstream::start("", |_| {
        Reply::Json(
            200,
            json!({"model":"claude-private-7","usage":{"input_tokens":10,"output_tokens":5}})
                .to_string(),
        )
    });
    let dir = Dir::new();
    let plan =
        json!({"requests": [{"path": "/v1/messages", "body": {"model": "claude-private-7"}}]});
    let assert = wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk-ant-secret-value")
        .assert()
        .success();
    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "claude-private-7");
    assert_eq!(row["requests"], 1);
    assert!(row["cost_usd"].is_null(), "{row}");
    assert!(summary["totals"]["cost_usd"].is_null());
    assert_eq!(summary["totals"]["unpriced_requests"], 1);
    assert_eq!(summary["totals"]["known_cost_usd"], 0.0);
    assert!(row["price_source"].is_null());
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let line = stderr
        .lines()
        .find(|line| line.contains("claude-private-7"))
        .unwrap();
    assert!(line.contains(" ? |"), "{line}");
    assert!(
        stderr.contains("hint: claude-private-7 has no known price"),
        "{stderr}"
    );
    assert!(!line.contains("$0.00 |          $0.00"), "{line}");
}

#[test]
fn summary_is_versioned_and_free_of_secrets() {
    let upstream = MockUpstream::start("", |_| {
        Reply::Json(
            200,
            json!({"model":"claude-opus-5-5","usage":{"input_tokens":10,"output_tokens":5}})
                .to_string(),
        )
    });
    let dir = Dir::new();
    let plan = json!({"requests": [{"path": "/v1/messages", "body": {"model": "claude-opus-5-5"}}], "exit_code": 3});
    wrap_stub(&dir, "claude", &plan, &["--", "-p", "sk-ant-secret-value"])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk-ant-secret-value")
        .env("MINIMAX_API_KEY", "mm-secret-value")
        .assert()
        .code(3);
    let text = std::fs::read_to_string(dir.path("summary.json")).unwrap();
    let stub = dir.read_json("stub.json");
    let secret = stub["base"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    for leaked in ["sk-ant-secret-value", "mm-secret-value", secret.as_str()] {
        assert!(!text.contains(leaked), "summary contains {leaked}:\n{text}");
    }
    let summary: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(summary["schema_version"], 1);
    assert_eq!(summary["agent"], "claude");
    assert_eq!(summary["exit_code"], 3);
    assert_eq!(summary["headroom_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(summary["session_id"].as_str().unwrap().len(), 32);
    assert_ne!(summary["session_id"].as_str().unwrap(), secret);
    let requests = summary["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["usage"]["input_tokens"], 10);
    assert!(
        requests[0]["price_source"]
            .as_str()
            .unwrap()
            .contains("genai-prices")
    );
    assert!(
        summary["argv"]
            .as_array()
            .unwrap()
            .iter()
            .any(|arg| arg == "***")
    );
    assert!(summary["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(summary["ended_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(summary["totals"]["requests"], 1);
    assert_eq!(summary["totals"]["failed_requests"], 0);
}

#[test]
fn default_summary_goes_to_headroom_home_sessions() {
    let upstream = MockUpstream::start("", |_| {
        Reply::Json(
            200,
            json!({"model":"claude-opus-5-5","usage":{"input_tokens":3,"output_tokens":1}})
                .to_string(),
        )
    });
    let dir = Dir::new();
    let plan =
        json!({"requests": [{"path": "/v1/messages", "body": {"model": "claude-opus-5-5"}}]});
    let plan_path = dir.write("plan.json", &plan.to_string());
    std::fs::create_dir_all(dir.path("repo/.git")).unwrap();
    std::fs::create_dir_all(dir.path("repo/sub")).unwrap();
    crate::support::headroom()
        .current_dir(dir.path("repo/sub"))
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .env("STUB_PLAN", plan_path)
        .env("STUB_OUT", dir.path("stub.json"))
        .env("HEADROOM_HOME", dir.path("home"))
        .args(["--quiet", "wrap", "claude", "--agent-bin"])
        .arg(crate::support::stub_agent())
        .assert()
        .success();
    let sessions: Vec<_> = std::fs::read_dir(dir.path("home/sessions"))
        .unwrap()
        .collect();
    assert_eq!(sessions.len(), 1);
    let path = sessions[0].as_ref().unwrap().path();
    assert!(path.to_string_lossy().ends_with(".json"));
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(summary["totals"]["requests"], 1);
    // Where it ran: the directory, and the git repository around it.
    let ran_in = dir.path("repo/sub").canonicalize().unwrap();
    assert_eq!(summary["cwd"], ran_in.display().to_string());
    assert_eq!(
        summary["project"],
        dir.path("repo")
            .canonicalize()
            .unwrap()
            .display()
            .to_string()
    );
}

#[test]
fn budget_refuses_requests_whose_worst_case_no_longer_fits_with_a_message_the_agent_shows() {
    // Each request: a 50,000-byte body (at most 50,000 prompt tokens, at most $8/MTok as 1-hour
    // cache writes on claude-opus-5-5: $0.40) asking for at most 1,000 output tokens ($20/MTok:
    // $0.02), so $0.42 is held while it is in flight; it is billed 40,000 input and 1,000
    // output tokens: $0.16 + $0.02 = $0.18.
    let upstream = MockUpstream::start("", |_| {
        Reply::Json(
            200,
            json!({"model":"claude-opus-5-5","usage":{"input_tokens":40000,"output_tokens":1000}})
                .to_string(),
        )
    });
    let dir = Dir::new();
    let padding = "x".repeat(49_900);
    let body = json!({"path": "/v1/messages", "body": {"model": "claude-opus-5-5", "max_tokens": 1000, "system": padding}});
    let plan = json!({"requests": [body, body, body, body]});
    let assert = wrap_stub(&dir, "claude", &plan, &["--budget", "0.80"])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    // $0.00 + $0.42, $0.18 + $0.42, $0.36 + $0.42 fit in $0.80; $0.54 + $0.42 does not.
    assert_eq!(upstream.requests().len(), 3);
    let stub = dir.read_json("stub.json");
    let statuses: Vec<u64> = stub["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 200, 200, 400]);
    let refusal: Value =
        serde_json::from_str(stub["responses"][3]["body"].as_str().unwrap()).unwrap();
    assert_eq!(refusal["type"], "error");
    let message = refusal["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("budget of $0.80")
            && message.contains("$0.54 spent")
            && message.contains("up to $0.42 for this one")
            && message.contains("--budget"),
        "{message}"
    );
    let summary = dir.read_json("summary.json");
    assert_eq!(summary["budget"]["budget_usd"], 0.8);
    assert_eq!(summary["budget"]["refused_requests"], 1);
    assert_eq!(summary["budget"]["fully_enforced"], true);
    assert_usd(&summary["budget"]["spent_usd"], 0.54);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains(
            "the budget of $0.80 refused 1 request(s): their worst case did not fit beside the $0.54 spent"
        ),
        "{stderr}"
    );
}

#[test]
fn a_model_without_a_price_is_refused_while_a_budget_is_set() {
    let upstream = MockUpstream::start("", |_| {
        Reply::Json(
            200,
            json!({"model":"mystery-model","usage":{"input_tokens":10,"output_tokens":1}})
                .to_string(),
        )
    });
    let dir = Dir::new();
    let plan = json!({"requests": [{"path": "/v1/messages", "body": {"model": "mystery-model", "max_tokens": 10}}]});
    wrap_stub(&dir, "claude", &plan, &["--budget", "5"])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    assert!(upstream.requests().is_empty());
    let stub = dir.read_json("stub.json");
    assert_eq!(stub["responses"][0]["status"], 400);
    let body = stub["responses"][0]["body"].as_str().unwrap();
    assert!(
        body.contains("no known price") && body.contains("prices.toml"),
        "{body}"
    );
}

#[test]
fn compare_prices_the_session_on_another_model() {
    let upstream = MockUpstream::start("", |_| {
        Reply::Json(200, json!({"model":"claude-opus-5-5","usage":{"input_tokens":100000,"output_tokens":1000,"cache_read_input_tokens":50000}}).to_string())
    });
    let dir = Dir::new();
    let plan =
        json!({"requests": [{"path": "/v1/messages", "body": {"model": "claude-opus-5-5"}}]});
    let assert = wrap_stub(&dir, "claude", &plan, &["--compare", "MiniMax-M3"])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    // claude-opus-5-5: $4 in, $0.20 cache read, $20 out; MiniMax-M3: $0.30 in, $0.06 cached, $1.20 out.
    let actual = 100000.0 * 4e-6 + 50000.0 * 0.2e-6 + 1000.0 * 20e-6;
    let on_m3 = 100000.0 * 0.3e-6 + 50000.0 * 0.06e-6 + 1000.0 * 1.2e-6;
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let line =
        format!("On MiniMax-M3 this session would have cost ${on_m3:.2} instead of ${actual:.2}.");
    assert!(stderr.contains(&line), "{line}\n{stderr}");
    let summary = dir.read_json("summary.json");
    assert_eq!(summary["compare"]["model"], "MiniMax-M3");
    assert_usd(&summary["compare"]["cost_usd"], on_m3);
}

#[test]
fn price_overrides_apply_and_a_bad_file_stops_only_when_given_by_flag() {
    let upstream = MockUpstream::start("", |_| {
        Reply::Json(200, json!({"model":"claude-private-7","usage":{"input_tokens":1000000,"output_tokens":1000000}}).to_string())
    });
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("home")).unwrap();
    dir.write(
        "home/prices.toml",
        "[models.\"claude-private-7\"]\ninput = 1.5\noutput = 3\n",
    );
    let plan =
        json!({"requests": [{"path": "/v1/messages", "body": {"model": "claude-private-7"}}]});
    wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "claude-private-7");
    assert_usd(&row["cost_usd"], 4.5);
    assert!(
        row["price_source"]
            .as_str()
            .unwrap()
            .starts_with("override ("),
        "{row}"
    );

    let bad = dir.write(
        "bad.toml",
        "[models.\"claude-private-7\"]\ninput = \"cheap\"\noutput = 3\n",
    );
    // Given by the flag, a bad file is an error before anything starts.
    let assert = wrap_stub(&dir, "claude", &plan, &["--prices", bad.to_str().unwrap()])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("error:") && stderr.contains("bad.toml") && stderr.contains("line 2"),
        "{stderr}"
    );
    // In its default place, the same file is a warning naming file and line, and the session
    // runs on with the bundled prices.
    std::fs::create_dir_all(dir.path("home")).unwrap();
    std::fs::copy(&bad, dir.path("home/prices.toml")).unwrap();
    let assert = wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("warning:")
            && stderr.contains("prices.toml: line 2, column 9")
            && stderr.contains("using the bundled prices"),
        "{stderr}"
    );
    assert!(summary_row(&dir.read_json("summary.json"), "claude-private-7")["cost_usd"].is_null());
}

/// A rate the provider does not publish (MiniMax-M3 cache writes) is estimated by the provider's
/// own rule and marked: `~` in the table with the rule once under it, `estimated` and the rule in
/// the summary. `--compare MiniMax-M3` of a Claude session that wrote to the cache, `?` before,
/// gives an estimated figure too.
#[test]
fn estimated_rates_are_marked_in_the_table_and_the_summary() {
    let minimax = MockUpstream::start("/anthropic", |_| {
        Reply::Json(200, json!({"model":"MiniMax-M3","usage":{"input_tokens":1000,"output_tokens":100,"cache_creation_input_tokens":10000}}).to_string())
    });
    let dir = Dir::new();
    let plan =
        json!({"requests": [{"path": "/v1/messages", "body": {"model": "minimax/MiniMax-M3"}}]});
    let assert = wrap_stub(&dir, "claude", &plan, &["--model", "minimax/MiniMax-M3"])
        .env("MINIMAX_TARGET_API_URL", &minimax.url)
        .env("MINIMAX_API_KEY", "mm")
        .assert()
        .success();
    // $0.30 input, $1.20 output, writes at 1.25 x $0.30 = $0.375 per MTok.
    let expected = 1000.0 * 0.3e-6 + 100.0 * 1.2e-6 + 10000.0 * 0.375e-6;
    let summary = dir.read_json("summary.json");
    let request = &summary["requests"][0];
    assert_eq!(request["estimated"], true, "{request}");
    assert!(
        request["estimate_rule"]
            .as_str()
            .unwrap()
            .contains("1.25x input")
    );
    assert_usd(&request["cost_usd"], expected);
    assert_eq!(summary["totals"]["estimated_requests"], 1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains(&format!("~${expected:.4}")), "{stderr}");
    assert_eq!(
        stderr
            .matches("~ estimated: MiniMax-M3 cache writes priced at 1.25x input")
            .count(),
        1,
        "{stderr}"
    );

    let anthropic = MockUpstream::start("", |_| {
        Reply::Json(200, json!({"model":"claude-opus-5-5","usage":{"input_tokens":100,"output_tokens":10,"cache_creation_input_tokens":20000}}).to_string())
    });
    let dir = Dir::new();
    let plan =
        json!({"requests": [{"path": "/v1/messages", "body": {"model": "claude-opus-5-5"}}]});
    let assert = wrap_stub(&dir, "claude", &plan, &["--compare", "MiniMax-M3"])
        .env("ANTHROPIC_TARGET_API_URL", &anthropic.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let on_m3 = 100.0 * 0.3e-6 + 10.0 * 1.2e-6 + 20000.0 * 0.375e-6;
    let summary = dir.read_json("summary.json");
    assert_usd(&summary["compare"]["cost_usd"], on_m3);
    assert_eq!(summary["compare"]["estimated_requests"], 1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!("would have cost ~${on_m3:.4}")),
        "{stderr}"
    );
    assert!(stderr.contains("~ estimated: MiniMax-M3"), "{stderr}");
}
