//! Pure routing: from the request path (after the session prefix) and the body's `model`, decide
//! which upstream gets the request, with which key policy and which model name. No I/O here; the
//! providers and their URLs come from the provider table (`crate::providers`) via `Upstreams`.

use crate::env::{self, Secret};
use crate::providers::{Family, Provider, Providers, Spec};

/// A provider of the table as this session reaches it: URLs after the environment's overrides,
/// and its key.
#[derive(Debug, Clone)]
pub struct CompatibleUpstream {
    pub spec: &'static Spec,
    /// Anthropic-compatible root, if it serves one.
    pub anthropic: Option<String>,
    /// OpenAI-compatible base including its version, if it serves one.
    pub openai: Option<String>,
    /// Its key, from `spec.key_env`.
    pub key: Option<Secret>,
}

/// The configured upstream base URLs and the keys headroom holds.
#[derive(Debug, Clone)]
pub struct Upstreams {
    /// Anthropic root, e.g. `https://api.anthropic.com` (request paths keep their `/v1`).
    pub anthropic: String,
    /// OpenAI base including `/v1`, e.g. `https://api.openai.com/v1`.
    pub openai: String,
    /// The ChatGPT backend Codex uses with a ChatGPT login, e.g.
    /// `https://chatgpt.com/backend-api/codex` (paths lose their `/v1`, as OpenAI's do).
    pub chatgpt: String,
    /// OPENAI_API_KEY, if set: sent to OpenAI in place of the session token an agent sends as
    /// its bearer (Codex, whose environment then does not hold the key).
    pub openai_key: Option<Secret>,
    /// Every provider of the table, in the table's order.
    pub compatible: Vec<CompatibleUpstream>,
    pub providers: &'static Providers,
}

/// A URL from the environment, or the default; without a trailing `/`.
fn url_from_env(name: &str, default: Option<&str>) -> Option<String> {
    env::var(name)
        .or_else(|| default.map(str::to_owned))
        .map(|url| url.trim_end_matches('/').to_owned())
}

impl Upstreams {
    /// Reads the upstream URLs and keys from the environment, with the documented defaults.
    pub fn from_env(providers: &'static Providers) -> Self {
        let url = |name, default: &str| url_from_env(name, Some(default)).unwrap_or_default();
        Upstreams {
            anthropic: url(env::ANTHROPIC_TARGET_API_URL, "https://api.anthropic.com"),
            openai: url(env::OPENAI_TARGET_API_URL, "https://api.openai.com/v1"),
            chatgpt: url(
                env::CHATGPT_TARGET_API_URL,
                "https://chatgpt.com/backend-api/codex",
            ),
            openai_key: env::var(env::OPENAI_API_KEY).map(Secret::new),
            compatible: providers
                .specs()
                .map(|spec| CompatibleUpstream {
                    spec,
                    anthropic: url_from_env(&spec.anthropic_url_env, spec.anthropic_url.as_deref()),
                    openai: url_from_env(&spec.openai_url_env, spec.openai_url.as_deref()),
                    key: env::var(&spec.key_env).map(Secret::new),
                })
                .collect(),
            providers,
        }
    }

    /// How this session reaches `spec`.
    pub fn compatible(&self, spec: &Spec) -> Option<&CompatibleUpstream> {
        self.compatible
            .iter()
            .find(|upstream| upstream.spec.name == spec.name)
    }

    /// The key headroom holds for `provider`, if it is a provider of the table.
    pub fn key_for(&self, provider: Provider) -> Option<&Secret> {
        match provider {
            Provider::Compatible(spec) => self.compatible(spec)?.key.as_ref(),
            _ => None,
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

/// Why a request has nowhere to go: its model's provider does not serve its wire format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "model {model:?} runs on {provider}, which serves no {api} (set {url_env} if it does); nothing was forwarded"
)]
pub struct Unserved {
    pub provider: Provider,
    pub model: String,
    pub api: &'static str,
    pub url_env: String,
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
) -> Result<Route, Unserved> {
    let family = family_for(path_and_query, default);
    let resolved = model.and_then(|model| upstreams.providers.resolve(model));
    let (provider, base) = match resolved {
        Some(resolved) => {
            let provider = Provider::Compatible(resolved.spec);
            let upstream = upstreams.compatible(resolved.spec);
            let responses_path = path_and_query.starts_with("/v1/responses");
            let (base, api, url_env) = match family {
                Family::Anthropic => (
                    upstream.and_then(|u| u.anthropic.as_deref()),
                    "Anthropic-compatible API",
                    &resolved.spec.anthropic_url_env,
                ),
                Family::OpenAi => (
                    upstream
                        .and_then(|u| u.openai.as_deref())
                        .filter(|_| resolved.spec.responses || !responses_path),
                    if responses_path {
                        "OpenAI Responses API"
                    } else {
                        "OpenAI-compatible API"
                    },
                    &resolved.spec.openai_url_env,
                ),
            };
            let Some(base) = base else {
                return Err(Unserved {
                    provider,
                    model: model.unwrap_or_default().to_owned(),
                    api,
                    url_env: url_env.clone(),
                });
            };
            (provider, base)
        }
        None => match family {
            Family::Anthropic => (Provider::Anthropic, upstreams.anthropic.as_str()),
            Family::OpenAi => (Provider::OpenAi, upstreams.openai.as_str()),
        },
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
    let model_rewrite = resolved
        .filter(|resolved| Some(resolved.upstream_name) != model)
        .map(|resolved| resolved.upstream_name.to_owned());
    Ok(Route {
        provider,
        family,
        url: format!("{base}{path}"),
        model_rewrite,
    })
}

#[cfg(test)]
impl Upstreams {
    /// Anthropic at `http://a.test`, OpenAI at `http://o.test/v1`, the ChatGPT backend at
    /// `http://c.test/backend-api/codex`, and each provider of `providers` at
    /// `http://<name>.test/anthropic` and `http://<name>.test/v1`, holding the keys in `keys`
    /// (provider name, key).
    pub fn for_tests(
        providers: Providers,
        keys: &[(&str, &str)],
        openai_key: Option<&str>,
    ) -> Upstreams {
        let providers: &'static Providers = Box::leak(Box::new(providers));
        Upstreams {
            anthropic: "http://a.test".into(),
            openai: "http://o.test/v1".into(),
            chatgpt: "http://c.test/backend-api/codex".into(),
            openai_key: openai_key.map(Secret::new),
            compatible: providers
                .specs()
                .map(|spec| CompatibleUpstream {
                    spec,
                    anthropic: Some(format!("http://{}.test/anthropic", spec.name)),
                    openai: Some(format!("http://{}.test/v1", spec.name)),
                    key: keys
                        .iter()
                        .find(|(name, _)| *name == spec.name)
                        .map(|(_, key)| Secret::new(*key)),
                })
                .collect(),
            providers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstreams() -> Upstreams {
        Upstreams::for_tests(Providers::built_in(), &[], None)
    }

    /// (path, model, provider, upstream URL, model sent upstream when rewritten)
    type Case = (
        &'static str,
        Option<&'static str>,
        &'static str,
        &'static str,
        Option<&'static str>,
    );

    #[test]
    fn routes_by_path_and_model() {
        let cases: &[Case] = &[
            (
                "/v1/messages?beta=true",
                Some("claude-opus-5-5"),
                "anthropic",
                "http://a.test/v1/messages?beta=true",
                None,
            ),
            (
                "/v1/messages/count_tokens",
                Some("claude-opus-5-5"),
                "anthropic",
                "http://a.test/v1/messages/count_tokens",
                None,
            ),
            (
                "/v1/messages?beta=true",
                Some("minimax/MiniMax-M3"),
                "minimax",
                "http://minimax.test/anthropic/v1/messages?beta=true",
                Some("MiniMax-M3"),
            ),
            (
                "/v1/messages",
                Some("MiniMax-M2.7"),
                "minimax",
                "http://minimax.test/anthropic/v1/messages",
                None,
            ),
            (
                "/v1/messages",
                Some("minimax-m2.7"),
                "minimax",
                "http://minimax.test/anthropic/v1/messages",
                None,
            ),
            (
                "/v1/messages",
                Some("MINIMAX/MiniMax-M3"),
                "minimax",
                "http://minimax.test/anthropic/v1/messages",
                Some("MiniMax-M3"),
            ),
            (
                "/v1/responses",
                Some("gpt-6.1-sol"),
                "openai",
                "http://o.test/v1/responses",
                None,
            ),
            (
                "/v1/responses",
                Some("minimax/MiniMax-M3"),
                "minimax",
                "http://minimax.test/v1/responses",
                Some("MiniMax-M3"),
            ),
            (
                "/v1/chat/completions",
                Some("MiniMax-M3"),
                "minimax",
                "http://minimax.test/v1/chat/completions",
                None,
            ),
            (
                "/v1/chat/completions",
                None,
                "openai",
                "http://o.test/v1/chat/completions",
                None,
            ),
            (
                "/v1/messages",
                Some("minimaxi-thing"),
                "anthropic",
                "http://a.test/v1/messages",
                None,
            ),
            (
                "/v1/messages",
                Some("mini"),
                "anthropic",
                "http://a.test/v1/messages",
                None,
            ),
        ];
        for (path, model, provider, url, rewrite) in cases {
            let route = route_for(path, *model, Family::Anthropic, &upstreams()).unwrap();
            assert_eq!(route.provider.id(), *provider, "{path} {model:?}");
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
        .unwrap()
        .for_chatgpt_sign_in(&upstreams);
        assert_eq!(route.provider, Provider::ChatGpt);
        assert_eq!(route.url, "http://c.test/backend-api/codex/responses");
        let models = route_for(
            "/v1/models?client_version=0.169.0",
            None,
            Family::OpenAi,
            &upstreams,
        )
        .unwrap()
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
        .unwrap()
        .for_chatgpt_sign_in(&upstreams);
        assert_eq!(
            minimax.provider.id(),
            "minimax",
            "a MiniMax model stays on MiniMax"
        );
    }

    #[test]
    fn other_paths_go_to_the_agents_own_family() {
        let claude = route_for("/v1/models", None, Family::Anthropic, &upstreams()).unwrap();
        assert_eq!(claude.url, "http://a.test/v1/models");
        let codex = route_for("/v1/models?x=1", None, Family::OpenAi, &upstreams()).unwrap();
        assert_eq!(codex.url, "http://o.test/v1/models?x=1");
        let odd = route_for("/v1beta/thing", None, Family::OpenAi, &upstreams()).unwrap();
        assert_eq!(odd.url, "http://o.test/v1/v1beta/thing");
    }

    #[test]
    fn every_provider_gets_its_own_url_and_names_without_prefix() {
        let upstreams = upstreams();
        for (model, url, rewrite) in [
            (
                "deepseek/deepseek-v4-pro",
                "http://deepseek.test/anthropic/v1/messages",
                Some("deepseek-v4-pro"),
            ),
            (
                "deepseek-flash",
                "http://deepseek.test/anthropic/v1/messages",
                None,
            ),
            (
                "moonshot/kimi-k3",
                "http://moonshot.test/anthropic/v1/messages",
                Some("kimi-k3"),
            ),
            (
                "kimi-k2.5",
                "http://moonshot.test/anthropic/v1/messages",
                None,
            ),
            (
                "zai/glm-5.3",
                "http://zai.test/anthropic/v1/messages",
                Some("glm-5.3"),
            ),
            ("GLM-5.3", "http://zai.test/anthropic/v1/messages", None),
        ] {
            let route =
                route_for("/v1/messages", Some(model), Family::Anthropic, &upstreams).unwrap();
            assert_eq!(route.url, url, "{model}");
            assert_eq!(route.model_rewrite.as_deref(), rewrite, "{model}");
        }
        let zai = route_for("/v1/responses", Some("glm-5.3"), Family::OpenAi, &upstreams).unwrap();
        assert_eq!(zai.url, "http://zai.test/v1/responses");
        // DeepSeek serves Chat Completions but not the Responses API Codex speaks.
        let refused = route_for(
            "/v1/responses",
            Some("deepseek-flash"),
            Family::OpenAi,
            &upstreams,
        )
        .unwrap_err();
        assert_eq!(refused.api, "OpenAI Responses API");
        assert_eq!(refused.url_env, "DEEPSEEK_OPENAI_TARGET_API_URL");
        let chat = route_for(
            "/v1/chat/completions",
            Some("deepseek-flash"),
            Family::OpenAi,
            &upstreams,
        )
        .unwrap();
        assert_eq!(chat.url, "http://deepseek.test/v1/chat/completions");
    }
}
