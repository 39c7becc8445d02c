//! `headroom statusline` (the command Claude Code runs for its status line) and `headroom status`
//! (the same line for another terminal or a tmux status bar): find the running session, ask its
//! proxy for the figures so far, print one line. A status bar shows whatever is printed, so these
//! never print an error: without a session they print the user's own line, or nothing.
//!
//! The request is one HTTP/1.1 GET over a loopback TCP connection, written here rather than with
//! the async client: the line must come out within milliseconds of process start, and a runtime
//! and connection pool cost more than the whole exchange.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::env;
use crate::error::ExitStatus;
use crate::report::format::{shown, usd};
use crate::usage::status::LiveStatus;

/// How long the proxy may take to answer.
const STATUS_TIMEOUT: Duration = Duration::from_millis(400);
/// How long the user's own status line command may take.
const USER_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// The most of stdin (Claude Code's JSON) that is read.
const MAX_STDIN: u64 = 1 << 20;

/// Runs `headroom statusline`: Claude Code's JSON on stdin, the session from the environment
/// Claude Code inherited from `headroom wrap`.
pub fn run_statusline(color: bool) -> ExitStatus {
    let mut input = Vec::new();
    let _ = std::io::stdin().take(MAX_STDIN).read_to_end(&mut input);
    let claude: Value = serde_json::from_slice(&input).unwrap_or(Value::Null);
    let ours = env::var(env::ANTHROPIC_BASE_URL)
        .and_then(|base| fetch(&base))
        .map(|status| line(&status, &claude, color));
    let user =
        env::var(env::HEADROOM_USER_STATUSLINE).and_then(|command| run_user(&command, &input));
    let printed = match (user, ours) {
        (Some(user), Some(ours)) => format!("{user} │ {ours}"),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => return ExitStatus::Success,
    };
    let _ = writeln!(std::io::stdout(), "{printed}");
    ExitStatus::Success
}

/// Runs `headroom status`: the line of the newest running session, found through its 0600 file
/// in the user's runtime directory.
pub fn run_status(color: bool) -> ExitStatus {
    let status = crate::home::running_sessions()
        .into_iter()
        .find_map(|session| fetch(&session.base_url));
    if let Some(status) = status {
        let _ = writeln!(std::io::stdout(), "{}", line(&status, &Value::Null, color));
    }
    ExitStatus::Success
}

/// The session's figures, from `base` (`http://127.0.0.1:PORT/s/<secret>`); `None` for anything
/// but a loopback headroom session that answers in time.
fn fetch(base: &str) -> Option<LiveStatus> {
    let rest = base.strip_prefix("http://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let address: SocketAddr = authority.parse().ok()?;
    if !address.ip().is_loopback() || !path.starts_with("s/") {
        return None;
    }
    let mut stream = TcpStream::connect_timeout(&address, STATUS_TIMEOUT).ok()?;
    stream.set_read_timeout(Some(STATUS_TIMEOUT)).ok()?;
    stream.set_write_timeout(Some(STATUS_TIMEOUT)).ok()?;
    let request = format!(
        "GET /{}{} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n",
        path.trim_end_matches('/'),
        crate::proxy::server::STATUS_PATH
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.take(MAX_STDIN).read_to_end(&mut response).ok()?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&response[..split]).ok()?;
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    serde_json::from_slice(&response[split + 4..]).ok()
}

/// The user's own status line: their command with the same stdin, its first line.
fn run_user(command: &str, input: &[u8]) -> Option<String> {
    // A user line that is headroom's own would print the segment twice (and, with the variable
    // inherited, run itself again).
    if command.contains("headroom statusline") {
        return None;
    }
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env_remove(env::HEADROOM_USER_STATUSLINE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    let mut stdout = child.stdout.take()?;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        let _ = sender.send(text);
    });
    let text = receiver.recv_timeout(USER_COMMAND_TIMEOUT);
    let _ = child.kill();
    let _ = child.wait();
    text.ok()?
        .lines()
        .next()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
}

/// `MiniMax-M3 via minimax · $0.42 · saved $0.31 (42%) · cache 91% · $4.58 left`.
pub fn line(status: &LiveStatus, claude: &Value, color: bool) -> String {
    let paint = |code: &str, text: String| {
        if color {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text
        }
    };
    let mut parts = Vec::new();
    let model = status
        .last_model
        .clone()
        .or_else(|| claude["model"]["id"].as_str().map(str::to_owned));
    match (model, &status.last_provider) {
        (Some(model), Some(provider)) => parts.push(format!(
            "{} via {}",
            paint("1", shown(&model)),
            shown(provider)
        )),
        (Some(model), None) => parts.push(paint("1", shown(&model))),
        _ => parts.push("headroom".to_owned()),
    }
    let mark = if status.estimated_requests > 0 {
        "~"
    } else {
        ""
    };
    let unknown = if status.unpriced_requests > 0 {
        " + ?"
    } else {
        ""
    };
    let billed = format!("{mark}{}{unknown}", usd(status.cost_usd));
    let plan = format!("{} plan", usd(status.plan_usd));
    let cost = match (
        status.plan_requests,
        status.requests.saturating_sub(status.plan_requests),
    ) {
        (0, _) => billed,
        (_, 0) => plan,
        _ => format!("{billed} + {plan}"),
    };
    parts.push(paint("32", cost));
    if status.saved_usd > 0.0 {
        let whole = status.cost_usd + status.plan_usd + status.saved_usd;
        parts.push(format!(
            "saved {} ({:.0}%)",
            usd(status.saved_usd),
            status.saved_usd / whole * 100.0
        ));
    }
    if status.cache_read_tokens > 0 {
        parts.push(format!("cache {:.0}%", status.cache_read_share * 100.0));
    }
    if let Some(left) = status.budget_left_usd {
        parts.push(format!("{} left", usd(left)));
    }
    let windows: Vec<String> = ["five_hour", "seven_day"]
        .iter()
        .zip(["5h", "7d"])
        .filter_map(|(key, label)| {
            let used = claude["rate_limits"][key]["used_percentage"].as_f64()?;
            Some(format!("{label} {used:.0}%"))
        })
        .collect();
    if !windows.is_empty() {
        parts.push(format!("plan {}", windows.join(" ")));
    } else if !status.plan_quota.is_empty() {
        let quota: Vec<String> = status
            .plan_quota
            .iter()
            .map(|window| format!("{} {:.0}%", shown(&window.window), window.used_percent))
            .collect();
        parts.push(format!("plan {}", quota.join(" ")));
    }
    if status.failed_requests > 0 {
        parts.push(paint("33", format!("{} failed", status.failed_requests)));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> LiveStatus {
        LiveStatus {
            requests: 4,
            cost_usd: 0.42,
            saved_usd: 0.31,
            cache_read_tokens: 910,
            input_tokens: 90,
            cache_read_share: 0.91,
            budget_left_usd: Some(4.58),
            last_model: Some("MiniMax-M3".into()),
            last_provider: Some("minimax".into()),
            ..LiveStatus::default()
        }
    }

    #[test]
    fn the_line_carries_model_cost_saving_cache_and_budget() {
        assert_eq!(
            line(&status(), &Value::Null, false),
            "MiniMax-M3 via minimax · $0.42 · saved $0.31 (42%) · cache 91% · $4.58 left"
        );
        let colored = line(&status(), &Value::Null, true);
        assert!(colored.contains("\u{1b}[32m$0.42\u{1b}[0m"), "{colored}");
    }

    #[test]
    fn estimates_plans_rate_limits_and_hostile_names_are_shown_as_such() {
        let mut estimated = status();
        estimated.estimated_requests = 1;
        estimated.unpriced_requests = 1;
        assert!(line(&estimated, &Value::Null, false).contains("~$0.42 + ?"));
        let mut plan = status();
        plan.plan_requests = 4;
        plan.plan_usd = 1.5;
        plan.last_model = Some("claude-opus-5-5\u{1b}[31m".into());
        let claude = serde_json::json!({"rate_limits": {"five_hour": {"used_percentage": 43.2},
                                                       "seven_day": {"used_percentage": 12}}});
        let shown = line(&plan, &claude, false);
        assert!(shown.contains("$1.50 plan"), "{shown}");
        assert!(shown.contains("plan 5h 43% 7d 12%"), "{shown}");
        assert!(!shown.contains('\u{1b}'), "escaped: {shown}");
    }

    #[test]
    fn only_a_loopback_session_is_asked() {
        assert_eq!(fetch("https://api.anthropic.com"), None);
        assert_eq!(fetch("http://10.0.0.1:8080/s/abc"), None);
        assert_eq!(fetch("http://127.0.0.1:9/not-a-session"), None);
    }
}
