//! Compression benchmark, run on demand: `cargo bench --bench compress`. Prints numbers; asserts
//! nothing. All but the last figure go through the real `headroom wrap` (release build) to a
//! loopback mock:
//!
//! - per file of tests/corpus: the tool output's tokens as the agent sent it and as forwarded
//!   (o200k tokenizer), the ratio, whether every fact in facts.json reached the upstream, and the
//!   compression throughput on the request path, in MB of tool output per second, two ways: the
//!   CPU time headroom's proxy thread spends on a request whose (fresh) tool output is compressed
//!   beyond the same bytes sent where nothing is compressed (from /proc schedstat, in
//!   nanoseconds), and the extra time the agent waits for the answer; medians over the rounds,
//!   with a mock that takes 20 ms to answer, so every request meets a proxy gone idle and cold,
//!   as between the turns of a real session; and the CPU time again with requests back to back
//!   against an instant mock ("warm");
//! - the CPU cost of compression in total, including the originals' writes and full token counts
//!   that headroom makes off the request path: headroom's CPU time (all threads, from /proc) over
//!   a run of compressed requests minus a run of the same bytes uncompressed, in MB per CPU second;
//! - added latency for an 85 KB Claude-Code-sized request with a fresh 30 KB tool output:
//!   through headroom minus straight to the upstream, p50 and p99, with a mock that takes 20 ms
//!   to answer (as a model does, only faster); beside it the same bytes with nothing to compress
//!   (in the system prompt), which is the proxy's own share, and a small request, which is the
//!   cost of the extra hop itself (on a VM, mostly waking idle CPUs);
//! - last, the compressor alone, in this process with warm caches: what it costs apart from the
//!   proxy, the idle CPUs and the cold caches a real request meets.
//!
//! The "agent" is this executable re-run with BENCH_ROLE=agent; the mock keeps the last body it
//! received and hands it back on `GET /last`, so the agent can see what was forwarded.

mod common;

// The compressor itself, compiled into this benchmark from headroom's own source, for its
// throughput apart from the proxy (headroom is one binary, with no library to link). `proxy` and
// `report` below stand in for the two things it uses from the rest of headroom.
// Its unit tests come along with it, without their #[test] functions.
#[allow(dead_code, unused_imports)]
#[path = "../src/body.rs"]
mod body;
#[allow(dead_code, unused_imports)]
#[path = "../src/compress/mod.rs"]
mod compress;
#[allow(dead_code, unused_imports)]
#[path = "../src/tokens.rs"]
mod tokens;
#[allow(dead_code)]
#[path = "../src/usage/compression.rs"]
mod usage;
// The fidelity corpus as requests (tests/fidelity), as the fidelity tests build them.
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "../src/compress/fidelity/harness.rs"]
mod harness;
#[allow(dead_code)]
mod providers {
    /// As `Family` in src/providers/mod.rs.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Family {
        Anthropic,
        OpenAi,
    }
}
#[allow(dead_code)]
mod home {
    pub fn write_via_rename(
        path: &std::path::Path,
        bytes: &[u8],
        _sync: bool,
    ) -> anyhow::Result<()> {
        Ok(std::fs::write(path, bytes)?)
    }
}

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response};
use serde_json::{Value, json};

const ROUNDS: usize = 40;
/// How long the mock takes to answer in the latency measurement.
const MODEL_MS: u64 = 20;
/// The request header that tells the mock how long to take.
const DELAY_HEADER: &str = "x-bench-delay-ms";
/// Enough requests that headroom's CPU time, read in 10 ms ticks, is known to a few percent.
const CPU_ROUNDS: usize = 150;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if std::env::var("BENCH_ROLE").as_deref() == Ok("agent") {
        runtime.block_on(agent());
        return;
    }
    // `cargo bench --bench compress -- fidelity`: only the per-kind table, in a few seconds.
    if std::env::args().any(|arg| arg == "fidelity") {
        println!("{}", fidelity());
        return;
    }
    runtime.block_on(async {
        let upstream = format!("http://{}", start_upstream().await);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report.txt");
        common::wrap_self(
            dir.path(),
            &upstream,
            &[
                ("BENCH_UPSTREAM", upstream.as_ref()),
                ("BENCH_OUT", out.as_os_str()),
            ],
        );
        println!("{}", std::fs::read_to_string(out).unwrap());
    });
    println!("{}", in_process(&corpus().0));
    println!("{}", fidelity());
}

/// The compressor's own throughput per corpus file: a request with the file as a fresh tool
/// output (unique each round, so nothing is replayed) compressed in this process, caches warm,
/// median of `IN_PROCESS_ROUNDS`. What the proxy adds around it is in the figures above.
fn in_process(files: &[(String, String)]) -> String {
    const IN_PROCESS_ROUNDS: usize = 200;
    let originals = tempfile::tempdir().unwrap();
    let compressor = compress::Compressor::new(Some(originals.path().to_owned()));
    tokens::warm_up();
    let mut line = String::from("in process, the compressor alone (warm caches), MB/s:");
    let (mut bytes, mut seconds) = (0, 0.0);
    for (name, text) in files {
        let mut times: Vec<f64> = (0..IN_PROCESS_ROUNDS)
            .map(|round| {
                let body = request(2_000, &fresh(text, 5_000 + round), true);
                let start = Instant::now();
                std::hint::black_box(compressor.compress(
                    &body,
                    &body::read(&body),
                    providers::Family::Anthropic,
                ));
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        let (median_ms, _) = common::percentiles(&mut times);
        line.push_str(&format!(
            " {} {:.0},",
            name.split('.').next().unwrap(),
            text.len() as f64 / 1e6 / (median_ms / 1000.0)
        ));
        bytes += text.len();
        seconds += median_ms / 1000.0;
    }
    line.push_str(&format!(" total {:.0}", bytes as f64 / 1e6 / seconds));
    line
}

/// Kinds whose outputs may be cut: the compression target is measured over these.
const CUT_KINDS: [&str; 7] = ["log", "test", "build", "json", "diff", "search", "history"];

/// Per kind of the fidelity corpus (tests/fidelity): outputs, tokens before and after, facts kept,
/// and the compressor's throughput in this process (median of `ROUNDS` fresh copies per output).
fn fidelity() -> String {
    const ROUNDS: usize = 15;
    const CUT: &str = "total of cut kinds";
    const TOTAL: &str = "total";
    #[derive(Default)]
    struct Row {
        outputs: usize,
        before: u64,
        after: u64,
        facts: usize,
        kept: usize,
        bytes: usize,
        seconds: f64,
    }
    let originals = tempfile::tempdir().unwrap();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for (index, (sample, text)) in harness::load().iter().enumerate() {
        let compressor = compress::Compressor::new(Some(originals.path().to_owned()));
        let (body, family) = harness::request(sample, text, index);
        let forwarded = compressor
            .compress(&body, &body::read(&body), family)
            .filter(|outcome| outcome.edits().next().is_some())
            .map(|outcome| body::splice(&body, outcome.edits().collect()))
            .map_or_else(|| text.clone(), |body| harness::output(&body, family));
        let mut times: Vec<f64> = (0..ROUNDS)
            .map(|round| {
                let copy = fresh(text, 9_000 + round);
                let (body, family) = harness::request(sample, &copy, index);
                let compressor = compress::Compressor::new(Some(originals.path().to_owned()));
                let start = Instant::now();
                std::hint::black_box(compressor.compress(&body, &body::read(&body), family));
                start.elapsed().as_secs_f64()
            })
            .collect();
        let (median, _) = common::percentiles(&mut times);
        let (before, after) = (tokens::count(text), tokens::count(&forwarded));
        let kept = sample
            .facts
            .iter()
            .filter(|fact| harness::is_visible(&forwarded, fact))
            .count();
        let mut keys = vec![sample.kind.clone(), TOTAL.to_owned()];
        if CUT_KINDS.contains(&sample.kind.as_str()) {
            keys.push(CUT.to_owned());
        }
        for key in keys {
            let row = rows.entry(key).or_default();
            row.outputs += 1;
            row.before += before;
            row.after += after;
            row.facts += sample.facts.len();
            row.kept += kept;
            row.bytes += text.len();
            row.seconds += median;
        }
    }
    let mut out = format!(
        "fidelity corpus, by kind (in process):\n{:<20} {:>7} {:>9} {:>9} {:>7} {:>11} {:>7}\n",
        "kind", "outputs", "tokens", "forwarded", "saved", "facts kept", "MB/s"
    );
    let last = [CUT, TOTAL];
    let order = rows
        .keys()
        .filter(|kind| !last.contains(&kind.as_str()))
        .cloned()
        .chain(last.iter().map(|kind| kind.to_string()))
        .collect::<Vec<_>>();
    for kind in order {
        let Some(row) = rows.get(&kind) else { continue };
        out.push_str(&format!(
            "{:<20} {:>7} {:>9} {:>9} {:>6.1}% {:>5}/{:<5} {:>7.0}\n",
            kind,
            row.outputs,
            row.before,
            row.after,
            100.0 - row.after as f64 * 100.0 / row.before.max(1) as f64,
            row.kept,
            row.facts,
            row.bytes as f64 / 1e6 / row.seconds.max(1e-12)
        ));
    }
    out
}

/// Corpus files (name, text) and the facts of each.
type Corpus = (Vec<(String, String)>, BTreeMap<String, Vec<String>>);

fn corpus() -> Corpus {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let facts: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("facts.json")).unwrap()).unwrap();
    let files = facts
        .keys()
        .map(|name| {
            (
                name.clone(),
                std::fs::read_to_string(dir.join(name)).unwrap(),
            )
        })
        .collect();
    (files, facts)
}

/// A Claude-Code-shaped request: a long system prompt, a tool call, and its result as the newest
/// turn; `in_tool_result` false puts the same text in the system prompt, where nothing is touched.
fn request(system_bytes: usize, tool_output: &str, in_tool_result: bool) -> Vec<u8> {
    let filler: String = "You are a coding agent. Follow the repository conventions. "
        .chars()
        .cycle()
        .take(system_bytes)
        .collect();
    let system = if in_tool_result {
        filler
    } else {
        format!("{filler}\n{tool_output}")
    };
    let result = if in_tool_result {
        tool_output.to_owned()
    } else {
        "ok".to_owned()
    };
    serde_json::to_vec(&json!({
        "model": "claude-opus-5-5", "max_tokens": 32000, "stream": false,
        "system": [{"type": "text", "text": system}],
        "messages": [
            {"role": "user", "content": "run it"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "run"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": result, "cache_control": {"type": "ephemeral"}}]},
        ],
    }))
    .unwrap()
}

async fn agent() {
    let proxied = std::env::var("ANTHROPIC_BASE_URL").unwrap();
    let direct = std::env::var("BENCH_UPSTREAM").unwrap();
    let client = reqwest::Client::new();
    let tokenizer = bpe_openai::o200k_base();
    let (files, facts) = corpus();
    let throughput = request_path_throughput(&client, &proxied, &files, MODEL_MS).await;
    let warm = request_path_throughput(&client, &proxied, &files, 0).await;
    let mut lines = vec![format!(
        "{:<22} {:>9} {:>10} {:>7} {:>9} {:>9} {:>9}  facts",
        "corpus file", "tokens", "forwarded", "saved", "CPU MB/s", "wait MB/s", "warm MB/s"
    )];
    let (mut total_before, mut total_after, mut large_before, mut large_after) = (0, 0, 0, 0);
    for (name, text) in &files {
        send(&client, &proxied, request(2_000, text, true)).await;
        let forwarded = last_tool_output(&client, &direct).await;
        let (before, after) = (
            tokenizer.count(text.as_str()),
            tokenizer.count(forwarded.as_str()),
        );
        let kept = facts[name]
            .iter()
            .all(|fact| forwarded.contains(fact.as_str()));
        lines.push(format!(
            "{name:<22} {before:>9} {after:>10} {:>6.1}% {:>9.0} {:>9.0} {:>9.0}  {}",
            100.0 * (before - after) as f64 / before as f64,
            throughput[name].0,
            throughput[name].1,
            warm[name].0,
            if kept { "all kept" } else { "LOST" }
        ));
        total_before += before;
        total_after += after;
        if text.len() > 4096 {
            large_before += before;
            large_after += after;
        }
    }
    let total_bytes: usize = files.iter().map(|(_, text)| text.len()).sum();
    lines.push(format!(
        "{:<22} {total_before:>9} {total_after:>10} {:>6.1}% {:>9.0} {:>9.0} {:>9.0}  (outputs over 4 KB: {:.1}% fewer tokens)",
        "total",
        100.0 * (total_before - total_after) as f64 / total_before as f64,
        throughput["total"].0,
        throughput["total"].1,
        warm["total"].0,
        100.0 * (large_before - large_after) as f64 / large_before as f64
    ));
    lines.push(format!(
        "MB/s: request-path throughput, {:.1} MB of tool output over {ROUNDS} rounds: CPU = median extra CPU time of \
         headroom's proxy thread and wait = median extra time until the answer, the mock answering in {MODEL_MS} ms \
         (caches cold, as between real turns); warm = CPU with requests back to back and an instant mock",
        total_bytes as f64 * ROUNDS as f64 / 1e6
    ));

    // CPU: one run of requests with nothing to compress, one with the same bytes compressed.
    let plain = headroom_cpu_during(send_rounds(&client, &proxied, &files, false)).await;
    let compressed = headroom_cpu_during(send_rounds(&client, &proxied, &files, true)).await;
    let outputs = files.len() * CPU_ROUNDS;
    let megabytes = total_bytes as f64 * CPU_ROUNDS as f64 / 1e6;
    let extra = compressed - plain;
    lines.push(format!(
        "CPU cost of compression in all threads (the proxy's, and the background writes and full counts): {:.0} MB/s per CPU second, \
         {:.3} ms per output ({:.0} ms CPU uncompressed vs {:.0} ms compressed, {outputs} requests)",
        megabytes / extra,
        extra * 1000.0 / outputs as f64,
        plain * 1000.0,
        compressed * 1000.0,
    ));

    // Added latency for an 85 KB request whose newest tool output (30 KB, fresh) gets compressed.
    // The mock answers after 20 ms, as a (very fast) model would: headroom writes and counts the
    // original while the model works, and an instant mock would instead have to share the two
    // cores with that work, which no real upstream does.
    headroom_idle().await;
    let log = &files.iter().find(|(name, _)| name == "grep.txt").unwrap().1[..30_000];
    let (mut direct_ms, mut plain_ms, mut compressed_ms) = (Vec::new(), Vec::new(), Vec::new());
    let (mut small_direct_ms, mut small_ms) = (Vec::new(), Vec::new());
    for round in 0..200 {
        let text = format!("round {round}\n{log}");
        let compressed = request(55_000, &text, true);
        let small = request(0, "ok", false);
        for (base, body, times) in [
            (&direct, small.clone(), &mut small_direct_ms),
            (&proxied, small, &mut small_ms),
            (&direct, compressed.clone(), &mut direct_ms),
            (&proxied, request(55_000, &text, false), &mut plain_ms),
            (&proxied, compressed, &mut compressed_ms),
        ] {
            let t = Instant::now();
            send_slow(&client, base, body).await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let (s50, s99) = common::percentiles(&mut small_direct_ms);
    let (p50, p99) = common::percentiles(&mut small_ms);
    lines.push(format!(
        "small request                     : direct p50 {s50:.2} ms p99 {s99:.2} ms | proxied p50 {p50:.2} ms p99 {p99:.2} ms | added p50 {:.2} ms p99 {:.2} ms",
        p50 - s50,
        p99 - s99
    ));
    let (d50, d99) = common::percentiles(&mut direct_ms);
    for (what, times) in [
        ("nothing to compress", &mut plain_ms),
        ("30 KB fresh tool output", &mut compressed_ms),
    ] {
        let (p50, p99) = common::percentiles(times);
        lines.push(format!(
            "85 KB request, {what:<23}: direct p50 {d50:.2} ms p99 {d99:.2} ms | proxied p50 {p50:.2} ms p99 {p99:.2} ms | added p50 {:.2} ms p99 {:.2} ms",
            p50 - d50,
            p99 - d99
        ));
    }
    std::fs::write(std::env::var("BENCH_OUT").unwrap(), lines.join("\n")).unwrap();
}

/// Request-path throughput per corpus file (and "total"), as MB of tool output per second of
/// headroom's proxy-thread CPU time and of the agent's waiting time, from the medians of what a
/// compressed request costs beyond the same bytes uncompressed, with the mock answering after
/// `delay_ms`. The same bytes go once as a fresh tool output (compressed), once in the system
/// prompt (not walked into), one after the other; unique text each round defeats the session's
/// replay map.
async fn request_path_throughput(
    client: &reqwest::Client,
    proxied: &str,
    files: &[(String, String)],
    delay_ms: u64,
) -> BTreeMap<String, (f64, f64)> {
    let proxy_thread = proxy_thread_schedstat();
    let mut extra: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for round in 0..ROUNDS {
        for (name, text) in files {
            let text = fresh(text, round + delay_ms as usize * ROUNDS);
            let cost = |body: Vec<u8>| {
                let proxy_thread = &proxy_thread;
                async move {
                    let (cpu, wall) = (cpu_nanos(proxy_thread), Instant::now());
                    send_with(client, proxied, body, delay_ms).await;
                    let cpu_ms = (cpu_nanos(proxy_thread) - cpu) as f64 / 1e6;
                    (cpu_ms, wall.elapsed().as_secs_f64() * 1000.0)
                }
            };
            let plain = cost(request(2_000, &text, false)).await;
            let compressed = cost(request(2_000, &text, true)).await;
            let (cpu, wall) = extra.entry(name).or_default();
            cpu.push(compressed.0 - plain.0);
            wall.push(compressed.1 - plain.1);
        }
    }
    let mut throughput = BTreeMap::new();
    let (mut bytes, mut cpu_sum, mut wall_sum) = (0, 0.0, 0.0);
    for (name, text) in files {
        let (cpu, wall) = extra.get_mut(name.as_str()).unwrap();
        let (cpu_ms, wall_ms) = (common::percentiles(cpu).0, common::percentiles(wall).0);
        let per_second = |ms: f64| text.len() as f64 / 1e6 / (ms / 1000.0);
        throughput.insert(name.clone(), (per_second(cpu_ms), per_second(wall_ms)));
        bytes += text.len();
        cpu_sum += cpu_ms;
        wall_sum += wall_ms;
    }
    let per_second = |ms: f64| bytes as f64 / 1e6 / (ms / 1000.0);
    throughput.insert("total".into(), (per_second(cpu_sum), per_second(wall_sum)));
    throughput
}

/// The schedstat file of headroom's main thread, where the proxy runs (headroom is this agent's
/// parent, and its main thread has its pid).
fn proxy_thread_schedstat() -> String {
    let pid = std::os::unix::process::parent_id();
    format!("/proc/{pid}/task/{pid}/schedstat")
}

/// Nanoseconds a thread has run, from its schedstat file.
fn cpu_nanos(schedstat: &str) -> u64 {
    let stat = std::fs::read_to_string(schedstat).unwrap();
    stat.split(' ').next().unwrap().parse().unwrap()
}

/// `text` made unique by `id`, so the session's replay map does not serve it, and still of its
/// kind: a first line for text output, trailing whitespace spelling `id` in binary for JSON
/// (which must stay JSON).
fn fresh(text: &str, id: usize) -> String {
    if text.starts_with(['[', '{']) {
        let bits: String = (0..16)
            .map(|bit| if id >> bit & 1 == 1 { '\t' } else { ' ' })
            .collect();
        format!("{text}{bits}")
    } else {
        format!("round {id}\n{text}")
    }
}

/// Sends every corpus file `CPU_ROUNDS` times, fresh each time, as a tool output or not.
async fn send_rounds(
    client: &reqwest::Client,
    proxied: &str,
    files: &[(String, String)],
    in_tool_result: bool,
) {
    let first_id = if in_tool_result { 2000 } else { 1000 };
    for round in 0..CPU_ROUNDS {
        for (_, text) in files {
            let body = request(2_000, &fresh(text, first_id + round), in_tool_result);
            send(client, proxied, body).await;
        }
    }
}

/// CPU seconds the headroom process (this agent's parent) spent while `work` ran, all threads.
/// Waits for headroom to be idle before and after, so work still running off the request path
/// counts where it belongs.
async fn headroom_cpu_during(work: impl std::future::Future<Output = ()>) -> f64 {
    let all = format!("/proc/{}/stat", std::os::unix::process::parent_id());
    headroom_idle().await;
    let before = cpu_seconds(&all);
    work.await;
    headroom_idle().await;
    cpu_seconds(&all) - before
}

/// Returns once headroom has used no CPU for 200 ms (writes and counts of earlier outputs done).
async fn headroom_idle() {
    let all = format!("/proc/{}/stat", std::os::unix::process::parent_id());
    let mut last = cpu_seconds(&all);
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let now = cpu_seconds(&all);
        if now == last {
            return;
        }
        last = now;
    }
}

/// User plus system time from a /proc stat file, read in clock ticks.
fn cpu_seconds(stat_file: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_file).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // sysconf(_SC_CLK_TCK) is 100 on Linux.
    ticks / 100.0
}

async fn send(client: &reqwest::Client, base: &str, body: Vec<u8>) {
    send_with(client, base, body, 0).await;
}

/// `send` to a mock that takes `MODEL_MS` to answer.
async fn send_slow(client: &reqwest::Client, base: &str, body: Vec<u8>) {
    send_with(client, base, body, MODEL_MS).await;
}

async fn send_with(client: &reqwest::Client, base: &str, body: Vec<u8>, delay_ms: u64) {
    let response = client
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", "bench")
        .header(DELAY_HEADER, delay_ms)
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    response.bytes().await.unwrap();
}

async fn last_tool_output(client: &reqwest::Client, upstream: &str) -> String {
    let bytes = client
        .get(format!("{upstream}/last"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    body["messages"][2]["content"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A loopback upstream that keeps the last body it received and returns it on GET.
async fn start_upstream() -> std::net::SocketAddr {
    let last = Arc::new(Mutex::new(Bytes::new()));
    common::serve(move |request: Request<hyper::body::Incoming>| {
        let last = last.clone();
        async move {
            let is_get = request.method() == Method::GET;
            let delay_ms: u64 = request
                .headers()
                .get(DELAY_HEADER)
                .and_then(|value| value.to_str().ok()?.parse().ok())
                .unwrap_or(0);
            tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
            let body = request
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let reply = if is_get {
                last.lock().unwrap().clone()
            } else {
                *last.lock().unwrap() = body;
                Bytes::from_static(
                    br#"{"model":"claude-opus-5-5","usage":{"input_tokens":10,"output_tokens":2}}"#,
                )
            };
            Response::builder()
                .header("content-type", "application/json")
                .body(Full::new(reply).boxed())
                .unwrap()
        }
    })
    .await
}
