//! Watching an agent: the events a watch tells, and the watch of either version.

use super::AgentRun;
use super::{ApiError, v0, v1};
use std::time::Duration;

/// What the watch has to tell.
#[derive(Debug, Clone)]
pub enum WatchEvent {
    /// The first status seen and every change; the agent as now known.
    Status(AgentRun),
    /// What the agent is doing (v1's run stream; untrusted), for the live
    /// activity. A `Progress(Status)` comes just before the `Status` it
    /// belongs to.
    Progress(Progress),
    Heartbeat {
        elapsed: Duration,
        status: String,
    },
    Retrying {
        error: String,
        wait: Duration,
    },
    /// The live view is given up; the agent is read on the poll schedule.
    FallingBack(String),
    Done(WatchEnd),
}

/// One piece of a run's activity, as the stream told it (all untrusted).
#[derive(Debug, Clone)]
pub enum Progress {
    /// The run's status (its own terms, for the timeline).
    Status(cursor_api::v1::RunStatus),
    /// Assistant text (a delta: concatenate).
    Said(String),
    /// A tool call started or completed.
    Tool {
        call_id: String,
        name: String,
        completed: bool,
        args: Option<serde_json::Value>,
    },
}

/// How watching ended.
#[derive(Debug, Clone)]
pub enum WatchEnd {
    /// A final status; the agent carries the run's result (summary, branch,
    /// pull request). `note`: something the report should say about it.
    Ended {
        agent: AgentRun,
        note: Option<String>,
    },
    Deadline,
    Cancelled,
    Failed(ApiError),
}

/// A watch of one agent (or run), pulled like an iterator.
pub enum Watch<'a> {
    V0(Box<v0::V0Watch<'a>>),
    V1(Box<v1::V1Watch<'a>>),
}

impl Watch<'_> {
    pub async fn next(&mut self) -> WatchEvent {
        match self {
            Watch::V0(w) => w.next().await,
            Watch::V1(w) => w.next().await,
        }
    }

    /// The agent as last seen.
    pub fn last(&self) -> Option<AgentRun> {
        match self {
            Watch::V0(w) => w.last(),
            Watch::V1(w) => w.last().cloned(),
        }
    }
}
