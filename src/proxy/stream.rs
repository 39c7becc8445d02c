//! Relays an upstream response to the agent frame by frame, exactly as it arrives, and shows each
//! frame to the usage tap on the way. The relayed body is never buffered: the tap only keeps SSE
//! parser state, or (for a non-streaming JSON reply) a bounded copy to read usage from. The
//! request is recorded exactly once: when the body ends, fails, or is dropped by a departed agent.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;

use super::forward::{connection_listed, is_hop_by_hop};
use super::{BoxError, ProxyBody};
use crate::providers::{Family, Provider};
use crate::usage::extract::UsageReader;
use crate::usage::ledger::{Ledger, RequestRecord, Reservation};
use crate::usage::sse::EventReader;
use crate::usage::{Billing, Compression, quota};

/// A non-streaming body larger than this is relayed but not read for usage.
const MAX_TAPPED_JSON_BYTES: usize = 16 * 1024 * 1024;

/// What the tap needs to record a finished request.
pub struct Tap {
    pub ledger: Arc<Ledger>,
    pub provider: Provider,
    pub family: Family,
    /// The model as forwarded, used when the response names none.
    pub model: Option<String>,
    pub upstream: String,
    pub started: Instant,
    /// When the upstream's response headers arrived (set by `relay`).
    pub first_byte: Option<std::time::Duration>,
    /// What compression did to the request.
    pub compression: Option<Arc<dyn Compression>>,
    /// Writes the originals the request's markers name, where not written yet.
    pub originals_written: Option<super::server::KeepOriginals>,
    /// The request's worst case held against the budget; released after the real cost is
    /// recorded (when the tap is dropped).
    pub reservation: Option<Reservation>,
    /// How long the response may send nothing before it is ended with an error.
    pub idle_timeout: std::time::Duration,
    /// Who pays for the request.
    pub billing: Billing,
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
    if tap.billing == Billing::Subscription {
        let headers = upstream
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()));
        tap.ledger
            .note_quota(quota::windows(headers, std::time::SystemTime::now()));
    }
    let reader = UsageReader::new(tap.family);
    let mut tap = tap;
    tap.first_byte = Some(tap.started.elapsed());
    let written = tap.originals_written.take();
    let idle_timeout = tap.idle_timeout;
    let remaining = upstream.content_length();
    let tapped = Tapped {
        chunks: Box::pin(upstream.bytes_stream()),
        idle_timeout,
        idle: None,
        last_chunk: tokio::time::Instant::now(),
        ended: false,
        remaining,
        state: Some(TapState {
            tap,
            status: status.as_u16(),
            reader,
            body: if is_sse {
                BodyTap::Sse(Box::default())
            } else {
                BodyTap::Json(Some(Vec::new()))
            },
        }),
    };
    // The agent may ask for an original as soon as it reads the answer's last event (Claude Code
    // runs a tool on `message_stop`, before the stream closes), so the answer starts only once
    // they are on disk. The background thread began writing them when the request went
    // upstream; a model takes far longer to start answering, so this rarely waits.
    let wait_for_originals = futures_util::stream::once(async move {
        if let Some(write) = written {
            let _ = tokio::task::spawn_blocking(write).await;
        }
    })
    .filter_map(|()| std::future::ready(None));
    let frames = wait_for_originals
        .chain(tapped)
        .map(|chunk| chunk.map(Frame::data).map_err(BoxError::from));
    response
        .body(BodyExt::boxed_unsync(StreamBody::new(frames)))
        .unwrap_or_else(|_| super::reply::empty(hyper::StatusCode::BAD_GATEWAY))
}

type Chunks = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The upstream body, passed through chunk by chunk, with the tap riding along.
struct Tapped {
    chunks: Chunks,
    idle_timeout: std::time::Duration,
    /// Armed when the upstream first makes the relay wait; fires `idle_timeout` after the last
    /// chunk. A chunk only notes its time (cheaper than moving the timer on every chunk); the
    /// timer moves when it fires early.
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
    last_chunk: tokio::time::Instant,
    /// Set once the body was ended for idling: nothing more is relayed.
    ended: bool,
    /// Bytes still to come when the upstream declared a length: the server stops polling a
    /// body once that many went out, so reaching zero is the end too.
    remaining: Option<u64>,
    /// `None` once the request has been recorded.
    state: Option<TapState>,
}

struct TapState {
    tap: Tap,
    status: u16,
    reader: UsageReader,
    body: BodyTap,
}

enum BodyTap {
    Sse(Box<EventReader>),
    /// `None` once the body outgrew the cap: its usage is then unknown.
    Json(Option<Vec<u8>>),
}

impl TapState {
    fn observe(&mut self, chunk: &[u8]) {
        match &mut self.body {
            BodyTap::Sse(events) => events.feed(chunk, |data| self.reader.observe_event(data)),
            BodyTap::Json(Some(body)) if body.len() + chunk.len() <= MAX_TAPPED_JSON_BYTES => {
                body.extend_from_slice(chunk)
            }
            // Too large to read usage from: stop copying; the relay itself is unaffected.
            BodyTap::Json(body) => *body = None,
        }
    }

    /// Records the request; `ended_early` when the response did not run to its end (the agent
    /// hung up, the upstream broke off or went quiet, or the session ended first), with the
    /// status the agent got in effect.
    fn record(mut self, ended_early: Option<u16>) {
        match &mut self.body {
            BodyTap::Sse(events) => events.finish(|data| self.reader.observe_event(data)),
            BodyTap::Json(Some(body)) => self.reader.observe_body(body),
            BodyTap::Json(None) => {}
        }
        let seen = self.reader.finish(self.status);
        let tap = self.tap;
        tap.ledger.record(RequestRecord {
            provider: tap.provider,
            model: seen
                .model
                .or(tap.model)
                .unwrap_or_else(|| "(unknown)".into()),
            upstream: tap.upstream,
            status: ended_early.unwrap_or(self.status),
            usage: seen.usage,
            error: seen.error,
            latency: tap.started.elapsed(),
            first_byte: tap.first_byte,
            compression: tap.compression,
            partial: ended_early.is_some(),
            billing: tap.billing,
        });
        // Only now that the real cost counts may the worst case stop holding the budget.
        drop(tap.reservation);
    }
}

impl Stream for Tapped {
    type Item = reqwest::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let polled = self.chunks.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                self.last_chunk = tokio::time::Instant::now();
                let length = chunk.len() as u64;
                if let Some(remaining) = &mut self.remaining {
                    *remaining = remaining.saturating_sub(length);
                }
                if let Some(state) = &mut self.state {
                    state.observe(chunk);
                }
            }
            Poll::Ready(None) => {
                if let Some(state) = self.state.take() {
                    state.record(None);
                }
            }
            // An upstream that broke off: record what was seen.
            Poll::Ready(Some(Err(_))) => {
                if let Some(state) = self.state.take() {
                    state.record(Some(hyper::StatusCode::BAD_GATEWAY.as_u16()));
                }
            }
            Poll::Pending => {
                if self.went_quiet(cx) {
                    // The upstream went quiet: end the answer with an error the agent reads as
                    // its provider's (a stream gets an error event), and count the request.
                    self.ended = true;
                    let Some(state) = self.state.take() else {
                        return Poll::Ready(None);
                    };
                    let message = format!(
                        "headroom: {} sent nothing for {} s ({} sets this)",
                        state.tap.upstream,
                        self.idle_timeout.as_secs_f64(),
                        crate::env::HEADROOM_STREAM_IDLE_TIMEOUT
                    );
                    let event = matches!(state.body, BodyTap::Sse(_))
                        .then(|| super::reply::stream_error_event(state.tap.family, &message));
                    state.record(Some(hyper::StatusCode::GATEWAY_TIMEOUT.as_u16()));
                    return Poll::Ready(event.map(Ok));
                }
            }
        }
        polled
    }
}

impl Tapped {
    /// Whether the upstream has sent nothing for `idle_timeout`; otherwise the timer is armed to
    /// wake the relay when that would be so.
    fn went_quiet(&mut self, cx: &mut Context<'_>) -> bool {
        let deadline = self.last_chunk + self.idle_timeout;
        let idle = self
            .idle
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if idle.deadline() != deadline {
            idle.as_mut().reset(deadline);
        }
        idle.as_mut().poll(cx).is_ready()
    }
}

impl Drop for Tapped {
    /// The agent went away mid-response: the request still counts, with the usage seen so far.
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            if self.remaining == Some(0) {
                state.record(None);
            } else {
                // 499: the client went away (or the session ended) before the answer did.
                state.record(Some(499));
            }
        }
    }
}
