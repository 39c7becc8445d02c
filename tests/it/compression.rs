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
        text.len() * 3 < build_log().len(),
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

#[test]
fn an_originals_folder_that_cannot_be_made_means_nothing_lossy_and_a_warning() {
    let upstream = upstream();
    let dir = Dir::new();
    // A file where a folder would have to be: no user, root included, can create the folder.
    let blocker = dir.write("blocker", "a file, not a folder");
    let raw = session_body().to_string();
    let plan = json!({"requests": [{"path": "/v1/messages", "body_raw": raw}]});
    let output = wrap_stub(&dir, "claude", &plan, &[])
        .env("HEADROOM_HOME", blocker.join("home"))
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("headroom: warning: could not create")
            && stderr.contains("only where nothing is left out")
            && stderr.contains("HEADROOM_HOME"),
        "{stderr}"
    );
    // A build log compresses only by leaving lines out, so it goes as the agent sent it.
    assert_eq!(
        String::from_utf8(upstream.requests()[0].body.clone()).unwrap(),
        raw
    );
}

/// Anthropic-style prompt-cache billing on the request bytes (as in benches/session.rs): the
/// longest prefix equal to one written before is read from the cache, the rest up to the
/// `cache_control` breakpoint is written to it, anything after is plain input.
#[derive(Default)]
struct CacheBilling {
    prefixes: Vec<Vec<u8>>,
    usd: f64,
}

impl CacheBilling {
    fn tokens(bytes: &[u8]) -> u64 {
        let text = String::from_utf8_lossy(bytes)
            .replace("\\n", "\n")
            .replace("\\\"", "\"");
        bpe_openai::o200k_base().count(text.as_str()) as u64
    }

    /// Bills one request at claude-opus-5-5 rates: $4 input, $0.20 cache read, $5 5-minute cache
    /// write, $20 output per MTok (https://platform.claude.com/docs/en/about-claude/pricing).
    fn bill(&mut self, body: &[u8]) -> Value {
        let marker = br#","cache_control""#;
        let breakpoint = body
            .windows(marker.len())
            .rposition(|w| w == marker)
            .unwrap();
        let read_len = self
            .prefixes
            .iter()
            .filter(|p| body.starts_with(p))
            .map(Vec::len)
            .max()
            .unwrap_or(0);
        let read = Self::tokens(&body[..read_len]);
        let write = if breakpoint > read_len {
            Self::tokens(&body[read_len..breakpoint])
        } else {
            0
        };
        let input = Self::tokens(&body[read_len.max(breakpoint)..]);
        if breakpoint > read_len {
            self.prefixes.push(body[..breakpoint].to_vec());
        }
        self.usd +=
            (input as f64 * 4.0 + read as f64 * 0.2 + write as f64 * 5.0 + 100.0 * 20.0) / 1e6;
        json!({"input_tokens": input, "cache_read_input_tokens": read, "cache_creation_input_tokens": write, "output_tokens": 100})
    }
}

/// The raw bodies of a Claude-Code-shaped session: one large tool output per turn, the cache
/// marker on the newest one only.
fn cached_session(turns: usize) -> Vec<String> {
    let mut messages = vec![r#"{"role":"user","content":"fix it"}"#.to_owned()];
    let mut bodies = Vec::new();
    for turn in 0..turns {
        let output: String = (0..500)
            .map(|i| format!("[{turn}] line {i}: running step {i} ... ok\n"))
            .collect::<String>()
            + &format!("[{turn}] error: step {turn} failed with code {turn}\n");
        if let Some(last) = messages.last_mut() {
            *last = last.replace(r#","cache_control":{"type":"ephemeral"}"#, "");
        }
        messages.push(format!(r#"{{"role":"assistant","content":[{{"type":"tool_use","id":"t{turn}","name":"Bash","input":{{}}}}]}}"#));
        messages.push(format!(
            r#"{{"role":"user","content":[{{"type":"tool_result","tool_use_id":"t{turn}","content":{},"cache_control":{{"type":"ephemeral"}}}}]}}"#,
            serde_json::to_string(&output).unwrap()
        ));
        bodies.push(format!(
            r#"{{"model":"claude-opus-5-5","max_tokens":100,"messages":[{}]}}"#,
            messages.join(",")
        ));
    }
    bodies
}

#[test]
fn reported_saving_matches_the_difference_a_caching_provider_bills() {
    let bodies = cached_session(5);
    let mut direct = CacheBilling::default();
    for body in &bodies {
        direct.bill(body.as_bytes());
    }
    let proxied = std::sync::Arc::new(std::sync::Mutex::new(CacheBilling::default()));
    let upstream = {
        let proxied = proxied.clone();
        MockUpstream::start("", move |request| {
            let usage = proxied.lock().unwrap().bill(&request.body);
            Reply::Json(
                200,
                json!({"model": "claude-opus-5-5", "usage": usage}).to_string(),
            )
        })
    };
    let dir = Dir::new();
    let requests: Vec<Value> = bodies
        .iter()
        .map(|body| json!({"path": "/v1/messages", "body_raw": body}))
        .collect();
    wrap_stub(&dir, "claude", &json!({"requests": requests}), &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let summary = dir.read_json("summary.json");
    let billed = proxied.lock().unwrap().usd;
    let real_saving = direct.usd - billed;
    let reported = summary["totals"]["saved_usd"].as_f64().unwrap();
    assert!(
        real_saving > 0.3 * direct.usd,
        "compression cut the bill by {real_saving} of {}",
        direct.usd
    );
    assert!(
        (reported - real_saving).abs() <= 0.05 * real_saving,
        "reported ${reported:.5}, billed difference ${real_saving:.5}"
    );
    let cost = summary["totals"]["cost_usd"].as_f64().unwrap();
    assert!(
        (cost - billed).abs() < 1e-9,
        "headroom's cost ${cost} is the bill ${billed}"
    );
}

/// `headroom wrap --compress lossless` (and HEADROOM_COMPRESS=lossless) never leaves anything out:
/// a build log is sent whole, while search results are still grouped by file.
#[test]
fn lossless_mode_rewrites_only_what_can_be_read_back() {
    let grep: String = (0..300)
        .map(|i| {
            format!(
                "src/module_{}/handlers.rs:{}:    let value = compute({i});\n",
                i / 50,
                i + 1
            )
        })
        .collect();
    for (args, env) in [
        (&["--compress", "lossless"][..], None),
        (&[][..], Some("lossless")),
    ] {
        let upstream = upstream();
        let dir = Dir::new();
        let body = json!({"model": "claude-opus-5-5", "max_tokens": 100, "messages": [
            {"role": "user", "content": "look"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cargo build"}},
                {"type": "tool_use", "id": "t2", "name": "Bash", "input": {"command": "grep -rn compute src"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": build_log()},
                {"type": "tool_result", "tool_use_id": "t2", "content": grep}]},
        ]});
        let plan = json!({"requests": [{"path": "/v1/messages", "body": body}]});
        let mut command = wrap_stub(&dir, "claude", &plan, args);
        command
            .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
            .env("ANTHROPIC_API_KEY", "sk");
        if let Some(value) = env {
            command.env("HEADROOM_COMPRESS", value);
        }
        command.assert().success();
        let forwarded = upstream.requests()[0].json();
        let results = &forwarded["messages"][2]["content"];
        assert_eq!(results[0]["content"], build_log(), "a log is only ever cut");
        let grouped = results[1]["content"].as_str().unwrap();
        assert!(
            grouped.contains("\nsrc/module_5/handlers.rs\n251:    let value = compute(250);\n")
                && grouped.contains("\n300:    let value = compute(299);"),
            "{grouped}"
        );
        assert!(!grouped.contains("omitted"));
        assert!(
            !dir.path("home/originals")
                .read_dir()
                .is_ok_and(|mut d| d.next().is_some())
        );
        let summary = dir.read_json("summary.json");
        assert_eq!(summary["compression"]["search"]["outputs"], 1, "{summary}");
        assert_eq!(
            summary["compression"]["search"]["lossy_outputs"], 0,
            "{summary}"
        );
    }
}

#[test]
fn an_unknown_headroom_compress_value_is_a_usage_error() {
    let dir = Dir::new();
    let plan = json!({"requests": []});
    let output = wrap_stub(&dir, "claude", &plan, &[])
        .env("HEADROOM_COMPRESS", "maybe")
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("HEADROOM_COMPRESS=\"maybe\" is not a compression mode")
            && stderr.contains("full, lossless or off"),
        "{stderr}"
    );
}
