//! `headroom providers`: the provider table as this environment reaches it. Key variables are
//! named with whether they are set, never with their values.

use std::io::Write;

use comfy_table::presets::ASCII_MARKDOWN;
use comfy_table::{ContentArrangement, Table};

use super::Origin;
use crate::cli::ProviderArgs;
use crate::env;
use crate::error::ExitStatus;
use crate::proxy::route::Upstreams;

/// Runs `headroom providers`.
pub fn run(args: &ProviderArgs) -> anyhow::Result<ExitStatus> {
    let (providers, warning) = crate::config::providers(args.providers.as_deref())?;
    if let Some(warning) = warning {
        eprintln!("headroom: warning: {warning}");
    }
    let providers = super::install(providers);
    let upstreams = Upstreams::from_env(providers);
    let mut table = Table::new();
    table.load_style(ASCII_MARKDOWN);
    table.force_no_tty();
    table.set_content_arrangement(ContentArrangement::Disabled);
    table.set_header([
        "Provider",
        "Models",
        "Key",
        "Claude Code (Anthropic API)",
        "Codex (Responses API)",
        "From",
    ]);
    let set = |name: &str| {
        if env::var(name).is_some() {
            format!("{name} (set)")
        } else {
            format!("{name} (not set)")
        }
    };
    table.add_row([
        "anthropic".to_owned(),
        "claude-*, anything else".to_owned(),
        "the agent's own".to_owned(),
        upstreams.anthropic.clone(),
        "-".to_owned(),
        "built-in".to_owned(),
    ]);
    table.add_row([
        "openai".to_owned(),
        "anything else".to_owned(),
        format!("the agent's own, or {}", set(env::OPENAI_API_KEY)),
        "-".to_owned(),
        upstreams.openai.clone(),
        "built-in".to_owned(),
    ]);
    for upstream in &upstreams.compatible {
        let spec = upstream.spec;
        let models: Vec<String> = spec
            .prefixes
            .iter()
            .map(|prefix| format!("{prefix}…"))
            .chain(spec.names.iter().map(|name| format!("{name}*")))
            .collect();
        let codex = match (&upstream.openai, spec.responses) {
            (Some(url), true) => url.clone(),
            (Some(_), false) => "no Responses API".to_owned(),
            (None, _) => "-".to_owned(),
        };
        table.add_row([
            spec.name.clone(),
            models.join(", "),
            set(&spec.key_env),
            upstream.anthropic.clone().unwrap_or_else(|| "-".to_owned()),
            codex,
            match &spec.origin {
                Origin::BuiltIn => "built-in".to_owned(),
                Origin::File(path) => path.display().to_string(),
            },
        ]);
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{table}")?;
    writeln!(
        stdout,
        "URLs in effect (a provider's <NAME>_TARGET_API_URL and <NAME>_OPENAI_TARGET_API_URL replace its own). \
         Add or change providers in $HEADROOM_HOME/providers.toml (see `headroom help providers`)."
    )?;
    Ok(ExitStatus::Success)
}
