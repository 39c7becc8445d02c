//! Claude Code: its binary, how to install it, and the environment that points it at the proxy.
//! The user's own login (API key, auth token or OAuth) is left alone unless the session runs on
//! another provider (MiniMax, DeepSeek…), where no Anthropic credential may leave the machine.

use std::path::{Path, PathBuf};

use super::Session;
use super::child::Launch;
use crate::env;

/// The executable looked up on PATH.
pub const PROGRAM: &str = "claude";
/// How to install it.
pub const INSTALL: &str = "npm install -g @anthropic-ai/claude-code";

/// The command for Claude Code on this session, with the user's arguments after ours.
/// `on_provider`: the model runs on a provider of the table (MiniMax, DeepSeek…), not Anthropic.
/// `statusline`: the command that shows headroom's figures in Claude Code's status line.
pub fn launch(
    session: &Session,
    model: Option<&str>,
    on_provider: bool,
    statusline: Option<&StatusLine>,
    user_args: &[String],
) -> Launch {
    let mut args = Vec::new();
    if let Some(settings) = settings(session, statusline) {
        // `--settings` takes one value (unlike the variadic `--add-dir`, which would swallow a
        // prompt after it), is read before any subcommand, and adds to the user's own settings
        // files without editing them; a `--settings` of the user's own comes later and wins.
        args.extend(["--settings".to_owned(), settings]);
    }
    args.extend_from_slice(user_args);
    let mut launch = Launch::new(session.program.clone(), args);
    launch.set(env::ANTHROPIC_BASE_URL, session.base_url.expose());
    if let Some(own) = statusline.and_then(|line| line.users.as_deref()) {
        launch.set(env::HEADROOM_USER_STATUSLINE, own);
    }
    let Some(model) = model else {
        return launch;
    };
    launch.set(env::ANTHROPIC_MODEL, model);
    if on_provider {
        // Background calls (titles, summaries, haiku-class helpers) must stay on the provider too.
        for name in env::ANTHROPIC_BACKGROUND_MODELS {
            launch.set(name, model);
        }
        // Claude Code needs some credential to start; the session secret is worthless outside this
        // proxy, which swaps in the provider's key upstream and never forwards the secret. The
        // user's own Anthropic credentials have no business in this session at all.
        launch.set(env::ANTHROPIC_AUTH_TOKEN, session.secret.expose());
        launch.remove(env::ANTHROPIC_API_KEY);
        launch.remove(env::CLAUDE_CODE_OAUTH_TOKEN);
    }
    launch
}

/// Claude Code's status line under headroom: `headroom statusline`, and the user's own command
/// it runs first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// The shell command Claude Code runs.
    pub command: String,
    /// The user's own `statusLine` command, if their settings have one.
    pub users: Option<String>,
}

impl StatusLine {
    /// `<this headroom> statusline`, with the user's own status line from the settings files
    /// Claude Code reads in `cwd`.
    pub fn for_this_headroom(cwd: &Path) -> Option<StatusLine> {
        let exe = std::env::current_exe().ok()?;
        Some(StatusLine {
            command: format!("{} statusline", shell_quote(&exe.display().to_string())),
            users: users_statusline(cwd),
        })
    }
}

/// The user's own `statusLine` command: from the user's settings, then the project's shared and
/// local settings in `cwd`, the later overriding the earlier as in Claude Code (managed settings,
/// which override even `--settings`, are not looked at: they would replace headroom's line too).
fn users_statusline(cwd: &Path) -> Option<String> {
    let config = env::var(env::CLAUDE_CONFIG_DIR)
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|home| home.join(".claude")))?;
    [
        config.join("settings.json"),
        cwd.join(".claude/settings.json"),
        cwd.join(".claude/settings.local.json"),
    ]
    .iter()
    .filter_map(|path| std::fs::read(path).ok())
    .filter_map(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
    .filter_map(|settings| {
        let line = &settings["statusLine"];
        (line["type"] == "command")
            .then(|| line["command"].as_str().map(str::to_owned))
            .flatten()
    })
    .next_back()
}

/// `text` as one word for `sh`.
fn shell_quote(text: &str) -> String {
    if text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Settings for this session: the originals folder as a directory Claude Code may read without
/// asking (else it refuses, or prompts for, files outside its working directories, and a marker
/// pointing there would be a dead end), and the status line.
fn settings(session: &Session, statusline: Option<&StatusLine>) -> Option<String> {
    let mut settings = serde_json::Map::new();
    if let Some(originals) = &session.originals {
        settings.insert(
            "permissions".into(),
            serde_json::json!({"additionalDirectories": [originals.display().to_string()]}),
        );
    }
    if let Some(line) = statusline {
        settings.insert(
            "statusLine".into(),
            serde_json::json!({"type": "command", "command": line.command}),
        );
    }
    (!settings.is_empty()).then(|| serde_json::Value::Object(settings).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Secret;

    fn session() -> Session {
        Session {
            program: "claude".into(),
            base_url: Secret::new("http://127.0.0.1:9/s/abc"),
            secret: Secret::new("abc"),
            origin: "http://127.0.0.1:9".into(),
            originals: None,
        }
    }

    #[test]
    fn points_claude_at_the_proxy_and_keeps_the_users_login() {
        let launch = launch(&session(), None, false, None, &["-p".into(), "hi".into()]);
        assert_eq!(launch.args, ["-p", "hi"]);
        assert_eq!(
            launch.env_value(env::ANTHROPIC_BASE_URL),
            Some("http://127.0.0.1:9/s/abc")
        );
        assert!(launch.removed.is_empty());
        assert_eq!(launch.env_value(env::ANTHROPIC_MODEL), None);
    }

    #[test]
    fn claude_may_read_the_originals_folder() {
        let mut session = session();
        session.originals = Some("/home/u/.local/share/headroom/originals".into());
        let launch = launch(&session, None, false, None, &["mcp".into(), "list".into()]);
        assert_eq!(
            launch.args,
            [
                "--settings",
                r#"{"permissions":{"additionalDirectories":["/home/u/.local/share/headroom/originals"]}}"#,
                "mcp",
                "list"
            ]
        );
    }

    #[test]
    fn the_status_line_joins_the_settings_and_the_users_own_line_rides_along() {
        let line = StatusLine {
            command: "'/opt/my tools/headroom' statusline".into(),
            users: Some("~/bin/my-line.sh".into()),
        };
        let launch = launch(&session(), None, false, Some(&line), &[]);
        let settings: serde_json::Value = serde_json::from_str(&launch.args[1]).unwrap();
        assert_eq!(settings["statusLine"]["type"], "command");
        assert_eq!(
            settings["statusLine"]["command"],
            "'/opt/my tools/headroom' statusline"
        );
        assert_eq!(
            launch.env_value(env::HEADROOM_USER_STATUSLINE),
            Some("~/bin/my-line.sh")
        );
        assert_eq!(shell_quote("/usr/bin/headroom"), "/usr/bin/headroom");
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
    }

    #[test]
    fn the_users_statusline_is_found_where_claude_code_looks_the_last_one_winning() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".claude")).unwrap();
        std::fs::write(
            dir.path().join(".claude/settings.json"),
            r#"{"statusLine": {"type": "command", "command": "project-line"}}"#,
        )
        .unwrap();
        assert_eq!(
            users_statusline(dir.path()).as_deref(),
            Some("project-line")
        );
        std::fs::write(
            dir.path().join(".claude/settings.local.json"),
            r#"{"statusLine": {"type": "command", "command": "local-line"}}"#,
        )
        .unwrap();
        assert_eq!(users_statusline(dir.path()).as_deref(), Some("local-line"));
    }

    #[test]
    fn minimax_model_pins_every_model_and_hides_the_anthropic_key() {
        let launch = launch(&session(), Some("minimax/MiniMax-M3"), true, None, &[]);
        assert_eq!(
            launch.env_value(env::ANTHROPIC_MODEL),
            Some("minimax/MiniMax-M3")
        );
        for name in env::ANTHROPIC_BACKGROUND_MODELS {
            assert_eq!(launch.env_value(name), Some("minimax/MiniMax-M3"), "{name}");
        }
        assert_eq!(launch.env_value(env::ANTHROPIC_AUTH_TOKEN), Some("abc"));
        assert_eq!(
            launch.removed,
            [env::ANTHROPIC_API_KEY, env::CLAUDE_CODE_OAUTH_TOKEN]
        );
    }
}
