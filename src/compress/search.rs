//! Pure: search results (`grep -rn`, `rg -n`, Claude Code's `Grep`): `path:line:text` lines, and
//! `path-line-text` context lines. Lossless first: each file's path is written once, above its
//! lines. Only past `LOSSY_MIN_MATCHES` matches is anything cut, and then every file keeps its first
//! `PER_FILE` matches: the file the agent searched for usually has the most.

use super::Kind;
use super::kept::{Kept, marker, note};

/// Fewer result lines than this are left alone.
const MIN_LINES: usize = 40;
/// Results are cut only past this many matches in all...
const LOSSY_MIN_MATCHES: usize = 400;
/// ...and then each file keeps this many.
const PER_FILE: usize = 50;

pub struct Search;

impl Kind for Search {
    fn name(&self) -> &'static str {
        "search"
    }

    /// Nine lines in ten, blank lines and `--` separators aside, are results.
    fn claims(&self, _text: &str, lines: &[&str]) -> bool {
        let shown = lines.iter().filter(|line| !is_separator(line)).count();
        // Other text stops at its first misses: at most one line in eleven may miss.
        let (mut results, mut others) = (0, 0);
        for line in lines.iter().filter(|line| !is_separator(line)) {
            if parse(line).is_some() {
                results += 1;
            } else {
                others += 1;
                if others * 11 > shown {
                    return false;
                }
            }
        }
        results >= MIN_LINES && others * 10 <= results
    }

    fn compress(&self, _text: &str, lines: &[&str], original: Option<&str>) -> Option<Kept> {
        let results: Vec<Option<Result<'_>>> = lines.iter().map(|line| parse(line)).collect();
        let matches = results.iter().flatten().filter(|r| r.is_match()).count();
        let cut = original
            .filter(|_| matches > LOSSY_MIN_MATCHES)
            .and_then(|original| cut(lines, &results, original));
        cut.or_else(|| group(lines, &results).map(Kept::lossless))
    }
}

/// One result line: `path`, the separator after it (`:` for a match, `-` for context), the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Result<'a> {
    path: &'a str,
    separator: char,
    rest: &'a str,
}

impl Result<'_> {
    fn is_match(&self) -> bool {
        self.separator == ':'
    }
}

fn is_separator(line: &str) -> bool {
    matches!(line.trim_end_matches('\r'), "" | "--")
}

/// A result line, if this is one. The path must look like one: no spaces, not a time of day or a
/// date (`13:45:01.123 [main]`, `2026-11-20T10:00:00Z` are log lines), and either a folder
/// separator or a file extension. Names may hold dashes (`my-file.rs-12-` is context).
fn parse(line: &str) -> Option<Result<'_>> {
    let end = line.find([' ', '\t']).unwrap_or(line.len());
    // A Windows drive (`C:\src\a.rs:12:`) is part of the path.
    let from = if line.get(1..3) == Some(":\\") { 2 } else { 0 };
    line[..end]
        .match_indices([':', '-'])
        .filter(|(at, _)| *at >= from)
        .find_map(|(at, separator)| {
            let (path, number) = (&line[..at], &line[at + 1..]);
            let digits = number.bytes().take_while(u8::is_ascii_digit).count();
            let well_formed =
                digits > 0 && number.as_bytes().get(digits) == separator.as_bytes().first();
            (well_formed && is_path(path)).then_some(Result {
                path,
                separator: if separator == ":" { ':' } else { '-' },
                rest: number,
            })
        })
}

fn is_path(path: &str) -> bool {
    let starts_with_digit = path.bytes().next().is_some_and(|b| b.is_ascii_digit());
    let has_extension = path
        .rsplit(['/', '\\'])
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .is_some_and(|(stem, ext)| {
            !stem.is_empty() && !ext.is_empty() && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    !path.is_empty()
        && !path.contains([' ', '\t', '[', ']', '"', '(', '='])
        && !starts_with_digit
        && (path.contains(['/', '\\']) || has_extension)
}

const GROUPED: &str = "search results grouped by file: a line without a line number is a file's path; the lines under it are that file's results, `line:text` for a match and `line-text` for context";

/// Each run of one file's results under its path, written once. `None` unless every line is a
/// result or a separator (so the layout can be read back exactly) and it saves something.
fn group(lines: &[&str], results: &[Option<Result<'_>>]) -> Option<String> {
    let mut out = note(GROUPED);
    let mut current = None;
    for (line, result) in lines.iter().zip(results) {
        out.push('\n');
        match result {
            Some(result) => {
                if current != Some(result.path) {
                    out.push_str(result.path);
                    out.push('\n');
                    current = Some(result.path);
                }
                out.push_str(result.rest);
            }
            None if is_separator(line) => out.push_str(line),
            None => return None,
        }
    }
    (out.len() < lines.iter().map(|line| line.len() + 1).sum::<usize>()).then_some(out)
}

/// Each file's first `PER_FILE` matches (and the context around them), grouped by file.
fn cut(lines: &[&str], results: &[Option<Result<'_>>], original: &str) -> Option<Kept> {
    let mut out = String::new();
    let mut current = None;
    let mut matches_in_file = 0;
    let mut omitted = 0;
    let mut any_omitted = false;
    let flush = |out: &mut String, omitted: &mut usize| {
        if *omitted > 0 {
            out.push_str(&marker(
                *omitted,
                "lines of this file",
                &format!("its first {PER_FILE} matches kept"),
                original,
            ));
            out.push('\n');
            *omitted = 0;
        }
    };
    for (line, result) in lines.iter().zip(results) {
        let Some(result) = result else {
            flush(&mut out, &mut omitted);
            out.push_str(line);
            out.push('\n');
            continue;
        };
        if current != Some(result.path) {
            flush(&mut out, &mut omitted);
            out.push_str(result.path);
            out.push('\n');
            current = Some(result.path);
            matches_in_file = 0;
        }
        matches_in_file += usize::from(result.is_match());
        if matches_in_file > PER_FILE {
            omitted += 1;
            any_omitted = true;
        } else {
            out.push_str(result.rest);
            out.push('\n');
        }
    }
    flush(&mut out, &mut omitted);
    if !any_omitted {
        return None;
    }
    out.pop();
    Some(Kept {
        text: format!("{}\n{out}", note(GROUPED)),
        lossy: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<&str> {
        text.split('\n').collect()
    }

    #[test]
    fn grouping_by_file_is_lossless() {
        let mut lines_ = Vec::new();
        for file in 0..10 {
            for line in 0..30 {
                lines_.push(format!(
                    "src/my-file{file}.rs:{}:    let value = compute({line});",
                    line + 1
                ));
                if line == 4 {
                    lines_.push(format!("src/my-file{file}.rs-{}-    // context", line + 2));
                    lines_.push("--".to_owned());
                }
            }
        }
        let text = lines_.join("\n");
        assert!(Search.claims(&text, &lines(&text)));
        let kept = Search
            .compress(&text, &lines(&text), Some("/o.txt"))
            .unwrap();
        assert!(!kept.lossy);
        assert_eq!(crate::compress::fidelity::ungroup(&kept.text), text);
        assert!(kept.text.len() < text.len() * 3 / 4);
    }

    #[test]
    fn many_matches_keep_the_first_fifty_of_every_file() {
        let mut lines_ = Vec::new();
        for file in 0..3 {
            for line in 0..200 {
                lines_.push(format!("src/f{file}.rs:{}:hit {file} {line}", line + 1));
            }
        }
        let text = lines_.join("\n");
        let kept = Search
            .compress(&text, &lines(&text), Some("/o.txt"))
            .unwrap();
        assert!(kept.lossy);
        for file in 0..3 {
            assert!(kept.text.contains(&format!("50:hit {file} 49\n")));
            assert!(!kept.text.contains(&format!("51:hit {file} 50\n")));
        }
        assert!(kept.text.contains("[... 150 lines of this file omitted: its first 50 matches kept; full output: /o.txt ...]"));
    }

    #[test]
    fn log_lines_and_other_near_misses_are_not_results() {
        for line in [
            "2026-11-20T10:00:00.332Z INFO http: GET /",
            "13:45:01.123 [main] INFO c.e.Foo - started",
            "2026-11-20 10:00:00,123 - app - WARNING - x",
            "localhost:8080: connection refused",
            "key: value",
            "Nov 30 14:32:11 host sshd[1]: x",
            "note: 12: something",
        ] {
            assert_eq!(parse(line), None, "{line}");
        }
        for (line, path) in [
            ("src/main.rs:12:fn main() {", "src/main.rs"),
            ("main.rs:3:x", "main.rs"),
            ("src/my-file.rs:3:x", "src/my-file.rs"),
            ("src/a.rs-14-context", "src/a.rs"),
            ("src/my-file.rs-14-context", "src/my-file.rs"),
            ("C:\\src\\a.rs:12:x", "C:\\src\\a.rs"),
        ] {
            assert_eq!(parse(line).map(|r| r.path), Some(path), "{line}");
        }
    }
}
