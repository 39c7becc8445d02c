//! Responses the proxy writes itself (missing key, dead upstream, oversized body), shaped like the
//! provider's own errors so the agent shows them to the user instead of failing to parse them.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Response, StatusCode, header};
use serde_json::json;

use super::ProxyBody;
use crate::providers::Family;

/// An error body in the wire format of `family`, with `message` for the user.
pub fn error(family: Family, status: StatusCode, message: &str) -> Response<ProxyBody> {
    let body = match family {
        Family::Anthropic => json!({
            "type": "error",
            "error": { "type": anthropic_error_type(status), "message": message },
        }),
        Family::OpenAi => json!({
            "error": {
                "message": message,
                "type": openai_error_type(status),
                "param": null,
                "code": null,
            },
        }),
    };
    let mut response = Response::new(full(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// A JSON document of headroom's own (the live status), never cached.
pub fn json(body: Vec<u8>) -> Response<ProxyBody> {
    let mut response = Response::new(full(Bytes::from(body)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// An error event to end a stream with, as the provider ends its own streams on an error:
/// Anthropic's `event: error`, OpenAI's Responses `error` event.
pub fn stream_error_event(family: Family, message: &str) -> Bytes {
    let event = match family {
        Family::Anthropic => format!(
            "event: error\ndata: {}\n\n",
            json!({"type": "error", "error": {"type": "timeout_error", "message": message}})
        ),
        Family::OpenAi => format!(
            "event: error\ndata: {}\n\n",
            json!({"type": "error", "code": "timeout", "message": message, "param": null})
        ),
    };
    Bytes::from(event)
}

/// A bare response with no body (404 for requests outside the session, 200 for probes).
pub fn empty(status: StatusCode) -> Response<ProxyBody> {
    let mut response = Response::new(Empty::new().map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() = status;
    response
}

fn full(bytes: Bytes) -> ProxyBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn anthropic_error_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        504 => "timeout_error",
        _ => "api_error",
    }
}

fn openai_error_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 404 | 413 => "invalid_request_error",
        401 => "authentication_error",
        _ => "server_error",
    }
}
