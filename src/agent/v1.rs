//! Cursor's v1 API: durable agents and per-prompt runs. A launch's identity
//! is a deterministic `agentId` (a replayed create answers
//! `409 agent_id_conflict` and the agent is adopted), waiting is following
//! the run's stream ([`cursor_api::wait::stream`]), a follow-up is a new run,
//! stopping is cancelling the run and reading it back.

use super::{ApiError, Failure, Followup, LaunchError, Progress, Setup, WatchEnd, WatchEvent};
use crate::inputs::{AgentMode, PrBranch};
use crate::runner::Console;
use base64::Engine as _;
use cursor_api::retry::{Backoff, delay_for};
use cursor_api::v1::{
    self as api, CreateAgentRequest, CreateRunRequest, ModelSelection, RepoSpec, Run, RunStatus,
    V1Client, V1Error,
};
use cursor_api::wait::schedule::PollSchedule;
use cursor_api::wait::stream::{StreamConfig, StreamEnd, StreamEvent, StreamFollower};
use cursor_api::{Agent, AgentSource, AgentStatus, AgentTarget, ErrorClass, agent_url};
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
use std::future::Future;
use std::time::Duration;

/// Reads confirming a cancel are this far apart.
const CONFIRM_EVERY: Duration = Duration::from_millis(400);
/// Creates sent for one launch at most (all with the same `agentId`).
const MAX_CREATES: u32 = 4;

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

/// `https://github.com/o/r/pull/1` → `https://github.com/o/r`.
fn repo_of_pr(pr_url: &str) -> String {
    match pr_url.rsplit_once("/pull/") {
        Some((repo, _)) => repo.to_string(),
        None => pr_url.to_string(),
    }
}

/// The v1 create request for a plan (pure).
pub fn create_request(
    plan: &crate::plan::LaunchPlan,
    inputs: &crate::inputs::Inputs,
    ctx: &crate::context::Context,
) -> CreateAgentRequest {
    // A pull request's own event already names the pull request (the plan).
    let source = &plan.request.source;
    let repo = match (&source.repository, &source.pr_url) {
        (Some(r), _) => r.clone(),
        (None, Some(pr)) => repo_of_pr(pr),
        (None, None) => ctx.repo_url(),
    };
    let on_pr = source.pr_url.is_some();
    let work_on_current_branch = inputs
        .work_on_current_branch
        .or(on_pr.then_some(inputs.pr_branch == PrBranch::Existing));
    CreateAgentRequest {
        prompt: api::Prompt {
            text: plan.request.prompt.text.clone(),
            images: inputs
                .images
                .iter()
                .map(|img| api::PromptImage {
                    data: base64::engine::general_purpose::STANDARD.encode(&img.bytes),
                    mime_type: img.info.format.mime().to_string(),
                })
                .collect(),
        },
        model: inputs.model.as_deref().map(ModelSelection::id),
        // A scheduled job's agents carry its tag, so the next run finds them.
        name: crate::job::Job::of(inputs, ctx, plan)
            .map(|job| job.agent_name(&plan.request.prompt.text)),
        repos: vec![RepoSpec {
            url: repo,
            starting_ref: source.git_ref.clone(),
            pr_url: source.pr_url.clone(),
        }],
        work_on_current_branch,
        auto_create_pr: Some(inputs.auto_create_pr),
        skip_reviewer_request: inputs.skip_reviewer_request.then_some(true),
        mode: inputs.mode.map(|m| match m {
            AgentMode::Agent => api::Mode::Agent,
            AgentMode::Plan => api::Mode::Plan,
        }),
        agent_id: identity(plan, ctx).map(|parts| derive(&parts)),
    }
}

/// What makes a launch this launch: the repository, the workflow run and
/// the launch key (job, step, prompt…), the same on every attempt.
fn identity(plan: &crate::plan::LaunchPlan, ctx: &crate::context::Context) -> Option<Vec<String>> {
    let run = ctx.run_id?;
    Some(vec![
        ctx.repo.to_string(),
        run.to_string(),
        plan.key.clone(),
    ])
}

fn derive(parts: &[String]) -> String {
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    api::derive_agent_id(&refs)
}

/// A run's status in the terms the report uses.
pub fn status_of(run: &RunStatus) -> AgentStatus {
    AgentStatus::parse(run.as_str())
}

/// The agent as the flow sees it: its id and link, with `run`'s status and
/// result (summary, and branch and pull request from `git.branches`).
pub fn view(agent: &str, url: Option<&str>, run: Option<&Run>, text: Option<&str>) -> Agent {
    let branch = run.and_then(|r| r.git.as_ref()).and_then(|g| {
        g.branches
            .iter()
            .find(|b| b.branch.is_some() || b.pr_url.is_some())
    });
    Agent {
        id: agent.to_string(),
        name: None,
        status: run
            .map(|r| status_of(&r.status))
            .unwrap_or(AgentStatus::Creating),
        source: AgentSource::default(),
        target: AgentTarget {
            branch_name: branch.and_then(|b| b.branch.clone()),
            url: Some(
                url.filter(|u| u.starts_with("https://"))
                    .map(String::from)
                    .unwrap_or_else(|| agent_url(agent)),
            ),
            pr_url: branch.and_then(|b| b.pr_url.clone()),
            ..AgentTarget::default()
        },
        summary: text
            .map(String::from)
            .or_else(|| run.and_then(|r| r.result.clone())),
        created_at: None,
        // `durationMs`: terminal runs only (spec §8.4).
        duration: run
            .filter(|r| r.status.is_terminal())
            .and_then(|r| r.duration_ms)
            .map(Duration::from_millis),
    }
}

impl V1 {
    pub fn new(setup: Setup<'_>) -> Self {
        let client = V1Client::new(
            setup.http.clone(),
            &setup.inputs.api_url,
            &setup.inputs.api_key,
            cursor_api::AuthScheme::Basic,
            setup.clock,
        )
        .redacting(&setup.redactor);
        Self::with_client(client, setup)
    }

    pub fn request_count(&self) -> u64 {
        self.client.request_count()
    }

    pub fn with_client(client: V1Client, setup: Setup<'_>) -> Self {
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

    pub fn artifact_api(&self) -> crate::artifacts::ArtifactApi<'_> {
        crate::artifacts::ArtifactApi::V1(&self.client)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// The followed run's usage (see [`crate::report::usage::read_usage`]).
    pub async fn usage(&self, id: &str) -> Option<crate::report::usage::UsageReport> {
        crate::report::usage::read_usage(&self.client, id, self.run.as_deref(), self.clock).await
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
    pub async fn reattach(&mut self, id: &str, run: Option<&str>) -> Result<Agent, Failure> {
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

    pub async fn read_once(&mut self, id: &str) -> Result<Agent, ApiError> {
        let agent = self.client.agent(id).await.map_err(ApiError::V1)?;
        let run_id = self.run.clone().or(agent.latest_run_id.clone());
        let run = match &run_id {
            Some(r) => Some(self.client.run(id, r).await.map_err(ApiError::V1)?),
            None => None,
        };
        Ok(view(id, agent.url.as_deref(), run.as_ref(), None))
    }

    pub async fn find_own(&mut self) -> Option<Agent> {
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

    /// Launches on the pull request's own branch instead (`repos[0].prUrl`
    /// with `workOnCurrentBranch: true`).
    pub fn launch_on_pull(&mut self, pr_url: &str) {
        self.request.repos = vec![RepoSpec {
            url: repo_of_pr(pr_url),
            starting_ref: None,
            pr_url: Some(pr_url.to_string()),
        }];
        self.request.work_on_current_branch = Some(true);
    }

    pub fn print_launch(&self, console: &Console) {
        let request = &self.request;
        console.group(&format!(
            "Launching a Cursor agent on {} (API v1)",
            self.repository
        ));
        if let Some(repo) = request.repos.first() {
            match (&repo.pr_url, &repo.starting_ref) {
                (Some(pr), _) => console.info(&format!("Pull request: {pr}")),
                (None, Some(r)) => console.info(&format!("Ref: {r}")),
                (None, None) => console.info("Ref: the repository's default branch"),
            }
        }
        if let Some(w) = request.work_on_current_branch {
            console.info(&format!("Work on the current branch: {w}"));
        }
        if let Some(id) = &request.agent_id {
            console.info(&format!("Agent id: {id}"));
        }
        if let Some(model) = &request.model {
            console.info(&format!("Model: {}", model.id));
        }
        if let Some(mode) = request.mode {
            console.info(&format!(
                "Mode: {}",
                match mode {
                    api::Mode::Agent => "agent",
                    api::Mode::Plan => "plan",
                }
            ));
        }
        console.info(&format!(
            "Prompt ({} characters):",
            request.prompt.text.chars().count()
        ));
        console.untrusted_block(&request.prompt.text);
        console.endgroup();
    }

    /// Adopts the agent a create made whose answer was lost.
    async fn adopt(&mut self, id: &str) -> Result<Agent, Failure> {
        self.reattach(id, None).await
    }

    pub async fn launch(&mut self, console: &Console) -> Result<(Agent, bool), LaunchError> {
        if self.cancel.is_cancelled() {
            return Err(LaunchError::Cancelled);
        }
        let mut ambiguous = false;
        let mut attempt = 0;
        let deadline = self.clock.now() + self.timeout;
        loop {
            attempt += 1;
            let result = tokio::select! {
                r = self.client.create_agent(&self.request) => r,
                _ = self.cancel.cancelled() => return Err(LaunchError::CancelledInFlight),
            };
            let error = match result {
                Ok(created) => {
                    self.run = Some(created.run.id.clone());
                    let agent = view(
                        &created.agent.id,
                        created.agent.url.as_deref(),
                        Some(&created.run),
                        None,
                    );
                    // Our own answer: created by it, not adopted (a lost
                    // earlier answer that did create would have made this
                    // one a 409).
                    return Ok((agent, false));
                }
                Err(e) => e,
            };
            if error.code() == Some("agent_id_conflict")
                && let Some(id) = self.request.agent_id.clone()
            {
                // An earlier create (a lost answer, or an earlier attempt of
                // this run) made it: adopt it.
                return match self.adopt(&id).await {
                    Ok(agent) => Ok((agent, true)),
                    Err(Failure::Cancelled) => Err(LaunchError::CancelledInFlight),
                    Err(Failure::Failed(e) | Failure::Deadline(Some(e))) => {
                        Err(LaunchError::Unknown(e))
                    }
                    Err(Failure::Deadline(None)) => Err(LaunchError::Unknown(ApiError::V1(error))),
                };
            }
            let applied = error.maybe_applied();
            if applied && self.request.agent_id.is_none() {
                // Without an `agentId` a retry could make a second agent.
                return Err(LaunchError::Unknown(ApiError::V1(error)));
            }
            let wait = delay_for(&error.as_v0(), attempt - 1, &Backoff::default(), 0.5)
                .filter(|_| error.class() != ErrorClass::Fatal || applied)
                .filter(|_| attempt < MAX_CREATES);
            // No wait past `timeout` (nor a very long one): with nothing
            // created, the launch ends at once and says why.
            let wait =
                match wait.map(|w| cursor_api::retry::launch_wait(w, self.clock.now(), deadline)) {
                    Some(Err(why)) if !(ambiguous || applied) => {
                        return Err(LaunchError::WaitRefused {
                            error: ApiError::V1(error),
                            why,
                        });
                    }
                    Some(Ok(w)) => Some(w),
                    _ => None,
                };
            match wait {
                Some(wait) => {
                    ambiguous |= applied;
                    let verb = if applied {
                        "The launch's answer was lost"
                    } else {
                        "The launch failed"
                    };
                    console.info(&format!(
                        "{verb} ({error}); retrying with the same agent id in {}s",
                        wait.as_secs().max(1)
                    ));
                    tokio::select! {
                        _ = self.clock.sleep(wait) => {}
                        _ = self.cancel.cancelled() => return Err(if ambiguous {
                            LaunchError::CancelledInFlight
                        } else {
                            LaunchError::Cancelled
                        }),
                    }
                }
                _ if ambiguous || applied => {
                    // The `agentId` settles it: a create that landed made
                    // that agent (adopt it); a 404 says none did, so the
                    // failure is Cursor's refusal, reported as such.
                    let Some(id) = self.request.agent_id.clone() else {
                        return Err(LaunchError::Unknown(ApiError::V1(error)));
                    };
                    return match self.adopt(&id).await {
                        Ok(agent) => Ok((agent, true)),
                        Err(Failure::Cancelled) => Err(LaunchError::CancelledInFlight),
                        Err(Failure::Failed(e)) if e.status() == Some(404) => {
                            Err(LaunchError::Failed(ApiError::V1(error)))
                        }
                        Err(_) => Err(LaunchError::Unknown(ApiError::V1(error))),
                    };
                }
                _ => return Err(LaunchError::Failed(ApiError::V1(error))),
            }
        }
    }

    pub async fn find_in_flight(&mut self, budget: Duration) -> Result<Agent, String> {
        let Some(id) = self.request.agent_id.clone() else {
            return Err("no agent id was chosen, so it cannot be looked up".into());
        };
        let clock = self.clock;
        let client = self.client.clone();
        let looked = clock
            .timeout(budget, async {
                let agent = client.agent(&id).await?;
                let run = match &agent.latest_run_id {
                    Some(r) => Some(client.run(&id, r).await?),
                    None => None,
                };
                Ok::<_, V1Error>((agent, run))
            })
            .await;
        match looked {
            Ok(Ok((agent, run))) => {
                self.run = run.as_ref().map(|r| r.id.clone());
                Ok(view(&id, agent.url.as_deref(), run.as_ref(), None))
            }
            Ok(Err(e)) if e.status() == Some(404) => Err("none was found yet".into()),
            Ok(Err(e)) => Err(format!("the lookup failed: {e}")),
            Err(_) => Err("the lookup did not answer in time".into()),
        }
    }

    pub fn in_flight_hint(&self) -> String {
        match &self.request.agent_id {
            Some(id) => format!("Check {} (agent id {id})", agent_url(id)),
            None => "Check https://cursor.com/agents for it".into(),
        }
    }

    pub async fn followup(&mut self, id: &str, text: &str) -> Followup {
        // The `images` input goes with a follow-up as with a launch.
        let request = CreateRunRequest {
            prompt: api::Prompt {
                text: text.to_string(),
                images: self.request.prompt.images.clone(),
            },
            model: self.model.clone(),
        };
        let before = match self
            .read(Duration::from_secs(60), || self.client.agent(id))
            .await
        {
            Ok(a) => a,
            Err(Failure::Cancelled) => return Followup::CancelledInFlight,
            Err(Failure::Failed(e)) => {
                return match super::existence(&e) {
                    super::Existence::Gone(how) => Followup::Gone(format!(
                        "The agent {id} this issue was using is gone ({how}), so a new agent was launched."
                    )),
                    _ => Followup::Failed {
                        error: e,
                        agent: None,
                    },
                };
            }
            Err(Failure::Deadline(Some(e))) => {
                return Followup::Failed {
                    error: e,
                    agent: None,
                };
            }
            Err(Failure::Deadline(None)) => return Followup::Unread(Failure::Deadline(None)),
        };
        // An archived agent (`archive-when-done`, or by hand) is unarchived
        // and the run sent to it; only if that fails is a new one launched.
        let mut unarchived = false;
        if before.status == api::AgentStatus::Archived {
            if let Some(gone) = self.unarchive(id).await {
                return gone;
            }
            unarchived = true;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = tokio::select! {
                r = self.client.create_run(id, &request) => r,
                _ = self.cancel.cancelled() => return Followup::CancelledInFlight,
            };
            let error = match result {
                Ok(run) => {
                    self.run = Some(run.id.clone());
                    return Followup::Sent(view(id, before.url.as_deref(), Some(&run), None));
                }
                Err(e) => e,
            };
            match error.code() {
                Some("agent_busy") => return Followup::Busy,
                Some("agent_archived") if !unarchived => {
                    if let Some(gone) = self.unarchive(id).await {
                        return gone;
                    }
                    unarchived = true;
                    attempt -= 1;
                    continue;
                }
                Some("agent_archived") => {
                    return Followup::Gone(format!(
                        "The agent {id} this issue was using is archived in Cursor and stayed archived after it was unarchived, so a new agent was launched."
                    ));
                }
                _ => {}
            }
            if let super::Existence::Gone(how) = super::existence(&ApiError::V1(error.clone())) {
                return Followup::Gone(format!(
                    "The agent {id} this issue was using is gone ({how}), so a new agent was launched."
                ));
            }
            // A lost answer: a new latest run says it landed.
            if error.maybe_applied()
                && let Ok(now) = self
                    .read(Duration::from_secs(60), || self.client.agent(id))
                    .await
                && now.latest_run_id.is_some()
                && now.latest_run_id != before.latest_run_id
            {
                let run_id = now.latest_run_id.clone().unwrap_or_default();
                let run = self
                    .read(Duration::from_secs(60), || self.client.run(id, &run_id))
                    .await
                    .ok();
                self.run = Some(run_id);
                return Followup::Sent(view(id, now.url.as_deref(), run.as_ref(), None));
            }
            let retryable = error.class() != ErrorClass::Fatal && attempt < 4;
            match delay_for(&error.as_v0(), attempt - 1, &Backoff::default(), 0.5)
                .filter(|_| retryable)
            {
                Some(wait) => {
                    tokio::select! {
                        _ = self.clock.sleep(wait.min(Duration::from_secs(60))) => {}
                        _ = self.cancel.cancelled() => return Followup::CancelledInFlight,
                    }
                }
                None => {
                    let agent = self.reattach(id, None).await.ok();
                    return Followup::Failed {
                        error: ApiError::V1(error),
                        agent,
                    };
                }
            }
        }
    }

    /// Unarchives agent `id` for a follow-up. `Some`: what the follow-up
    /// does instead (a new agent, or the cancel).
    async fn unarchive(&mut self, id: &str) -> Option<Followup> {
        match self
            .read(Duration::from_secs(60), || self.client.unarchive(id))
            .await
        {
            Ok(_) => {
                tracing::info!("Unarchived agent {id} for this follow-up");
                None
            }
            Err(Failure::Cancelled) => Some(Followup::CancelledInFlight),
            Err(e) => Some(Followup::Gone(format!(
                "The agent {id} this issue was using is archived in Cursor and could not be unarchived ({}), so a new agent was launched.",
                e.describe()
            ))),
        }
    }

    /// `archive-when-done`: archives agent `id` once its run has ended and
    /// no other run is queued for it, before `deadline`. A failure changes
    /// nothing else (the agent just keeps counting against the plan's
    /// limit); what happened is returned for the log.
    pub async fn archive_if_done(&mut self, id: &str, deadline: Moment) -> Option<String> {
        if !self.archive_when_done {
            return None;
        }
        let within = deadline.saturating_since(self.clock.now());
        let agent = match self.read(within, || self.client.agent(id)).await {
            Ok(a) => a,
            Err(e) => {
                return Some(format!(
                    "Agent {id} was not archived (it could not be read: {})",
                    e.describe()
                ));
            }
        };
        if agent.status == api::AgentStatus::Archived {
            return None;
        }
        let queued = agent.status == api::AgentStatus::Active
            || (self.run.is_some() && agent.latest_run_id != self.run);
        if queued {
            return Some(format!(
                "Agent {id} was not archived: another run is queued or running on it"
            ));
        }
        let within = deadline.saturating_since(self.clock.now());
        Some(match self.read(within, || self.client.archive(id)).await {
            Ok(_) => format!("Archived agent {id} (archive-when-done); a follow-up unarchives it"),
            Err(e) => format!("Agent {id} was not archived: {}", e.describe()),
        })
    }

    /// Follows agent `id`'s current run to its end (or `deadline`).
    pub async fn await_idle(&mut self, id: &str, deadline: Moment) -> Result<(), Failure> {
        let agent = self
            .read(Duration::from_secs(60), || self.client.agent(id))
            .await?;
        let Some(run) = agent.latest_run_id else {
            return Ok(());
        };
        let config = StreamConfig {
            schedule: self.schedule,
            started: self.clock.now(),
            deadline,
        };
        let mut follower = StreamFollower::new(
            &self.client,
            id,
            &run,
            config,
            self.clock,
            self.cancel.clone(),
        );
        loop {
            match follower.next().await {
                StreamEvent::Done(StreamEnd::Ended { .. }) => return Ok(()),
                StreamEvent::Done(StreamEnd::Cancelled) => return Err(Failure::Cancelled),
                StreamEvent::Done(StreamEnd::Deadline) => return Err(Failure::Deadline(None)),
                StreamEvent::Done(StreamEnd::Failed(e)) => {
                    return Err(Failure::Failed(ApiError::V1(e)));
                }
                _ => {}
            }
        }
    }

    pub fn watch(&self, agent: &Agent, started: Moment, deadline: Moment) -> V1Watch<'_> {
        let id = agent.id.as_str();
        let run = self.run.clone().unwrap_or_default();
        let config = StreamConfig {
            schedule: self.schedule,
            started,
            deadline,
        };
        V1Watch {
            client: &self.client,
            clock: self.clock,
            follower: StreamFollower::new(
                &self.client,
                id,
                &run,
                config,
                self.clock,
                self.cancel.clone(),
            ),
            last: agent.clone(),
            pending: std::collections::VecDeque::new(),
        }
    }

    /// Cancels the run, then reads it back. A cancel may answer 500 and
    /// leave the run RUNNING, or come after the run ended (409): neither is
    /// reported as a stop; a run read back ended is reported as it ended.
    pub async fn stop(&mut self, id: &str, deadline: Moment) -> super::Stop {
        use super::Stop;
        let Some(run) = self.run.clone() else {
            return Stop::NotStopped("no run is known to cancel".into());
        };
        let clock = self.clock;
        let start = clock.now();
        // Keep a third of the budget for the read that confirms it.
        let cancel_until = start + deadline.saturating_since(start).mul_f64(0.66);
        let backoff = Backoff {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(4),
        };
        // `None`: Cursor took the cancel.
        let mut refused = Some("the cancel was not sent".to_string());
        for attempt in 0..5 {
            match clock
                .timeout(
                    deadline.saturating_since(clock.now()),
                    self.client.cancel_run(id, &run),
                )
                .await
            {
                Ok(Ok(_)) => {
                    refused = None;
                    break;
                }
                // Not cancellable: it has ended already (the read tells how).
                Ok(Err(e))
                    if e.code() == Some("run_not_cancellable") || e.status() == Some(409) =>
                {
                    refused = Some("Cursor answered that the run is not cancellable (409)".into());
                    break;
                }
                Ok(Err(e)) => {
                    let wait = delay_for(&e.as_v0(), attempt, &backoff, 0.5)
                        .filter(|_| e.class() != ErrorClass::Fatal);
                    refused = Some(e.actionable(&self.repository));
                    match wait {
                        Some(w) if clock.now() + w < cancel_until => clock.sleep(w).await,
                        _ => break,
                    }
                }
                Err(_) => {
                    refused = Some("Cursor did not answer the cancel in time".into());
                    break;
                }
            }
        }
        // The run takes a moment to end after an accepted cancel: re-read
        // it a few times, spaced, within the budget. A refused one is read
        // once: it will not end because of us.
        let read = loop {
            let left = deadline
                .saturating_since(clock.now())
                .max(Duration::from_millis(300));
            let read = clock.timeout(left, self.client.run(id, &run)).await;
            let again = clock.now() + CONFIRM_EVERY < deadline;
            match &read {
                Ok(Ok(r)) if !r.status.is_terminal() && again && refused.is_none() => {
                    clock.sleep(CONFIRM_EVERY).await
                }
                Ok(Err(e)) if e.class() != ErrorClass::Fatal && again => {
                    clock.sleep(CONFIRM_EVERY).await
                }
                _ => break read,
            }
        };
        match (read, refused) {
            (Ok(Ok(r)), None) if r.status == RunStatus::Cancelled => {
                Stop::Stopped(status_of(&r.status))
            }
            (Ok(Ok(r)), refused) if r.status.is_terminal() => Stop::Ended {
                agent: view(id, None, Some(&r), None),
                refused,
            },
            (Ok(Ok(r)), Some(why)) => Stop::NotStopped(format!(
                "the cancel was refused ({why}) and the run still reads {}",
                r.status
            )),
            (Ok(Ok(r)), None) => Stop::NotStopped(format!(
                "Cursor accepted the cancel, but the run still reads {}",
                r.status
            )),
            (_, Some(why)) => Stop::NotStopped(format!(
                "the cancel was refused ({why}) and the run could not be read to see whether it ended"
            )),
            (_, None) => Stop::NotStopped(
                "Cursor accepted the cancel, but the run could not be read to confirm it ended"
                    .into(),
            ),
        }
    }
}

/// Following a run's stream, in the flow's terms.
pub struct V1Watch<'a> {
    follower: StreamFollower<'a>,
    client: &'a V1Client,
    clock: Clock,
    last: Agent,
    pending: std::collections::VecDeque<WatchEvent>,
}

impl V1Watch<'_> {
    pub async fn next(&mut self) -> WatchEvent {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return e;
            }
            match self.follower.next().await {
                StreamEvent::Status(s) => {
                    self.last.status = status_of(&s);
                    self.pending
                        .push_back(WatchEvent::Progress(Progress::Status(s)));
                    self.pending
                        .push_back(WatchEvent::Status(self.last.clone()));
                }
                StreamEvent::Assistant(t) => {
                    return WatchEvent::Progress(Progress::Said(t));
                }
                StreamEvent::ToolCall {
                    call_id,
                    name,
                    completed,
                    args,
                } => {
                    return WatchEvent::Progress(Progress::Tool {
                        call_id,
                        name,
                        completed,
                        args,
                    });
                }
                StreamEvent::Heartbeat { elapsed, status } => {
                    return WatchEvent::Heartbeat {
                        elapsed,
                        status: status
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| self.last.status.to_string()),
                    };
                }
                StreamEvent::Retrying { error, wait } => {
                    return WatchEvent::Retrying {
                        error: format!("The run's stream failed ({error})"),
                        wait,
                    };
                }
                StreamEvent::FallingBack { reason } => {
                    return WatchEvent::FallingBack(format!(
                        "Following the run by reading it instead of its stream: {reason}."
                    ));
                }
                StreamEvent::Done(end) => {
                    let end = match end {
                        StreamEnd::Ended {
                            mut run,
                            text,
                            confirmed,
                        } => {
                            // `result` may carry no `git`: one read of the
                            // run gives the branch and pull request.
                            if run.git.is_none()
                                && let Ok(Ok(read)) = self
                                    .clock
                                    .timeout(
                                        Duration::from_secs(10),
                                        self.client.run(&self.last.id, &run.id),
                                    )
                                    .await
                            {
                                run.git = read.git;
                            }
                            let agent = view(
                                &self.last.id,
                                self.last.target.url.as_deref(),
                                Some(&run),
                                text.as_deref(),
                            );
                            self.last = agent.clone();
                            WatchEnd::Ended {
                                agent,
                                note: (!confirmed).then(|| {
                                    "The run's stream said it ended, but its record kept saying otherwise; it is reported as ended.".to_string()
                                }),
                            }
                        }
                        StreamEnd::Deadline => WatchEnd::Deadline,
                        StreamEnd::Cancelled => WatchEnd::Cancelled,
                        StreamEnd::Failed(e) => WatchEnd::Failed(ApiError::V1(e)),
                    };
                    self.pending.push_back(WatchEvent::Done(end));
                }
            }
        }
    }

    pub fn last(&self) -> Option<&Agent> {
        Some(&self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str) -> Run {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_view_takes_the_result_and_the_branch_with_a_pull_request() {
        let r = run(
            r#"{"id":"run-1","agentId":"bc-1","status":"FINISHED","result":"Done.",
                "git":{"branches":[{"repoUrl":"github.com/o/r"},
                                   {"repoUrl":"github.com/o/r","branch":"cursor/x","prUrl":"https://github.com/o/r/pull/7"}]}}"#,
        );
        let a = view(
            "bc-1",
            Some("https://cursor.com/agents/bc-1"),
            Some(&r),
            None,
        );
        assert_eq!(a.status, AgentStatus::Finished);
        assert_eq!(a.summary(), Some("Done."));
        assert_eq!(a.target.branch_name.as_deref(), Some("cursor/x"));
        assert_eq!(
            a.target.pr_url.as_deref(),
            Some("https://github.com/o/r/pull/7")
        );
        assert_eq!(a.url(), "https://cursor.com/agents/bc-1");
        // Streamed text wins over a run read without a result; a URL that is
        // not https falls back to Cursor's page for the id.
        let r = run(r#"{"id":"run-1","agentId":"bc-1","status":"CANCELLED"}"#);
        let a = view(
            "bc-1",
            Some("javascript:alert(1)"),
            Some(&r),
            Some("partial"),
        );
        assert_eq!(a.status, AgentStatus::Cancelled);
        assert_eq!(a.summary(), Some("partial"));
        assert_eq!(a.url(), agent_url("bc-1"));
        assert_eq!(a.target.branch_name, None);
        // Unknown statuses are kept.
        let r = run(r#"{"id":"run-1","agentId":"bc-1","status":"QUEUED"}"#);
        assert_eq!(
            view("bc-1", None, Some(&r), None).status,
            AgentStatus::Unknown("QUEUED".into())
        );
    }

    #[test]
    fn a_pull_request_url_names_its_repository() {
        assert_eq!(
            repo_of_pr("https://github.com/o/r/pull/12"),
            "https://github.com/o/r"
        );
        assert_eq!(
            repo_of_pr("https://github.com/o/r"),
            "https://github.com/o/r"
        );
    }
}
