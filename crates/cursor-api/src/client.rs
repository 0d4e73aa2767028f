//! The Cursor v0 API client: one method per endpoint, one attempt per call.
//! Retrying is the caller's decision (see `retry` and `wait`): a launch must
//! never be blindly repeated.

use crate::error::{CursorError, Endpoint, ErrorBody, one_line};
use crate::models::*;
use crate::transport::{AuthScheme, Failed, Transport};
use kit::clock::Clock;
use kit::secret::Secret;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

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

#[derive(Clone, Debug)]
pub struct CursorClient {
    transport: Transport,
    pub timeouts: Timeouts,
}

/// A [`Failed`] exchange in v0 terms.
pub(crate) fn v0_error(endpoint: Endpoint, failed: Failed) -> CursorError {
    match failed {
        Failed::Transport {
            maybe_sent,
            message,
        } => CursorError::Transport {
            endpoint,
            maybe_sent,
            message,
        },
        Failed::Tls(message) => CursorError::Tls { endpoint, message },
        Failed::Timeout => CursorError::Timeout { endpoint },
        Failed::TooLarge { status } => CursorError::Decode {
            endpoint,
            status,
            message: "response larger than 16 MiB".into(),
        },
    }
}

impl CursorClient {
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

    fn agent_path(&self, id: &str, suffix: &str) -> Result<String, CursorError> {
        if !is_valid_agent_id(id) {
            return Err(CursorError::InvalidId {
                id: one_line(self.transport.redactor(), id, 60),
            });
        }
        Ok(format!("/v0/agents/{id}{suffix}"))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<T, CursorError> {
        let request = self
            .transport
            .request(method, path, query)
            .map_err(|message| CursorError::Transport {
                endpoint,
                maybe_sent: false,
                message,
            })?;
        let answer = self
            .transport
            .exchange(request, body, timeout)
            .await
            .map_err(|f| v0_error(endpoint, f))?;
        if !answer.is_success() {
            return Err(CursorError::Status {
                endpoint,
                status: answer.status,
                body: ErrorBody::parse(self.transport.redactor(), &answer.bytes),
                retry_after: answer.retry_after,
            });
        }
        serde_json::from_slice(&answer.bytes).map_err(|e| CursorError::Decode {
            endpoint,
            status: answer.status,
            message: e.to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, CursorError> {
        self.call(endpoint, Method::GET, path, query, None, self.timeouts.read)
            .await
    }

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
        let mut query = Vec::new();
        if let Some(l) = &limit {
            query.push(("limit", l.as_str()));
        }
        if let Some(c) = cursor {
            query.push(("cursor", c));
        }
        if let Some(p) = pr_url {
            query.push(("prUrl", p));
        }
        self.get(Endpoint::ListAgents, "/v0/agents", &query).await
    }

    /// `POST /v0/agents`. Never retried here: a lost answer may still have
    /// created the agent.
    pub async fn launch(&self, request: &LaunchRequest) -> Result<Agent, CursorError> {
        self.call(
            Endpoint::Launch,
            Method::POST,
            "/v0/agents",
            &[],
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
        self.call(
            Endpoint::Followup,
            Method::POST,
            &path,
            &[],
            json(request),
            self.timeouts.read,
        )
        .await
    }

    /// `POST /v0/agents/{id}/stop`.
    pub async fn stop(&self, id: &str) -> Result<IdResponse, CursorError> {
        let path = self.agent_path(id, "/stop")?;
        self.call(
            Endpoint::Stop,
            Method::POST,
            &path,
            &[],
            None,
            self.timeouts.read,
        )
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

fn json(body: &impl Serialize) -> Option<Vec<u8>> {
    Some(serde_json::to_vec(body).expect("request bodies serialize"))
}
