//! The user's configuration files: finding and reading the price overrides (`prices.toml`). A bad
//! file never stops a session: the caller gets the bundled prices and a warning naming the file.

use std::path::{Path, PathBuf};

use crate::env;
use crate::pricing::PriceBook;

/// The price book to use, and a warning when an override file could not be used.
pub fn price_book(explicit: Option<&Path>) -> (PriceBook, Option<String>) {
    let path = match explicit {
        Some(path) => path.to_owned(),
        None => match default_prices_path() {
            Some(path) if path.exists() => path,
            _ => return (PriceBook::default(), None),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            return (
                PriceBook::default(),
                Some(format!(
                    "could not read {}: {error}; using the bundled prices",
                    path.display()
                )),
            );
        }
    };
    match PriceBook::with_overrides(&text, &path.display().to_string()) {
        Ok(book) => (book, None),
        Err(error) => (
            PriceBook::default(),
            Some(format!("{error}; using the bundled prices")),
        ),
    }
}

/// `$HEADROOM_HOME/prices.toml`, or `prices.toml` in the user data directory.
fn default_prices_path() -> Option<PathBuf> {
    Some(headroom_home()?.join("prices.toml"))
}

/// `$HEADROOM_HOME`, or `headroom` in the user data directory.
pub fn headroom_home() -> Option<PathBuf> {
    match env::var(env::HEADROOM_HOME) {
        Some(home) => Some(PathBuf::from(home)),
        None => dirs::data_dir().map(|data| data.join("headroom")),
    }
}
