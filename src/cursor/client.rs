//! The Cursor v0 API client: one method per endpoint, one attempt per call.
//! Retrying is the caller's decision (see `retry` and `wait`): a launch must
//! never be blindly repeated.

use super::error::{CursorError, Endpoint, ErrorBody, parse_retry_after};
use super::models::*;
use crate::clock::Clock;
use crate::secret::Secret;
use base64::Engine as _;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Larger responses are refused: no real answer comes near this.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Basic base64(key + ":")`, as the v0 docs show.
    Basic,
    /// `Authorization: Bearer key`.
    Bearer,
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

#[derive(Clone)]
pub struct CursorClient {
    http: reqwest::Client,
    base: String,
    authorization: Secret,
    clock: Clock,
    pub timeouts: Timeouts,
    /// Requests sent (for the sweep's log).
    requests: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for CursorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CursorClient")
            .field("base", &self.base)
            .finish()
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

    fn agent_path(id: &str, suffix: &str) -> Result<String, CursorError> {
        if !is_valid_agent_id(id) {
            return Err(CursorError::InvalidId { id: id.to_string() });
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
        let mut url = url::Url::parse(&format!("{}{path}", self.base)).map_err(|e| {
            CursorError::Transport {
                endpoint,
                maybe_sent: false,
                message: format!("bad URL: {e}"),
            }
        })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self
            .http
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, self.authorization.expose())
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
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
            let bytes = read_body(response, endpoint).await?;
            Ok::<_, CursorError>((status, retry_after, bytes))
        };
        let (status, retry_after, bytes) = self
            .clock
            .timeout(timeout, attempt)
            .await
            .map_err(|_| CursorError::Timeout { endpoint })??;
        if !(200..300).contains(&status) {
            return Err(CursorError::Status {
                endpoint,
                status,
                body: ErrorBody::parse(&bytes),
                retry_after,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| CursorError::Decode {
            endpoint,
            status,
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
        self.get(Endpoint::Agent, &Self::agent_path(id, "")?, &[])
            .await
    }

    /// `GET /v0/agents/{id}/conversation`.
    pub async fn conversation(&self, id: &str) -> Result<Conversation, CursorError> {
        self.get(
            Endpoint::Conversation,
            &Self::agent_path(id, "/conversation")?,
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
        let path = Self::agent_path(id, "/followup")?;
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
        let path = Self::agent_path(id, "/stop")?;
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
        let path = Self::agent_path(id, "")?;
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
            &Self::agent_path(id, "/artifacts")?,
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
        let p = Self::agent_path(id, "/artifacts/download")?;
        self.get(Endpoint::ArtifactDownload, &p, &[("path", path)])
            .await
    }
}

fn json(body: &impl Serialize) -> Option<Vec<u8>> {
    Some(serde_json::to_vec(body).expect("request bodies serialize"))
}

fn transport(endpoint: Endpoint, e: &reqwest::Error) -> CursorError {
    let message = crate::http::error_chain(e);
    if let Some(tls) = crate::http::certificate_problem(&message) {
        return CursorError::Tls {
            endpoint,
            message: tls,
        };
    }
    CursorError::Transport {
        endpoint,
        // A refused or failed connection never carried the request.
        maybe_sent: !e.is_connect(),
        message,
    }
}

async fn read_body(
    mut response: reqwest::Response,
    endpoint: Endpoint,
) -> Result<Vec<u8>, CursorError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport(endpoint, &e))?
    {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(CursorError::Decode {
                endpoint,
                status: response.status().as_u16(),
                message: "response larger than 16 MiB".into(),
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
