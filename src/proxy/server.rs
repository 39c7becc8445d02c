//! The proxy's socket: binds 127.0.0.1 on a random port, mints the session secret, serves each
//! connection, and shuts down gracefully. A request whose path does not start with the session
//! prefix gets 404 and is never forwarded, so other local processes cannot spend the user's keys.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::task::JoinHandle;

use super::background::Background;
use super::route::{self, Upstreams};
use super::stream::{self, Tap};
use super::{ProxyBody, forward, reply};
use crate::body::Read;
use crate::compress::{Compressor, Outcome};
use crate::env::{self, Secret};
use crate::pricing::usd;
use crate::providers::{Family, Provider};
use crate::usage::ledger::{Ledger, Refusal, RequestRecord, Reservation};
use crate::usage::{Billing, Compression};

/// Request bodies above this size are refused: the proxy reads the whole body to route it.
const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;
/// What Codex sends beside its token when signed in with ChatGPT.
const CHATGPT_ACCOUNT_HEADER: &str = "chatgpt-account-id";
/// All request bodies in memory at once stay under this.
const MAX_BODIES_BYTES: usize = 256 * 1024 * 1024;
/// How long to wait for a TCP/TLS connection to an upstream, unless HEADROOM_CONNECT_TIMEOUT says.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for an upstream's response headers, unless HEADROOM_RESPONSE_TIMEOUT says:
/// longer than a model takes to start answering a very large prompt.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a response body may send nothing, unless HEADROOM_STREAM_IDLE_TIMEOUT says: models
/// that think at length still send keep-alive events well within this.
const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// How long the proxy waits on an upstream.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    response: Duration,
    stream_idle: Duration,
}
/// Request bodies up to this size are compressed on the runtime's own thread (see `compress`).
const INLINE_COMPRESS_BYTES: usize = 256 * 1024;
/// A client must send each request's headers within this, also the next request on a kept-alive
/// connection (so it is the idle timeout as well); longer than agents' own idle timeouts.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Open connections allowed at once; at the cap, one that never presented the secret is closed.
const MAX_CONNECTIONS: usize = 128;
/// How long the accept loop waits after a failed accept (out of file descriptors, say).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
/// How long shutdown waits for in-flight responses after the agent has exited.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Everything a request handler needs; shared by all connections.
#[derive(Debug)]
pub struct State {
    prefix: String,
    secret: Secret,
    upstreams: Upstreams,
    default_family: Family,
    client: reqwest::Client,
    ledger: Arc<Ledger>,
    /// `wrap --budget`: nothing is forwarded once the known cost reaches it.
    budget_usd: Option<f64>,
    refused_requests: AtomicU64,
    compressor: Option<Arc<Compressor>>,
    pinned_provider: Option<Provider>,
    /// The budget of request bytes in memory, in KiB.
    bodies: Arc<Semaphore>,
    timeouts: Timeouts,
    background: Background,
}

impl State {
    fn new(
        options: ProxyOptions,
        ledger: Arc<Ledger>,
        secret: Secret,
        client: reqwest::Client,
    ) -> anyhow::Result<State> {
        Ok(State {
            prefix: format!("/s/{}", secret.expose()),
            secret,
            upstreams: options.upstreams,
            default_family: options.default_family,
            client,
            ledger,
            budget_usd: options.budget_usd,
            refused_requests: AtomicU64::new(0),
            compressor: options.compressor,
            pinned_provider: options.pinned_provider,
            bodies: Arc::new(Semaphore::new(MAX_BODIES_BYTES / 1024)),
            timeouts: Timeouts {
                response: seconds_from_env(env::HEADROOM_RESPONSE_TIMEOUT, RESPONSE_TIMEOUT)?,
                stream_idle: seconds_from_env(
                    env::HEADROOM_STREAM_IDLE_TIMEOUT,
                    STREAM_IDLE_TIMEOUT,
                )?,
            },
            background: Background::start().context("could not start a thread")?,
        })
    }
}

/// How the proxy behaves for this session.
#[derive(Debug)]
pub struct ProxyOptions {
    pub upstreams: Upstreams,
    /// The family of paths that are neither Messages nor Responses/Chat (the agent's own).
    pub default_family: Family,
    pub budget_usd: Option<f64>,
    /// `None` with --no-compress.
    pub compressor: Option<Arc<Compressor>>,
    /// The provider `wrap --model` chose, when it is not the agent's own: a body whose model
    /// cannot be read is then refused rather than sent to the agent's own upstream.
    pub pinned_provider: Option<Provider>,
}

/// A running proxy; call `shutdown` once the agent has exited.
#[derive(Debug)]
pub struct Proxy {
    /// The base URL handed to the agent: `http://127.0.0.1:PORT/s/<secret>`.
    pub base_url: Secret,
    /// The session secret alone (for agents that take it as a token).
    pub secret: Secret,
    /// `http://127.0.0.1:PORT`, with no secret: for agents whose base URL others can see, which
    /// present the secret in a header instead.
    pub origin: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    state: Arc<State>,
}

impl Proxy {
    /// Binds and starts serving; the proxy accepts connections before this returns.
    pub async fn start(options: ProxyOptions, ledger: Arc<Ledger>) -> anyhow::Result<Proxy> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("could not bind the proxy to 127.0.0.1")?;
        let addr = listener
            .local_addr()
            .context("could not read the proxy's address")?;
        let secret = Secret::random().context("could not make the session secret")?;
        let client = reqwest::Client::builder()
            .connect_timeout(seconds_from_env(
                env::HEADROOM_CONNECT_TIMEOUT,
                CONNECT_TIMEOUT,
            )?)
            // A redirect goes back to the agent as the upstream sent it: followed here, it would
            // carry the agent's credentials to another origin and turn a POST into a GET.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("could not build the HTTP client")?;
        let state = Arc::new(State::new(options, ledger, secret.clone(), client)?);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, state.clone(), stopped));
        Ok(Proxy {
            base_url: Secret::new(format!("http://{addr}/s/{}", secret.expose())),
            secret,
            origin: format!("http://{addr}"),
            stop,
            task,
            state,
        })
    }

    /// Requests refused because the budget was reached.
    pub fn refused_requests(&self) -> u64 {
        self.state.refused_requests.load(Ordering::Relaxed)
    }

    /// Stops accepting and lets in-flight responses finish (bounded). Every response body records
    /// its request when it ends or is dropped, so once the connections are gone the ledger is
    /// complete.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// A number of seconds from the environment (`name`), else `default`; anything but a positive
/// number is a usage error naming the variable.
fn seconds_from_env(name: &str, default: Duration) -> Result<Duration, crate::error::Error> {
    let Some(text) = env::var(name) else {
        return Ok(default);
    };
    text.parse::<f64>()
        .ok()
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .filter(|timeout| !timeout.is_zero())
        .ok_or_else(|| crate::error::Error::Config {
            message: format!("{name}={text:?} is not a number of seconds"),
            hint: Some(format!("use e.g. {name}=10 or 2.5")),
        })
}

/// Open connections, so that the cap can close one that never proved it is the agent's.
#[derive(Default)]
struct Connections {
    open: Vec<Arc<Connection>>,
}

/// One connection's standing.
#[derive(Default)]
struct Connection {
    /// Set once a request on it carried the session secret.
    authenticated: AtomicBool,
    /// Closes the connection when notified.
    close: Notify,
}

fn lock(connections: &std::sync::Mutex<Connections>) -> std::sync::MutexGuard<'_, Connections> {
    connections
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
}

impl Connections {
    /// Makes room for one more: at the cap, the oldest connection that never presented the secret
    /// is closed. `false` when every open connection is the agent's (the new one is refused).
    fn make_room(&mut self) -> bool {
        if self.open.len() < MAX_CONNECTIONS {
            return true;
        }
        self.close_one_stranger()
    }

    /// Closes the oldest connection that never presented the secret, if there is one.
    fn close_one_stranger(&mut self) -> bool {
        let Some(at) = self
            .open
            .iter()
            .position(|connection| !connection.authenticated.load(Ordering::Relaxed))
        else {
            return false;
        };
        let stranger = self.open.remove(at);
        stranger.close.notify_one();
        true
    }
}

async fn serve(listener: TcpListener, state: Arc<State>, mut stopped: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(std::sync::Mutex::new(Connections::default()));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let tcp = match accepted {
                    Ok((tcp, _)) => tcp,
                    Err(error) => {
                        // Out of file descriptors (a flood of idle sockets): free one by closing a
                        // stranger's connection, and wait a moment instead of spinning on accept.
                        let out_of_fds = matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
                        if out_of_fds {
                            lock(&connections).close_one_stranger();
                        }
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let connection = Arc::new(Connection::default());
                {
                    let mut open = lock(&connections);
                    if !open.make_room() {
                        continue;
                    }
                    open.open.push(connection.clone());
                }
                let _ = tcp.set_nodelay(true);
                let state = state.clone();
                let standing = connection.clone();
                let service = service_fn(move |request| {
                    let (state, standing) = (state.clone(), standing.clone());
                    async move { Ok::<_, Infallible>(handle(&state, request, &standing.authenticated).await) }
                });
                // A client must send a request's headers within the timeout, including the next
                // request on a kept-alive connection: idle sockets do not stay open for ever.
                let serving = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .serve_connection(TokioIo::new(tcp), service);
                let serving = graceful.watch(serving);
                let connections = connections.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = serving => {}
                        () = connection.close.notified() => {}
                    }
                    lock(&connections).open.retain(|open| !Arc::ptr_eq(open, &connection));
                });
            }
            _ = &mut stopped => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
    // Answers still streaming once the agent is gone are cut here, so each one's request is
    // recorded (as partial, with the usage seen so far) before the ledger is read.
    for connection in lock(&connections).open.drain(..) {
        connection.close.notify_one();
    }
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while Arc::strong_count(&connections) > 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

/// Handles one request: check the session prefix, route, forward, relay. `authenticated` is set
/// when the request proves it is the agent's.
///
/// Generic over the body, so that tests can call it without a socket (as axum's
/// `examples/testing` does).
pub async fn handle<B>(
    state: &State,
    request: Request<B>,
    authenticated: &AtomicBool,
) -> Response<ProxyBody>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let Some(rest) = authorized_path(state, path, &parts.headers) else {
        // Claude Code probes the server with HEAD before it starts; nothing is forwarded.
        if parts.method == Method::HEAD && path == "/" {
            return reply::empty(StatusCode::OK);
        }
        return reply::empty(StatusCode::NOT_FOUND);
    };
    authenticated.store(true, Ordering::Relaxed);
    if !is_normal(rest) {
        return reply::error(
            route::family_for(rest, state.default_family),
            StatusCode::BAD_REQUEST,
            "headroom: the request path holds dot segments, encoded dots or backslashes; nothing was forwarded",
        );
    }
    if parts.method == Method::HEAD && (rest.is_empty() || rest == "/") {
        return reply::empty(StatusCode::OK);
    }
    // headroom's own: the session's figures for status lines. Answered here, never forwarded,
    // and computed off the request path (it may price savings counted so far).
    if rest == STATUS_PATH {
        if parts.method != Method::GET {
            return reply::empty(StatusCode::METHOD_NOT_ALLOWED);
        }
        let ledger = state.ledger.clone();
        let budget = state.budget_usd;
        let status = tokio::task::spawn_blocking(move || ledger.status(budget)).await;
        return match status {
            Ok(status) => reply::json(serde_json::to_vec(&status).unwrap_or_default()),
            Err(_) => reply::empty(StatusCode::INTERNAL_SERVER_ERROR),
        };
    }
    let path_and_query = match parts.uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let family = route::family_for(&path_and_query, state.default_family);

    // Held until the body has gone upstream: every body in memory counts against one budget.
    let (body, _body_budget) = match collect(state, body).await {
        Ok(collected) => collected,
        Err((status, message)) => return reply::error(family, status, &message),
    };

    // The one reading of the body: model, output limit and conversation.
    let read = crate::body::read(&body);
    let model = read.model.clone();
    if let Some(pinned) = state.pinned_provider
        && model.is_none()
        && parts.method == Method::POST
        && !body.is_empty()
    {
        // Duplicate `model` keys (upstreams read the last), a model that is not a string, or
        // bytes after the JSON: routed by default, such a body would reach the agent's own
        // provider with its credentials.
        return reply::error(
            family,
            StatusCode::BAD_REQUEST,
            &format!(
                "headroom: this session runs on {} (wrap --model), and this request's model could not be read \
                 (not JSON, a duplicate or non-string \"model\", or bytes after the JSON); nothing was forwarded",
                pinned.id()
            ),
        );
    }
    let route = route::route_for(
        &path_and_query,
        model.as_ref().map(|field| field.name.as_str()),
        state.default_family,
        &state.upstreams,
    );
    let mut route = match route {
        Ok(route) => route,
        Err(unserved) => {
            state.ledger.record(RequestRecord::unanswered(
                unserved.provider,
                unserved.model.clone(),
                String::new(),
                StatusCode::BAD_REQUEST.as_u16(),
                started.elapsed(),
                Billing::Api,
            ));
            return reply::error(
                family,
                StatusCode::BAD_REQUEST,
                &format!("headroom: {unserved}"),
            );
        }
    };
    if parts.headers.contains_key(CHATGPT_ACCOUNT_HEADER) {
        route = route.for_chatgpt_sign_in(&state.upstreams);
    }
    let billing = billing_of(&route, &parts.headers, &state.secret);
    let forwarded_model = route
        .model_rewrite
        .clone()
        .or_else(|| model.as_ref().map(|field| field.name.clone()));
    let upstream_host = host_of(&route.url);
    let fail = |status: StatusCode, message: &str| {
        state.ledger.record(RequestRecord::unanswered(
            route.provider,
            forwarded_model
                .clone()
                .unwrap_or_else(|| "(unknown)".into()),
            upstream_host.clone(),
            status.as_u16(),
            started.elapsed(),
            billing,
        ));
        reply::error(route.family, status, message)
    };

    if let Provider::Compatible(spec) = route.provider
        && state.upstreams.key_for(route.provider).is_none()
    {
        return fail(
            StatusCode::UNAUTHORIZED,
            &format!(
                "headroom: {} is not set; it is needed for {} model {:?}. Set it and restart headroom.",
                spec.key_env,
                spec.name,
                forwarded_model.as_deref().unwrap_or_default()
            ),
        );
    }
    let Compressed {
        outcome,
        compression,
        written,
    } = compress(state, &body, &read, route.family).await;
    // The one splice: the model's new name and the compressed outputs, into the original bytes.
    let new_model = route
        .model_rewrite
        .as_ref()
        .map(|name| serde_json::Value::from(name.as_str()).to_string());
    let mut edits: Vec<_> = outcome.iter().flat_map(Outcome::edits).collect();
    if let (Some(field), Some(new_model)) = (&model, &new_model) {
        edits.push((field.span.clone(), new_model.as_bytes()));
    }
    let max_output_tokens = read.max_output_tokens;
    let body = if edits.is_empty() {
        body
    } else {
        crate::body::splice(&body, edits)
    };
    // A plan's own quota limits what it covers; the budget caps billed dollars (`wrap --help`).
    let reservation = match state.budget_usd.filter(|_| billing == Billing::Api) {
        None => None,
        Some(budget) => match reserve(
            state,
            budget,
            &route,
            forwarded_model.as_deref(),
            body.len(),
            max_output_tokens,
        ) {
            Ok(reservation) => Some(reservation),
            Err(message) => {
                state.refused_requests.fetch_add(1, Ordering::Relaxed);
                // 400: shown to the user and not retried, unlike 429 and 5xx.
                return fail(StatusCode::BAD_REQUEST, &message);
            }
        },
    };
    let headers =
        forward::upstream_headers(&parts.headers, &route, &state.upstreams, &state.secret);
    let sent = tokio::time::timeout(
        state.timeouts.response,
        forward::send(&state.client, parts.method, &route, headers, body),
    )
    .await;
    let Ok(sent) = sent else {
        return fail(
            StatusCode::GATEWAY_TIMEOUT,
            &format!(
                "headroom: {upstream_host} sent no response within {} s ({} sets this)",
                state.timeouts.response.as_secs_f64(),
                env::HEADROOM_RESPONSE_TIMEOUT
            ),
        );
    };
    match sent {
        Ok(upstream) => stream::relay(
            upstream,
            Tap {
                ledger: state.ledger.clone(),
                provider: route.provider,
                family: route.family,
                model: forwarded_model.clone(),
                upstream: upstream_host.clone(),
                started,
                first_byte: None,
                compression,
                originals_written: written,
                reservation,
                billing,
                idle_timeout: state.timeouts.stream_idle,
            },
        ),
        Err(error @ forward::ForwardError::Timeout { .. }) => {
            fail(StatusCode::GATEWAY_TIMEOUT, &format!("headroom: {error}"))
        }
        Err(error) => fail(
            StatusCode::BAD_GATEWAY,
            &format!(
                "headroom: {}",
                crate::error::one_line(&anyhow::Error::new(error))
            ),
        ),
    }
}

/// The body with its tool outputs compressed (model already spliced), and the tokens removed.
///
/// Compressing a new 30 KB tool output costs a few tenths of a millisecond (`cargo bench --bench
/// compress`). Bodies up to `INLINE_COMPRESS_BYTES` are done in place, where a hand-off to another
/// thread would cost more than it saves; larger ones go to the blocking pool, so the one-thread
/// runtime keeps relaying other streams meanwhile. Anything the compressor does not understand,
/// or a failed task, leaves the body as it is.
async fn compress(state: &State, body: &Bytes, read: &Read<'_>, family: Family) -> Compressed {
    let Some(compressor) = state.compressor.clone() else {
        return Compressed::default();
    };
    let outcome = if body.len() <= INLINE_COMPRESS_BYTES {
        Ok(compressor.compress(body, read, family))
    } else {
        // On the blocking pool the body is read again: the proxy's thread stays free meanwhile.
        let (compressor, input) = (compressor.clone(), body.clone());
        tokio::task::spawn_blocking(move || {
            compressor.compress(&input, &crate::body::read(&input), family)
        })
        .await
    };
    let Ok(Some(outcome)) = outcome else {
        return Compressed::default();
    };
    // New originals go to disk and get counted while the upstream works on the request. The
    // agent can ask for a file its markers name once it has the answer, so the answer waits for
    // them: whatever the background thread (which yields to every other thread) has not written
    // by then is written on the spot.
    let mut written: Option<KeepOriginals> = None;
    if outcome.savings.is_pending() {
        let savings = outcome.savings.clone();
        if savings.writes_files() {
            let (compressor, savings) = (compressor.clone(), savings.clone());
            written = Some(Box::new(move || {
                compressor.finish(&savings, &crate::compress::originals::keep)
            }));
        }
        state
            .background
            .run(move || compressor.finish(&savings, &crate::compress::originals::keep));
    }
    Compressed {
        compression: Some(Arc::new(outcome.savings.clone())),
        outcome: Some(outcome),
        written,
    }
}

/// What compression does to a request body.
#[derive(Default)]
struct Compressed {
    /// The edits to splice into the body.
    outcome: Option<Outcome>,
    compression: Option<Arc<dyn Compression>>,
    /// Writes the originals its markers name, if the background thread has not yet.
    written: Option<KeepOriginals>,
}

/// Writes a request's originals (a no-op for those already written).
pub type KeepOriginals = Box<dyn FnOnce() + Send>;

/// The path (after the session prefix) of the live status.
pub const STATUS_PATH: &str = "/headroom/status";

/// Who pays for a request: a ChatGPT sign-in, or Claude Code signed in to a Claude plan (an OAuth
/// bearer, announced by the `oauth-…` beta flag, that is not the session secret), is a
/// subscription; anything else is billed by the API.
fn billing_of(route: &route::Route, headers: &hyper::HeaderMap, secret: &Secret) -> Billing {
    let claude_plan = route.provider == Provider::Anthropic
        && headers
            .get_all("anthropic-beta")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|flags| {
                flags
                    .split(',')
                    .any(|flag| flag.trim().starts_with("oauth-"))
            })
        && headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| !secret.matches(forward::bearer_token(value)));
    if route.provider == Provider::ChatGpt || claude_plan {
        Billing::Subscription
    } else {
        Billing::Api
    }
}

/// Without a limit in the request, the output a budget must allow for.
const DEFAULT_MAX_OUTPUT_TOKENS: u64 = 128_000;

/// Holds the request's worst case against the budget, or says why it may not go: every byte of
/// the body as a prompt token (a token is at least a byte) at the dearest prompt rate, and the
/// output it asks for at most.
fn reserve(
    state: &State,
    budget: f64,
    route: &route::Route,
    model: Option<&str>,
    body_bytes: usize,
    max_output_tokens: Option<u64>,
) -> Result<Reservation, String> {
    let model = model.unwrap_or_default();
    let output = max_output_tokens.unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS);
    let rerun = (budget * 2.0).max(1.0).ceil();
    state
        .ledger
        .reserve(budget, route.provider.id(), model, body_bytes as u64, output)
        .map_err(|refusal| match refusal {
            Refusal::Exhausted {
                spent_usd,
                reserved_usd,
                worst_usd,
            } => format!(
                "headroom: the session budget of {} does not cover this request ({} spent, \
                 {} held by requests in flight, up to {} for this one); nothing was forwarded. \
                 To continue, exit and start again with a higher budget, e.g. `headroom wrap --budget {rerun} ...`.",
                usd(budget),
                usd(spent_usd),
                usd(reserved_usd),
                usd(worst_usd)
            ),
            Refusal::Unpriced => format!(
                "headroom: model {model:?} has no known price, so --budget cannot bound its cost; nothing was forwarded. \
                 Add its rates to prices.toml (see `headroom wrap --help`, --prices) or run without --budget."
            ),
        })
}

/// A request body, read whole (compression and routing need it), within the per-request limit
/// and the budget for all bodies in memory at once: beyond that a flood of large bodies gets a
/// 503 instead of the memory. The permit is the body's share of that budget.
async fn collect<B>(
    state: &State,
    mut body: B,
) -> Result<(Bytes, OwnedSemaphorePermit), (StatusCode, String)>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let busy = || {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "headroom: over {} MiB of request bodies are in flight; try again in a moment",
                MAX_BODIES_BYTES >> 20
            ),
        )
    };
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("headroom: request body over {MAX_REQUEST_BYTES} bytes"),
        )
    };
    let declared = hyper::body::Body::size_hint(&body).lower() as usize;
    if declared > MAX_REQUEST_BYTES {
        return Err(too_large());
    }
    let kib = |bytes: usize| u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
    let mut permit = state
        .bodies
        .clone()
        .try_acquire_many_owned(kib(declared))
        .map_err(|_| busy())?;
    let mut held = declared;
    let mut collected = bytes::BytesMut::with_capacity(declared);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            (
                StatusCode::BAD_REQUEST,
                format!("headroom: could not read the request body: {error}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if collected.len() + data.len() > MAX_REQUEST_BYTES {
            return Err(too_large());
        }
        collected.extend_from_slice(&data);
        if collected.len() > held {
            let more = state
                .bodies
                .clone()
                .try_acquire_many_owned(kib(collected.len()) - kib(held))
                .map_err(|_| busy())?;
            permit.merge(more);
            held = kib(collected.len()) as usize * 1024;
        }
    }
    Ok((collected.freeze(), permit))
}

/// The path to route, if the request proves it comes from the agent: the session secret as the
/// path's prefix (Claude Code, whose base URL is in its environment), or in the session header or
/// as the bearer (Codex, whose base URL is in its argv, visible to every local user, while the
/// header's value comes from its environment). Anything else gets nothing forwarded.
fn authorized_path<'a>(
    state: &State,
    path: &'a str,
    headers: &hyper::HeaderMap,
) -> Option<&'a str> {
    if let Some(rest) = path
        .strip_prefix(&state.prefix)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    {
        return Some(rest);
    }
    let presented = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|value| state.secret.matches(forward::bearer_token(value)))
    };
    (presented(super::SESSION_HEADER) || presented(hyper::header::AUTHORIZATION.as_str()))
        .then_some(path)
}

/// Whether a path reads the same however an upstream normalises it: no `.` or `..` segments, no
/// percent-encoded dots or slashes, no backslashes (which some servers treat as `/`). A path that
/// would leave the upstream's base (`/anthropic/../admin`) is refused, not forwarded.
fn is_normal(path: &str) -> bool {
    let lowered = path.to_ascii_lowercase();
    !path.contains('\\')
        && !lowered.contains("%2e")
        && !lowered.contains("%2f")
        && !lowered.contains("%5c")
        && !path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
}

/// The host (and port) of a URL, for log lines.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?']).next().unwrap_or(rest).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::PriceBook;
    use crate::providers::Providers;
    use http_body_util::Full;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    /// A session whose upstreams no test reaches: every case here is decided before forwarding.
    fn state(budget_usd: Option<f64>, pinned_provider: Option<Provider>) -> State {
        let nowhere = "http://127.0.0.1:9".to_owned();
        let mut upstreams =
            Upstreams::for_tests(Providers::built_in(), &[("minimax", "mm-key")], None);
        upstreams.anthropic = nowhere.clone();
        upstreams.openai = nowhere.clone();
        upstreams.chatgpt = nowhere.clone();
        for provider in &mut upstreams.compatible {
            provider.anthropic = Some(nowhere.clone());
            provider.openai = Some(nowhere.clone());
        }
        let options = ProxyOptions {
            upstreams,
            default_family: Family::Anthropic,
            budget_usd,
            compressor: None,
            pinned_provider,
        };
        let ledger = Arc::new(Ledger::new(PriceBook::default(), None));
        State::new(options, ledger, Secret::new(SECRET), reqwest::Client::new()).unwrap()
    }

    async fn call(
        state: &State,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, String, bool) {
        let mut request = Request::post(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap();
        let authenticated = AtomicBool::new(false);
        let response = handle(state, request, &authenticated).await;
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            String::from_utf8_lossy(&bytes).into_owned(),
            authenticated.load(Ordering::Relaxed),
        )
    }

    #[tokio::test(flavor = "current_thread")]
    async fn only_the_secret_in_the_path_or_a_header_opens_the_proxy() {
        let minimax = crate::providers::table().get("minimax").unwrap();
        let state = state(None, Some(Provider::Compatible(minimax)));
        let unreadable = r#"{"model":"minimax/MiniMax-M3","model":"claude-opus-5-5"}"#;
        let prefix = format!("/s/{SECRET}/v1/messages");
        let bearer = format!("bearer  {SECRET}");
        // Path, headers, and the status and standing the request gets.
        type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, (StatusCode, bool));
        let cases: [Case<'_>; 6] = [
            ("/v1/messages", vec![], (StatusCode::NOT_FOUND, false)),
            (
                "/v1/messages",
                vec![(super::super::SESSION_HEADER, "wrong")],
                (StatusCode::NOT_FOUND, false),
            ),
            (
                "/s/wrong/v1/messages",
                vec![],
                (StatusCode::NOT_FOUND, false),
            ),
            (
                "/v1/messages",
                vec![(super::super::SESSION_HEADER, SECRET)],
                (StatusCode::BAD_REQUEST, true),
            ),
            (
                "/v1/messages",
                vec![("authorization", &bearer)],
                (StatusCode::BAD_REQUEST, true),
            ),
            (&prefix, vec![], (StatusCode::BAD_REQUEST, true)),
        ];
        for (path, headers, expected) in cases {
            let (status, _, authenticated) = call(&state, path, &headers, unreadable).await;
            assert_eq!((status, authenticated), expected, "{path} {headers:?}");
        }
        assert!(
            state.ledger.requests().is_empty(),
            "nothing was forwarded or billed"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn paths_that_normalise_elsewhere_are_refused() {
        let state = state(None, None);
        for rest in [
            "/v1/../admin",
            "/v1/%2E%2e/admin",
            "/./v1/messages",
            "/v1/%2fadmin",
        ] {
            let (status, body, _) = call(&state, &format!("/s/{SECRET}{rest}"), &[], "{}").await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{rest}");
            assert!(body.contains("\"type\":\"error\""), "{body}");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn under_a_budget_a_model_without_a_price_is_refused_and_counted() {
        let state = state(Some(5.0), None);
        let (status, body, _) = call(
            &state,
            &format!("/s/{SECRET}/v1/messages"),
            &[],
            r#"{"model":"mystery-model","max_tokens":10}"#,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("prices.toml"), "{body}");
        assert_eq!(state.refused_requests.load(Ordering::Relaxed), 1);
        assert_eq!(state.ledger.requests()[0].status, 400);
    }
}
