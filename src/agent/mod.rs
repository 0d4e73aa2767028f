//! THE seam between the flow and Cursor's API versions: launch, reattach,
//! follow up, watch, stop and result, one implementation per version
//! ([`v0`] polls the legacy API, [`v1`] follows a run's stream). The flow,
//! the comment and the outputs see only [`AgentRun`] (the agent as last seen,
//! with the result of its run: `run.rs`) and the neutral types here; no
//! wire type of `cursor_api` leaves the seam.

pub mod v0;
pub mod v1;

mod after_run;
mod error;
mod existence;
mod run;
pub mod usage;
mod watch;

pub use after_run::AfterRun;
pub use error::{ApiError, Failure};
pub use existence::{Existence, GONE_CONFIRM_AFTER, GONE_MIN_AGE, existence};
pub use run::{AgentRun, Status, Tells, page_url};
pub use usage::RunUsage;
pub use watch::{Progress, Watch, WatchEnd, WatchEvent};

use crate::context::Context;
use crate::inputs::{ApiVersion, Inputs};
use crate::plan::LaunchPlan;
use crate::runner::Console;
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
use std::time::Duration;

/// An agent as a scheduled job found it (see [`AgentApi::probe`]).
#[derive(Debug, Clone)]
pub struct Probe {
    /// The agent with its current (latest run's) status, when it exists.
    pub agent: Option<AgentRun>,
    /// Why it cannot take a follow-up (gone, archived, expired), if so.
    pub unavailable: Option<String>,
}

impl Probe {
    /// Still working on a run (an unknown status counts as working: a
    /// second agent on the same files is the worse mistake).
    pub fn is_working(&self) -> bool {
        self.agent.as_ref().is_some_and(|a| !a.status.is_terminal()) && self.unavailable.is_none()
    }
}

/// How a launch failed.
#[derive(Debug)]
pub enum LaunchError {
    /// Cursor refused, or kept failing before the request was processed.
    Failed(ApiError),
    /// An agent may have been created that could not be confirmed.
    Unknown(ApiError),
    /// Cancelled before any request that could create an agent was sent.
    Cancelled,
    /// Cancelled while a create was in flight: an agent may exist.
    CancelledInFlight,
    /// Nothing was created, and the wait Cursor asked for before a retry is
    /// too long or passes `timeout` (which bounds the launch too): `why`.
    WaitRefused { error: ApiError, why: String },
}

/// How sending a follow-up ended.
#[derive(Debug)]
pub enum Followup {
    /// Sent; the agent as read after it.
    Sent(AgentRun),
    /// The agent cannot take it (gone, archived…): launch a new one; the
    /// note says why, for the comment.
    Gone(String),
    /// The agent is busy with another run: wait for it to end, then send.
    Busy,
    /// Cancelled while it was in flight: it may have landed.
    CancelledInFlight,
    /// Failed for good; the agent, if it could be read.
    Failed {
        error: ApiError,
        agent: Option<AgentRun>,
    },
    /// Sent, but the agent could not be read afterwards.
    Unread(Failure),
}

/// How stopping an agent ended. A cancel Cursor refused is never reported
/// as a stop, whatever the agent reads afterwards.
#[derive(Debug, Clone)]
pub enum Stop {
    /// Cursor took the stop; the agent now reads this status.
    Stopped(Status),
    /// The agent had ended by itself (read back after the stop): the agent
    /// as read, with its result, and what the stop was answered, if refused.
    Ended {
        agent: AgentRun,
        refused: Option<String>,
    },
    /// Not stopped, and not known to have ended: why, for the report.
    NotStopped(String),
}

/// An agent API of one version, ready for one trigger (cloned for a watch,
/// which borrows its own handle).
#[derive(Clone)]
pub enum AgentApi {
    V0(v0::V0),
    V1(v1::V1),
}

/// The request a launch sends, as dry-run prints it: the path and the JSON
/// (secrets redacted, long image data abbreviated).
pub fn dry_run_request(
    inputs: &Inputs,
    ctx: &Context,
    plan: &LaunchPlan,
) -> (&'static str, String) {
    match inputs.api_version {
        ApiVersion::V0 => ("/v0/agents", crate::plan::dry_run_json(&plan.request)),
        ApiVersion::V1 => (
            "/v1/agents",
            serde_json::to_string_pretty(&v1::create_request(plan, inputs, ctx))
                .expect("requests serialize"),
        ),
    }
}

/// What the action needs to reach Cursor.
pub struct Setup<'a> {
    pub http: reqwest::Client,
    pub inputs: &'a Inputs,
    pub ctx: &'a Context,
    pub plan: &'a LaunchPlan,
    pub clock: Clock,
    pub cancel: Cancel,
    /// The run's secrets: the client redacts them in its errors too.
    pub redactor: kit::secret::Redactor,
}

impl Setup<'_> {
    /// The Cursor client of API version `V`, for every version alike: the
    /// `api-url` and `cursor-api-key` inputs, the run's secrets redacted.
    fn client<V: cursor_api::Version>(&self) -> cursor_api::Client<V> {
        cursor_api::Client::new(
            self.http.clone(),
            &self.inputs.api_url,
            &self.inputs.api_key,
            cursor_api::AuthScheme::Basic,
            self.clock,
        )
        .redacting(&self.redactor)
    }
}

impl AgentApi {
    pub fn new(setup: Setup<'_>) -> Self {
        match setup.inputs.api_version {
            ApiVersion::V0 => AgentApi::V0(v0::V0::new(setup)),
            ApiVersion::V1 => AgentApi::V1(v1::V1::new(setup)),
        }
    }

    /// The branch the launch asks for, when the action chooses it.
    pub fn planned_branch(&self) -> Option<String> {
        match self {
            AgentApi::V0(a) => a.planned_branch(),
            AgentApi::V1(_) => None,
        }
    }

    /// What this API version can tell about a run.
    pub fn tells(&self) -> Tells {
        match self {
            AgentApi::V0(_) => Tells::V0,
            AgentApi::V1(_) => Tells::V1,
        }
    }

    /// Requests sent to Cursor through this handle and its clones.
    pub fn request_count(&self) -> u64 {
        match self {
            AgentApi::V0(a) => a.request_count(),
            AgentApi::V1(a) => a.request_count(),
        }
    }

    /// The run being followed (v1).
    pub fn run_id(&self) -> Option<String> {
        match self {
            AgentApi::V0(_) => None,
            AgentApi::V1(a) => a.run_id(),
        }
    }

    /// Reads agent `id` (named by a comment's marker, with its run on v1).
    pub async fn reattach(&mut self, id: &str, run: Option<&str>) -> Result<AgentRun, Failure> {
        match self {
            AgentApi::V0(a) => a.get(id).await,
            AgentApi::V1(a) => a.reattach(id, run).await,
        }
    }

    /// Reads agent `id` (its latest run on v1), for a report.
    pub async fn read(&mut self, id: &str) -> Result<AgentRun, Failure> {
        match self {
            AgentApi::V0(a) => a.get(id).await,
            AgentApi::V1(a) => a.reattach(id, None).await,
        }
    }

    /// One read of agent `id`, not stopped by a cancel (for the report
    /// after one, within the caller's budget).
    pub async fn read_uncancelled(&mut self, id: &str) -> Result<AgentRun, ApiError> {
        match self {
            AgentApi::V0(a) => a.read_once(id).await,
            AgentApi::V1(a) => a.read_once(id).await,
        }
    }

    /// A re-run with no comment to go by: this launch's agent from an
    /// earlier attempt, found by the launch's identity.
    pub async fn find_own(&mut self) -> Option<AgentRun> {
        match self {
            AgentApi::V0(a) => a.find_own().await,
            AgentApi::V1(a) => a.find_own().await,
        }
    }

    /// A re-run found its agent ended for good: the next launch must make a
    /// new agent with an identity of its own for this attempt.
    pub fn replace_failed(&mut self, attempt: u32) {
        match self {
            AgentApi::V0(a) => a.replace_failed(attempt),
            AgentApi::V1(a) => a.replace_failed(attempt),
        }
    }

    /// The newest agent of a scheduled job other than this run's own (v1 by
    /// the job tag in its `name`, v0 by the job's part of its branch), from
    /// one page of the agent list.
    pub async fn job_agent(&self, job: &crate::job::Job) -> Result<Option<String>, Failure> {
        match self {
            AgentApi::V0(a) => a.job_agent(job).await,
            AgentApi::V1(a) => a.job_agent(job).await,
        }
    }

    /// Agent `id` as it is now, read only.
    pub async fn probe(&self, id: &str) -> Result<Probe, Failure> {
        match self {
            AgentApi::V0(a) => a.probe(id).await,
            AgentApi::V1(a) => a.probe(id).await,
        }
    }

    /// The next launch works on this pull request's own branch.
    pub fn launch_on_pull(&mut self, pr_url: &str) {
        match self {
            AgentApi::V0(a) => a.launch_on_pull(pr_url),
            AgentApi::V1(a) => a.launch_on_pull(pr_url),
        }
    }

    /// Prints what is about to be launched.
    pub fn print_launch(&self, console: &Console) {
        match self {
            AgentApi::V0(a) => a.print_launch(console),
            AgentApi::V1(a) => a.print_launch(console),
        }
    }

    /// Launches the agent, without ever making two. `adopted`: the create's
    /// answer was lost and the agent it made was found.
    pub async fn launch(&mut self, console: &Console) -> Result<(AgentRun, bool), LaunchError> {
        match self {
            AgentApi::V0(a) => a.launch(console).await,
            AgentApi::V1(a) => a.launch(console).await,
        }
    }

    /// After a cancel during a create: the agent it may have made, looked
    /// up within `budget`. `Err`: why none is known.
    pub async fn find_in_flight(&mut self, budget: Duration) -> Result<AgentRun, String> {
        match self {
            AgentApi::V0(a) => a.find_in_flight(budget).await,
            AgentApi::V1(a) => a.find_in_flight(budget).await,
        }
    }

    /// What to look for in Cursor when a launch in flight cannot be confirmed.
    pub fn in_flight_hint(&self) -> String {
        match self {
            AgentApi::V0(a) => a.in_flight_hint(),
            AgentApi::V1(a) => a.in_flight_hint(),
        }
    }

    /// Sends `text` to agent `id` as a follow-up.
    pub async fn followup(&mut self, id: &str, text: &str) -> Followup {
        match self {
            AgentApi::V0(a) => a.followup(id, text).await,
            AgentApi::V1(a) => a.followup(id, text).await,
        }
    }

    /// Waits (until `deadline`) for agent `id` to be free for a follow-up.
    pub async fn await_idle(&mut self, id: &str, deadline: Moment) -> Result<(), Failure> {
        match self {
            AgentApi::V0(_) => Ok(()),
            AgentApi::V1(a) => a.await_idle(id, deadline).await,
        }
    }

    /// Watches `agent` until it ends, the deadline, or a cancel.
    pub fn watch(&self, agent: &AgentRun, started: Moment, deadline: Moment) -> Watch<'_> {
        match self {
            AgentApi::V0(a) => Watch::V0(Box::new(a.watch(&agent.id, started, deadline))),
            AgentApi::V1(a) => Watch::V1(Box::new(a.watch(agent, started, deadline))),
        }
    }

    /// A summary for an agent that ended without one (v0: its last
    /// assistant message), within `deadline`.
    pub async fn fallback_summary(&self, id: &str, deadline: Moment) -> Option<String> {
        match self {
            AgentApi::V0(a) => a.conversation_summary(id, deadline).await,
            AgentApi::V1(_) => None,
        }
    }

    /// After the run ended: archives agent `id` when `archive-when-done`
    /// asks for it and nothing is queued for it (v1), within `deadline`.
    /// Best effort; `Some`: what happened, for the log.
    pub async fn release(&mut self, id: &str, deadline: Moment) -> Option<String> {
        match self {
            AgentApi::V0(_) => None,
            AgentApi::V1(a) => a.archive_if_done(id, deadline).await,
        }
    }

    /// One attempt series at stopping agent `id` before `deadline` (not
    /// cancelled by the run's cancel: stopping is what a cancel asks for),
    /// and a read back that tells what became of it.
    pub async fn stop(&mut self, id: &str, deadline: Moment) -> Stop {
        match self {
            AgentApi::V0(a) => a.stop(id, deadline).await,
            AgentApi::V1(a) => a.stop(id, deadline).await,
        }
    }
}
