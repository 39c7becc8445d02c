//! Server-sent events from byte chunks split anywhere. The framing itself (lines, `\r\n`,
//! multi-line `data:`, comments, a cap on one event's size) is the `sse-parse` crate's sans-IO
//! parser; this room only feeds it and hands each event's `data` on.

use sse_parse::SseParser;

/// One event larger than this is dropped by the parser instead of growing its buffer without
/// bound; usage events are a few hundred bytes.
const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// An incremental reader of one event stream.
#[derive(Debug)]
pub struct EventReader {
    parser: SseParser,
}

impl Default for EventReader {
    fn default() -> Self {
        EventReader {
            parser: SseParser::new().max_buffer(MAX_EVENT_BYTES),
        }
    }
}

impl EventReader {
    /// Feeds one chunk; `each` gets the `data` of every event the chunk completed, in order.
    pub fn feed(&mut self, chunk: &[u8], mut each: impl FnMut(&str)) {
        self.parser.feed(chunk);
        while let Some(event) = self.parser.next_event() {
            each(&event.data);
        }
    }

    /// Ends the stream; an event without its closing blank line is discarded, per the standard.
    pub fn finish(&mut self, mut each: impl FnMut(&str)) {
        self.parser.finish();
        while let Some(event) = self.parser.next_event() {
            each(&event.data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(chunks: &[&[u8]]) -> Vec<String> {
        let mut reader = EventReader::default();
        let mut events = Vec::new();
        for chunk in chunks {
            reader.feed(chunk, |data| events.push(data.to_owned()));
        }
        reader.finish(|data| events.push(data.to_owned()));
        events
    }

    #[test]
    fn events_survive_any_chunk_split() {
        let whole = "event: message_start\ndata: {\"a\":1}\n\n: keep-alive\n\nevent: x\r\ndata: caf\u{e9}\r\ndata: line2\r\n\r\ndata: [DONE]\n\ndata: unterminated".as_bytes();
        let expected = vec![
            "{\"a\":1}".to_string(),
            "caf\u{e9}\nline2".into(),
            "[DONE]".into(),
        ];
        assert_eq!(parse(&[whole]), expected);
        for split in 1..whole.len() {
            let (left, right) = whole.split_at(split);
            assert_eq!(parse(&[left, right]), expected, "split at {split}");
        }
        let bytewise: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(parse(&bytewise), expected);
    }
}
