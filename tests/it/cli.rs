use crate::support::{Dir, headroom};

#[test]
fn version_and_help_teach_the_exit_codes() {
    let version = headroom().arg("--version").output().unwrap();
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("headroom "));
    let output = headroom().args(["wrap", "--help"]).output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success());
    for needle in [
        "--model",
        "--agent-bin",
        "--summary",
        "127",
        "128+N",
        "minimax/MiniMax-M3",
    ] {
        assert!(
            help.contains(needle),
            "`{needle}` missing from wrap --help:\n{help}"
        );
    }
}

#[test]
fn committed_completions_and_man_page_are_fresh() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = [
        (vec!["completions", "bash"], "completions/headroom.bash"),
        (vec!["completions", "zsh"], "completions/_headroom"),
        (vec!["completions", "fish"], "completions/headroom.fish"),
        (vec!["man"], "man/headroom.1"),
    ];
    for (args, file) in cases {
        let generated = headroom().args(&args).output().unwrap().stdout;
        let committed = std::fs::read(root.join(file)).unwrap();
        assert!(
            generated == committed,
            "{file} is stale: regenerate it with `headroom {}`",
            args.join(" ")
        );
    }
}

#[test]
fn missing_agent_exits_127_with_install_hint() {
    let dir = Dir::new();
    let assert = headroom()
        .env("PATH", dir.path("empty"))
        .args(["wrap", "claude", "--", "-p", "hi"])
        .assert()
        .code(127);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("`claude` was not found on PATH"),
        "{stderr}"
    );
    assert!(
        stderr.contains("npm install -g @anthropic-ai/claude-code"),
        "{stderr}"
    );

    let assert = headroom()
        .args(["wrap", "codex", "--agent-bin"])
        .arg(dir.path("nope"))
        .assert()
        .code(127);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("npm install -g @openai/codex"), "{stderr}");
}

#[test]
fn agent_that_cannot_execute_exits_126() {
    let dir = Dir::new();
    let agent = dir.write("agent", "#!/bin/sh\nexit 0\n");
    headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .args(["wrap", "claude", "--agent-bin"])
        .arg(&agent)
        .assert()
        .code(126);
}

#[test]
fn minimax_model_without_key_is_a_usage_error() {
    let dir = Dir::new();
    let agent = dir.write("agent", "#!/bin/sh\nexit 0\n");
    let assert = headroom()
        .args([
            "wrap",
            "claude",
            "--model",
            "minimax/MiniMax-M3",
            "--agent-bin",
        ])
        .arg(&agent)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("MINIMAX_API_KEY is not set"), "{stderr}");
    assert!(stderr.contains("hint: export MINIMAX_API_KEY"), "{stderr}");
}

#[test]
fn agent_flags_need_the_double_dash() {
    headroom()
        .args(["wrap", "claude", "-p", "hi"])
        .assert()
        .code(2);
}

#[test]
fn table_is_plain_off_a_terminal_or_with_no_color_and_rich_when_forced() {
    let upstream = crate::support::MockUpstream::start("", |_| {
        crate::support::Reply::Json(
            200,
            r#"{"model":"claude-opus-5-5","usage":{"input_tokens":3,"output_tokens":1}}"#.into(),
        )
    });
    let dir = Dir::new();
    let agent = crate::support::stub_agent();
    let plan = r#"{"requests": [{"path": "/v1/messages", "body": {"model": "claude-opus-5-5"}}]}"#;
    let plan = dir.write("plan.json", plan);
    let run = |extra: &[&str], no_color: bool| {
        let mut command = headroom();
        command
            .env("HEADROOM_HOME", dir.path("home"))
            .env("STUB_PLAN", &plan)
            .env("STUB_OUT", dir.path("stub.json"))
            .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
            .env("ANTHROPIC_API_KEY", "sk");
        if no_color {
            command.env("NO_COLOR", "1");
        }
        let output = command
            .args(extra)
            .args(["wrap", "claude", "--agent-bin"])
            .arg(&agent)
            .output()
            .unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stderr).unwrap()
    };
    assert!(
        run(&[], false).contains("| Total"),
        "plain ASCII table off a terminal"
    );
    assert!(run(&["--color", "auto"], true).contains("| Total"));
    let rich = run(&["--color", "always"], true);
    assert!(
        rich.contains('│') && rich.contains("\u{1b}["),
        "box drawing and bold with --color always: {rich}"
    );
    assert!(!run(&["--color", "never"], false).contains('\u{1b}'));
}
