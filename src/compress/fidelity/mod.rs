//! Tests only: compression never costs the agent a fact. Every output of the fidelity corpus
//! (tests/fidelity, real command outputs and the facts an engineer needs from each, chosen before
//! looking at the compressors) goes through the compressor as its agent would send it, and:
//!
//! - every fact reaches the upstream verbatim;
//! - outputs of tools that read files (and reads of originals) reach it byte for byte;
//! - a lossless result reads back to the original by the rule its note states;
//! - every marker's claim holds against the original (counts add up, the lines it says were kept
//!   are there, in order);
//! - compressing a compressed output changes nothing.

use std::path::PathBuf;

use super::kept::{FULL_OUTPUT, NOTE_OPEN, is_important};
use super::*;

mod harness;

const ORIGINAL: &str = "/originals/0123456789abcdef.txt";

/// Search results read back from the grouped layout.
pub fn ungroup(grouped: &str) -> String {
    let mut out = Vec::new();
    let mut path = "";
    for line in grouped.split('\n').skip(1) {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        match line.as_bytes().get(digits) {
            _ if line.is_empty() || line == "--" => out.push(line.to_owned()),
            Some(b':') if digits > 0 => out.push(format!("{path}:{line}")),
            Some(b'-') if digits > 0 => out.push(format!("{path}-{line}")),
            _ => path = line,
        }
    }
    out.join("\n")
}

/// Paths read back from the folded layout.
pub fn unfold(folded: &str) -> String {
    let lines: Vec<&str> = folded.split('\n').skip(1).collect();
    let mut out = Vec::new();
    let mut folder = "";
    for (i, line) in lines.iter().enumerate() {
        if let Some(name) = line.strip_prefix("  ") {
            out.push(format!("{folder}{name}"));
        } else if line.ends_with('/') && lines.get(i + 1).is_some_and(|next| next.starts_with("  "))
        {
            folder = line;
        } else {
            out.push((*line).to_owned());
        }
    }
    out.join("\n")
}

/// Repeated lines read back from their counts.
pub fn unrepeat(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in text.split('\n') {
        let count = line
            .strip_prefix("[headroom: the line above repeats ")
            .and_then(|rest| rest.strip_suffix(" more times]"))
            .and_then(|count| count.parse::<usize>().ok());
        match (count, out.last().copied()) {
            (Some(count), Some(last)) => out.extend(std::iter::repeat_n(last, count)),
            _ => out.push(line),
        }
    }
    out.join("\n")
}

/// A JSON table read back as minified JSON (keys and values with their exact text).
pub fn untable(kept: &str) -> String {
    let mut lines = kept.split('\n');
    let mut envelope = None;
    let mut line = lines.next().unwrap();
    if !line.starts_with(NOTE_OPEN) {
        envelope = Some(line);
        line = lines.next().unwrap();
    }
    assert!(line.starts_with(NOTE_OPEN), "{line}");
    let header: Vec<String> = split_values(lines.next().unwrap());
    let items: Vec<String> = lines
        .map(|row| {
            if row.starts_with('{') {
                return row.to_owned();
            }
            let values = split_values(row);
            assert_eq!(values.len(), header.len(), "{row}");
            let fields: Vec<String> = header
                .iter()
                .zip(values)
                .map(|(key, value)| format!("{key}:{value}"))
                .collect();
            format!("{{{}}}", fields.join(","))
        })
        .collect();
    let array = format!("[{}]", items.join(","));
    match envelope {
        Some(envelope) => envelope.replacen("\"<the array below>\"", &array, 1),
        None => array,
    }
}

/// The JSON values of one table line, each with its exact text.
fn split_values(line: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut rest = line;
    loop {
        let mut stream =
            serde_json::Deserializer::from_str(rest).into_iter::<&serde_json::value::RawValue>();
        let value = stream.next().expect("a value").expect("valid JSON");
        let used = stream.byte_offset();
        values.push(value.get().to_owned());
        rest = &rest[used..];
        match rest.strip_prefix(" | ") {
            Some(next) => rest = next,
            None => {
                assert!(rest.is_empty(), "unexpected {rest:?}");
                return values;
            }
        }
    }
}

/// The original, read back from a lossless result by the rule its layout states.
fn read_back(kept: &str) -> String {
    if kept.starts_with("[headroom: search results grouped") {
        ungroup(kept)
    } else if kept.starts_with("[headroom: paths grouped by folder") {
        unfold(kept)
    } else if kept.contains("objects as a table") {
        untable(kept)
    } else if kept.contains("[headroom: the line above repeats ") {
        unrepeat(kept)
    } else {
        // Minified JSON: compared with the original minified.
        kept.to_owned()
    }
}

/// A marker's count, unit and note.
fn parse_marker(line: &str) -> Option<(usize, &str, &str)> {
    let rest = line.strip_prefix("[... ")?;
    let (count, rest) = rest.split_once(' ')?;
    let (unit, note) = rest.split_once(" omitted: ")?;
    let note = note
        .split(FULL_OUTPUT)
        .next()?
        .split("; same file")
        .next()?;
    Some((count.parse().ok()?, unit, note))
}

/// Checks every marker's claim in a lossy result against its original.
fn check_markers(file: &str, original: &str, kept: &str) {
    // Cleaned of terminal sequences first: the rest is checked against the text as shown.
    let cleaned = kept
        .starts_with("[... ")
        .then(|| kept.split('\n').next())
        .flatten()
        .and_then(parse_marker)
        .filter(|(_, unit, _)| *unit == TERMINAL_UNIT)
        .and_then(|_| terminal::clean(original));
    let (original, kept) = match &cleaned {
        Some((shown, _)) => (
            shown.as_str(),
            kept.split_once('\n').map_or("", |(_, rest)| rest),
        ),
        None => (original, kept),
    };
    let original_lines: Vec<&str> = original.split('\n').collect();
    let kept_lines: Vec<&str> = kept.split('\n').collect();
    let markers: Vec<(usize, &str, &str)> = kept_lines
        .iter()
        .filter_map(|line| parse_marker(line))
        .collect();
    if cleaned.is_some() && markers.is_empty() {
        return;
    }
    assert!(!markers.is_empty(), "{file}: a lossy result has a marker");
    let omitted: usize = markers.iter().map(|(count, _, _)| count).sum();
    let (_, unit, note) = markers[0];
    match unit {
        "lines" | "diff lines" => {
            let shown: Vec<&str> = kept_lines
                .iter()
                .copied()
                .filter(|line| parse_marker(line).is_none())
                .collect();
            assert_eq!(
                shown.len() + omitted,
                original_lines.len(),
                "{file}: kept and omitted lines add up to the original"
            );
            // Kept lines are the original's, in order.
            let mut from = 0;
            for line in &shown {
                let at = original_lines[from..]
                    .iter()
                    .position(|original| original == line)
                    .unwrap_or_else(|| panic!("{file}: kept line not in the original: {line}"));
                from += at + 1;
            }
            if note.starts_with("every line with an error or warning word") {
                let important: Vec<&str> = original_lines
                    .iter()
                    .copied()
                    .filter(|line| is_important(line))
                    .collect();
                let unkept = important
                    .iter()
                    .filter(|line| !shown.contains(line))
                    .count();
                let claimed = note
                    .split("except ")
                    .nth(1)
                    .and_then(|rest| rest.split(' ').next())
                    .map_or(0, |count| count.parse::<usize>().unwrap());
                assert_eq!(unkept, claimed, "{file}: {note}");
            }
            if unit == "diff lines" {
                for line in &original_lines {
                    if line.starts_with("diff --git")
                        || line.starts_with("@@")
                        || line.starts_with("commit ")
                        || line.starts_with("Author: ")
                    {
                        assert!(shown.contains(line), "{file}: header lost: {line}");
                    }
                }
                if note.starts_with("unchanged context only") {
                    for line in original_lines.iter().filter(|line| {
                        (line.starts_with('+') && !line.starts_with("+++"))
                            || (line.starts_with('-') && !line.starts_with("---"))
                    }) {
                        assert!(shown.contains(line), "{file}: changed line lost: {line}");
                    }
                }
            }
        }
        "items" => {
            let header = kept_lines
                .iter()
                .find(|line| line.contains(" items; kept the first "))
                .expect("the item count");
            let count: usize = header
                .split(": ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .unwrap()
                .parse()
                .unwrap();
            let shown = kept_lines
                .iter()
                .filter(|line| line.starts_with(['{', '[', '"']) || line.parse::<f64>().is_ok())
                .filter(|line| {
                    !line.starts_with("[... ") && !line.contains(" items; kept the first ")
                })
                .count();
            assert_eq!(
                shown + omitted,
                count,
                "{file}: kept and omitted items add up"
            );
        }
        "lines of this file" => {
            let results = |text: &str| {
                text.split('\n')
                    .filter(|line| line.bytes().next().is_some_and(|b| b.is_ascii_digit()))
                    .count()
            };
            let original_count = original_lines
                .iter()
                .filter(|line| !line.is_empty() && *line != &"--")
                .count();
            assert_eq!(
                results(kept) + omitted,
                original_count,
                "{file}: results add up"
            );
        }
        other => panic!("{file}: unknown marker unit {other:?}"),
    }
}

/// The facts of every corpus output reach the upstream, and every other promise holds.
#[test]
fn every_fact_survives_compression_and_every_claim_holds() {
    let samples = harness::load();
    assert!(samples.len() >= 40, "a broad corpus: {}", samples.len());
    let kinds: std::collections::BTreeSet<&str> = samples
        .iter()
        .map(|(sample, _)| sample.kind.as_str())
        .collect();
    assert!(kinds.len() >= 10, "{kinds:?}");
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (tag, (sample, text)) in samples.iter().enumerate() {
        let file = sample.file.as_str();
        for fact in &sample.facts {
            assert!(
                text.contains(fact.as_str()),
                "{file}: fact {fact:?} is not in the original"
            );
        }
        let compressor = Compressor::new(Some(dir.path().to_owned()));
        let (body, family) = harness::request(sample, text, tag);
        let forwarded = compressor
            .compress(&body, &crate::body::read(&body), family)
            .and_then(|outcome| outcome.apply(&body))
            .map_or_else(|| text.clone(), |body| harness::output(&body, family));
        for fact in &sample.facts {
            if !harness::is_visible(&forwarded, fact) {
                failures.push(format!("{file} ({}): fact lost: {fact:?}", sample.kind));
            }
        }
        if sample.tool == "Read" && forwarded != *text {
            failures.push(format!(
                "{file}: a file read is not forwarded byte for byte"
            ));
        }
        if forwarded == *text {
            continue;
        }
        let checked = std::panic::catch_unwind(|| {
            if forwarded.contains(FULL_OUTPUT) {
                check_markers(file, text, &forwarded);
            } else {
                let is_json = forwarded.contains("objects as a table")
                    || (forwarded.starts_with(['{', '[']) && !forwarded.starts_with(NOTE_OPEN));
                let expected = if is_json {
                    json::minify(text.trim())
                } else {
                    text.clone()
                };
                assert!(
                    read_back(&forwarded) == expected,
                    "{file}: a lossless result does not read back"
                );
            }
            assert!(
                compress_one(&forwarded, Some(&PathBuf::from(ORIGINAL))).is_none(),
                "{file}: compressing the compressed output changes it again"
            );
        });
        if let Err(panic) = checked {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(message.chars().take(300).collect());
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Reads of originals are never compressed, whatever tool reads them.
#[test]
fn reads_of_originals_reach_the_upstream_whole() {
    let log: String = (0..500)
        .map(|i| format!("2026-11-20T10:00:00.{i:03}Z INFO step {i}\n"))
        .collect();
    for (tool, input) in [
        (
            "Bash",
            serde_json::json!({"command": format!("cat {ORIGINAL}")}),
        ),
        (
            "Bash",
            serde_json::json!({"command": format!("grep -n step {ORIGINAL}")}),
        ),
        ("Read", serde_json::json!({"file_path": ORIGINAL})),
    ] {
        let sample = harness::Sample {
            file: String::new(),
            kind: "log".into(),
            tool: tool.into(),
            input,
            facts: Vec::new(),
        };
        let compressor = Compressor::new(Some(std::env::temp_dir()));
        let (body, family) = harness::request(&sample, &log, 0);
        let outcome = compressor
            .compress(&body, &crate::body::read(&body), family)
            .expect("a read is counted");
        assert!(outcome.apply(&body).is_none(), "{tool}: left as sent");
        assert_eq!(outcome.savings.retrievals(), 1);
        assert_eq!(outcome.savings.delta().added_newest, count_tokens(&log));
    }
}

/// Colour codes and redrawn progress lines go (lossy, with the original kept), and the kinds read
/// the text as a terminal shows it.
#[test]
fn terminal_sequences_are_cleaned_before_the_kinds_read_the_text() {
    let mut log = String::new();
    for i in 0..300 {
        log.push_str(&format!(
            "\u{1b}[32m2026-11-20T10:00:00.{i:03}Z INFO\u{1b}[0m step {i}\n"
        ));
    }
    log.push_str("\u{1b}[31m2026-11-20T10:00:01.000Z ERROR db: connection refused\u{1b}[0m\n");
    for percent in 0..=100 {
        log.push_str(&format!("Downloading {percent}%\r"));
    }
    log.push_str("Downloading done\n");
    let (kept, _, kind) = compress_one(&log, Some(&PathBuf::from(ORIGINAL))).unwrap();
    assert_eq!(kind, "log");
    assert!(kept.lossy);
    assert!(kept.text.starts_with("[... "), "{}", kept.text);
    assert!(!kept.text.contains('\u{1b}') && !kept.text.contains('\r'));
    assert!(
        kept.text
            .contains("2026-11-20T10:00:01.000Z ERROR db: connection refused")
    );
    assert!(kept.text.contains("Downloading done") && !kept.text.contains("Downloading 55%"));
    check_markers("colours.log", &log, &kept.text);
    // Without a place for the original, nothing lossy happens: the codes stay.
    assert!(compress_one(&log, None).is_none_or(|(kept, _, _)| kept.text.contains('\u{1b}')));
}
