//! Pure: search results (`grep -rn`, `rg -n`): `path:line:text` lines. Keeps a bounded number of
//! matches per file and in total, and says how many were left out in each file.

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use super::{Kept, marker};

const MIN_LINES: usize = 40;
const PER_FILE: usize = 5;
const TOTAL: usize = 80;

/// The file a search-result line belongs to, if it is one: `path:12:` or `path-12-` (context).
fn file_of(line: &str) -> Option<&str> {
    let (path, rest) = line.split_once(':').or_else(|| line.split_once('-'))?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let well_formed = !path.is_empty()
        && !path.contains(' ')
        && digits > 0
        && matches!(rest.as_bytes().get(digits), Some(b':' | b'-'));
    well_formed.then_some(path)
}

/// The compressed results, or `None` when the text is not search output (nine lines in ten, blank
/// lines and `--` separators aside, must be results) or there is little to drop.
pub fn compress(text: &str, original: &str) -> Option<Kept> {
    let lines: Vec<&str> = text.split('\n').collect();
    let is_separator = |line: &str| matches!(line.trim_end_matches('\r'), "" | "--");
    let results = lines.iter().filter(|line| !is_separator(line)).count();
    if results < MIN_LINES {
        return None;
    }
    // Each line is read once, for the test and the counts; other text stops at its first misses.
    let allowed_misses = results / 10;
    let mut misses = 0;
    let mut keep = vec![false; lines.len()];
    let mut per_file: HashMap<&str, usize, FxBuildHasher> = HashMap::default();
    let mut total = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(file) = file_of(line) else {
            if !is_separator(line) {
                misses += 1;
                if misses > allowed_misses {
                    return None;
                }
            }
            keep[i] = true;
            continue;
        };
        let seen = per_file.entry(file).or_default();
        *seen += 1;
        if *seen <= PER_FILE && total < TOTAL {
            keep[i] = true;
            total += 1;
        }
    }
    let files = per_file.len();
    Kept::from_lines(&lines, &keep, |omitted| {
        marker(
            omitted,
            "matching lines",
            &format!("at most {PER_FILE} per file and {TOTAL} in all, from {files} files"),
            original,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_few_matches_per_file() {
        let mut lines = Vec::new();
        for file in 0..10 {
            for line in 0..30 {
                lines.push(format!(
                    "src/file{file}.rs:{}:    let value = compute({line});",
                    line + 1
                ));
            }
        }
        lines[92] = "src/file3.rs:3:    let special = version(\"1.2.3\");".into();
        let text = lines.join("\n");
        let kept = compress(&text, "/tmp/o.txt").unwrap();
        assert!(kept.text.contains("src/file0.rs:1:") && kept.text.contains("src/file9.rs:5:"));
        assert!(
            kept.text.contains("version(\"1.2.3\")"),
            "the first matches of each file stay"
        );
        assert!(!kept.text.contains("src/file9.rs:6:"));
        assert!(kept.text.contains("matching lines omitted"));
    }

    #[test]
    fn other_text_is_not_search_output() {
        let sentences = "just a sentence: with a colon\n".repeat(100);
        assert_eq!(compress(&sentences, "/tmp/o.txt"), None);
        let results: Vec<String> = (0..100)
            .map(|i| format!("src/a{}.rs:{i}:x", i % 3))
            .collect();
        let mut mixed = results.clone();
        mixed[..11].fill(sentences.lines().next().unwrap().to_owned());
        assert_eq!(
            compress(&mixed.join("\n"), "/tmp/o.txt"),
            None,
            "11 in 100 are not results"
        );
        mixed[10] = results[10].clone();
        assert!(
            compress(&mixed.join("\n"), "/tmp/o.txt").is_some(),
            "10 in 100 are not"
        );
    }
}
