use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Dir, headroom, stub_agent, wrap_stub};

#[test]
fn agent_args_after_double_dash_pass_verbatim_and_exit_code_passes_through() {
    let dir = Dir::new();
    let plan = json!({"exit_code": 42, "env_dump": ["ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_MODEL"]});
    wrap_stub(
        &dir,
        "claude",
        &plan,
        &["--", "-p", "--model", "x", "--", "-v", "two words"],
    )
    .env("ANTHROPIC_API_KEY", "sk-user")
    .assert()
    .code(42);
    let stub = dir.read_json("stub.json");
    // headroom's own `--settings` (the originals folder Claude Code may read, the status line)
    // comes first; the user's arguments follow, verbatim.
    let originals = dir.path("home/originals").display().to_string();
    let headroom = assert_cmd::cargo::cargo_bin("headroom");
    let statusline = format!("{} statusline", headroom.display());
    assert_eq!(
        stub["argv"],
        json!([
            "--settings",
            json!({"permissions": {"additionalDirectories": [originals]},
                   "statusLine": {"command": statusline, "type": "command"}})
            .to_string(),
            "-p",
            "--model",
            "x",
            "--",
            "-v",
            "two words"
        ])
    );
    let base = stub["env"]["ANTHROPIC_BASE_URL"].as_str().unwrap();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.contains("/s/"),
        "{base}"
    );
    assert_eq!(stub["env"]["ANTHROPIC_API_KEY"], "sk-user");
    assert!(stub["env"]["ANTHROPIC_MODEL"].is_null());
}

#[test]
fn claude_on_minimax_gets_every_model_pinned_and_no_anthropic_key() {
    let dir = Dir::new();
    let vars = [
        "ANTHROPIC_MODEL",
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "ANTHROPIC_SMALL_FAST_MODEL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
    ];
    let plan = json!({"env_dump": vars});
    wrap_stub(&dir, "claude", &plan, &["--model", "MiniMax-M3"])
        .env("ANTHROPIC_API_KEY", "sk-user")
        .env("MINIMAX_API_KEY", "mm")
        .assert()
        .success();
    let env = &dir.read_json("stub.json")["env"];
    for var in &vars[..5] {
        assert_eq!(env[var], "MiniMax-M3", "{var}");
    }
    assert!(env["ANTHROPIC_API_KEY"].is_null());
    let token = env["ANTHROPIC_AUTH_TOKEN"].as_str().unwrap();
    assert!(env["ANTHROPIC_BASE_URL"].as_str().unwrap().ends_with(token));
}

#[test]
fn codex_gets_provider_overrides_before_user_args() {
    let dir = Dir::new();
    let plan = json!({});
    wrap_stub(
        &dir,
        "codex",
        &plan,
        &["--model", "gpt-6.1-sol", "--", "exec", "--json", "hi"],
    )
    .env("OPENAI_API_KEY", "sk-openai")
    .assert()
    .success();
    let argv: Vec<String> =
        serde_json::from_value(dir.read_json("stub.json")["argv"].clone()).unwrap();
    let user = argv.iter().position(|arg| arg == "exec").unwrap();
    assert_eq!(argv[user..], ["exec", "--json", "hi"]);
    assert_eq!(argv[user - 2..user], ["-m", "gpt-6.1-sol"]);
    assert!(argv.contains(&"model_provider=\"headroom\"".to_owned()));
    assert!(
        argv.contains(&"model_providers.headroom.env_key=\"HEADROOM_SESSION_TOKEN\"".to_owned())
    );
    assert!(argv.iter().any(|arg| {
        arg.starts_with("model_providers.headroom.base_url=\"http://127.0.0.1:")
            && arg.ends_with("/v1\"")
            && !arg.contains("/s/")
    }));
}

fn write_script(dir: &Dir, name: &str, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.write(name, &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn wait_for(path: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn_wrapped(dir: &Dir, agent: &std::path::Path) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("headroom"))
        .env("HEADROOM_HOME", dir.path("home"))
        .args(["--quiet", "wrap", "claude", "--agent-bin"])
        .arg(agent)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &std::process::Child, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
}

#[test]
fn sigterm_and_sighup_are_forwarded_and_the_agents_code_comes_back() {
    for (sig, code) in [
        (nix::sys::signal::Signal::SIGTERM, 7),
        (nix::sys::signal::Signal::SIGHUP, 8),
    ] {
        let dir = Dir::new();
        let ready = dir.path("ready");
        let name = format!("{sig:?}");
        let agent = write_script(
            &dir,
            "agent",
            &format!(
                "trap 'exit {code}' {}\necho > {}\nwhile true; do sleep 0.05; done",
                &name[3..],
                ready.display()
            ),
        );
        let mut child = spawn_wrapped(&dir, &agent);
        wait_for(&ready);
        signal(&child, sig);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{name}");
    }
}

#[test]
fn headroom_survives_sigint_and_the_agent_decides() {
    // Without a terminal the SIGINT cannot have reached the agent by itself, so headroom forwards it.
    let dir = Dir::new();
    let ready = dir.path("ready");
    let agent = write_script(
        &dir,
        "agent",
        &format!(
            "trap 'exit 5' INT\necho > {}\nwhile true; do sleep 0.05; done",
            ready.display()
        ),
    );
    let mut child = spawn_wrapped(&dir, &agent);
    wait_for(&ready);
    signal(&child, nix::sys::signal::Signal::SIGINT);
    assert_eq!(child.wait().unwrap().code(), Some(5));
}

#[test]
fn agent_killed_by_signal_gives_128_plus_n() {
    let dir = Dir::new();
    let agent = write_script(&dir, "agent", "kill -KILL $$");
    headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .args(["wrap", "claude", "--agent-bin"])
        .arg(&agent)
        .assert()
        .code(137);
    let dir = Dir::new();
    let agent = write_script(&dir, "agent", "kill -TERM $$");
    headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .env("OPENAI_API_KEY", "sk")
        .args(["wrap", "codex", "--agent-bin"])
        .arg(&agent)
        .assert()
        .code(143);
}

#[test]
fn stub_agent_is_executable() {
    // The fixtures rely on it; a checkout that lost the bit would make every wrap test fail obscurely.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(stub_agent())
        .unwrap()
        .permissions()
        .mode();
    assert!(
        mode & 0o111 != 0,
        "tests/it/support/stub_agent.py must be executable"
    );
}

/// Codex with neither an API key nor a ChatGPT login is stopped before anything starts, with
/// both ways to sign in named; each way of signing in lets it start.
#[test]
fn codex_without_any_sign_in_is_an_error_naming_both_ways() {
    let dir = Dir::new();
    let assert = wrap_stub(&dir, "codex", &json!({}), &[]).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("Codex is not signed in"), "{stderr}");
    assert!(stderr.contains("codex login"), "{stderr}");
    assert!(stderr.contains("OPENAI_API_KEY"), "{stderr}");
    assert!(
        !dir.path("stub.json").exists(),
        "the agent was started anyway"
    );

    wrap_stub(&dir, "codex", &json!({}), &[])
        .env("CODEX_API_KEY", "sk-codex")
        .assert()
        .success();
    let home = dir.path("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("auth.json"),
        json!({"OPENAI_API_KEY": null, "tokens": {"access_token": "t", "account_id": "a"}})
            .to_string(),
    )
    .unwrap();
    wrap_stub(&dir, "codex", &json!({}), &[])
        .env("CODEX_HOME", &home)
        .assert()
        .success();
    // `codex login` itself needs no sign-in.
    std::fs::remove_file(home.join("auth.json")).unwrap();
    wrap_stub(&dir, "codex", &json!({}), &["--", "login"])
        .env("CODEX_HOME", &home)
        .assert()
        .success();
}

/// A summary that cannot be written where asked (a read-only HEADROOM_HOME, `--summary` naming a
/// directory) goes to a fallback place, 0600, said on stderr; `headroom report` counts it there,
/// and the agent's exit code is kept. A session that sent nothing is neither shown nor saved.
#[test]
fn an_unwritable_summary_goes_to_a_fallback_that_report_reads() {
    use std::os::unix::fs::PermissionsExt;
    let upstream = crate::support::MockUpstream::start("", |_| {
        crate::support::Reply::Json(
            200,
            json!({"model": "claude-opus-5-5", "usage": {"input_tokens": 10, "output_tokens": 2}})
                .to_string(),
        )
    });
    let dir = Dir::new();
    // `--summary` (wrap_stub's summary.json) names a directory: the write fails.
    std::fs::create_dir_all(dir.path("summary.json")).unwrap();
    let plan = json!({"requests": [{"path": "/v1/messages", "body": {"model": "claude-opus-5-5"}}], "exit_code": 7});
    let assert = wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .env("XDG_STATE_HOME", dir.path("state"))
        .assert()
        .code(7);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("written to"), "{stderr}");
    assert!(stderr.contains("instead"), "{stderr}");
    let fallback = dir.path("state/headroom/sessions");
    let files: Vec<_> = std::fs::read_dir(&fallback)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let output = headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .env("XDG_STATE_HOME", dir.path("state"))
        .args(["report", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["sessions"], 1, "{report}");

    // Nothing sent: nothing shown, nothing saved.
    let dir = Dir::new();
    let assert = headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .env("STUB_PLAN", dir.write("plan.json", "{}"))
        .env("STUB_OUT", dir.path("stub.json"))
        .args(["wrap", "claude", "--agent-bin"])
        .arg(stub_agent())
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("no requests went through headroom"),
        "{stderr}"
    );
    assert!(!stderr.contains("Total"), "{stderr}");
    let saved = std::fs::read_dir(dir.path("home/sessions"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(saved, 0, "nothing saved, not even a journal");
}

/// `--no-statusline` keeps headroom out of Claude Code's status line: no statusLine in the
/// settings it passes, no user line variable.
#[test]
fn no_statusline_leaves_claude_codes_status_line_alone() {
    let dir = Dir::new();
    let plan = json!({"env_dump": ["HEADROOM_USER_STATUSLINE"]});
    wrap_stub(&dir, "claude", &plan, &["--no-statusline"])
        .env("ANTHROPIC_API_KEY", "sk")
        .assert()
        .success();
    let stub = dir.read_json("stub.json");
    let argv = stub["argv"].to_string();
    assert!(!argv.contains("statusLine"), "{argv}");
    assert!(stub["env"]["HEADROOM_USER_STATUSLINE"].is_null());
}

/// An agent that cannot start leaves nothing behind that a report would count, and a mistyped
/// provider prefix is pointed out.
#[test]
fn a_failed_launch_leaves_no_journal_and_an_unknown_prefix_is_warned_about() {
    let dir = Dir::new();
    let agent = dir.write("agent", "#!/bin/sh\nexit 0\n");
    headroom()
        .env("HEADROOM_HOME", dir.path("home"))
        .args(["wrap", "claude", "--agent-bin"])
        .arg(&agent)
        .assert()
        .code(126);
    let left = std::fs::read_dir(dir.path("home/sessions"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "a journal outlived a session that never ran");

    let assert = wrap_stub(
        &dir,
        "claude",
        &json!({}),
        &["--model", "minmax/MiniMax-M3"],
    )
    .env("ANTHROPIC_API_KEY", "sk")
    .assert()
    .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("no provider is named \"minmax\""),
        "{stderr}"
    );
}
