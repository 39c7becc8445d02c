//! The upstream request: which headers are kept or dropped, whose credentials are sent, and the
//! sending itself (the body arrives already edited, see `crate::body`).

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::route::{Route, Upstreams};
use crate::env::Secret;
use crate::providers::Provider;

/// Headers that describe one connection, not the request (RFC 9110 §7.6.1), plus those the client
/// library sets itself.
const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// Whether a header must not cross the proxy, in either direction.
pub fn is_hop_by_hop(name: &HeaderName, connection_listed: &[String]) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
        || name == header::CONTENT_LENGTH
        || connection_listed
            .iter()
            .any(|listed| listed == name.as_str())
}

/// Header names the `Connection` header declares hop-by-hop.
pub fn connection_listed(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect()
}

/// Every header that can authorize a request somewhere: the agents' own (Anthropic `x-api-key`,
/// OpenAI and Anthropic OAuth bearers), those of other providers' clients and gateways, cookies,
/// and the session's own. Towards a provider the agent's credentials do not belong to, none of
/// them is sent.
pub const CREDENTIAL_HEADERS: [&str; 12] = [
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "anthropic-api-key",
    "x-goog-api-key",
    "cookie",
    "chatgpt-account-id",
    "openai-organization",
    "openai-project",
    "x-amz-security-token",
    super::SESSION_HEADER,
];

/// The headers to send upstream for `route`.
///
/// To Anthropic and OpenAI the agent's own credentials pass through, except the session secret:
/// an agent that sent it as its bearer (Codex, whose key headroom holds) gets OPENAI_API_KEY in
/// its place. To a provider of the table (MiniMax, DeepSeek…) no credential of the agent's goes,
/// and that provider's own key is sent instead, so no key ever reaches another's upstream. The session secret is never forwarded anywhere.
pub fn upstream_headers(
    agent_headers: &HeaderMap,
    route: &Route,
    upstreams: &Upstreams,
    session_secret: &Secret,
) -> HeaderMap {
    let listed = connection_listed(agent_headers);
    let foreign = matches!(route.provider, Provider::Compatible(_));
    let mut bearer_was_secret = false;
    let mut headers = HeaderMap::with_capacity(agent_headers.len() + 1);
    for (name, value) in agent_headers {
        if is_hop_by_hop(name, &listed) {
            continue;
        }
        let is_credential = CREDENTIAL_HEADERS.contains(&name.as_str());
        if is_credential && carries_secret(value, session_secret) {
            bearer_was_secret |= name == header::AUTHORIZATION;
            continue;
        }
        if is_credential && (foreign || name.as_str() == super::SESSION_HEADER) {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    // The tap must read usage from the response, so ask for it uncompressed; the bytes are still
    // relayed to the agent exactly as the upstream sends them.
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    let key = match route.provider {
        Provider::Compatible(_) => upstreams.key_for(route.provider),
        Provider::OpenAi if bearer_was_secret => upstreams.openai_key.as_ref(),
        _ => None,
    };
    if let Some(key) = key
        && let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
    {
        value.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, value);
    }
    headers
}

/// The token of an `Authorization`-style value: `Bearer <token>` in any case and spacing, or the
/// bare value.
pub fn bearer_token(value: &str) -> &str {
    let value = value.trim();
    match value.split_once(char::is_whitespace) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => value,
    }
}

/// Whether a header value is (or bears) the session secret.
fn carries_secret(value: &HeaderValue, secret: &Secret) -> bool {
    value
        .to_str()
        .is_ok_and(|text| secret.matches(bearer_token(text)))
}

/// Why an upstream request produced no response.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// Could not connect (refused, DNS, TLS) before the connect timeout. The source names the URL.
    #[error("could not reach the upstream")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The connection attempt timed out.
    #[error("timed out connecting to {url}")]
    Timeout {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

/// Sends the request upstream and returns as soon as the response headers arrive.
pub async fn send(
    client: &reqwest::Client,
    method: hyper::Method,
    route: &Route,
    headers: HeaderMap,
    body: Bytes,
) -> Result<reqwest::Response, ForwardError> {
    let result = client
        .request(method, &route.url)
        .headers(headers)
        .body(body)
        .send()
        .await;
    result.map_err(|source| {
        let url = route.url.clone();
        if source.is_timeout() {
            ForwardError::Timeout { url, source }
        } else {
            ForwardError::Unreachable { url, source }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{Family, Providers};

    fn upstreams(minimax: Option<&str>, openai: Option<&str>) -> Upstreams {
        let keys: Vec<(&str, &str)> = minimax.map(|key| ("minimax", key)).into_iter().collect();
        Upstreams::for_tests(Providers::built_in(), &keys, openai)
    }

    fn minimax() -> Provider {
        Provider::Compatible(Providers::built_in().get("minimax").unwrap())
    }

    fn route(provider: Provider) -> Route {
        Route {
            provider,
            family: Family::Anthropic,
            url: "http://up.test/v1/messages".into(),
            model_rewrite: None,
        }
    }

    fn agent_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_static("sk-ant-agent"));
        headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        headers.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-trace"),
        );
        headers.insert("x-trace", HeaderValue::from_static("1"));
        headers.insert("host", HeaderValue::from_static("127.0.0.1:1234"));
        headers.insert("content-length", HeaderValue::from_static("10"));
        headers.insert("accept-encoding", HeaderValue::from_static("gzip, br"));
        headers
    }

    #[test]
    fn anthropic_gets_the_agents_key_and_never_the_minimax_key() {
        let secret = Secret::new("session");
        let headers = upstream_headers(
            &agent_headers(),
            &route(Provider::Anthropic),
            &upstreams(Some("mm-key"), Some("sk-openai")),
            &secret,
        );
        assert_eq!(headers["x-api-key"], "sk-ant-agent");
        assert_eq!(headers["anthropic-version"], "2023-06-01");
        assert!(headers.get(header::AUTHORIZATION).is_none());
        for dropped in ["connection", "x-trace", "host", "content-length"] {
            assert!(headers.get(dropped).is_none(), "{dropped}");
        }
        assert_eq!(headers["accept-encoding"], "identity");
    }

    #[test]
    fn minimax_gets_only_the_minimax_key() {
        let secret = Secret::new("session");
        let mut agent = agent_headers();
        agent.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer sk-openai"),
        );
        for name in CREDENTIAL_HEADERS.iter().skip(1) {
            agent.insert(*name, HeaderValue::from_static("agent-credential"));
        }
        let headers = upstream_headers(
            &agent,
            &route(minimax()),
            &upstreams(Some("mm-key"), Some("sk-openai")),
            &secret,
        );
        assert_eq!(headers[header::AUTHORIZATION], "Bearer mm-key");
        assert_eq!(headers.get_all(header::AUTHORIZATION).iter().count(), 1);
        for name in CREDENTIAL_HEADERS.iter().skip(1) {
            assert!(headers.get(*name).is_none(), "{name} reached MiniMax");
        }
    }

    #[test]
    fn openai_gets_the_users_key_where_the_agent_sent_the_session_token() {
        let secret = Secret::new("session");
        let openai = upstreams(Some("mm-key"), Some("sk-openai-user"));
        let mut agent = HeaderMap::new();
        agent.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer session"),
        );
        agent.insert(
            super::super::SESSION_HEADER,
            HeaderValue::from_static("session"),
        );
        let headers = upstream_headers(&agent, &route(Provider::OpenAi), &openai, &secret);
        assert_eq!(headers[header::AUTHORIZATION], "Bearer sk-openai-user");
        assert!(headers.get(super::super::SESSION_HEADER).is_none());
        // An agent that signs in by itself (a ChatGPT token, a key of its own) keeps its bearer.
        agent.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer own-token"),
        );
        let headers = upstream_headers(&agent, &route(Provider::OpenAi), &openai, &secret);
        assert_eq!(headers[header::AUTHORIZATION], "Bearer own-token");
    }

    /// Every ordered pair of upstreams (Anthropic, OpenAI, each provider of the table, a
    /// user-defined one too), every key held: each upstream gets its own key and no other, and
    /// none of the agent's credentials reaches a provider they do not belong to.
    #[test]
    fn each_key_goes_to_its_own_upstream_only() {
        let text =
            "[providers.gateway]\nanthropic_url = \"https://gw.example\"\nprefixes = [\"gw/\"]\n";
        let table = Providers::with_file(text, std::path::Path::new("/p/providers.toml")).unwrap();
        let names: Vec<String> = table.specs().map(|spec| spec.name.clone()).collect();
        let keys: Vec<(String, String)> = names
            .iter()
            .map(|name| (name.clone(), format!("key-of-{name}")))
            .collect();
        let key_refs: Vec<(&str, &str)> =
            keys.iter().map(|(n, k)| (n.as_str(), k.as_str())).collect();
        let upstreams = Upstreams::for_tests(table, &key_refs, Some("key-of-openai"));
        let mut destinations = vec![Provider::Anthropic, Provider::OpenAi, Provider::ChatGpt];
        destinations.extend(upstreams.providers.specs().map(Provider::Compatible));
        assert_eq!(destinations.len(), 3 + 5);
        let secret = Secret::new("session");
        for to in &destinations {
            let mut agent = HeaderMap::new();
            agent.insert("x-api-key", HeaderValue::from_static("agent-anthropic-key"));
            agent.insert(
                header::AUTHORIZATION,
                HeaderValue::from_static("Bearer session"),
            );
            let headers = upstream_headers(&agent, &route(*to), &upstreams, &secret);
            let sent: String = headers
                .iter()
                .map(|(name, value)| format!("{name}: {}\n", value.to_str().unwrap_or("")))
                .collect();
            for from in &destinations {
                let key = match from {
                    Provider::Compatible(spec) => format!("key-of-{}", spec.name),
                    Provider::OpenAi => "key-of-openai".into(),
                    _ => continue,
                };
                let expected = from == to || (*from == Provider::OpenAi && *to == Provider::OpenAi);
                assert_eq!(
                    sent.contains(&key),
                    expected,
                    "{from} key towards {to}: {sent}"
                );
            }
            let agent_key_expected = matches!(
                to,
                Provider::Anthropic | Provider::OpenAi | Provider::ChatGpt
            );
            assert_eq!(
                sent.contains("agent-anthropic-key"),
                agent_key_expected,
                "towards {to}"
            );
            assert!(!sent.contains("session"), "the secret went towards {to}");
        }
    }

    #[test]
    fn the_session_secret_is_never_forwarded_however_it_is_written() {
        let secret = Secret::new("session");
        for written in [
            "Bearer session",
            "bearer session",
            "BEARER  session ",
            "session",
        ] {
            let mut agent = HeaderMap::new();
            agent.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(written).unwrap(),
            );
            agent.insert("x-api-key", HeaderValue::from_str(written).unwrap());
            let headers = upstream_headers(
                &agent,
                &route(Provider::Anthropic),
                &upstreams(None, None),
                &secret,
            );
            assert!(headers.get(header::AUTHORIZATION).is_none(), "{written}");
            assert!(headers.get("x-api-key").is_none(), "{written}");
        }
    }
}
