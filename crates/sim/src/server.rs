//! A small HTTP/1.1 server for the simulators, over hyper. Handlers are
//! plain functions of a request; the reply may be a response, a delay, a
//! dropped connection or a response that never comes.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, StatusCode};
use hyper_util::rt::TokioIo;
use kit::clock::Clock;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A request as handlers see it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub raw_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Request {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What to do with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    /// Wait (clock time), then reply.
    Delay(Duration, Box<Reply>),
    /// Close the connection without answering.
    Reset,
    /// Never answer (the client must time out).
    Stall,
    /// A streamed body (the v1 SSE stream): chunks as the sender sends
    /// them; an `Err` aborts the connection mid-body (a drop).
    Stream {
        status: u16,
        headers: Vec<(String, String)>,
        body: StreamBody,
    },
}

/// The receiving end of a streamed body (taken once, when sent).
pub type StreamBody = Arc<std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<Result<Bytes, ()>>>>>;

/// A body: whole, or streamed.
pub enum SimBody {
    Full(Option<Bytes>),
    Stream(tokio::sync::mpsc::Receiver<Result<Bytes, ()>>),
}

impl hyper::body::Body for SimBody {
    type Data = Bytes;
    type Error = Dropped;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Dropped>>> {
        match self.get_mut() {
            SimBody::Full(b) => {
                std::task::Poll::Ready(b.take().map(|b| Ok(hyper::body::Frame::data(b))))
            }
            SimBody::Stream(rx) => rx
                .poll_recv(cx)
                .map(|o| o.map(|r| r.map(hyper::body::Frame::data).map_err(|()| Dropped))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, SimBody::Full(None))
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            SimBody::Full(Some(b)) => hyper::body::SizeHint::with_exact(b.len() as u64),
            SimBody::Full(None) => hyper::body::SizeHint::with_exact(0),
            SimBody::Stream(_) => hyper::body::SizeHint::default(),
        }
    }
}

impl Reply {
    pub fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply::Response {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: Bytes::from(serde_json::to_vec(value).expect("values serialize")),
        }
    }

    pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply::Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Response {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.into(), value.into()));
                Reply::Response {
                    status,
                    headers,
                    body,
                }
            }
            Reply::Delay(d, inner) => Reply::Delay(d, Box::new(inner.with_header(name, value))),
            Reply::Stream {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.into(), value.into()));
                Reply::Stream {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }

    /// The status a client would see (0 when it sees none).
    pub fn status(&self) -> u16 {
        match self {
            Reply::Response { status, .. } => *status,
            Reply::Delay(_, inner) => inner.status(),
            Reply::Stream { status, .. } => *status,
            Reply::Reset | Reply::Stall => 0,
        }
    }
}

pub trait Handler: Send + Sync + 'static {
    fn handle(&self, request: Request) -> Reply;
}

/// A running server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the simulator")
    }
}

impl std::error::Error for Dropped {}

async fn respond(reply: Reply, clock: Clock) -> Result<hyper::Response<SimBody>, Dropped> {
    let mut reply = reply;
    loop {
        match reply {
            Reply::Delay(d, inner) => {
                clock.sleep(d).await;
                reply = *inner;
            }
            Reply::Reset => return Err(Dropped),
            Reply::Stall => {
                std::future::pending::<()>().await;
            }
            Reply::Response {
                status,
                headers,
                body,
            } => {
                let mut builder = hyper::Response::builder().status(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                );
                for (k, v) in headers {
                    builder = builder.header(k, v);
                }
                return Ok(builder
                    .body(SimBody::Full(Some(body)))
                    .expect("valid response"));
            }
            Reply::Stream {
                status,
                headers,
                body,
            } => {
                let Some(rx) = body.lock().unwrap().take() else {
                    return Err(Dropped);
                };
                let mut builder = hyper::Response::builder().status(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                );
                for (k, v) in headers {
                    builder = builder.header(k, v);
                }
                return Ok(builder.body(SimBody::Stream(rx)).expect("valid response"));
            }
        }
    }
}

/// Binds `addr` (port 0: any free port) and serves `handler` until dropped.
pub async fn serve(
    addr: SocketAddr,
    handler: Arc<dyn Handler>,
    clock: Clock,
) -> std::io::Result<Server> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let handler = handler.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let raw_query = parts.uri.query().unwrap_or_default().to_string();
                        let query = url::form_urlencoded::parse(raw_query.as_bytes())
                            .map(|(k, v)| (k.into_owned(), v.into_owned()))
                            .collect();
                        let request = Request {
                            method: parts.method,
                            path: parts.uri.path().to_string(),
                            query,
                            raw_query,
                            headers: parts.headers,
                            body,
                        };
                        respond(handler.handle(request), clock).await
                    }
                });
                let _ = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Server { addr, task })
}
