//! Pure: a request body read once, and edited once. One pass over the JSON finds what routing
//! needs (the `model`, and where its value sits), what the budget needs (the output limit), and
//! the raw parts compression walks (`messages`, `input`); one splice then applies every edit
//! (the model's new name, the compressed tool outputs) to the original bytes, so key order,
//! spacing and the provider's prompt-cache prefix stay as the agent sent them.

use std::ops::Range;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The `model` of a body and where its value sits in the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// The model name, unescaped.
    pub name: String,
    /// Byte range of its JSON string (quotes included) in the body.
    pub span: Range<usize>,
}

/// What a request body holds, as far as headroom cares. A body that is not one JSON object with
/// at most one of each of these keys yields nothing: it is forwarded as it is (or refused, when
/// its model must be known).
#[derive(Debug, Default)]
pub struct Read<'a> {
    /// `None` when absent, not a string, given twice, or the body is not JSON.
    pub model: Option<Model>,
    /// `max_tokens` (Messages, Chat), `max_output_tokens` (Responses) or `max_completion_tokens`
    /// (Chat), when it is a whole number.
    pub max_output_tokens: Option<u64>,
    /// Messages and Chat Completions conversations.
    pub messages: Option<&'a RawValue>,
    /// Responses conversations.
    pub input: Option<&'a RawValue>,
}

// The other keys are skipped, and the parts are left raw: compression parses only the
// conversation, and only when there is one.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    model: Option<&'a RawValue>,
    #[serde(borrow, default)]
    messages: Option<&'a RawValue>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
    #[serde(borrow, default)]
    max_tokens: Option<&'a RawValue>,
    #[serde(borrow, default)]
    max_output_tokens: Option<&'a RawValue>,
    #[serde(borrow, default)]
    max_completion_tokens: Option<&'a RawValue>,
}

/// Reads `body` in one pass.
pub fn read(body: &[u8]) -> Read<'_> {
    let Ok(envelope) = serde_json::from_slice::<Envelope<'_>>(body) else {
        return Read::default();
    };
    let model = envelope.model.and_then(|raw| {
        let name: String = serde_json::from_str(raw.get()).ok()?;
        let span = span_in(body, raw)?;
        Some(Model { name, span })
    });
    let max_output_tokens = [
        envelope.max_tokens,
        envelope.max_output_tokens,
        envelope.max_completion_tokens,
    ]
    .into_iter()
    .flatten()
    .find_map(|raw| raw.get().parse::<u64>().ok());
    Read {
        model,
        max_output_tokens,
        messages: envelope.messages,
        input: envelope.input,
    }
}

/// Where a raw value borrowed from `body` sits in it (its address gives its offset).
pub fn span_in(body: &[u8], raw: &RawValue) -> Option<Range<usize>> {
    let text = raw.get();
    let start = (text.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
    let span = start..start + text.len();
    (body.get(span.clone()) == Some(text.as_bytes())).then_some(span)
}

/// `body` with each span replaced by its bytes; spans must not overlap (they are sorted here).
pub fn splice(body: &[u8], mut edits: Vec<(Range<usize>, &[u8])>) -> Bytes {
    edits.sort_by_key(|(span, _)| span.start);
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    for (span, bytes) in edits {
        out.extend_from_slice(&body[at..span.start]);
        out.extend_from_slice(bytes);
        at = span.end;
    }
    out.extend_from_slice(&body[at..]);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_read_finds_the_model_its_place_the_limit_and_the_conversation() {
        let body = br#"{"z":1, "model" : "minimax\/MiniMax-M3","max_tokens":32000,"messages":[{"model":"inner"}],"a":"\u00e9"}"#;
        let read = read(body);
        let model = read.model.unwrap();
        assert_eq!(model.name, "minimax/MiniMax-M3");
        assert_eq!(read.max_output_tokens, Some(32000));
        assert_eq!(read.messages.unwrap().get(), r#"[{"model":"inner"}]"#);
        let spliced = splice(body, vec![(model.span, br#""MiniMax-M3""#)]);
        assert_eq!(
            &spliced[..],
            br#"{"z":1, "model" : "MiniMax-M3","max_tokens":32000,"messages":[{"model":"inner"}],"a":"\u00e9"}"#
        );
    }

    #[test]
    fn bodies_without_a_usable_model_are_read_as_nothing() {
        for body in [
            &b"not json"[..],
            b"{}",
            br#"{"model":42}"#,
            br#"{"model":"a","model":"b"}"#,
            b"",
            br#"{"model":"x""#,
            br#"{"model":"x"} trailing"#,
        ] {
            assert_eq!(read(body).model, None, "{}", String::from_utf8_lossy(body));
        }
        let read = read(br#"{"model":"m","max_tokens":"many","max_output_tokens":9}"#);
        assert_eq!(
            read.max_output_tokens,
            Some(9),
            "a limit that is not a number is skipped"
        );
    }

    #[test]
    fn edits_apply_in_order_of_place() {
        let body = b"0123456789";
        assert_eq!(
            &splice(body, vec![(6..8, b"x"), (1..3, b"yy"), (9..10, b"")])[..],
            b"0yy345x8"
        );
    }
}
