//! One accepted trigger, end to end: check who triggered, acknowledge,
//! reattach / follow up / launch, keep one comment up to date while waiting,
//! and finalize it (and the outputs) on every outcome.

mod finalize;
mod job;
mod start;
mod watch;

use crate::agent::{AgentApi, ApiError, Failure, Followup, LaunchError, WatchEnd, WatchEvent};
use crate::agent::{AgentRun, Status};
use crate::context::{Context, Event};
use crate::gate::{self, Decision};
use crate::github::policy::{self, Limits};
use crate::github::{GitHubClient, GitHubError, IssueComment, ReactionOn};
use crate::inputs::parse::format_duration;
use crate::inputs::{Inputs, OnCancel, OnTimeout};
use crate::marker::{self, Marker, MarkerKey};
use crate::plan::LaunchPlan;
use crate::report::comment::{self, CommentExtras, Phase};
use crate::report::{Outcome, RunReport, human_duration};
use crate::runtime::{EXIT_CONFIG, Runtime, finish};
use cursor_api::retry::Backoff;
use kit::clock::Moment;
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
/// Of the finalize grace, at most this long for a scheduled job's reads
/// and marker after its run (the final comment gets the rest).
const SETTLE_BUDGET: Duration = Duration::from_secs(10);
/// GitHub calls made while waiting may hold up polling at most this long.
const GITHUB_CALL_BUDGET: Duration = Duration::from_secs(60);

/// What a fix-CI run ([`crate::fix_ci`]) decided before the flow takes
/// over: the comment to keep, the agent to follow up, and the state its
/// marker carries.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The fix-CI comment on the pull request (id, URL, body), if any.
    pub comment: Option<(u64, String, String)>,
    /// The pull request's agent (from that comment's believed marker): a
    /// later attempt follows it up rather than launching a second agent.
    pub followup: Option<String>,
    /// The fix prompt (sent as the follow-up, or launched with).
    pub prompt: String,
    /// The marker's fix-CI state, this run's entry recorded last.
    pub ci: crate::marker::ci::CiState,
    /// The comment's fix-CI section (neutralized Markdown).
    pub section: String,
}

/// The live comment.
struct Live {
    id: u64,
    url: String,
    body: String,
}

enum Start {
    Launched {
        adopted: bool,
    },
    Reattached,
    FollowedUp,
    /// A scheduled job's prompt sent to the agent of its open pull request.
    Continued,
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
    /// The scheduled job this run belongs to (see [`crate::job`]).
    job: Option<crate::job::Job>,
    /// The job's open pull request this run continues.
    job_pull: Option<job::JobPull>,
    /// This run reattached to its agent of an earlier attempt.
    reattached: bool,
    /// The agent whose usage and artifacts are still to come: they amend
    /// the final comment once known (see [`Flow::finalize`]).
    details_due: Option<String>,
    /// When this run took its agent on (Unix seconds, in the marker).
    agent_at: Option<u64>,
    /// A fix-CI run's decisions (see [`Seed`]).
    seed: Option<Seed>,
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
        let followup_phrase = gate::followup_invitation(inputs, ctx);
        let mut flow = Self {
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
                // Signed, so a sweep can tell the comment is the action's own.
                signer: Some(marker::sig_key(&inputs.api_key)),
                ack: None,
                handoff_on_timeout: inputs.on_timeout == OnTimeout::Continue,
                sweep_seen: false,
                redactor: rt.io.console.redactor(),
                section: None,
            },
            live: None,
            comments_broken: false,
            comment_maybe_posted: false,
            cancel_deadline: None,
            job: crate::job::Job::of(inputs, ctx, plan),
            job_pull: None,
            reattached: false,
            details_due: None,
            agent_at: None,
            seed: None,
        };
        flow.extras.ack = flow.ack_target().map(crate::sweep::encode_on);
        flow
    }

    /// A fix-CI run: its comment, agent and marker state (see [`Seed`]).
    pub fn seeded(mut self, seed: Seed) -> Self {
        if let Some((id, url, body)) = &seed.comment {
            self.live = Some(Live {
                id: *id,
                url: url.clone(),
                body: body.clone(),
            });
            self.report.comment_url = Some(url.clone());
        }
        self.extras.section = Some(seed.section.clone());
        self.seed = Some(seed);
        self
    }

    /// What is left of the cancel budget, at most `want` (the budget starts
    /// when the cancel is first handled, which every call races).
    fn cancel_budget(&mut self, want: Duration) -> Duration {
        let now = self.rt.clock.now();
        let deadline = *self.cancel_deadline.get_or_insert(now + CANCEL_BUDGET);
        deadline.saturating_since(now).min(want)
    }

    /// The key the action's markers are signed and believed with.
    fn marker_key(&self) -> MarkerKey {
        marker::sig_key(&self.inputs.api_key)
    }

    /// The markers of `comments` (this run's issue's) that are believed
    /// ([`marker::believe`]), with their comments, oldest first.
    fn believed<'c>(&self, comments: &'c [IssueComment]) -> Vec<(&'c IssueComment, Marker)> {
        let (Some(issue), key) = (self.issue, self.marker_key()) else {
            return Vec::new();
        };
        comments
            .iter()
            .filter_map(|c| marker::believe(c, issue, &key).map(|m| (c, m)))
            .collect()
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
                return Box::pin(self.finalize(report)).await;
            }
        }
        if let Some(target) = self.ack_target() {
            self.react(target, "eyes", self.limits(Duration::from_secs(20)))
                .await;
        }
        let existing = self.existing_comments().await;
        // From the listing made anyway: no request of its own.
        self.extras.sweep_seen = self
            .issue
            .is_some_and(|issue| marker::has_swept(&existing, issue, &self.marker_key()));
        let (agent, start) = match self.obtain_agent(&existing).await {
            Ok(v) => v,
            Err(report) => return Box::pin(self.finalize(report)).await,
        };
        let started = self.rt.clock.now();
        self.reattached = matches!(start, Start::Reattached);
        self.console().info(&match start {
            Start::Launched { adopted: false } => format!(
                "Launched agent {} ({}): {}",
                agent.id, agent.status, agent.url
            ),
            Start::Launched { adopted: true } => format!(
                "Adopted agent {} launched by this run ({}): {}",
                agent.id, agent.status, agent.url
            ),
            Start::Reattached => format!(
                "Reattached to agent {} of an earlier attempt of this run ({}): {}",
                agent.id, agent.status, agent.url
            ),
            Start::FollowedUp => format!(
                "Sent {} as a follow-up to agent {} ({}): {}",
                if self.seed.is_some() {
                    "the failed run's evidence"
                } else {
                    "the comment"
                },
                agent.id,
                agent.status,
                agent.url
            ),
            Start::Continued => format!(
                "Sent this run's prompt to agent {} of the job's open pull request ({}): {}",
                agent.id, agent.status, agent.url
            ),
        });
        self.report.agent = Some(agent.clone());
        self.agent_at = Some(self.rt.clock.unix_secs());
        self.report.run_id = self.api.run_id();
        // Written at once, so the agent is never lost whatever happens next.
        self.set_agent_outputs(&agent);
        if !self.inputs.wait {
            let outcome = match start {
                Start::FollowedUp | Start::Continued => Outcome::FollowedUp,
                _ => Outcome::Launched,
            };
            let report = self.end(outcome, None);
            return Box::pin(self.finalize(report)).await;
        }
        self.post_comment(
            Phase::Working {
                status: Some(agent.status.clone()),
            },
            self.limits(GITHUB_CALL_BUDGET),
        )
        .await;
        // Boxed: the flow's future stays small (tests run it on small stacks).
        let report = Box::pin(self.wait(&agent, started)).await;
        Box::pin(self.finalize(report)).await
    }
}
