//! End to end with the real Claude Code and Codex CLIs (pinned, installed into ./.clients by
//! `.ci/install-clients`), through `headroom wrap`, against mock upstreams. Offline: temporary HOME
//! and CODEX_HOME keep the user's config out, and no request leaves 127.0.0.1.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{Dir, MockUpstream, Recorded, Reply, headroom, sse, summary_row};

/// The pinned client, or None (with a note on stderr) when it is not installed. With
/// HEADROOM_REQUIRE_REAL_CLIENTS=1 (set by CI) a missing client is a failure instead.
fn client(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".clients/node_modules/.bin")
        .join(name);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("HEADROOM_REQUIRE_REAL_CLIENTS").is_none(),
        "{} is missing; run `bash .ci/install-clients`",
        path.display()
    );
    eprintln!("skipped: real {name} not installed (run `bash .ci/install-clients`)");
    None
}

/// An Anthropic streaming reply with one text block, or one tool_use block.
fn anthropic_reply(model: &str, content: Value, usage: Value, stop_reason: &str) -> Reply {
    let block_start = match content["type"].as_str() {
        Some("tool_use") => {
            json!({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":content["id"],"name":content["name"],"input":{}}})
        }
        _ => {
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})
        }
    };
    let delta = match content["type"].as_str() {
        Some("tool_use") => {
            json!({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":content["input"].to_string()}})
        }
        _ => {
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":content["text"]}})
        }
    };
    let mut start_usage = usage.clone();
    start_usage["output_tokens"] = json!(1);
    Reply::Sse {
        chunks: sse(&[
            json!({"type":"message_start","message":{"id":"msg_test","type":"message","role":"assistant","model":model,"content":[],"stop_reason":null,"stop_sequence":null,"usage":start_usage}}),
            block_start,
            delta,
            json!({"type":"content_block_stop","index":0}),
            json!({"type":"message_delta","delta":{"stop_reason":stop_reason,"stop_sequence":null},"usage":{"output_tokens":usage["output_tokens"]}}),
            json!({"type":"message_stop"}),
        ]),
        gate: None,
    }
}

fn body_text(request: &Recorded) -> String {
    String::from_utf8_lossy(&request.body).into_owned()
}

/// The text of every `tool_result` block in an Anthropic request.
fn tool_results(request: &Recorded) -> String {
    let body = request.json();
    let mut text = String::new();
    for message in body["messages"].as_array().into_iter().flatten() {
        for block in message["content"].as_array().into_iter().flatten() {
            if block["type"] == "tool_result" {
                text.push_str(&block["content"].to_string());
            }
        }
    }
    text
}

/// Runs a real agent through `headroom wrap <agent>` in a temporary HOME (and CODEX_HOME), with
/// only PATH and `env` in its environment, so nothing of the user's setup is involved.
fn run_wrapped(
    dir: &Dir,
    agent: &str,
    bin: &std::path::Path,
    env: &[(&str, &str)],
    wrap_args: &[&str],
    agent_args: &[&str],
) -> std::process::Output {
    std::fs::create_dir_all(dir.path("home/codex")).unwrap();
    let mut command = headroom();
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", dir.path("home"))
        .env("CODEX_HOME", dir.path("home/codex"))
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .current_dir(dir.path("home"))
        .envs(env.iter().copied())
        .args(["wrap", agent, "--agent-bin"])
        .arg(bin)
        .arg("--summary")
        .arg(dir.path("summary.json"))
        .args(wrap_args)
        .arg("--")
        .args(agent_args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

/// Claude Code in print mode, asked to run the tool, with `echo` allowed.
fn run_claude(
    dir: &Dir,
    claude: &std::path::Path,
    env: &[(&str, &str)],
    wrap_args: &[&str],
) -> std::process::Output {
    let args = [
        "-p",
        "RUN_THE_TOOL please",
        "--output-format",
        "json",
        "--allowedTools",
        "Bash(echo:*)",
    ];
    run_wrapped(dir, "claude", claude, env, wrap_args, &args)
}

/// The mock's script for a Claude Code session with one Bash tool call whose output is
/// `tooloutputok`: the command text `echo tool""output""ok` differs from its output, so finding
/// the output upstream proves the tool really ran.
fn claude_tool_session(
    model: &'static str,
    usage: Value,
) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    move |request| {
        let results = tool_results(request);
        let content = if results.contains("tooloutputok") {
            json!({"type":"text","text":"The tool printed tooloutputok."})
        } else if !results.is_empty() {
            json!({"type":"text","text":"The tool output was missing."})
        } else if body_text(request).contains("RUN_THE_TOOL") && request.json()["tools"].is_array()
        {
            json!({"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"echo tool\"\"output\"\"ok","description":"print a word"}})
        } else {
            json!({"type":"text","text":"ok"})
        };
        let stop_reason = if content["type"] == "tool_use" {
            "tool_use"
        } else {
            "end_turn"
        };
        anthropic_reply(model, content, usage.clone(), stop_reason)
    }
}

#[test]
fn claude_code_runs_a_tool_round_trip_through_headroom_and_costs_match_its_own() {
    let Some(claude) = client("claude") else {
        return;
    };
    let usage = json!({"input_tokens": 120, "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 30000, "output_tokens": 40});
    let upstream = MockUpstream::start("", claude_tool_session("claude-opus-5-5", usage));
    let dir = Dir::new();
    let output = run_claude(
        &dir,
        &claude,
        &[
            ("ANTHROPIC_API_KEY", "sk-ant-test-key"),
            ("ANTHROPIC_TARGET_API_URL", &upstream.url),
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "claude failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let result: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(
        result["result"].as_str().unwrap().contains("tooloutputok"),
        "{result:#}"
    );

    let requests = upstream.requests();
    assert!(
        requests
            .iter()
            .any(|r| tool_results(r).contains("tooloutputok")),
        "the tool's output went back upstream"
    );
    for request in &requests {
        assert!(
            request.path_and_query.starts_with("/v1/messages"),
            "{}",
            request.path_and_query
        );
        assert_eq!(request.header("x-api-key"), Some("sk-ant-test-key"));
    }
    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "claude-opus-5-5");
    assert_eq!(row["requests"].as_u64().unwrap(), requests.len() as u64);
    // Claude Code prices the session itself at list price: headroom must agree exactly.
    let claude_cost = result["total_cost_usd"].as_f64().unwrap();
    let our_cost = summary["totals"]["cost_usd"].as_f64().unwrap();
    assert!(claude_cost > 0.0);
    assert!(
        (claude_cost - our_cost).abs() < 1e-9,
        "claude says {claude_cost}, headroom says {our_cost}"
    );
    assert!(
        stderr.contains("| anthropic | claude-opus-5-5 |"),
        "{stderr}"
    );
}

#[test]
fn claude_code_on_minimax_sends_everything_to_minimax_with_the_minimax_key() {
    let Some(claude) = client("claude") else {
        return;
    };
    let anthropic = MockUpstream::start("", |_| Reply::Json(500, "{}".into()));
    let session = claude_tool_session(
        "MiniMax-M3",
        json!({"input_tokens": 0, "output_tokens": 50}),
    );
    // MiniMax reports 0 input in message_start; the real count arrives in message_delta.
    let minimax = MockUpstream::start("/anthropic", move |request| {
        let mut reply = session(request);
        if let Reply::Sse { chunks, .. } = &mut reply {
            for chunk in chunks
                .iter_mut()
                .filter(|chunk| chunk.contains("message_delta"))
            {
                *chunk = chunk.replace(
                    r#""usage":{"output_tokens":50}"#,
                    r#""usage":{"input_tokens":4000,"output_tokens":50}"#,
                );
            }
        }
        reply
    });
    let dir = Dir::new();
    let output = run_claude(
        &dir,
        &claude,
        &[
            ("ANTHROPIC_API_KEY", "sk-ant-user-key"),
            ("MINIMAX_API_KEY", "mm-test-key"),
            ("ANTHROPIC_TARGET_API_URL", &anthropic.url),
            ("MINIMAX_TARGET_API_URL", &minimax.url),
        ],
        &["--model", "minimax/MiniMax-M3"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "claude failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains("tooloutputok"), "{stdout}");

    assert!(anthropic.requests().is_empty(), "nothing goes to Anthropic");
    let requests = minimax.requests();
    assert!(requests.len() >= 2, "tool call and its result");
    for request in &requests {
        assert!(
            request.path_and_query.starts_with("/anthropic/v1/messages"),
            "{}",
            request.path_and_query
        );
        assert_eq!(request.json()["model"], "MiniMax-M3");
        assert_eq!(request.header("authorization"), Some("Bearer mm-test-key"));
        assert_eq!(request.header("x-api-key"), None);
        assert!(!request.everything().contains("sk-ant-user-key"));
    }
    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "MiniMax-M3");
    let n = requests.len() as f64;
    assert_eq!(row["input_tokens"].as_f64().unwrap(), 4000.0 * n);
    // MiniMax-M3 below 512K: $0.30 input, $1.20 output per MTok
    // (https://platform.minimax.io/docs/guides/pricing-paygo).
    let expected = n * (4000.0 * 0.3e-6 + 50.0 * 1.2e-6);
    assert!(
        (row["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-12,
        "{row}"
    );
}

/// A Responses stream that ends with `item` as the only output, and usage.
fn responses_reply(model: &str, item: Value, usage: Value) -> Reply {
    Reply::Sse {
        chunks: sse(&[
            json!({"type":"response.created","response":{"id":"resp_1","model":model,"status":"in_progress","output":[]}}),
            json!({"type":"response.output_item.added","output_index":0,"item":item}),
            json!({"type":"response.output_item.done","output_index":0,"item":item}),
            json!({"type":"response.completed","response":{"id":"resp_1","model":model,"status":"completed","output":[item],"usage":usage}}),
        ]),
        gate: None,
    }
}

/// The agent's stdout, once it is known to have succeeded (else its output in the failure).
fn succeeded(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the agent failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Codex in exec mode with `prompt`.
fn run_codex(
    dir: &Dir,
    codex: &std::path::Path,
    env: &[(&str, &str)],
    wrap_args: &[&str],
    prompt: &str,
) -> std::process::Output {
    run_wrapped(
        dir,
        "codex",
        codex,
        env,
        wrap_args,
        &["exec", "--skip-git-repo-check", "--json", prompt],
    )
}

#[test]
fn codex_runs_through_headroom_on_openai() {
    let Some(codex) = client("codex") else { return };
    let upstream = MockUpstream::start("/v1", |_| {
        responses_reply(
            "gpt-6.1-sol",
            json!({"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"codex says ok","annotations":[]}]}),
            json!({"input_tokens": 1000, "input_tokens_details": {"cached_tokens": 200}, "output_tokens": 30, "total_tokens": 1030}),
        )
    });
    let dir = Dir::new();
    let output = run_codex(
        &dir,
        &codex,
        &[
            ("OPENAI_API_KEY", "sk-openai-test"),
            ("OPENAI_TARGET_API_URL", &upstream.url),
        ],
        &[],
        "say ok",
    );
    let stdout = succeeded(&output);
    assert!(stdout.contains("codex says ok"), "{stdout}");
    let requests = upstream.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path_and_query, "/v1/responses");
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer sk-openai-test")
    );
    // Codex repeats the usage in `turn.completed`; headroom's count must match it.
    let turn: Value = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|event| event["type"] == "turn.completed")
        .expect("turn.completed event");
    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "gpt-6.1-sol");
    let prompt = row["input_tokens"].as_u64().unwrap() + row["cache_read_tokens"].as_u64().unwrap();
    assert_eq!(prompt, turn["usage"]["input_tokens"].as_u64().unwrap());
    assert_eq!(
        row["cache_read_tokens"],
        turn["usage"]["cached_input_tokens"]
    );
    assert_eq!(row["output_tokens"], turn["usage"]["output_tokens"]);
}

#[test]
fn codex_on_minimax_runs_a_tool_call_with_only_the_minimax_key() {
    let Some(codex) = client("codex") else { return };
    let openai = MockUpstream::start("/v1", |_| Reply::Json(500, "{}".into()));
    let minimax = MockUpstream::start("/v1", |request| {
        let usage = json!({"input_tokens": 5000, "input_tokens_details": {"cached_tokens": 1000}, "output_tokens": 60, "total_tokens": 5060});
        let body = request.json();
        let tool_output = body["input"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|item| item["type"] == "function_call_output")
            .map(|item| item["output"].to_string());
        match tool_output {
            Some(output) => {
                let text = if output.contains("tooloutputok") {
                    "the tool printed tooloutputok"
                } else {
                    "the tool output was missing"
                };
                responses_reply(
                    "MiniMax-M3",
                    json!({"type":"message","id":"msg_2","role":"assistant","status":"completed","content":[{"type":"output_text","text":text,"annotations":[]}]}),
                    usage,
                )
            }
            None => responses_reply(
                "MiniMax-M3",
                // Codex has no metadata for MiniMax models and offers plain function tools.
                json!({"type":"function_call","id":"fc_1","call_id":"call_1","name":"exec_command","status":"completed",
                       "arguments": json!({"cmd": "echo tool\"\"output\"\"ok"}).to_string()}),
                usage,
            ),
        }
    });
    let dir = Dir::new();
    let output = run_codex(
        &dir,
        &codex,
        &[
            ("OPENAI_API_KEY", "sk-openai-user-key"),
            ("MINIMAX_API_KEY", "mm-test-key"),
            ("OPENAI_TARGET_API_URL", &openai.url),
            ("MINIMAX_OPENAI_TARGET_API_URL", &minimax.url),
        ],
        &["--model", "minimax/MiniMax-M3"],
        "run the tool",
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "codex failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stdout.contains("the tool printed tooloutputok"),
        "stdout: {stdout}\nstderr: {stderr}"
    );

    assert!(openai.requests().is_empty(), "nothing goes to OpenAI");
    let requests = minimax.requests();
    assert_eq!(
        requests.len(),
        2,
        "tool call, then the turn with its output"
    );
    for request in &requests {
        assert_eq!(request.path_and_query, "/v1/responses");
        assert_eq!(request.json()["model"], "MiniMax-M3");
        assert_eq!(request.header("authorization"), Some("Bearer mm-test-key"));
        assert!(!request.everything().contains("sk-openai-user-key"));
    }

    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "MiniMax-M3");
    assert_eq!(row["provider"], "minimax");
    assert_eq!(row["requests"], 2);
    assert_eq!(row["input_tokens"], 8000);
    assert_eq!(row["cache_read_tokens"], 2000);
    assert_eq!(row["output_tokens"], 120);
    // MiniMax-M3 below 512K: $0.30 input, $0.06 cached input, $1.20 output per MTok
    // (https://platform.minimax.io/docs/guides/pricing-paygo).
    let expected = 8000.0 * 0.3e-6 + 2000.0 * 0.06e-6 + 120.0 * 1.2e-6;
    assert!(
        (row["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-12,
        "{row}"
    );
}

/// Each `tool_result` block of an Anthropic request, by tool_use_id, as forwarded.
fn tool_result_blocks(request: &Recorded) -> Vec<(String, Value)> {
    let body = request.json();
    let mut blocks = Vec::new();
    for message in body["messages"].as_array().into_iter().flatten() {
        for block in message["content"].as_array().into_iter().flatten() {
            if block["type"] == "tool_result" {
                blocks.push((
                    block["tool_use_id"].as_str().unwrap_or_default().to_owned(),
                    block["content"].clone(),
                ));
            }
        }
    }
    blocks
}

/// A service log of 400 lines with one error in the middle, as the agent's tool reads it.
fn service_log() -> String {
    (0..400)
        .map(|i| {
            if i == 200 {
                "2026-11-20T10:03:20.001Z ERROR db: connection refused to 10.0.0.5:5432\n"
                    .to_owned()
            } else {
                format!(
                    "2026-11-20T10:{:02}:{:02}.332Z INFO http: GET /items/{i} 200\n",
                    i / 60,
                    i % 60
                )
            }
        })
        .collect()
}

#[test]
fn claude_code_sessions_get_compressed_tool_output_a_stable_cached_prefix_and_can_read_the_original()
 {
    let Some(claude) = client("claude") else {
        return;
    };
    let usage = json!({"input_tokens": 100, "cache_creation_input_tokens": 3000, "cache_read_input_tokens": 20000, "output_tokens": 30});
    // Turn 1 reads the log through a filter (cut: it is a log); turn 2 reads the original the
    // marker names with Claude Code's own Read tool (never cut); turn 3 runs a small command.
    let upstream = MockUpstream::start("", move |request| {
        let results = tool_result_blocks(request);
        let (content, stop) = match results.len() {
            0 if body_text(request).contains("RUN_THE_TOOL")
                && request.json()["tools"].is_array() =>
            {
                (
                    json!({"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"grep -v DEBUG service.log","description":"read the log"}}),
                    "tool_use",
                )
            }
            1 => {
                let marker = results[0].1.as_str().unwrap_or_default();
                let original = marker
                    .split("full output: ")
                    .nth(1)
                    .and_then(|rest| rest.split(" ...]").next())
                    .unwrap_or("(no marker)");
                (
                    json!({"type":"tool_use","id":"toolu_02","name":"Read","input":{"file_path": original}}),
                    "tool_use",
                )
            }
            2 => (
                json!({"type":"tool_use","id":"toolu_03","name":"Bash","input":{"command":"echo tool\"\"output\"\"ok","description":"print a word"}}),
                "tool_use",
            ),
            _ => (json!({"type":"text","text":"done"}), "end_turn"),
        };
        anthropic_reply("claude-opus-5-5", content, usage.clone(), stop)
    });
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("home")).unwrap();
    std::fs::write(dir.path("home/service.log"), service_log()).unwrap();
    let output = run_wrapped(
        &dir,
        "claude",
        &claude,
        &[
            ("ANTHROPIC_API_KEY", "sk-ant-test-key"),
            ("ANTHROPIC_TARGET_API_URL", &upstream.url),
            ("HEADROOM_HOME", &dir.path("headroom").display().to_string()),
        ],
        &[],
        &[
            "-p",
            "RUN_THE_TOOL please",
            "--output-format",
            "json",
            "--allowedTools",
            "Bash(grep:*)",
            "Bash(echo:*)",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "claude failed\nstdout: {stdout}\nstderr: {stderr}"
    );

    let requests: Vec<Recorded> = upstream
        .requests()
        .into_iter()
        .filter(|r| !tool_result_blocks(r).is_empty())
        .collect();
    assert_eq!(requests.len(), 3, "one request per tool result");
    let first = tool_result_blocks(&requests[0]);
    let last = tool_result_blocks(&requests[2]);
    let log_output = first[0].1.as_str().unwrap().to_owned();
    // Claude Code sent all 400 lines; the upstream got the ends, the error and a marker.
    assert!(log_output.contains("GET /items/0 200") && log_output.contains("GET /items/399 200"));
    assert!(log_output.contains("ERROR db: connection refused to 10.0.0.5:5432"));
    assert!(!log_output.contains("GET /items/100 200"), "{log_output}");
    assert!(log_output.contains("lines omitted") && log_output.contains("full output: "));
    // Claude Code was allowed to read the original where the marker points, and its Read result
    // went upstream whole: every line, with Claude Code's line numbers.
    let read = last[1].1.to_string();
    let kept: Vec<String> = std::fs::read_dir(dir.path("headroom/originals"))
        .map(|entries| {
            entries
                .filter_map(|entry| Some(entry.ok()?.path().display().to_string()))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        read.contains("GET /items/100 200") && read.contains("GET /items/399 200"),
        "{read}\nmarker: {log_output}\noriginals: {kept:?}"
    );
    assert!(!read.contains("omitted"), "{read}");
    // Later turns replay exactly the same bytes for the first output: the cached prefix holds.
    assert_eq!(last[0], first[0]);
    assert!(
        last[2].1.to_string().contains("tooloutputok"),
        "small outputs pass unchanged"
    );

    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "claude-opus-5-5");
    assert!(row["tokens_saved"].as_u64().unwrap() > 5000, "{row}");
    assert_eq!(row["retrievals"], 1, "{row}");
    assert!(row["retrieved_tokens"].as_u64().unwrap() > 5000, "{row}");
    assert_eq!(summary["compression"]["log"]["outputs"], 1, "{summary}");
}

/// The processes whose command line holds `marker`.
fn processes_with(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(marker))
        })
        .collect()
}

/// headroom killed with SIGKILL while the real Codex waits on an answer: npm's `codex` launcher
/// and the native binary behind it both go, rather than running on against a closed port.
#[test]
fn codex_and_its_launcher_die_with_a_killed_headroom() {
    let Some(codex) = client("codex") else {
        return;
    };
    let upstream = MockUpstream::start("", |_| Reply::Hang);
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("home/codex")).unwrap();
    let marker = format!("headroom-kill-test-{}", std::process::id());
    let mut headroom = std::process::Command::new(env!("CARGO_BIN_EXE_headroom"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", dir.path("home"))
        .env("CODEX_HOME", dir.path("home/codex"))
        .env("OPENAI_API_KEY", "sk-test")
        .env("OPENAI_TARGET_API_URL", format!("{}/v1", upstream.url))
        .current_dir(dir.path("home"))
        .args(["--quiet", "wrap", "codex", "--agent-bin"])
        .arg(&codex)
        .args(["--", "exec", "--skip-git-repo-check", &marker])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    // The launcher and the native binary (or the binary alone, where Node execs it).
    while upstream.requests().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "Codex never sent its request"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!processes_with(&marker).is_empty());
    headroom.kill().unwrap();
    headroom.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let left = processes_with(&marker);
        if left.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after headroom died: {left:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// An unsigned JWT (Codex decodes its payload and checks no signature).
fn unsigned_jwt(payload: &Value) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let encode = |bytes: &[u8]| {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    };
    format!(
        "{}.{}.sig",
        encode(br#"{"alg":"none","typ":"JWT"}"#),
        encode(payload.to_string().as_bytes())
    )
}

/// The real Codex signed in with a (fake) ChatGPT login: through headroom its requests reach the
/// ChatGPT backend with its own token and account header, and the platform API gets nothing.
#[test]
fn codex_with_a_chatgpt_login_reaches_the_chatgpt_backend() {
    let Some(codex) = client("codex") else { return };
    let platform = MockUpstream::start("", |_| Reply::Json(401, "{}".into()));
    let chatgpt = MockUpstream::start("", |request| {
        if request.method == "GET" {
            return Reply::Json(200, json!({"models": []}).to_string());
        }
        responses_reply(
            "gpt-6.1-sol",
            json!({"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"signed in ok","annotations":[]}]}),
            json!({"input_tokens": 800, "output_tokens": 20, "total_tokens": 820}),
        )
    });
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("home/codex")).unwrap();
    let claims = json!({"chatgpt_account_id": "acct_test", "chatgpt_plan_type": "plus", "chatgpt_user_id": "user_test"});
    let id_token = unsigned_jwt(
        &json!({"email": "t@example.com", "exp": 4_102_444_800u64, "https://api.openai.com/auth": claims}),
    );
    let access_token =
        unsigned_jwt(&json!({"exp": 4_102_444_800u64, "https://api.openai.com/auth": claims}));
    let auth = json!({"OPENAI_API_KEY": null, "tokens": {"id_token": id_token, "access_token": access_token,
        "refresh_token": "refresh-test", "account_id": "acct_test"}, "last_refresh": "2026-11-30T00:00:00Z"});
    std::fs::write(dir.path("home/codex/auth.json"), auth.to_string()).unwrap();
    let output = run_codex(
        &dir,
        &codex,
        &[
            ("CHATGPT_TARGET_API_URL", &chatgpt.url),
            ("OPENAI_TARGET_API_URL", &platform.url),
        ],
        &[],
        "say ok",
    );
    let stdout = succeeded(&output);
    assert!(stdout.contains("signed in ok"), "{stdout}");
    assert!(
        platform.requests().is_empty(),
        "the platform API got a ChatGPT token"
    );
    let posted: Vec<Recorded> = chatgpt
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST")
        .collect();
    assert_eq!(posted[0].path_and_query, "/responses");
    assert_eq!(
        posted[0].header("authorization"),
        Some(format!("Bearer {access_token}").as_str())
    );
    assert_eq!(posted[0].header("chatgpt-account-id"), Some("acct_test"));
    for header in ["originator", "session-id", "x-client-request-id"] {
        assert!(
            posted[0].header(header).is_some(),
            "{header} missing: {:?}",
            posted[0].headers
        );
    }
    for listed in chatgpt.requests().iter().filter(|r| r.method == "GET") {
        assert!(
            listed.path_and_query.starts_with("/models?client_version="),
            "{}",
            listed.path_and_query
        );
    }
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.path("summary.json")).unwrap()).unwrap();
    let answered: Vec<&Value> = summary["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|request| request["usage"]["input_tokens"] == 800)
        .collect();
    assert!(!answered.is_empty(), "{summary:#}");
    assert!(
        answered
            .iter()
            .all(|request| request["billing"] == "subscription"),
        "{summary:#}"
    );
    assert_eq!(summary["totals"]["cost_usd"], 0.0, "{summary:#}");
}

/// Claude Code on a Claude plan (`CLAUDE_CODE_OAUTH_TOKEN`): its OAuth bearer passes through to
/// Anthropic untouched, every request is recorded as plan usage, and the table marks its cost as
/// API-equivalent instead of adding it to billed dollars.
#[test]
fn claude_code_on_a_claude_plan_is_forwarded_with_its_token_and_counted_as_plan_usage() {
    let Some(claude) = client("claude") else {
        return;
    };
    let usage = json!({"input_tokens": 90, "cache_read_input_tokens": 20000, "output_tokens": 30});
    let upstream = MockUpstream::start("", claude_tool_session("claude-sonnet-5-5", usage));
    let dir = Dir::new();
    let token = "sk-ant-oat01-test-plan-token";
    let output = run_claude(
        &dir,
        &claude,
        &[
            ("CLAUDE_CODE_OAUTH_TOKEN", token),
            ("ANTHROPIC_TARGET_API_URL", &upstream.url),
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "claude failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains("tooloutputok"), "{stdout}");
    let messages: Vec<_> = upstream
        .requests()
        .into_iter()
        .filter(|request| request.path_and_query.starts_with("/v1/messages"))
        .collect();
    assert!(!messages.is_empty());
    for request in &messages {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {token}").as_str())
        );
        assert!(
            request
                .header("anthropic-beta")
                .is_some_and(|flags| flags.contains("oauth-")),
            "{:?}",
            request.headers
        );
    }
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.path("summary.json")).unwrap()).unwrap();
    let requests = summary["requests"].as_array().unwrap();
    assert!(
        requests
            .iter()
            .all(|request| request["billing"] == "subscription"),
        "{summary:#}"
    );
    let totals = &summary["totals"];
    assert_eq!(totals["cost_usd"], 0.0, "{totals}");
    assert_eq!(totals["plan"]["requests"], requests.len(), "{totals}");
    assert!(
        totals["plan"]["cost_usd"].as_f64().unwrap() > 0.0,
        "{totals}"
    );
    assert!(stderr.contains(" (plan) "), "{stderr}");
    assert!(stderr.contains("(plan): API-equivalent"), "{stderr}");
}

/// The real Claude Code on DeepSeek (`--model deepseek/deepseek-v4-pro`): a tool-use round trip
/// against a mock DeepSeek, every request at DeepSeek's Anthropic-compatible URL with the
/// DeepSeek key and the bare model name, nothing to Anthropic, and neither of the user's Anthropic
/// credentials (an API key, a plan's OAuth token) anywhere.
#[test]
fn claude_code_on_deepseek_runs_a_tool_round_trip_with_only_the_deepseek_key() {
    let Some(claude) = client("claude") else {
        return;
    };
    let anthropic = MockUpstream::start("", |_| Reply::Json(500, "{}".into()));
    let deepseek = MockUpstream::start(
        "/anthropic",
        claude_tool_session(
            "deepseek-v4-pro",
            json!({"input_tokens": 3000, "cache_read_input_tokens": 1000, "output_tokens": 40}),
        ),
    );
    let dir = Dir::new();
    let output = run_claude(
        &dir,
        &claude,
        &[
            ("ANTHROPIC_API_KEY", "sk-ant-user-key"),
            ("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-user-plan"),
            ("DEEPSEEK_API_KEY", "ds-test-key"),
            ("ANTHROPIC_TARGET_API_URL", &anthropic.url),
            ("DEEPSEEK_TARGET_API_URL", &deepseek.url),
        ],
        &["--model", "deepseek/deepseek-v4-pro"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "claude failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains("tooloutputok"), "{stdout}");
    assert!(anthropic.requests().is_empty(), "nothing goes to Anthropic");
    let requests = deepseek.requests();
    assert!(
        requests
            .iter()
            .any(|r| tool_results(r).contains("tooloutputok")),
        "the tool's output went back to DeepSeek"
    );
    for request in &requests {
        assert!(
            request.path_and_query.starts_with("/anthropic/v1/messages"),
            "{}",
            request.path_and_query
        );
        assert_eq!(request.json()["model"], "deepseek-v4-pro");
        assert_eq!(request.header("authorization"), Some("Bearer ds-test-key"));
        let everything = request.everything();
        assert!(!everything.contains("sk-ant-user-key"));
        assert!(!everything.contains("sk-ant-oat01-user-plan"));
    }
    let summary = dir.read_json("summary.json");
    let row = summary_row(&summary, "deepseek-v4-pro");
    assert_eq!(row["provider"], "deepseek");
    assert!(row["cost_usd"].as_f64().unwrap() > 0.0, "priced: {row}");
    assert!(
        summary["requests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|request| request["billing"] == "api"),
        "the DeepSeek key bills it: {summary:#}"
    );
}

/// Runs `tmux` with these arguments.
fn tmux(args: &[&str]) -> std::process::Output {
    std::process::Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux runs")
}

/// The real Claude Code, interactive, in a tmux terminal through `headroom wrap claude`: after
/// one answer its status bar shows headroom's segment with the session's cost from the proxy.
/// The temporary HOME's `.claude.json` is seeded so that no onboarding or trust prompt stops it.
#[test]
fn claude_code_shows_headroom_figures_in_its_status_line_in_a_real_terminal() {
    let Some(claude) = client("claude") else {
        return;
    };
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("HEADROOM_REQUIRE_REAL_CLIENTS").is_none(),
            "tmux is missing; run `bash .ci/install-clients`"
        );
        eprintln!("skipped: tmux not installed");
        return;
    }
    let usage =
        json!({"input_tokens": 1200, "cache_read_input_tokens": 30000, "output_tokens": 40});
    let upstream = MockUpstream::start("", move |_| {
        anthropic_reply(
            "claude-opus-5-5",
            json!({"type": "text", "text": "Hello from the mock."}),
            usage.clone(),
            "end_turn",
        )
    });
    let dir = Dir::new();
    let project = dir.path("home/proj");
    std::fs::create_dir_all(&project).unwrap();
    let seeded = json!({
        "hasCompletedOnboarding": true, "lastOnboardingVersion": "2.1.331", "numStartups": 5,
        "theme": "dark",
        "projects": {project.display().to_string(): {"hasTrustDialogAccepted": true,
                      "hasCompletedProjectOnboarding": true, "allowedTools": []}},
        "customApiKeyResponses": {"approved": ["test-key-0123456789"], "rejected": []}
    });
    std::fs::write(dir.path("home/.claude.json"), seeded.to_string()).unwrap();
    let session = format!("headroom-test-{}", std::process::id());
    let command = format!(
        "cd {} && env -i PATH={} HOME={} TERM=xterm-256color ANTHROPIC_API_KEY=test-key-0123456789 \
         ANTHROPIC_TARGET_API_URL={} CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 HEADROOM_HOME={} \
         {} wrap claude --agent-bin {}; sleep 60",
        project.display(),
        std::env::var("PATH").unwrap(),
        dir.path("home").display(),
        upstream.url,
        dir.path("headroom-home").display(),
        assert_cmd::cargo::cargo_bin("headroom").display(),
        claude.display()
    );
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "160",
        "-y",
        "40",
        &command,
    ]);
    assert!(started.status.success(), "{started:?}");
    let screen = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).into_owned()
    };
    let wait_for = |what: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let shown = screen();
            if shown.contains(what) || std::time::Instant::now() > deadline {
                return shown;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    };
    let ready = wait_for("❯");
    tmux(&["send-keys", "-t", &session, "say hello", "Enter"]);
    // 1,200 in at $4, 30,000 cache reads at $0.20, 40 out at $20 per MTok: $0.0116.
    let expected = "claude-opus-5-5 via anthropic · $0.01 · cache 96%";
    let shown = wait_for(expected);
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/statusline");
    let _ = std::fs::create_dir_all(&shots);
    let _ = std::fs::write(shots.join("claude-code-pane.txt"), &shown);
    tmux(&["kill-session", "-t", &session]);
    assert!(
        ready.contains('❯'),
        "Claude Code never became ready:\n{ready}"
    );
    assert!(shown.contains("Hello from the mock."), "{shown}");
    assert!(shown.contains(expected), "the status line:\n{shown}");
    assert!(
        upstream
            .requests()
            .iter()
            .any(|r| r.path_and_query.starts_with("/v1/messages")),
        "the answer came through headroom"
    );
}

/// The real Claude Code, wrapped with OpenTelemetry export on: the receiver gets headroom's
/// metrics, and their cost and tokens equal the session summary's.
#[test]
fn a_real_claude_code_session_is_exported_to_an_otlp_receiver() {
    let Some(claude) = client("claude") else {
        return;
    };
    let usage = json!({"input_tokens": 120, "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 30000, "output_tokens": 40});
    let upstream = MockUpstream::start("", claude_tool_session("claude-opus-5-5", usage));
    let receiver = MockUpstream::start("", |_| Reply::Json(200, "{}".into()));
    let dir = Dir::new();
    let output = run_claude(
        &dir,
        &claude,
        &[
            ("ANTHROPIC_API_KEY", "sk-ant-test-key"),
            ("ANTHROPIC_TARGET_API_URL", &upstream.url),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.url),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=platform"),
        ],
        &[],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = dir.read_json("summary.json");
    let exports = crate::telemetry::metrics_of(&receiver);
    assert!(!exports.is_empty(), "nothing exported");
    let cost = crate::telemetry::total(&exports, "headroom.cost", ("", ""));
    assert!(
        (cost - summary["totals"]["cost_usd"].as_f64().unwrap()).abs() < 1e-9,
        "{cost} {summary:#}"
    );
    let output_tokens = crate::telemetry::total(
        &exports,
        "gen_ai.client.token.usage",
        ("gen_ai.token.type", "output"),
    );
    assert_eq!(
        output_tokens,
        summary["totals"]["output_tokens"].as_f64().unwrap()
    );
    for export in &exports {
        assert_eq!(
            export.resource_metrics[0].scope_metrics[0]
                .scope
                .as_ref()
                .unwrap()
                .name,
            "headroom"
        );
    }
}
