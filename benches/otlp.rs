//! `cargo bench --bench otlp`: what an OpenTelemetry collector that never answers costs a
//! session. The same wrapped session runs three ways: no export; export to a collector that
//! accepts connections and never answers (exporting every 100 ms); export to a port nobody
//! listens on. It prints the agent's request latency (p50, p99) and the whole session's wall time
//! for each; the last export is bounded by 2 s, which the session time shows.

mod common;

use std::time::Instant;

use http_body_util::{BodyExt, Full};

const REQUESTS: usize = 300;

fn main() {
    if std::env::var_os("BENCH_ROLE").is_some() {
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(agent());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let upstream = runtime.block_on(common::serve(|_request| async {
        let body = r#"{"id":"m","type":"message","model":"claude-opus-5-5","content":[],"usage":{"input_tokens":10,"output_tokens":2}}"#;
        hyper::Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(bytes::Bytes::from(body)).map_err(|never| match never {}).boxed())
            .unwrap()
    }));
    // A collector that takes the connection and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for connection in silent.incoming().flatten() {
            held.push(connection);
        }
    });
    let upstream = format!("http://{upstream}");
    println!("{REQUESTS} requests through headroom, per way of exporting:");
    for (name, endpoint) in [
        ("no export", None),
        ("silent collector", Some(format!("http://{silent_addr}"))),
        ("refused port", Some("http://127.0.0.1:9".to_owned())),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("latency.txt");
        let mut envs: Vec<(&str, std::ffi::OsString)> = vec![("BENCH_OUT", out.clone().into())];
        if let Some(endpoint) = &endpoint {
            envs.push(("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.into()));
            envs.push(("OTEL_METRIC_EXPORT_INTERVAL", "100".into()));
        }
        let envs: Vec<(&str, &std::ffi::OsStr)> =
            envs.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        let started = Instant::now();
        common::wrap_self(dir.path(), &upstream, &envs);
        let session = started.elapsed().as_secs_f64();
        let latency = std::fs::read_to_string(&out).unwrap();
        println!("  {name:<17} {latency}, whole session {session:.2} s");
    }
}

async fn agent() {
    let base = std::env::var("ANTHROPIC_BASE_URL").unwrap();
    let client = reqwest::Client::new();
    let body =
        r#"{"model":"claude-opus-5-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#;
    let mut samples = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let response = client
            .post(format!("{base}/v1/messages"))
            .header("x-api-key", "bench")
            .body(body)
            .send()
            .await
            .unwrap();
        let _ = response.bytes().await.unwrap();
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let (p50, p99) = common::percentiles(&mut samples);
    std::fs::write(
        std::env::var("BENCH_OUT").unwrap(),
        format!("request p50 {p50:.2} ms, p99 {p99:.2} ms"),
    )
    .unwrap();
}
