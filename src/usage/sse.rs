//! Server-sent events from a stream of byte chunks, split anywhere. The framing itself (lines,
//! `\r\n`, multi-line `data:`, comments) is the `eventsource-stream` crate's job; this room only
//! adapts it to the tap's channel of chunks.

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};

/// The `data` of each event in a stream of chunks, in order; ends when the chunks end.
///
/// A framing error ends the events early: the tap then reports what it has seen so far rather
/// than guessing.
pub fn event_data(chunks: impl Stream<Item = Bytes>) -> impl Stream<Item = String> {
    chunks
        .map(Ok::<_, std::convert::Infallible>)
        .eventsource()
        .take_while(|event| std::future::ready(event.is_ok()))
        .filter_map(|event| std::future::ready(event.ok().map(|event| event.data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(chunks: &[&'static [u8]]) -> Vec<String> {
        let stream = futures_util::stream::iter(chunks.iter().map(|c| Bytes::from_static(c)));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(event_data(stream).collect())
    }

    #[test]
    fn events_survive_any_chunk_split() {
        let whole: &[u8] = b"event: message_start\ndata: {\"a\":1}\n\n: keep-alive\n\nevent: x\r\ndata: line1\r\ndata: line2\r\n\r\ndata: [DONE]\n\n";
        let expected = vec![
            "{\"a\":1}".to_string(),
            "line1\nline2".into(),
            "[DONE]".into(),
        ];
        assert_eq!(parse(&[whole]), expected);
        for split in 1..whole.len() {
            let (left, right) = whole.split_at(split);
            let left: &'static [u8] = Box::leak(left.to_vec().into_boxed_slice());
            let right: &'static [u8] = Box::leak(right.to_vec().into_boxed_slice());
            assert_eq!(parse(&[left, right]), expected, "split at {split}");
        }
        let bytewise: Vec<&'static [u8]> = (0..whole.len()).map(|i| &whole[i..=i]).collect();
        assert_eq!(parse(&bytewise), expected);
    }
}
