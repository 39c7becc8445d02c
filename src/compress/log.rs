//! Pure: long plain-text output (build logs, test runs, command output). Keeps the first and last
//! lines, and every line that looks like an error, failure or warning with the lines around it
//! (stack traces follow their error line, so they fall in the context after it).

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, Input, Span, packed};

use super::{Kept, marker};

/// Shorter outputs are left alone.
const MIN_LINES: usize = 60;
const HEAD_LINES: usize = 15;
const TAIL_LINES: usize = 25;
const CONTEXT_BEFORE: usize = 2;
const CONTEXT_AFTER: usize = 8;
/// At most this many important lines are kept (with their context); the rest are counted.
const MAX_IMPORTANT: usize = 60;

const SIGNALS: [&str; 14] = [
    "error",
    "warning",
    "warn:",
    "fail",
    "panic",
    "exception",
    "traceback",
    "fatal",
    "assert",
    "denied",
    "not found",
    "cannot",
    "undefined",
    "expected",
];

/// Where the signals are in a text, in any case: the text is lowered once (ASCII only, so offsets
/// stay the same) and searched with a vectorized multi-pattern search, more than ten times faster
/// on this machine than a case-insensitive automaton over the text itself.
pub struct Signals {
    lowered: String,
}

impl Signals {
    /// Ready to search `text`.
    pub fn new(text: &str) -> Self {
        Signals {
            lowered: text.to_ascii_lowercase(),
        }
    }

    /// Where the first signal in `range` starts, if there is one.
    pub fn find(&self, range: std::ops::Range<usize>) -> Option<usize> {
        static VECTORIZED: LazyLock<Option<packed::Searcher>> =
            LazyLock::new(|| packed::Searcher::new(SIGNALS));
        static AUTOMATON: LazyLock<AhoCorasick> =
            LazyLock::new(|| AhoCorasick::new(SIGNALS).expect("the signals are plain words"));
        let found = match &*VECTORIZED {
            Some(searcher) => searcher.find_in(&self.lowered, Span::from(range)),
            // Without the CPU features the vectorized search needs.
            None => AUTOMATON.find(Input::new(&self.lowered).range(range)),
        };
        found.map(|found| found.start())
    }

    /// The indexes of the lines (of the text split at `\n`) that hold a signal. No signal holds a
    /// newline, so one search over the text finds them, skipping the rest of each line found.
    fn lines(&self, lines: &[&str]) -> Vec<usize> {
        let mut starts = Vec::with_capacity(lines.len());
        let mut at = 0;
        for line in lines {
            starts.push(at);
            at += line.len() + 1;
        }
        let mut important = Vec::new();
        let mut from = 0;
        while from < self.lowered.len()
            && let Some(found) = self.find(from..self.lowered.len())
        {
            let line = starts.partition_point(|&start| start <= found) - 1;
            important.push(line);
            from = starts.get(line + 1).copied().unwrap_or(self.lowered.len());
        }
        important
    }
}

/// Whether a line is worth keeping on its own. For one short line, an automaton that ignores
/// case beats lowering a copy first.
pub fn is_important(line: &str) -> bool {
    static ANY_CASE: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(SIGNALS)
            .expect("the signals are plain words")
    });
    ANY_CASE.is_match(line)
}

/// The compressed text, or `None` when the output is short or nothing much could go.
pub fn compress(text: &str, original: &str) -> Option<Kept> {
    let lines: Vec<&str> = text.split('\n').collect();
    if lines.len() < MIN_LINES {
        return None;
    }
    let mut keep = vec![false; lines.len()];
    keep.iter_mut().take(HEAD_LINES).for_each(|k| *k = true);
    keep.iter_mut()
        .rev()
        .take(TAIL_LINES)
        .for_each(|k| *k = true);
    let important = Signals::new(text).lines(&lines);
    for &i in important.iter().take(MAX_IMPORTANT) {
        let from = i.saturating_sub(CONTEXT_BEFORE);
        let to = (i + CONTEXT_AFTER).min(lines.len() - 1);
        keep[from..=to].iter_mut().for_each(|k| *k = true);
    }
    let unkept_important = important.len().saturating_sub(MAX_IMPORTANT);
    Kept::from_lines(&lines, &keep, |omitted| {
        let note = if unkept_important > 0 {
            format!(
                "first {MAX_IMPORTANT} error/warning lines kept, {unkept_important} more in the full output"
            )
        } else {
            "all error and warning lines kept".to_owned()
        };
        marker(omitted, "lines", &note, original)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_head_tail_and_every_error_with_its_trace() {
        let mut lines: Vec<String> = (0..500)
            .map(|i| format!("   Compiling crate{i} v0.1.{i}"))
            .collect();
        lines[200] = "error[E0308]: mismatched types in src/lib.rs:42".into();
        lines[201] = "  --> src/lib.rs:42:5".into();
        lines[350] = "thread 'main' panicked at src/main.rs:7:9:".into();
        lines[351] = "   0: std::panicking::begin_panic".into();
        let text = lines.join("\n");
        let kept = compress(&text, "/tmp/full.txt").unwrap();
        for fact in [
            "Compiling crate0 ",
            "Compiling crate499 ",
            "error[E0308]: mismatched types in src/lib.rs:42",
            "--> src/lib.rs:42:5",
            "panicked at src/main.rs:7:9",
            "begin_panic",
        ] {
            assert!(kept.text.contains(fact), "{fact} lost");
        }
        assert!(kept.text.contains("lines omitted") && kept.text.contains("/tmp/full.txt"));
        assert!(kept.text.len() < text.len() / 3);
        assert!(kept.lossy);
    }

    #[test]
    fn important_lines_are_the_lines_with_a_signal() {
        let text = "ok\nError: x\n\nwarning and error\nfine\nlast FAIL";
        let lines: Vec<&str> = text.split('\n').collect();
        let expected: Vec<usize> = (0..lines.len())
            .filter(|&i| is_important(lines[i]))
            .collect();
        assert_eq!(Signals::new(text).lines(&lines), expected);
        assert_eq!(expected, [1, 3, 5]);
    }

    proptest::proptest! {
        #[test]
        fn a_line_is_important_when_it_holds_a_signal_in_any_case(
            line in "[a-zA-Z :]{0,12}(Error|WARN:|fAiL|not found|Expected|x)[a-z :]{0,12}"
        ) {
            let lowered = line.to_ascii_lowercase();
            let naive = SIGNALS.iter().any(|signal| lowered.contains(signal));
            proptest::prop_assert_eq!(is_important(&line), naive);
        }
    }

    #[test]
    fn short_output_is_left_alone_and_a_flood_of_errors_is_counted() {
        assert!(compress(&"x\n".repeat(30), "").is_none());
        let important = (0..90)
            .map(|i| format!("error {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            compress(&important, "").is_none(),
            "keeping nearly everything is not worth it"
        );
        let flood = (0..400)
            .map(|i| format!("error {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let kept = compress(&flood, "/tmp/f.txt").unwrap();
        assert!(kept.text.contains("error 0\n") && kept.text.contains("error 399"));
        assert!(kept.text.contains("first 60 error/warning lines kept, 340 more in the full output; full output: /tmp/f.txt"), "{}", kept.text);
    }
}
