//! What the v0 and v1 clients share below their endpoints: the base URL,
//! the credentials, the clock, the request count, one bounded HTTP exchange
//! ([`Transport`]), and the client around it ([`Client`]): construction, the
//! request path, errors in the shared shape. Each version is a [`Version`]
//! (its endpoints, its error body, its path prefix) and adds its endpoint
//! methods in its own module (`client` for v0, `v1::client`).

use crate::error::{ApiError, one_line, parse_retry_after};
use crate::models::is_valid_agent_id;
use base64::Engine as _;
use kit::clock::Clock;
use kit::secret::{Redactor, Secret};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
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

impl Failed {
    /// This failure as the error of a call to `endpoint`.
    pub(crate) fn at<E, B>(self, endpoint: E) -> ApiError<E, B> {
        match self {
            Failed::Transport {
                maybe_sent,
                message,
            } => ApiError::Transport {
                endpoint,
                maybe_sent,
                message,
            },
            Failed::Tls(message) => ApiError::Tls { endpoint, message },
            Failed::Timeout => ApiError::Timeout { endpoint },
            Failed::TooLarge { status } => ApiError::Decode {
                endpoint,
                status,
                message: "response larger than 16 MiB".into(),
            },
        }
    }
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

/// How long each kind of call may take (clock time).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub read: Duration,
    /// Creating an agent has been seen to take ~59 s.
    pub launch: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            read: Duration::from_secs(30),
            launch: Duration::from_secs(90),
        }
    }
}

/// What sets one API version apart in the shared [`Client`].
pub trait Version: Clone + Copy + std::fmt::Debug {
    /// Which call failed, for messages.
    type Endpoint: Copy;
    /// An error answer's body.
    type Body;
    /// The paths' first segment: `/v0`, `/v1`.
    const PREFIX: &'static str;
    /// An error answer's body, printable: `redactor` is the client's (see
    /// [`crate::error`]).
    fn body(redactor: &Redactor, bytes: &[u8]) -> Self::Body;
}

/// A failed call of version `V`.
pub type Error<V> = ApiError<<V as Version>::Endpoint, <V as Version>::Body>;

/// A Cursor API client of version `V` (`CursorClient` for v0, `V1Client`):
/// one method per endpoint (in the version's module), one attempt per call.
/// Retrying is the caller's decision.
#[derive(Clone, Debug)]
pub struct Client<V: Version> {
    transport: Transport,
    pub timeouts: Timeouts,
    version: PhantomData<V>,
}

impl<V: Version> Client<V> {
    pub fn new(
        http: reqwest::Client,
        base: &url::Url,
        key: &Secret,
        scheme: AuthScheme,
        clock: Clock,
    ) -> Self {
        Self {
            transport: Transport::new(http, base, key, scheme, clock),
            timeouts: Timeouts::default(),
            version: PhantomData,
        }
    }

    /// How many requests this client (and its clones) has sent.
    pub fn request_count(&self) -> u64 {
        self.transport.request_count()
    }

    pub fn clock(&self) -> Clock {
        self.transport.clock()
    }

    /// Also redacts `secrets` (the run's) in the errors it builds.
    pub fn redacting(mut self, secrets: &Redactor) -> Self {
        self.transport.redacting(secrets);
        self
    }

    /// The redactor that knows this client's key (and the secrets it was
    /// given).
    pub fn redactor(&self) -> &Redactor {
        self.transport.redactor()
    }

    /// The error for an id we refuse to put in a URL (printable).
    pub(crate) fn invalid_id(&self, id: &str) -> Error<V> {
        ApiError::InvalidId {
            id: one_line(self.transport.redactor(), id, 60),
        }
    }

    /// `{PREFIX}/agents/{id}{suffix}`, for an id that is safe in a path.
    pub(crate) fn agent_path(&self, id: &str, suffix: &str) -> Result<String, Error<V>> {
        if !is_valid_agent_id(id) {
            return Err(self.invalid_id(id));
        }
        Ok(format!("{}/agents/{id}{suffix}", V::PREFIX))
    }

    /// A request with the credentials, counted as sent.
    pub(crate) fn request(
        &self,
        endpoint: V::Endpoint,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<reqwest::RequestBuilder, Error<V>> {
        self.transport
            .request(method, path, query)
            .map_err(|message| ApiError::Transport {
                endpoint,
                maybe_sent: false,
                message,
            })
    }

    /// The error for an answer with an error status.
    pub(crate) fn status_error(
        &self,
        endpoint: V::Endpoint,
        status: u16,
        bytes: &[u8],
        retry_after: Option<Duration>,
    ) -> Error<V> {
        ApiError::Status {
            endpoint,
            status,
            body: V::body(self.transport.redactor(), bytes),
            retry_after,
        }
    }

    /// One exchange with a success status (not generic in the answer's
    /// type: one copy per version, however many endpoints).
    async fn success(
        &self,
        endpoint: V::Endpoint,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Answer, Error<V>> {
        let request = self.request(endpoint, method, path, query)?;
        let answer = self
            .transport
            .exchange(request, body, timeout)
            .await
            .map_err(|f| f.at(endpoint))?;
        if !answer.is_success() {
            return Err(self.status_error(
                endpoint,
                answer.status,
                &answer.bytes,
                answer.retry_after,
            ));
        }
        Ok(answer)
    }

    /// One call: its answer read as `T`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        endpoint: V::Endpoint,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<T, Error<V>> {
        let answer = self
            .success(endpoint, method, path, query, body, timeout)
            .await?;
        serde_json::from_slice(&answer.bytes).map_err(|e| ApiError::Decode {
            endpoint,
            status: answer.status,
            message: e.to_string(),
        })
    }

    /// A `GET` within the read timeout.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        endpoint: V::Endpoint,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, Error<V>> {
        self.call(endpoint, Method::GET, path, query, None, self.timeouts.read)
            .await
    }
    /// A `POST` (without a query).
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        endpoint: V::Endpoint,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<T, Error<V>> {
        self.call(endpoint, Method::POST, path, &[], body, timeout)
            .await
    }
}

/// A request body as JSON.
pub(crate) fn json(body: &impl Serialize) -> Option<Vec<u8>> {
    Some(serde_json::to_vec(body).expect("request bodies serialize"))
}

/// The query of a page of a list: `limit` and `cursor`, when given.
pub(crate) fn page_query<'a>(
    limit: &'a Option<String>,
    cursor: Option<&'a str>,
) -> Vec<(&'static str, &'a str)> {
    let mut query = Vec::new();
    if let Some(l) = limit {
        query.push(("limit", l.as_str()));
    }
    if let Some(c) = cursor {
        query.push(("cursor", c));
    }
    query
}
