//! The Cursor v1 API client: one method per endpoint, one attempt per call.
//! Retrying is the caller's decision: a create is safe to repeat only with
//! the same `agentId` (a replay answers `409 agent_id_conflict`), a
//! follow-up run never is. What v1 shares with v0 (construction, the
//! request path, errors) is the [`Client`] in `transport`.

use super::error::{V1Body, V1Endpoint, V1Error};
use super::models::*;
use crate::transport::{self, Client, Version, json, page_query};
use bytes::Bytes;
use kit::secret::Redactor;
use reqwest::Method;
use std::time::Duration;

/// Opening a stream may take this long; once open it has no overall limit
/// ("the run stream is long-lived by design"), the follower judges silence.
pub(crate) const STREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The v1 API, as the shared [`Client`] speaks it.
#[derive(Debug, Clone, Copy)]
pub struct V1;

impl Version for V1 {
    type Endpoint = V1Endpoint;
    type Body = Box<V1Body>;
    const PREFIX: &'static str = "/v1";
    fn body(redactor: &Redactor, bytes: &[u8]) -> Box<V1Body> {
        Box::new(V1Body::parse(redactor, bytes))
    }
}

/// The v1 client.
pub type V1Client = Client<V1>;

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
            .map_err(|e| transport::failed(&e).at(V1Endpoint::Stream))
    }
}

impl Client<V1> {
    fn run_path(&self, id: &str, run: &str, suffix: &str) -> Result<String, V1Error> {
        if !is_run_id(run) {
            return Err(self.invalid_id(run));
        }
        self.agent_path(id, &format!("/runs/{run}{suffix}"))
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
        let query = page_query(&limit, cursor);
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
            return Err(self.invalid_id(id));
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
        let query = page_query(&limit, cursor);
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
        let clock = self.clock();
        let response = clock
            .timeout(STREAM_CONNECT_TIMEOUT, request.send())
            .await
            .map_err(|_| V1Error::Timeout { endpoint })?
            .map_err(|e| transport::failed(&e).at(endpoint))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = transport::retry_after(&response);
            let bytes = clock
                .timeout(self.timeouts.read, transport::read_body(response))
                .await
                .map_err(|_| V1Error::Timeout { endpoint })?
                .map_err(|f| f.at(endpoint))?;
            return Err(self.status_error(endpoint, status, &bytes, retry_after));
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
