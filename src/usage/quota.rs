//! Pure: how full a subscription's usage windows are, read from the headers a plan's upstream
//! returns with each answer. Claude plans send `anthropic-ratelimit-unified-<window>-utilization`
//! (a fraction, 0.42 for 42%) with `-reset` (Unix seconds); the ChatGPT backend sends
//! `x-codex-{primary,secondary}-used-percent` (0–100) with `-window-minutes` and `-reset-at` (Unix
//! seconds) or `-reset-after-seconds`. Anything else, or a value that is not a finite number, is
//! ignored: a header never makes a figure up.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

const ANTHROPIC_PREFIX: &str = "anthropic-ratelimit-unified-";
const CODEX_PREFIX: &str = "x-codex-";
/// Longest window name kept from a header name.
const MAX_WINDOW_CHARS: usize = 32;

/// The last known use of one window of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaWindow {
    /// `claude` or `chatgpt`.
    pub plan: String,
    /// The window: `5h`, `7d`, `7d_opus`…, or `primary`/`secondary` when the upstream did not
    /// say how long it is.
    pub window: String,
    /// How much of it is used, 0–100 (it may pass 100 when a plan allows overage).
    pub used_percent: f64,
    /// When it starts afresh, RFC 3339 UTC, if the upstream said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<String>,
    /// When headroom saw this figure, RFC 3339 UTC.
    pub seen_at: String,
}

impl QuotaWindow {
    /// "Claude plan: 43% of the 5-hour window used (resets 2026-11-30 21:00 UTC)".
    pub fn line(&self) -> String {
        let plan = match self.plan.as_str() {
            "claude" => "Claude plan",
            "chatgpt" => "ChatGPT plan",
            other => other,
        };
        let mut line = format!(
            "{plan}: {:.0}% of the {} window used",
            self.used_percent,
            window_words(&self.window)
        );
        if let Some(resets) = &self.resets_at {
            let shown = resets.get(..16).unwrap_or(resets).replace('T', " ");
            line.push_str(&format!(" (resets {shown} UTC)"));
        }
        line
    }
}

/// The windows `headers` report, seen at `now`.
pub fn windows<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    now: SystemTime,
) -> Vec<QuotaWindow> {
    let headers: Vec<(String, &str)> = headers
        .into_iter()
        .filter_map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            let relevant = name.starts_with(ANTHROPIC_PREFIX) || name.starts_with(CODEX_PREFIX);
            let value = std::str::from_utf8(value).ok()?.trim();
            relevant.then_some((name, value))
        })
        .collect();
    if headers.is_empty() {
        return Vec::new();
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| *value)
    };
    let seen_at = rfc3339(now);
    let mut found = Vec::new();
    for (name, value) in &headers {
        let Some(window) = name
            .strip_prefix(ANTHROPIC_PREFIX)
            .and_then(|rest| rest.strip_suffix("-utilization"))
            .filter(|window| is_window_name(window))
        else {
            continue;
        };
        let Some(fraction) = number(value) else {
            continue;
        };
        let resets_at = get(&format!("{ANTHROPIC_PREFIX}{window}-reset")).and_then(unix_time);
        found.push(QuotaWindow {
            plan: "claude".into(),
            window: window.to_owned(),
            used_percent: fraction * 100.0,
            resets_at,
            seen_at: seen_at.clone(),
        });
    }
    for slot in ["primary", "secondary"] {
        let header = |field: &str| get(&format!("{CODEX_PREFIX}{slot}-{field}"));
        let Some(used_percent) = header("used-percent").and_then(number) else {
            continue;
        };
        let window = header("window-minutes")
            .and_then(|minutes| minutes.parse::<u64>().ok())
            .filter(|minutes| *minutes > 0)
            .map_or_else(|| slot.to_owned(), length_name);
        let resets_at = header("reset-at").and_then(unix_time).or_else(|| {
            let after = header("reset-after-seconds")?.parse::<u64>().ok()?;
            Some(rfc3339(now + Duration::from_secs(after)))
        });
        found.push(QuotaWindow {
            plan: "chatgpt".into(),
            window,
            used_percent,
            resets_at,
            seen_at: seen_at.clone(),
        });
    }
    found
}

fn number(text: &str) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|value| value.is_finite() && *value >= 0.0)
}

fn unix_time(text: &str) -> Option<String> {
    let seconds = text.parse::<u64>().ok()?;
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_secs(seconds))
        .map(rfc3339)
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// A window name from a header name, kept only when it is short and plain (it reaches terminals).
fn is_window_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_WINDOW_CHARS
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

/// `300` minutes is `5h`, `10080` is `7d`.
fn length_name(minutes: u64) -> String {
    if minutes.is_multiple_of(24 * 60) {
        format!("{}d", minutes / (24 * 60))
    } else if minutes.is_multiple_of(60) {
        format!("{}h", minutes / 60)
    } else {
        format!("{minutes}m")
    }
}

/// `5h` reads "5-hour", `7d_opus` "7-day (opus)".
fn window_words(window: &str) -> String {
    let (length, detail) = window.split_once('_').unwrap_or((window, ""));
    let digits = length.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = match &length[digits.len()..] {
        "h" => "hour",
        "d" => "day",
        "m" => "minute",
        _ => "",
    };
    let mut words = if digits.is_empty() || unit.is_empty() {
        length.to_owned()
    } else {
        format!("{digits}-{unit}")
    };
    if !detail.is_empty() {
        words.push_str(&format!(" ({detail})"));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn reads_a_claude_plans_unified_windows() {
        let headers = [
            ("Anthropic-Ratelimit-Unified-5h-Utilization", "0.43"),
            ("anthropic-ratelimit-unified-5h-reset", "1796072400"),
            ("anthropic-ratelimit-unified-7d-utilization", "0.3"),
            ("anthropic-ratelimit-unified-7d_opus-utilization", "0.05"),
            ("anthropic-ratelimit-unified-status", "allowed"),
            ("anthropic-ratelimit-unified-bad window-utilization", "0.9"),
            ("anthropic-ratelimit-unified-x-utilization", "NaN"),
            ("content-type", "text/event-stream"),
        ];
        let found = windows(
            headers.iter().map(|(k, v)| (*k, v.as_bytes())),
            at(1_796_060_000),
        );
        let seen: Vec<_> = found
            .iter()
            .map(|w| (w.window.as_str(), (w.used_percent * 100.0).round() / 100.0))
            .collect();
        assert_eq!(seen, [("5h", 43.0), ("7d", 30.0), ("7d_opus", 5.0)]);
        assert_eq!(
            found[0].line(),
            "Claude plan: 43% of the 5-hour window used (resets 2026-11-30 21:00 UTC)"
        );
        assert_eq!(
            found[2].line(),
            "Claude plan: 5% of the 7-day (opus) window used"
        );
    }

    #[test]
    fn reads_the_chatgpt_backends_primary_and_secondary_windows() {
        let headers = [
            ("x-codex-primary-used-percent", "12"),
            ("x-codex-primary-window-minutes", "300"),
            ("x-codex-primary-reset-after-seconds", "3600"),
            ("x-codex-secondary-used-percent", "64.5"),
            ("x-codex-secondary-window-minutes", "10080"),
            ("x-codex-secondary-reset-at", "1796072400"),
            ("x-codex-plan-type", "plus"),
        ];
        let found = windows(
            headers.iter().map(|(k, v)| (*k, v.as_bytes())),
            at(1_796_060_000),
        );
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].line(),
            "ChatGPT plan: 12% of the 5-hour window used (resets 2026-11-30 18:33 UTC)"
        );
        assert_eq!(found[1].window, "7d");
        assert_eq!(found[1].used_percent, 64.5);
        // No window length: named by its slot.
        let bare = windows([("x-codex-primary-used-percent", &b"7"[..])], at(0));
        assert_eq!(
            bare[0].line(),
            "ChatGPT plan: 7% of the primary window used"
        );
        assert!(windows([("x-codex-primary-used-percent", &b"-1"[..])], at(0)).is_empty());
    }
}
