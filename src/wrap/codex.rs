//! Codex CLI: its binary, how to install it, and the `-c` overrides that point it at the proxy.
//! headroom never edits `~/.codex/config.toml`; overrides go before the user's own arguments.

use std::path::PathBuf;

use super::Session;
use super::child::Launch;
use crate::env;
use crate::error::Error;
use crate::providers::Resolved;
use crate::proxy::SESSION_HEADER;

/// The executable looked up on PATH.
pub const PROGRAM: &str = "codex";
/// How to install it.
pub const INSTALL: &str = "npm install -g @openai/codex";
/// The provider name headroom registers with Codex.
const PROVIDER: &str = "headroom";

/// How Codex signs in to the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// headroom holds the key (OPENAI_API_KEY, or the `--model` provider's): Codex's bearer is the
    /// session secret, which the proxy replaces with the key upstream.
    Headroom,
    /// The user's own Codex provider: Codex sends the key of its `env_key` variable, which passes
    /// through to that provider's URL.
    Own(String),
    /// Codex signs in by itself (`auth.json`, an API key or a ChatGPT login) and that bearer
    /// passes through.
    OpenAi,
}

/// How Codex signs in, given whether `--model` names a provider of the table, whether headroom
/// holds OPENAI_API_KEY, and the user's own Codex provider.
pub fn auth(on_provider: bool, holds_openai_key: bool, own: Option<OwnProvider>) -> Auth {
    if on_provider || holds_openai_key {
        return Auth::Headroom;
    }
    match own.and_then(|own| own.env_key) {
        Some(env_key) => Auth::Own(env_key),
        None => Auth::OpenAi,
    }
}

/// The provider the user's own Codex config selects (`model_provider`), when it is not OpenAI:
/// headroom forwards to its `base_url` instead of replacing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnProvider {
    pub name: String,
    pub base_url: String,
    pub env_key: Option<String>,
}

/// Codex's own configuration, `$CODEX_HOME/config.toml` (default `~/.codex`), read once for
/// everything headroom needs of it; `None` when there is none that parses.
pub fn config() -> Option<toml::Table> {
    std::fs::read_to_string(codex_home()?.join("config.toml"))
        .ok()?
        .parse()
        .ok()
}

/// The user's own Codex provider, from its configuration.
pub fn own_provider(config: Option<&toml::Table>) -> Option<OwnProvider> {
    let config = config?;
    let name = config.get("model_provider")?.as_str()?;
    if name == "openai" || name == PROVIDER {
        return None;
    }
    let provider = config.get("model_providers")?.get(name)?;
    Some(OwnProvider {
        name: name.to_owned(),
        base_url: provider.get("base_url")?.as_str()?.to_owned(),
        env_key: provider
            .get("env_key")
            .and_then(|key| key.as_str())
            .map(str::to_owned),
    })
}

fn codex_home() -> Option<PathBuf> {
    env::var(env::CODEX_HOME)
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|home| home.join(".codex")))
}

/// The command for Codex on this session.
///
/// Codex's argv is visible to every local user (`ps`), so nothing in it may authorize a request:
/// the base URL carries no secret, and Codex sends the session secret from its environment in the
/// session header (`env_http_headers`). Where headroom holds the key (`Auth::Headroom`), Codex's
/// bearer is the session secret too and OPENAI_API_KEY is taken out of its environment.
pub fn launch(
    session: &Session,
    model: Option<&str>,
    provider: Option<Resolved<'_>>,
    auth: &Auth,
    user_args: &[String],
) -> Launch {
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
    match auth {
        Auth::Headroom => {
            overrides.push(format!(
                "model_providers.{PROVIDER}.env_key=\"{}\"",
                env::HEADROOM_SESSION_TOKEN
            ));
            launch.remove(env::OPENAI_API_KEY);
        }
        Auth::Own(env_key) => {
            overrides.push(format!(
                "model_providers.{PROVIDER}.env_key={}",
                toml_string(env_key)
            ));
        }
        Auth::OpenAi => overrides.push(format!(
            "model_providers.{PROVIDER}.requires_openai_auth=true"
        )),
    }
    if let Some(window) =
        provider.and_then(|provider| provider.spec.context_window(provider.upstream_name))
    {
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

/// A TOML string literal (a name from the user's config goes into a `-c` override).
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
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
pub fn check_sign_in(user_args: &[String], config: Option<&toml::Table>) -> Result<(), Error> {
    if env::var(env::CODEX_API_KEY).is_some()
        || user_args
            .first()
            .is_some_and(|arg| NO_SIGN_IN_NEEDED.contains(&arg.as_str()))
    {
        return Ok(());
    }
    let Some(home) = codex_home() else {
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
    let keyring = config
        .and_then(|config| config.get("cli_auth_credentials_store"))
        .and_then(|store| store.as_str())
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
            None,
            &Auth::Headroom,
            &["exec".into(), "-c".into(), "x=1".into()],
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
        let launch = launch(&session(), None, None, &Auth::OpenAi, &[]);
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
        let table = crate::providers::Providers::built_in();
        let model = "minimax/MiniMax-M3";
        let launch = launch(
            &session(),
            Some(model),
            table.resolve(model),
            &Auth::Headroom,
            &["exec".into()],
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
        let minimax = table.get("minimax").unwrap();
        assert_eq!(minimax.context_window("MiniMax-M2.7"), Some(204_800));
        assert_eq!(minimax.context_window("gpt-6.1-sol"), None);
        let zai = table.get("zai").unwrap();
        assert_eq!(zai.context_window("glm-5.3"), Some(1_000_000));
    }

    #[test]
    fn the_users_own_codex_provider_is_kept_with_its_key_variable() {
        let config = r#"
            model = "llama-4"
            model_provider = "corp"
            [model_providers.corp]
            name = "Corp gateway"
            base_url = "https://llm.corp.example/v1"
            env_key = "CORP_KEY"
        "#;
        let config: toml::Table = config.parse().unwrap();
        let own = own_provider(Some(&config)).unwrap();
        assert_eq!(own.base_url, "https://llm.corp.example/v1");
        assert_eq!(
            auth(false, false, Some(own.clone())),
            Auth::Own("CORP_KEY".into())
        );
        assert_eq!(auth(false, true, Some(own)), Auth::Headroom);
        let openai: toml::Table = "model_provider = \"openai\"".parse().unwrap();
        assert_eq!(own_provider(Some(&openai)), None);
        let launch = launch(&session(), None, None, &Auth::Own("CORP_KEY".into()), &[]);
        assert!(
            launch
                .args
                .contains(&"model_providers.headroom.env_key=\"CORP_KEY\"".to_string()),
            "{:?}",
            launch.args
        );
        assert!(launch.removed.is_empty());
    }
}
