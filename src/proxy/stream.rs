//! Relays an upstream response to the agent frame by frame, exactly as it arrives, and shows each
//! frame to a usage tap running beside it. This room never buffers the body it relays: the tap gets
//! cheap clones of the same `Bytes` over a channel and does its parsing off the agent's path.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use tokio::sync::mpsc;

use super::forward::{connection_listed, is_hop_by_hop};
use super::route::{Family, Provider};
use super::{BoxError, ProxyBody};
use crate::usage::extract::UsageReader;
use crate::usage::ledger::{Ledger, RequestRecord};
use crate::usage::sse;

/// A non-streaming body larger than this is relayed but not read for usage.
const MAX_TAPPED_JSON_BYTES: usize = 16 * 1024 * 1024;

/// What the tap needs to record a finished request.
#[derive(Debug)]
pub struct Tap {
    pub ledger: Arc<Ledger>,
    pub provider: Provider,
    pub family: Family,
    /// The model as forwarded, used when the response names none.
    pub model: Option<String>,
    pub upstream: String,
    pub started: Instant,
    /// Held until the tap has recorded, so shutdown can wait for every tap.
    pub alive: mpsc::Sender<()>,
}

/// The agent's response: upstream status and headers, and the body relayed as it arrives.
pub fn relay(upstream: reqwest::Response, tap: Tap) -> Response<ProxyBody> {
    let status = upstream.status();
    let is_sse = upstream
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"));
    let mut response = Response::builder().status(status);
    let listed = connection_listed(upstream.headers());
    for (name, value) in upstream.headers() {
        // Content-length may stay: the bytes are relayed unchanged.
        if is_hop_by_hop(name, &listed) && name != hyper::header::CONTENT_LENGTH {
            continue;
        }
        response = response.header(name, value);
    }

    let (chunks_tx, chunks_rx) = mpsc::unbounded_channel::<Bytes>();
    tokio::spawn(read_usage(chunks_rx, is_sse, status.as_u16(), tap));
    let frames = upstream.bytes_stream().map_ok(move |chunk| {
        // A closed tap must never disturb the relay, so a failed send is ignored.
        let _ = chunks_tx.send(chunk.clone());
        Frame::data(chunk)
    });
    let body = BodyExt::boxed(StreamBody::new(frames.map_err(BoxError::from)));
    response
        .body(body)
        .unwrap_or_else(|_| super::reply::empty(hyper::StatusCode::BAD_GATEWAY))
}

/// Reads usage from the relayed chunks until the relay ends (finished, failed or abandoned by the
/// agent), then records the request once.
async fn read_usage(
    mut chunks: mpsc::UnboundedReceiver<Bytes>,
    is_sse: bool,
    status: u16,
    tap: Tap,
) {
    let mut reader = UsageReader::new(tap.family);
    if is_sse {
        let chunks = futures_util::stream::poll_fn(|cx| chunks.poll_recv(cx));
        let mut events = std::pin::pin!(sse::event_data(chunks));
        while let Some(data) = events.next().await {
            reader.observe_event(&data);
        }
    } else {
        let mut body = Vec::new();
        while let Some(chunk) = chunks.recv().await {
            if body.len() + chunk.len() <= MAX_TAPPED_JSON_BYTES {
                body.extend_from_slice(&chunk);
            } else {
                body.clear();
                body.shrink_to_fit();
                while chunks.recv().await.is_some() {}
                break;
            }
        }
        reader.observe_body(&body);
    }
    let (usage, reported_model) = reader.finish();
    tap.ledger.record(RequestRecord {
        provider: tap.provider.id(),
        model: reported_model
            .or(tap.model)
            .unwrap_or_else(|| "(unknown)".into()),
        upstream: tap.upstream,
        status,
        usage,
        latency: tap.started.elapsed(),
    });
    drop(tap.alive);
}
