//! Pure: exact token counts with OpenAI's o200k tokenizer, made cheap for tool outputs.
//!
//! A count is the tokenizer's own, in two steps: the text is cut into pieces by o200k's
//! pre-tokenizing patterns, and each piece is byte-pair encoded with the o200k vocabulary by
//! tiktoken's rule (merge the adjacent pair of lowest rank until none is in the vocabulary).
//! bpe-openai does the same, but loaded at run time it holds some 70 MB of search structures and
//! runs at about 35 MB/s; here the vocabulary is a compact table (built from bpe-openai's data
//! at compile time, see build.rs), ASCII text is cut by a hand-written copy of the patterns, and
//! each distinct piece is encoded once. The tests check every step against bpe-openai.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::BuildHasher;
use std::ops::ControlFlow;
use std::sync::LazyLock;

use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
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

/// Whether `text` has at least `minimum` tokens. Every pre-tokenizer piece is at least one
/// token, so pieces alone, found without a single lookup, often prove it; only when they fall
/// short are the tokens counted. A lookup is cheap in a warm cache, but the proxy idles between
/// requests and meets each new output with cold ones.
pub fn at_least(text: &str, minimum: u64) -> bool {
    let Some(short_of) = minimum.checked_sub(1) else {
        return true;
    };
    // A token of tool output is 2 to 4 bytes long: when `minimum` is most of what the text is
    // likely to hold, its pieces would fall short, and counting tokens straight away is cheaper.
    if minimum.saturating_mul(9) / 2 > text.len() as u64 {
        return exceeds(text, short_of);
    }
    let mut pieces = 0;
    for (run, is_ascii) in runs(text) {
        pieces += if is_ascii {
            AsciiPieces { text: run, at: 0 }
                .take((minimum - pieces) as usize)
                .count()
        } else {
            UnicodePieces { text: run, at: 0 }
                .take((minimum - pieces) as usize)
                .count()
        } as u64;
        if pieces == minimum {
            return true;
        }
    }
    exceeds(text, short_of)
}

/// Builds the vocabulary table and compiles the patterns for text that is not ASCII now (a few
/// milliseconds each), so the first new tool output does not wait for them.
pub fn warm_up() {
    LazyLock::force(&VOCABULARY);
    LazyLock::force(&PRE_TOKENIZER);
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
    let mut tokens = 0;
    for (run, is_ascii) in runs(text) {
        let (mut ascii, mut unicode);
        let pieces: &mut dyn Iterator<Item = &str> = if is_ascii {
            ascii = AsciiPieces { text: run, at: 0 };
            &mut ascii
        } else {
            unicode = UnicodePieces { text: run, at: 0 };
            &mut unicode
        };
        for piece in pieces {
            // Every byte is a token of its own in o200k, so one-byte pieces need no lookup.
            tokens += if piece.len() == 1 {
                1
            } else if let Some(&known) = seen.get(piece) {
                known
            } else {
                let counted = VOCABULARY.encoded_len(piece.as_bytes());
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

/// The o200k vocabulary: token count, `count + 1` start offsets, then every token's bytes, in
/// rank order (little-endian u32s; written by build.rs).
static VOCABULARY_DATA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_tokens.bin"));

static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| Vocabulary::new(VOCABULARY_DATA));

/// Pieces up to this many bytes are merged with a plain scan (most are a few bytes long).
const SHORT_PIECE: usize = 64;

/// Token bytes → rank, as an open-addressing table of ranks over the bundled data: 1 MB (three
/// quarters full; twice the size measured no faster), where a map of owned keys would take
/// several times that.
struct Vocabulary {
    /// `count + 1` little-endian u32 offsets into `bytes`.
    starts: &'static [u8],
    bytes: &'static [u8],
    /// Rank + 1 of the token hashed to each slot (0: empty); a power of two long.
    slots: Vec<u32>,
}

impl Vocabulary {
    fn new(data: &'static [u8]) -> Self {
        let count = u32::from_le_bytes(data[..4].try_into().expect("4 bytes")) as usize;
        let (starts, bytes) = data[4..].split_at(4 * (count + 1));
        let mut vocabulary = Vocabulary {
            starts,
            bytes,
            slots: vec![0; count.next_power_of_two()],
        };
        for rank in 0..count as u32 {
            let mut slot = vocabulary.slot_of(vocabulary.token(rank));
            while vocabulary.slots[slot] != 0 {
                slot = (slot + 1) & (vocabulary.slots.len() - 1);
            }
            vocabulary.slots[slot] = rank + 1;
        }
        vocabulary
    }

    fn token(&self, rank: u32) -> &[u8] {
        let at = 4 * rank as usize;
        let offsets = &self.starts[at..at + 8];
        let start = u32::from_le_bytes(offsets[..4].try_into().expect("4 bytes"));
        let end = u32::from_le_bytes(offsets[4..].try_into().expect("4 bytes"));
        &self.bytes[start as usize..end as usize]
    }

    fn slot_of(&self, bytes: &[u8]) -> usize {
        FxBuildHasher.hash_one(bytes) as usize & (self.slots.len() - 1)
    }

    /// The rank of `bytes`, if they are a token.
    fn rank(&self, bytes: &[u8]) -> Option<u32> {
        let mut slot = self.slot_of(bytes);
        loop {
            let rank = self.slots[slot].checked_sub(1)?;
            if self.token(rank) == bytes {
                return Some(rank);
            }
            slot = (slot + 1) & (self.slots.len() - 1);
        }
    }

    /// How many tokens `piece` encodes to, by tiktoken's rule: a piece that is a token is one;
    /// otherwise, starting from single bytes, the adjacent pair whose join has the lowest rank
    /// (the leftmost of equals) is merged until no join is a token.
    fn encoded_len(&self, piece: &[u8]) -> u64 {
        let len = piece.len();
        if len <= 1 || self.rank(piece).is_some() {
            return len.min(1) as u64;
        }
        if len <= SHORT_PIECE {
            self.merged_short(piece)
        } else {
            self.merged_long(piece)
        }
    }

    /// `encoded_len` of a short piece: tiktoken's own loop, on the stack.
    fn merged_short(&self, piece: &[u8]) -> u64 {
        const NONE: u32 = u32::MAX;
        // parts[i] = (start of part i, rank of joining parts i and i + 1); one past the end last.
        let mut parts = [(0u8, NONE); SHORT_PIECE + 1];
        let mut count = piece.len() + 1;
        let rank_at = |parts: &[(u8, u32)], i: usize, skip: usize| -> u32 {
            // Part i joined with the next one, as if `skip` parts after it were already merged in.
            match parts.get(i + 2 + skip) {
                Some(&(end, _)) => self
                    .rank(&piece[parts[i].0 as usize..end as usize])
                    .unwrap_or(NONE),
                None => NONE,
            }
        };
        for (i, part) in parts.iter_mut().enumerate().take(count) {
            part.0 = i as u8;
        }
        for i in 0..count - 2 {
            parts[i].1 = rank_at(&parts[..count], i, 0);
        }
        loop {
            let (best, rank) =
                parts[..count - 1]
                    .iter()
                    .enumerate()
                    .fold(
                        (0, NONE),
                        |best, (i, part)| if part.1 < best.1 { (i, part.1) } else { best },
                    );
            if rank == NONE {
                break;
            }
            if best > 0 {
                parts[best - 1].1 = rank_at(&parts[..count], best - 1, 1);
            }
            parts[best].1 = rank_at(&parts[..count], best, 1);
            parts.copy_within(best + 2..count, best + 1);
            count -= 1;
        }
        (count - 1) as u64
    }

    /// `encoded_len` of a long piece: a heap of candidate pairs, checked against the current
    /// parts when taken, keeps it from going quadratic.
    fn merged_long(&self, piece: &[u8]) -> u64 {
        let len = piece.len();
        // Parts are named by their first byte; `next[at]` is where the following part starts.
        let mut next: Vec<usize> = (1..=len).collect();
        let mut previous: Vec<usize> = (0..len).map(|at| at.wrapping_sub(1)).collect();
        let mut alive = vec![true; len];
        let mut candidates = BinaryHeap::new();
        let push = |candidates: &mut BinaryHeap<_>, at: usize, end: usize| {
            if let Some(rank) = self.rank(&piece[at..end]) {
                candidates.push(Reverse((rank, at, end)));
            }
        };
        for at in 0..len - 1 {
            push(&mut candidates, at, at + 2);
        }
        let mut parts = len as u64;
        while let Some(Reverse((_, at, end))) = candidates.pop() {
            // Stale unless `at` still starts a part followed by exactly one part ending at `end`.
            let second = next[at];
            if !alive[at] || second >= len || next[second] != end {
                continue;
            }
            alive[second] = false;
            next[at] = end;
            if end < len {
                previous[end] = at;
                push(&mut candidates, at, next[end]);
            }
            if at > 0 {
                push(&mut candidates, previous[at], end);
            }
            parts -= 1;
        }
        parts
    }
}

/// `text` cut into runs, each with whether it is all ASCII: `AsciiPieces` splits those, and
/// `UnicodePieces` the runs holding other characters. Runs end only where no pre-tokenizer piece
/// can span the cut: after a newline, before a character that is neither whitespace nor `/`.
/// Every pattern that can take a newline ends its piece at the last newline of a whitespace run,
/// or continues only over `\r`, `\n` and `/` (see `AsciiPieces`), so the pieces of the whole are
/// the pieces of the runs. A run with other characters ends at the first cut after its first one,
/// so one such character sends little text down the slower path.
fn runs(text: &str) -> impl Iterator<Item = (&str, bool)> {
    let bytes = text.as_bytes();
    let is_cut = move |at: usize| bytes[at - 1] == b'\n' && is_cut_before(bytes[at]);
    let mut start = 0;
    std::iter::from_fn(move || {
        if start == bytes.len() {
            return None;
        }
        let from = start;
        let Some(other) = first_non_ascii(&bytes[from..]).map(|offset| from + offset) else {
            start = bytes.len();
            return Some((&text[from..], true));
        };
        if let Some(cut) = (from + 1..other).rev().find(|&at| is_cut(at)) {
            start = cut;
            return Some((&text[from..cut], true));
        }
        start = (other + 1..bytes.len())
            .find(|&at| is_cut(at))
            .unwrap_or(bytes.len());
        Some((&text[from..start], false))
    })
}

/// Where the first byte that is not ASCII is, found a block at a time.
fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    let mut offset = 0;
    for block in bytes.chunks(64) {
        if !block.is_ascii() {
            return Some(offset + block.iter().position(|byte| !byte.is_ascii())?);
        }
        offset += block.len();
    }
    None
}

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

/// o200k's pre-tokenizing patterns (tiktoken's), for text that is not ASCII. `\s+(?!\S)` has no
/// look-ahead here, so it is written `\s+\s` as a pattern of its own and its match is given back
/// one character (as bpe-openai does); pattern order is priority order.
static PRE_TOKENIZER: LazyLock<Regex> = LazyLock::new(|| {
    let letters = [
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"\p{N}{1,3}",
        r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
        r"\s*[\r\n]+",
        r"\s+$",
    ]
    .join("|");
    Regex::new_many(&[letters.as_str(), r"\s+\s", r"\s+"]).expect("the o200k patterns compile")
});

/// The pattern of `PRE_TOKENIZER` whose match gives back its last character.
const GIVES_BACK_ONE: usize = 1;

/// The o200k pre-tokenizer over any text, by `PRE_TOKENIZER`.
struct UnicodePieces<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Iterator for UnicodePieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = &self.text[self.at..];
        let first = rest.chars().next()?;
        let found = PRE_TOKENIZER.find(Input::new(rest).anchored(Anchored::Yes));
        let len = match found {
            Some(found) if found.pattern().as_usize() == GIVES_BACK_ONE => {
                let matched = &rest[..found.end()];
                found.end() - matched.chars().next_back().map_or(0, char::len_utf8)
            }
            Some(found) if found.end() > 0 => found.end(),
            // The patterns match every character; should one not, it is a piece of its own
            // rather than text left uncounted.
            _ => first.len_utf8(),
        };
        let start = self.at;
        self.at += len;
        Some(&self.text[start..self.at])
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

    #[test]
    fn unicode_pieces_are_the_tokenizers_own() {
        for text in [
            "naïve café — 東京 ✓ done\n",
            "Ünïcödé's ÀBC déf  \u{a0} \u{2028}x\n\u{85} ",
            "test result: ok ✓\n  ✗ failed\t\t→ ½ ① ٣٤٥",
        ] {
            let pieces: Vec<&str> = UnicodePieces { text, at: 0 }.collect();
            assert_eq!(pieces, reference_pieces(text), "{text:?}");
        }
    }

    #[test]
    fn pieces_encode_to_as_many_tokens_as_bpe_openai_says() {
        let reference = &bpe_openai::o200k_base().bpe;
        for piece in [
            "hello",
            " world",
            "==========",
            "                ",
            "abcdefghijklmnopqrstuvwxyz",
            "0123",
            "\n\n\n",
            "x1y2z3",
            "supercalifragilisticexpialidocious",
            "東京都",
            "✓✓✓",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert_eq!(
                VOCABULARY.encoded_len(piece.as_bytes()),
                reference.count(piece.as_bytes()) as u64,
                "{piece:?}"
            );
        }
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
            for minimum in [0, 1, tokens / 3, tokens - 1, tokens, tokens + 1] {
                assert_eq!(at_least(&text, minimum), tokens >= minimum, "{minimum}");
            }
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
        fn any_bytes_encode_like_the_tokenizer(piece in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            let reference = bpe_openai::o200k_base().bpe.count(&piece) as u64;
            proptest::prop_assert_eq!(VOCABULARY.encoded_len(&piece), reference);
        }

        #[test]
        fn any_text_splits_like_the_tokenizer(text in "[ a-zA-Z0-9'.\t\r\n\u{85}\u{a0}\u{2028}\u{e9}\u{c9}\u{2713}\u{6771}\u{0663}\u{301}-]{0,100}") {
            let pieces: Vec<&str> = UnicodePieces { text: &text, at: 0 }.collect();
            proptest::prop_assert_eq!(pieces, reference_pieces(&text));
        }

        #[test]
        fn lines_of_any_text_count_like_the_tokenizer(
            lines in proptest::collection::vec("[ a-zA-Z0-9'/.\t\r\u{85}\u{a0}\u{2028}\u{e9}\u{2713}-]{0,40}", 0..300)
        ) {
            let text = lines.join("\n");
            let tokens = reference_count(&text);
            proptest::prop_assert_eq!(count(&text), tokens);
            for minimum in [tokens / 2, tokens, tokens + 1] {
                proptest::prop_assert_eq!(at_least(&text, minimum), tokens >= minimum);
            }
            let runs: Vec<(&str, bool)> = runs(&text).collect();
            proptest::prop_assert_eq!(runs.iter().map(|(run, _)| *run).collect::<String>(), text.as_str());
            proptest::prop_assert!(runs.iter().all(|(run, is_ascii)| !is_ascii || run.is_ascii()));
        }
    }
}
