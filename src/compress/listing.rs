//! Pure: listings of paths, one per line (`find`, `git ls-files`, Claude Code's `Glob`). Lossless
//! only: each run of paths in one folder is written under the folder, once. Every entry may be the
//! one the agent wants, so nothing is ever cut.

use super::Kind;
use super::kept::{Kept, note};

/// Fewer paths than this are left alone.
const MIN_LINES: usize = 40;
/// A folder is written once only for runs of at least this many paths in it.
const MIN_RUN: usize = 3;

pub struct Listing;

impl Kind for Listing {
    fn name(&self) -> &'static str {
        "listing"
    }

    fn claims(&self, _text: &str, lines: &[&str]) -> bool {
        let shown: Vec<&&str> = lines.iter().filter(|line| !line.is_empty()).collect();
        shown.len() >= MIN_LINES
            && shown.iter().filter(|line| is_path(line)).count() * 20 >= shown.len() * 19
    }

    fn compress(&self, _text: &str, lines: &[&str], _original: Option<&str>) -> Option<Kept> {
        // The layout reads back exactly only if no line starts with a space.
        if lines.iter().any(|line| line.starts_with(' ')) {
            return None;
        }
        let mut out = note(FOLDED);
        let mut i = 0;
        while i < lines.len() {
            let folder = folder_of(lines[i]);
            let run = match folder {
                Some(folder) => lines[i..]
                    .iter()
                    .take_while(|line| folder_of(line) == Some(folder))
                    .count(),
                None => 1,
            };
            out.push('\n');
            match folder {
                Some(folder) if run >= MIN_RUN => {
                    out.push_str(folder);
                    for line in &lines[i..i + run] {
                        out.push_str("\n  ");
                        out.push_str(&line[folder.len()..]);
                    }
                }
                _ => {
                    for (k, line) in lines[i..i + run].iter().enumerate() {
                        if k > 0 {
                            out.push('\n');
                        }
                        out.push_str(line);
                    }
                }
            }
            i += run;
        }
        let size: usize = lines.iter().map(|line| line.len() + 1).sum();
        (out.len() < size).then(|| Kept::lossless(out))
    }
}

const FOLDED: &str = "paths grouped by folder: a line ending in / followed by indented lines is a folder, and each indented line is a path in it, without the folder";

/// A path: a folder separator, and none of what a command, a call or a record holds (leading
/// space, tabs, parentheses, `=`, quotes, `: `).
fn is_path(line: &str) -> bool {
    line.contains('/')
        && !line.starts_with(' ')
        && !line.contains(['\t', '(', ')', '=', '"'])
        && !line.contains(": ")
}

/// The folder part of a path, with its trailing `/`, when the path has a name after it.
fn folder_of(line: &str) -> Option<&str> {
    let at = line.rfind('/')?;
    (at + 1 < line.len()).then(|| &line[..=at])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_folders_is_lossless() {
        let mut lines_ = Vec::new();
        for dir in ["src/compress", "src/proxy", "tests/it/support"] {
            for name in 0..20 {
                lines_.push(format!("/work/main/{dir}/file_{name}.rs"));
            }
            lines_.push(format!("/work/main/{dir}/"));
            lines_.push("/work/main/README.md".to_owned());
        }
        lines_.push(String::new());
        let text = lines_.join("\n");
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(Listing.claims(&text, &lines));
        let kept = Listing.compress(&text, &lines, None).unwrap();
        assert!(!kept.lossy);
        assert_eq!(crate::compress::fidelity::unfold(&kept.text), text);
        assert!(kept.text.len() < text.len() * 2 / 3, "{}", kept.text);
    }

    #[test]
    fn long_listings_of_other_shapes_are_not_path_lists() {
        let ls = "-rw-r--r-- 1 root root 4096 Nov 30 14:32 file.txt\n".repeat(60);
        let lines: Vec<&str> = ls.split('\n').collect();
        assert!(!Listing.claims(&ls, &lines));
        let yaml = "path: /usr/lib/x\n".repeat(60);
        let lines: Vec<&str> = yaml.split('\n').collect();
        assert!(!Listing.claims(&yaml, &lines));
        let strace = "openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC) = 3\n".repeat(60);
        let lines: Vec<&str> = strace.split('\n').collect();
        assert!(!Listing.claims(&strace, &lines));
    }
}
