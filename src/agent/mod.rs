//! THE seam between the flow and Cursor's API versions: launch, reattach,
//! follow up, watch, stop and result, one implementation per version
//! ([`v0`] polls the legacy API, [`v1`] follows a run's stream). The flow,
//! the comment and the outputs see only [`Agent`] (the agent as last seen,
//! with the result of its run) and the neutral types here.

pub mod v0;
pub mod v1;

use crate::context::Context;
use crate::inputs::{ApiVersion, Inputs};
use crate::plan::LaunchPlan;
use crate::runner::Console;
use cursor_api::retry::GaveUp;
use cursor_api::v1::V1Error;
use cursor_api::{Agent, AgentStatus, CursorError, ErrorClass};
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
use std::fmt;
use std::time::Duration;

/// Usage is read within this (its own reads take at most ~10 s).
const USAGE_BUDGET: Duration = Duration::from_secs(20);
/// Listing and downloading the artifacts may take at most this long.
const ARTIFACTS_BUDGET: Duration = Duration::from_secs(120);

/// What [`AgentApi::after_run`] found.
#[derive(Debug, Default)]
pub struct AfterRun {
    pub usage: Option<crate::report::usage::UsageReport>,
    pub artifacts: Option<crate::report::ArtifactsShown>,
    /// For the log.
    pub warnings: Vec<String>,
    /// What was still to come when a cancel or its budget cut it short
    /// (`"usage"`, `"artifacts"`); an answer of "none" is not missing.
    pub missing: Vec<&'static str>,
}

impl AfterRun {
    /// The line a final comment shows when something is missing, saying
    /// why (`cancelled`: the workflow run was cancelled, else a budget ran out).
    pub fn missing_line(&self, cancelled: bool) -> Option<String> {
        let what = match self.missing.as_slice() {
            [] => return None,
            [one] => format!("its {one}"),
            _ => format!("its {}", self.missing.join(" and ")),
        };
        let why = if cancelled {
            "the workflow run was cancelled before Cursor reported it"
        } else {
            "Cursor did not report it in time"
        };
        Some(format!(
            "_Not reported: {what} ({why}); the agent's page in Cursor has it._"
        ))
    }
}

/// A failed Cursor call, of either version.
#[derive(Debug, Clone)]
pub enum ApiError {
    V0(CursorError),
    V1(V1Error),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::V0(e) => e.fmt(f),
            ApiError::V1(e) => e.fmt(f),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::V0(e) => e.status(),
            ApiError::V1(e) => e.status(),
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            ApiError::V0(e) => e.class(),
            ApiError::V1(e) => e.class(),
        }
    }

    pub fn maybe_applied(&self) -> bool {
        match self {
            ApiError::V0(e) => e.maybe_applied(),
            ApiError::V1(e) => e.maybe_applied(),
        }
    }

    /// The failure in v0 terms (for the transport checks both share).
    pub fn as_v0(&self) -> CursorError {
        match self {
            ApiError::V0(e) => e.clone(),
            ApiError::V1(e) => e.as_v0(),
        }
    }

    /// What the user can do about it.
    pub fn actionable(&self, repository: &str) -> String {
        match self {
            ApiError::V0(e) => e.actionable(repository),
            ApiError::V1(e) => e.actionable(repository),
        }
    }
}

/// What a failed call says about whether an agent exists (see [`existence`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existence {
    /// Cursor says the agent (or the run a comment names) does not exist,
    /// in so many words; or the id cannot be an agent's. The text says how,
    /// for the report (`HTTP 404 agent_not_found`).
    Gone(String),
    /// A 404 or 410 that does not say so: a wrong `api-url`, a proxy, a
    /// route Cursor does not have. A failure, never "gone".
    Unexplained(String),
    /// Any other failure: it says nothing about the agent.
    Unknown,
}

/// THE rule for "is this agent gone", which every path asks (the sweep,
/// follow-ups on v0 and v1, a scheduled job's previous agent): only an
/// answer in which Cursor says the agent does not exist counts. v1: a 404
/// with `error.code` `agent_not_found` (or `run_not_found` for the run
/// read). v0: a 404 whose body is Cursor's "Agent not found" (as a
/// string or with that code), or a 409 "deleted or archived". A 404 or 410
/// without that (a wrong `api-url`, a proxy's page) is
/// [`Existence::Unexplained`].
///
/// v0 also answers "Agent not found" in an agent's first minute, so the
/// sweep, whose verdict is permanent, believes it only for an agent older
/// than [`GONE_MIN_AGE`] and only when a second read at least
/// [`GONE_CONFIRM_AFTER`] later says the same (see `crate::sweep`).
pub fn existence(e: &ApiError) -> Existence {
    let said = |status: u16, what: &str| format!("HTTP {status} {what}");
    match e {
        ApiError::V1(V1Error::InvalidId { .. }) | ApiError::V0(CursorError::InvalidId { .. }) => {
            Existence::Gone("not a valid agent id".into())
        }
        ApiError::V1(v1) => match (v1.status(), v1.code()) {
            (Some(404), Some(code @ ("agent_not_found" | "run_not_found"))) => {
                Existence::Gone(said(404, code))
            }
            (Some(status @ (404 | 410)), code) => Existence::Unexplained(said(
                status,
                // The client redacted the code when it parsed the body.
                &code.map_or("without an error code".to_string(), |c| {
                    cursor_api::one_line(&kit::secret::Redactor::default(), c, 40)
                }),
            )),
            _ => Existence::Unknown,
        },
        ApiError::V0(CursorError::Status { status, body, .. }) => {
            let says = |needle: &str| {
                [&body.message, &body.code].iter().any(|t| {
                    t.as_deref()
                        .is_some_and(|t| t.to_ascii_lowercase().contains(needle))
                })
            };
            match *status {
                404 if body.code.as_deref() == Some("agent_not_found")
                    || says("agent not found") =>
                {
                    Existence::Gone(said(404, "agent not found"))
                }
                409 if says("deleted") || says("archived") => {
                    Existence::Gone(said(409, "deleted or archived"))
                }
                status @ (404 | 410) => {
                    Existence::Unexplained(said(status, "without \"Agent not found\""))
                }
                _ => Existence::Unknown,
            }
        }
        ApiError::V0(_) => Existence::Unknown,
    }
}

/// The sweep never believes "gone" of an agent younger than this (v0
/// answers 404 in an agent's first minute).
pub const GONE_MIN_AGE: Duration = Duration::from_secs(5 * 60);
/// …and only when a second read at least this much later says it again.
pub const GONE_CONFIRM_AFTER: Duration = Duration::from_secs(60);

/// Why a retried read gave up.
#[derive(Debug)]
pub enum Failure {
    Failed(ApiError),
    Deadline(Option<ApiError>),
    Cancelled,
}

impl Failure {
    pub fn describe(&self) -> String {
        match self {
            Failure::Failed(e) => e.to_string(),
            Failure::Deadline(Some(e)) => format!("gave up: {e}"),
            Failure::Deadline(None) => "timed out".into(),
            Failure::Cancelled => "cancelled".into(),
        }
    }
}

impl From<GaveUp> for Failure {
    fn from(g: GaveUp) -> Self {
        match g {
            GaveUp::Failed(e) => Failure::Failed(ApiError::V0(e)),
            GaveUp::Deadline(e) => Failure::Deadline(e.map(ApiError::V0)),
            GaveUp::Cancelled => Failure::Cancelled,
        }
    }
}

/// An agent as a scheduled job found it (see [`AgentApi::probe`]).
#[derive(Debug, Clone)]
pub struct Probe {
    /// The agent with its current (latest run's) status, when it exists.
    pub agent: Option<Agent>,
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
    Sent(Agent),
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
        agent: Option<Agent>,
    },
    /// Sent, but the agent could not be read afterwards.
    Unread(Failure),
}

/// What the watch has to tell.
#[derive(Debug, Clone)]
pub enum WatchEvent {
    /// The first status seen and every change; the agent as now known.
    Status(Agent),
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
#[expect(
    clippy::large_enum_variant,
    reason = "made once per watch and moved, never stored in bulk: boxing the agent buys nothing"
)]
pub enum WatchEnd {
    /// A final status; the agent carries the run's result (summary, branch,
    /// pull request). `note`: something the report should say about it.
    Ended {
        agent: Agent,
        note: Option<String>,
    },
    Deadline,
    Cancelled,
    Failed(ApiError),
}

/// How stopping an agent ended. A cancel Cursor refused is never reported
/// as a stop, whatever the agent reads afterwards.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "made once per stop and matched at once, never stored in bulk"
)]
pub enum Stop {
    /// Cursor took the stop; the agent now reads this status.
    Stopped(AgentStatus),
    /// The agent had ended by itself (read back after the stop): the agent
    /// as read, with its result, and what the stop was answered, if refused.
    Ended {
        agent: Agent,
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
    pub fn last(&self) -> Option<&Agent> {
        match self {
            Watch::V0(w) => w.last(),
            Watch::V1(w) => w.last(),
        }
    }
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
    pub async fn reattach(&mut self, id: &str, run: Option<&str>) -> Result<Agent, Failure> {
        match self {
            AgentApi::V0(a) => a.get(id).await,
            AgentApi::V1(a) => a.reattach(id, run).await,
        }
    }

    /// Reads agent `id` (its latest run on v1), for a report.
    pub async fn read(&mut self, id: &str) -> Result<Agent, Failure> {
        match self {
            AgentApi::V0(a) => a.get(id).await,
            AgentApi::V1(a) => a.reattach(id, None).await,
        }
    }

    /// One read of agent `id`, not stopped by a cancel (for the report
    /// after one, within the caller's budget).
    pub async fn read_uncancelled(&mut self, id: &str) -> Result<Agent, ApiError> {
        match self {
            AgentApi::V0(a) => a.read_once(id).await,
            AgentApi::V1(a) => a.read_once(id).await,
        }
    }

    /// A re-run with no comment to go by: this launch's agent from an
    /// earlier attempt, found by the launch's identity.
    pub async fn find_own(&mut self) -> Option<Agent> {
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
    pub async fn launch(&mut self, console: &Console) -> Result<(Agent, bool), LaunchError> {
        match self {
            AgentApi::V0(a) => a.launch(console).await,
            AgentApi::V1(a) => a.launch(console).await,
        }
    }

    /// After a cancel during a create: the agent it may have made, looked
    /// up within `budget`. `Err`: why none is known.
    pub async fn find_in_flight(&mut self, budget: Duration) -> Result<Agent, String> {
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
    pub fn watch(&self, agent: &Agent, started: Moment, deadline: Moment) -> Watch<'_> {
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

    /// What a waiting run and a sweep both report after a run ended: its
    /// usage and its artifacts, each within a small budget and given up at
    /// once on `cancel`. Problems are warnings; the outcome stays the run's.
    pub async fn after_run(
        &self,
        id: &str,
        workspace: &std::path::Path,
        download_dir: Option<&str>,
        upload_url: Option<&str>,
        github_host: &str,
        cancel: &Cancel,
    ) -> AfterRun {
        let clock = match self {
            AgentApi::V0(a) => a.clock(),
            AgentApi::V1(a) => a.clock(),
        };
        let mut missing = Vec::new();
        // `None`: cut short (a cancel or the budget), not an answer.
        let usage = tokio::select! {
            // Biased: v0's answer ("none") is ready at once, even after a cancel.
            biased;
            u = clock.timeout(USAGE_BUDGET, self.usage(id)) => u.ok(),
            _ = cancel.cancelled() => None,
        };
        if usage.is_none() {
            missing.push("usage");
        }
        let usage = usage.flatten();
        let mut warnings = Vec::new();
        let gathered = if cancel.is_cancelled() {
            None
        } else {
            tokio::select! {
                g = clock.timeout(
                    ARTIFACTS_BUDGET,
                    self.artifacts(id, workspace, download_dir, upload_url, github_host),
                ) => g.ok(),
                _ = cancel.cancelled() => None,
            }
        };
        let artifacts = match gathered {
            Some(g) => {
                warnings.extend(g.warnings);
                g.shown
            }
            None => {
                missing.push("artifacts");
                if !cancel.is_cancelled() {
                    warnings.push(format!(
                        "Gathering the agent's artifacts took longer than {}; they are not reported.",
                        crate::report::human_duration(ARTIFACTS_BUDGET)
                    ));
                }
                None
            }
        };
        AfterRun {
            usage,
            artifacts,
            warnings,
            missing,
        }
    }

    /// The run's token usage (and cost, when told), read after it ended;
    /// `None` when unknown (v0 has none). Never longer than
    /// [`crate::report::usage::USAGE_BUDGET`] plus one read.
    pub async fn usage(&self, id: &str) -> Option<crate::report::usage::UsageReport> {
        match self {
            AgentApi::V0(_) => None,
            AgentApi::V1(a) => a.usage(id).await,
        }
    }

    /// Lists agent `id`'s artifacts and, with `download_dir`, downloads
    /// them under `workspace` (see [`crate::artifacts::gather`]).
    pub async fn artifacts(
        &self,
        id: &str,
        workspace: &std::path::Path,
        download_dir: Option<&str>,
        upload_url: Option<&str>,
        github_host: &str,
    ) -> crate::artifacts::Gathered {
        let (api, http, clock) = match self {
            AgentApi::V0(a) => (a.artifact_api(), a.http(), a.clock()),
            AgentApi::V1(a) => (a.artifact_api(), a.http(), a.clock()),
        };
        crate::artifacts::gather(
            api,
            http,
            id,
            workspace,
            download_dir,
            upload_url,
            github_host,
            clock,
        )
        .await
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

#[cfg(test)]
mod tests {
    use super::*;
    use cursor_api::v1::{V1Body, V1Endpoint};
    use cursor_api::{Endpoint, ErrorBody};

    fn v1(status: u16, body: &str) -> ApiError {
        ApiError::V1(V1Error::Status {
            endpoint: V1Endpoint::Agent,
            status,
            body: Box::new(V1Body::parse(&Default::default(), body.as_bytes())),
            retry_after: None,
        })
    }

    fn v0(status: u16, body: &str) -> ApiError {
        ApiError::V0(CursorError::Status {
            endpoint: Endpoint::Agent,
            status,
            body: ErrorBody::parse(&Default::default(), body.as_bytes()),
            retry_after: None,
        })
    }

    #[test]
    fn only_cursor_saying_so_makes_an_agent_gone() {
        let page = "<html><body><h1>404 Not Found</h1></body></html>";
        let gone = |e: &ApiError| matches!(existence(e), Existence::Gone(_));
        let unexplained = |e: &ApiError| matches!(existence(e), Existence::Unexplained(_));
        // Cursor's own answers (the shapes of cursor-api.md §3.4, §8.7).
        assert!(gone(&v1(
            404,
            r#"{"error":{"code":"agent_not_found","message":"Agent not found"}}"#
        )));
        assert!(gone(&v1(
            404,
            r#"{"error":{"code":"run_not_found","message":"Run not found"}}"#
        )));
        assert!(gone(&v0(
            404,
            r#"{"error":"Agent not found or access denied"}"#
        )));
        assert!(gone(&v0(
            404,
            r#"{"error":{"code":"agent_not_found","message":"x"}}"#
        )));
        assert!(gone(&v0(
            409,
            r#"{"error":"Conflict - agent is deleted or archived"}"#
        )));
        // Not Cursor's answer: a proxy, another server, a route Cursor lacks.
        for e in [
            v1(404, page),
            v1(
                404,
                r#"{"error":{"code":"not_found","message":"Not found"}}"#,
            ),
            v1(410, page),
            v0(404, page),
            v0(404, r#"{"error":"Not found"}"#),
            v0(410, ""),
        ] {
            assert!(unexplained(&e), "{e}");
        }
        // Anything else says nothing about the agent.
        assert_eq!(existence(&v1(500, page)), Existence::Unknown);
        assert_eq!(
            existence(&v0(403, r#"{"error":"Agent not found"}"#)),
            Existence::Unknown
        );
        assert_eq!(
            existence(&v1(
                409,
                r#"{"error":{"code":"agent_archived","message":"x"}}"#
            )),
            Existence::Unknown
        );
    }
}
