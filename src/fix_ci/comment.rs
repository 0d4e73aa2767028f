//! Fix-CI's one comment per pull request and workflow: found through
//! [`marker::believe`] only, written with the signed state (attempts,
//! fingerprint, history), reset by a passing run, and a fork's diagnosis.

use super::gather::{self, Evidence};
use super::policy::{self, Reason};
use super::prompt;
use super::run::{Ended, FixRun};
use crate::github::policy::idempotent;
use crate::github::runs::WorkflowRun;
use crate::github::{IssueComment, PullRequest};
use crate::markdown;
use crate::marker::ci::CiState;
use crate::marker::{self, Marker, STATE_FINAL};

impl FixRun<'_> {
    /// The newest believed fix-CI comment on `pr` for `workflow`.
    pub(super) fn fix_comment<'c>(
        &self,
        comments: &'c [IssueComment],
        pr: u64,
        workflow: &str,
    ) -> Option<(&'c IssueComment, Marker)> {
        comments
            .iter()
            .filter_map(|c| marker::believe(c, pr, &self.key).map(|m| (c, m)))
            .rfind(|(_, m)| m.ci.as_ref().is_some_and(|ci| ci.is_for(workflow)))
    }

    /// A passing run: resets the count in its pull request's fix comment.
    /// Returns what to add to the notice.
    pub(super) async fn reset(&self, run: &WorkflowRun) -> String {
        let Ok(pull) = self.pull_of_quietly(run).await else {
            return String::new();
        };
        let workflow_key = if run.path.is_empty() {
            &run.name
        } else {
            &run.path
        };
        let Ok(comments) =
            idempotent(&self.limits(), || self.github.list_comments(pull.number)).await
        else {
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
        let workflow = if run.name.is_empty() {
            &run.path
        } else {
            &run.name
        };
        self.write(
            &pull,
            Some((c, m)),
            state,
            "✅ CI passes",
            workflow,
            &now,
            None,
            max,
        )
        .await;
        format!(
            " It passed on #{}, so the fix-CI attempt count there starts again.",
            pull.number
        )
    }

    /// A fork's pull request: what failed, in a comment; never an agent.
    pub(super) async fn fork(
        &self,
        run: &WorkflowRun,
        pull: &PullRequest,
        workflow: &str,
        fix_comment: Option<(&IssueComment, Marker)>,
        state: CiState,
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
        let now = format!(
            "run {} failed on #{}, which comes from a fork ({}): no agent is started for a fork's branch (it would push with this repository's secrets and write access). What failed is below.",
            run.id,
            pull.number,
            pull.head_repo
                .as_deref()
                .or(run.head_repo.as_deref())
                .unwrap_or("another repository")
        );
        self.stop(
            pull,
            fix_comment,
            state,
            workflow,
            self.inputs.fix_ci_max_attempts.get(),
            Stop {
                why: Reason::Fork,
                run: run.id,
                headline: "🔎 CI failed on a fork's pull request",
                now,
                evidence: described.as_deref(),
            },
        )
        .await
    }

    /// Ends the run without an attempt, and says why everywhere: `why` is
    /// recorded in the comment's history, the comment is written with
    /// `stop`'s headline and sentence, and the run ends `skipped` with
    /// that reason.
    pub(super) async fn stop(
        &self,
        pull: &PullRequest,
        existing: Option<(&IssueComment, Marker)>,
        mut state: CiState,
        workflow: &str,
        max: u32,
        stop: Stop<'_>,
    ) -> Ended {
        state.record(stop.run, 0, stop.why.word());
        let url = self
            .write(
                pull,
                existing,
                state,
                stop.headline,
                workflow,
                &stop.now,
                stop.evidence,
                max,
            )
            .await;
        self.skip(stop.why, stop.now, url)
    }

    /// Writes the fix comment (edits the believed one, else creates it)
    /// with `state` in its signed marker. Returns its URL when written.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn write(
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
        let keep = previous
            .as_ref()
            .and_then(|m| m.state.clone())
            .unwrap_or_else(|| STATE_FINAL.into());
        let mut m =
            previous.unwrap_or_else(|| Marker::new(None, self.ctx.run_id, self.ctx.run_attempt));
        m.run = self.ctx.run_id;
        m.attempt = Some(self.ctx.run_attempt);
        let m = m
            .with_issue(Some(pull.number))
            .with_ci(Some(state.clone()))
            .signed(&self.key, &keep);
        let mut body = format!("{}\n### {headline}\n\n", m.render());
        if let Some(agent) = &m.agent {
            body.push_str(&markdown::agent_link(
                &redactor,
                "Open the agent in Cursor",
                &cursor_api::agent_url(agent),
            ));
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
        // Retried as the report's comment is: an edit is idempotent, and a
        // create that may have landed is looked for before it is sent again
        // (a fork's diagnosis is all its pull request gets).
        let limits = self.limits();
        let written = match id {
            Some(id) => idempotent(&limits, || self.github.update_comment(id, &body)).await,
            None => {
                let run = self.ctx.run_id;
                crate::github::policy::create_comment(
                    &self.github,
                    &limits,
                    pull.number,
                    &body,
                    |c| {
                        marker::believe(c, pull.number, &self.key)
                            .is_some_and(|m| m.run == run && m.ci.is_some())
                    },
                )
                .await
            }
        };
        match written {
            Ok(c) => Some(c.html_url),
            Err(e) => {
                let route = kit::http::proxy_for(&self.rt.env, &self.ctx.api_url);
                self.rt.io.console.warning(
                    &e.actionable_via(&format!("comment on #{}", pull.number), route.as_ref()),
                );
                None
            }
        }
    }
}

/// Why a run stops without an attempt, as [`FixRun::stop`] says it.
pub(super) struct Stop<'a> {
    pub why: Reason,
    /// The failed run.
    pub run: u64,
    pub headline: &'a str,
    /// What this run did and why, in a sentence.
    pub now: String,
    /// The evidence's summary (neutralized Markdown), when it is shown.
    pub evidence: Option<&'a str>,
}
