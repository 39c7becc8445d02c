//! Pure: exact token counts with OpenAI's o200k tokenizer (bpe-openai's byte-pair encoding), made
//! fast for tool outputs. bpe-openai spends about half its time in its pre-tokenizing regex and
//! the rest encoding each piece, at some 35 MB/s. Tool outputs are nearly all ASCII and repeat the
//! same words, paths and punctuation, so this room splits ASCII text with a hand-written copy of
//! that regex (checked against it in the tests below) and encodes each distinct piece once. The
//! count is always the tokenizer's own: text that is not ASCII goes through bpe-openai's splitter.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::ControlFlow;

use rustc_hash::FxBuildHasher;

/// Tokens in `text`.
pub fn count(text: &str) -> u64 {
    match count_up_to(text, u64::MAX) {
        ControlFlow::Continue(tokens) | ControlFlow::Break(tokens) => tokens,
    }
}

/// Whether `text` has more than `limit` tokens; stops counting as soon as it knows.
pub fn exceeds(text: &str, limit: u64) -> bool {
    count_up_to(text, limit).is_break()
}

/// Distinct pieces remembered per thread; past this the memory is cleared and refilled. A few
/// thousand pieces cover most of a project's outputs, and at this bound the memory stays under
/// about 1 MB per thread.
const MAX_REMEMBERED_PIECES: usize = 16 * 1024;

thread_local! {
    /// Piece → its token count, kept between outputs: one session's outputs share most of their
    /// words, paths and punctuation, and encoding a piece is the costly part.
    static PIECE_TOKENS: RefCell<HashMap<Box<str>, u64, FxBuildHasher>> =
        RefCell::new(HashMap::default());
}

/// `Continue(tokens)` with the whole count, or `Break` once it passes `limit`.
fn count_up_to(text: &str, limit: u64) -> ControlFlow<u64, u64> {
    PIECE_TOKENS.with_borrow_mut(|seen| count_with(seen, text, limit))
}

fn count_with(
    seen: &mut HashMap<Box<str>, u64, FxBuildHasher>,
    text: &str,
    limit: u64,
) -> ControlFlow<u64, u64> {
    let tokenizer = bpe_openai::o200k_base();
    let mut tokens = 0;
    for segment in segments(text) {
        let pieces: Box<dyn Iterator<Item = &str>> = if segment.is_ascii() {
            Box::new(AsciiPieces {
                text: segment,
                at: 0,
            })
        } else {
            Box::new(tokenizer.split(segment))
        };
        for piece in pieces {
            // Every byte is a token of its own in o200k, so one-byte pieces need no lookup.
            tokens += if piece.len() == 1 {
                1
            } else if let Some(&known) = seen.get(piece) {
                known
            } else {
                let counted = tokenizer.bpe.count(piece.as_bytes()) as u64;
                if seen.len() == MAX_REMEMBERED_PIECES {
                    seen.clear();
                }
                seen.insert(piece.into(), counted);
                counted
            };
            if tokens > limit {
                return ControlFlow::Break(tokens);
            }
        }
    }
    ControlFlow::Continue(tokens)
}

/// `text` cut where no pre-tokenizer piece can span the cut: after a newline, before a character
/// that is neither whitespace nor `/`. Every pattern that can take a newline ends its piece at
/// the last newline of a whitespace run, or continues only over `\r`, `\n` and `/` (see
/// `AsciiPieces`), so the pieces of the whole are the pieces of the parts.
fn segments(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start == bytes.len() {
            return None;
        }
        let from = start;
        // Segments of a few KB keep one non-ASCII character from sending a whole output down
        // the slow path, without cutting so often that the cut itself costs.
        let mut at = (from + SEGMENT_BYTES).min(bytes.len());
        while at < bytes.len() && !(bytes[at - 1] == b'\n' && is_cut_before(bytes[at])) {
            at += 1;
        }
        start = at;
        Some(&text[from..at])
    })
}

const SEGMENT_BYTES: usize = 4096;

fn is_cut_before(byte: u8) -> bool {
    !is_space(byte) && byte != b'/' && byte.is_ascii()
}

fn is_space(byte: u8) -> bool {
    // Unicode White_Space within ASCII: tab, line feed, vertical tab, form feed, carriage return,
    // space.
    matches!(byte, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

fn is_newline(byte: u8) -> bool {
    matches!(byte, b'\r' | b'\n')
}

/// Neither space, letter nor digit (`[^\s\p{L}\p{N}]`).
fn is_symbol(byte: u8) -> bool {
    !is_space(byte) && !byte.is_ascii_alphanumeric()
}

/// The o200k pre-tokenizer over ASCII text. bpe-openai's patterns, tried in this order at each
/// position, the first that matches giving the piece (leftmost-first):
///
/// 1. `[^\r\n\p{L}\p{N}]?[\p{Lu}…]*[\p{Ll}…]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
/// 2. `[^\r\n\p{L}\p{N}]?[\p{Lu}…]+[\p{Ll}…]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
/// 3. `\p{N}{1,3}`
/// 4. ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
/// 5. `\s*[\r\n]+`
/// 6. `\s+$`
/// 7. `\s+(?!\S)`, written as `\s+\s` with the last character given back
/// 8. `\s+`
struct AsciiPieces<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Iterator for AsciiPieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let first = *bytes.get(start)?;
        let next = bytes.get(start + 1).copied();
        let end = if let Some(letters) = if first.is_ascii_alphabetic() {
            Some(start)
        } else if !is_newline(first)
            && !first.is_ascii_digit()
            && next.is_some_and(|b| b.is_ascii_alphabetic())
        {
            Some(start + 1)
        } else {
            None
        } {
            // 1 and 2: upper case then lower case letters; when no lower case follows, pattern 1
            // fails and pattern 2 takes the upper case run.
            let upper_end = run(bytes, letters, |b| b.is_ascii_uppercase());
            let lower_end = run(bytes, upper_end, |b| b.is_ascii_lowercase());
            contraction(bytes, lower_end)
        } else if first.is_ascii_digit() {
            run(bytes, start, |b| b.is_ascii_digit()).min(start + 3)
        } else if is_symbol(first) || (first == b' ' && next.is_some_and(is_symbol)) {
            let symbols = run(bytes, start + 1, is_symbol);
            run(bytes, symbols, |b| is_newline(b) || b == b'/')
        } else {
            let spaces_end = run(bytes, start, is_space);
            match bytes[start..spaces_end]
                .iter()
                .rposition(|&b| is_newline(b))
            {
                Some(last_newline) => start + last_newline + 1,
                None if spaces_end == bytes.len() => spaces_end,
                None if spaces_end - start >= 2 => spaces_end - 1,
                None => spaces_end,
            }
        };
        self.at = end;
        Some(&self.text[start..end])
    }
}

/// The end of the run of bytes matching `is` from `from`.
fn run(bytes: &[u8], from: usize, is: impl Fn(u8) -> bool) -> usize {
    from + bytes[from..].iter().take_while(|&&b| is(b)).count()
}

/// `at` moved past a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`, any case).
fn contraction(bytes: &[u8], at: usize) -> usize {
    if bytes.get(at) != Some(&b'\'') {
        return at;
    }
    let lower = |i: usize| bytes.get(at + i).map(u8::to_ascii_lowercase);
    match (lower(1), lower(2)) {
        (Some(b's' | b't' | b'm' | b'd'), _) => at + 2,
        (Some(b'r' | b'v'), Some(b'e')) | (Some(b'l'), Some(b'l')) => at + 3,
        _ => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_pieces(text: &str) -> Vec<&str> {
        bpe_openai::o200k_base().split(text).collect()
    }

    fn reference_count(text: &str) -> u64 {
        bpe_openai::o200k_base().count(text) as u64
    }

    #[test]
    fn ascii_pieces_are_the_tokenizers_own() {
        for text in [
            "",
            "hello world",
            "HELLOworld HELLO world Hello's they'RE we'll I'd 'tis",
            "  indented\n\n\tTabbed  \n  \r\n end  ",
            "foo_bar(baz) -> Result<(), Error> { x += 12345; }\n}\n/usr/bin\n",
            " 123  456\t789 ...  !! ?? \u{b}\u{c}\n",
            "src/main.rs:12:5: error[E0308]: mismatched types\n  --> src/lib.rs\n",
            "trailing spaces   ",
            "'s'S'",
            "a\n/b\n /c",
        ] {
            let pieces: Vec<&str> = AsciiPieces { text, at: 0 }.collect();
            assert_eq!(pieces, reference_pieces(text), "{text:?}");
        }
    }

    #[test]
    fn corpus_counts_match_the_tokenizer() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
        for entry in std::fs::read_dir(corpus).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let tokens = reference_count(&text);
            assert_eq!(count(&text), tokens);
            assert!(exceeds(&text, tokens - 1));
            assert!(!exceeds(&text, tokens));
        }
    }

    #[test]
    fn text_that_is_not_ascii_is_counted_by_the_tokenizer() {
        let text = "test result: ok ✓\n".repeat(300) + "naïve café — 東京\n" + &"x\n".repeat(3000);
        assert_eq!(count(&text), reference_count(&text));
    }

    proptest::proptest! {
        #[test]
        fn any_ascii_text_splits_like_the_tokenizer(text in "[ -~\t\n\r\u{b}\u{c}]{0,200}") {
            let pieces: Vec<&str> = AsciiPieces { text: &text, at: 0 }.collect();
            proptest::prop_assert_eq!(pieces, reference_pieces(&text));
        }

        #[test]
        fn lines_of_any_text_count_like_the_tokenizer(
            lines in proptest::collection::vec("[ a-zA-Z0-9'/.\t\r\u{85}\u{a0}\u{2028}\u{e9}\u{2713}-]{0,40}", 0..300)
        ) {
            let text = lines.join("\n");
            proptest::prop_assert_eq!(count(&text), reference_count(&text));
        }
    }
}
