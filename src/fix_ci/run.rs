//! One fix-CI run (issue 26), the I/O around [`super::policy`]: which
//! failed run, which pull request, who, the fix comment's signed state,
//! the evidence, then either a launch or a follow-up through the flow
//! ([`crate::flow::Seed`]), or a skip that says why (the `reason` output,
//! a notice, and the comment where there is one).
//!
//! Order, cheapest refusal first: the conclusion; bots; the pull request
//! (named by the run, else the open one at its head); stale; forks (a
//! diagnosis comment, never an agent); the people; the comment; the
//! evidence; the loop guard; a busy agent.

use super::gather::{self, Evidence};
use super::policy::{self, Next, Reason};
use super::stand_in as prompt;
use crate::agent::{AgentApi, Setup};
use crate::context::{Context, Event};
use crate::flow::{Flow, Seed};
use crate::gate::{self, Decision};
use crate::github::actions::JobLogs;
use crate::github::policy::{Limits, idempotent};
use crate::github::runs::{self, WorkflowRun};
use crate::github::{GitHubClient, GitHubError, IssueComment, PullRequest};
use crate::inputs::{Inputs, PromptSource};
use crate::marker::ci::CiState;
use crate::marker::{self, Marker, MarkerKey, STATE_FINAL};
use crate::report::{Outcome, RunReport, markdown};
use crate::runtime::{EXIT_CONFIG, Runtime, finish};
use std::time::Duration;

/// Time for each group of GitHub reads (the listing, the evidence).
const READ_BUDGET: Duration = Duration::from_secs(120);

/// Whether this run is a fix-CI run: `fix-ci: true` on `workflow_run`, or
/// on a comment on a pull request.
pub fn applies(inputs: &Inputs, ctx: &Context) -> bool {
    inputs.fix_ci
        && (matches!(ctx.event(), Event::WorkflowRun { .. })
            || (matches!(ctx.event(), Event::IssueComment { .. }) && ctx.is_pull_request()))
}

/// The warning for `fix-ci: true` on an event it does not apply to (one
/// workflow file may serve several events, so this is not an error).
pub fn ignored_warning(inputs: &Inputs, ctx: &Context) -> Option<String> {
    (inputs.fix_ci && !applies(inputs, ctx)).then(|| {
        format!(
            "`fix-ci` is ignored on the `{}` event: it acts on `workflow_run` (a completed run) and on comments on pull requests. This run goes ahead as usual.",
            ctx.event_name
        )
    })
}

/// Runs fix-CI for this event. Returns the exit status.
pub async fn run(rt: &Runtime, inputs: &Inputs, ctx: &Context) -> u8 {
    let Some(token) = &inputs.github_token else {
        rt.io.console.error("1 input is invalid:\n  - `github-token`: is empty, and `fix-ci` needs it to read the failed run's jobs and logs and to comment on the pull request; pass `${{ github.token }}` with `permissions: actions: read, pull-requests: write, issues: write`.");
        return EXIT_CONFIG;
    };
    let http = match kit::http::client(&rt.env) {
        Ok(h) => h,
        Err(e) => {
            rt.io.console.error(&e.to_string());
            return EXIT_CONFIG;
        }
    };
    let redactor = rt.io.console.redactor();
    let github = match GitHubClient::new(http.clone(), &ctx.api_url, token, ctx.repo.clone(), rt.clock) {
        Ok(g) => g.redacting(&redactor),
        Err(e) => {
            rt.io.console.error(&e);
            return EXIT_CONFIG;
        }
    };
    let no_redirects = match kit::http::client_without_redirects(&rt.env) {
        Ok(h) => h,
        Err(e) => {
            rt.io.console.error(&e.to_string());
            return EXIT_CONFIG;
        }
    };
    let logs = JobLogs::new(no_redirects, &ctx.api_url, token, ctx.repo.clone(), rt.clock)
        .redacting(&redactor);
    let fix = FixRun {
        rt,
        inputs,
        ctx,
        github,
        logs,
        http,
        key: marker::sig_key(&inputs.api_key),
    };
    Box::pin(fix.go()).await
}

struct FixRun<'a> {
    rt: &'a Runtime,
    inputs: &'a Inputs,
    ctx: &'a Context,
    github: GitHubClient,
    logs: JobLogs,
    http: reqwest::Client,
    key: MarkerKey,
}

/// A skip or an error already finished (outputs written): its exit status.
type Ended = u8;

impl FixRun<'_> {
    fn limits(&self) -> Limits {
        Limits::new(
            self.rt.clock,
            self.rt.clock.now() + READ_BUDGET,
            Some(self.rt.cancel.clone()),
        )
    }

    fn skip(&self, reason: Reason, detail: String, comment_url: Option<String>) -> Ended {
        let mut report = RunReport::new(Outcome::Skipped);
        report.reason = Some(reason.word());
        report.run_url = self.ctx.run_url();
        report.comment_url = comment_url;
        report.detail = Some(format!("Fix CI: {detail}"));
        finish(self.rt, self.inputs, report)
    }

    fn error(&self, e: &GitHubError, what: &str) -> Ended {
        let mut report = RunReport::new(if *e == GitHubError::Cancelled {
            Outcome::Cancelled
        } else {
            Outcome::Error
        });
        report.run_url = self.ctx.run_url();
        let route = kit::http::proxy_for(&self.rt.env, &self.ctx.api_url);
        report.detail = Some(format!(
            "Fix CI: nothing was launched. {}",
            e.actionable_via(what, route.as_ref())
        ));
        finish(self.rt, self.inputs, report)
    }

    async fn go(self) -> u8 {
        // Which run.
        let run = match self.failed_run().await {
            Ok(run) => run,
            Err(end) => return end,
        };
        let workflow = if run.name.is_empty() { run.path.clone() } else { run.name.clone() };
        let workflow_key = if run.path.is_empty() { &run.name } else { &run.path };
        // The pull request.
        let pull = match self.pull_of(&run).await {
            Ok(p) => p,
            Err(end) => return end,
        };
        if !pull.head_sha.eq_ignore_ascii_case(&run.head_sha) {
            return self.skip(
                Reason::Stale,
                format!(
                    "run {} of {workflow} tested {}, but #{}'s head is now {}: a newer commit is being tested, so this failure is not acted on.",
                    run.id,
                    short(&run.head_sha),
                    pull.number,
                    short(&pull.head_sha)
                ),
                None,
            );
        }
        let comments = match idempotent(&self.limits(), || self.github.list_comments(pull.number)).await {
            Ok(c) => c,
            Err(e) => return self.error(&e, &format!("read the comments of #{}", pull.number)),
        };
        let fix_comment = self.fix_comment(&comments, pull.number, workflow_key);
        let state = fix_comment
            .as_ref()
            .and_then(|(_, m)| m.ci.clone())
            .unwrap_or_else(|| CiState::new(workflow_key));
        if self.is_fork(&run, &pull) {
            return self.fork(&run, &pull, &workflow, fix_comment, state).await;
        }
        if let Err(end) = self.check_people(&pull).await {
            return end;
        }
        // The evidence.
        let evidence = match gather::gather(
            &self.github,
            &self.logs,
            run.id,
            run.run_attempt,
            &self.limits(),
            super::evidence::Budget::default(),
        )
        .await
        {
            Ok(e) => e,
            Err(e) => return self.error(&e, &format!("list the jobs of run {}", run.id)),
        };
        let fingerprint = evidence.fingerprint(&workflow);
        let max = self.inputs.fix_ci_max_attempts.get();
        let agent = fix_comment.as_ref().and_then(|(_, m)| m.agent.clone());
        let mut next_state = state.clone();
        let described = prompt::describe(&evidence);
        let n = match policy::next(&state, max, &fingerprint) {
            Next::SameFailure => {
                next_state.record(run.id, 0, "same-failure");
                let now = format!(
                    "run {} failed the same way as attempt {} (the same jobs, steps and first error lines), so the agent's fix did not change it; stopping here. Fix it by hand, or push a change and comment to try again.",
                    run.id, state.n
                );
                let url = self
                    .write(&pull, fix_comment, next_state, "⏹️ Fixing CI stopped: the same failure", &workflow, &now, Some(&described), max)
                    .await;
                return self.skip(Reason::SameFailure, now, url);
            }
            Next::Cap => {
                next_state.record(run.id, 0, "attempt-cap");
                let now = format!(
                    "run {} failed, but {max} attempts (`fix-ci-max-attempts`) were already made since this workflow last passed on #{}; nothing more is tried until it passes.",
                    run.id, pull.number
                );
                let url = self
                    .write(&pull, fix_comment, next_state, "⏹️ Fixing CI stopped: attempt cap reached", &workflow, &now, Some(&described), max)
                    .await;
                return self.skip(Reason::AttemptCap, now, url);
            }
            Next::Attempt(n) => n,
        };
        // The prompt, the plan and the agent.
        let run_url = if run.html_url.is_empty() {
            format!("{}/actions/runs/{}", self.ctx.repo_url(), run.id)
        } else {
            run.html_url.clone()
        };
        let instructions = self.inputs.prompt.as_ref().map(PromptSource::text);
        let rendered = prompt::render(
            &prompt::RunFacts {
                run_url: &run_url,
                workflow: &workflow,
                head_sha: &run.head_sha,
                head_branch: &run.head_branch,
                pr: Some(pull.number),
                attempt: n,
                max_attempts: max,
                instructions,
            },
            &evidence,
        );
        let mut fix_inputs = self.inputs.clone();
        fix_inputs.prompt = Some(PromptSource::Text(rendered.text.clone()));
        fix_inputs.include_context = false;
        fix_inputs.pr_url = Some(pull.html_url.clone());
        fix_inputs.issue_number = Some(pull.number);
        let plan = match crate::plan::plan(&fix_inputs, self.ctx) {
            Ok(p) => p,
            Err(no_task) => {
                self.rt.io.console.error(&format!("1 input is invalid:\n  - `{}`: {}", no_task.input, no_task.problem));
                return EXIT_CONFIG;
            }
        };
        let api = AgentApi::new(Setup {
            http: self.http.clone(),
            inputs: &fix_inputs,
            ctx: self.ctx,
            plan: &plan,
            clock: self.rt.clock,
            cancel: self.rt.cancel.clone(),
            redactor: self.rt.io.console.redactor(),
        });
        if let Some(id) = &agent
            && let Ok(probe) = api.probe(id).await
            && probe.is_working()
        {
            next_state = state.clone();
            next_state.record(run.id, 0, "busy");
            let now = format!(
                "run {} failed while agent {id} is still working on #{} (its push runs CI again, and that result is handled then); not an attempt.",
                run.id, pull.number
            );
            let url = self
                .write(&pull, fix_comment, next_state, "⏳ Fixing CI: the agent is still working", &workflow, &now, None, max)
                .await;
            return self.skip(Reason::Busy, now, url);
        }
        next_state.n = n;
        next_state.fp = Some(fingerprint);
        next_state.record(run.id, n, if agent.is_some() { "followed-up" } else { "launched" });
        let mut now = format!(
            "attempt {n} of {max}: the evidence of [run {}]({run_url}) ({} failed of {} jobs, {} bytes of log excerpts) went to {}.",
            run.id,
            evidence.failed.len(),
            evidence.jobs_listed,
            evidence.excerpt_bytes(),
            if agent.is_some() { "the pull request's agent as a follow-up" } else { "a new agent on the pull request" },
        );
        if !rendered.cut.is_empty() {
            now.push_str(&format!(" Cut to fit: {}.", rendered.cut.join("; ")));
        }
        let section = policy::section(
            &self.rt.io.console.redactor(),
            &workflow,
            &format!("{}/actions/runs", self.ctx.repo_url()),
            &now,
            Some(&described),
            &next_state,
            max,
        );
        self.rt.io.console.info(&format!("Fix CI: {now}"));
        let seed = Seed {
            comment: fix_comment.map(|(c, _)| (c.id, c.html_url.clone(), c.body.clone())),
            followup: agent,
            prompt: rendered.text,
            ci: next_state,
            section,
        };
        Box::pin(Flow::new(self.rt, &fix_inputs, self.ctx, &plan, api, Some(self.github.clone())).seeded(seed).run()).await
    }

    /// The failed run this event is about, after the conclusion and bot
    /// checks; a passing run resets the count on its pull request.
    async fn failed_run(&self) -> Result<WorkflowRun, Ended> {
        match self.ctx.event() {
            Event::WorkflowRun {
                actor,
                triggering_actor,
                run,
                ..
            } => {
                let who = triggering_actor.as_ref().or(actor.as_ref());
                let facts = WorkflowRun {
                    id: run.id.unwrap_or_default(),
                    name: run.name.clone().unwrap_or_default(),
                    path: run.path.clone().unwrap_or_default(),
                    head_sha: run.head_sha.clone().unwrap_or_default(),
                    head_branch: run.head_branch.clone().unwrap_or_default(),
                    head_repo: run.head_repository.as_ref().and_then(|r| r.full_name.clone()),
                    event: run.event.clone().unwrap_or_default(),
                    conclusion: run.conclusion.clone(),
                    run_attempt: run.run_attempt.unwrap_or(1).max(1),
                    html_url: run.html_url.clone().unwrap_or_default(),
                    actor: who.map(|u| u.login.clone()),
                    actor_is_bot: who.is_some_and(|u| u.is_bot()),
                };
                for user in actor.iter().chain(triggering_actor.iter()) {
                    if user.is_bot() && !gate::bot_allowed(&user.login, &self.inputs.allowed_bots) {
                        return Err(self.bot_skip(&user.login, "caused the run"));
                    }
                }
                if !policy::acts_on(facts.conclusion.as_deref()) {
                    let reset = if facts.conclusion.as_deref() == Some("success") {
                        self.reset(&facts).await
                    } else {
                        String::new()
                    };
                    return Err(self.skip(
                        Reason::NotAFailure,
                        format!(
                            "run {} of {} concluded `{}`; only `failure` and `timed_out` are fixed, so nothing was launched.{reset}",
                            facts.id,
                            if facts.name.is_empty() { "the workflow" } else { &facts.name },
                            facts.conclusion.as_deref().unwrap_or("nothing yet"),
                        ),
                        None,
                    ));
                }
                if facts.id == 0 || facts.head_sha.is_empty() {
                    return Err(self.skip(
                        Reason::NotAFailure,
                        "the `workflow_run` payload names no run id or head commit, so there is nothing to read.".into(),
                        None,
                    ));
                }
                Ok(facts)
            }
            _ => {
                // A comment on a pull request: the trigger rules first.
                self.check_trigger().await?;
                let number = self.ctx.issue_number().unwrap_or_default();
                let pull = idempotent(&self.limits(), || self.github.get_pull(number))
                    .await
                    .map_err(|e| self.error(&e, &format!("read pull request #{number}")))?;
                let runs = idempotent(&self.limits(), || self.github.completed_runs_at(&pull.head_sha))
                    .await
                    .map_err(|e| self.error(&e, &format!("list the workflow runs of #{number}'s head")))?;
                match runs::latest_failed(&runs) {
                    Some(run) => Ok(run.clone()),
                    None => Err(self.skip(
                        Reason::NotAFailure,
                        format!(
                            "no workflow run at #{number}'s head ({}) has failed (or its latest run passed), so there is nothing to fix.",
                            short(&pull.head_sha)
                        ),
                        None,
                    )),
                }
            }
        }
    }

    fn bot_skip(&self, login: &str, role: &str) -> Ended {
        let who = if login.to_ascii_lowercase().starts_with("dependabot") {
            format!("Dependabot ({login})")
        } else {
            login.to_string()
        };
        self.skip(
            Reason::Bot,
            format!("{who} {role}; it is a bot and not listed in `allowed-bots`, so its failure is not fixed (an agent rarely fixes a bot's update; list it in `allowed-bots` to change that)."),
            None,
        )
    }

    /// The gate's verdict on the event itself (the commenter, a run's
    /// actors), with the permission checks.
    async fn check_trigger(&self) -> Result<(), Ended> {
        let people = match gate::decide(self.inputs, self.ctx) {
            Decision::Accept => Vec::new(),
            Decision::Skip(why) => return Err(self.skip(Reason::NotPermitted, why, None)),
            Decision::Invalid { input, problem } => {
                self.rt.io.console.error(&format!("1 input is invalid:\n  - `{input}`: {problem}"));
                return Err(EXIT_CONFIG);
            }
            Decision::Check { people, .. } => people,
        };
        for login in people {
            self.may_trigger(&login).await?;
        }
        Ok(())
    }

    async fn may_trigger(&self, login: &str) -> Result<(), Ended> {
        match idempotent(&self.limits(), || self.github.permission(login)).await {
            Ok(role) if gate::role_may_trigger(&role) => {
                self.rt.io.console.info(&format!("Fix CI: {login} has {role} permission."));
                Ok(())
            }
            Ok(role) => Err(self.skip(
                Reason::NotPermitted,
                format!("{login} has {role} permission on {}; write, maintain or admin is needed.", self.ctx.repo),
                None,
            )),
            Err(e) if e.status() == Some(404) => Err(self.skip(
                Reason::NotPermitted,
                format!("{login} is not a collaborator on {}; write, maintain or admin is needed.", self.ctx.repo),
                None,
            )),
            Err(e) => Err(self.error(&e, &format!("read {login}'s permission"))),
        }
    }

    /// Every person involved: the event's (a run's actors, a commenter)
    /// and the pull request's author.
    async fn check_people(&self, pull: &PullRequest) -> Result<(), Ended> {
        if matches!(self.ctx.event(), Event::WorkflowRun { .. }) {
            self.check_trigger().await?;
        }
        if pull.author_is_bot {
            if !gate::bot_allowed(&pull.author, &self.inputs.allowed_bots) {
                return Err(self.bot_skip(&pull.author, &format!("opened #{}", pull.number)));
            }
            return Ok(());
        }
        let already = |l: &str| match self.ctx.event() {
            Event::WorkflowRun { actor, triggering_actor, .. } => actor
                .iter()
                .chain(triggering_actor.iter())
                .any(|u| u.login.eq_ignore_ascii_case(l)),
            _ => self.ctx.comment().and_then(|c| c.user.as_ref()).is_some_and(|u| u.login.eq_ignore_ascii_case(l)),
        };
        if already(&pull.author) {
            return Ok(());
        }
        self.may_trigger(&pull.author).await
    }

    /// The pull request the run is about: the one the run names, else the
    /// open one whose head is the run's commit (a fork's appears only so).
    async fn pull_of(&self, run: &WorkflowRun) -> Result<PullRequest, Ended> {
        let named = match self.ctx.event() {
            Event::WorkflowRun { run: facts, .. } => facts
                .pull_requests
                .as_ref()
                .and_then(|p| p.first())
                .map(|p| p.number),
            _ => self.ctx.issue_number(),
        };
        if let Some(number) = named {
            return idempotent(&self.limits(), || self.github.get_pull(number))
                .await
                .map_err(|e| self.error(&e, &format!("read pull request #{number}")));
        }
        let open = idempotent(&self.limits(), || self.github.open_pulls_at(&run.head_sha))
            .await
            .map_err(|e| self.error(&e, "list the open pull requests"))?;
        match open.into_iter().next() {
            Some(p) => Ok(p),
            // SEAM: a failure on the default branch (a push) is to be fixed
            // in a new pull request continued as scheduled jobs continue
            // theirs (src/flow/job.rs); not built yet, so it says so.
            None if run.event == "push" => Err(self.skip(
                Reason::NoPullRequest,
                format!(
                    "run {} failed on a push to `{}`, which no open pull request has as its head. Fixing a failure on the default branch in a new pull request is not supported yet; nothing was launched.",
                    run.id, run.head_branch
                ),
                None,
            )),
            None => Err(self.skip(
                Reason::NoPullRequest,
                format!(
                    "no open pull request of {} has run {}'s commit {} as its head, so there is nothing to fix.",
                    self.ctx.repo, run.id, short(&run.head_sha)
                ),
                None,
            )),
        }
    }

    fn is_fork(&self, run: &WorkflowRun, pull: &PullRequest) -> bool {
        let repo = self.ctx.repo.to_string();
        let other = |r: &Option<String>| r.as_deref().is_some_and(|r| !r.eq_ignore_ascii_case(&repo));
        other(&run.head_repo) || other(&pull.head_repo)
    }

    /// The newest believed fix-CI comment on `pr` for `workflow`.
    fn fix_comment<'c>(
        &self,
        comments: &'c [IssueComment],
        pr: u64,
        workflow: &str,
    ) -> Option<(&'c IssueComment, Marker)> {
        comments
            .iter()
            .filter_map(|c| marker::believe(c, pr, &self.key).map(|m| (c, m)))
            .filter(|(_, m)| m.ci.as_ref().is_some_and(|ci| ci.is_for(workflow)))
            .next_back()
    }

    /// A passing run: resets the count in its pull request's fix comment.
    /// Returns what to add to the notice.
    async fn reset(&self, run: &WorkflowRun) -> String {
        let Ok(pull) = self.pull_of_quietly(run).await else {
            return String::new();
        };
        let workflow_key = if run.path.is_empty() { &run.name } else { &run.path };
        let Ok(comments) = idempotent(&self.limits(), || self.github.list_comments(pull.number)).await else {
            return String::new();
        };
        let Some((c, m)) = self.fix_comment(&comments, pull.number, workflow_key) else {
            return String::new();
        };
        let mut state = m.ci.clone().unwrap_or_else(|| CiState::new(workflow_key));
        if !policy::reset(&mut state, run.id) {
            return String::new();
        }
        let max = self.inputs.fix_ci_max_attempts.get();
        let now = format!("run {} passed, so the attempt count starts again.", run.id);
        let workflow = if run.name.is_empty() { &run.path } else { &run.name };
        self.write(&pull, Some((c, m)), state, "✅ CI passes", workflow, &now, None, max)
            .await;
        format!(" It passed on #{}, so the fix-CI attempt count there starts again.", pull.number)
    }

    /// [`Self::pull_of`] without a skip: `Err` when there is none.
    async fn pull_of_quietly(&self, run: &WorkflowRun) -> Result<PullRequest, ()> {
        let named = match self.ctx.event() {
            Event::WorkflowRun { run: facts, .. } => facts.pull_requests.as_ref().and_then(|p| p.first()).map(|p| p.number),
            _ => None,
        };
        match named {
            Some(n) => idempotent(&self.limits(), || self.github.get_pull(n)).await.map_err(|_| ()),
            None => idempotent(&self.limits(), || self.github.open_pulls_at(&run.head_sha))
                .await
                .ok()
                .and_then(|p| p.into_iter().next())
                .ok_or(()),
        }
    }

    /// A fork's pull request: what failed, in a comment; never an agent.
    async fn fork(
        &self,
        run: &WorkflowRun,
        pull: &PullRequest,
        workflow: &str,
        fix_comment: Option<(&IssueComment, Marker)>,
        mut state: CiState,
    ) -> Ended {
        let evidence: Option<Evidence> = gather::gather(
            &self.github,
            &self.logs,
            run.id,
            run.run_attempt,
            &self.limits(),
            super::evidence::Budget::default(),
        )
        .await
        .ok();
        let described = evidence.as_ref().map(prompt::describe);
        state.record(run.id, 0, "fork");
        let now = format!(
            "run {} failed on #{}, which comes from a fork ({}): no agent is started for a fork's branch (it would push with this repository's secrets and write access). What failed is below.",
            run.id,
            pull.number,
            pull.head_repo.as_deref().or(run.head_repo.as_deref()).unwrap_or("another repository")
        );
        let url = self
            .write(pull, fix_comment, state, "🔎 CI failed on a fork's pull request", workflow, &now, described.as_deref(), self.inputs.fix_ci_max_attempts.get())
            .await;
        self.skip(Reason::Fork, now, url)
    }

    /// Writes the fix comment (edits the believed one, else creates it)
    /// with `state` in its signed marker. Returns its URL when written.
    #[allow(clippy::too_many_arguments)]
    async fn write(
        &self,
        pull: &PullRequest,
        existing: Option<(&IssueComment, Marker)>,
        state: CiState,
        headline: &str,
        workflow: &str,
        now: &str,
        evidence: Option<&str>,
        max: u32,
    ) -> Option<String> {
        if !self.inputs.comment {
            return None;
        }
        let redactor = self.rt.io.console.redactor();
        let (id, previous) = match existing {
            Some((c, m)) => (Some(c.id), Some(m)),
            None => (None, None),
        };
        let keep = previous.as_ref().and_then(|m| m.state.clone()).unwrap_or_else(|| STATE_FINAL.into());
        let mut m = previous.unwrap_or_else(|| Marker::new(None, self.ctx.run_id, self.ctx.run_attempt));
        m.run = self.ctx.run_id;
        m.attempt = Some(self.ctx.run_attempt);
        let m = m.with_issue(Some(pull.number)).with_ci(Some(state.clone())).signed(&self.key, &keep);
        let mut body = format!("{}\n### {headline}\n\n", m.render());
        if let Some(agent) = &m.agent {
            body.push_str(&markdown::agent_link(&redactor, "Open the agent in Cursor", &cursor_api::agent_url(agent)));
            body.push_str("\n\n");
        }
        body.push_str(&policy::section(
            &redactor,
            workflow,
            &format!("{}/actions/runs", self.ctx.repo_url()),
            now,
            evidence,
            &state,
            max,
        ));
        let body = self.rt.io.console.redact(&body);
        let written = match id {
            Some(id) => self.github.update_comment(id, &body).await,
            None => self.github.create_comment(pull.number, &body).await,
        };
        match written {
            Ok(c) => Some(c.html_url),
            Err(e) => {
                let route = kit::http::proxy_for(&self.rt.env, &self.ctx.api_url);
                self.rt.io.console.warning(&e.actionable_via(&format!("comment on #{}", pull.number), route.as_ref()));
                None
            }
        }
    }
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}
