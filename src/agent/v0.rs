//! The legacy v0 API: an agent's identity is its (derived) branch name, a
//! lost launch is found again by listing, waiting is polling, a follow-up is
//! confirmed by the conversation.

pub mod view;

use super::{
    AgentRun, ApiError, Failure, Followup, LaunchError, Setup, Status, WatchEnd, WatchEvent,
};
use crate::launch::{self, Adoption};
use crate::runner::Console;
use cursor_api::retry::{Backoff, FollowupRetry, GaveUp, followup_retry, retry_idempotent};
use cursor_api::wait::schedule::PollSchedule;
use cursor_api::wait::{WaitConfig, WaitEnd, WaitEvent, Waiter};
use cursor_api::{CursorClient, FollowupRequest, LaunchRequest, MessageKind, Prompt};
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
use std::time::Duration;

#[derive(Clone)]
pub struct V0 {
    cursor: CursorClient,
    /// For artifact downloads (presigned URLs, no Cursor credentials).
    http: reqwest::Client,
    clock: Clock,
    cancel: Cancel,
    repository: String,
    /// The request to launch: the plan's, or with a fresh branch when a
    /// re-run replaces a failed agent.
    request: LaunchRequest,
    /// Which listed agents may be taken for this run's own.
    adoption: Adoption,
    /// Whether the branch is derived (only then can a re-run find its
    /// agent by it: a fixed `branch-name` is shared across runs).
    derived_branch: bool,
    run_attempt: u32,
    schedule: PollSchedule,
    /// `timeout`: bounds the launch as well as the wait.
    timeout: Duration,
}

impl V0 {
    pub fn new(setup: Setup<'_>) -> Self {
        let cursor: CursorClient = setup.client();
        let inputs = setup.inputs;
        Self {
            cursor,
            http: setup.http.clone(),
            clock: setup.clock,
            cancel: setup.cancel,
            repository: setup.plan.repository.clone(),
            request: setup.plan.request.clone(),
            adoption: Adoption {
                // A fixed `branch-name` is shared across runs: only an agent
                // created since this step started can be this run's. A
                // derived branch carries the run id, so it is unique.
                not_before: inputs.branch_name.as_ref().map(|_| {
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0)
                }),
            },
            derived_branch: inputs.branch_name.is_none(),
            run_attempt: setup.ctx.run_attempt,
            schedule: PollSchedule::new(inputs.poll_interval, inputs.max_poll_interval),
            timeout: inputs.timeout,
        }
    }

    pub fn request_count(&self) -> u64 {
        self.cursor.request_count()
    }

    pub fn artifact_api(&self) -> crate::artifacts::ArtifactApi<'_> {
        crate::artifacts::ArtifactApi::V0(&self.cursor)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    pub fn planned_branch(&self) -> Option<String> {
        self.request.target.branch_name.clone()
    }

    pub async fn get(&self, id: &str) -> Result<AgentRun, Failure> {
        let clock = self.clock;
        retry_idempotent(
            &clock,
            clock.now() + Duration::from_secs(120),
            &self.cancel,
            5,
            &Backoff::default(),
            || self.cursor.agent(id),
        )
        .await
        .map(view::view)
        .map_err(Failure::from)
    }

    pub async fn read_once(&self, id: &str) -> Result<AgentRun, ApiError> {
        self.cursor
            .agent(id)
            .await
            .map(view::view)
            .map_err(ApiError::V0)
    }

    pub async fn find_own(&self) -> Option<AgentRun> {
        if self.run_attempt <= 1 || !self.derived_branch {
            return None;
        }
        // Derived from the run id, so no other run's agent can match.
        let cancel = self.cancel.clone();
        tokio::select! {
            r = launch::find_existing(&self.cursor, &self.request, self.adoption) => r.ok().flatten().map(view::view),
            _ = cancel.cancelled() => None,
        }
    }

    pub fn replace_failed(&mut self, attempt: u32) {
        // A fresh branch: the old one holds the failed agent's work.
        if self.derived_branch
            && let Some(branch) = &mut self.request.target.branch_name
        {
            branch.push_str(&format!("-attempt-{attempt}"));
        }
    }

    /// The newest agent of `job` other than this run's own (by its branch).
    /// A fixed `branch-name` is every night's branch, not this run's own:
    /// its agents all count (a re-run's own agent was reattached already).
    /// An agent still CREATING on this repository and ref whose branch is
    /// not listed yet may be the job's previous one: it counts too, so the
    /// run skips rather than launch a second agent (one agent at a time).
    pub async fn job_agent(&self, job: &crate::job::Job) -> Result<Option<String>, Failure> {
        let clock = self.clock;
        let own = self
            .request
            .target
            .branch_name
            .clone()
            .filter(|_| self.derived_branch);
        let page = retry_idempotent(
            &clock,
            clock.now() + Duration::from_secs(60),
            &self.cancel,
            4,
            &Backoff::default(),
            || self.cursor.list_agents(Some(100), None, None),
        )
        .await
        .map_err(Failure::from)?;
        Ok(page
            .agents
            .iter()
            .find(|a| {
                a.target
                    .branch_name
                    .as_deref()
                    .is_some_and(|b| job.is_job_branch(b) && Some(b) != own.as_deref())
                    || launch::may_be_creating_for(a, &self.request)
            })
            .map(|a| a.id.clone()))
    }

    /// Agent `id` as it is now; `unavailable`: why it cannot take a
    /// follow-up (deleted, expired).
    pub async fn probe(&self, id: &str) -> Result<super::Probe, Failure> {
        match self.get(id).await {
            Ok(agent) => Ok(super::Probe {
                unavailable: (agent.status == Status::Expired)
                    .then(|| format!("agent {id} has expired")),
                agent: Some(agent),
            }),
            Err(Failure::Failed(e)) => match super::existence(&e) {
                super::Existence::Gone(how) => Ok(super::Probe {
                    agent: None,
                    unavailable: Some(format!("agent {id} is gone ({how})")),
                }),
                _ => Err(Failure::Failed(e)),
            },
            Err(e) => Err(e),
        }
    }

    /// Launches on the pull request's own branch instead (v0 `source.prUrl`
    /// with `autoBranch: false`); a lost launch is then looked up by it.
    pub fn launch_on_pull(&mut self, pr_url: &str) {
        self.request.source = cursor_api::AgentSource {
            pr_url: Some(pr_url.to_string()),
            ..Default::default()
        };
        self.request.target.branch_name = None;
        self.request.target.auto_branch = Some(false);
        self.derived_branch = false;
    }

    pub fn print_launch(&self, console: &Console) {
        let request = &self.request;
        console.group(&format!("Launching a Cursor agent on {}", self.repository));
        match (&request.source.git_ref, &request.source.pr_url) {
            (_, Some(pr)) => console.info(&format!("Pull request: {pr}")),
            (Some(r), None) => console.info(&format!("Ref: {r}")),
            (None, None) => console.info("Ref: the repository's default branch"),
        }
        if let Some(branch) = &request.target.branch_name {
            console.info(&format!("Branch: {branch}"));
        }
        if let Some(model) = &request.model {
            console.info(&format!("Model: {model}"));
        }
        console.info(&format!(
            "Prompt ({} characters, {} image(s)):",
            request.prompt.text.chars().count(),
            request.prompt.images.len()
        ));
        console.untrusted_block(&request.prompt.text);
        console.endgroup();
    }

    pub async fn launch(&mut self, console: &Console) -> Result<(AgentRun, bool), LaunchError> {
        match launch::launch(
            &self.cursor,
            &self.clock,
            &self.cancel,
            console,
            &self.request,
            self.adoption,
            self.clock.now() + self.timeout,
        )
        .await
        {
            Ok((agent, launched)) => Ok((view::view(agent), launched.adopted)),
            Err(launch::LaunchError::Cancelled) => Err(LaunchError::Cancelled),
            Err(launch::LaunchError::CancelledInFlight) => Err(LaunchError::CancelledInFlight),
            Err(launch::LaunchError::Failed(e)) => Err(LaunchError::Failed(ApiError::V0(e))),
            Err(launch::LaunchError::Unknown(e)) => Err(LaunchError::Unknown(ApiError::V0(e))),
            Err(launch::LaunchError::WaitRefused { error, why }) => Err(LaunchError::WaitRefused {
                error: ApiError::V0(error),
                why,
            }),
        }
    }

    pub async fn find_in_flight(&self, budget: Duration) -> Result<AgentRun, String> {
        let found = self
            .clock
            .timeout(
                budget,
                launch::find_existing(&self.cursor, &self.request, self.adoption),
            )
            .await;
        match found {
            Ok(Ok(Some(agent))) => Ok(view::view(agent)),
            Ok(Ok(None)) => Err("none was found yet".to_string()),
            Ok(Err(e)) => Err(format!("the lookup failed: {e}")),
            Err(_) => Err("the lookup did not answer in time".to_string()),
        }
    }

    pub fn in_flight_hint(&self) -> String {
        let branch = self
            .request
            .target
            .branch_name
            .as_deref()
            .map(|b| format!(" on branch `{b}`"))
            .unwrap_or_default();
        format!("Check https://cursor.com/agents for an agent{branch}")
    }

    pub async fn followup(&self, id: &str, text: &str) -> Followup {
        // The `images` input goes with a follow-up as with a launch.
        let request = FollowupRequest {
            prompt: Prompt {
                text: text.to_string(),
                images: self.request.prompt.images.clone(),
            },
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = tokio::select! {
                r = self.cursor.followup(id, &request) => r,
                _ = self.cancel.cancelled() => return Followup::CancelledInFlight,
            };
            let error = match result {
                Ok(_) => break,
                Err(e) => e,
            };
            if let super::Existence::Gone(how) = super::existence(&ApiError::V0(error.clone())) {
                return Followup::Gone(format!(
                    "The agent {id} this issue was using is gone ({how}), so a new agent was launched."
                ));
            }
            // A lost answer: the conversation shows whether the follow-up landed.
            if error.maybe_applied() && self.followup_landed(id, text).await {
                break;
            }
            match followup_retry(error.class(), &error, attempts, &self.clock, &self.cancel).await {
                FollowupRetry::Again => {}
                FollowupRetry::Cancelled => return Followup::CancelledInFlight,
                FollowupRetry::GiveUp => {
                    // The agent is still this trigger's: report it.
                    let agent = self.get(id).await.ok();
                    return Followup::Failed {
                        error: ApiError::V0(error),
                        agent,
                    };
                }
            }
        }
        match self.get(id).await {
            Ok(agent) => Followup::Sent(agent),
            Err(Failure::Cancelled) => Followup::CancelledInFlight,
            Err(e) => Followup::Unread(e),
        }
    }

    /// Whether agent `id`'s conversation holds `text` as a user message.
    async fn followup_landed(&self, id: &str, text: &str) -> bool {
        let clock = self.clock;
        let conversation = retry_idempotent(
            &clock,
            clock.now() + Duration::from_secs(60),
            &self.cancel,
            4,
            &Backoff::default(),
            || self.cursor.conversation(id),
        )
        .await;
        conversation.is_ok_and(|c| {
            c.messages
                .iter()
                .any(|m| m.kind == MessageKind::User && m.text == text)
        })
    }

    pub fn watch(&self, id: &str, started: Moment, deadline: Moment) -> V0Watch<'_> {
        let config = WaitConfig {
            schedule: self.schedule,
            started,
            deadline,
        };
        V0Watch {
            waiter: Waiter::new(&self.cursor, id, config, self.clock, self.cancel.clone()),
        }
    }

    /// The last assistant message, when the agent sent no summary.
    pub async fn conversation_summary(&self, id: &str, deadline: Moment) -> Option<String> {
        let clock = self.clock;
        if clock.now() >= deadline {
            return None;
        }
        let conversation = retry_idempotent(
            &clock,
            deadline,
            &self.cancel,
            3,
            &Backoff::default(),
            || self.cursor.conversation(id),
        )
        .await;
        match conversation {
            Ok(c) => c.last_assistant_text().map(String::from),
            Err(e) => {
                tracing::warn!(
                    "The agent sent no summary and its conversation could not be read ({}).",
                    Failure::from(e).describe()
                );
                None
            }
        }
    }

    /// Stops agent `id`. A stop Cursor refuses (400/409: not running) is
    /// never reported as a stop: the agent is read back, and reported as it
    /// ended, or as still running.
    pub async fn stop(&self, id: &str, deadline: Moment) -> super::Stop {
        use super::Stop;
        // Stopping twice is harmless, so transient failures are retried.
        let backoff = Backoff {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(4),
        };
        let never = Cancel::new();
        let stopped = retry_idempotent(&self.clock, deadline, &never, 5, &backoff, || {
            self.cursor.stop(id)
        })
        .await;
        let refused = match stopped {
            Ok(_) => return Stop::Stopped(Status::Stopped),
            Err(GaveUp::Failed(e)) if matches!(e.status(), Some(400 | 409)) => format!(
                "Cursor answered that the agent is not running ({})",
                e.status().unwrap_or_default()
            ),
            Err(GaveUp::Failed(e) | GaveUp::Deadline(Some(e))) => {
                return Stop::NotStopped(e.actionable(&self.repository));
            }
            Err(_) => return Stop::NotStopped("Cursor did not answer in time".into()),
        };
        let left = deadline
            .saturating_since(self.clock.now())
            .max(Duration::from_secs(1));
        match self.clock.timeout(left, self.cursor.agent(id)).await {
            Ok(Ok(agent)) if agent.status.is_terminal() => Stop::Ended {
                agent: view::view(agent),
                refused: Some(refused),
            },
            Ok(Ok(agent)) => Stop::NotStopped(format!(
                "the stop was refused ({refused}) and the agent still reads {}",
                agent.status
            )),
            _ => Stop::NotStopped(format!(
                "the stop was refused ({refused}) and the agent could not be read to see whether it ended"
            )),
        }
    }
}

/// Polling, as [`Waiter`] does it.
pub struct V0Watch<'a> {
    waiter: Waiter<'a, CursorClient>,
}

impl V0Watch<'_> {
    pub async fn next(&mut self) -> WatchEvent {
        match self.waiter.next().await {
            WaitEvent::StatusChanged(a) => WatchEvent::Status(view::view(a)),
            WaitEvent::Heartbeat { elapsed, status } => WatchEvent::Heartbeat {
                elapsed,
                status: status.to_string(),
            },
            WaitEvent::Retrying { error, wait } => WatchEvent::Retrying {
                error: format!("Status check failed ({error})"),
                wait,
            },
            WaitEvent::Done(end) => WatchEvent::Done(match end {
                WaitEnd::Terminal(agent) => WatchEnd::Ended {
                    agent: view::view(agent),
                    note: None,
                },
                WaitEnd::Deadline => WatchEnd::Deadline,
                WaitEnd::Cancelled => WatchEnd::Cancelled,
                WaitEnd::Failed(e) => WatchEnd::Failed(ApiError::V0(e)),
            }),
        }
    }

    /// The agent as last seen.
    pub fn last(&self) -> Option<AgentRun> {
        self.waiter.last().cloned().map(view::view)
    }
}
