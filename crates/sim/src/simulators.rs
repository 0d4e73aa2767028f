//! Both simulators started together on loopback, and linked so Cursor's
//! agents push to the GitHub simulator.

use crate::cursor::{CursorSim, CursorSimConfig};
use crate::github::{GitHubSim, GitHubSimConfig};
use crate::host::RepoHost;
use crate::server::{self, Server};
use kit::clock::Clock;
use std::net::SocketAddr;
use std::sync::Arc;

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
