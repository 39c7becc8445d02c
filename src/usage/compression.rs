//! What compression did to a request, as the ledger needs it: plain token figures behind a small
//! interface, so the ledger holds no compressor state and compression is priced where usage is.

/// Tokens compression changed in one request's prompt, by where they sit in it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PromptDelta {
    /// Removed from outputs new in this request: they would have been written to the cache (or
    /// sent as input).
    pub removed_newest: u64,
    /// Removed from outputs of earlier requests, replayed: they would have been read from the
    /// cache.
    pub removed_earlier: u64,
    /// Added by the agent's reads of originals new in this request (a cost of compression).
    pub added_newest: u64,
    /// Reads of originals from earlier requests, replayed.
    pub added_earlier: u64,
}

/// What compression did to one request, as the ledger reads it. The counts may still be under way
/// off the request path when the request is recorded, so they are asked for only when the ledger
/// prices them (the side that consumes the figures owns this interface).
pub trait Compression: Send + Sync + std::fmt::Debug {
    /// The tokens removed and added; waits for (or makes) pending counts.
    fn delta(&self) -> PromptDelta;
    /// Reads of originals new in this request.
    fn retrievals(&self) -> u64;
    /// The kinds that compressed outputs new in this request, for `--verbose`.
    fn kinds(&self) -> Vec<&'static str>;
}
