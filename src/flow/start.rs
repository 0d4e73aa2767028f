//! Who may trigger, and which agent: reattach (a re-run), follow up (a comment on an issue with an agent) or launch.

use super::job::JobStart;
use super::*;

impl Flow<'_> {
    // ---- who may trigger ----

    pub(super) async fn gate(&mut self) -> Result<(), u8> {
        if self.seed.is_some() {
            // Fix-CI checked every person (the event's and the pull
            // request's author) before it seeded the flow.
            return Ok(());
        }
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
                "1 input is invalid:\n  - `github-token`: {}",
                gate::empty_token_problem(&self.ctx.event_name, &people)
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
                        self.github_failure(&e, &format!("read {login}'s permission"))
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
    pub(super) fn ack_target(&self) -> Option<ReactionOn> {
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

    pub(super) async fn react(&self, on: ReactionOn, content: &str, limits: Limits) {
        let Some(github) = &self.github else { return };
        if self.issue.is_none() || self.comments_broken {
            return;
        }
        if let Err(e) = policy::idempotent(&limits, || github.react(on, content)).await
            && e != GitHubError::Cancelled
        {
            self.console()
                .warning(&self.github_failure(&e, &format!("add a {content} reaction")));
        }
    }

    // ---- which agent ----

    pub(super) async fn existing_comments(&mut self) -> Vec<IssueComment> {
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
                    .warning(&self.github_failure(&e, &format!("read the comments of #{issue}")));
                Vec::new()
            }
        }
    }

    /// Written at once, so the agent is never lost whatever happens next.
    pub(super) fn set_agent_outputs(&self, agent: &AgentRun) {
        self.rt.io.set_outputs(&[
            ("agent-id", agent.id.clone()),
            ("agent-url", agent.url.clone()),
            ("run-id", self.api.run_id().unwrap_or_default()),
        ]);
    }

    pub(super) async fn obtain_agent(
        &mut self,
        existing: &[IssueComment],
    ) -> Result<(AgentRun, Start), RunReport> {
        // Only believed markers steer anything below (reattach, a job's
        // state, follow-ups, the cap, and so `archive-when-done`).
        let marked = self.believed(existing);

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

        // Fixing CI: the pull request's agent gets the next attempt as a
        // follow-up (never a second agent); without one, a launch.
        if let Some(seed) = self.seed.clone() {
            if let Some(id) = seed.followup.as_deref().filter(|_| !replacing) {
                match self.followup(id, seed.prompt.clone()).await {
                    Ok(agent) => return Ok((agent, Start::FollowedUp)),
                    Err(Some(note)) => {
                        self.extras.note = Some(note);
                        if let Some(s) = self.seed.as_mut()
                            && let Some(last) = s.ci.h.last_mut()
                        {
                            last.what = "launched".into();
                        }
                    }
                    Err(None) => return Err(self.report.clone()),
                }
            }
            return self.launch_new().await;
        }

        // A scheduled job: one agent at a time, one open pull request.
        if let Some(job) = self.job.clone() {
            match self.start_job(&job, &marked).await {
                JobStart::Fresh | JobStart::OnPull => {}
                JobStart::Continued(agent) => return Ok((*agent, Start::Continued)),
                JobStart::End(report) => return Err(*report),
            }
        }

        // A comment on an issue that already has an agent: a follow-up.
        if self.inputs.followup
            && !replacing
            && self.ctx.is_followup_trigger()
            && let Some(id) = marked.iter().rev().find_map(|(_, m)| m.agent.clone())
        {
            match crate::prompt::followup_text(self.ctx) {
                None => {
                    self.extras.note =
                        Some("The comment could not be read, so a new agent was launched.".into())
                }
                Some(text) => match self.followup(&id, text).await {
                    Ok(agent) => return Ok((agent, Start::FollowedUp)),
                    Err(Some(note)) => self.extras.note = Some(note),
                    Err(None) => return Err(self.report.clone()),
                },
            }
        }

        // The budget guardrail: a new launch only (not a reattach or a
        // follow-up), counted from the action's own trusted markers.
        if let Some(issue) = self.plan.issue_number {
            let cap = crate::launch_cap::decide(
                self.inputs.max_launches_per_issue,
                marked.iter().map(|(_, m)| m),
            );
            if let Some(message) = cap.message(issue) {
                return Err(self.end(Outcome::Skipped, Some(message)));
            }
        }
        self.launch_new().await
    }

    /// Launches a new agent (the seam keeps it from ever making two).
    pub(super) async fn launch_new(&mut self) -> Result<(AgentRun, Start), RunReport> {
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
            Err(LaunchError::WaitRefused { error, why }) => Err(self.end(
                Outcome::Error,
                Some(format!(
                    "Could not launch the agent, and no agent was launched: {why}. {}",
                    self.cursor_failure(&error)
                )),
            )),
            Err(LaunchError::Unknown(e)) => Err(self.end(
                Outcome::Error,
                Some(format!(
                    "The launch may have created an agent, but it could not be confirmed. Check https://cursor.com/agents before re-running, to avoid a duplicate. {}",
                    self.cursor_failure(&e)
                )),
            )),
        }
    }

    /// A re-run found its agent ended for good (ERROR, EXPIRED): re-running
    /// means trying again, so a new agent is launched, on a fresh branch when
    /// the branch is derived (the old one holds the failed agent's work).
    pub(super) fn replace_failed(&mut self, old: &AgentRun) {
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
    pub(super) fn cursor_failure(&self, e: &ApiError) -> String {
        if let Some(message) = e.unsent_transport_message()
            && let Some(route) = kit::http::proxy_for(&self.rt.env, self.inputs.api_url.as_str())
        {
            return format!(
                "Could not connect through the proxy {} set by `{}` ({}). Check that the proxy is up and that `{}` (and `NO_PROXY`) are right for this runner.",
                route.host,
                route.variable,
                cursor_api::one_line(&self.rt.io.console.redactor(), &message, 200),
                route.variable
            );
        }
        e.actionable(&self.plan.repository)
    }

    /// What to do about a failed GitHub call; one that could not get through
    /// a proxy names the proxy (and its variable), not GitHub.
    pub(super) fn github_failure(&self, e: &crate::github::GitHubError, what: &str) -> String {
        let route = kit::http::proxy_for(&self.rt.env, &self.ctx.api_url);
        e.actionable_via(what, route.as_ref())
    }

    /// Cancelled while the launch request was in flight: an agent may exist.
    /// Looked up by its branch within the cancel budget; found, it is linked
    /// and `on-cancel` applies to it; otherwise the report says what to check.
    pub(super) async fn cancelled_in_flight(&mut self) -> RunReport {
        let signal = self.rt.cancel.reason().unwrap_or("cancellation");
        let budget = self.cancel_budget(CANCEL_LOOKUP);
        match self.api.find_in_flight(budget).await {
            Ok(agent) => {
                self.console().info(&format!(
                    "The launch in flight at the cancel created agent {}: {}",
                    agent.id, agent.url
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

    pub(super) fn cancelled_before_launch(&mut self) -> RunReport {
        self.end(
            Outcome::Cancelled,
            Some("The workflow run was cancelled before an agent was launched.".into()),
        )
    }

    /// Sends `text` (the triggering comment, or a job's prompt) to agent `id`. `Err(Some(note))`: the
    /// agent is gone, launch a new one; `Err(None)`: failed (report set).
    /// An agent busy with another run gets it when that run ends (within
    /// `timeout`, said in the comment meanwhile), exactly once.
    pub(super) async fn followup(
        &mut self,
        id: &str,
        text: String,
    ) -> Result<AgentRun, Option<String>> {
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
    pub(super) async fn cancelled_during_followup(&mut self, id: &str) {
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
                    crate::agent::page_url(id)
                )),
            );
        }
    }
}

/// An agent a re-run should replace rather than reattach to: it ended
/// without finishing (ERROR, EXPIRED, or stopped — e.g. at our deadline with
/// `on-timeout: stop`), so reattaching would only report that again, while
/// re-running means trying again.
fn failed_for_good(agent: &AgentRun) -> bool {
    matches!(
        agent.status,
        Status::Error | Status::Expired | Status::Stopped | Status::Cancelled
    )
}
