//! Pure: what every kind of compression shares. The result type (`Kept`), the one marker grammar,
//! the notes that explain a lossless layout, and the words that make a line worth keeping. Markers
//! claim only what their writer checked; nothing here decides what to drop.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, Input, Span, packed};

/// A compressor's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub text: String,
    /// Whether anything was dropped (the original is then kept on disk and the marker names it).
    pub lossy: bool,
}

impl Kept {
    /// A rewrite the original can be rebuilt from byte for byte.
    pub fn lossless(text: String) -> Kept {
        Kept { text, lossy: false }
    }

    /// The kept lines joined, with one marker (from `marker_for(omitted)`) per run of dropped
    /// lines; `None` when less than a third would be dropped.
    pub fn from_lines(
        lines: &[&str],
        keep: &[bool],
        marker_for: impl Fn(usize) -> String,
    ) -> Option<Kept> {
        let kept = keep.iter().filter(|k| **k).count();
        if kept * 3 > lines.len() * 2 {
            return None;
        }
        let mut out = String::new();
        let mut omitted = 0;
        for (line, keep) in lines.iter().zip(keep) {
            if *keep {
                if omitted > 0 {
                    out.push_str(&marker_for(omitted));
                    out.push('\n');
                    omitted = 0;
                }
                out.push_str(line);
                out.push('\n');
            } else {
                omitted += 1;
            }
        }
        if omitted > 0 {
            out.push_str(&marker_for(omitted));
            out.push('\n');
        }
        out.pop();
        Some(Kept {
            text: out,
            lossy: true,
        })
    }
}

/// Where a lossy result says the original is: the marker grammar's last part.
pub const FULL_OUTPUT: &str = "; full output: ";

/// The one marker grammar of every lossy compressor:
/// `[... 1204 lines omitted: every line with an error or warning word kept; full output: /path ...]`.
pub fn marker(count: usize, unit: &str, note: &str, original: &str) -> String {
    format!("[... {count} {unit} omitted: {note}{FULL_OUTPUT}{original} ...]")
}

/// Whether a text already carries headroom's markers or layout notes: compressing a compressed
/// output again must change nothing.
pub fn is_compressed(text: &str) -> bool {
    text.starts_with(NOTE_OPEN) || (text.contains(" omitted: ") && text.contains(FULL_OUTPUT))
}

/// How a lossless layout's note starts, on the output's first line.
pub const NOTE_OPEN: &str = "[headroom: ";

/// The first line of a lossless layout: says how to read what follows, so the agent needs
/// nothing else to rebuild the original.
pub fn note(text: &str) -> String {
    format!("{NOTE_OPEN}{text}]")
}

/// Words (lowered) that make a line worth keeping: errors, warnings, failures, what usually follows
/// them (traces, causes), and the levels loggers use for them.
pub const SIGNALS: [&str; 29] = [
    "error",
    "warn",
    "fail",
    "panic",
    "exception",
    "traceback",
    "fatal",
    "severe",
    "crit",
    "emerg",
    "assert",
    "denied",
    "forbidden",
    "not found",
    "cannot",
    "unable",
    "undefined",
    "expected",
    "caused by",
    "refused",
    "timed out",
    "timeout",
    "killed",
    "out of memory",
    "segfault",
    "segmentation fault",
    "abort",
    "not ok",
    "unreachable",
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
    pub fn lines(&self, lines: &[&str]) -> Vec<usize> {
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

/// Whether a line holds a signal. For one short line, an automaton that ignores case beats
/// lowering a copy first.
pub fn is_important(line: &str) -> bool {
    static ANY_CASE: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(SIGNALS)
            .expect("the signals are plain words")
    });
    ANY_CASE.is_match(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn important_lines_are_the_lines_with_a_signal() {
        let text = "ok\nError: x\n\nwarning and error\nfine\nlast FAIL\n13:45:01.123 [main] WARN  c.e.Db - slow\nCaused by: java.io.IOException\nnot ok 3 - adds";
        let lines: Vec<&str> = text.split('\n').collect();
        let expected: Vec<usize> = (0..lines.len())
            .filter(|&i| is_important(lines[i]))
            .collect();
        assert_eq!(Signals::new(text).lines(&lines), expected);
        assert_eq!(expected, [1, 3, 5, 6, 7, 8]);
    }

    #[test]
    fn common_levels_are_signals() {
        for line in [
            "2026-11-20 10:00:00,123 - app.db - CRITICAL - pool exhausted",
            "SEVERE: Servlet.service() threw",
            "Nov 30 14:32:11 host kernel: Out of memory: Killed process 4242 (java)",
            "13:45:01.123 [main] WARN  com.example.Cache - eviction storm",
            "E1130 14:32:11.123456 1234 server.go:42] dial tcp: connection refused",
        ] {
            assert!(is_important(line), "{line}");
        }
        for line in [
            "2026-11-20T10:00:00.332Z INFO http: GET /health 200",
            "   Compiling serde v1.0.0",
        ] {
            assert!(!is_important(line), "{line}");
        }
    }

    proptest::proptest! {
        #[test]
        fn a_line_is_important_when_it_holds_a_signal_in_any_case(
            line in "[a-zA-Z :]{0,12}(Error|WARN|fAiL|not found|Expected|Caused By|x)[a-z :]{0,12}"
        ) {
            let lowered = line.to_ascii_lowercase();
            let naive = SIGNALS.iter().any(|signal| lowered.contains(signal));
            proptest::prop_assert_eq!(is_important(&line), naive);
        }
    }
}
