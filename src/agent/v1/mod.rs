//! Cursor's v1 API: durable agents and per-prompt runs. A launch's identity
//! is a deterministic `agentId` (a replayed create answers
//! `409 agent_id_conflict` and the agent is adopted), waiting is following
//! the run's stream ([`cursor_api::wait::stream`]), a follow-up is a new run,
//! stopping is cancelling the run and reading it back.

mod followup;
mod launch;
mod request;
mod stop;
mod view;
mod watch;

pub use request::create_request;
use request::{derive, identity, repo_of_pr};
pub use view::{status_of, view};
pub use watch::V1Watch;

use super::AgentRun;
use super::{ApiError, Failure, Setup};
use cursor_api::ErrorClass;
use cursor_api::retry::{Backoff, delay_for};
use cursor_api::v1::{self as api, CreateAgentRequest, ModelSelection, V1Client, V1Error};
use cursor_api::wait::schedule::PollSchedule;
use kit::cancel::Cancel;
use kit::clock::Clock;
use std::future::Future;
use std::time::Duration;

#[derive(Clone)]
pub struct V1 {
    client: V1Client,
    /// For artifact downloads (presigned URLs, no Cursor credentials).
    http: reqwest::Client,
    clock: Clock,
    cancel: Cancel,
    repository: String,
    request: CreateAgentRequest,
    /// The identity parts the `agentId` is derived from (none outside a
    /// workflow run: then no `agentId` is sent).
    identity: Option<Vec<String>>,
    schedule: PollSchedule,
    model: Option<ModelSelection>,
    /// The run being followed.
    run: Option<String>,
    /// `archive-when-done`.
    archive_when_done: bool,
    /// `timeout`: bounds the launch as well as the wait.
    timeout: Duration,
}

impl V1 {
    pub fn new(setup: Setup<'_>) -> Self {
        let client: V1Client = setup.client();
        let request = create_request(setup.plan, setup.inputs, setup.ctx);
        Self {
            client,
            http: setup.http.clone(),
            clock: setup.clock,
            cancel: setup.cancel,
            repository: setup.plan.repository.clone(),
            model: request.model.clone(),
            request,
            identity: identity(setup.plan, setup.ctx),
            schedule: PollSchedule::new(setup.inputs.poll_interval, setup.inputs.max_poll_interval),
            run: None,
            archive_when_done: setup.inputs.archive_when_done,
            timeout: setup.inputs.timeout,
        }
    }

    pub fn run_id(&self) -> Option<String> {
        self.run.clone()
    }

    pub fn request_count(&self) -> u64 {
        self.client.request_count()
    }

    pub fn artifact_api(&self) -> crate::artifacts::ArtifactApi<'_> {
        crate::artifacts::ArtifactApi::V1(&self.client)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// The followed run's usage (see [`super::usage::read_usage`]).
    pub async fn usage(&self, id: &str) -> Option<super::RunUsage> {
        super::usage::read_usage(&self.client, id, self.run.as_deref(), self.clock).await
    }

    /// Retries an idempotent read on transient errors, for at most `within`.
    async fn read<T, F, Fut>(&self, within: Duration, mut op: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, V1Error>>,
    {
        let deadline = self.clock.now() + within;
        let mut last = None;
        for attempt in 0..5 {
            let r = tokio::select! {
                r = op() => r,
                _ = self.cancel.cancelled() => return Err(Failure::Cancelled),
            };
            let e = match r {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some(wait) = delay_for(&e.as_v0(), attempt, &Backoff::default(), 0.5)
                .filter(|_| e.class() != ErrorClass::Fatal)
            else {
                return Err(Failure::Failed(ApiError::V1(e)));
            };
            if self.clock.now() + wait >= deadline {
                return Err(Failure::Deadline(Some(ApiError::V1(e))));
            }
            last = Some(e);
            tokio::select! {
                _ = self.clock.sleep(wait) => {}
                _ = self.cancel.cancelled() => return Err(Failure::Cancelled),
            }
        }
        Err(Failure::Deadline(last.map(ApiError::V1)))
    }

    /// Agent `id` with its run (`run`, else its latest), as the flow sees it.
    pub async fn reattach(&mut self, id: &str, run: Option<&str>) -> Result<AgentRun, Failure> {
        let within = Duration::from_secs(120);
        let agent = self.read(within, || self.client.agent(id)).await?;
        let run_id = run
            .filter(|r| api::is_run_id(r))
            .map(String::from)
            .or(agent.latest_run_id.clone());
        let run = match &run_id {
            Some(r) => Some(self.read(within, || self.client.run(id, r)).await?),
            None => None,
        };
        self.run = run_id;
        Ok(view(id, agent.url.as_deref(), run.as_ref(), None))
    }

    pub async fn read_once(&mut self, id: &str) -> Result<AgentRun, ApiError> {
        let agent = self.client.agent(id).await.map_err(ApiError::V1)?;
        let run_id = self.run.clone().or(agent.latest_run_id.clone());
        let run = match &run_id {
            Some(r) => Some(self.client.run(id, r).await.map_err(ApiError::V1)?),
            None => None,
        };
        Ok(view(id, agent.url.as_deref(), run.as_ref(), None))
    }

    pub async fn find_own(&mut self) -> Option<AgentRun> {
        // A re-run sends the same `agentId`; the create adopts it on 409.
        // Looking it up first lets a re-run reattach (or replace a failed one).
        let id = self.request.agent_id.clone()?;
        self.reattach(&id, None).await.ok()
    }

    pub fn replace_failed(&mut self, attempt: u32) {
        if let Some(parts) = &mut self.identity {
            parts.push(format!("attempt-{attempt}"));
            self.request.agent_id = Some(derive(parts));
        }
        self.run = None;
    }

    /// The newest agent of `job` other than this run's own (by its `name`).
    pub async fn job_agent(&self, job: &crate::job::Job) -> Result<Option<String>, Failure> {
        let page = self
            .read(Duration::from_secs(60), || {
                self.client
                    .list_agents(Some(crate::job::AGENTS_LISTED), None)
            })
            .await?;
        let own = self.request.agent_id.as_deref();
        Ok(page
            .items
            .iter()
            .find(|a| job.names_job_agent(a.name.as_deref()) && Some(a.id.as_str()) != own)
            .map(|a| a.id.clone()))
    }

    /// Agent `id` with its latest run, as it is now; `unavailable`: why it
    /// cannot take a follow-up (deleted, archived, expired). Read only: an
    /// archived agent is not unarchived here.
    pub async fn probe(&self, id: &str) -> Result<super::Probe, Failure> {
        let within = Duration::from_secs(60);
        let agent = match self.read(within, || self.client.agent(id)).await {
            Ok(a) => a,
            Err(Failure::Failed(e)) => {
                return match super::existence(&e) {
                    super::Existence::Gone(how) => Ok(super::Probe {
                        agent: None,
                        unavailable: Some(format!("agent {id} is gone ({how})")),
                    }),
                    _ => Err(Failure::Failed(e)),
                };
            }
            Err(e) => return Err(e),
        };
        let run = match &agent.latest_run_id {
            Some(r) => Some(self.read(within, || self.client.run(id, r)).await?),
            None => None,
        };
        let unavailable = match agent.status {
            api::AgentStatus::Archived => Some(format!("agent {id} is archived")),
            api::AgentStatus::Expired => Some(format!("agent {id} has expired")),
            _ => None,
        };
        Ok(super::Probe {
            agent: Some(view(id, agent.url.as_deref(), run.as_ref(), None)),
            unavailable,
        })
    }
}
