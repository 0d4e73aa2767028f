//! The Cursor v0 API client: one method per endpoint, one attempt per call.
//! Retrying is the caller's decision (see `retry` and `wait`): a launch must
//! never be blindly repeated. What v0 shares with v1 (construction, the
//! request path, errors) is the [`Client`] in `transport`.

use crate::error::{CursorError, Endpoint, ErrorBody};
use crate::models::*;
use crate::transport::{Client, Version, json, page_query};
use kit::secret::Redactor;
use reqwest::Method;

/// The v0 API, as the shared [`Client`] speaks it.
#[derive(Debug, Clone, Copy)]
pub struct V0;

impl Version for V0 {
    type Endpoint = Endpoint;
    type Body = ErrorBody;
    const PREFIX: &'static str = "/v0";
    fn body(redactor: &Redactor, bytes: &[u8]) -> ErrorBody {
        ErrorBody::parse(redactor, bytes)
    }
}

/// The v0 client.
pub type CursorClient = Client<V0>;

impl Client<V0> {
    /// `GET /v0/me`: the key's name and owner.
    pub async fn me(&self) -> Result<Me, CursorError> {
        self.get(Endpoint::Me, "/v0/me", &[]).await
    }

    /// `GET /v0/models`: recommended model ids (may include "default").
    pub async fn models(&self) -> Result<Models, CursorError> {
        self.get(Endpoint::Models, "/v0/models", &[]).await
    }

    /// `GET /v0/repositories`: rate limited to 1/min; call sparingly.
    pub async fn repositories(&self) -> Result<Repositories, CursorError> {
        self.get(Endpoint::Repositories, "/v0/repositories", &[])
            .await
    }

    /// `GET /v0/agents`: one page, newest first.
    pub async fn list_agents(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
        pr_url: Option<&str>,
    ) -> Result<AgentList, CursorError> {
        let limit = limit.map(|l| l.to_string());
        let mut query = page_query(&limit, cursor);
        if let Some(p) = pr_url {
            query.push(("prUrl", p));
        }
        self.get(Endpoint::ListAgents, "/v0/agents", &query).await
    }

    /// `POST /v0/agents`. Never retried here: a lost answer may still have
    /// created the agent.
    pub async fn launch(&self, request: &LaunchRequest) -> Result<Agent, CursorError> {
        self.post(
            Endpoint::Launch,
            "/v0/agents",
            json(request),
            self.timeouts.launch,
        )
        .await
    }

    /// `GET /v0/agents/{id}`.
    pub async fn agent(&self, id: &str) -> Result<Agent, CursorError> {
        self.get(Endpoint::Agent, &self.agent_path(id, "")?, &[])
            .await
    }

    /// `GET /v0/agents/{id}/conversation`.
    pub async fn conversation(&self, id: &str) -> Result<Conversation, CursorError> {
        self.get(
            Endpoint::Conversation,
            &self.agent_path(id, "/conversation")?,
            &[],
        )
        .await
    }

    /// `POST /v0/agents/{id}/followup`.
    pub async fn followup(
        &self,
        id: &str,
        request: &FollowupRequest,
    ) -> Result<IdResponse, CursorError> {
        let path = self.agent_path(id, "/followup")?;
        self.post(Endpoint::Followup, &path, json(request), self.timeouts.read)
            .await
    }

    /// `POST /v0/agents/{id}/stop`.
    pub async fn stop(&self, id: &str) -> Result<IdResponse, CursorError> {
        let path = self.agent_path(id, "/stop")?;
        self.post(Endpoint::Stop, &path, None, self.timeouts.read)
            .await
    }

    /// `DELETE /v0/agents/{id}`: permanent.
    pub async fn delete(&self, id: &str) -> Result<IdResponse, CursorError> {
        let path = self.agent_path(id, "")?;
        self.call(
            Endpoint::Delete,
            Method::DELETE,
            &path,
            &[],
            None,
            self.timeouts.read,
        )
        .await
    }

    /// `GET /v0/agents/{id}/artifacts`.
    pub async fn artifacts(&self, id: &str) -> Result<Artifacts, CursorError> {
        self.get(
            Endpoint::Artifacts,
            &self.agent_path(id, "/artifacts")?,
            &[],
        )
        .await
    }

    /// `GET /v0/agents/{id}/artifacts/download?path=`: a 15-minute URL.
    pub async fn artifact_download_url(
        &self,
        id: &str,
        path: &str,
    ) -> Result<DownloadUrl, CursorError> {
        let p = self.agent_path(id, "/artifacts/download")?;
        self.get(Endpoint::ArtifactDownload, &p, &[("path", path)])
            .await
    }
}
