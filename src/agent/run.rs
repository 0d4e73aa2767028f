//! An agent and its latest run as the rest of the action sees them: the one
//! language of the flow, the sweep and the report, whatever the API version.
//! v0 maps its agent into it (`v0/view.rs`), v1 its agent and run
//! (`v1/view.rs`); no wire type of `cursor_api` leaves the seam.
//!
//! What a run costs and what it left (usage, artifacts) are read once it has
//! ended: [`super::AfterRun`] ([`super::RunUsage`],
//! [`crate::artifacts::ArtifactsShown`]).

use std::fmt;
use std::time::Duration;

/// An agent's status as the action tells it: its run's on v1 (where an
/// agent itself is only ACTIVE, IDLE, ARCHIVED or EXPIRED), its own on v0.
/// Open: a status the action does not know is kept, not refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Creating,
    Running,
    Finished,
    Error,
    Expired,
    /// After a v0 `POST /stop`.
    Stopped,
    /// A cancelled v1 run.
    Cancelled,
    Unknown(String),
}

impl Status {
    /// The API's word for it (the `status` output, the comment's status).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Creating => "CREATING",
            Self::Running => "RUNNING",
            Self::Finished => "FINISHED",
            Self::Error => "ERROR",
            Self::Expired => "EXPIRED",
            Self::Stopped => "STOPPED",
            Self::Cancelled => "CANCELLED",
            Self::Unknown(s) => s,
        }
    }

    /// A status the agent will not leave on its own.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Finished | Self::Error | Self::Expired | Self::Stopped | Self::Cancelled
        )
    }

    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown(_))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an API version can tell about a run at all: a `None` it cannot fill
/// is not "unknown yet".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tells {
    /// How long the run took (v1's `durationMs`; v0 has no end time).
    pub duration: bool,
    /// Tokens and cost (v1's usage endpoint).
    pub usage: bool,
    /// What the agent is doing while it works (v1's run stream).
    pub activity: bool,
}

impl Tells {
    pub const V0: Tells = Tells {
        duration: false,
        usage: false,
        activity: false,
    };
    pub const V1: Tells = Tells {
        duration: true,
        usage: true,
        activity: true,
    };
}

/// An agent as last seen, with the result of its latest run (all but the
/// id untrusted: from the API).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRun {
    pub id: String,
    /// Its page in Cursor: the API's when it is a web address, else
    /// Cursor's page for the id.
    pub url: String,
    pub status: Status,
    /// The run's result, as sent (see [`AgentRun::summary`]).
    pub summary: Option<String>,
    /// The branch the agent works on.
    pub branch: Option<String>,
    /// The pull request it opened.
    pub pr_url: Option<String>,
    /// How long the run took, as the API reports it (terminal v1 runs).
    pub duration: Option<Duration>,
    /// What this agent's API version can tell.
    pub tells: Tells,
}

impl AgentRun {
    /// Agent `id` of an API version that `tells`, before anything is known
    /// of its run: each version's view fills in what it read.
    pub fn new(id: &str, tells: Tells) -> Self {
        Self {
            id: id.to_string(),
            url: page_url(id),
            status: Status::Creating,
            summary: None,
            branch: None,
            pr_url: None,
            duration: None,
            tells,
        }
    }

    /// The summary, when it says anything.
    pub fn summary(&self) -> Option<&str> {
        self.summary.as_deref().filter(|s| !s.trim().is_empty())
    }
}

/// Cursor's page for an agent id (for an agent not read, or not yet).
pub fn page_url(id: &str) -> String {
    cursor_api::agent_url(id)
}
