//! Pure: history (`git log`, `git show`, with or without patches). Every commit header (hash,
//! merge, author, date), message and stat line is kept; patches are cut as diffs are. History
//! without patches (`--stat`, plain `git log`) is nearly all facts and is sent whole.

use super::Kind;
use super::diff;
use super::kept::Kept;

pub struct History;

impl Kind for History {
    fn name(&self) -> &'static str {
        "history"
    }

    fn claims(&self, _text: &str, lines: &[&str]) -> bool {
        let mut commits = 0;
        let mut authors = 0;
        for line in lines {
            commits += usize::from(is_commit_line(line));
            authors += usize::from(line.starts_with("Author: "));
        }
        commits > 0 && authors > 0 && lines.first().is_some_and(|first| is_commit_line(first))
    }

    fn compress(&self, _text: &str, lines: &[&str], original: Option<&str>) -> Option<Kept> {
        diff::cut(lines, original?)
    }
}

/// `commit 1a2b3c4…` (optionally followed by refs, as `--decorate` prints them).
fn is_commit_line(line: &str) -> bool {
    line.strip_prefix("commit ").is_some_and(|rest| {
        let hash = rest.split(' ').next().unwrap_or_default();
        hash.len() >= 7 && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_commit_header_and_message_and_cuts_patch_context() {
        let mut text = String::new();
        for commit in 0..4 {
            text.push_str(&format!(
                "commit {commit:040x}\nAuthor: Dev {commit} <dev@example.com>\nDate:   Mon Nov 30 14:3{commit}:00 2026 +0000\n\n    change number {commit}\n\ndiff --git a/src/lib.rs b/src/lib.rs\nindex 1..2 100644\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,40 +1,40 @@\n"
            ));
            for i in 0..40 {
                if i == 20 {
                    text.push_str(&format!(
                        "-const V: u32 = {commit};\n+const V: u32 = {};\n",
                        commit + 1
                    ));
                } else {
                    text.push_str(&format!(" fn same_{i}() {{}}\n"));
                }
            }
        }
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(History.claims(&text, &lines));
        let kept = History.compress(&text, &lines, Some("/o.txt")).unwrap();
        for commit in 0..4 {
            for fact in [
                format!("commit {commit:040x}"),
                format!("Author: Dev {commit} <dev@example.com>"),
                format!("Date:   Mon Nov 30 14:3{commit}:00 2026 +0000"),
                format!("    change number {commit}"),
                format!("+const V: u32 = {};", commit + 1),
            ] {
                assert!(kept.text.contains(&fact), "{fact} lost:\n{}", kept.text);
            }
        }
        assert!(!kept.text.contains("same_5()"));
    }

    #[test]
    fn history_without_patches_is_sent_whole_and_other_text_is_not_history() {
        let stat = "commit abcdef1234567\nAuthor: A <a@b>\nDate:   now\n\n    subject\n\n src/a.rs | 2 +-\n 1 file changed\n\n".repeat(20);
        let lines: Vec<&str> = stat.split('\n').collect();
        assert!(History.claims(&stat, &lines));
        assert!(History.compress(&stat, &lines, Some("/o.txt")).is_none());
        let prose = "commit to the plan\nAuthor: someone\n";
        let lines: Vec<&str> = prose.split('\n').collect();
        assert!(!History.claims(prose, &lines));
    }
}
