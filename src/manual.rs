//! `headroom man`: the manual pages, one for headroom and one per subcommand, rendered from the
//! same CLI definition as `--help`, with the environment and exit codes from their one
//! definitions (`env::DOCUMENTED`, `error::EXIT_CODES`).

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;

/// The subcommands that get a page of their own.
pub const PAGES: [&str; 7] = [
    "wrap",
    "report",
    "providers",
    "statusline",
    "status",
    "completions",
    "man",
];

/// Writes the page of `subcommand` (or of headroom itself) as roff.
pub fn render(subcommand: Option<&str>, out: &mut dyn Write) -> anyhow::Result<()> {
    let cli = Cli::command();
    let command = match subcommand {
        None => cli,
        Some(name) => {
            let sub = cli
                .find_subcommand(name)
                .ok_or_else(|| anyhow::anyhow!("no manual page for {name:?}"))?
                .clone();
            // A page lives as long as the process; the names must be 'static for clap.
            let page: &'static str = Box::leak(format!("headroom-{name}").into_boxed_str());
            let bin: &'static str = Box::leak(format!("headroom {name}").into_boxed_str());
            sub.name(page)
                .bin_name(bin)
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    if command.has_subcommands() {
        man.render_subcommands_section(out)?;
    }
    let mut extra = String::from(".SH ENVIRONMENT\n");
    for (name, meaning) in crate::env::DOCUMENTED {
        extra.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(name), roff(meaning)));
    }
    extra.push_str(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in crate::error::EXIT_CODES {
        extra.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(code), roff(meaning)));
    }
    let others: Vec<String> = std::iter::once("headroom".to_owned())
        .chain(PAGES.iter().map(|page| format!("headroom-{page}")))
        .filter(|page| {
            Some(page.as_str()) != subcommand.map(|name| format!("headroom-{name}")).as_deref()
        })
        .filter(|page| subcommand.is_some() || page != "headroom")
        .map(|page| format!("\\fB{}\\fR(1)", roff(&page)))
        .collect();
    extra.push_str(&format!(".SH \"SEE ALSO\"\n{}\n", others.join(", ")));
    out.write_all(extra.as_bytes())?;
    man.render_version_section(out)?;
    Ok(())
}

/// Text safe in a roff line: backslashes and hyphens escaped, no line starting with a control
/// character.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}
