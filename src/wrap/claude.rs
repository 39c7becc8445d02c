//! Claude Code: its binary, how to install it, and the environment that points it at the proxy.
//! The user's own login (API key, auth token or OAuth) is left alone unless the session runs on
//! another provider (MiniMax, DeepSeek…), where no Anthropic credential may leave the machine.

use super::Session;
use super::child::Launch;
use crate::env;

/// The executable looked up on PATH.
pub const PROGRAM: &str = "claude";
/// How to install it.
pub const INSTALL: &str = "npm install -g @anthropic-ai/claude-code";

/// The command for Claude Code on this session, with the user's arguments after ours.
/// `on_provider`: the model runs on a provider of the table (MiniMax, DeepSeek…), not Anthropic.
pub fn launch(
    session: &Session,
    model: Option<&str>,
    on_provider: bool,
    user_args: &[String],
) -> Launch {
    let mut args = Vec::new();
    if let Some(settings) = settings(session) {
        // `--settings` takes one value (unlike the variadic `--add-dir`, which would swallow a
        // prompt after it), is read before any subcommand, and adds to the user's own settings
        // files without editing them; a `--settings` of the user's own comes later and wins.
        args.extend(["--settings".to_owned(), settings]);
    }
    args.extend_from_slice(user_args);
    let mut launch = Launch::new(session.program.clone(), args);
    launch.set(env::ANTHROPIC_BASE_URL, session.base_url.expose());
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

/// Settings for this session: the originals folder as a directory Claude Code may read without
/// asking (else it refuses, or prompts for, files outside its working directories, and a marker
/// pointing there would be a dead end).
fn settings(session: &Session) -> Option<String> {
    let originals = session.originals.as_ref()?;
    let settings = serde_json::json!({
        "permissions": {"additionalDirectories": [originals.display().to_string()]}
    });
    Some(settings.to_string())
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
        let launch = launch(&session(), None, false, &["-p".into(), "hi".into()]);
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
        let launch = launch(&session, None, false, &["mcp".into(), "list".into()]);
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
    fn minimax_model_pins_every_model_and_hides_the_anthropic_key() {
        let launch = launch(&session(), Some("minimax/MiniMax-M3"), true, &[]);
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
