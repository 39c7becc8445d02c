//! A mock provider on 127.0.0.1:0 that records every request and answers from a script. It runs on
//! its own thread and runtime, so blocking tests can use it, and stops when dropped.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

/// One request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }

    /// Every header value and the body, to search for leaked secrets.
    pub fn everything(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.body).into_owned();
        for (key, value) in &self.headers {
            text.push_str(&format!("\n{key}: {value}"));
        }
        text.push_str(&self.path_and_query);
        text
    }
}

/// What the mock answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A JSON body with this status.
    Json(u16, String),
    /// A JSON body with this status and these extra response headers.
    JsonWithHeaders(u16, String, Vec<(&'static str, String)>),
    /// A redirect with this status to this location.
    Redirect(u16, String),
    /// No answer at all (for a minute).
    Hang,
    /// An SSE stream of these raw chunks; with `gate`, everything after the first chunk waits
    /// until that file exists (the client got the first chunk), for at most 10 s.
    Sse {
        chunks: Vec<String>,
        gate: Option<PathBuf>,
    },
}

type Script = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

pub struct MockUpstream {
    pub url: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    gate_opened: Arc<Mutex<Vec<bool>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockUpstream {
    /// Starts a mock whose base URL is `http://127.0.0.1:PORT{base_path}`.
    pub fn start(
        base_path: &str,
        script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let script: Script = Arc::new(script);
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let gate_opened = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = {
            let recorded = recorded.clone();
            let gate_opened = gate_opened.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                    ready_tx.send(listener.local_addr().unwrap()).unwrap();
                    let mut stopped = stopped;
                    loop {
                        tokio::select! {
                            accepted = listener.accept() => {
                                let Ok((tcp, _)) = accepted else { continue };
                                let (script, recorded, gate_opened) = (script.clone(), recorded.clone(), gate_opened.clone());
                                tokio::spawn(async move {
                                    let service = service_fn(move |request| {
                                        answer(request, script.clone(), recorded.clone(), gate_opened.clone())
                                    });
                                    let _ = http1::Builder::new().serve_connection(TokioIo::new(tcp), service).await;
                                });
                            }
                            _ = &mut stopped => break,
                        }
                    }
                });
            })
        };
        let addr = ready_rx.recv().expect("mock upstream started");
        MockUpstream {
            url: format!("http://{addr}{base_path}"),
            recorded,
            gate_opened,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }

    /// For each gated stream: whether the client confirmed the first chunk before the rest was sent.
    pub fn gates(&self) -> Vec<bool> {
        self.gate_opened.lock().unwrap().clone()
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn answer(
    request: Request<hyper::body::Incoming>,
    script: Script,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    gate_opened: Arc<Mutex<Vec<bool>>>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let request = Recorded {
        method: parts.method.to_string(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    recorded.lock().unwrap().push(request.clone());
    let response = match script(&request) {
        Reply::Json(status, body) => Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(Bytes::from(body)).boxed())
            .unwrap(),
        Reply::JsonWithHeaders(status, body, headers) => {
            let mut response = Response::builder()
                .status(status)
                .header("content-type", "application/json");
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response
                .body(http_body_util::Full::new(Bytes::from(body)).boxed())
                .unwrap()
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Response::builder()
                .status(504)
                .body(http_body_util::Full::new(Bytes::new()).boxed())
                .unwrap()
        }
        Reply::Redirect(status, location) => Response::builder()
            .status(status)
            .header("location", location)
            .body(http_body_util::Full::new(Bytes::new()).boxed())
            .unwrap(),
        Reply::Sse { chunks, gate } => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(16);
            tokio::spawn(async move {
                let mut chunks = chunks.into_iter();
                if let Some(first) = chunks.next() {
                    let _ = tx.send(Ok(Frame::data(Bytes::from(first)))).await;
                }
                if let Some(gate) = gate {
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while !gate.exists() && Instant::now() < deadline {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    gate_opened.lock().unwrap().push(gate.exists());
                }
                for chunk in chunks {
                    let _ = tx.send(Ok(Frame::data(Bytes::from(chunk)))).await;
                }
            });
            let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|frame| (frame, rx))
            });
            Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(StreamBody::new(stream).boxed())
                .unwrap()
        }
    };
    Ok(response)
}
