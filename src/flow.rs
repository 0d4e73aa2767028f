//! One accepted trigger, end to end: check who triggered, acknowledge,
//! reattach / follow up / launch, keep one comment up to date while waiting,
//! and finalize it (and the outputs) on every outcome.

use crate::agent::{AgentApi, ApiError, Failure, Followup, LaunchError, WatchEnd, WatchEvent};
use crate::clock::Moment;
use crate::context::{Context, Event};
use crate::cursor::{Agent, AgentStatus};
use crate::gate::{self, Decision};
use crate::github::policy::{self, Limits};
use crate::github::{GitHubClient, GitHubError, IssueComment, ReactionOn};
use crate::inputs::parse::format_duration;
use crate::inputs::{Inputs, OnCancel, OnTimeout};
use crate::plan::LaunchPlan;
use crate::report::comment::{self, CommentExtras, Marker, Phase};
use crate::report::{Outcome, RunReport, human_duration};
use crate::retry::Backoff;
use crate::runtime::{EXIT_CONFIG, Runtime, finish};
use std::time::Duration;

/// Time allowed after the deadline to stop the agent and finalize the
/// comment (the deadline bounds the waiting, not the report of it).
const FINALIZE_GRACE: Duration = Duration::from_secs(30);
/// Time allowed after a cancellation signal for everything that follows
/// (finding an agent whose launch was in flight, stopping it, the final
/// comment): the step must end within 5 s; the runner kills it at ~10 s.
const CANCEL_BUDGET: Duration = Duration::from_secs(4);
/// Of the cancel budget, at most this long to look up an agent whose launch
/// was in flight, and to stop an agent.
const CANCEL_LOOKUP: Duration = Duration::from_secs(1);
const CANCEL_STOP: Duration = Duration::from_millis(1500);
/// GitHub calls made while waiting may hold up polling at most this long.
const GITHUB_CALL_BUDGET: Duration = Duration::from_secs(60);

/// The live comment.
struct Live {
    id: u64,
    url: String,
    body: String,
}

enum Start {
    Launched { adopted: bool },
    Reattached,
    FollowedUp,
}

pub struct Flow<'a> {
    rt: &'a Runtime,
    inputs: &'a Inputs,
    ctx: &'a Context,
    plan: &'a LaunchPlan,
    api: AgentApi,
    github: Option<GitHubClient>,
    /// The issue or PR to comment on, when commenting.
    issue: Option<u64>,
    report: RunReport,
    extras: CommentExtras,
    live: Option<Live>,
    /// Set when creating the comment was refused with 403: the token may not
    /// comment at all (later edits of an existing comment are still tried).
    comments_broken: bool,
    /// A create whose answer was lost: the comment may exist, so it is
    /// looked for before posting again.
    comment_maybe_posted: bool,
    /// When everything after a cancel must be done (set when first seen).
    cancel_deadline: Option<Moment>,
}

impl<'a> Flow<'a> {
    pub fn new(
        rt: &'a Runtime,
        inputs: &'a Inputs,
        ctx: &'a Context,
        plan: &'a LaunchPlan,
        api: AgentApi,
        github: Option<GitHubClient>,
    ) -> Self {
        let mut report = RunReport::new(Outcome::Launched);
        report.run_url = ctx.run_url();
        report.planned_branch = api.planned_branch();
        let issue = plan
            .issue_number
            .filter(|_| inputs.comment && github.is_some());
        let followup_phrase = inputs.trigger_phrase.clone().filter(|_| inputs.followup);
        Self {
            rt,
            inputs,
            ctx,
            plan,
            api,
            github,
            issue,
            report,
            extras: CommentExtras {
                note: None,
                followup_phrase,
            },
            live: None,
            comments_broken: false,
            comment_maybe_posted: false,
            cancel_deadline: None,
        }
    }

    /// What is left of the cancel budget, at most `want` (the budget starts
    /// when the cancel is first handled, which every call races).
    fn cancel_budget(&mut self, want: Duration) -> Duration {
        let now = self.rt.clock.now();
        let deadline = *self.cancel_deadline.get_or_insert(now + CANCEL_BUDGET);
        deadline.saturating_since(now).min(want)
    }

    fn console(&self) -> &crate::runner::Console {
        &self.rt.io.console
    }

    fn limits(&self, budget: Duration) -> Limits {
        Limits::new(
            self.rt.clock,
            self.rt.clock.now() + budget,
            Some(self.rt.cancel.clone()),
        )
    }

    fn end(&mut self, outcome: Outcome, detail: Option<String>) -> RunReport {
        self.report.outcome = outcome;
        if detail.is_some() {
            self.report.detail = detail;
        }
        self.report.clone()
    }

    /// Runs the trigger to its end. Returns the exit status.
    pub async fn run(mut self) -> u8 {
        let cancel = self.rt.cancel.clone();
        let gated = tokio::select! {
            biased;
            _ = cancel.cancelled() => None,
            r = self.gate() => Some(r),
        };
        match gated {
            Some(Ok(())) => {}
            Some(Err(code)) => return code,
            None => {
                let report = self.end(
                    Outcome::Cancelled,
                    Some(format!(
                        "The workflow run was cancelled ({}) while checking who triggered it; no agent was launched.",
                        cancel.reason().unwrap_or("cancellation")
                    )),
                );
                return self.finalize(report).await;
            }
        }
        if let Some(target) = self.ack_target() {
            self.react(target, "eyes", self.limits(Duration::from_secs(20)))
                .await;
        }
        let existing = self.existing_comments().await;
        let (agent, start) = match self.obtain_agent(&existing).await {
            Ok(v) => v,
            Err(report) => return self.finalize(report).await,
        };
        let started = self.rt.clock.now();
        self.console().info(&match start {
            Start::Launched { adopted: false } => format!(
                "Launched agent {} ({}): {}",
                agent.id,
                agent.status,
                agent.url()
            ),
            Start::Launched { adopted: true } => format!(
                "Adopted agent {} launched by this run ({}): {}",
                agent.id,
                agent.status,
                agent.url()
            ),
            Start::Reattached => format!(
                "Reattached to agent {} of an earlier attempt of this run ({}): {}",
                agent.id,
                agent.status,
                agent.url()
            ),
            Start::FollowedUp => format!(
                "Sent the comment as a follow-up to agent {} ({}): {}",
                agent.id,
                agent.status,
                agent.url()
            ),
        });
        self.report.agent = Some(agent.clone());
        self.report.run_id = self.api.run_id();
        // Written at once, so the agent is never lost whatever happens next.
        self.set_agent_outputs(&agent);
        if !self.inputs.wait {
            let outcome = match start {
                Start::FollowedUp => Outcome::FollowedUp,
                _ => Outcome::Launched,
            };
            let report = self.end(outcome, None);
            return self.finalize(report).await;
        }
        self.post_comment(
            Phase::Working {
                status: Some(agent.status.clone()),
            },
            self.limits(GITHUB_CALL_BUDGET),
        )
        .await;
        let report = self.wait(&agent, started).await;
        self.finalize(report).await
    }

    // ---- who may trigger ----

    async fn gate(&mut self) -> Result<(), u8> {
        let decision = gate::decide(self.inputs, self.ctx);
        let skip = |flow: &mut Self, reason: String| {
            let report = flow.end(Outcome::Skipped, Some(reason));
            Err(finish(flow.rt, flow.inputs, report))
        };
        let (people, bots) = match decision {
            Decision::Accept => {
                if let Some(why) = gate::gated_reason(&self.ctx.event_name) {
                    self.console()
                        .info(&format!("No permission check is needed: {why}."));
                }
                return Ok(());
            }
            Decision::Skip(reason) => return skip(self, reason),
            Decision::Invalid { input, problem } => {
                self.console()
                    .error(&format!("1 input is invalid:\n  - `{input}`: {problem}"));
                return Err(EXIT_CONFIG);
            }
            Decision::Check { people, bots } => (people, bots),
        };
        for login in &bots {
            self.console()
                .info(&format!("Triggered by {login}, listed in `allowed-bots`."));
        }
        if people.is_empty() {
            return Ok(());
        }
        let Some(github) = self.github.clone() else {
            self.console().error(&format!(
                "1 input is invalid:\n  - `github-token`: is empty, but a `{}` event needs it to check that {} may trigger the agent; remove the override (the default is `${{{{ github.token }}}}`) or pass a token",
                self.ctx.event_name,
                people.join(" and ")
            ));
            return Err(EXIT_CONFIG);
        };
        for login in &people {
            let limits = self.limits(Duration::from_secs(120));
            match policy::idempotent(&limits, || github.permission(login)).await {
                Ok(role) if gate::role_may_trigger(&role) => {
                    self.console()
                        .info(&format!("Triggered by {login} ({role} permission)."));
                }
                Ok(role) => {
                    return skip(
                        self,
                        format!(
                            "{login} has {role} permission on {}; write, maintain or admin is needed to trigger the agent.",
                            self.ctx.repo
                        ),
                    );
                }
                // GitHub answers 404 for someone who is not a collaborator.
                Err(e) if e.status() == Some(404) => {
                    return skip(
                        self,
                        format!(
                            "{login} is not a collaborator on {} (GitHub answered 404 to the permission check); write, maintain or admin is needed to trigger the agent.",
                            self.ctx.repo
                        ),
                    );
                }
                Err(e) => {
                    let detail = format!(
                        "Could not check whether {login} may trigger the agent, so nothing was launched. {}",
                        e.actionable(&format!("read {login}'s permission"))
                    );
                    let report = self.end(Outcome::Error, Some(detail));
                    return Err(finish(self.rt, self.inputs, report));
                }
            }
        }
        Ok(())
    }

    /// What the 👀 and the final reaction go on. A pull-request review gets
    /// none: GitHub's reactions API has no endpoint for reviews.
    fn ack_target(&self) -> Option<ReactionOn> {
        self.issue?;
        Some(match self.ctx.event() {
            Event::IssueComment { comment, .. } => ReactionOn::Comment(comment.id),
            Event::PullRequestReviewComment { comment, .. } => {
                ReactionOn::ReviewComment(comment.id)
            }
            Event::PullRequestReview { .. } => return None,
            _ => ReactionOn::Issue(self.ctx.issue_number()?),
        })
    }

    async fn react(&self, on: ReactionOn, content: &str, limits: Limits) {
        let Some(github) = &self.github else { return };
        if self.issue.is_none() || self.comments_broken {
            return;
        }
        if let Err(e) = policy::idempotent(&limits, || github.react(on, content)).await
            && e != GitHubError::Cancelled
        {
            self.console()
                .warning(&e.actionable(&format!("add a {content} reaction")));
        }
    }

    // ---- which agent ----

    async fn existing_comments(&mut self) -> Vec<IssueComment> {
        let (Some(issue), Some(github)) = (self.issue, self.github.clone()) else {
            return Vec::new();
        };
        match policy::idempotent(&self.limits(Duration::from_secs(120)), || {
            github.list_comments(issue)
        })
        .await
        {
            Ok(c) => c,
            Err(GitHubError::Cancelled) => Vec::new(),
            Err(e) => {
                self.console()
                    .warning(&e.actionable(&format!("read the comments of #{issue}")));
                Vec::new()
            }
        }
    }

    /// Written at once, so the agent is never lost whatever happens next.
    fn set_agent_outputs(&self, agent: &Agent) {
        self.rt.io.set_outputs(&[
            ("agent-id", agent.id.clone()),
            ("agent-url", agent.url()),
            ("run-id", self.api.run_id().unwrap_or_default()),
        ]);
    }

    async fn obtain_agent(
        &mut self,
        existing: &[IssueComment],
    ) -> Result<(Agent, Start), RunReport> {
        let marked: Vec<(&IssueComment, Marker)> = existing
            .iter()
            .filter(|c| c.is_trusted())
            .filter_map(|c| Marker::find(&c.body).map(|m| (c, m)))
            .collect();

        // Set when a re-run replaces its failed agent: a new launch, not a
        // follow-up to that agent.
        let mut replacing = false;
        // A re-run of this workflow run: its comment, and its agent if any.
        if let Some(run) = self.ctx.run_id
            && let Some((c, m)) = marked.iter().rev().find(|(_, m)| {
                m.run == Some(run) && m.key.as_deref().is_none_or(|k| k == self.plan.key)
            })
        {
            self.live = Some(Live {
                id: c.id,
                url: c.html_url.clone(),
                body: c.body.clone(),
            });
            self.report.comment_url = Some(c.html_url.clone());
            if let Some(id) = &m.agent {
                match self.api.reattach(id, m.run_id.as_deref()).await {
                    Ok(agent) if failed_for_good(&agent) => {
                        self.replace_failed(&agent);
                        replacing = true;
                    }
                    Ok(agent) => return Ok((agent, Start::Reattached)),
                    Err(Failure::Cancelled) => return Err(self.cancelled_before_launch()),
                    Err(e) => self.console().warning(&format!(
                        "The agent {id} named by this run's comment is not available ({}); launching a new one.",
                        e.describe()
                    )),
                }
            }
        } else if self.ctx.run_attempt > 1 {
            // No comment to go by: look the agent up by the launch's
            // identity (its derived branch on v0, its agentId on v1).
            let found = self.api.find_own().await;
            if self.rt.cancel.is_cancelled() {
                return Err(self.cancelled_before_launch());
            }
            match found {
                Some(agent) if failed_for_good(&agent) => {
                    self.replace_failed(&agent);
                    replacing = true;
                }
                Some(agent) => return Ok((agent, Start::Reattached)),
                None => {}
            }
        }

        // A comment on an issue that already has an agent: a follow-up.
        if self.inputs.followup
            && !replacing
            && self.ctx.is_followup_trigger()
            && let Some(id) = marked.iter().rev().find_map(|(_, m)| m.agent.clone())
        {
            match self.followup(&id).await {
                Ok(agent) => return Ok((agent, Start::FollowedUp)),
                Err(Some(note)) => self.extras.note = Some(note),
                Err(None) => return Err(self.report.clone()),
            }
        }

        self.api.print_launch(self.console());
        let console = self.rt.io.console.clone();
        match self.api.launch(&console).await {
            Ok((agent, adopted)) => Ok((agent, Start::Launched { adopted })),
            Err(LaunchError::Cancelled) => Err(self.cancelled_before_launch()),
            Err(LaunchError::CancelledInFlight) => Err(self.cancelled_in_flight().await),
            Err(LaunchError::Failed(e)) => Err(self.end(
                Outcome::Error,
                Some(format!("Could not launch the agent. {}", self.cursor_failure(&e))),
            )),
            Err(LaunchError::Unknown(e)) => Err(self.end(
                Outcome::Error,
                Some(format!(
                    "The launch may have created an agent, but it could not be confirmed ({e}). Check https://cursor.com/agents before re-running, to avoid a duplicate."
                )),
            )),
        }
    }

    /// A re-run found its agent ended for good (ERROR, EXPIRED): re-running
    /// means trying again, so a new agent is launched, on a fresh branch when
    /// the branch is derived (the old one holds the failed agent's work).
    fn replace_failed(&mut self, old: &Agent) {
        let why = format!(
            "The agent {} of an earlier attempt ended {}, so this attempt launched a new agent.",
            old.id, old.status
        );
        self.console().info(&why);
        self.extras.note = Some(why);
        self.api.replace_failed(self.ctx.run_attempt);
        self.report.planned_branch = self.api.planned_branch();
    }

    /// What a failed Cursor call means for the user: a connection that
    /// failed through a proxy names the proxy (and its variable), not the API.
    fn cursor_failure(&self, e: &ApiError) -> String {
        if let crate::cursor::CursorError::Transport {
            maybe_sent: false,
            message,
            ..
        } = e.as_v0()
            && let Some(route) = crate::http::proxy_for(&self.rt.env, self.inputs.api_url.as_str())
        {
            return format!(
                "Could not connect through the proxy {} set by `{}` ({}). Check that the proxy is up and that `{}` (and `NO_PROXY`) are right for this runner.",
                route.host,
                route.variable,
                crate::cursor::one_line(&message, 200),
                route.variable
            );
        }
        e.actionable(&self.plan.repository)
    }

    /// Cancelled while the launch request was in flight: an agent may exist.
    /// Looked up by its branch within the cancel budget; found, it is linked
    /// and `on-cancel` applies to it; otherwise the report says what to check.
    async fn cancelled_in_flight(&mut self) -> RunReport {
        let signal = self.rt.cancel.reason().unwrap_or("cancellation");
        let budget = self.cancel_budget(CANCEL_LOOKUP);
        match self.api.find_in_flight(budget).await {
            Ok(agent) => {
                self.console().info(&format!(
                    "The launch in flight at the cancel created agent {}: {}",
                    agent.id,
                    agent.url()
                ));
                self.set_agent_outputs(&agent);
                self.report.run_id = self.api.run_id();
                self.report.agent = Some(agent);
                self.cancelled().await
            }
            Err(why) => {
                let hint = self.api.in_flight_hint();
                self.end(
                    Outcome::Cancelled,
                    Some(format!(
                        "The workflow run was cancelled ({signal}) while the launch request was in flight, so an agent may have been launched ({why}). {hint} and stop it if it is not wanted."
                    )),
                )
            }
        }
    }

    fn cancelled_before_launch(&mut self) -> RunReport {
        self.end(
            Outcome::Cancelled,
            Some("The workflow run was cancelled before an agent was launched.".into()),
        )
    }

    /// Sends the triggering comment to agent `id`. `Err(Some(note))`: the
    /// agent is gone, launch a new one; `Err(None)`: failed (report set).
    /// An agent busy with another run gets it when that run ends (within
    /// `timeout`, said in the comment meanwhile), exactly once.
    async fn followup(&mut self, id: &str) -> Result<Agent, Option<String>> {
        let Some(text) = crate::prompt::followup_text(self.ctx) else {
            return Err(Some(
                "The comment could not be read, so a new agent was launched.".into(),
            ));
        };
        let console = self.console();
        console.group(&format!("Sending a follow-up to agent {id}"));
        console.untrusted_block(&text);
        console.endgroup();
        let deadline = self.rt.clock.now() + self.inputs.timeout;
        let mut waited = false;
        loop {
            match self.api.followup(id, &text).await {
                Followup::Sent(agent) => {
                    if waited {
                        self.extras.note = Some(format!(
                            "Agent {id} was busy with another run when this comment came; the follow-up was sent when that run ended."
                        ));
                    }
                    return Ok(agent);
                }
                Followup::Gone(note) => return Err(Some(note)),
                Followup::CancelledInFlight => {
                    self.cancelled_during_followup(id).await;
                    return Err(None);
                }
                Followup::Failed { error, agent } => {
                    self.end(
                        Outcome::Error,
                        Some(format!(
                            "Could not send the follow-up to agent {id}. {}",
                            self.cursor_failure(&error)
                        )),
                    );
                    // The agent is still this trigger's: report it.
                    if agent.is_some() {
                        self.report.agent = agent;
                        self.report.run_id = self.api.run_id();
                    }
                    return Err(None);
                }
                Followup::Unread(e) => {
                    self.end(Outcome::Error, Some(format!(
                        "The follow-up was sent to agent {id}, but its status could not be read ({}).",
                        e.describe()
                    )));
                    return Err(None);
                }
                Followup::Busy => {
                    let limit = format_duration(self.inputs.timeout);
                    let note = format!(
                        "Agent {id} is busy with another run; this follow-up is sent when that run ends (waiting at most {limit}, `timeout`)."
                    );
                    self.console().info(&note);
                    self.extras.note = Some(note);
                    if let Ok(agent) = self.api.read(id).await {
                        self.report.agent = Some(agent);
                    }
                    self.post_comment(
                        Phase::Working { status: None },
                        self.limits(GITHUB_CALL_BUDGET),
                    )
                    .await;
                    match self.api.await_idle(id, deadline).await {
                        Ok(()) => waited = true,
                        Err(Failure::Cancelled) => {
                            let signal = self.rt.cancel.reason().unwrap_or("cancellation");
                            self.end(
                                Outcome::Cancelled,
                                Some(format!(
                                    "The workflow run was cancelled ({signal}) while the follow-up waited for agent {id}'s current run to end; it was not sent."
                                )),
                            );
                            return Err(None);
                        }
                        Err(Failure::Deadline(_)) => {
                            self.end(
                                Outcome::Timeout,
                                Some(format!(
                                    "Agent {id} stayed busy with another run for {limit} (`timeout`), so this follow-up was not sent. Comment again when it is done, or raise `timeout`."
                                )),
                            );
                            return Err(None);
                        }
                        Err(e) => {
                            self.end(
                                Outcome::Error,
                                Some(format!(
                                    "Agent {id} is busy with another run, and waiting for it failed ({}), so this follow-up was not sent.",
                                    e.describe()
                                )),
                            );
                            return Err(None);
                        }
                    }
                }
            }
        }
    }

    /// Cancelled while sending a follow-up to agent `id`: it may have landed.
    /// The agent is reported (read within the cancel budget) and `on-cancel`
    /// applies to it.
    async fn cancelled_during_followup(&mut self, id: &str) {
        let budget = self.cancel_budget(CANCEL_LOOKUP);
        let clock = self.rt.clock;
        if let Ok(Ok(agent)) = clock.timeout(budget, self.api.read_uncancelled(id)).await {
            self.report.agent = Some(agent);
            self.report.run_id = self.api.run_id();
        }
        let signal = self.rt.cancel.reason().unwrap_or("cancellation");
        if self.report.agent.is_some() {
            let report = self.cancelled().await;
            let detail = report.detail.unwrap_or_default();
            self.end(
                Outcome::Cancelled,
                Some(format!(
                    "The follow-up to agent {id} was in flight at the cancel, so it may have reached the agent. {detail}"
                )),
            );
        } else {
            self.end(
                Outcome::Cancelled,
                Some(format!(
                    "The workflow run was cancelled ({signal}) while the follow-up to agent {id} was in flight, so it may have reached the agent: check {}.",
                    crate::cursor::agent_url(id)
                )),
            );
        }
    }

    // ---- the comment ----

    fn marker(&self) -> Marker {
        Marker::new(
            self.report.agent_id(),
            self.ctx.run_id,
            self.ctx.run_attempt,
        )
        .with_key(&self.plan.key)
        .with_run(self.report.run_id.as_deref())
    }

    /// Creates or updates the comment; failures are warned about, never
    /// fatal, and never stop later updates: a rejected edit is tried again
    /// with the next body, a deleted comment (404) is replaced by a new one,
    /// and only a 403 on creating it (no permission to comment) stops
    /// commenting for the run.
    async fn post_comment(&mut self, phase: Phase, limits: Limits) {
        let (Some(issue), Some(github)) = (self.issue, self.github.clone()) else {
            return;
        };
        if self.comments_broken {
            return;
        }
        // Summaries and API errors can echo a secret: the comment is public.
        let body = self.console().redact(&comment::render(
            &self.marker(),
            &self.report,
            &phase,
            &self.extras,
        ));
        let mine = self.marker();
        let is_ours = |c: &IssueComment| {
            Marker::find(&c.body).is_some_and(|m| {
                m.run == mine.run && m.attempt == mine.attempt && m.key == mine.key
            })
        };
        if self.live.is_none() && self.comment_maybe_posted {
            // An earlier create may have landed: edit it rather than duplicate it.
            if let Ok(comments) = policy::idempotent(&limits, || github.list_comments(issue)).await
                && let Some(c) = comments.into_iter().rev().find(|c| is_ours(c))
            {
                self.live = Some(Live {
                    id: c.id,
                    url: c.html_url,
                    body: c.body,
                });
                self.comment_maybe_posted = false;
            }
        }
        let final_phase = matches!(phase, Phase::Final);
        let mut attempt = 0u32;
        let result = loop {
            attempt += 1;
            let result = match &self.live {
                Some(live) if live.body == body => return,
                Some(live) => {
                    let id = live.id;
                    match policy::idempotent(&limits, || github.update_comment(id, &body)).await {
                        Err(e @ GitHubError::Status { status: 404, .. }) => {
                            // Deleted, or a passing 404: the list tells which.
                            let listed =
                                policy::idempotent(&limits, || github.list_comments(issue)).await;
                            match listed {
                                Ok(comments) if !comments.iter().any(|c| c.id == id) => {
                                    self.console().warning(&format!(
                                        "The comment on #{issue} was deleted; posting a new one."
                                    ));
                                    self.live = None;
                                    policy::create_comment(&github, &limits, issue, &body, is_ours)
                                        .await
                                }
                                _ => Err(e),
                            }
                        }
                        other => other,
                    }
                }
                None => policy::create_comment(&github, &limits, issue, &body, is_ours).await,
            };
            match result {
                // The final state must land: transient failures are retried
                // for as long as the budget allows.
                Err(ref e)
                    if final_phase
                        && attempt < 8
                        && !matches!(e, GitHubError::Cancelled)
                        && e.class(0, 0) != crate::github::GitHubClass::Fatal =>
                {
                    let wait = Backoff::default().delay(attempt, 0.5);
                    let clock = self.rt.clock;
                    if clock.now() + wait >= limits.deadline {
                        break result;
                    }
                    clock.sleep(wait).await;
                }
                other => break other,
            }
        };
        match result {
            Ok(c) => {
                self.report.comment_url = Some(c.html_url.clone());
                self.comment_maybe_posted = false;
                self.live = Some(Live {
                    id: c.id,
                    url: c.html_url,
                    body,
                });
            }
            // Cancelled mid-call: the final edit follows within the cancel budget.
            Err(e) => {
                let creating = self.live.is_none();
                if creating && e.maybe_applied() {
                    self.comment_maybe_posted = true;
                }
                if !matches!(e, GitHubError::Cancelled) {
                    let what = if creating {
                        format!("comment on #{issue}")
                    } else {
                        format!("update its comment on #{issue}")
                    };
                    self.console().warning(&e.actionable(&what));
                }
                if creating && e.status() == Some(403) {
                    self.comments_broken = true;
                }
            }
        }
        if let Some(live) = &self.live {
            self.report.comment_url = Some(live.url.clone());
        }
    }

    // ---- waiting ----

    async fn wait(&mut self, agent: &Agent, started: Moment) -> RunReport {
        let clock = self.rt.clock;
        let deadline = started + self.inputs.timeout;
        let console = self.rt.io.console.clone();
        console.group(&format!(
            "Waiting for agent {} (at most {})",
            agent.id,
            format_duration(self.inputs.timeout)
        ));
        // The watch borrows its own handle, so the comment can be updated meanwhile.
        let api = self.api.clone();
        let mut watch = api.watch(agent, started, deadline);
        let mut last_status = agent.status.clone();
        let end = loop {
            let elapsed = human_duration(clock.now().saturating_since(started));
            match watch.next().await {
                WatchEvent::Status(a) => {
                    if !a.status.is_known() {
                        console.warning(&format!(
                            "The agent reports a status this action does not know ({}); waiting on as if it were running.",
                            a.status
                        ));
                    }
                    if a.status != last_status {
                        console.info(&format!("[{elapsed}] {last_status} → {}", a.status));
                        last_status = a.status.clone();
                    } else {
                        console.info(&format!("[{elapsed}] {}", a.status));
                    }
                    self.report.agent = Some(a.clone());
                    let limits = Limits::new(
                        clock,
                        (clock.now() + GITHUB_CALL_BUDGET).min(deadline),
                        Some(self.rt.cancel.clone()),
                    );
                    self.post_comment(
                        Phase::Working {
                            status: Some(a.status),
                        },
                        limits,
                    )
                    .await;
                }
                // The agent's words and tools are untrusted: one neutralized line each.
                WatchEvent::Said(line) => console.info(&format!(
                    "[{elapsed}] agent: {}",
                    crate::cursor::one_line(&line, 300)
                )),
                WatchEvent::Tool { name, completed } => console.info(&format!(
                    "[{elapsed}] tool {} {}",
                    crate::cursor::one_line(&name, 80),
                    if completed { "done" } else { "started" }
                )),
                WatchEvent::Heartbeat { elapsed, status } => {
                    console.info(&format!("[{}] still {status}", human_duration(elapsed)));
                }
                WatchEvent::Retrying { error, wait } => {
                    console.info(&format!("{error}; retrying in {}s", wait.as_secs().max(1)));
                }
                // The follower says it once in the log itself.
                WatchEvent::FallingBack(why) => tracing::debug!("{why}"),
                WatchEvent::Done(end) => break end,
            }
        };
        console.endgroup();
        if let Some(a) = watch.last() {
            self.report.agent = Some(a.clone());
        }
        drop(watch);
        let now = clock.now();
        self.report.duration = Some(now.saturating_since(started));
        match end {
            WatchEnd::Ended { agent, note } => {
                let outcome = match agent.status {
                    AgentStatus::Finished => Outcome::Finished,
                    AgentStatus::Expired => Outcome::Expired,
                    AgentStatus::Stopped | AgentStatus::Cancelled => Outcome::Stopped,
                    _ => Outcome::Error,
                };
                console.info(&format!(
                    "Agent {} ended {} after {}.",
                    agent.id,
                    agent.status,
                    human_duration(now.saturating_since(started))
                ));
                if let Some(note) = note {
                    console.warning(&note);
                    self.extras.note = Some(note);
                }
                self.report.summary = match agent.summary() {
                    Some(s) => Some(s.to_string()),
                    None => self.api.fallback_summary(&agent.id, deadline).await,
                };
                if let Some(summary) = &self.report.summary {
                    console.info("Summary:");
                    console.untrusted_block(summary);
                }
                self.report.agent = Some(agent);
                self.end(outcome, None)
            }
            WatchEnd::Deadline => self.timed_out().await,
            WatchEnd::Cancelled => self.cancelled().await,
            WatchEnd::Failed(e) => {
                let detail = format!("Lost track of the agent: {}", self.cursor_failure(&e));
                self.end(Outcome::Error, Some(detail))
            }
        }
    }

    /// Stops the agent within `budget` (and records it as stopped); the error
    /// says why not, for the report.
    async fn stop_agent(&mut self, budget: Duration) -> Result<(), String> {
        let Some(id) = self.report.agent_id().map(String::from) else {
            return Err("no agent".into());
        };
        let clock = self.rt.clock;
        // The run may already be cancelled, so this waits on its budget
        // only. A cancel arriving meanwhile shortens it to the cancel budget.
        let run_cancel = self.rt.cancel.clone();
        let raced = if run_cancel.is_cancelled() {
            Some(self.api.stop(&id, clock.now() + budget).await)
        } else {
            let mut api = self.api.clone();
            tokio::select! {
                r = api.stop(&id, clock.now() + budget) => Some(r),
                _ = run_cancel.cancelled() => None,
            }
        };
        let stopped = match raced {
            Some(r) => r,
            None => {
                let left = self.cancel_budget(CANCEL_STOP);
                self.api.stop(&id, clock.now() + left).await
            }
        };
        let status = stopped?;
        if let Some(a) = self.report.agent.as_mut() {
            a.status = status;
        }
        Ok(())
    }

    async fn timed_out(&mut self) -> RunReport {
        let limit = format_duration(self.inputs.timeout);
        let url = self.report.agent_url().unwrap_or_default();
        let detail = match self.inputs.on_timeout {
            OnTimeout::Fail => format!(
                "The agent did not finish within {limit} (`timeout`) and is still running in Cursor: {url}. Follow it there, or raise `timeout`."
            ),
            OnTimeout::Continue => format!(
                "The agent did not finish within {limit} (`timeout`); it is still running in Cursor: {url}. `on-timeout: continue`, so this step succeeds."
            ),
            OnTimeout::Stop => match self.stop_agent(Duration::from_secs(15)).await {
                Ok(()) => format!(
                    "The agent did not finish within {limit} (`timeout`), so it was stopped (`on-timeout: stop`).{}",
                    if self.extras.followup_phrase.is_some() {
                        " A follow-up comment resumes it."
                    } else {
                        ""
                    }
                ),
                Err(why) => format!(
                    "The agent did not finish within {limit} (`timeout`); stopping it failed ({why}), so it may still be running: {url}."
                ),
            },
        };
        // A signal during the stop: the step ends cancelled (the detail says
        // what became of the agent), within the cancel budget.
        if let Some(signal) = self.rt.cancel.reason() {
            return self.end(
                Outcome::Cancelled,
                Some(format!(
                    "The workflow run was cancelled ({signal}) after the deadline. {detail}"
                )),
            );
        }
        self.end(Outcome::Timeout, Some(detail))
    }

    async fn stop_within_cancel_budget(&mut self) -> Result<(), String> {
        let budget = self.cancel_budget(CANCEL_STOP);
        self.stop_agent(budget).await
    }

    async fn cancelled(&mut self) -> RunReport {
        let signal = self.rt.cancel.reason().unwrap_or("cancellation");
        let detail = match self.inputs.on_cancel {
            OnCancel::Leave => format!(
                "The workflow run was cancelled ({signal}); the agent keeps running in Cursor (`on-cancel: leave`): {}",
                self.report.agent_url().unwrap_or_default()
            ),
            OnCancel::Stop => match self.stop_within_cancel_budget().await {
                Ok(()) => format!(
                    "The workflow run was cancelled ({signal}), so the agent was stopped (`on-cancel: stop`)."
                ),
                Err(why) => format!(
                    "The workflow run was cancelled ({signal}); stopping the agent failed ({why}), so it may still be running: stop it in Cursor at {}.",
                    self.report.agent_url().unwrap_or_default()
                ),
            },
        };
        self.end(Outcome::Cancelled, Some(detail))
    }

    // ---- the end ----

    /// Finalizes the comment (never left saying "working"), reacts, and
    /// writes outputs and the summary.
    async fn finalize(mut self, report: RunReport) -> u8 {
        self.report = report;
        let clock = self.rt.clock;
        let cancelled = self.rt.cancel.is_cancelled();
        let limits = if cancelled {
            let left = self.cancel_budget(CANCEL_BUDGET);
            Limits::new(clock, clock.now() + left, None)
        } else {
            Limits::new(clock, clock.now() + FINALIZE_GRACE, None)
        };
        // After a cancel, a comment is finalized where one exists (or may),
        // or created when there is an agent to link; never started for a
        // run that launched nothing.
        let worth_a_comment = !cancelled
            || self.live.is_some()
            || self.comment_maybe_posted
            || self.report.agent.is_some();
        if worth_a_comment {
            self.post_comment(Phase::Final, limits.clone()).await;
        }
        if !cancelled && let Some(target) = self.ack_target() {
            let outcome = self.report.outcome;
            let content = match outcome {
                Outcome::Finished | Outcome::Launched | Outcome::FollowedUp => Some("rocket"),
                Outcome::Timeout if self.inputs.on_timeout == OnTimeout::Continue => None,
                Outcome::Error | Outcome::Expired | Outcome::Stopped | Outcome::Timeout => {
                    Some("confused")
                }
                _ => None,
            };
            if let Some(content) = content {
                self.react(target, content, limits).await;
            }
        }
        finish(self.rt, self.inputs, self.report)
    }
}

/// An agent a re-run should replace rather than reattach to: it ended
/// without finishing (ERROR, EXPIRED, or stopped — e.g. at our deadline with
/// `on-timeout: stop`), so reattaching would only report that again, while
/// re-running means trying again.
fn failed_for_good(agent: &Agent) -> bool {
    matches!(
        agent.status,
        AgentStatus::Error | AgentStatus::Expired | AgentStatus::Stopped | AgentStatus::Cancelled
    )
}
