//! What the v0 and v1 clients share below their APIs: the base URL, the
//! credentials, the clock, the request count, and one bounded HTTP exchange.
//! Each client says a [`Failed`] in its own error type, with its endpoint.

use crate::error::parse_retry_after;
use base64::Engine as _;
use kit::clock::Clock;
use kit::secret::{Redactor, Secret};
use reqwest::Method;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How the key is sent (the transport builds the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Basic base64(key + ":")`, as the v0 docs show.
    Basic,
    /// `Authorization: Bearer key`.
    Bearer,
}

/// Larger responses are refused: no real answer comes near this.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Why an exchange got no answer to judge (the client adds its endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failed {
    /// The request could not be sent, or its answer not read; a refused
    /// or failed connection never carried it (`maybe_sent: false`).
    Transport { maybe_sent: bool, message: String },
    /// The server's certificate is not trusted (said plainly).
    Tls(String),
    /// No whole answer within the time allowed.
    Timeout,
    /// The answer was larger than we read.
    TooLarge { status: u16 },
}

/// An answer, whatever its status.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

#[derive(Clone)]
pub struct Transport {
    http: reqwest::Client,
    base: String,
    authorization: Secret,
    /// Knows the key: error text from the server is made printable with it
    /// where the error is built (see [`kit::secret`]).
    redactor: Redactor,
    clock: Clock,
    /// Requests sent through this transport and its clones.
    requests: Arc<AtomicU64>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base)
            .finish()
    }
}

/// What a failed send or read means.
pub fn failed(e: &reqwest::Error) -> Failed {
    let message = kit::http::error_chain(e);
    if let Some(tls) = kit::http::certificate_problem(&message) {
        return Failed::Tls(tls);
    }
    Failed::Transport {
        maybe_sent: !e.is_connect(),
        message,
    }
}

/// The `Retry-After` a response carries, as a wait from now.
pub fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()))
}

/// The whole body, at most [`MAX_RESPONSE_BYTES`].
pub(crate) async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, Failed> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(&e))? {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(Failed::TooLarge {
                status: response.status().as_u16(),
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

impl Transport {
    pub fn new(
        http: reqwest::Client,
        base: &url::Url,
        key: &Secret,
        scheme: AuthScheme,
        clock: Clock,
    ) -> Self {
        let authorization = match scheme {
            AuthScheme::Basic => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{}:", key.expose()))
            ),
            AuthScheme::Bearer => format!("Bearer {}", key.expose()),
        };
        Self {
            http,
            base: base.as_str().trim_end_matches('/').to_string(),
            authorization: Secret::new(authorization),
            redactor: Redactor::of(key),
            clock,
            requests: Default::default(),
        }
    }

    /// How many requests this transport (and its clones) has sent.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Redacts `secrets` too, besides the key.
    pub fn redacting(&mut self, secrets: &Redactor) {
        self.redactor.absorb(secrets);
    }

    /// The redactor that knows this transport's key.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// A request to `path` with the credentials, counted as sent (for calls
    /// that are not one exchange, such as a stream). `Err`: a bad URL.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<reqwest::RequestBuilder, String> {
        let mut url = url::Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| format!("bad URL: {e}"))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        Ok(self
            .http
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, self.authorization.expose()))
    }

    /// One JSON exchange, its whole answer read within `timeout`.
    pub(crate) async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Answer, Failed> {
        let mut request = request.header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let attempt = async {
            let response = request.send().await.map_err(|e| failed(&e))?;
            let status = response.status().as_u16();
            let retry_after = retry_after(&response);
            let bytes = read_body(response).await?;
            Ok::<_, Failed>(Answer {
                status,
                retry_after,
                bytes,
            })
        };
        self.clock
            .timeout(timeout, attempt)
            .await
            .map_err(|_| Failed::Timeout)?
    }
}
