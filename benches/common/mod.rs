//! What the benchmarks share: a loopback mock upstream and percentiles. Not a benchmark itself
//! (cargo only runs files directly under benches/).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// A response body of any kind.
// Each benchmark compiles this module on its own, and not every one serves a mock upstream.
#[allow(dead_code)]
pub type Body = BoxBody<Bytes, Infallible>;

/// Serves `handler` on 127.0.0.1 and a free port, until the runtime ends.
#[allow(dead_code)]
pub async fn serve<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let response = handler(request);
                    async move { Ok::<_, Infallible>(response.await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

/// Runs this benchmark executable again as the agent of `headroom wrap claude` (release build),
/// with BENCH_ROLE=agent, `upstream` as the Anthropic upstream, HEADROOM_HOME and the summary in
/// `dir`, and `envs` on top. Panics when the session fails.
// Each benchmark compiles this module on its own, and not every one runs a wrapped agent this way.
#[allow(dead_code)]
pub fn wrap_self(dir: &std::path::Path, upstream: &str, envs: &[(&str, &std::ffi::OsStr)]) {
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_headroom"))
        .args(["--quiet", "wrap", "claude", "--summary"])
        .arg(dir.join("summary.json"))
        .arg("--agent-bin")
        .arg(std::env::current_exe().unwrap())
        .env("HEADROOM_HOME", dir)
        .env("BENCH_ROLE", "agent")
        .env("ANTHROPIC_TARGET_API_URL", upstream)
        .env("ANTHROPIC_API_KEY", "bench")
        .envs(envs.iter().copied())
        .status()
        .unwrap();
    assert!(status.success());
}

/// The median and 99th percentile of `samples` (sorted in place).
// Each benchmark compiles this module on its own, and not every one measures latency.
#[allow(dead_code)]
pub fn percentiles(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}
