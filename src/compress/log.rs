//! Pure: logs and the output of test runners and builds. Claimed only on evidence: most lines start
//! with a timestamp or a level, or are the lines test runners, compilers and build tools print.
//! Cut to the first and last lines, every line with an error or warning word (and, in access logs,
//! every 4xx/5xx request) with the lines around it and the whole stack trace under it. Repeats of
//! one message that differ only in numbers are kept three times when there are very many.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use rustc_hash::FxBuildHasher;

use super::Kind;
use super::kept::{Kept, Signals, marker};

/// Fewer lines than this are left alone.
const MIN_LINES: usize = 60;
const HEAD_LINES: usize = 15;
const TAIL_LINES: usize = 30;
const CONTEXT_BEFORE: usize = 1;
const CONTEXT_AFTER: usize = 3;
/// A stack trace under an important line is kept whole up to this many lines.
const MAX_TRACE: usize = 120;
/// Past this many important lines, messages that differ only in numbers are kept this often.
const MANY_IMPORTANT: usize = 200;
const REPEATS_KEPT: usize = 3;

pub struct Log;

impl Kind for Log {
    fn name(&self) -> &'static str {
        "log"
    }

    fn claims(&self, text: &str, lines: &[&str]) -> bool {
        if lines.len() >= MIN_LINES && is_runner_output(text) {
            return true;
        }
        let shown = lines.iter().filter(|line| !line.trim().is_empty()).count();
        if shown < MIN_LINES {
            return false;
        }
        // Stops as soon as half the lines are known to be evidence, or cannot be any more.
        let (mut evidence, mut misses) = (0, 0);
        for line in lines.iter().filter(|line| !line.trim().is_empty()) {
            if is_log_line(line) || is_tool_line(line) {
                evidence += 1;
                if evidence * 2 >= shown {
                    return true;
                }
            } else {
                misses += 1;
                if misses * 2 > shown {
                    return false;
                }
            }
        }
        false
    }

    fn compress(&self, text: &str, lines: &[&str], original: Option<&str>) -> Option<Kept> {
        let original = original?;
        if lines.len() < MIN_LINES {
            return None;
        }
        let mut keep = vec![false; lines.len()];
        keep[..HEAD_LINES].fill(true);
        let tail = lines.len() - TAIL_LINES.min(lines.len());
        keep[tail..].fill(true);
        let mut important = Signals::new(text).lines(lines);
        important.extend((0..lines.len()).filter(|&i| is_failed_request(lines[i])));
        important.sort_unstable();
        important.dedup();
        let every_important = important.clone();
        if important.len() > MANY_IMPORTANT {
            drop_repeats(lines, &mut important);
        }
        for &i in &important {
            // A warning is one line (and whatever trace hangs under it); an error also brings
            // the lines around it, where the command or input that failed usually is.
            let (before, after) = if is_warning_only(lines[i]) {
                (0, 0)
            } else {
                (CONTEXT_BEFORE, CONTEXT_AFTER)
            };
            let from = i.saturating_sub(before);
            let mut to = (i + after).min(lines.len() - 1);
            while to + 1 < lines.len() && to < i + MAX_TRACE && is_trace(lines[to + 1]) {
                to += 1;
            }
            keep[from..=to].fill(true);
        }
        // A record unlike the rest (a sudo command among sshd logins, the one config reload) is a
        // fact even without an error word: every log record whose message appears at most twice
        // is kept. (Not lines of test and build output: each passing test's name is unique.)
        for i in rare_messages(lines) {
            keep[i] = true;
        }
        // The marker's claim, checked against what is kept.
        let repeats = every_important.iter().filter(|&&i| !keep[i]).count();
        let note = if repeats == 0 {
            "every line with an error or warning word and every rare log message kept".to_owned()
        } else {
            format!(
                "every line with an error or warning word and every rare log message kept, except {repeats} repeats of messages kept {REPEATS_KEPT} times above (only numbers differ)"
            )
        };
        Kept::from_lines(lines, &keep, |omitted| {
            marker(omitted, "lines", &note, original)
        })
    }
}

/// The log records whose message (the line with every word that holds a digit masked: times,
/// ids, sizes, addresses) appears at most twice in the text.
fn rare_messages(lines: &[&str]) -> Vec<usize> {
    let templates: Vec<u64> = lines.iter().map(|line| template(line)).collect();
    let mut counts: HashMap<u64, usize, FxBuildHasher> = HashMap::default();
    for template in &templates {
        *counts.entry(*template).or_default() += 1;
    }
    (0..lines.len())
        .filter(|&i| counts[&templates[i]] <= 2 && is_log_line(lines[i]))
        .collect()
}

/// A hash of the line's words, each word that holds a digit counted as one mask.
fn template(line: &str) -> u64 {
    let mut hasher = FxBuildHasher.build_hasher();
    for word in line.split_ascii_whitespace() {
        if word.bytes().any(|b| b.is_ascii_digit()) {
            hasher.write_u8(0);
        } else {
            hasher.write(word.as_bytes());
            hasher.write_u8(1);
        }
    }
    hasher.finish()
}

/// Keeps the first few lines of each message: its text with each run of digits masked.
fn drop_repeats(lines: &[&str], important: &mut Vec<usize>) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    important.retain(|&i| {
        let mut template = String::with_capacity(lines[i].len());
        for c in lines[i].chars() {
            if !c.is_ascii_digit() {
                template.push(c);
            } else if !template.ends_with('#') {
                template.push('#');
            }
        }
        let count = seen.entry(template).or_default();
        *count += 1;
        *count <= REPEATS_KEPT
    });
}

/// Whether the only signal a line holds is a warning.
fn is_warning_only(line: &str) -> bool {
    let lowered = line.to_ascii_lowercase();
    lowered.contains("warn") && !super::kept::is_important(&lowered.replace("warn", ""))
}

/// A line of a stack trace or of a message's continuation: indented, or a trace's own words.
fn is_trace(line: &str) -> bool {
    line.starts_with([' ', '\t'])
        || line.starts_with("Caused by")
        || line.starts_with("Traceback")
        || line.starts_with("During handling")
        || line.starts_with("The above exception")
        || line.starts_with("...")
        // The exception line that ends a Python traceback: `KeyError: 'sku'`.
        || line
            .split_once(": ")
            .is_some_and(|(name, _)| !name.contains(' ') && (name.ends_with("Error") || name.ends_with("Exception")))
}

/// An access-log line of a request that failed: `"GET /x HTTP/1.1" 502 ...`.
fn is_failed_request(line: &str) -> bool {
    line.find("HTTP/").is_some_and(|at| {
        let rest = &line[at..];
        rest.find("\" ").is_some_and(|quote| {
            let status = &rest.as_bytes()[quote + 2..];
            status.len() >= 3
                && matches!(status[0], b'4' | b'5')
                && status[1..3].iter().all(u8::is_ascii_digit)
        })
    })
}

/// Levels loggers print.
const LEVELS: [&str; 12] = [
    "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "SEVERE", "CRITICAL", "FATAL",
    "FINE", "CONFIG",
];

/// Whether a line starts like a log line: a timestamp (ISO, syslog, time of day, bracketed), a
/// level, a glog prefix (`E1130 14:32:11.123`), an access-log line, or a JSON log object.
pub fn is_log_line(line: &str) -> bool {
    let trimmed = line.trim_start_matches(['[', '<', ' ']);
    let bytes = trimmed.as_bytes();
    let digits = |from: usize, count: usize| {
        bytes.len() >= from + count && bytes[from..from + count].iter().all(u8::is_ascii_digit)
    };
    // 2026-11-20, 2026/11/20
    let date = digits(0, 4) && matches!(bytes.get(4), Some(b'-' | b'/')) && digits(5, 2);
    // 13:45:01
    let time = digits(0, 2) && bytes.get(2) == Some(&b':') && digits(3, 2);
    // 20-Nov-2026 (Tomcat), 20/Nov/2026
    let day_month = digits(0, 2)
        && matches!(bytes.get(2), Some(b'-' | b'/'))
        && bytes.len() > 7
        && bytes[3..6].iter().all(u8::is_ascii_alphabetic)
        && matches!(bytes.get(6), Some(b'-' | b'/'))
        && digits(7, 4);
    // Nov 20, 2026 (java.util.logging)
    let month_day = bytes.len() > 12
        && bytes[..3].iter().all(u8::is_ascii_alphabetic)
        && bytes[3] == b' '
        && trimmed[4..].split_once(", ").is_some_and(|(day, rest)| {
            day.len() <= 2
                && day.bytes().all(|b| b.is_ascii_digit())
                && rest.len() >= 4
                && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        });
    // Nov 30 14:32:11
    let syslog = bytes.len() > 15
        && bytes[..3].iter().all(u8::is_ascii_alphabetic)
        && bytes[3] == b' '
        && (digits(4, 2) || (bytes[4] == b' ' && digits(5, 1)))
        && bytes[6] == b' '
        && digits(7, 2)
        && bytes[9] == b':';
    // I1130 14:32:11.123456
    let glog = matches!(bytes.first(), Some(b'I' | b'W' | b'E' | b'F'))
        && digits(1, 4)
        && bytes.get(5) == Some(&b' ');
    // <priority>Nov 30 ..., 1700000000.123 (epoch seconds)
    let epoch = digits(0, 10) && matches!(bytes.get(10), Some(b'.' | b' '));
    let level = LEVELS.iter().any(|level| {
        trimmed.starts_with(level)
            && !trimmed
                .as_bytes()
                .get(level.len())
                .is_some_and(u8::is_ascii_alphanumeric)
    });
    let access = line.contains(" - - [") || line.contains("] \"GET ") || line.contains("] \"POST ");
    let json = line.starts_with("{\"")
        && (line.contains("\"level\":")
            || line.contains("\"severity\":")
            || line.contains("\"lvl\":"));
    date || time || day_month || month_day || syslog || glog || epoch || level || access || json
}

/// Whether the text carries a banner only test runners and build tools print: pytest's session
/// header, cargo's test tally, Maven's and Gradle's build verdicts, TAP, and the like.
fn is_runner_output(text: &str) -> bool {
    const BANNERS: [&str; 17] = [
        " test session starts ",
        "\ntest result: ",
        "Tests run: ",
        "BUILD FAILURE",
        "BUILD SUCCESS",
        "BUILD FAILED",
        "TAP version ",
        "\n# tests ",
        "ℹ tests ",
        "Test Suites: ",
        "\n--- FAIL: ",
        "npm ERR!",
        "make: *** ",
        "   Compiling ",
        "error: could not compile",
        "short test summary info",
        "\nRan ",
    ];
    BANNERS.iter().any(|banner| text.contains(banner))
}

/// Whether a line is one test runners, compilers or build tools print.
fn is_tool_line(line: &str) -> bool {
    const STARTS: [&str; 30] = [
        "   Compiling ",
        "    Finished ",
        "    Checking ",
        "     Running ",
        "   Doc-tests ",
        "  Downloaded ",
        "running ",
        "test ",
        "test result:",
        "error[",
        "error:",
        "warning:",
        "note:",
        "help:",
        "=== RUN",
        "--- FAIL",
        "--- PASS",
        "ok ",
        "not ok ",
        "# ",
        "npm ",
        "> Task ",
        "make",
        "Ran ",
        "FAIL",
        "PASS",
        "ERROR:",
        "FAIL:",
        "collected ",
        "[INFO]",
    ];
    const CONTAINS: [&str; 9] = [
        " ... ok",
        " ... FAILED",
        " ... ERROR",
        " PASSED",
        " FAILED",
        ": error:",
        ": warning:",
        ": note:",
        " ... skipped",
    ];
    let trimmed = line.trim_start();
    // Compiler snippets: `  --> src/main.rs:3:5`, `12 |     let x`, `   |     ^^^`.
    let gutter = trimmed.starts_with("--> ")
        || trimmed.starts_with("| ")
        || trimmed == "|"
        || trimmed.split_once(" |").is_some_and(|(number, _)| {
            !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
        });
    gutter
        || STARTS.iter().any(|start| line.starts_with(start))
        || CONTAINS.iter().any(|part| line.contains(part))
        || trimmed.starts_with('✓')
        || trimmed.starts_with('✔')
        || trimmed.starts_with('✗')
        || trimmed.starts_with('✖')
        || trimmed.starts_with("at ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<&str> {
        text.split('\n').collect()
    }

    #[test]
    fn keeps_head_tail_and_every_error_with_its_trace() {
        let mut lines_: Vec<String> = (0..500)
            .map(|i| {
                format!(
                    "2026-11-20T10:00:{:02}.332Z INFO http: GET /items/{i} 200",
                    i % 60
                )
            })
            .collect();
        lines_[200] =
            "2026-11-20T10:03:20.001Z ERROR db: connection refused to 10.0.0.5:5432".into();
        lines_[300] = "2026-11-20T10:05:00.001Z ERROR worker: job 77 failed".into();
        lines_[301] = "java.lang.IllegalStateException: queue closed".into();
        for (k, frame) in (302..340).enumerate() {
            lines_[frame] = format!("\tat com.example.Worker.step{k}(Worker.java:{k})");
        }
        lines_[340] = "Caused by: java.io.IOException: broken pipe".into();
        lines_[341] = "\tat java.base/sun.nio.ch.IOUtil.write(IOUtil.java:62)".into();
        let text = lines_.join("\n");
        assert!(Log.claims(&text, &lines(&text)));
        let kept = Log
            .compress(&text, &lines(&text), Some("/tmp/full.txt"))
            .unwrap();
        for fact in [
            "GET /items/0 200",
            "GET /items/499 200",
            "connection refused to 10.0.0.5:5432",
            "Worker.step37(Worker.java:37)",
            "Caused by: java.io.IOException: broken pipe",
            "IOUtil.java:62",
        ] {
            assert!(kept.text.contains(fact), "{fact} lost");
        }
        assert!(kept.text.contains("lines omitted") && kept.text.contains("/tmp/full.txt"));
        assert!(kept.text.len() < text.len() / 3);
        assert!(kept.lossy);
    }

    #[test]
    fn access_logs_keep_failed_requests() {
        let mut lines_: Vec<String> = (0..300)
            .map(|i| format!("10.0.0.{} - - [30/Nov/2026:14:32:{:02} +0000] \"GET /api/v1/items/{i} HTTP/1.1\" 200 512 \"-\" \"curl/8.0\"", i % 250, i % 60))
            .collect();
        lines_[150] = "10.0.0.9 - - [30/Nov/2026:14:35:00 +0000] \"POST /api/v1/orders HTTP/1.1\" 502 0 \"-\" \"app/2.1\"".into();
        let text = lines_.join("\n");
        assert!(Log.claims(&text, &lines(&text)));
        let kept = Log.compress(&text, &lines(&text), Some("/o.txt")).unwrap();
        assert!(kept.text.contains("\"POST /api/v1/orders HTTP/1.1\" 502"));
    }

    #[test]
    fn timestamps_and_levels_in_every_common_format_are_log_lines() {
        for line in [
            "2026-11-20T10:00:00.332Z INFO http: GET /",
            "2026-11-20 10:00:00,123 - app.db - WARNING - slow",
            "13:45:01.123 [main] INFO  c.e.Foo - started",
            "Nov 30 14:32:11 host sshd[1234]: Accepted publickey",
            "Nov  3 04:02:11 host CRON[99]: (root) CMD (run-parts)",
            "[2026-11-20 10:00:00] local.ERROR: boom",
            "I1130 14:32:11.123456    1234 server.go:42] serving",
            "WARN  [pool-1] c.e.Cache - evicted",
            "INFO:root:started",
            "20-Nov-2026 19:00:00.335 INFO [main] org.apache.catalina.startup.Catalina start",
            "Nov 20, 2026 7:00:01 PM org.apache.catalina.core.StandardContext startInternal",
            "{\"ts\":\"2026-11-20T10:00:00Z\",\"level\":\"info\",\"msg\":\"ok\"}",
            "127.0.0.1 - - [30/Nov/2026:14:32:11 +0000] \"GET / HTTP/1.1\" 200 5",
        ] {
            assert!(is_log_line(line), "{line}");
        }
        for line in [
            "name: api-server",
            "  replicas: 3",
            "fn main() {",
            "| id | name |",
            "drwxr-xr-x  2 root root 4096 Nov 30 14:32 bin",
            "src/main.rs:12:    let x = 1;",
            "Information about the project",
            "DEBUGGING.md",
        ] {
            assert!(!is_log_line(line), "{line}");
        }
    }

    #[test]
    fn configuration_documentation_and_code_are_not_logs() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n".repeat(30);
        let markdown =
            "# Title\n\nSome text about errors and warnings.\n\n- a list item\n".repeat(30);
        let code =
            "fn main() {\n    let error = run();\n    println!(\"{error}\");\n}\n".repeat(30);
        let listing = "-rw-r--r-- 1 root root 4096 Nov 30 14:32 file.txt\n".repeat(80);
        for text in [yaml, markdown, code, listing] {
            assert!(!Log.claims(&text, &lines(&text)), "{text}");
        }
    }

    #[test]
    fn short_output_is_left_alone_and_a_flood_of_one_message_keeps_a_few() {
        let short = "2026-11-20T10:00:00Z INFO x\n".repeat(30);
        assert!(Log.compress(&short, &lines(&short), Some("/o")).is_none());
        let flood = (0..900)
            .map(|i| {
                format!(
                    "2026-11-20T10:00:00Z WARN pool: slow query {i} took {}ms",
                    i * 7
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let kept = Log
            .compress(&flood, &lines(&flood), Some("/tmp/f.txt"))
            .unwrap();
        assert!(kept.text.contains("slow query 0 took 0ms"));
        assert!(kept.text.contains("slow query 899 took"));
        let kept_lines = kept
            .text
            .lines()
            .filter(|line| line.contains("WARN pool"))
            .count();
        let claim = format!("except {} repeats", 900 - kept_lines);
        assert!(kept.text.contains(&claim), "{claim}: {}", kept.text);
    }
}
