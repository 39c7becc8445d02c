//! Pure: priced requests in, OTLP export requests out (the official protocol types of
//! `opentelemetry-proto`), following the OpenTelemetry GenAI semantic conventions where they
//! reach and `headroom.*` instruments beyond them. Every data point carries the time window it
//! covers, so a live session (one window per export) and a past one (`report --otlp`, its own
//! start and end) are exported the same way, with delta temporality.

use std::collections::BTreeMap;
use std::time::SystemTime;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};

use crate::usage::ledger::PricedRequest;

/// Token-count buckets the GenAI conventions advise for `gen_ai.client.token.usage`.
const TOKEN_BOUNDS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];
/// Duration buckets (seconds) they advise for `gen_ai.client.operation.duration`.
const DURATION_BOUNDS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// What is the same for every point of one export.
#[derive(Debug, Clone)]
pub struct Context {
    /// `service.name`, `service.version`, `session.id` and what OTEL_RESOURCE_ATTRIBUTES adds.
    pub resource: Vec<(String, String)>,
    /// `claude` or `codex`.
    pub agent: String,
    /// The window the points cover.
    pub start: SystemTime,
    pub end: SystemTime,
    /// Requests the budget refused in the window.
    pub refused_requests: u64,
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

fn resource(context: &Context) -> Resource {
    Resource {
        attributes: context
            .resource
            .iter()
            .map(|(key, value)| string(key, value))
            .collect(),
        ..Default::default()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "headroom".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    }
}

/// The attributes every point of a request carries: no session id (that would make a series per
/// session), no content.
fn attributes(agent: &str, request: &PricedRequest) -> Vec<(String, String)> {
    vec![
        ("gen_ai.operation.name".into(), "chat".into()),
        ("gen_ai.provider.name".into(), request.provider.to_string()),
        ("gen_ai.request.model".into(), request.model.to_string()),
        ("gen_ai.response.model".into(), request.model.to_string()),
        ("headroom.agent".into(), agent.to_owned()),
        ("headroom.billing".into(), request.billing.id().to_owned()),
    ]
}

type Attributes = Vec<(String, String)>;

/// Values of one histogram series.
#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: Vec<u64>,
    min: f64,
    max: f64,
}

impl Series {
    fn add(&mut self, value: f64, bounds: &[f64]) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; bounds.len() + 1];
            self.min = value;
            self.max = value;
        }
        let bucket = bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(bounds.len());
        self.buckets[bucket] += 1;
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }
}

/// The metrics of `requests` over the context's window.
pub fn metrics(requests: &[PricedRequest], context: &Context) -> ExportMetricsServiceRequest {
    let mut tokens: BTreeMap<Attributes, Series> = BTreeMap::new();
    let mut durations: BTreeMap<Attributes, Series> = BTreeMap::new();
    let mut sums: BTreeMap<(&'static str, Attributes), f64> = BTreeMap::new();
    let mut add = |name: &'static str, attrs: &Attributes, value: f64| {
        if value != 0.0 {
            *sums.entry((name, attrs.clone())).or_default() += value;
        }
    };
    for request in requests {
        let attrs = attributes(&context.agent, request);
        if let Some(latency) = request.latency_ms {
            let mut with_error = attrs.clone();
            if request.is_failure() {
                with_error.push(("error.type".into(), request.status.to_string()));
            }
            durations
                .entry(with_error)
                .or_default()
                .add(latency as f64 / 1000.0, &DURATION_BOUNDS);
        }
        let Some(usage) = request.usage.filter(|_| !request.implausible_usage) else {
            continue;
        };
        // The GenAI conventions count cached prompt tokens inside input tokens; headroom's
        // `input_tokens` are fresh input only, so the whole prompt is reported here.
        for (kind, value) in [
            ("input", usage.prompt_tokens()),
            ("output", usage.output_tokens),
        ] {
            let mut typed = attrs.clone();
            typed.push(("gen_ai.token.type".into(), kind.into()));
            tokens
                .entry(typed)
                .or_default()
                .add(value as f64, &TOKEN_BOUNDS);
        }
        add(
            "headroom.tokens.cache_read",
            &attrs,
            usage.cache_read_tokens as f64,
        );
        add(
            "headroom.tokens.cache_creation",
            &attrs,
            usage.cache_write_tokens() as f64,
        );
        add(
            "headroom.compression.tokens_removed",
            &attrs,
            request.tokens_saved as f64,
        );
        add(
            "headroom.compression.saved",
            &attrs,
            request.saved_usd.unwrap_or(0.0),
        );
        if let Some(cost) = request.cost_usd {
            let mut costed = attrs.clone();
            costed.push((
                "headroom.cost.estimated".into(),
                request.estimated.to_string(),
            ));
            add("headroom.cost", &costed, cost);
        }
    }
    let (start, end) = (nanos(context.start), nanos(context.end));
    let delta = AggregationTemporality::Delta as i32;
    let histogram = |name: &str,
                     unit: &str,
                     description: &str,
                     series: BTreeMap<Attributes, Series>,
                     bounds: &[f64]| {
        Metric {
            name: name.into(),
            unit: unit.into(),
            description: description.into(),
            data: Some(metric::Data::Histogram(Histogram {
                aggregation_temporality: delta,
                data_points: series
                    .into_iter()
                    .map(|(attrs, series)| HistogramDataPoint {
                        attributes: attrs.iter().map(|(k, v)| string(k, v)).collect(),
                        start_time_unix_nano: start,
                        time_unix_nano: end,
                        count: series.count,
                        sum: Some(series.sum),
                        bucket_counts: series.buckets,
                        explicit_bounds: bounds.to_vec(),
                        min: Some(series.min),
                        max: Some(series.max),
                        ..Default::default()
                    })
                    .collect(),
            })),
            ..Default::default()
        }
    };
    let mut metrics = Vec::new();
    if !tokens.is_empty() {
        metrics.push(histogram(
            "gen_ai.client.token.usage",
            "{token}",
            "Tokens per request, by type (input counts cached prompt tokens too)",
            tokens,
            &TOKEN_BOUNDS,
        ));
    }
    if !durations.is_empty() {
        metrics.push(histogram(
            "gen_ai.client.operation.duration",
            "s",
            "Time from receiving a request to the end of its answer",
            durations,
            &DURATION_BOUNDS,
        ));
    }
    let instruments: [(&str, &str, &str, bool); 5] = [
        (
            "headroom.cost",
            "USD",
            "What requests cost at list price (billed, or API-equivalent for plan usage)",
            false,
        ),
        (
            "headroom.tokens.cache_read",
            "{token}",
            "Prompt tokens read from the provider's cache",
            true,
        ),
        (
            "headroom.tokens.cache_creation",
            "{token}",
            "Prompt tokens written to the provider's cache",
            true,
        ),
        (
            "headroom.compression.tokens_removed",
            "{token}",
            "Tokens compression removed from prompts",
            true,
        ),
        (
            "headroom.compression.saved",
            "USD",
            "What compression saved, net of re-reads of originals",
            false,
        ),
    ];
    for (name, unit, description, integer) in instruments {
        let points: Vec<NumberDataPoint> = sums
            .iter()
            .filter(|((metric, _), _)| *metric == name)
            .map(|((_, attrs), value)| NumberDataPoint {
                attributes: attrs.iter().map(|(k, v)| string(k, v)).collect(),
                start_time_unix_nano: start,
                time_unix_nano: end,
                value: Some(if integer {
                    number_data_point::Value::AsInt(*value as i64)
                } else {
                    number_data_point::Value::AsDouble(*value)
                }),
                ..Default::default()
            })
            .collect();
        if !points.is_empty() {
            metrics.push(sum_metric(name, unit, description, points));
        }
    }
    if context.refused_requests > 0 {
        metrics.push(sum_metric(
            "headroom.budget.refused_requests",
            "{request}",
            "Requests refused because the session budget was reached",
            vec![NumberDataPoint {
                attributes: vec![string("headroom.agent", &context.agent)],
                start_time_unix_nano: start,
                time_unix_nano: end,
                value: Some(number_data_point::Value::AsInt(
                    i64::try_from(context.refused_requests).unwrap_or(i64::MAX),
                )),
                ..Default::default()
            }],
        ));
    }
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource(context)),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope()),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn sum_metric(name: &str, unit: &str, description: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: description.into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: AggregationTemporality::Delta as i32,
            is_monotonic: true,
        })),
        ..Default::default()
    }
}

/// One span per request (GenAI client span attributes, never prompt or output content); the
/// session id is on each span. `trace_id` is the session's, span ids are random.
pub fn spans(
    requests: &[PricedRequest],
    context: &Context,
    session_id: &str,
    trace_id: [u8; 16],
) -> ExportTraceServiceRequest {
    let spans = requests
        .iter()
        .filter_map(|request| {
            let end = humantime::parse_rfc3339_weak(
                request.finished_at.as_deref()?.trim_end_matches('Z'),
            )
            .ok()?;
            let latency = std::time::Duration::from_millis(request.latency_ms.unwrap_or(0));
            let start = end.checked_sub(latency).unwrap_or(end);
            let mut span_id = [0u8; 8];
            getrandom::fill(&mut span_id).ok()?;
            let mut attributes: Vec<KeyValue> = attributes(&context.agent, request)
                .iter()
                .map(|(k, v)| string(k, v))
                .collect();
            attributes.push(string("session.id", session_id));
            attributes.push(int("http.response.status_code", i64::from(request.status)));
            if let Some(first_byte) = request.first_byte_ms {
                // Time to the upstream's response headers: for a stream, when it began.
                attributes.push(int(
                    "headroom.time_to_first_byte_ms",
                    i64::try_from(first_byte).unwrap_or(i64::MAX),
                ));
            }
            if let Some(usage) = request.usage {
                for (key, value) in [
                    ("gen_ai.usage.input_tokens", usage.prompt_tokens()),
                    ("gen_ai.usage.output_tokens", usage.output_tokens),
                    (
                        "gen_ai.usage.cache_read.input_tokens",
                        usage.cache_read_tokens,
                    ),
                    (
                        "gen_ai.usage.cache_creation.input_tokens",
                        usage.cache_write_tokens(),
                    ),
                ] {
                    attributes.push(int(key, i64::try_from(value).unwrap_or(i64::MAX)));
                }
            }
            let failed = request.is_failure();
            Some(Span {
                trace_id: trace_id.to_vec(),
                span_id: span_id.to_vec(),
                name: format!("chat {}", request.model),
                kind: span::SpanKind::Client as i32,
                start_time_unix_nano: nanos(start),
                end_time_unix_nano: nanos(end),
                attributes,
                status: Some(Status {
                    code: if failed {
                        status::StatusCode::Error as i32
                    } else {
                        status::StatusCode::Unset as i32
                    },
                    message: request
                        .error
                        .as_ref()
                        .map(|error| error.line())
                        .unwrap_or_default(),
                }),
                ..Default::default()
            })
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(context)),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope()),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}
