//! OpenTelemetry export against a receiver started here, decoded with the official protocol
//! definitions (`opentelemetry-proto`): names, units, attributes and values equal the session
//! summary's; the session id is on the resource and spans, never on metric points; a collector
//! that is down costs one warning; `report --otlp` sends past sessions once, with their times.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use prost::Message;
use serde_json::json;

use crate::support::{Dir, MockUpstream, Reply, headroom, wrap_stub};

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|value| value.value.as_ref())
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    match attribute(attributes, key)? {
        any_value::Value::StringValue(text) => Some(text.clone()),
        _ => None,
    }
}

/// Every metrics export the receiver got, decoded.
pub fn metrics_of(receiver: &MockUpstream) -> Vec<ExportMetricsServiceRequest> {
    receiver
        .requests()
        .iter()
        .filter(|r| r.path_and_query == "/v1/metrics")
        .map(|r| {
            assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
            ExportMetricsServiceRequest::decode(r.body.as_slice()).unwrap()
        })
        .collect()
}

/// The sum over all exports of a Sum metric's points, and the sum of a histogram's sums, where
/// the point's attributes hold `filter`.
pub fn total(exports: &[ExportMetricsServiceRequest], name: &str, filter: (&str, &str)) -> f64 {
    let mut sum = 0.0;
    for export in exports {
        for resource in &export.resource_metrics {
            for scope in &resource.scope_metrics {
                for metric in scope.metrics.iter().filter(|m| m.name == name) {
                    match metric.data.as_ref().unwrap() {
                        metric::Data::Sum(data) => {
                            for point in &data.data_points {
                                if filter.0.is_empty()
                                    || text(&point.attributes, filter.0).as_deref()
                                        == Some(filter.1)
                                {
                                    sum += match point.value.unwrap() {
                                        number_data_point::Value::AsDouble(v) => v,
                                        number_data_point::Value::AsInt(v) => v as f64,
                                    };
                                }
                            }
                        }
                        metric::Data::Histogram(data) => {
                            for point in &data.data_points {
                                if filter.0.is_empty()
                                    || text(&point.attributes, filter.0).as_deref()
                                        == Some(filter.1)
                                {
                                    sum += point.sum.unwrap();
                                    assert_eq!(
                                        point.bucket_counts.iter().sum::<u64>(),
                                        point.count
                                    );
                                }
                            }
                        }
                        other => panic!("{name}: unexpected {other:?}"),
                    }
                }
            }
        }
    }
    sum
}

fn anthropic() -> MockUpstream {
    MockUpstream::start("", |_| {
        Reply::Json(
            200,
            json!({"model": "claude-opus-5-5", "usage": {"input_tokens": 1000,
                   "cache_read_input_tokens": 9000, "cache_creation_input_tokens": 500, "output_tokens": 100}})
            .to_string(),
        )
    })
}

#[test]
fn a_session_is_exported_with_the_summarys_figures_and_genai_names() {
    let upstream = anthropic();
    let receiver = MockUpstream::start("", |_| Reply::Json(200, "{}".into()));
    let dir = Dir::new();
    let body = json!({"model": "claude-opus-5-5", "max_tokens": 5, "messages": []});
    let plan = json!({"requests": [{"path": "/v1/messages", "body": body}, {"path": "/v1/messages", "body": body}]});
    wrap_stub(&dir, "claude", &plan, &["--otlp-traces"])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.url)
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-team-token=tok%20en")
        .env("OTEL_RESOURCE_ATTRIBUTES", "team=payments,repo=web")
        .assert()
        .success();
    let summary = dir.read_json("summary.json");
    let exports = metrics_of(&receiver);
    assert!(!exports.is_empty(), "nothing exported");
    assert_eq!(
        receiver.requests()[0].header("x-team-token"),
        Some("tok en"),
        "OTEL_EXPORTER_OTLP_HEADERS"
    );
    let totals = &summary["totals"];
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(
        total(&exports, "headroom.cost", ("", "")),
        totals["cost_usd"].as_f64().unwrap()
    ));
    // GenAI input tokens count the whole prompt (cached tokens included).
    let prompt = totals["input_tokens"].as_u64().unwrap()
        + totals["cache_read_tokens"].as_u64().unwrap()
        + totals["cache_write_5m_tokens"].as_u64().unwrap();
    assert_eq!(
        total(
            &exports,
            "gen_ai.client.token.usage",
            ("gen_ai.token.type", "input")
        ),
        prompt as f64
    );
    assert_eq!(
        total(
            &exports,
            "gen_ai.client.token.usage",
            ("gen_ai.token.type", "output")
        ),
        totals["output_tokens"].as_f64().unwrap()
    );
    assert_eq!(
        total(&exports, "headroom.tokens.cache_read", ("", "")),
        totals["cache_read_tokens"].as_f64().unwrap()
    );
    assert_eq!(
        total(&exports, "headroom.tokens.cache_creation", ("", "")),
        1000.0
    );
    let session_id = summary["session_id"].as_str().unwrap();
    for export in &exports {
        for resource in &export.resource_metrics {
            let attributes = &resource.resource.as_ref().unwrap().attributes;
            assert_eq!(text(attributes, "session.id").as_deref(), Some(session_id));
            assert_eq!(text(attributes, "team").as_deref(), Some("payments"));
            assert_eq!(
                text(attributes, "service.name").as_deref(),
                Some("headroom")
            );
            for metric in &resource.scope_metrics[0].metrics {
                let units = [
                    ("gen_ai.client.token.usage", "{token}"),
                    ("gen_ai.client.operation.duration", "s"),
                    ("headroom.cost", "USD"),
                    ("headroom.tokens.cache_read", "{token}"),
                    ("headroom.tokens.cache_creation", "{token}"),
                ];
                if let Some((_, unit)) = units.iter().find(|(name, _)| *name == metric.name) {
                    assert_eq!(metric.unit, *unit, "{}", metric.name);
                }
                let points: Vec<&[KeyValue]> = match metric.data.as_ref().unwrap() {
                    metric::Data::Sum(s) => s
                        .data_points
                        .iter()
                        .map(|p| p.attributes.as_slice())
                        .collect(),
                    metric::Data::Histogram(h) => h
                        .data_points
                        .iter()
                        .map(|p| p.attributes.as_slice())
                        .collect(),
                    _ => vec![],
                };
                for attributes in points {
                    assert!(
                        attribute(attributes, "session.id").is_none(),
                        "a series per session"
                    );
                    assert_eq!(
                        text(attributes, "gen_ai.provider.name").as_deref(),
                        Some("anthropic")
                    );
                    assert_eq!(
                        text(attributes, "headroom.agent").as_deref(),
                        Some("claude")
                    );
                    assert_eq!(text(attributes, "headroom.billing").as_deref(), Some("api"));
                }
            }
        }
    }
    let spans: Vec<_> = receiver
        .requests()
        .iter()
        .filter(|r| r.path_and_query == "/v1/traces")
        .flat_map(|r| {
            let export = ExportTraceServiceRequest::decode(r.body.as_slice()).unwrap();
            export.resource_spans[0].scope_spans[0].spans.clone()
        })
        .collect();
    assert_eq!(spans.len(), 2);
    for span in &spans {
        assert_eq!(
            text(&span.attributes, "session.id").as_deref(),
            Some(session_id)
        );
        assert_eq!(
            attribute(&span.attributes, "gen_ai.usage.input_tokens"),
            Some(&any_value::Value::IntValue(10500))
        );
        assert!(span.end_time_unix_nano >= span.start_time_unix_nano);
        assert!(
            attribute(&span.attributes, "headroom.time_to_first_byte_ms").is_some(),
            "{span:?}"
        );
        let everything = format!("{span:?}");
        assert!(!everything.contains("\"messages\""), "no content in spans");
    }
}

/// A collector that is down: the agent's work and exit code are untouched, one warning at the
/// end, the summary as usual.
#[test]
fn an_unreachable_collector_costs_one_warning() {
    let upstream = anthropic();
    let dir = Dir::new();
    let body = json!({"model": "claude-opus-5-5", "max_tokens": 5, "messages": []});
    let plan = json!({"requests": [{"path": "/v1/messages", "body": body}], "exit_code": 3});
    let assert = wrap_stub(&dir, "claude", &plan, &[])
        .env("ANTHROPIC_TARGET_API_URL", &upstream.url)
        .env("ANTHROPIC_API_KEY", "sk")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(
        stderr.matches("OpenTelemetry export failed").count(),
        1,
        "{stderr}"
    );
    assert_eq!(dir.read_json("summary.json")["totals"]["requests"], 1);
}

/// `report --otlp` sends past sessions with their own times, once.
#[test]
fn report_otlp_backfills_each_session_once_with_its_own_times() {
    let receiver = MockUpstream::start("", |_| Reply::Json(200, "{}".into()));
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path("s")).unwrap();
    let session = |id: &str, start: &str, end: &str, cost: f64| {
        json!({"schema_version": 1, "session_id": id, "headroom_version": "0", "agent": "codex",
               "argv": [], "started_at": start, "ended_at": end, "exit_code": 0, "models": [],
               "totals": {"requests": 0, "failed_requests": 0, "input_tokens": 0, "output_tokens": 0,
                          "cache_read_tokens": 0, "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0,
                          "tokens_saved": 0, "cost_usd": 0.0, "known_cost_usd": 0.0, "unpriced_requests": 0,
                          "saved_usd": 0.0},
               "requests": [{"provider": "openai", "model": "gpt-6.1-sol", "status": 200,
                             "usage": {"input_tokens": 100, "output_tokens": 10, "cache_read_tokens": 0,
                                       "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0},
                             "cost_usd": cost, "price_source": "test"}]})
        .to_string()
    };
    dir.write(
        "s/a.json",
        &session(
            "aaaa1111",
            "2026-11-01T09:00:00Z",
            "2026-11-01T10:00:00Z",
            0.5,
        ),
    );
    dir.write(
        "s/b.json",
        &session(
            "bbbb2222",
            "2026-11-02T09:00:00Z",
            "2026-11-02T09:30:00Z",
            0.25,
        ),
    );
    let run = || {
        let output = headroom()
            .env("HEADROOM_HOME", dir.path("home"))
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.url)
            .args(["report", "--otlp", "--format", "json"])
            .arg(dir.path("s"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stderr).unwrap()
    };
    let first = run();
    assert!(first.contains("exported 2 sessions"), "{first}");
    let exports = metrics_of(&receiver);
    assert_eq!(exports.len(), 2);
    let mut windows: Vec<(u64, u64, f64)> = exports
        .iter()
        .map(|export| {
            let metric = export.resource_metrics[0].scope_metrics[0]
                .metrics
                .iter()
                .find(|m| m.name == "headroom.cost")
                .unwrap();
            let metric::Data::Sum(sum) = metric.data.as_ref().unwrap() else {
                panic!()
            };
            let point = &sum.data_points[0];
            let number_data_point::Value::AsDouble(value) = point.value.unwrap() else {
                panic!()
            };
            (point.start_time_unix_nano, point.time_unix_nano, value)
        })
        .collect();
    windows.sort_by_key(|w| w.0);
    let at = |text: &str| {
        humantime::parse_rfc3339(text)
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    };
    assert_eq!(
        windows,
        [
            (at("2026-11-01T09:00:00Z"), at("2026-11-01T10:00:00Z"), 0.5),
            (at("2026-11-02T09:00:00Z"), at("2026-11-02T09:30:00Z"), 0.25)
        ]
    );
    let second = run();
    assert!(
        second.contains("exported 0 sessions") && second.contains("2 sent before, skipped"),
        "{second}"
    );
    assert_eq!(metrics_of(&receiver).len(), 2, "nothing counted twice");
}
