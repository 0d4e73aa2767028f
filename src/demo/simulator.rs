//! `cursor-agent-action simulator`: both simulators as a standalone server.

use super::harness::on_runtime;
use anyhow::Context as _;
use kit::cancel::Cancel;
use kit::clock::Clock;
use sim::{CursorSimConfig, GitHubSimConfig, Simulators};
use std::io::Write as _;
use std::net::SocketAddr;

/// Options of `cursor-agent-action simulator`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorOptions {
    pub cursor_port: u16,
    pub github_port: u16,
    pub time_scale: u32,
    pub keys: Vec<String>,
    pub token: Option<String>,
    /// Logins given write permission on every repository.
    pub writers: Vec<String>,
}

impl Default for SimulatorOptions {
    fn default() -> Self {
        Self {
            cursor_port: 0,
            github_port: 0,
            time_scale: 1,
            keys: Vec::new(),
            token: None,
            writers: Vec::new(),
        }
    }
}

/// Runs both simulators until Ctrl-C.
pub fn simulator(options: SimulatorOptions) -> anyhow::Result<u8> {
    on_runtime(async {
        let clock = Clock::scaled(options.time_scale);
        let addr = |port| SocketAddr::from(([127, 0, 0, 1], port));
        let cursor_config = CursorSimConfig {
            keys: (!options.keys.is_empty()).then(|| options.keys.clone()),
            object_errors: false,
        };
        let github_config = GitHubSimConfig {
            token: options.token.clone(),
            ..Default::default()
        };
        let sims = Simulators::start_on(
            addr(options.cursor_port),
            addr(options.github_port),
            clock,
            cursor_config,
            github_config,
        )
        .await
        .context("cannot listen")?;
        // Agents push their branches and open their pull requests on the
        // GitHub port, as they would on GitHub.
        sims.link_repos();
        for login in &options.writers {
            sims.github.set_permission(login, "write");
        }
        // Listen before announcing: a user (or a test) may press Ctrl-C at once.
        let cancel = Cancel::new();
        cancel
            .listen_for_signals()
            .context("cannot listen for Ctrl-C")?;
        let mut out = std::io::stdout().lock();
        // Writes may fail (a closed pipe): the servers run on regardless.
        let _ = writeln!(
            out,
            "Cursor API simulator: {}   (the action's `api-url` input)",
            sims.cursor_url()
        );
        let _ = writeln!(
            out,
            "GitHub API simulator: {}   (GITHUB_API_URL)",
            sims.github_url()
        );
        let _ = writeln!(
            out,
            "API keys: {}. Time runs {}× faster.",
            if options.keys.is_empty() {
                "any".to_string()
            } else {
                options.keys.join(", ")
            },
            options.time_scale
        );
        let _ = writeln!(
            out,
            "Users with write permission: {}; others can read only (grant more with POST /_sim/permissions on the GitHub port).",
            if options.writers.is_empty() {
                "none".to_string()
            } else {
                options.writers.join(", ")
            }
        );
        let _ = writeln!(
            out,
            "Control, Cursor port: POST /_sim/scenarios, POST /_sim/faults, POST /_sim/reset, GET /_sim/requests, GET /_sim/agents."
        );
        let _ = writeln!(
            out,
            "Control, GitHub port: POST /_sim/permissions, POST /_sim/read-only, POST /_sim/faults, GET /_sim/requests, GET /_sim/comments?repo=owner/name&issue=N."
        );
        let _ = writeln!(out, "Press Ctrl-C to stop.");
        let _ = out.flush();
        drop(out);
        cancel.cancelled().await;
        Ok(0)
    })
}
