//! The provider table: who serves a request and how to reach them. Anthropic and OpenAI are the
//! agents' own providers; every other provider that serves an Anthropic- or OpenAI-compatible API
//! (MiniMax, DeepSeek, Moonshot, Z.ai, a private gateway) is one `Spec` in the table: its URLs, the
//! variables for its key and URLs, the model names that are its, its price-data id, and what the
//! agent cannot know about its models. Routing, pricing, `wrap` and reports all read this table;
//! nothing here does I/O except `load`, which reads `providers.toml`.

pub mod command;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;

/// The wire format of a request, decided by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Anthropic Messages (`/v1/messages`, `/v1/messages/count_tokens`).
    Anthropic,
    /// OpenAI Responses and Chat Completions.
    OpenAi,
}

/// Who serves (and bills) a request.
#[derive(Debug, Clone, Copy)]
pub enum Provider {
    Anthropic,
    OpenAi,
    /// OpenAI models through the ChatGPT backend, for a ChatGPT sign-in (priced as OpenAI's).
    ChatGpt,
    /// A provider of the table.
    Compatible(&'static Spec),
}

impl PartialEq for Provider {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id() && self.is_chatgpt() == other.is_chatgpt()
    }
}

impl Eq for Provider {}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Provider {
    /// The provider id, as the summary spells it (`anthropic`, `openai`, `minimax`, `deepseek`…).
    pub fn id(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi | Provider::ChatGpt => "openai",
            Provider::Compatible(spec) => &spec.name,
        }
    }

    /// The provider id the price data knows it by (`moonshotai` for `moonshot`).
    pub fn price_id(self) -> &'static str {
        match self {
            Provider::Compatible(spec) => &spec.price_provider,
            other => other.id(),
        }
    }

    fn is_chatgpt(self) -> bool {
        matches!(self, Provider::ChatGpt)
    }
}

/// Where an entry of the table came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    /// A `providers.toml`.
    File(PathBuf),
}

/// One provider besides Anthropic and OpenAI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Its id: `minimax`, `deepseek`, a gateway's name. Lowercase letters, digits, `-` and `_`.
    pub name: String,
    /// Anthropic-compatible root (request paths keep their `/v1`), if it serves one.
    pub anthropic_url: Option<String>,
    /// OpenAI-compatible base including its version (`…/v1`), if it serves one.
    pub openai_url: Option<String>,
    /// Whether the OpenAI-compatible base serves the Responses API (the only one Codex speaks).
    pub responses: bool,
    /// The variable holding its key, which headroom sends to it and nowhere else.
    pub key_env: String,
    /// The variables that replace its URLs.
    pub anthropic_url_env: String,
    pub openai_url_env: String,
    /// Model prefixes that name it and are removed upstream (`deepseek/`), any case.
    pub prefixes: Vec<String>,
    /// Model-name beginnings that are its and are sent as they are (`deepseek-`), any case.
    pub names: Vec<String>,
    /// The provider id of its prices in the price data.
    pub price_provider: String,
    /// Usable context windows the agent cannot know (Codex's `model_context_window`), by model.
    pub context_windows: BTreeMap<String, u64>,
    pub origin: Origin,
}

impl Spec {
    fn built_in(name: &str, key: &str, prefix: &str) -> Spec {
        let upper = name.to_ascii_uppercase();
        Spec {
            name: name.to_owned(),
            anthropic_url: None,
            openai_url: None,
            responses: false,
            key_env: key.to_owned(),
            anthropic_url_env: format!("{upper}_TARGET_API_URL"),
            openai_url_env: format!("{upper}_OPENAI_TARGET_API_URL"),
            prefixes: vec![prefix.to_owned()],
            names: Vec::new(),
            price_provider: name.to_owned(),
            context_windows: BTreeMap::new(),
            origin: Origin::BuiltIn,
        }
    }

    /// The context window Codex should assume for `model` (its upstream name): the table's, else
    /// the price data's.
    pub fn context_window(&self, model: &str) -> Option<u64> {
        if let Some((_, window)) = self
            .context_windows
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(model))
        {
            return Some(*window);
        }
        crate::pricing::calculator()
            .find_provider(Some(&self.price_provider), None)
            .ok()
            .flatten()?
            .models()
            .find(|info| info.id().eq_ignore_ascii_case(model))?
            .context_window()
    }
}

/// The built-in providers. URLs are the vendors' documented ones (checked 2026-11-30).
fn built_ins() -> Vec<Spec> {
    // https://platform.minimax.io/docs/guides/quickstart (Anthropic-compatible API) and MiniMax's
    // Codex guide (Responses API on https://api.minimax.io/v1, `model_context_window = 512000`
    // for MiniMax-M3, which bills input above 512K tokens at twice the rate).
    let mut minimax = Spec::built_in("minimax", "MINIMAX_API_KEY", "minimax/");
    minimax.anthropic_url = Some("https://api.minimax.io/anthropic".into());
    minimax.openai_url = Some("https://api.minimax.io/v1".into());
    minimax.responses = true;
    minimax.names = vec!["MiniMax-".into()];
    minimax.context_windows = BTreeMap::from([("MiniMax-M3".to_owned(), 512_000)]);

    // https://api-docs.deepseek.com/guides/anthropic_api: Anthropic API at
    // https://api.deepseek.com/anthropic; the OpenAI-compatible API serves Chat Completions only.
    let mut deepseek = Spec::built_in("deepseek", "DEEPSEEK_API_KEY", "deepseek/");
    deepseek.anthropic_url = Some("https://api.deepseek.com/anthropic".into());
    deepseek.openai_url = Some("https://api.deepseek.com/v1".into());
    deepseek.names = vec!["deepseek-".into()];

    // https://platform.moonshot.ai/docs: Kimi's Anthropic-compatible endpoint is
    // https://api.moonshot.ai/anthropic; its OpenAI-compatible API (https://api.moonshot.ai/v1)
    // documents Chat Completions, not Responses. Prices are `moonshotai` in the price data.
    let mut moonshot = Spec::built_in("moonshot", "MOONSHOT_API_KEY", "moonshot/");
    moonshot.anthropic_url = Some("https://api.moonshot.ai/anthropic".into());
    moonshot.openai_url = Some("https://api.moonshot.ai/v1".into());
    moonshot.names = vec!["kimi-".into()];
    moonshot.price_provider = "moonshotai".into();

    // https://docs.z.ai/devpack/tool/claude (Anthropic-compatible https://api.z.ai/api/anthropic)
    // and https://docs.z.ai/devpack/tool/codex ("Codex requires a dedicated OpenAI Responses
    // protocol endpoint: https://api.z.ai/api/v1").
    let mut zai = Spec::built_in("zai", "ZAI_API_KEY", "zai/");
    zai.anthropic_url = Some("https://api.z.ai/api/anthropic".into());
    zai.openai_url = Some("https://api.z.ai/api/v1".into());
    zai.responses = true;
    zai.names = vec!["glm-".into()];

    vec![minimax, deepseek, moonshot, zai]
}

/// The table: user entries first (they win over built-in ones), then the built-ins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Providers {
    specs: Vec<&'static Spec>,
}

/// A model name resolved to its provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved<'a> {
    pub spec: &'static Spec,
    /// The name the provider knows the model by (its prefix removed).
    pub upstream_name: &'a str,
}

impl Providers {
    /// The built-in table.
    pub fn built_in() -> Providers {
        Providers::from_specs(built_ins())
    }

    /// A table of these entries (leaked: a table lives as long as the process, and `Provider`
    /// stays `Copy` by pointing into it).
    fn from_specs(specs: Vec<Spec>) -> Providers {
        Providers {
            specs: specs
                .into_iter()
                .map(|spec| &*Box::leak(Box::new(spec)))
                .collect(),
        }
    }

    /// Every entry, user entries first.
    pub fn specs(&self) -> impl Iterator<Item = &'static Spec> + '_ {
        self.specs.iter().copied()
    }

    /// The entry named `name`.
    #[cfg(test)]
    pub fn get(&self, name: &str) -> Option<&'static Spec> {
        self.specs()
            .find(|spec| spec.name.eq_ignore_ascii_case(name))
    }

    /// The provider a model name belongs to, if any: user entries win over built-in ones, and
    /// among those the longest matching prefix or name wins.
    pub fn resolve<'a>(&self, model: &'a str) -> Option<Resolved<'a>> {
        let mut best: Option<(bool, usize, Resolved<'a>)> = None;
        for spec in self.specs() {
            let is_user = spec.origin != Origin::BuiltIn;
            let candidates = spec
                .prefixes
                .iter()
                .map(|prefix| (prefix, true))
                .chain(spec.names.iter().map(|name| (name, false)));
            for (pattern, strips) in candidates {
                if pattern.is_empty() || !starts_with_ignore_case(model, pattern) {
                    continue;
                }
                let upstream_name = if strips {
                    &model[pattern.len()..]
                } else {
                    model
                };
                let rank = (is_user, pattern.len());
                if best
                    .as_ref()
                    .is_none_or(|(user, len, _)| rank > (*user, *len))
                {
                    best = Some((
                        is_user,
                        pattern.len(),
                        Resolved {
                            spec,
                            upstream_name,
                        },
                    ));
                }
            }
        }
        best.map(|(_, _, resolved)| resolved)
    }

    /// The price-data provider of the provider a summary names (`moonshotai` for `moonshot`).
    pub fn price_id<'a>(&self, provider: &'a str) -> &'a str
    where
        'static: 'a,
    {
        self.specs()
            .find(|spec| spec.name == provider)
            .map_or(provider, |spec| spec.price_provider.as_str())
    }

    /// The price-data provider for `model`, for pricing a model no request has named a provider
    /// for (`report --reprice`, `wrap --compare`).
    pub fn price_provider_of(&self, model: &str) -> &'static str {
        if let Some(resolved) = self.resolve(model) {
            return &resolved.spec.price_provider;
        }
        let model = crate::pricing::canonical_model(model).to_ascii_lowercase();
        if model.contains("claude") {
            "anthropic"
        } else {
            "openai"
        }
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The table this process uses: installed once at start (`install`), else the built-ins.
pub fn table() -> &'static Providers {
    TABLE.get_or_init(Providers::built_in)
}

static TABLE: OnceLock<Providers> = OnceLock::new();

/// Makes `providers` the table of this process; only the first call counts.
pub fn install(providers: Providers) -> &'static Providers {
    let _ = TABLE.set(providers);
    table()
}

/// One `[providers.NAME]` table of `providers.toml`. For a built-in name, what is given replaces
/// the built-in's value and the rest is kept.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSpec {
    anthropic_url: Option<String>,
    openai_url: Option<String>,
    responses: Option<bool>,
    key_env: Option<String>,
    anthropic_url_env: Option<String>,
    openai_url_env: Option<String>,
    prefixes: Option<Vec<String>>,
    names: Option<Vec<String>>,
    price_provider: Option<String>,
    #[serde(default)]
    context_windows: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    #[serde(default)]
    providers: BTreeMap<String, UserSpec>,
}

/// Why a `providers.toml` cannot be used; the message names the file (and line, for TOML errors).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FileError {
    pub path: String,
    pub message: String,
}

impl Providers {
    /// The built-ins with the entries of `text` (the TOML of the file at `path`) in front.
    pub fn with_file(text: &str, path: &Path) -> Result<Providers, FileError> {
        let error = |message: String| FileError {
            path: path.display().to_string(),
            message,
        };
        let file: UserFile =
            toml::from_str(text).map_err(|e| error(crate::config::toml_error(&e, text)))?;
        let mut built_in = built_ins();
        let mut users = Vec::new();
        for (name, user) in file.providers {
            let name = name.to_ascii_lowercase();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                || ["anthropic", "openai", "chatgpt"].contains(&name.as_str())
            {
                return Err(error(format!(
                    "provider {name:?}: a name is letters, digits, `-` and `_`, and not anthropic, openai or chatgpt"
                )));
            }
            let base = match built_in.iter().position(|spec| spec.name == name) {
                Some(index) => built_in.remove(index),
                None => {
                    let upper = name.to_ascii_uppercase().replace('-', "_");
                    let mut spec =
                        Spec::built_in(&name, &format!("{upper}_API_KEY"), &format!("{name}/"));
                    spec.anthropic_url_env = format!("{upper}_TARGET_API_URL");
                    spec.openai_url_env = format!("{upper}_OPENAI_TARGET_API_URL");
                    spec
                }
            };
            users.push(
                merge(base, user, path)
                    .map_err(|message| error(format!("provider {name:?}: {message}")))?,
            );
        }
        users.extend(built_in);
        Ok(Providers::from_specs(users))
    }
}

fn merge(mut spec: Spec, user: UserSpec, path: &Path) -> Result<Spec, String> {
    let url = |value: Option<String>, field: &str| -> Result<Option<String>, String> {
        match value {
            None => Ok(None),
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                Ok(Some(url.trim_end_matches('/').to_owned()))
            }
            Some(url) => Err(format!("{field} {url:?} is not an http(s) URL")),
        }
    };
    if let Some(anthropic) = url(user.anthropic_url, "anthropic_url")? {
        spec.anthropic_url = Some(anthropic);
    }
    if let Some(openai) = url(user.openai_url, "openai_url")? {
        spec.openai_url = Some(openai);
    }
    spec.responses = user.responses.unwrap_or(spec.responses);
    for (value, field) in [
        (user.key_env, &mut spec.key_env),
        (user.anthropic_url_env, &mut spec.anthropic_url_env),
        (user.openai_url_env, &mut spec.openai_url_env),
        (user.price_provider, &mut spec.price_provider),
    ] {
        if let Some(value) = value {
            *field = value;
        }
    }
    if let Some(prefixes) = user.prefixes {
        spec.prefixes = prefixes;
    }
    if let Some(names) = user.names {
        spec.names = names;
    }
    spec.context_windows.extend(user.context_windows);
    if spec.anthropic_url.is_none() && spec.openai_url.is_none() {
        return Err("give anthropic_url, openai_url or both".into());
    }
    if spec
        .prefixes
        .iter()
        .chain(&spec.names)
        .all(String::is_empty)
    {
        return Err("give prefixes or names, so that some model goes to it".into());
    }
    spec.origin = Origin::File(path.to_owned());
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_is_reached_by_prefix_and_by_name() {
        let table = Providers::built_in();
        let cases = [
            ("minimax/MiniMax-M3", "minimax", "MiniMax-M3"),
            ("MiniMax-M2.7", "minimax", "MiniMax-M2.7"),
            ("MINIMAX/MiniMax-M3", "minimax", "MiniMax-M3"),
            ("deepseek/deepseek-v4-pro", "deepseek", "deepseek-v4-pro"),
            ("deepseek-flash", "deepseek", "deepseek-flash"),
            ("moonshot/kimi-k3", "moonshot", "kimi-k3"),
            ("kimi-k2.5", "moonshot", "kimi-k2.5"),
            ("zai/glm-5.3", "zai", "glm-5.3"),
            ("GLM-5.3", "zai", "GLM-5.3"),
        ];
        for (model, provider, upstream) in cases {
            let resolved = table.resolve(model).unwrap_or_else(|| panic!("{model}"));
            assert_eq!(resolved.spec.name, provider, "{model}");
            assert_eq!(resolved.upstream_name, upstream, "{model}");
        }
        for model in [
            "claude-opus-5-5",
            "gpt-6.1-sol",
            "minimax",
            "deepseek",
            "kimi",
            "glm",
            "",
        ] {
            assert_eq!(table.resolve(model), None, "{model}");
        }
        assert_eq!(table.price_provider_of("kimi-k2.5"), "moonshotai");
        assert_eq!(table.price_provider_of("claude-opus-5-5"), "anthropic");
        assert_eq!(table.price_provider_of("gpt-6.1-sol"), "openai");
    }

    #[test]
    fn user_entries_override_built_ins_and_win_over_them() {
        let text = r#"
            [providers.gateway]
            anthropic_url = "https://llm.example.com/anthropic/"
            prefixes = ["gw/"]
            names = ["glm-5.3-internal"]

            [providers.deepseek]
            anthropic_url = "https://deepseek.example.cn/anthropic"
        "#;
        let table = Providers::with_file(text, Path::new("/home/u/providers.toml")).unwrap();
        let gateway = table.get("gateway").unwrap();
        assert_eq!(gateway.key_env, "GATEWAY_API_KEY");
        assert_eq!(gateway.anthropic_url_env, "GATEWAY_TARGET_API_URL");
        assert_eq!(
            gateway.anthropic_url.as_deref(),
            Some("https://llm.example.com/anthropic")
        );
        assert_eq!(table.resolve("gw/x").unwrap().spec.name, "gateway");
        // A user's name pattern wins over the built-in `glm-` of zai.
        assert_eq!(
            table.resolve("glm-5.3-internal").unwrap().spec.name,
            "gateway"
        );
        assert_eq!(table.resolve("glm-5.3").unwrap().spec.name, "zai");
        let deepseek = table.get("deepseek").unwrap();
        assert_eq!(
            deepseek.anthropic_url.as_deref(),
            Some("https://deepseek.example.cn/anthropic")
        );
        assert_eq!(deepseek.key_env, "DEEPSEEK_API_KEY", "the rest is kept");
        assert_eq!(table.specs().count(), 5);
    }

    #[test]
    fn a_bad_file_is_refused_with_file_and_line() {
        let path = Path::new("/p/providers.toml");
        let error = Providers::with_file("[providers.x]\nanthropic_url = 3\n", path)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("/p/providers.toml: "), "{error}");
        assert!(error.contains("line 2"), "{error}");
        for bad in [
            "[providers.x]\nprefixes = [\"x/\"]\n",
            "[providers.x]\nanthropic_url = \"ftp://x\"\nprefixes = [\"x/\"]\n",
            "[providers.openai]\nanthropic_url = \"https://x\"\nprefixes = [\"x/\"]\n",
            "[providers.x]\nanthropic_url = \"https://x\"\nprefixes = []\n",
            "[providers.x]\nanthropic_url = \"https://x\"\nprefix = [\"x/\"]\n",
        ] {
            assert!(Providers::with_file(bad, path).is_err(), "{bad}");
        }
    }
}
