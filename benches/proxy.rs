//! Proxy benchmark, run on demand: `cargo bench --bench proxy`. Prints numbers; asserts nothing.
//!
//! Every figure is measured twice in the same run, directly against a loopback mock upstream and
//! through `headroom wrap` (release build), so the machine's noise hits both sides alike:
//! - added latency p50/p99 for small non-streaming requests and for streaming time to first byte;
//! - requests per second with 1 and 16 concurrent clients;
//! - time from starting the command to the agent's first instruction (`headroom wrap` vs a bare
//!   spawn of the same agent);
//! - headroom's resident memory when idle and after the load.
//!
//! The "agent" is this same executable, re-run with BENCH_ROLE=agent: it finds the proxy through
//! ANTHROPIC_BASE_URL exactly as Claude Code would.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response};

const SMALL_REPLY: &str = r#"{"id":"msg_1","type":"message","model":"claude-opus-5-5","content":[{"type":"text","text":"ok"}],"usage":{"input_tokens":10,"output_tokens":2}}"#;
const SAMPLES: usize = 2000;
const LOAD_SECONDS: u64 = 3;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    match std::env::var("BENCH_ROLE").as_deref() {
        Ok("agent") => runtime.block_on(agent()),
        _ => runtime.block_on(driver()),
    }
}

/// Starts the mock upstream and runs the agent directly and through headroom.
async fn driver() {
    let upstream = start_upstream().await;
    let upstream_url = format!("http://{upstream}");
    let headroom = env!("CARGO_BIN_EXE_headroom");
    let me = std::env::current_exe().unwrap();
    let out_dir = tempfile::tempdir().unwrap();

    // Start-to-exec: a bare spawn of the agent vs `headroom wrap` launching it.
    let mut bare = Vec::new();
    let mut wrapped = Vec::new();
    for _ in 0..20 {
        bare.push(startup_ms(&me, None, &upstream_url, out_dir.path()));
        wrapped.push(startup_ms(
            &me,
            Some(headroom),
            &upstream_url,
            out_dir.path(),
        ));
    }
    let bare_ms = median(&mut bare);
    let wrapped_ms = median(&mut wrapped);

    println!(
        "headroom proxy benchmark ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!(
        "start to agent exec (median of 20): bare spawn {bare_ms:.2} ms, headroom wrap {wrapped_ms:.2} ms, added {:.2} ms",
        wrapped_ms - bare_ms
    );

    // The load agent measures direct and proxied figures side by side, from inside the session.
    println!(
        "{}",
        run_agent(&me, Some(headroom), &upstream_url, "load", out_dir.path())
    );
}

/// Runs the agent in `mode`, bare (pointed straight at the upstream) or through `headroom wrap`,
/// and returns what it wrote to its output file.
fn run_agent(
    me: &std::path::Path,
    headroom: Option<&str>,
    upstream: &str,
    mode: &str,
    dir: &std::path::Path,
) -> String {
    let t0 = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let out = dir.join(format!("{mode}.txt"));
    let mut command = match headroom {
        Some(headroom) => {
            let mut command = std::process::Command::new(headroom);
            command
                .args(["--quiet", "wrap", "claude", "--summary"])
                .arg(dir.join("summary.json"))
                .arg("--agent-bin")
                .arg(me);
            command
        }
        None => {
            let mut command = std::process::Command::new(me);
            command.env("ANTHROPIC_BASE_URL", upstream);
            command
        }
    };
    let status = command
        .env("BENCH_ROLE", "agent")
        .env("BENCH_MODE", mode)
        .env("BENCH_T0", t0.to_string())
        .env("BENCH_UPSTREAM", upstream)
        .env("BENCH_OUT", &out)
        .env("ANTHROPIC_TARGET_API_URL", upstream)
        .env("ANTHROPIC_API_KEY", "bench")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(&out).unwrap()
}

/// Milliseconds from spawning to the agent's first instruction.
fn startup_ms(
    me: &std::path::Path,
    headroom: Option<&str>,
    upstream: &str,
    dir: &std::path::Path,
) -> f64 {
    run_agent(me, headroom, upstream, "startup", dir)
        .trim()
        .parse()
        .unwrap()
}

/// The agent side: either report its start time, or run the load and write the report.
async fn agent() {
    let out = std::env::var("BENCH_OUT").unwrap();
    if std::env::var("BENCH_MODE").as_deref() == Ok("startup") {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let t0: u128 = std::env::var("BENCH_T0").unwrap().parse().unwrap();
        std::fs::write(out, format!("{}", (now - t0) as f64 / 1e6)).unwrap();
        return;
    }
    let proxied = std::env::var("ANTHROPIC_BASE_URL").unwrap();
    let direct = std::env::var("BENCH_UPSTREAM").unwrap();
    let headroom_pid = std::os::unix::process::parent_id();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let mut lines = Vec::new();

    // Warm both paths (connections, the price data decode) before measuring.
    for base in [&direct, &proxied] {
        for _ in 0..200 {
            small(&client, base).await;
            first_byte(&client, base).await;
        }
    }
    let idle_rss = rss_kib(headroom_pid);

    for (name, stream) in [
        ("small non-streaming request", false),
        ("streaming time to first byte", true),
    ] {
        let mut direct_ms = Vec::with_capacity(SAMPLES);
        let mut proxied_ms = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            // Interleave so drift in machine load hits both sides equally.
            for (base, samples) in [(&direct, &mut direct_ms), (&proxied, &mut proxied_ms)] {
                let started = Instant::now();
                if stream {
                    first_byte(&client, base).await
                } else {
                    small(&client, base).await
                }
                samples.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        let (d50, d99) = common::percentiles(&mut direct_ms);
        let (p50, p99) = common::percentiles(&mut proxied_ms);
        lines.push(format!(
            "{name:<30} direct p50 {d50:.3} ms p99 {d99:.3} ms | proxied p50 {p50:.3} ms p99 {p99:.3} ms | added p50 {:.3} ms p99 {:.3} ms",
            p50 - d50,
            p99 - d99
        ));
    }

    for clients in [1usize, 16] {
        let direct_rps = throughput(&client, &direct, clients).await;
        let proxied_rps = throughput(&client, &proxied, clients).await;
        lines.push(format!(
            "throughput, {clients:>2} client(s)          direct {direct_rps:>8.0} req/s | proxied {proxied_rps:>8.0} req/s | ratio {:.2}x",
            proxied_rps / direct_rps
        ));
    }
    let loaded_rss = rss_kib(headroom_pid);
    lines.push(format!(
        "headroom RSS                   idle {:.1} MB | after load {:.1} MB",
        idle_rss as f64 / 1024.0,
        loaded_rss as f64 / 1024.0
    ));
    lines.push(flooded(&proxied).await);
    std::fs::write(out, lines.join("\n")).unwrap();
}

/// A request on a new connection while another local process holds 300 idle sockets open on
/// the proxy (past its cap of 128, so strangers' connections are being closed), beside the
/// same without the flood.
async fn flooded(proxied: &str) -> String {
    const FLOOD_SAMPLES: usize = 60;
    let address = proxied
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let measure = async || {
        let mut samples = Vec::with_capacity(FLOOD_SAMPLES);
        for _ in 0..FLOOD_SAMPLES {
            // No pooling: each request opens a new connection, as after an idle timeout.
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap();
            let started = Instant::now();
            small(&client, proxied).await;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        common::percentiles(&mut samples)
    };
    let (calm50, calm99) = measure().await;
    let mut flood = Vec::new();
    for _ in 0..300 {
        if let Ok(socket) = tokio::net::TcpStream::connect(&address).await {
            flood.push(socket);
        }
    }
    let (flood50, flood99) = measure().await;
    format!(
        "new connection, {} idle sockets held: p50 {flood50:.3} ms p99 {flood99:.3} ms | without them: p50 {calm50:.3} ms p99 {calm99:.3} ms",
        flood.len()
    )
}

async fn small(client: &reqwest::Client, base: &str) {
    let response = client
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", "bench")
        .body(r#"{"model":"claude-opus-5-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    response.bytes().await.unwrap();
}

async fn first_byte(client: &reqwest::Client, base: &str) {
    let mut response = client
        .post(format!("{base}/v1/messages?stream"))
        .header("x-api-key", "bench")
        .body(r#"{"model":"claude-opus-5-5","stream":true,"messages":[]}"#)
        .send()
        .await
        .unwrap();
    response.chunk().await.unwrap().unwrap();
    while response.chunk().await.unwrap().is_some() {}
}

async fn throughput(client: &reqwest::Client, base: &str, clients: usize) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, base, done) = (client.clone(), base.to_owned(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    small(&client, &base).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let started = Instant::now();
    for task in tasks {
        task.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn median(samples: &mut [f64]) -> f64 {
    common::percentiles(samples).0
}

/// A loopback upstream: a small JSON reply, or a short SSE stream whose first event is sent at once.
async fn start_upstream() -> SocketAddr {
    common::serve(|request: Request<hyper::body::Incoming>| async move {
        let stream = request.uri().query() == Some("stream");
        let _ = request.into_body().collect().await;
        if stream {
            let events = [
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-opus-5-5\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n",
                "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":2}}\n\n",
            ];
            let frames = futures_util::stream::iter(events.map(|event| Ok::<_, Infallible>(Frame::data(Bytes::from_static(event.as_bytes())))));
            Response::builder().header("content-type", "text/event-stream").body(StreamBody::new(frames).boxed()).unwrap()
        } else {
            Response::builder()
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(SMALL_REPLY.as_bytes())).boxed())
                .unwrap()
        }
    })
    .await
}
