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

use super::comment::Stop;
use super::gather::{self, Evidence};
use super::policy::{self, Next, Reason};
use super::prompt;
use crate::agent::{AgentApi, Setup};
use crate::context::{Context, Event};
use crate::flow::{Flow, Seed};
use crate::github::actions::JobLogs;
use crate::github::policy::{Limits, idempotent};
use crate::github::runs::WorkflowRun;
use crate::github::{GitHubClient, GitHubError};
use crate::inputs::{Inputs, PromptSource};
use crate::marker::ci::CiState;
use crate::marker::{self, MarkerKey};
use crate::report::{Outcome, RunReport};
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

/// The identity of the fix pull request of `workflow` (a scheduled job's
/// tag, see [`crate::job`]): hex, the same for every failure of it.
fn fix_job_tag(repo: &str, workflow: &str) -> String {
    format!(
        "{:016x}",
        kit::text::stable_hash(&["fix-ci-job", repo, workflow.trim()])
    )
}

/// Runs fix-CI for this event. Returns the exit status.
pub async fn run(rt: &Runtime, inputs: &Inputs, ctx: &Context) -> u8 {
    let Some(token) = &inputs.github_token else {
        rt.io.console.error("1 input is invalid:\n  - `github-token`: is empty, and `fix-ci` needs it to read the failed run's jobs and logs and to comment on the pull request; pass `${{ github.token }}` with `permissions: actions: read, pull-requests: write, issues: write`.");
        return EXIT_CONFIG;
    };
    if !inputs.comment {
        // The loop guard (attempt count, fingerprint, the agent to follow
        // up) lives in the fix comment's signed marker: without it every
        // failure would launch a new agent.
        rt.io.console.error("1 input is invalid:\n  - `comment`: is false, but `fix-ci` keeps its attempt count and the agent to follow up in its comment on the pull request, so without it every failure would launch a new agent; remove `comment: false` from the fix-CI step.");
        return EXIT_CONFIG;
    }
    let http = match kit::http::client(&rt.env) {
        Ok(h) => h,
        Err(e) => {
            rt.io.console.error(&e.to_string());
            return EXIT_CONFIG;
        }
    };
    let redactor = rt.io.console.redactor();
    let github = match GitHubClient::new(
        http.clone(),
        &ctx.api_url,
        token,
        ctx.repo.clone(),
        rt.clock,
    ) {
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
    let logs = JobLogs::new(
        no_redirects,
        &ctx.api_url,
        token,
        ctx.repo.clone(),
        rt.clock,
    )
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

pub(super) struct FixRun<'a> {
    pub(super) rt: &'a Runtime,
    pub(super) inputs: &'a Inputs,
    pub(super) ctx: &'a Context,
    pub(super) github: GitHubClient,
    pub(super) logs: JobLogs,
    pub(super) http: reqwest::Client,
    pub(super) key: MarkerKey,
}

/// A skip or an error already finished (outputs written): its exit status.
pub(super) type Ended = u8;

impl FixRun<'_> {
    pub(super) fn limits(&self) -> Limits {
        Limits::new(
            self.rt.clock,
            self.rt.clock.now() + READ_BUDGET,
            Some(self.rt.cancel.clone()),
        )
    }

    pub(super) fn skip(
        &self,
        reason: Reason,
        detail: String,
        comment_url: Option<String>,
    ) -> Ended {
        let mut report = RunReport::new(Outcome::Skipped);
        report.reason = Some(reason.word());
        report.run_url = self.ctx.run_url();
        report.comment_url = comment_url;
        report.detail = Some(format!("Fix CI: {detail}"));
        finish(self.rt, self.inputs, report)
    }

    pub(super) fn error(&self, e: &GitHubError, what: &str) -> Ended {
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
        let workflow = if run.name.is_empty() {
            run.path.clone()
        } else {
            run.name.clone()
        };
        let workflow_key = if run.path.is_empty() {
            &run.name
        } else {
            &run.path
        };
        // The pull request.
        let pull = match self.pull_of(&run).await {
            Ok(Some(p)) => p,
            Ok(None) => return Box::pin(self.default_branch(&run, &workflow, workflow_key)).await,
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
        let comments =
            match idempotent(&self.limits(), || self.github.list_comments(pull.number)).await {
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
        let evidence = match self.evidence(&run).await {
            Ok(e) => e,
            Err(end) => return end,
        };
        let fingerprint = evidence.fingerprint(&workflow);
        let max = self.inputs.fix_ci_max_attempts.get();
        let agent = fix_comment.as_ref().and_then(|(_, m)| m.agent.clone());
        let mut next_state = state.clone();
        let described = prompt::describe(&evidence);
        // A re-run of this action run: its agent is reattached by the flow.
        let same_action_run = fix_comment
            .as_ref()
            .is_some_and(|(_, m)| m.run.is_some() && m.run == self.ctx.run_id);
        let earlier = policy::earlier_attempt(&state, run.id, same_action_run);
        // A comment asking for a fix is a person's request: it is tried
        // again even when the failure is the same (and counts).
        let on_demand = matches!(self.ctx.event(), Event::IssueComment { .. });
        let n = match earlier.map_or_else(
            || policy::next(&state, max, &fingerprint, on_demand),
            Next::Attempt,
        ) {
            Next::SameFailure => {
                let now = format!(
                    "run {} failed the same way as attempt {} (the same jobs, steps and first error lines), so the agent's fix did not change it; stopping here. Fix it by hand, or comment on the pull request to have the agent try again (that counts as an attempt).",
                    run.id, state.n
                );
                return self
                    .stop(
                        &pull,
                        fix_comment,
                        state.clone(),
                        &workflow,
                        max,
                        Stop {
                            why: Reason::SameFailure,
                            run: run.id,
                            headline: "⏹️ Fixing CI stopped: the same failure",
                            now,
                            evidence: Some(&described),
                        },
                    )
                    .await;
            }
            Next::Cap => {
                let now = format!(
                    "run {} failed, but {max} attempts (`fix-ci-max-attempts`) were already made since this workflow last passed on #{}; nothing more is tried until it passes.",
                    run.id, pull.number
                );
                return self
                    .stop(
                        &pull,
                        fix_comment,
                        state.clone(),
                        &workflow,
                        max,
                        Stop {
                            why: Reason::AttemptCap,
                            run: run.id,
                            headline: "⏹️ Fixing CI stopped: attempt cap reached",
                            now,
                            evidence: Some(&described),
                        },
                    )
                    .await;
            }
            Next::Attempt(n) => n,
        };
        // The prompt, the plan and the agent.
        let run_url = self.run_url(&run);
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
                self.rt.io.console.error(&format!(
                    "1 input is invalid:\n  - `{}`: {}",
                    no_task.input, no_task.problem
                ));
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
        if let Some(id) = agent.as_ref().filter(|_| earlier.is_none())
            && let Ok(probe) = api.probe(id).await
            && probe.is_working()
        {
            let now = format!(
                "run {} failed while agent {id} is still working on #{} (its push runs CI again, and that result is handled then); not an attempt.",
                run.id, pull.number
            );
            return self
                .stop(
                    &pull,
                    fix_comment,
                    state.clone(),
                    &workflow,
                    max,
                    Stop {
                        why: Reason::Busy,
                        run: run.id,
                        headline: "⏳ Fixing CI: the agent is still working",
                        now,
                        evidence: None,
                    },
                )
                .await;
        }
        if earlier.is_none() {
            next_state.n = n;
            next_state.fp = Some(fingerprint);
            next_state.record(
                run.id,
                n,
                if agent.is_some() {
                    "followed-up"
                } else {
                    "launched"
                },
            );
        }
        let mut now = if earlier.is_some() {
            format!(
                "attempt {n} of {max} again: this run of the fixing workflow was re-run for the same failed run {}, so it reattaches to its agent and counts nothing again.",
                run.id
            )
        } else {
            String::new()
        };
        if earlier.is_none() {
            now = format!(
                "attempt {n} of {max}: the evidence of run {} ({} failed of {} jobs, {} bytes of log excerpts) went to {}.",
                run.id,
                evidence.failed.len(),
                evidence.jobs_listed,
                evidence.excerpt_bytes(),
                if agent.is_some() {
                    "the pull request's agent as a follow-up"
                } else {
                    "a new agent on the pull request"
                },
            );
        }
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
        Box::pin(
            Flow::new(
                self.rt,
                &fix_inputs,
                self.ctx,
                &plan,
                api,
                Some(self.github.clone()),
            )
            .seeded(seed)
            .run(),
        )
        .await
    }

    /// The failed run's evidence, or the exit status of the error that
    /// ended the run.
    async fn evidence(&self, run: &WorkflowRun) -> Result<Evidence, u8> {
        gather::gather(
            &self.github,
            &self.logs,
            run.id,
            run.run_attempt,
            &self.limits(),
            super::evidence::Budget::default(),
        )
        .await
        .map_err(|e| self.error(&e, &format!("list the jobs of run {}", run.id)))
    }

    /// A failure on the default branch: fixed in a pull request of its
    /// own, continued as a scheduled job continues its one (one open fix
    /// pull request per workflow: the next failure goes to its agent).
    async fn default_branch(&self, run: &WorkflowRun, workflow: &str, workflow_key: &str) -> u8 {
        if let Err(end) = self.check_trigger().await {
            return end;
        }
        let evidence = match self.evidence(run).await {
            Ok(e) => e,
            Err(end) => return end,
        };
        let run_url = self.run_url(run);
        let rendered = prompt::render(
            &prompt::RunFacts {
                run_url: &run_url,
                workflow,
                head_sha: &run.head_sha,
                head_branch: &run.head_branch,
                pr: None,
                attempt: 1,
                max_attempts: self.inputs.fix_ci_max_attempts.get(),
                instructions: self.inputs.prompt.as_ref().map(PromptSource::text),
            },
            &evidence,
        );
        let mut fix_inputs = self.inputs.clone();
        fix_inputs.prompt = Some(PromptSource::Text(rendered.text));
        fix_inputs.include_context = false;
        fix_inputs.pr_url = None;
        fix_inputs.update_open_pr = true;
        let mut plan = match crate::plan::plan(&fix_inputs, self.ctx) {
            Ok(p) => p,
            Err(no_task) => {
                self.rt.io.console.error(&format!(
                    "1 input is invalid:\n  - `{}`: {}",
                    no_task.input, no_task.problem
                ));
                return EXIT_CONFIG;
            }
        };
        // Every failure of the workflow is one job: its identity is the
        // workflow's, not the prompt's (which differs every time).
        plan.key = fix_job_tag(&self.ctx.repo.to_string(), workflow_key);
        if plan.request.target.branch_name.is_some() && fix_inputs.branch_name.is_none() {
            plan.request.target.branch_name =
                crate::plan::derived_branch(self.ctx, None, &plan.key);
        }
        self.rt.io.console.info(&format!(
            "Fix CI: run {} of {workflow} failed on `{}` with no open pull request at its commit: the fix goes to the workflow's fix pull request (a new one, or the open one's agent).",
            run.id, run.head_branch
        ));
        let api = AgentApi::new(Setup {
            http: self.http.clone(),
            inputs: &fix_inputs,
            ctx: self.ctx,
            plan: &plan,
            clock: self.rt.clock,
            cancel: self.rt.cancel.clone(),
            redactor: self.rt.io.console.redactor(),
        });
        Box::pin(
            Flow::new(
                self.rt,
                &fix_inputs,
                self.ctx,
                &plan,
                api,
                Some(self.github.clone()),
            )
            .run(),
        )
        .await
    }

    pub(super) fn run_url(&self, run: &WorkflowRun) -> String {
        if run.html_url.is_empty() {
            format!("{}/actions/runs/{}", self.ctx.repo_url(), run.id)
        } else {
            run.html_url.clone()
        }
    }
}

pub(super) fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}
