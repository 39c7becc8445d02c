//! Token usage: what one response reports (`Usage`), how it is read from the wire (`sse`,
//! `extract`), and where it adds up (`ledger`).

mod compression;
pub mod extract;
pub mod journal;
pub mod ledger;
pub mod quota;
pub mod sse;

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
