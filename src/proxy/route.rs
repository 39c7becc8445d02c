//! Pure routing: from the request path (after the session prefix) and the body's `model`, decide
//! which upstream gets the request, with which key policy and which model name. No I/O here.

use crate::env::{self, Secret};

/// The wire format of a request, decided by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Anthropic Messages (`/v1/messages`, `/v1/messages/count_tokens`).
    Anthropic,
    /// OpenAI Responses and Chat Completions.
    OpenAi,
}

/// Who serves (and bills) a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    Anthropic,
    OpenAi,
    /// OpenAI models through the ChatGPT backend, for a ChatGPT sign-in (priced as OpenAI's).
    ChatGpt,
    MiniMax,
}

impl Provider {
    /// The provider id, as the price data and the summary spell it.
    pub fn id(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi | Provider::ChatGpt => "openai",
            Provider::MiniMax => "minimax",
        }
    }
}

/// The configured upstream base URLs and the MiniMax key.
#[derive(Debug, Clone)]
pub struct Upstreams {
    /// Anthropic root, e.g. `https://api.anthropic.com` (request paths keep their `/v1`).
    pub anthropic: String,
    /// OpenAI base including `/v1`, e.g. `https://api.openai.com/v1`.
    pub openai: String,
    /// MiniMax Anthropic-compatible root, e.g. `https://api.minimax.io/anthropic`.
    pub minimax_anthropic: String,
    /// MiniMax OpenAI-compatible base including `/v1`, e.g. `https://api.minimax.io/v1`.
    pub minimax_openai: String,
    /// The ChatGPT backend Codex uses with a ChatGPT login, e.g.
    /// `https://chatgpt.com/backend-api/codex` (paths lose their `/v1`, as OpenAI's do).
    pub chatgpt: String,
    /// MINIMAX_API_KEY, if set.
    pub minimax_key: Option<Secret>,
    /// OPENAI_API_KEY, if set: sent to OpenAI in place of the session token an agent sends as
    /// its bearer (Codex, whose environment then does not hold the key).
    pub openai_key: Option<Secret>,
}

impl Upstreams {
    /// Reads the upstream URLs and MiniMax key from the environment, with the documented defaults.
    pub fn from_env() -> Self {
        let url = |name, default: &str| {
            env::var(name)
                .unwrap_or_else(|| default.to_owned())
                .trim_end_matches('/')
                .to_owned()
        };
        Upstreams {
            anthropic: url(env::ANTHROPIC_TARGET_API_URL, "https://api.anthropic.com"),
            openai: url(env::OPENAI_TARGET_API_URL, "https://api.openai.com/v1"),
            minimax_anthropic: url(
                env::MINIMAX_TARGET_API_URL,
                "https://api.minimax.io/anthropic",
            ),
            minimax_openai: url(
                env::MINIMAX_OPENAI_TARGET_API_URL,
                "https://api.minimax.io/v1",
            ),
            chatgpt: url(
                env::CHATGPT_TARGET_API_URL,
                "https://chatgpt.com/backend-api/codex",
            ),
            minimax_key: env::var(env::MINIMAX_API_KEY).map(Secret::new),
            openai_key: env::var(env::OPENAI_API_KEY).map(Secret::new),
        }
    }
}

impl Route {
    /// The route of a request signed in with ChatGPT (Codex with a ChatGPT login sends
    /// `chatgpt-account-id` beside its token): OpenAI's requests go to the ChatGPT backend Codex
    /// itself uses in that mode, since the platform API refuses such tokens. Others stay.
    pub fn for_chatgpt_sign_in(self, upstreams: &Upstreams) -> Route {
        if self.provider != Provider::OpenAi {
            return self;
        }
        let path = self
            .url
            .strip_prefix(&upstreams.openai)
            .unwrap_or_default()
            .to_owned();
        Route {
            provider: Provider::ChatGpt,
            url: format!("{}{path}", upstreams.chatgpt),
            ..self
        }
    }
}

/// Where one request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Who serves it.
    pub provider: Provider,
    /// Its wire format.
    pub family: Family,
    /// The full upstream URL, query included.
    pub url: String,
    /// The model name to put in the body, when it differs from what the agent sent.
    pub model_rewrite: Option<String>,
}

const MINIMAX_PREFIX: &str = "minimax/";

/// Whether a model name belongs to MiniMax: `minimax/<name>` or `MiniMax-*` (any case).
pub fn is_minimax_model(model: &str) -> bool {
    starts_with_ignore_case(model, MINIMAX_PREFIX) || starts_with_ignore_case(model, "minimax-")
}

/// The name MiniMax knows a model by: without the `minimax/` prefix.
pub fn upstream_model_name(model: &str) -> &str {
    if starts_with_ignore_case(model, MINIMAX_PREFIX) {
        &model[MINIMAX_PREFIX.len()..]
    } else {
        model
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The wire format a path speaks; paths of neither family belong to the agent's own family.
pub fn family_for(path: &str, default: Family) -> Family {
    let path = path.split('?').next().unwrap_or(path);
    if path == "/v1/messages" || path.starts_with("/v1/messages/") {
        Family::Anthropic
    } else if path.starts_with("/v1/responses") || path.starts_with("/v1/chat/completions") {
        Family::OpenAi
    } else {
        default
    }
}

/// Routes a request: `path_and_query` is what follows the session prefix, e.g.
/// `/v1/messages?beta=true`.
pub fn route_for(
    path_and_query: &str,
    model: Option<&str>,
    default: Family,
    upstreams: &Upstreams,
) -> Route {
    let family = family_for(path_and_query, default);
    let minimax = model.is_some_and(is_minimax_model);
    let provider = match (minimax, family) {
        (true, _) => Provider::MiniMax,
        (false, Family::Anthropic) => Provider::Anthropic,
        (false, Family::OpenAi) => Provider::OpenAi,
    };
    let base = match (provider, family) {
        (Provider::MiniMax, Family::Anthropic) => &upstreams.minimax_anthropic,
        (Provider::MiniMax, Family::OpenAi) => &upstreams.minimax_openai,
        (_, Family::Anthropic) => &upstreams.anthropic,
        (_, Family::OpenAi) => &upstreams.openai,
    };
    // OpenAI-style bases already end in `/v1` (the agent was given `<session>/v1`), Anthropic-style
    // roots do not: keep the agent's path whole for the latter, drop its `/v1` for the former.
    let path = match family {
        Family::Anthropic => path_and_query,
        Family::OpenAi => path_and_query
            .strip_prefix("/v1")
            .filter(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
            .unwrap_or(path_and_query),
    };
    let model_rewrite = model
        .filter(|_| minimax)
        .map(upstream_model_name)
        .filter(|stripped| Some(*stripped) != model)
        .map(str::to_owned);
    Route {
        provider,
        family,
        url: format!("{base}{path}"),
        model_rewrite,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstreams() -> Upstreams {
        Upstreams {
            anthropic: "http://a.test".into(),
            openai: "http://o.test/v1".into(),
            minimax_anthropic: "http://m.test/anthropic".into(),
            minimax_openai: "http://m.test/v1".into(),
            chatgpt: "http://c.test/backend-api/codex".into(),
            minimax_key: None,
            openai_key: None,
        }
    }

    /// (path, model, provider, upstream URL, model sent upstream when rewritten)
    type Case = (
        &'static str,
        Option<&'static str>,
        Provider,
        &'static str,
        Option<&'static str>,
    );

    #[test]
    fn routes_by_path_and_model() {
        let cases: &[Case] = &[
            (
                "/v1/messages?beta=true",
                Some("claude-opus-5-5"),
                Provider::Anthropic,
                "http://a.test/v1/messages?beta=true",
                None,
            ),
            (
                "/v1/messages/count_tokens",
                Some("claude-opus-5-5"),
                Provider::Anthropic,
                "http://a.test/v1/messages/count_tokens",
                None,
            ),
            (
                "/v1/messages?beta=true",
                Some("minimax/MiniMax-M3"),
                Provider::MiniMax,
                "http://m.test/anthropic/v1/messages?beta=true",
                Some("MiniMax-M3"),
            ),
            (
                "/v1/messages",
                Some("MiniMax-M2.7"),
                Provider::MiniMax,
                "http://m.test/anthropic/v1/messages",
                None,
            ),
            (
                "/v1/messages",
                Some("minimax-m2.7"),
                Provider::MiniMax,
                "http://m.test/anthropic/v1/messages",
                None,
            ),
            (
                "/v1/messages",
                Some("MINIMAX/MiniMax-M3"),
                Provider::MiniMax,
                "http://m.test/anthropic/v1/messages",
                Some("MiniMax-M3"),
            ),
            (
                "/v1/responses",
                Some("gpt-6.1-sol"),
                Provider::OpenAi,
                "http://o.test/v1/responses",
                None,
            ),
            (
                "/v1/responses",
                Some("minimax/MiniMax-M3"),
                Provider::MiniMax,
                "http://m.test/v1/responses",
                Some("MiniMax-M3"),
            ),
            (
                "/v1/chat/completions",
                Some("MiniMax-M3"),
                Provider::MiniMax,
                "http://m.test/v1/chat/completions",
                None,
            ),
            (
                "/v1/chat/completions",
                None,
                Provider::OpenAi,
                "http://o.test/v1/chat/completions",
                None,
            ),
            (
                "/v1/messages",
                Some("minimaxi-thing"),
                Provider::Anthropic,
                "http://a.test/v1/messages",
                None,
            ),
            (
                "/v1/messages",
                Some("mini"),
                Provider::Anthropic,
                "http://a.test/v1/messages",
                None,
            ),
        ];
        for (path, model, provider, url, rewrite) in cases {
            let route = route_for(path, *model, Family::Anthropic, &upstreams());
            assert_eq!(route.provider, *provider, "{path} {model:?}");
            assert_eq!(route.url, *url, "{path} {model:?}");
            assert_eq!(route.model_rewrite.as_deref(), *rewrite, "{path} {model:?}");
        }
    }

    #[test]
    fn a_chatgpt_sign_in_goes_to_the_chatgpt_backend_and_nowhere_else() {
        let upstreams = upstreams();
        let route = route_for(
            "/v1/responses",
            Some("gpt-6.1-sol"),
            Family::OpenAi,
            &upstreams,
        )
        .for_chatgpt_sign_in(&upstreams);
        assert_eq!(route.provider, Provider::ChatGpt);
        assert_eq!(route.url, "http://c.test/backend-api/codex/responses");
        let models = route_for(
            "/v1/models?client_version=0.169.0",
            None,
            Family::OpenAi,
            &upstreams,
        )
        .for_chatgpt_sign_in(&upstreams);
        assert_eq!(
            models.url,
            "http://c.test/backend-api/codex/models?client_version=0.169.0"
        );
        let minimax = route_for(
            "/v1/responses",
            Some("MiniMax-M3"),
            Family::OpenAi,
            &upstreams,
        )
        .for_chatgpt_sign_in(&upstreams);
        assert_eq!(
            minimax.provider,
            Provider::MiniMax,
            "a MiniMax model stays on MiniMax"
        );
    }

    #[test]
    fn other_paths_go_to_the_agents_own_family() {
        let claude = route_for("/v1/models", None, Family::Anthropic, &upstreams());
        assert_eq!(claude.url, "http://a.test/v1/models");
        let codex = route_for("/v1/models?x=1", None, Family::OpenAi, &upstreams());
        assert_eq!(codex.url, "http://o.test/v1/models?x=1");
        let odd = route_for("/v1beta/thing", None, Family::OpenAi, &upstreams());
        assert_eq!(odd.url, "http://o.test/v1/v1beta/thing");
    }

    #[test]
    fn minimax_names_are_recognised_case_insensitively() {
        for name in [
            "minimax/abab",
            "MiniMax-M3",
            "minimax-m2.7",
            "MINIMAX-M1",
            "MiniMax/x",
        ] {
            assert!(is_minimax_model(name), "{name}");
        }
        for name in [
            "claude-opus-5-5",
            "gpt-6.1-sol",
            "minimax",
            "mini-max-m3",
            "",
            "é",
        ] {
            assert!(!is_minimax_model(name), "{name}");
        }
        assert_eq!(upstream_model_name("minimax/MiniMax-M3"), "MiniMax-M3");
        assert_eq!(upstream_model_name("MiniMax-M3"), "MiniMax-M3");
    }
}
