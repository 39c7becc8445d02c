//! Codex CLI: its binary, how to install it, and the `-c` overrides that point it at the proxy.
//! headroom never edits `~/.codex/config.toml`; overrides go before the user's own arguments.

use std::path::PathBuf;

use super::Session;
use super::child::Launch;
use crate::env;
use crate::error::Error;
use crate::proxy::SESSION_HEADER;
use crate::proxy::route::{is_minimax_model, upstream_model_name};

/// The executable looked up on PATH.
pub const PROGRAM: &str = "codex";
/// How to install it.
pub const INSTALL: &str = "npm install -g @openai/codex";
/// The provider name headroom registers with Codex.
const PROVIDER: &str = "headroom";

/// The command for Codex on this session.
///
/// Codex's argv is visible to every local user (`ps`), so nothing in it may authorize a request:
/// the base URL carries no secret, and Codex sends the session secret from its environment in the
/// session header (`env_http_headers`). Where headroom holds the key (OPENAI_API_KEY, or a MiniMax
/// model's MINIMAX_API_KEY), Codex's bearer is the session secret too, the proxy sends the real
/// key upstream, and the key is taken out of Codex's environment. Otherwise Codex signs in by
/// itself (its `auth.json`, an API key or a ChatGPT login) and that bearer passes through.
pub fn launch(
    session: &Session,
    model: Option<&str>,
    user_args: &[String],
    has_openai_key: bool,
) -> Launch {
    let minimax = model.is_some_and(is_minimax_model);
    let mut overrides = vec![
        format!("model_provider=\"{PROVIDER}\""),
        format!("model_providers.{PROVIDER}.name=\"{PROVIDER}\""),
        format!(
            "model_providers.{PROVIDER}.base_url=\"{}/v1\"",
            session.origin
        ),
        format!("model_providers.{PROVIDER}.wire_api=\"responses\""),
        format!(
            "model_providers.{PROVIDER}.env_http_headers={{\"{SESSION_HEADER}\"=\"{}\"}}",
            env::HEADROOM_SESSION_TOKEN
        ),
    ];
    let mut launch = Launch::new(session.program.clone(), Vec::new());
    launch.set(env::HEADROOM_SESSION_TOKEN, session.secret.expose());
    if minimax || has_openai_key {
        overrides.push(format!(
            "model_providers.{PROVIDER}.env_key=\"{}\"",
            env::HEADROOM_SESSION_TOKEN
        ));
        launch.remove(env::OPENAI_API_KEY);
    } else {
        overrides.push(format!(
            "model_providers.{PROVIDER}.requires_openai_auth=true"
        ));
    }
    if let Some(window) = model.and_then(minimax_context_window) {
        overrides.push(format!("model_context_window={window}"));
    }
    for value in overrides {
        launch.args.push("-c".into());
        launch.args.push(value);
    }
    if let Some(model) = model {
        launch.args.push("-m".into());
        launch.args.push(model.to_owned());
    }
    launch.args.extend(user_args.iter().cloned());
    launch
}

/// Codex subcommands that need no sign-in (and `login` makes one).
const NO_SIGN_IN_NEEDED: [&str; 7] = [
    "login",
    "logout",
    "help",
    "completion",
    "--help",
    "-h",
    "--version",
];

/// Checks, before anything starts, that Codex can sign in when headroom holds no key for it: an
/// API key (`CODEX_API_KEY`, or `OPENAI_API_KEY` in its `auth.json`) or a ChatGPT login (tokens in
/// `auth.json`). Credentials kept in the system keyring (`cli_auth_credentials_store`) cannot be
/// seen from here, so they are trusted.
pub fn check_sign_in(user_args: &[String]) -> Result<(), Error> {
    if env::var(env::CODEX_API_KEY).is_some()
        || user_args
            .first()
            .is_some_and(|arg| NO_SIGN_IN_NEEDED.contains(&arg.as_str()))
    {
        return Ok(());
    }
    let Some(home) = env::var(env::CODEX_HOME)
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|home| home.join(".codex")))
    else {
        return Ok(());
    };
    let auth = std::fs::read(home.join("auth.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let has = |pointer: &str| {
        auth.as_ref()
            .and_then(|auth| auth.pointer(pointer))
            .and_then(serde_json::Value::as_str)
            .is_some_and(|value| !value.is_empty())
    };
    let keyring = std::fs::read_to_string(home.join("config.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|config| {
            config
                .get("cli_auth_credentials_store")
                .and_then(|store| store.as_str().map(str::to_owned))
        })
        .is_some_and(|store| store != "file");
    if has("/OPENAI_API_KEY") || has("/tokens/access_token") || keyring {
        return Ok(());
    }
    Err(Error::Config {
        message: format!(
            "Codex is not signed in: no {} or {} set, and no sign-in in {}",
            env::OPENAI_API_KEY,
            env::CODEX_API_KEY,
            home.join("auth.json").display()
        ),
        hint: Some(format!(
            "sign in with your ChatGPT plan (`codex login`), or use an API key (`export {}=sk-...`), and run again",
            env::OPENAI_API_KEY
        )),
    })
}

/// What Codex cannot know about a MiniMax model: its usable context window.
///
/// MiniMax-M3 takes 1M tokens but bills input above 512K at twice the rate, and MiniMax's own Codex
/// guide sets `model_context_window = 512000`; other MiniMax models use the price data's window.
fn minimax_context_window(model: &str) -> Option<u64> {
    if !is_minimax_model(model) {
        return None;
    }
    let name = upstream_model_name(model);
    if name.eq_ignore_ascii_case("MiniMax-M3") {
        return Some(512_000);
    }
    crate::pricing::calculator()
        .find_provider(Some("minimax"), None)
        .ok()
        .flatten()?
        .models()
        .find(|info| info.id().eq_ignore_ascii_case(name))?
        .context_window()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Secret;

    fn session() -> Session {
        Session {
            program: "codex".into(),
            base_url: Secret::new("http://127.0.0.1:9/s/abc"),
            secret: Secret::new("abc"),
            origin: "http://127.0.0.1:9".into(),
            originals: None,
        }
    }

    #[test]
    fn overrides_come_before_the_users_arguments_and_hold_no_secret() {
        let launch = launch(
            &session(),
            None,
            &["exec".into(), "-c".into(), "x=1".into()],
            true,
        );
        assert_eq!(
            launch.args,
            [
                "-c",
                "model_provider=\"headroom\"",
                "-c",
                "model_providers.headroom.name=\"headroom\"",
                "-c",
                "model_providers.headroom.base_url=\"http://127.0.0.1:9/v1\"",
                "-c",
                "model_providers.headroom.wire_api=\"responses\"",
                "-c",
                "model_providers.headroom.env_http_headers={\"x-headroom-session\"=\"HEADROOM_SESSION_TOKEN\"}",
                "-c",
                "model_providers.headroom.env_key=\"HEADROOM_SESSION_TOKEN\"",
                "exec",
                "-c",
                "x=1",
            ]
        );
        assert!(
            !launch.args.iter().any(|arg| arg.contains("abc")),
            "the secret is in argv"
        );
        assert_eq!(launch.env_value(env::HEADROOM_SESSION_TOKEN), Some("abc"));
        assert_eq!(
            launch.removed,
            [env::OPENAI_API_KEY],
            "the proxy holds the key"
        );
    }

    #[test]
    fn without_an_openai_key_codex_uses_its_own_login() {
        let launch = launch(&session(), None, &[], false);
        assert!(
            launch
                .args
                .contains(&"model_providers.headroom.requires_openai_auth=true".to_string())
        );
        assert!(!launch.args.iter().any(|arg| arg.contains("env_key")));
        assert!(
            launch
                .args
                .iter()
                .any(|arg| arg.contains("env_http_headers"))
        );
        assert!(launch.removed.is_empty());
    }

    #[test]
    fn minimax_model_uses_the_session_token_and_its_context_window() {
        let launch = launch(
            &session(),
            Some("minimax/MiniMax-M3"),
            &["exec".into()],
            true,
        );
        assert!(
            launch.args.contains(
                &"model_providers.headroom.env_key=\"HEADROOM_SESSION_TOKEN\"".to_string()
            )
        );
        assert!(
            launch
                .args
                .contains(&"model_context_window=512000".to_string())
        );
        assert_eq!(
            launch.args[launch.args.len() - 3..],
            ["-m", "minimax/MiniMax-M3", "exec"]
        );
        assert_eq!(launch.env_value(env::HEADROOM_SESSION_TOKEN), Some("abc"));
        assert_eq!(minimax_context_window("MiniMax-M2.7"), Some(204_800));
        assert_eq!(minimax_context_window("gpt-6.1-sol"), None);
    }
}
