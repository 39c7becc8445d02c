use serde_json::{Value, json};

use crate::support::{Dir, MockUpstream, Reply, headroom};

/// A schema-1 summary with one request per (provider, model, input, output, cost) entry.
fn summary(
    id: &str,
    agent: &str,
    started_at: &str,
    requests: &[(&str, &str, u64, u64, Option<f64>)],
) -> String {
    let requests: Vec<Value> = requests
        .iter()
        .map(|(provider, model, input, output, cost)| {
            json!({
                "provider": provider, "model": model, "status": 200,
                "usage": {"input_tokens": input, "output_tokens": output, "cache_read_tokens": 0,
                          "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0},
                "cost_usd": cost, "price_source": cost.map(|_| "test"),
            })
        })
        .collect();
    json!({
        "schema_version": 1, "session_id": id, "headroom_version": "0.1.0", "agent": agent,
        "argv": ["headroom"], "started_at": started_at, "ended_at": started_at, "exit_code": 0,
        "models": [], "requests": requests,
        "totals": {"requests": 0, "failed_requests": 0, "input_tokens": 0, "output_tokens": 0,
                   "cache_read_tokens": 0, "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0,
                   "tokens_saved": 0, "cost_usd": 0.0, "known_cost_usd": 0.0, "unpriced_requests": 0, "saved_usd": 0.0},
    })
    .to_string()
}

fn fixture() -> Dir {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("s")).unwrap();
    dir.write(
        "s/a.json",
        &summary(
            "aaaaaaaa0001",
            "claude",
            "2026-11-01T09:00:00Z",
            &[
                ("anthropic", "claude-opus-5-5", 1000, 200, Some(1.25)),
                ("anthropic", "claude-opus-5-5", 3000, 100, Some(0.75)),
            ],
        ),
    );
    dir.write(
        "s/b.json",
        &summary(
            "bbbbbbbb0002",
            "codex",
            "2026-11-02T09:00:00Z",
            &[
                ("openai", "gpt-6.1-sol", 500, 50, Some(0.5)),
                ("openai", "private-model", 10, 1, None),
            ],
        ),
    );
    dir
}

fn report(dir: &Dir, args: &[&str]) -> (Option<i32>, String, String) {
    let output = headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .arg("report")
        .arg(dir.path("s"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn markdown_report_is_ready_for_a_pull_request() {
    let dir = fixture();
    let (code, stdout, _) = report(&dir, &["--format", "markdown"]);
    assert_eq!(code, Some(0));
    insta::assert_snapshot!(stdout, @r"
    ### headroom cost report

    2 sessions, 2026-11-01T09:00:00Z to 2026-11-02T09:00:00Z.

    | Provider | Model | Requests | Input | Output | Cache read | Cache write | Tokens saved | Cost USD | Saved USD |
    | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
    | anthropic | claude-opus-5-5 | 2 | 4,000 | 300 | 0 | 0 | 0 | $2.00 | $0.00 |
    | openai | gpt-6.1-sol | 1 | 500 | 50 | 0 | 0 | 0 | $0.50 | $0.00 |
    | openai | private-model | 1 | 10 | 1 | 0 | 0 | 0 | ? | $0.00 |
    | **Total** |  | 4 | 4,510 | 351 | 0 | 0 | 0 | $2.50 + ? | $0.00 |

    `?`: 1 requests have no known price; add their models to prices.toml to count them.
    ");
}

#[test]
fn json_and_csv_reports_mark_unknown_cost_as_null_or_empty() {
    let dir = fixture();
    let (code, stdout, _) = report(&dir, &["--format", "json", "--by", "agent"]);
    assert_eq!(code, Some(0));
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["by"], "agent");
    assert_eq!(json["sessions"], 2);
    assert_eq!(json["rows"][0]["key"], json!(["claude"]));
    assert_eq!(json["rows"][0]["cost_usd"], 2.0);
    assert_eq!(json["rows"][1]["key"], json!(["codex"]));
    assert!(json["rows"][1]["cost_usd"].is_null());
    assert_eq!(json["rows"][1]["known_cost_usd"], 0.5);
    assert!(json["total"]["cost_usd"].is_null());
    assert_eq!(json["total"]["known_cost_usd"], 2.5);

    let (_, csv, _) = report(&dir, &["--format", "csv", "--by", "provider"]);
    insta::assert_snapshot!(csv, @r"
    provider,requests,failed_requests,input_tokens,output_tokens,cache_read_tokens,cache_write_5m_tokens,cache_write_1h_tokens,tokens_saved,cost_usd,known_cost_usd,unpriced_requests,saved_usd,plan_requests,plan_cost_usd,plan_known_cost_usd,plan_unpriced_requests,plan_saved_usd
    anthropic,2,0,4000,300,0,0,0,0,2,2,0,0,0,0,0,0,0
    openai,2,0,510,51,0,0,0,0,,0.5,1,0,0,0,0,0,0
    total,4,0,4510,351,0,0,0,0,,2.5,1,0,0,0,0,0,0
    ");
}

#[test]
fn corrupt_foreign_and_duplicate_files_are_skipped_with_a_warning() {
    let dir = fixture();
    dir.write("s/corrupt.json", "{\"schema_version\": 1, \"session_id\": ");
    dir.write("s/future.json", "{\"schema_version\": 7}");
    let copy = std::fs::read_to_string(dir.path("s/a.json")).unwrap();
    dir.write("s/z-copy-of-a.json", &copy);
    dir.write("s/notes.txt", "not a summary, not even read");
    let (code, stdout, stderr) = report(&dir, &["--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    for (file, reason) in [
        ("corrupt.json", "not a headroom session summary"),
        ("future.json", "schema version 7 is not supported"),
        ("z-copy-of-a.json", "same session as"),
    ] {
        assert!(
            stderr.lines().any(|line| line.contains("warning: skipping")
                && line.contains(file)
                && line.contains(reason)),
            "no warning for {file}:\n{stderr}"
        );
    }
    assert!(!stderr.contains("notes.txt"));
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["sessions"], 2, "the copy is counted once");
    assert_eq!(json["total"]["requests"], 4);
}

#[test]
fn budget_gate_exits_3_when_over() {
    let dir = fixture();
    let (code, _, stderr) = report(&dir, &["--budget", "2.00"]);
    assert_eq!(code, Some(3));
    assert!(
        stderr.contains("total cost $2.50 is over the budget of $2.00"),
        "{stderr}"
    );
    let (code, _, stderr) = report(&dir, &["--budget", "3"]);
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("1 requests have no known price"),
        "{stderr}"
    );
    let (code, _, stderr) = report(&dir, &["--budget", "lots"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("not an amount in USD"), "{stderr}");
}

#[test]
fn since_filters_by_session_start() {
    let dir = fixture();
    let (_, stdout, _) = report(&dir, &["--format", "json", "--since", "2026-11-02"]);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["sessions"], 1);
    assert_eq!(json["rows"][0]["key"][0], "openai");
    let (code, _, stderr) = report(&dir, &["--since", "whenever"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("hint: use e.g. --since 7d"), "{stderr}");
}

#[test]
fn markdown_is_appended_to_the_github_step_summary() {
    let dir = fixture();
    let step_summary = dir.write("step-summary.md", "earlier step\n");
    let output = headroom()
        .env("GITHUB_STEP_SUMMARY", &step_summary)
        .args(["report", "--format", "markdown"])
        .arg(dir.path("s"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let written = std::fs::read_to_string(&step_summary).unwrap();
    assert!(
        written.starts_with("earlier step\n### headroom cost report"),
        "{written}"
    );
    assert!(written.contains(&String::from_utf8(output.stdout).unwrap()));
}

#[test]
fn reprice_shows_the_same_tokens_on_another_model() {
    let dir = fixture();
    let (_, stdout, _) = report(&dir, &["--reprice", "MiniMax-M2.7"]);
    // MiniMax-M2.7: $0.30 input, $1.20 output per MTok (https://platform.minimax.io/docs/guides/pricing-paygo).
    let expected = (4510.0 * 0.3 + 351.0 * 1.2) / 1e6;
    let line = format!(
        "On MiniMax-M2.7 these sessions would have cost ${expected:.4} instead of $2.50 + ?."
    );
    assert!(stdout.contains(&line), "{line}\n{stdout}");
}

#[test]
fn the_default_report_reads_the_sessions_directory() {
    let dir = Dir::new();
    let (code, _, stderr) = {
        let output = headroom()
            .env("HEADROOM_HOME", dir.path("home"))
            .arg("report")
            .output()
            .unwrap();
        (
            output.status.code(),
            output.stdout,
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    assert_eq!(code, Some(0), "no sessions yet is not an error: {stderr}");

    let upstream = MockUpstream::start("", |_| {
        Reply::Json(200, json!({"model": "claude-opus-5-5", "usage": {"input_tokens": 1000, "output_tokens": 100}}).to_string())
    });
    let plan =
        json!({"requests": [{"path": "/v1/messages", "body": {"model": "claude-opus-5-5"}}]});
    headroom()
        .env("STUB_PLAN", dir.write("plan.json", &plan.to_string()))
        .env("STUB_OUT", dir.path("stub.json"))
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .env("HEADROOM_HOME", dir.path("home"))
        .args(["wrap", "claude", "--agent-bin"])
        .arg(crate::support::stub_agent())
        .assert()
        .success();
    let output = headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .args(["report", "--all", "--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["sessions"], 1);
    // claude-opus-5-5: $4 input, $20 output per MTok.
    let expected = 1000.0 * 4e-6 + 100.0 * 20e-6;
    assert!((json["total"]["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-12);
}

#[test]
fn json_report_snapshot() {
    let dir = fixture();
    let (code, stdout, _) = report(
        &dir,
        &[
            "--format",
            "json",
            "--by",
            "provider",
            "--reprice",
            "MiniMax-M2.7",
        ],
    );
    assert_eq!(code, Some(0));
    // MiniMax-M2.7 at $0.30 input and $1.20 output per MTok: (4,510 x 0.30 + 351 x 1.20) / 1e6,
    // rounded to micro-dollars.
    insta::assert_snapshot!(stdout, @r#"
    {
      "schema_version": 1,
      "by": "provider",
      "sessions": 2,
      "incomplete_sessions": 0,
      "first_started_at": "2026-11-01T09:00:00Z",
      "last_ended_at": "2026-11-02T09:00:00Z",
      "rows": [
        {
          "key": [
            "anthropic"
          ],
          "keys": {
            "provider": "anthropic"
          },
          "requests": 2,
          "failed_requests": 0,
          "input_tokens": 4000,
          "output_tokens": 300,
          "cache_read_tokens": 0,
          "cache_write_5m_tokens": 0,
          "cache_write_1h_tokens": 0,
          "tokens_saved": 0,
          "cost_usd": 2.0,
          "known_cost_usd": 2.0,
          "unpriced_requests": 0,
          "saved_usd": 0.0,
          "estimated_requests": 0,
          "retrievals": 0,
          "retrieved_tokens": 0
        },
        {
          "key": [
            "openai"
          ],
          "keys": {
            "provider": "openai"
          },
          "requests": 2,
          "failed_requests": 0,
          "input_tokens": 510,
          "output_tokens": 51,
          "cache_read_tokens": 0,
          "cache_write_5m_tokens": 0,
          "cache_write_1h_tokens": 0,
          "tokens_saved": 0,
          "cost_usd": null,
          "known_cost_usd": 0.5,
          "unpriced_requests": 1,
          "saved_usd": 0.0,
          "estimated_requests": 0,
          "retrievals": 0,
          "retrieved_tokens": 0
        }
      ],
      "total": {
        "requests": 4,
        "failed_requests": 0,
        "input_tokens": 4510,
        "output_tokens": 351,
        "cache_read_tokens": 0,
        "cache_write_5m_tokens": 0,
        "cache_write_1h_tokens": 0,
        "tokens_saved": 0,
        "cost_usd": null,
        "known_cost_usd": 2.5,
        "unpriced_requests": 1,
        "saved_usd": 0.0,
        "estimated_requests": 0,
        "retrievals": 0,
        "retrieved_tokens": 0
      },
      "reprice": {
        "model": "MiniMax-M2.7",
        "cost_usd": 0.001774,
        "known_cost_usd": 0.001774,
        "unpriced_requests": 0,
        "estimated_requests": 0
      },
      "estimate_rules": []
    }
    "#);
}

/// Plan usage is shown at its API-equivalent price, marked, and kept out of billed dollars: the
/// budget gate counts only what was billed.
#[test]
fn plan_usage_is_marked_and_kept_out_of_billed_dollars_and_the_budget() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("s")).unwrap();
    let mut plan: Value = serde_json::from_str(&summary(
        "cccccccc0003",
        "codex",
        "2026-11-03T09:00:00Z",
        &[
            ("openai", "gpt-6.1-sol", 9000, 900, Some(4.0)),
            ("openai", "gpt-6.1-sol", 500, 50, Some(0.5)),
        ],
    ))
    .unwrap();
    plan["requests"][0]["billing"] = json!("subscription");
    dir.write("s/c.json", &plan.to_string());

    let (code, stdout, _) = report(&dir, &["--format", "markdown", "--budget", "1"]);
    assert_eq!(code, Some(0), "the plan's $4.00 is not billed: {stdout}");
    assert!(stdout.contains("| $0.50 + $4.00 (plan) |"), "{stdout}");
    assert!(stdout.contains("(plan): API-equivalent"), "{stdout}");
    let (code, _, stderr) = report(&dir, &["--budget", "0.25"]);
    assert_eq!(code, Some(3), "the billed $0.50 is over: {stderr}");

    let (_, json, _) = report(&dir, &["--format", "json", "--by", "billing"]);
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["total"]["cost_usd"], 0.5);
    assert_eq!(json["total"]["plan"]["cost_usd"], 4.0);
    assert_eq!(json["rows"][1]["key"], json!(["subscription"]));
    assert_eq!(json["rows"][1]["plan"]["requests"], 1);
}

/// The CI gate fails closed: a corrupt summary, nothing at all, or a summary it cannot read among
/// good ones, is exit 4, not a pass; `--skip-unreadable` accepts skipping them.
#[test]
fn the_budget_gate_fails_closed_on_unreadable_or_missing_data() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("s")).unwrap();
    dir.write("s/corrupt.json", "{\"schema_version\": 1, \"session_id\": ");
    let (code, stdout, stderr) = report(&dir, &["--budget", "0"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(!stdout.contains("$0.00"), "{stdout}");
    assert!(stderr.contains("no readable session summary"), "{stderr}");

    let empty = Dir::new();
    std::fs::create_dir_all(empty.path("s")).unwrap();
    let (code, stdout, stderr) = report(&empty, &["--budget", "5"]);
    assert_eq!(code, Some(4));
    assert!(stdout.is_empty(), "no zero table: {stdout}");
    assert!(
        stderr.contains(&format!(
            "no sessions found in {}",
            empty.path("s").display()
        )),
        "{stderr}"
    );
    let (code, _, stderr) = report(&empty, &[]);
    assert_eq!(code, Some(0), "without a gate, no data is not an error");
    assert!(stderr.contains("no sessions found"), "{stderr}");

    let dir = fixture();
    dir.write("s/future.json", "{\"schema_version\": 7}");
    let (code, _, stderr) = report(&dir, &["--budget", "100"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("--skip-unreadable"), "{stderr}");
    let (code, _, stderr) = report(&dir, &["--budget", "100", "--skip-unreadable"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, _) = report(&dir, &["--budget", "1", "--skip-unreadable"]);
    assert_eq!(code, Some(3));
}

/// The HTML report in a real headless Chromium: the figures the page shows equal the JSON
/// report's, nothing overflows sideways at 1280 or 390 pixels, and a screenshot of each width is
/// kept in target/html-report/ to look at. Skipped (saying so) without Chromium and Playwright's
/// driver, never in CI.
#[test]
fn html_report_in_a_real_browser_shows_the_json_reports_figures() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules = root.join(".clients/node_modules");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !modules.join("playwright-core").exists() || !std::path::Path::new(&chromium).exists() {
        assert!(
            std::env::var_os("HEADROOM_REQUIRE_REAL_CLIENTS").is_none(),
            "chromium or playwright-core missing; run `bash .ci/install-clients`"
        );
        eprintln!(
            "skipped: chromium or playwright-core not installed (run `bash .ci/install-clients`)"
        );
        return;
    }
    let dir = fixture();
    let mut plan: Value = serde_json::from_str(&summary(
        "cccccccc0003",
        "codex",
        "2026-11-03T09:00:00Z",
        &[
            ("openai", "gpt-6.1-sol", 9000, 900, Some(4.0)),
            ("minimax", "MiniMax-M3", 5000, 500, Some(0.25)),
        ],
    ))
    .unwrap();
    plan["requests"][0]["billing"] = json!("subscription");
    plan["compression"] = json!({"log": {"outputs": 2, "tokens_before": 9000, "tokens_after": 2000, "lossy_outputs": 1}});
    dir.write("s/c.json", &plan.to_string());
    let (code, page, stderr) = report(&dir, &["--format", "html"]);
    assert_eq!(code, Some(0), "{stderr}");
    let file = dir.write("report.html", &page);
    let (_, json, _) = report(&dir, &["--format", "json"]);
    let json: Value = serde_json::from_str(&json).unwrap();

    let shots = root.join("target/html-report");
    std::fs::create_dir_all(&shots).unwrap();
    let output = std::process::Command::new("node")
        .arg(root.join("tests/it/support/html_check.mjs"))
        .arg(&modules)
        .arg(&file)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    let close = |a: &Value, b: &Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-9;
    for width in ["1280", "390"] {
        let page = &seen[width];
        assert_eq!(page["overflow"], false, "sideways overflow at {width}px");
        assert!(
            close(&page["cost"], &json["total"]["known_cost_usd"]),
            "{page} {json}"
        );
        assert_eq!(page["requests"], json["total"]["requests"]);
        assert_eq!(page["sessions"], json["sessions"]);
        assert!(close(&page["saved"], &json["total"]["saved_usd"]));
        let rows = page["rows"].as_array().unwrap();
        let expected = json["rows"].as_array().unwrap();
        assert_eq!(rows.len(), expected.len());
        for (shown, row) in rows.iter().zip(expected) {
            assert_eq!(shown["provider"], row["key"][0]);
            assert_eq!(shown["model"], row["key"][1]);
            assert_eq!(shown["requests"], row["requests"]);
            assert!(
                close(&shown["usd"], &row["known_cost_usd"]),
                "{shown} {row}"
            );
        }
        // Plan usage is marked, never added to billed dollars.
        let gpt = rows
            .iter()
            .find(|row| row["model"] == "gpt-6.1-sol")
            .unwrap();
        assert!(gpt["shown"].as_str().unwrap().contains("(plan)"), "{gpt}");
        assert_eq!(page["days"].as_array().unwrap().len(), 3);
        assert_eq!(page["sessionRows"], 3);
    }
    assert!(shots.join("report-1280.png").exists() && shots.join("report-390.png").exists());
}

/// A model shown as `?` gets a price once the user adds it to prices.toml, also for sessions
/// recorded before: the report prices unpriced rows with today's book and says which it priced
/// and from where.
#[test]
fn rows_unpriced_when_recorded_are_priced_by_todays_overrides() {
    let dir = fixture();
    let (_, before, _) = report(&dir, &["--format", "json"]);
    let before: Value = serde_json::from_str(&before).unwrap();
    assert!(before["total"]["cost_usd"].is_null());
    std::fs::create_dir_all(dir.path("home")).unwrap();
    dir.write(
        "home/prices.toml",
        "[models.\"private-model\"]\ninput = 100.0\noutput = 1000.0\n",
    );
    let (code, stdout, stderr) = report(&dir, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    // 10 input and 1 output token at $100 and $1,000 per MTok: $0.002.
    assert!(stdout.contains("$2.50"), "{stdout}");
    assert!(!stdout.contains('?'), "{stdout}");
    assert!(
        stdout.contains(
            "Priced now, not when recorded: 1 request(s) of openai private-model (override ("
        ),
        "{stdout}"
    );
    let (_, after, _) = report(&dir, &["--format", "json"]);
    let after: Value = serde_json::from_str(&after).unwrap();
    let total = after["total"]["cost_usd"].as_f64().unwrap();
    assert!((total - (2.5 + 0.002)).abs() < 1e-9, "{after}");
    assert_eq!(after["priced_later"][0]["model"], "private-model");
}

/// `--until`, `--model`, `--agent`, `--project` narrow what counts; `--tz local` counts days where
/// the user lives.
#[test]
fn filters_narrow_sessions_and_requests_and_days_follow_the_time_zone() {
    let dir = fixture();
    let repo = Dir::new();
    std::fs::create_dir_all(repo.path("app/.git")).unwrap();
    std::fs::create_dir_all(repo.path("other")).unwrap();
    let mut late: Value = serde_json::from_str(&summary(
        "dddddddd0004",
        "claude",
        "2026-11-03T02:30:00Z",
        &[("anthropic", "claude-opus-5-5", 100, 10, Some(0.75))],
    ))
    .unwrap();
    late["project"] = json!(repo.path("app").display().to_string());
    late["cwd"] = json!(repo.path("app/src").display().to_string());
    dir.write("s/d.json", &late.to_string());
    let json = |args: &[&str]| -> Value {
        let (code, stdout, stderr) = report(&dir, &[&["--format", "json"], args].concat());
        assert_eq!(code, Some(0), "{stderr}");
        serde_json::from_str(&stdout).unwrap()
    };
    assert_eq!(json(&[])["sessions"], 3);
    assert_eq!(json(&["--until", "2026-11-02"])["sessions"], 1);
    let codex = json(&["--agent", "codex"]);
    assert_eq!(
        (
            codex["sessions"].clone(),
            codex["total"]["requests"].clone()
        ),
        (json!(1), json!(2))
    );
    let opus = json(&["--model", "OPUS"]);
    assert_eq!(opus["sessions"], 2);
    assert_eq!(opus["total"]["requests"], 3, "only Opus requests count");
    assert!((opus["total"]["known_cost_usd"].as_f64().unwrap() - 2.75).abs() < 1e-9);
    let app = repo.path("app").display().to_string();
    let in_app = json(&["--project", &app]);
    assert_eq!(in_app["sessions"], 1);
    let other = repo.path("other").display().to_string();
    assert_eq!(json(&["--project", &other])["sessions"], 0);

    // 02:30 UTC on the 3rd is still the 2nd in New York.
    let utc = json(&["--by", "day"]);
    assert_eq!(utc["rows"][2]["keys"]["day"], "2026-11-03");
    let output = headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .env("TZ", "America/New_York")
        .args(["report", "--format", "json", "--by", "day", "--tz", "local"])
        .arg(dir.path("s"))
        .output()
        .unwrap();
    let local: Value = serde_json::from_slice(&output.stdout).unwrap();
    let days: Vec<&str> = local["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["keys"]["day"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2026-11-01", "2026-11-02"], "{local}");
}

/// Hand-made summaries need only their requests and real times; a filter that matches nothing
/// says so; an inverted window is a usage error; CSV dollars carry no float noise.
#[test]
fn minimal_summaries_filters_that_match_nothing_and_csv_dollars() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("s")).unwrap();
    let minimal = json!({"schema_version": 1, "session_id": "min1", "headroom_version": "0",
        "agent": "claude", "argv": [], "started_at": "2026-11-01T09:00:00Z",
        "ended_at": "2026-11-01T10:00:00Z", "exit_code": 0,
        "requests": [
            {"provider": "anthropic", "model": "claude-opus-5-5", "status": 200,
             "usage": {"input_tokens": 1, "output_tokens": 1, "cache_read_tokens": 0,
                       "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0},
             "cost_usd": 0.1, "price_source": "test"},
            {"provider": "anthropic", "model": "claude-opus-5-5", "status": 200,
             "usage": {"input_tokens": 1, "output_tokens": 1, "cache_read_tokens": 0,
                       "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0},
             "cost_usd": 0.2, "price_source": "test"}]});
    dir.write("s/min.json", &minimal.to_string());
    let (code, csv, stderr) = report(&dir, &["--format", "csv"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(csv.contains(",0.3,0.3,"), "0.1 + 0.2 written as 0.3: {csv}");
    let (code, _, stderr) = report(&dir, &["--model", "gpt"]);
    assert_eq!(code, Some(0));
    assert!(stderr.contains("none of the 1 sessions found"), "{stderr}");
    let (code, _, stderr) = report(&dir, &["--since", "2026-11-05", "--until", "2026-11-01"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--since is not before --until"), "{stderr}");
}
