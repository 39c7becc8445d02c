//! Token usage: what one response reports (`Usage`), how it is read from the wire (`sse`,
//! `extract`), and where it adds up (`ledger`).

mod compression;
pub mod extract;
pub mod journal;
pub mod ledger;
pub mod quota;
pub mod sse;
pub mod status;

use serde::{Deserialize, Serialize};

pub use compression::{Compression, PromptDelta};

/// Who pays for a request: API billing (the agent's key, or a provider key headroom adds), or a
/// subscription plan the agent is signed in to (a ChatGPT login, a Claude plan), whose cost is
/// only an API-equivalent figure.
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Billing {
    #[default]
    Api,
    Subscription,
}

impl Billing {
    /// As the summary spells it.
    pub fn id(self) -> &'static str {
        match self {
            Billing::Api => "api",
            Billing::Subscription => "subscription",
        }
    }
}

/// An error an upstream answered with, as it may be shown and kept: one line, control characters
/// escaped, anything that looks like a key replaced by `***`, at most `MAX_ERROR_CHARS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamError {
    /// The HTTP status it came with (200 for an error event inside a stream).
    pub status: u16,
    /// The provider's error type or code (`invalid_request_error`), possibly empty.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// Longest error message kept.
const MAX_ERROR_CHARS: usize = 300;

impl UpstreamError {
    /// The error, made safe to show.
    pub fn new(status: u16, kind: &str, message: &str) -> Self {
        UpstreamError {
            status,
            kind: safe_line(kind, 64),
            message: safe_line(message, MAX_ERROR_CHARS),
        }
    }

    /// `400 invalid_request_error: thinking is not supported`.
    pub fn line(&self) -> String {
        match self.kind.as_str() {
            "" => format!("{} {}", self.status, self.message),
            kind => format!("{} {kind}: {}", self.status, self.message),
        }
    }
}

/// `text` on one line with secrets redacted and control characters escaped, cut at `max` chars.
fn safe_line(text: &str, max: usize) -> String {
    let redacted: Vec<String> = text
        .split_whitespace()
        .map(|word| {
            if looks_like_a_key(word) {
                "***".to_owned()
            } else {
                word.chars()
                    .map(|c| match c.is_control() {
                        true => c.escape_default().to_string(),
                        false => c.to_string(),
                    })
                    .collect()
            }
        })
        .collect();
    let line = redacted.join(" ");
    match line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// A word that may be a credential: a known key prefix, or a long run of letters and digits
/// mixing both (a token, not a word of prose).
fn looks_like_a_key(word: &str) -> bool {
    let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let lower = word.to_ascii_lowercase();
    if ["sk-", "sk_", "key-", "eyj", "ghp_", "xox"]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
        && word.len() >= 12
    {
        return true;
    }
    let token = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    token
        && word.len() >= 24
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic())
}

/// Tokens of one request (or a sum of requests), split the way providers bill them.
///
/// `input_tokens` counts only fresh input: cache reads and cache writes are separate, so the four
/// input fields add up to the whole prompt.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens neither read from nor written to the cache.
    pub input_tokens: u64,
    /// Generated tokens (reasoning included).
    pub output_tokens: u64,
    /// Prompt tokens served from the cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the 5-minute cache.
    pub cache_write_5m_tokens: u64,
    /// Prompt tokens written to the 1-hour cache.
    pub cache_write_1h_tokens: u64,
}

impl Usage {
    /// All cache writes, whatever their lifetime.
    pub fn cache_write_tokens(&self) -> u64 {
        self.cache_write_5m_tokens
            .saturating_add(self.cache_write_1h_tokens)
    }

    /// The whole prompt: fresh input, cache reads and cache writes.
    pub fn prompt_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_read_tokens)
            .saturating_add(self.cache_write_tokens())
    }

    /// Adds another request's usage to this one; sums stop at the largest count rather than wrap.
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cache_read_tokens = self
            .cache_read_tokens
            .saturating_add(other.cache_read_tokens);
        self.cache_write_5m_tokens = self
            .cache_write_5m_tokens
            .saturating_add(other.cache_write_5m_tokens);
        self.cache_write_1h_tokens = self
            .cache_write_1h_tokens
            .saturating_add(other.cache_write_1h_tokens);
    }

    /// Whether one request could really have used this many tokens: no model takes or writes a
    /// billion in one request, so a larger count is an upstream's error (or a hostile upstream),
    /// to be flagged rather than priced and summed.
    pub fn is_plausible(&self) -> bool {
        const MAX_PER_REQUEST: u64 = 1_000_000_000;
        [
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_5m_tokens,
            self.cache_write_1h_tokens,
        ]
        .iter()
        .all(|&count| count <= MAX_PER_REQUEST)
    }
}

#[cfg(test)]
mod error_tests {
    use super::UpstreamError;

    #[test]
    fn upstream_errors_are_one_safe_line_without_keys() {
        let error = UpstreamError::new(
            401,
            "authentication_error",
            "invalid x-api-key sk-ant-api03-abcdefghijklmnop\nsecond line \u{1b}[31mred\u{7} token 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        );
        assert_eq!(
            error.line(),
            "401 authentication_error: invalid x-api-key *** second line \\u{1b}[31mred\\u{7} token ***"
        );
        let long = UpstreamError::new(400, "", &"word ".repeat(200));
        assert!(long.message.chars().count() <= 301 && long.message.ends_with('…'));
        assert_eq!(long.line().split_once(' ').unwrap().0, "400");
        // Prose and numbers stay.
        let plain = UpstreamError::new(
            400,
            "invalid_request_error",
            "max_tokens: 200000 > 128000, the model's limit",
        );
        assert_eq!(
            plain.message,
            "max_tokens: 200000 > 128000, the model's limit"
        );
    }
}
