//! Simulators of the Cursor v0 API and of the GitHub REST calls the action
//! makes: for tests, the `demo` command, and users who want to try a
//! workflow without a key or network (`cursor-agent-action simulator`).

pub mod cursor;
pub mod cursor_v1;
pub mod faults;
pub mod github;
pub mod host;
pub mod server;
/// Timestamps as the simulated APIs write them (the action's own formatter).
pub use crate::rfc3339 as time;

use crate::clock::Clock;
pub use cursor::{
    CursorSim, CursorSimConfig, EndStatus, HOSTILE_SUMMARY, Refusal, Scenario, SimArtifact,
};
pub use cursor_v1::{V1Scenario, V1Sim};
pub use faults::{Fault, FaultRule};
pub use github::{
    GhComment, GhPull, GhUser, GitHubSim, GitHubSimConfig, LOG_LINK_TTL, ReactionTarget,
    SimAnnotation, SimJob, SimStep,
};
pub use host::RepoHost;
use serde::{Deserialize, Serialize};
use server::{Reply, Request, Server};
use std::net::SocketAddr;
use std::sync::Arc;

/// One request as a simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
    /// The status sent back; 0 when the connection was dropped or stalled.
    pub status: u16,
    /// The injected fault, if any.
    pub fault: Option<String>,
    /// When it arrived, in the simulator's clock (milliseconds from start).
    pub at_ms: u64,
    /// The same, in microseconds.
    pub at_us: u64,
}

pub(crate) fn log_entry(
    request: &Request,
    reply: &Reply,
    fault: Option<&Fault>,
    at: crate::clock::Moment,
) -> LoggedRequest {
    LoggedRequest {
        at_ms: at.since_start().as_millis() as u64,
        at_us: at.since_start().as_micros() as u64,
        method: request.method.to_string(),
        path: request.path.clone(),
        query: request.raw_query.clone(),
        body: String::from_utf8_lossy(&request.body).into_owned(),
        status: reply.status(),
        fault: fault.map(|f| format!("{f:?}")),
    }
}

/// Both simulators, serving on loopback.
pub struct Simulators {
    pub cursor: Arc<CursorSim>,
    pub github: Arc<GitHubSim>,
    cursor_server: Server,
    github_server: Server,
}

impl Simulators {
    /// Starts both on free loopback ports.
    pub async fn start(clock: Clock) -> std::io::Result<Self> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(
            any,
            any,
            clock,
            CursorSimConfig::default(),
            GitHubSimConfig::default(),
        )
        .await
    }

    pub async fn start_on(
        cursor_addr: SocketAddr,
        github_addr: SocketAddr,
        clock: Clock,
        cursor_config: CursorSimConfig,
        github_config: GitHubSimConfig,
    ) -> std::io::Result<Self> {
        let cursor = Arc::new(CursorSim::new(clock, cursor_config));
        let github = Arc::new(GitHubSim::new(clock, github_config));
        let cursor_server = server::serve(cursor_addr, cursor.clone(), clock).await?;
        let github_server = server::serve(github_addr, github.clone(), clock).await?;
        Ok(Self {
            cursor,
            github,
            cursor_server,
            github_server,
        })
    }

    /// Makes the GitHub simulator the repository host of both Cursor
    /// simulators (v0 and v1): agents push their branches and open their
    /// pull requests there, and report those pull requests' URLs. Before
    /// each GitHub request, agents catch up on what they did by then.
    pub fn link_repos(&self) {
        let host: Arc<dyn RepoHost> = self.github.clone();
        self.cursor.set_host(host.clone());
        self.cursor.v1().set_host(host);
        let cursor = Arc::downgrade(&self.cursor);
        self.github.set_sync_hook(move || {
            if let Some(c) = cursor.upgrade() {
                c.settle();
            }
        });
    }

    /// The `api-url` input for the Cursor simulator.
    pub fn cursor_url(&self) -> String {
        self.cursor_server.url()
    }

    /// `GITHUB_API_URL` for the GitHub simulator.
    pub fn github_url(&self) -> String {
        self.github_server.url()
    }
}
