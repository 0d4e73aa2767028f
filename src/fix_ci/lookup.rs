//! Fix-CI's reads before it decides: which failed run, which pull
//! request, and who (bots, the people's permission), each refusal a skip
//! with its reason.

use super::policy::{self, Reason};
use super::run::{Ended, FixRun, short};
use crate::context::Event;
use crate::gate::{self, Decision};
use crate::github::PullRequest;
use crate::github::policy::idempotent;
use crate::github::runs::{self, WorkflowRun};
use crate::runtime::EXIT_CONFIG;

impl FixRun<'_> {
    /// The failed run this event is about, after the conclusion and bot
    /// checks; a passing run resets the count on its pull request.
    pub(super) async fn failed_run(&self) -> Result<WorkflowRun, Ended> {
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
                    head_repo: run
                        .head_repository
                        .as_ref()
                        .and_then(|r| r.full_name.clone()),
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
                let runs = idempotent(&self.limits(), || {
                    self.github.completed_runs_at(&pull.head_sha)
                })
                .await
                .map_err(|e| {
                    self.error(&e, &format!("list the workflow runs of #{number}'s head"))
                })?;
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

    pub(super) fn bot_skip(&self, login: &str, role: &str) -> Ended {
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
    pub(super) async fn check_trigger(&self) -> Result<(), Ended> {
        let people = match gate::decide(self.inputs, self.ctx) {
            Decision::Accept => Vec::new(),
            Decision::Skip(why) => return Err(self.skip(Reason::NotPermitted, why, None)),
            Decision::Invalid { input, problem } => {
                self.rt
                    .io
                    .console
                    .error(&format!("1 input is invalid:\n  - `{input}`: {problem}"));
                return Err(EXIT_CONFIG);
            }
            Decision::Check { people, .. } => people,
        };
        for login in people {
            self.may_trigger(&login).await?;
        }
        Ok(())
    }

    pub(super) async fn may_trigger(&self, login: &str) -> Result<(), Ended> {
        match idempotent(&self.limits(), || self.github.permission(login)).await {
            Ok(role) if gate::role_may_trigger(&role) => {
                self.rt
                    .io
                    .console
                    .info(&format!("Fix CI: {login} has {role} permission."));
                Ok(())
            }
            Ok(role) => Err(self.skip(
                Reason::NotPermitted,
                format!(
                    "{login} has {role} permission on {}; write, maintain or admin is needed.",
                    self.ctx.repo
                ),
                None,
            )),
            Err(e) if e.status() == Some(404) => Err(self.skip(
                Reason::NotPermitted,
                format!(
                    "{login} is not a collaborator on {}; write, maintain or admin is needed.",
                    self.ctx.repo
                ),
                None,
            )),
            Err(e) => Err(self.error(&e, &format!("read {login}'s permission"))),
        }
    }

    /// Every person involved: the event's (a run's actors, a commenter)
    /// and the pull request's author.
    pub(super) async fn check_people(&self, pull: &PullRequest) -> Result<(), Ended> {
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
            Event::WorkflowRun {
                actor,
                triggering_actor,
                ..
            } => actor
                .iter()
                .chain(triggering_actor.iter())
                .any(|u| u.login.eq_ignore_ascii_case(l)),
            _ => self
                .ctx
                .comment()
                .and_then(|c| c.user.as_ref())
                .is_some_and(|u| u.login.eq_ignore_ascii_case(l)),
        };
        if already(&pull.author) {
            return Ok(());
        }
        self.may_trigger(&pull.author).await
    }

    /// The pull request the run is about: the one the run names, else the
    /// open one whose head is the run's commit (a fork's appears only so).
    /// `Ok(None)`: a failure of a push to the default branch that no open
    /// pull request has as its head: fixed in a pull request of its own.
    pub(super) async fn pull_of(&self, run: &WorkflowRun) -> Result<Option<PullRequest>, Ended> {
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
                .map(Some)
                .map_err(|e| self.error(&e, &format!("read pull request #{number}")));
        }
        let open = idempotent(&self.limits(), || self.github.open_pulls_of(run))
            .await
            .map_err(|e| self.error(&e, "list the open pull requests"))?;
        match open.into_iter().next() {
            Some(p) => Ok(Some(p)),
            // Only the default branch's own failures get a fix pull
            // request: another branch's push was never tested on it.
            None if run.event == "push" && self.is_default_branch(&run.head_branch) => Ok(None),
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

    /// Whether `branch` is the repository's default branch (the payload's
    /// `repository.default_branch`, else the branch `workflow_run` runs on).
    fn is_default_branch(&self, branch: &str) -> bool {
        let default = self.ctx.default_branch().or_else(|| {
            self.ctx
                .git_ref
                .as_deref()
                .and_then(|r| r.strip_prefix("refs/heads/"))
                .map(String::from)
        });
        !branch.is_empty() && default.as_deref() == Some(branch)
    }

    pub(super) fn is_fork(&self, run: &WorkflowRun, pull: &PullRequest) -> bool {
        let repo = self.ctx.repo.to_string();
        let other =
            |r: &Option<String>| r.as_deref().is_some_and(|r| !r.eq_ignore_ascii_case(&repo));
        other(&run.head_repo) || other(&pull.head_repo)
    }

    /// [`Self::pull_of`] without a skip: `Err` when there is none.
    pub(super) async fn pull_of_quietly(&self, run: &WorkflowRun) -> Result<PullRequest, ()> {
        let named = match self.ctx.event() {
            Event::WorkflowRun { run: facts, .. } => facts
                .pull_requests
                .as_ref()
                .and_then(|p| p.first())
                .map(|p| p.number),
            _ => None,
        };
        match named {
            Some(n) => idempotent(&self.limits(), || self.github.get_pull(n))
                .await
                .map_err(|_| ()),
            None => idempotent(&self.limits(), || self.github.open_pulls_of(run))
                .await
                .ok()
                .and_then(|p| p.into_iter().next())
                .ok_or(()),
        }
    }
}
