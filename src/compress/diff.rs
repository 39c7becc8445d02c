//! Pure: unified diffs (`git diff`, `diff -u`). Keeps every line outside hunks (file headers, and
//! in history the commit headers and messages), every hunk header and every changed line (up to a
//! bound per hunk), with one line of context around changes instead of three. Past the bound, a
//! hunk keeps only its outline: changed lines that define something (functions, types, classes) or
//! look like errors. A dense diff, with little context to drop, is sent whole.

use super::Kind;
use super::kept::{Kept, is_important, marker};

const MIN_LINES: usize = 60;
const CONTEXT: usize = 1;
const MAX_CHANGED_PER_HUNK: usize = 200;

pub struct Diff;

impl Kind for Diff {
    fn name(&self) -> &'static str {
        "diff"
    }

    fn claims(&self, text: &str, _lines: &[&str]) -> bool {
        text.starts_with("diff --git")
            || text.contains("\ndiff --git")
            || ((text.starts_with("--- ") || text.contains("\n--- "))
                && text.contains("\n+++ ")
                && text.contains("\n@@ -"))
    }

    fn compress(&self, _text: &str, lines: &[&str], original: Option<&str>) -> Option<Kept> {
        cut(lines, original?)
    }
}

/// Words that start a definition in common languages.
const DEFINITIONS: [&str; 12] = [
    "fn ",
    "def ",
    "class ",
    "struct ",
    "enum ",
    "trait ",
    "impl ",
    "interface ",
    "function ",
    "func ",
    "type ",
    "mod ",
];

/// Whether a changed line past the bound is still worth keeping.
fn is_outline(code: &str) -> bool {
    let code = code.trim_start();
    let code = [
        "pub(crate) ",
        "pub ",
        "export ",
        "async ",
        "public ",
        "private ",
        "static ",
    ]
    .iter()
    .fold(code, |code, prefix| {
        code.strip_prefix(prefix).unwrap_or(code)
    });
    DEFINITIONS.iter().any(|word| code.starts_with(word)) || is_important(code)
}

/// Context cut from the hunks of `lines` (a diff, or history with patches), or `None` when there
/// is little to drop.
pub fn cut(lines: &[&str], original: &str) -> Option<Kept> {
    if lines.len() < MIN_LINES {
        return None;
    }
    let mut keep = vec![false; lines.len()];
    let mut in_hunk = false;
    let mut changed_in_hunk = 0;
    // Changed lines past the bound, left out: the marker says so only when there are some.
    let mut changes_cut = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("@@") {
            in_hunk = true;
            changed_in_hunk = 0;
            keep[i] = true;
        } else if !in_hunk
            || !(line.starts_with(' ')
                || line.starts_with('+')
                || line.starts_with('-')
                || line.is_empty())
        {
            // File headers, commit headers and messages (git log -p) are kept whole.
            in_hunk = line.starts_with('\\') && in_hunk;
            keep[i] = true;
        } else if line.starts_with('+') || line.starts_with('-') {
            changed_in_hunk += 1;
            if changed_in_hunk > MAX_CHANGED_PER_HUNK {
                keep[i] = is_outline(&line[1..]);
                changes_cut += usize::from(!keep[i]);
            } else {
                let from = i.saturating_sub(CONTEXT);
                let to = (i + CONTEXT).min(lines.len() - 1);
                for k in from..=to {
                    // Context lines only: never pull in a line beyond the hunk.
                    keep[k] = keep[k] || k == i || lines[k].starts_with(' ');
                }
            }
        }
    }
    let note = if changes_cut == 0 {
        format!(
            "unchanged context only; every header and changed line kept, {CONTEXT} line of context"
        )
    } else {
        format!(
            "unchanged context, and {changes_cut} changed lines past the first {MAX_CHANGED_PER_HUNK} of a hunk (definitions and error lines among them kept); every header kept"
        )
    };
    Kept::from_lines(lines, &keep, |omitted| {
        marker(omitted, "diff lines", &note, original)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_headers_and_changes() {
        let mut text = String::from(
            "diff --git a/src/lib.rs b/src/lib.rs\nindex 1..2 100644\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,80 +1,80 @@\n",
        );
        for i in 0..80 {
            if i == 40 {
                text.push_str(
                    "-const VERSION: &str = \"1.0.0\";\n+const VERSION: &str = \"1.1.0\";\n",
                );
            } else {
                text.push_str(&format!(" fn unchanged_{i}() {{}}\n"));
            }
        }
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(Diff.claims(&text, &lines));
        let kept = Diff.compress(&text, &lines, Some("/tmp/d.txt")).unwrap();
        for fact in [
            "diff --git a/src/lib.rs",
            "+++ b/src/lib.rs",
            "@@ -1,80 +1,80 @@",
            "-const VERSION: &str = \"1.0.0\";",
            "+const VERSION: &str = \"1.1.0\";",
            "unchanged_39",
            "unchanged_41",
        ] {
            assert!(kept.text.contains(fact), "{fact} lost:\n{}", kept.text);
        }
        assert!(!kept.text.contains("unchanged_10()"));
        assert!(kept.text.contains("diff lines omitted"));
    }
}
