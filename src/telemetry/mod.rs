//! OpenTelemetry export (OTLP over HTTP/protobuf) of sessions: live from `wrap` (every
//! OTEL_METRIC_EXPORT_INTERVAL and once at exit, at most 2 s more), and after the fact from
//! `headroom report --otlp`, which remembers what it sent. Configured by the standard
//! OTEL_EXPORTER_OTLP_* variables; off unless an endpoint is set or `--otlp` is given. A
//! collector that is down costs the agent nothing and the session one warning at the end.

pub mod otlp;

use std::path::Path;
use std::time::{Duration, SystemTime};

use prost::Message;

use crate::error::Error;

/// The standard variables read here.
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
pub const OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
pub const OTEL_EXPORTER_OTLP_HEADERS: &str = crate::env::OTEL_EXPORTER_OTLP_HEADERS;
pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
pub const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
pub const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
pub const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";

/// The most an export may take, and the most the last one may hold up headroom's exit.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(2);
/// Without `--otlp` an endpoint must be set; with it, this is the default (a local collector).
const DEFAULT_ENDPOINT: &str = "http://localhost:4318";

/// Where and how to export.
#[derive(Debug, Clone)]
pub struct Config {
    pub metrics_url: String,
    /// Set when traces are asked for (`--otlp-traces`, or OTEL_TRACES_EXPORTER=otlp).
    pub traces_url: Option<String>,
    headers: Vec<(String, String)>,
    /// From OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME.
    pub resource: Vec<(String, String)>,
    pub interval: Duration,
}

impl Config {
    /// The export configuration from the environment; `None` when nothing asks for export.
    pub fn from_env(forced: bool, traces: bool) -> Result<Option<Config>, Error> {
        let var = crate::env::var;
        let base = var(OTEL_EXPORTER_OTLP_ENDPOINT);
        let signal_url = |specific: &str, path: &str| {
            var(specific).or_else(|| {
                base.as_ref()
                    .map(|base| format!("{}/{path}", base.trim_end_matches('/')))
            })
        };
        let metrics_url = match signal_url(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, "v1/metrics") {
            Some(url) => url,
            None if forced => format!("{DEFAULT_ENDPOINT}/v1/metrics"),
            None => return Ok(None),
        };
        let wants_traces = traces || var(OTEL_TRACES_EXPORTER).is_some_and(|v| v == "otlp");
        let traces_url = wants_traces.then(|| {
            signal_url(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, "v1/traces").unwrap_or_else(|| {
                metrics_url.strip_suffix("v1/metrics").map_or_else(
                    || format!("{DEFAULT_ENDPOINT}/v1/traces"),
                    |root| format!("{root}v1/traces"),
                )
            })
        });
        if let Some(protocol) = var(OTEL_EXPORTER_OTLP_PROTOCOL).filter(|p| p != "http/protobuf") {
            return Err(Error::Config {
                message: format!("{OTEL_EXPORTER_OTLP_PROTOCOL}={protocol:?} is not supported"),
                hint: Some(
                    "headroom exports OTLP over http/protobuf; unset it or set it to http/protobuf"
                        .into(),
                ),
            });
        }
        let interval = match var(OTEL_METRIC_EXPORT_INTERVAL) {
            None => Duration::from_secs(60),
            Some(ms) => ms
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis)
                .ok_or_else(|| Error::Config {
                    message: format!(
                        "{OTEL_METRIC_EXPORT_INTERVAL}={ms:?} is not a number of milliseconds"
                    ),
                    hint: Some("e.g. 60000 for a minute".into()),
                })?,
        };
        let mut resource = pairs(&var(OTEL_RESOURCE_ATTRIBUTES).unwrap_or_default());
        let service = var(OTEL_SERVICE_NAME)
            .or_else(|| {
                resource
                    .iter()
                    .find(|(k, _)| k == "service.name")
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or_else(|| "headroom".into());
        resource.retain(|(key, _)| key != "service.name");
        resource.insert(0, ("service.name".into(), service));
        resource.insert(
            1,
            ("service.version".into(), env!("CARGO_PKG_VERSION").into()),
        );
        Ok(Some(Config {
            metrics_url,
            traces_url,
            headers: pairs(&var(OTEL_EXPORTER_OTLP_HEADERS).unwrap_or_default()),
            resource,
            interval,
        }))
    }

    /// The resource of a session: the configured one and its id.
    pub fn resource_of(&self, session_id: &str) -> Vec<(String, String)> {
        let mut resource = self.resource.clone();
        resource.push(("session.id".into(), session_id.to_owned()));
        resource
    }
}

/// `key=value,key2=value2`, percent-decoded (the W3C baggage form the OTEL variables use).
fn pairs(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (decode(key.trim()), decode(value.trim())))
        .filter(|(key, _)| !key.is_empty())
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends one export request.
pub async fn send(
    client: &reqwest::Client,
    config: &Config,
    url: &str,
    body: Vec<u8>,
) -> Result<(), String> {
    let mut request = client
        .post(url)
        .header("content-type", "application/x-protobuf")
        .timeout(EXPORT_TIMEOUT)
        .body(body);
    for (key, value) in &config.headers {
        request = request.header(key.as_str(), value.as_str());
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("{url} answered {}", response.status())),
        Err(error) => Err(format!(
            "{url}: {}",
            crate::error::one_line(&anyhow::Error::new(error))
        )),
    }
}

/// Exports `requests` of session `session_id` (from `agent`) over the window `start`..`end`.
pub async fn export(
    client: &reqwest::Client,
    config: &Config,
    session_id: &str,
    agent: &str,
    window: (SystemTime, SystemTime),
    refused_requests: u64,
    requests: &[crate::usage::ledger::PricedRequest],
) -> Result<(), String> {
    let context = otlp::Context {
        resource: config.resource_of(session_id),
        agent: agent.to_owned(),
        start: window.0,
        end: window.1,
        refused_requests,
    };
    let metrics = otlp::metrics(requests, &context);
    send(client, config, &config.metrics_url, metrics.encode_to_vec()).await?;
    if let Some(url) = &config.traces_url {
        let spans = otlp::spans(requests, &context, session_id, trace_id(session_id));
        send(client, config, url, spans.encode_to_vec()).await?;
    }
    Ok(())
}

/// A session's trace id: from its random id, so every export of it lands in one trace.
fn trace_id(session_id: &str) -> [u8; 16] {
    let mut id = [0u8; 16];
    for (i, pair) in session_id.as_bytes().chunks(2).take(16).enumerate() {
        id[i] = std::str::from_utf8(pair)
            .ok()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .unwrap_or(0);
    }
    id
}

/// The sessions `report --otlp` has sent (one id a line), so none is counted twice.
pub fn exported_ids(path: &Path) -> std::collections::HashSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Notes that session `id` was sent.
pub fn note_exported(path: &Path, id: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{id}")
}

/// Live export of a running session: whatever was recorded since the last export, every
/// interval and once at the end.
pub struct Live {
    shared: std::sync::Arc<Exporter>,
    periodic: tokio::task::JoinHandle<()>,
}

impl Live {
    /// Starts exporting the session every interval (on the current runtime).
    pub fn start(
        config: Config,
        ledger: std::sync::Arc<crate::usage::ledger::Ledger>,
        session_id: &str,
        agent: &str,
        started_at: SystemTime,
    ) -> Live {
        let shared =
            std::sync::Arc::new(Exporter::new(config, ledger, session_id, agent, started_at));
        let exporter = shared.clone();
        let periodic = tokio::spawn(async move {
            loop {
                tokio::time::sleep(exporter.config.interval).await;
                exporter.export_new(0).await;
            }
        });
        Live { shared, periodic }
    }

    /// Exports what is left (and the budget's refusals), waiting `EXPORT_TIMEOUT` at most; why
    /// an export of the session failed, if one did.
    pub async fn finish(self, refused: u64) -> Option<String> {
        self.periodic.abort();
        let last = self.shared.export_new(refused);
        if tokio::time::timeout(EXPORT_TIMEOUT, last).await.is_err() {
            return Some(format!(
                "{} did not answer in time",
                self.shared.config.metrics_url
            ));
        }
        self.shared.state.lock().await.error.clone()
    }
}

/// What the periodic task and the last export share.
struct Exporter {
    config: Config,
    client: reqwest::Client,
    ledger: std::sync::Arc<crate::usage::ledger::Ledger>,
    session_id: String,
    agent: String,
    state: tokio::sync::Mutex<LiveState>,
}

struct LiveState {
    /// Requests already exported.
    sent: usize,
    /// The end of the last window exported.
    since: SystemTime,
    /// The first failure, told once at the end.
    error: Option<String>,
}

impl Exporter {
    fn new(
        config: Config,
        ledger: std::sync::Arc<crate::usage::ledger::Ledger>,
        session_id: &str,
        agent: &str,
        started_at: SystemTime,
    ) -> Exporter {
        Exporter {
            config,
            client: reqwest::Client::new(),
            ledger,
            session_id: session_id.to_owned(),
            agent: agent.to_owned(),
            state: tokio::sync::Mutex::new(LiveState {
                sent: 0,
                since: started_at,
                error: None,
            }),
        }
    }

    /// Exports what was recorded since the last export (and `refused` budget refusals).
    async fn export_new(&self, refused: u64) {
        let mut state = self.state.lock().await;
        let ledger = self.ledger.clone();
        let from = state.sent;
        // Pricing the savings counted so far may wait for counts: off the proxy's thread.
        let Ok(requests) = tokio::task::spawn_blocking(move || ledger.requests_since(from)).await
        else {
            return;
        };
        let now = SystemTime::now();
        if requests.is_empty() && refused == 0 {
            return;
        }
        let sent = export(
            &self.client,
            &self.config,
            &self.session_id,
            &self.agent,
            (state.since, now),
            refused,
            &requests,
        )
        .await;
        match sent {
            Ok(()) => {
                state.sent += requests.len();
                state.since = now;
            }
            Err(error) => {
                state.error.get_or_insert(error);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_resource_attributes_are_percent_decoded_pairs() {
        assert_eq!(
            pairs("team=payments, repo=web%2Capp,authorization=Bearer%20abc,=x,bad"),
            [
                ("team".to_owned(), "payments".to_owned()),
                ("repo".to_owned(), "web,app".to_owned()),
                ("authorization".to_owned(), "Bearer abc".to_owned()),
            ]
        );
        assert_eq!(trace_id("0a0b")[..2], [10, 11]);
    }
}
