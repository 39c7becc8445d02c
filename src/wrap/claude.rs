//! Claude Code: its binary, how to install it, and the environment that points it at the proxy.
//! The user's own login (API key, auth token or OAuth) is left alone unless the session runs on
//! MiniMax, where no Anthropic credential may leave the machine.

use super::Session;
use super::child::Launch;
use crate::env;
use crate::proxy::route::is_minimax_model;

/// The executable looked up on PATH.
pub const PROGRAM: &str = "claude";
/// How to install it.
pub const INSTALL: &str = "npm install -g @anthropic-ai/claude-code";

/// The command for Claude Code on this session, with the user's arguments after ours (none).
pub fn launch(session: &Session, model: Option<&str>, user_args: &[String]) -> Launch {
    let mut launch = Launch::new(session.program.clone(), user_args.to_vec());
    launch.set(env::ANTHROPIC_BASE_URL, session.base_url.expose());
    let Some(model) = model else {
        return launch;
    };
    launch.set(env::ANTHROPIC_MODEL, model);
    if is_minimax_model(model) {
        // Background calls (titles, summaries, haiku-class helpers) must stay on MiniMax too.
        for name in env::ANTHROPIC_BACKGROUND_MODELS {
            launch.set(name, model);
        }
        // Claude Code needs some credential to start; the session secret is worthless outside this
        // proxy, which swaps in MINIMAX_API_KEY upstream and never forwards the secret.
        launch.set(env::ANTHROPIC_AUTH_TOKEN, session.secret.expose());
        launch.remove(env::ANTHROPIC_API_KEY);
    }
    launch
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
        }
    }

    #[test]
    fn points_claude_at_the_proxy_and_keeps_the_users_login() {
        let launch = launch(&session(), None, &["-p".into(), "hi".into()]);
        assert_eq!(launch.args, ["-p", "hi"]);
        assert_eq!(
            launch.env_value(env::ANTHROPIC_BASE_URL),
            Some("http://127.0.0.1:9/s/abc")
        );
        assert!(launch.removed.is_empty());
        assert_eq!(launch.env_value(env::ANTHROPIC_MODEL), None);
    }

    #[test]
    fn minimax_model_pins_every_model_and_hides_the_anthropic_key() {
        let launch = launch(&session(), Some("minimax/MiniMax-M3"), &[]);
        assert_eq!(
            launch.env_value(env::ANTHROPIC_MODEL),
            Some("minimax/MiniMax-M3")
        );
        for name in env::ANTHROPIC_BACKGROUND_MODELS {
            assert_eq!(launch.env_value(name), Some("minimax/MiniMax-M3"), "{name}");
        }
        assert_eq!(launch.env_value(env::ANTHROPIC_AUTH_TOKEN), Some("abc"));
        assert_eq!(launch.removed, [env::ANTHROPIC_API_KEY]);
    }
}
