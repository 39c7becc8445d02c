//! The in-process HTTP proxy: `server` accepts and checks the session prefix, `route` picks the
//! upstream, `forward` sends the request, `stream` relays the response while tapping usage, and
//! `reply` writes the errors the proxy itself answers with, and `background` runs what can wait
//! (originals of compressed outputs). The proxy never prints.

pub mod background;
pub mod forward;
pub mod reply;
pub mod route;
pub mod server;
pub mod stream;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;

/// The header that carries the session secret for agents whose base URL is visible to others (in
/// Codex's argv): its value comes from the agent's environment, never from argv. Never forwarded.
pub const SESSION_HEADER: &str = "x-headroom-session";

/// Errors a response body can end with (an upstream that broke mid-stream).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body type of every response the proxy returns.
pub type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;
