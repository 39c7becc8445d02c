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
        (vec!["man", "wrap"], "man/headroom-wrap.1"),
        (vec!["man", "report"], "man/headroom-report.1"),
        (vec!["man", "providers"], "man/headroom-providers.1"),
        (vec!["man", "statusline"], "man/headroom-statusline.1"),
        (vec!["man", "status"], "man/headroom-status.1"),
        (vec!["man", "completions"], "man/headroom-completions.1"),
        (vec!["man", "man"], "man/headroom-man.1"),
    ];
    for (args, file) in cases {
        let generated = headroom().args(&args).output().unwrap().stdout;
        if file.ends_with(".1") {
            let page = String::from_utf8_lossy(&generated);
            for section in [".SH ENVIRONMENT", ".SH \"EXIT STATUS\""] {
                assert!(page.contains(section), "{file} lacks {section}");
            }
        }
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
fn agent_that_cannot_execute_exits_126_naming_the_real_cause() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    let run = |agent: &std::path::Path| {
        let assert = headroom()
            .env("HEADROOM_HOME", dir.path("home"))
            .args(["wrap", "claude", "--agent-bin"])
            .arg(agent)
            .assert()
            .code(126);
        String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
    };
    let not_executable = dir.write("agent", "#!/bin/sh\nexit 0\n");
    assert!(run(&not_executable).contains("chmod +x"));
    // (`#!/usr/bin/env missing` needs no help: env runs and says what it could not find.)
    for (name, script, cause) in [
        (
            "missing-interpreter",
            "#!/nonexistent/python9\n",
            "its #! line names /nonexistent/python9, which does not exist",
        ),
        (
            "missing-interpreter-with-flags",
            "#! /opt/gone/bash -eu\necho hi\n",
            "its #! line names /opt/gone/bash, which does not exist",
        ),
    ] {
        let agent = dir.write(name, script);
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
        let stderr = run(&agent);
        assert!(stderr.contains(cause), "{stderr}");
        assert!(
            !stderr.contains("npm install"),
            "not reported as a missing agent: {stderr}"
        );
    }
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

/// Runs `headroom report` on a fixture with `env`, stdout and/or stderr on a pseudo-terminal
/// 100 columns wide, and returns what went to stdout.
fn report_through(stdout_on_tty: bool, stderr_on_tty: bool, env: &[(&str, &str)]) -> String {
    use std::io::Read;
    use std::process::Stdio;
    let dir = Dir::new();
    let summary = serde_json::json!({
        "schema_version": 1, "session_id": "tty-test-1", "headroom_version": "0", "agent": "claude",
        "argv": [], "started_at": "2026-11-01T09:00:00Z", "ended_at": "2026-11-01T10:00:00Z",
        "exit_code": 0, "models": [], "totals": {"requests": 0, "failed_requests": 0, "input_tokens": 0,
        "output_tokens": 0, "cache_read_tokens": 0, "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0,
        "tokens_saved": 0, "cost_usd": 0.0, "known_cost_usd": 0.0, "unpriced_requests": 0, "saved_usd": 0.0},
        "requests": [{"provider": "anthropic", "model": "claude-opus-5-5", "status": 200,
            "usage": {"input_tokens": 10, "output_tokens": 2, "cache_read_tokens": 0,
                      "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0},
            "cost_usd": 0.5, "price_source": "test"}]
    });
    let file = dir.write("s.json", &summary.to_string());
    let size = nix::pty::Winsize {
        ws_row: 40,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let out_pty = nix::pty::openpty(&size, None).unwrap();
    let err_pty = nix::pty::openpty(&size, None).unwrap();
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("headroom"));
    command
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CI")
        .env("TERM", "xterm-256color")
        .envs(env.iter().copied())
        .arg("report")
        .arg(&file)
        .stdin(Stdio::null());
    command.stdout(if stdout_on_tty {
        Stdio::from(out_pty.slave)
    } else {
        Stdio::piped()
    });
    command.stderr(if stderr_on_tty {
        Stdio::from(err_pty.slave)
    } else {
        Stdio::null()
    });
    let mut child = command.spawn().unwrap();
    let mut text = String::new();
    if stdout_on_tty {
        drop(command);
        let mut master = std::fs::File::from(out_pty.master);
        let mut bytes = Vec::new();
        // The read ends with EIO once the child has closed the terminal.
        let _ = master.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    } else if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut text).unwrap();
    }
    assert!(child.wait().unwrap().success());
    text
}

/// Colour is decided for the stream the table goes to: a report piped to a file from a terminal
/// gets no escapes and no box drawing; on a terminal it gets both, unless TERM=dumb or NO_COLOR;
/// CLICOLOR_FORCE forces them into a pipe.
#[test]
fn color_follows_the_stream_the_table_goes_to() {
    let piped = report_through(false, true, &[]);
    assert!(
        !piped.contains('\u{1b}') && !piped.contains('│'),
        "{piped:?}"
    );
    assert!(piped.contains("| Total"), "{piped}");
    let on_tty = report_through(true, false, &[]);
    assert!(
        on_tty.contains('\u{1b}') && on_tty.contains('│'),
        "{on_tty:?}"
    );
    let printed = |line: &str| {
        let mut width = 0;
        let mut escape = false;
        for c in line.chars() {
            match (escape, c) {
                (false, '\u{1b}') => escape = true,
                (true, c) if c.is_ascii_alphabetic() => escape = false,
                (true, _) => {}
                (false, '\r') => {}
                (false, _) => width += 1,
            }
        }
        width
    };
    assert!(
        on_tty.lines().all(|line| printed(line) <= 100),
        "fits 100 columns: {on_tty}"
    );
    let dumb = report_through(true, false, &[("TERM", "dumb")]);
    assert!(!dumb.contains('\u{1b}'), "{dumb:?}");
    let no_color = report_through(true, false, &[("NO_COLOR", "1")]);
    assert!(!no_color.contains('\u{1b}'), "{no_color:?}");
    let forced = report_through(false, false, &[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains('\u{1b}'), "{forced:?}");
}

/// The TOML examples in `--help` are real files: copied out as they are shown, each one loads.
#[test]
fn the_toml_examples_in_help_load() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("empty")).unwrap();
    let help = headroom()
        .args(["report", "--help"])
        .output()
        .unwrap()
        .stdout;
    let help = String::from_utf8(help).unwrap();
    for (flag, starts) in [("--prices", "[models."), ("--providers", "[providers.")] {
        let example: String = help
            .lines()
            .skip_while(|line| !line.trim_start().starts_with(starts))
            .take_while(|line| line.starts_with("            ") && !line.trim().is_empty())
            .map(|line| format!("{}\n", line.trim()))
            .collect();
        assert!(
            example.lines().count() > 3,
            "{flag} example not found:\n{help}"
        );
        let file = dir.write("example.toml", &example);
        headroom()
            .env("HEADROOM_HOME", dir.path("home"))
            .args(["report", flag])
            .arg(&file)
            .arg(dir.path("empty"))
            .assert()
            .success();
    }
}
