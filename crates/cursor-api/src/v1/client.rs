//! The Cursor v1 API client: one method per endpoint, one attempt per call.
//! Retrying is the caller's decision: a create is safe to repeat only with
//! the same `agentId` (a replay answers `409 agent_id_conflict`), a
//! follow-up run never is.

use super::error::{V1Body, V1Endpoint, V1Error};
use super::models::*;
use crate::client::Timeouts;
use crate::error::one_line;
use crate::transport::AuthScheme;
use crate::transport::{self, Failed, Transport};
use bytes::Bytes;
use kit::clock::Clock;
use kit::secret::Secret;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Opening a stream may take this long; once open it has no overall limit
/// ("the run stream is long-lived by design"), the follower judges silence.
pub(crate) const STREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct V1Client {
    transport: Transport,
    pub timeouts: Timeouts,
}

/// A [`Failed`] exchange in v1 terms.
fn v1_error(endpoint: V1Endpoint, failed: Failed) -> V1Error {
    match failed {
        Failed::Transport {
            maybe_sent,
            message,
        } => V1Error::Transport {
            endpoint,
            maybe_sent,
            message,
        },
        Failed::Tls(message) => V1Error::Tls { endpoint, message },
        Failed::Timeout => V1Error::Timeout { endpoint },
        Failed::TooLarge { status } => V1Error::Decode {
            endpoint,
            status,
            message: "response larger than 16 MiB".into(),
        },
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
            .map_err(|e| v1_error(V1Endpoint::Stream, transport::failed(&e)))
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
        Self {
            transport: Transport::new(http, base, key, scheme, clock),
            timeouts: Timeouts::default(),
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
    pub fn redacting(mut self, secrets: &kit::secret::Redactor) -> Self {
        self.transport.redacting(secrets);
        self
    }

    /// The redactor that knows this client's key (and the secrets it was
    /// given).
    pub fn redactor(&self) -> &kit::secret::Redactor {
        self.transport.redactor()
    }

    fn agent_path(&self, id: &str, suffix: &str) -> Result<String, V1Error> {
        if !crate::models::is_valid_agent_id(id) {
            return Err(V1Error::InvalidId {
                id: one_line(self.transport.redactor(), id, 60),
            });
        }
        Ok(format!("/v1/agents/{id}{suffix}"))
    }

    fn run_path(&self, id: &str, run: &str, suffix: &str) -> Result<String, V1Error> {
        if !is_run_id(run) {
            return Err(V1Error::InvalidId {
                id: one_line(self.transport.redactor(), run, 60),
            });
        }
        self.agent_path(id, &format!("/runs/{run}{suffix}"))
    }

    fn request(
        &self,
        endpoint: V1Endpoint,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<reqwest::RequestBuilder, V1Error> {
        self.transport
            .request(method, path, query)
            .map_err(|message| V1Error::Transport {
                endpoint,
                maybe_sent: false,
                message,
            })
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
        let request = self.request(endpoint, method, path, query)?;
        let answer = self
            .transport
            .exchange(request, body, timeout)
            .await
            .map_err(|f| v1_error(endpoint, f))?;
        if !answer.is_success() {
            return Err(V1Error::Status {
                endpoint,
                status: answer.status,
                body: Box::new(V1Body::parse(self.transport.redactor(), &answer.bytes)),
                retry_after: answer.retry_after,
            });
        }
        serde_json::from_slice(&answer.bytes).map_err(|e| V1Error::Decode {
            endpoint,
            status: answer.status,
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
            return Err(V1Error::InvalidId {
                id: one_line(self.transport.redactor(), id, 60),
            });
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
        self.get(V1Endpoint::Agent, &self.agent_path(id, "")?, &[])
            .await
    }

    /// `POST /v1/agents/{id}/archive` (idempotent).
    pub async fn archive(&self, id: &str) -> Result<IdOnly, V1Error> {
        let path = self.agent_path(id, "/archive")?;
        self.post(V1Endpoint::Archive, &path, None, self.timeouts.read)
            .await
    }

    /// `POST /v1/agents/{id}/unarchive` (idempotent).
    pub async fn unarchive(&self, id: &str) -> Result<IdOnly, V1Error> {
        let path = self.agent_path(id, "/unarchive")?;
        self.post(V1Endpoint::Unarchive, &path, None, self.timeouts.read)
            .await
    }

    /// `POST /v1/agents/{id}/runs`: a follow-up. Never repeated blindly:
    /// a second POST is a second prompt (or `409 agent_busy`).
    pub async fn create_run(&self, id: &str, request: &CreateRunRequest) -> Result<Run, V1Error> {
        let path = self.agent_path(id, "/runs")?;
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
        let path = self.agent_path(id, "/runs")?;
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
        self.get(V1Endpoint::Run, &self.run_path(id, run, "")?, &[])
            .await
    }

    /// `POST /v1/agents/{id}/runs/{runId}/cancel`.
    pub async fn cancel_run(&self, id: &str, run: &str) -> Result<IdOnly, V1Error> {
        let path = self.run_path(id, run, "/cancel")?;
        self.post(V1Endpoint::Cancel, &path, None, self.timeouts.read)
            .await
    }

    /// `GET /v1/agents/{id}/usage[?runId=]`.
    pub async fn usage(&self, id: &str, run: Option<&str>) -> Result<Usage, V1Error> {
        let path = self.agent_path(id, "/usage")?;
        let query: Vec<(&str, &str)> = run.map(|r| ("runId", r)).into_iter().collect();
        self.get(V1Endpoint::Usage, &path, &query).await
    }

    /// `GET /v1/agents/{id}/artifacts`.
    pub async fn artifacts(&self, id: &str) -> Result<Page<Artifact>, V1Error> {
        let path = self.agent_path(id, "/artifacts")?;
        self.get(V1Endpoint::Artifacts, &path, &[]).await
    }

    /// `GET /v1/agents/{id}/artifacts/download?path=`: a 15-minute URL.
    pub async fn artifact_download_url(
        &self,
        id: &str,
        path: &str,
    ) -> Result<DownloadUrl, V1Error> {
        let p = self.agent_path(id, "/artifacts/download")?;
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
        let path = self.run_path(id, run, "/stream")?;
        let mut request = self
            .request(endpoint, Method::GET, &path, &[])?
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .header(reqwest::header::ACCEPT_ENCODING, "identity")
            .header(reqwest::header::CACHE_CONTROL, "no-cache");
        if let Some(last) = last_event_id.filter(|l| !l.is_empty()) {
            request = request.header("Last-Event-ID", last);
        }
        let clock = self.transport.clock();
        let response = clock
            .timeout(STREAM_CONNECT_TIMEOUT, request.send())
            .await
            .map_err(|_| V1Error::Timeout { endpoint })?
            .map_err(|e| v1_error(endpoint, transport::failed(&e)))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = transport::retry_after(&response);
            let bytes = clock
                .timeout(self.timeouts.read, transport::read_body(response))
                .await
                .map_err(|_| V1Error::Timeout { endpoint })?
                .map_err(|f| v1_error(endpoint, f))?;
            return Err(V1Error::Status {
                endpoint,
                status,
                body: Box::new(V1Body::parse(self.transport.redactor(), &bytes)),
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

fn json(body: &impl Serialize) -> Option<Vec<u8>> {
    Some(serde_json::to_vec(body).expect("request bodies serialize"))
}
