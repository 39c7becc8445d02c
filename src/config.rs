//! The user's configuration files: price overrides (`prices.toml`) and providers
//! (`providers.toml`). One rule for both: a file given by a flag must be readable and valid (else
//! an error, exit 2); a file in its default place that is unreadable or malformed is a warning
//! naming the file and line, and the session runs on with the built-in data.

use std::path::{Path, PathBuf};

use crate::env;
use crate::error::Error;
use crate::pricing::PriceBook;
use crate::providers::Providers;

/// The price book to use, and a warning when the default override file could not be used.
pub fn price_book(explicit: Option<&Path>) -> Result<(PriceBook, Option<String>), Error> {
    load(
        explicit,
        "--prices",
        "prices.toml",
        |text, path| {
            PriceBook::with_overrides(text, &path.display().to_string()).map_err(|e| e.to_string())
        },
        PriceBook::default,
        "the bundled prices",
    )
}

/// The provider table to use, and a warning when the default `providers.toml` could not be used.
pub fn providers(explicit: Option<&Path>) -> Result<(Providers, Option<String>), Error> {
    load(
        explicit,
        "--providers",
        "providers.toml",
        |text, path| Providers::with_file(text, path).map_err(|e| e.to_string()),
        Providers::built_in,
        "the built-in providers",
    )
}

/// Reads and parses the file given by `flag`, else the one named `file_name` in headroom's home
/// when it exists, else nothing (`fallback`).
fn load<T>(
    explicit: Option<&Path>,
    flag: &str,
    file_name: &str,
    parse: impl Fn(&str, &Path) -> Result<T, String>,
    fallback: impl Fn() -> T,
    fallback_name: &str,
) -> Result<(T, Option<String>), Error> {
    if let Some(path) = explicit {
        let text = std::fs::read_to_string(path).map_err(|error| Error::Config {
            message: format!("could not read {} ({flag}): {error}", path.display()),
            hint: Some(format!("give {flag} a readable file, or leave it out")),
        })?;
        let parsed = parse(&text, path).map_err(|message| Error::Config {
            message,
            hint: Some(format!(
                "fix the file (see `headroom help wrap`, {flag}), or leave {flag} out"
            )),
        })?;
        return Ok((parsed, None));
    }
    let Some(path) = headroom_home().map(|home| home.join(file_name)) else {
        return Ok((fallback(), None));
    };
    if !path.exists() {
        return Ok((fallback(), None));
    }
    let parsed = std::fs::read_to_string(&path)
        .map_err(|error| format!("could not read {}: {error}", path.display()))
        .and_then(|text| parse(&text, &path));
    Ok(match parsed {
        Ok(parsed) => (parsed, None),
        Err(message) => (
            fallback(),
            Some(format!("{message}; using {fallback_name}")),
        ),
    })
}

/// `$HEADROOM_HOME`, or `headroom` in the user data directory.
pub fn headroom_home() -> Option<PathBuf> {
    match env::var(env::HEADROOM_HOME) {
        Some(home) => Some(PathBuf::from(home)),
        None => dirs::data_dir().map(|data| data.join("headroom")),
    }
}

/// A TOML error as one line: `line 2, column 9: invalid type: string "cheap", expected f64`.
pub fn toml_error(error: &toml::de::Error, text: &str) -> String {
    let message = error.message().trim_end();
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn toml_errors_name_line_and_column_on_one_line() {
        let text = "[models.x]\ninput = \"cheap\"\n";
        let error = toml::from_str::<toml::Table>("a = \n").unwrap_err();
        assert!(super::toml_error(&error, "a = \n").starts_with("line 1, column "));
        #[derive(Debug, serde::Deserialize)]
        struct Rates {
            #[allow(dead_code)]
            input: f64,
        }
        #[derive(Debug, serde::Deserialize)]
        struct File {
            #[allow(dead_code)]
            models: std::collections::BTreeMap<String, Rates>,
        }
        let error = toml::from_str::<File>(text).unwrap_err();
        let shown = super::toml_error(&error, text);
        assert!(
            shown.starts_with("line 2, column 9: invalid type"),
            "{shown}"
        );
        assert!(!shown.contains('\n'));
    }
}
