//! The Cursor v1 API client: one method per endpoint, one attempt per call.
//! Retrying is the caller's decision: a create is safe to repeat only with
//! the same `agentId` (a replay answers `409 agent_id_conflict`), a
//! follow-up run never is.

use super::error::{V1Body, V1Endpoint, V1Error};
use super::models::*;
use crate::clock::Clock;
use crate::cursor::{AuthScheme, Timeouts, parse_retry_after};
use crate::secret::Secret;
use base64::Engine as _;
use bytes::Bytes;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Larger responses are refused: no real answer comes near this.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Opening a stream may take this long; once open it has no overall limit
/// ("the run stream is long-lived by design"), the follower judges silence.
pub const STREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct V1Client {
    http: reqwest::Client,
    base: String,
    authorization: Secret,
    clock: Clock,
    pub timeouts: Timeouts,
    /// Requests sent (for the sweep's log).
    requests: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for V1Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V1Client")
            .field("base", &self.base)
            .finish()
    }
}

/// An open run stream: the body arrives in chunks split anywhere; feed them
/// to an [`super::sse::SseParser`].
pub struct RunStream {
    response: reqwest::Response,
    /// `X-Cursor-Stream-Retention-Seconds`, when sent.
    pub retention_seconds: Option<u64>,
}

impl std::fmt::Debug for RunStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunStream")
            .field("retention_seconds", &self.retention_seconds)
            .finish()
    }
}

impl RunStream {
    /// The next bytes; `None` when the server closed the stream.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, V1Error> {
        self.response
            .chunk()
            .await
            .map_err(|e| transport(V1Endpoint::Stream, &e))
    }
}

impl V1Client {
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
            clock,
            timeouts: Timeouts::default(),
            requests: Default::default(),
        }
    }

    /// How many requests this client (and its clones) has sent.
    pub fn request_count(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count_request(&self) {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    fn agent_path(id: &str, suffix: &str) -> Result<String, V1Error> {
        if !crate::cursor::is_valid_agent_id(id) {
            return Err(V1Error::InvalidId { id: id.to_string() });
        }
        Ok(format!("/v1/agents/{id}{suffix}"))
    }

    fn run_path(id: &str, run: &str, suffix: &str) -> Result<String, V1Error> {
        if !is_run_id(run) {
            return Err(V1Error::InvalidId {
                id: run.to_string(),
            });
        }
        Self::agent_path(id, &format!("/runs/{run}{suffix}"))
    }

    fn request(
        &self,
        endpoint: V1Endpoint,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<reqwest::RequestBuilder, V1Error> {
        let mut url =
            url::Url::parse(&format!("{}{path}", self.base)).map_err(|e| V1Error::Transport {
                endpoint,
                maybe_sent: false,
                message: format!("bad URL: {e}"),
            })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(self
            .http
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, self.authorization.expose()))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        endpoint: V1Endpoint,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<T, V1Error> {
        let mut request = self
            .request(endpoint, method, path, query)?
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        self.count_request();
        let attempt = async {
            let response = request.send().await.map_err(|e| transport(endpoint, &e))?;
            let status = response.status().as_u16();
            let retry_after = retry_after(&response);
            let bytes = read_body(response, endpoint).await?;
            Ok::<_, V1Error>((status, retry_after, bytes))
        };
        let (status, retry_after, bytes) = self
            .clock
            .timeout(timeout, attempt)
            .await
            .map_err(|_| V1Error::Timeout { endpoint })??;
        if !(200..300).contains(&status) {
            return Err(V1Error::Status {
                endpoint,
                status,
                body: Box::new(V1Body::parse(&bytes)),
                retry_after,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| V1Error::Decode {
            endpoint,
            status,
            message: e.to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: V1Endpoint,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, V1Error> {
        self.call(endpoint, Method::GET, path, query, None, self.timeouts.read)
            .await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        endpoint: V1Endpoint,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<T, V1Error> {
        self.call(endpoint, Method::POST, path, &[], body, timeout)
            .await
    }

    /// `GET /v1/me`.
    pub async fn me(&self) -> Result<Me, V1Error> {
        self.get(V1Endpoint::Me, "/v1/me", &[]).await
    }

    /// `GET /v1/models`.
    pub async fn models(&self) -> Result<Page<ModelInfo>, V1Error> {
        self.get(V1Endpoint::Models, "/v1/models", &[]).await
    }

    /// `GET /v1/agents`: one page, newest first.
    pub async fn list_agents(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Agent>, V1Error> {
        let limit = limit.map(|l| l.to_string());
        let mut query = Vec::new();
        if let Some(l) = &limit {
            query.push(("limit", l.as_str()));
        }
        if let Some(c) = cursor {
            query.push(("cursor", c));
        }
        self.get(V1Endpoint::ListAgents, "/v1/agents", &query).await
    }

    /// `POST /v1/agents`: creates the agent and its first run. With an
    /// `agentId` it may be repeated after a lost answer: a replay answers
    /// `409 agent_id_conflict` (then [`V1Client::agent`] and follow its
    /// `latestRunId`).
    pub async fn create_agent(&self, request: &CreateAgentRequest) -> Result<Created, V1Error> {
        if let Some(id) = &request.agent_id
            && !is_agent_id(id)
        {
            return Err(V1Error::InvalidId { id: id.clone() });
        }
        self.post(
            V1Endpoint::CreateAgent,
            "/v1/agents",
            json(request),
            self.timeouts.launch,
        )
        .await
    }

    /// `GET /v1/agents/{id}`.
    pub async fn agent(&self, id: &str) -> Result<Agent, V1Error> {
        self.get(V1Endpoint::Agent, &Self::agent_path(id, "")?, &[])
            .await
    }

    /// `POST /v1/agents/{id}/archive` (idempotent).
    pub async fn archive(&self, id: &str) -> Result<IdOnly, V1Error> {
        let path = Self::agent_path(id, "/archive")?;
        self.post(V1Endpoint::Archive, &path, None, self.timeouts.read)
            .await
    }

    /// `POST /v1/agents/{id}/unarchive` (idempotent).
    pub async fn unarchive(&self, id: &str) -> Result<IdOnly, V1Error> {
        let path = Self::agent_path(id, "/unarchive")?;
        self.post(V1Endpoint::Unarchive, &path, None, self.timeouts.read)
            .await
    }

    /// `POST /v1/agents/{id}/runs`: a follow-up. Never repeated blindly:
    /// a second POST is a second prompt (or `409 agent_busy`).
    pub async fn create_run(&self, id: &str, request: &CreateRunRequest) -> Result<Run, V1Error> {
        let path = Self::agent_path(id, "/runs")?;
        let envelope: RunEnvelope = self
            .post(
                V1Endpoint::CreateRun,
                &path,
                json(request),
                self.timeouts.launch,
            )
            .await?;
        Ok(envelope.into_run())
    }

    /// `GET /v1/agents/{id}/runs`: one page, newest first.
    pub async fn list_runs(
        &self,
        id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Run>, V1Error> {
        let path = Self::agent_path(id, "/runs")?;
        let limit = limit.map(|l| l.to_string());
        let mut query = Vec::new();
        if let Some(l) = &limit {
            query.push(("limit", l.as_str()));
        }
        if let Some(c) = cursor {
            query.push(("cursor", c));
        }
        self.get(V1Endpoint::ListRuns, &path, &query).await
    }

    /// `GET /v1/agents/{id}/runs/{runId}`.
    pub async fn run(&self, id: &str, run: &str) -> Result<Run, V1Error> {
        self.get(V1Endpoint::Run, &Self::run_path(id, run, "")?, &[])
            .await
    }

    /// `POST /v1/agents/{id}/runs/{runId}/cancel`.
    pub async fn cancel_run(&self, id: &str, run: &str) -> Result<IdOnly, V1Error> {
        let path = Self::run_path(id, run, "/cancel")?;
        self.post(V1Endpoint::Cancel, &path, None, self.timeouts.read)
            .await
    }

    /// `GET /v1/agents/{id}/usage[?runId=]`.
    pub async fn usage(&self, id: &str, run: Option<&str>) -> Result<Usage, V1Error> {
        let path = Self::agent_path(id, "/usage")?;
        let query: Vec<(&str, &str)> = run.map(|r| ("runId", r)).into_iter().collect();
        self.get(V1Endpoint::Usage, &path, &query).await
    }

    /// `GET /v1/agents/{id}/artifacts`.
    pub async fn artifacts(&self, id: &str) -> Result<Page<Artifact>, V1Error> {
        let path = Self::agent_path(id, "/artifacts")?;
        self.get(V1Endpoint::Artifacts, &path, &[]).await
    }

    /// `GET /v1/agents/{id}/artifacts/download?path=`: a 15-minute URL.
    pub async fn artifact_download_url(
        &self,
        id: &str,
        path: &str,
    ) -> Result<DownloadUrl, V1Error> {
        let p = Self::agent_path(id, "/artifacts/download")?;
        self.get(V1Endpoint::ArtifactDownload, &p, &[("path", path)])
            .await
    }

    /// `GET /v1/agents/{id}/runs/{runId}/stream`, resuming after
    /// `last_event_id` when given. An error status (409
    /// `stream_unavailable`, 410 `stream_expired`, 400
    /// `invalid_last_event_id`…) is returned as [`V1Error::Status`]. The body
    /// is asked for uncompressed: a compressed event stream is buffered by
    /// whatever decodes it.
    pub async fn stream(
        &self,
        id: &str,
        run: &str,
        last_event_id: Option<&str>,
    ) -> Result<RunStream, V1Error> {
        let endpoint = V1Endpoint::Stream;
        let path = Self::run_path(id, run, "/stream")?;
        let mut request = self
            .request(endpoint, Method::GET, &path, &[])?
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .header(reqwest::header::ACCEPT_ENCODING, "identity")
            .header(reqwest::header::CACHE_CONTROL, "no-cache");
        if let Some(last) = last_event_id.filter(|l| !l.is_empty()) {
            request = request.header("Last-Event-ID", last);
        }
        self.count_request();
        let response = self
            .clock
            .timeout(STREAM_CONNECT_TIMEOUT, request.send())
            .await
            .map_err(|_| V1Error::Timeout { endpoint })?
            .map_err(|e| transport(endpoint, &e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = retry_after(&response);
            let bytes = self
                .clock
                .timeout(self.timeouts.read, read_body(response, endpoint))
                .await
                .map_err(|_| V1Error::Timeout { endpoint })??;
            return Err(V1Error::Status {
                endpoint,
                status,
                body: Box::new(V1Body::parse(&bytes)),
                retry_after,
            });
        }
        let retention_seconds = response
            .headers()
            .get("x-cursor-stream-retention-seconds")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Ok(RunStream {
            response,
            retention_seconds,
        })
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()))
}

fn json(body: &impl Serialize) -> Option<Vec<u8>> {
    Some(serde_json::to_vec(body).expect("request bodies serialize"))
}

fn transport(endpoint: V1Endpoint, e: &reqwest::Error) -> V1Error {
    let message = crate::http::error_chain(e);
    if let Some(tls) = crate::http::certificate_problem(&message) {
        return V1Error::Tls {
            endpoint,
            message: tls,
        };
    }
    V1Error::Transport {
        endpoint,
        maybe_sent: !e.is_connect(),
        message,
    }
}

async fn read_body(
    mut response: reqwest::Response,
    endpoint: V1Endpoint,
) -> Result<Vec<u8>, V1Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport(endpoint, &e))?
    {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(V1Error::Decode {
                endpoint,
                status: response.status().as_u16(),
                message: "response larger than 16 MiB".into(),
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
