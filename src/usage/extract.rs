//! Pure: reads usage out of provider responses. One `UsageReader` per response takes either SSE
//! event data (in order) or a whole JSON body, and yields the request's usage once, at the end.
//!
//! Field rule: for every counter, the last non-zero value seen wins. That single rule covers
//! Anthropic (input in `message_start`, cumulative output in `message_delta`), MiniMax (0 in
//! `message_start`, the real input only in the final `message_delta`), and OpenAI (one usage object
//! in `response.completed` or the last Chat Completions chunk).

use serde_json::Value;

use super::{UpstreamError, Usage};
use crate::providers::Family;

/// Accumulates what one response says about usage.
#[derive(Debug)]
pub struct UsageReader {
    family: Family,
    usage: Option<Usage>,
    model: Option<String>,
    /// The first error the response carried: (type or code, message).
    error: Option<(String, String)>,
}

/// What a whole response said.
#[derive(Debug, Default, PartialEq)]
pub struct Seen {
    /// `None` when the response carried no usage.
    pub usage: Option<Usage>,
    /// The model it reported.
    pub model: Option<String>,
    /// The error it carried (an error body, or an error event in a stream), made safe to show.
    pub error: Option<UpstreamError>,
}

impl UsageReader {
    /// A reader for a response in this wire format.
    pub fn new(family: Family) -> Self {
        UsageReader {
            family,
            usage: None,
            model: None,
            error: None,
        }
    }

    /// Feeds the `data` of one SSE event.
    pub fn observe_event(&mut self, data: &str) {
        // Most events are text deltas; parsing only the ones that can carry usage or the model
        // keeps the tap cheap on long streams.
        if !(data.contains("\"usage\"") || data.contains("\"model\"") || data.contains("\"error\""))
        {
            return;
        }
        if let Ok(value) = serde_json::from_str::<Value>(data) {
            self.observe_value(&value);
        }
    }

    /// Feeds a whole non-streaming JSON body.
    pub fn observe_body(&mut self, body: &[u8]) {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            self.observe_value(&value);
        }
    }

    fn observe_value(&mut self, value: &Value) {
        // Anthropic `{"type":"error","error":{"type","message"}}`, OpenAI `{"error":{"message",
        // "type","code"}}`, a Responses `response.failed` event's `response.error`, or a
        // gateway's plain `{"error":"…"}`.
        if self.error.is_none() {
            for error in [&value["error"], &value["response"]["error"]] {
                let text = |key: &str| error.get(key).and_then(Value::as_str).map(str::to_owned);
                let seen = match error {
                    Value::String(message) => Some((String::new(), message.clone())),
                    Value::Object(_) => Some((
                        text("type").or_else(|| text("code")).unwrap_or_default(),
                        text("message").unwrap_or_default(),
                    )),
                    _ => None,
                };
                if seen.is_some() {
                    self.error = seen;
                    break;
                }
            }
        }
        // Anthropic nests the first usage in `message`, Responses in `response`; Chat and
        // non-streaming bodies keep it at the top.
        for holder in [&value["message"], &value["response"], value] {
            if let Some(model) = holder.get("model").and_then(Value::as_str) {
                self.model = Some(model.to_owned());
            }
            if let Some(usage) = holder.get("usage").filter(|usage| usage.is_object()) {
                let seen = match self.family {
                    Family::Anthropic => anthropic_usage(usage),
                    Family::OpenAi => openai_usage(usage),
                };
                let merged = merge_last_non_zero(self.usage.unwrap_or_default(), seen);
                self.usage = Some(merged);
            }
        }
    }

    /// What the response said; `status` is the one it came with.
    pub fn finish(self, status: u16) -> Seen {
        Seen {
            usage: self.usage,
            model: self.model,
            error: self
                .error
                .map(|(kind, message)| UpstreamError::new(status, &kind, &message)),
        }
    }
}

fn count(usage: &Value, path: &[&str]) -> u64 {
    path.iter()
        .try_fold(usage, |value, key| value.get(key))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// Anthropic (and MiniMax's Anthropic surface): `input_tokens` already excludes the cache.
fn anthropic_usage(usage: &Value) -> Usage {
    let write_total = count(usage, &["cache_creation_input_tokens"]);
    let write_5m = count(usage, &["cache_creation", "ephemeral_5m_input_tokens"]);
    let write_1h = count(usage, &["cache_creation", "ephemeral_1h_input_tokens"]);
    // Without the breakdown every write is a 5-minute write, the API's default lifetime.
    let (write_5m, write_1h) = if write_5m == 0 && write_1h == 0 {
        (write_total, 0)
    } else {
        (write_5m, write_1h)
    };
    Usage {
        input_tokens: count(usage, &["input_tokens"]),
        output_tokens: count(usage, &["output_tokens"]),
        cache_read_tokens: count(usage, &["cache_read_input_tokens"]),
        cache_write_5m_tokens: write_5m,
        cache_write_1h_tokens: write_1h,
    }
}

/// OpenAI Responses (`input_tokens`) or Chat Completions (`prompt_tokens`): the prompt count
/// includes cached tokens, which are taken out so `input_tokens` means fresh input everywhere.
fn openai_usage(usage: &Value) -> Usage {
    let (prompt, cached, output) = if usage.get("prompt_tokens").is_some() {
        (
            count(usage, &["prompt_tokens"]),
            count(usage, &["prompt_tokens_details", "cached_tokens"]),
            count(usage, &["completion_tokens"]),
        )
    } else {
        (
            count(usage, &["input_tokens"]),
            count(usage, &["input_tokens_details", "cached_tokens"]),
            count(usage, &["output_tokens"]),
        )
    };
    Usage {
        input_tokens: prompt.saturating_sub(cached),
        output_tokens: output,
        cache_read_tokens: cached.min(prompt),
        ..Usage::default()
    }
}

fn merge_last_non_zero(old: Usage, new: Usage) -> Usage {
    let pick = |old: u64, new: u64| if new != 0 { new } else { old };
    Usage {
        input_tokens: pick(old.input_tokens, new.input_tokens),
        output_tokens: pick(old.output_tokens, new.output_tokens),
        cache_read_tokens: pick(old.cache_read_tokens, new.cache_read_tokens),
        cache_write_5m_tokens: pick(old.cache_write_5m_tokens, new.cache_write_5m_tokens),
        cache_write_1h_tokens: pick(old.cache_write_1h_tokens, new.cache_write_1h_tokens),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_events(family: Family, events: &[&str]) -> (Option<Usage>, Option<String>) {
        let mut reader = UsageReader::new(family);
        for event in events {
            reader.observe_event(event);
        }
        let seen = reader.finish(200);
        (seen.usage, seen.model)
    }

    #[test]
    fn errors_are_read_from_each_providers_shape() {
        let cases: [(&[u8], &str, &str); 4] = [
            (
                br#"{"type":"error","error":{"type":"invalid_request_error","message":"thinking is not supported"}}"#,
                "invalid_request_error",
                "thinking is not supported",
            ),
            (
                br#"{"error":{"message":"Too many tools","type":null,"code":"tools_limit"}}"#,
                "tools_limit",
                "Too many tools",
            ),
            (br#"{"error":"model not found"}"#, "", "model not found"),
            (
                br#"{"type":"response.failed","response":{"error":{"code":"server_error","message":"boom"}}}"#,
                "server_error",
                "boom",
            ),
        ];
        for (body, kind, message) in cases {
            let mut reader = UsageReader::new(Family::Anthropic);
            reader.observe_body(body);
            let error = reader.finish(400).error.unwrap();
            assert_eq!(
                (error.kind.as_str(), error.message.as_str()),
                (kind, message)
            );
            assert_eq!(error.status, 400);
        }
        let mut reader = UsageReader::new(Family::Anthropic);
        reader.observe_event(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!(reader.finish(200).error.unwrap().kind, "overloaded_error");
        let mut reader = UsageReader::new(Family::Anthropic);
        reader.observe_body(br#"{"type":"message","usage":{"input_tokens":1}}"#);
        assert_eq!(reader.finish(200).error, None);
    }

    #[test]
    fn anthropic_stream_takes_input_from_start_and_output_from_delta() {
        let (usage, model) = from_events(
            Family::Anthropic,
            &[
                r#"{"type":"message_start","message":{"id":"m","model":"claude-opus-5-5","usage":{"input_tokens":12,"cache_creation_input_tokens":300,"cache_read_input_tokens":4000,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"output_tokens":1}}}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#,
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":57}}"#,
                r#"{"type":"message_stop"}"#,
            ],
        );
        assert_eq!(model.as_deref(), Some("claude-opus-5-5"));
        assert_eq!(
            usage,
            Some(Usage {
                input_tokens: 12,
                output_tokens: 57,
                cache_read_tokens: 4000,
                cache_write_5m_tokens: 100,
                cache_write_1h_tokens: 200,
            })
        );
    }

    #[test]
    fn minimax_input_arrives_only_in_message_delta() {
        let (usage, _) = from_events(
            Family::Anthropic,
            &[
                r#"{"type":"message_start","message":{"model":"MiniMax-M3","usage":{"input_tokens":0,"output_tokens":0}}}"#,
                r#"{"type":"message_delta","delta":{},"usage":{"input_tokens":1500,"output_tokens":80,"cache_read_input_tokens":20}}"#,
            ],
        );
        let usage = usage.unwrap();
        assert_eq!(
            (
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens
            ),
            (1500, 80, 20)
        );
    }

    #[test]
    fn cache_writes_without_breakdown_are_five_minute_writes() {
        let mut reader = UsageReader::new(Family::Anthropic);
        reader.observe_body(br#"{"model":"claude-x","usage":{"input_tokens":5,"output_tokens":6,"cache_creation_input_tokens":70}}"#);
        let usage = reader.finish(200).usage.unwrap();
        assert_eq!(
            (usage.cache_write_5m_tokens, usage.cache_write_1h_tokens),
            (70, 0)
        );
    }

    #[test]
    fn responses_completed_event_splits_cached_input() {
        let (usage, model) = from_events(
            Family::OpenAi,
            &[
                r#"{"type":"response.created","response":{"model":"gpt-6.1-sol","usage":null}}"#,
                r#"{"type":"response.output_text.delta","delta":"x"}"#,
                r#"{"type":"response.completed","response":{"model":"gpt-6.1-sol","usage":{"input_tokens":1000,"input_tokens_details":{"cached_tokens":600},"output_tokens":50,"total_tokens":1050}}}"#,
            ],
        );
        assert_eq!(model.as_deref(), Some("gpt-6.1-sol"));
        let usage = usage.unwrap();
        assert_eq!(
            (
                usage.input_tokens,
                usage.cache_read_tokens,
                usage.output_tokens
            ),
            (400, 600, 50)
        );
    }

    #[test]
    fn chat_completions_usage_chunk_and_body() {
        let (usage, _) = from_events(
            Family::OpenAi,
            &[
                r#"{"id":"c","model":"MiniMax-M3","choices":[{"delta":{"content":"x"}}],"usage":null}"#,
                r#"{"id":"c","model":"MiniMax-M3","choices":[],"usage":{"prompt_tokens":200,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":50}}}"#,
                "[DONE]",
            ],
        );
        let usage = usage.unwrap();
        assert_eq!(
            (
                usage.input_tokens,
                usage.cache_read_tokens,
                usage.output_tokens
            ),
            (150, 50, 9)
        );

        let mut reader = UsageReader::new(Family::OpenAi);
        reader.observe_body(
            br#"{"model":"gpt-x","usage":{"prompt_tokens":10,"completion_tokens":2}}"#,
        );
        assert_eq!(reader.finish(200).usage.unwrap().prompt_tokens(), 10);
    }

    #[test]
    fn responses_without_usage_report_none() {
        for body in [
            &b"not json"[..],
            br#"{"input_tokens":42}"#,
            br#"{"usage":null}"#,
            b"",
        ] {
            let mut reader = UsageReader::new(Family::Anthropic);
            reader.observe_body(body);
            assert_eq!(
                reader.finish(200).usage,
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
