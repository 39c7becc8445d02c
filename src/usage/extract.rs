//! Pure: reads usage out of provider responses. One `UsageReader` per response takes either SSE
//! event data (in order) or a whole JSON body, and yields the request's usage once, at the end.
//!
//! Field rule: for every counter, the last non-zero value seen wins. That single rule covers
//! Anthropic (input in `message_start`, cumulative output in `message_delta`), MiniMax (0 in
//! `message_start`, the real input only in the final `message_delta`), and OpenAI (one usage object
//! in `response.completed` or the last Chat Completions chunk).

use serde_json::Value;

use super::Usage;
use crate::providers::Family;

/// Accumulates what one response says about usage.
#[derive(Debug)]
pub struct UsageReader {
    family: Family,
    usage: Option<Usage>,
    model: Option<String>,
}

impl UsageReader {
    /// A reader for a response in this wire format.
    pub fn new(family: Family) -> Self {
        UsageReader {
            family,
            usage: None,
            model: None,
        }
    }

    /// Feeds the `data` of one SSE event.
    pub fn observe_event(&mut self, data: &str) {
        // Most events are text deltas; parsing only the ones that can carry usage or the model
        // keeps the tap cheap on long streams.
        if !(data.contains("\"usage\"") || data.contains("\"model\"")) {
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

    /// The request's usage (None when the response carried none) and the model it reported.
    pub fn finish(self) -> (Option<Usage>, Option<String>) {
        (self.usage, self.model)
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
        reader.finish()
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
        let usage = reader.finish().0.unwrap();
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
        assert_eq!(reader.finish().0.unwrap().prompt_tokens(), 10);
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
            assert_eq!(reader.finish().0, None, "{}", String::from_utf8_lossy(body));
        }
    }
}
