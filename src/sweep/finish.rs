//! Finishing one candidate: read its agent, build the report a waiting run
//! would, write the final body and react; then amend it once with the usage
//! and artifacts.

use super::candidates::{Candidate, decode_on, footer_phrase, provably_ours};
use super::{AMEND_AFTER_CANCEL, CALL_BUDGET, Tally, run_url};
use crate::agent::{AgentApi, AgentRun, Failure, Status, Tells};
use crate::context::Context;
use crate::github::policy::{self, Limits};
use crate::github::{GitHubClient, RepoComment};
use crate::inputs::Inputs;
use crate::markdown;
use crate::marker::{Marker, MarkerKey};
use crate::report::comment::{self, CommentExtras};
use crate::report::{Outcome, RunReport};
use crate::runtime::Runtime;
use std::time::Duration;

/// What reading a candidate's agent told.
pub(super) enum Read {
    /// The run ended: the report, without its usage and artifacts yet
    /// (boxed: the other answers are small).
    Ended(Box<RunReport>),
    /// Cursor says the agent does not exist, and it is old enough to
    /// believe that once it is read again (see [`crate::agent::existence`]).
    Suspect,
    /// Still working, too young to call gone, or unreadable this time: left
    /// for the next sweep (counted).
    Left,
    /// A 404 or 410 that does not say the agent does not exist.
    Unexplained(String),
    Cancelled,
}

/// A comment this sweep wrote final, and what it needs to amend it.
pub(super) struct Finalized<'c> {
    cand: &'c Candidate,
    report: RunReport,
    base: Marker,
    extras: CommentExtras,
    /// The agent whose usage and artifacts are still to come.
    details_due: bool,
}

/// The report of an agent Cursor said twice does not exist.
pub(super) fn gone_report(cand: &Candidate) -> RunReport {
    let id = cand.marker.agent.clone().unwrap_or_default();
    let mut r = RunReport::new(Outcome::Expired);
    // Its link is all that is left of it.
    let tells = match cand.marker.run_id {
        Some(_) => Tells::V1,
        None => Tells::V0,
    };
    r.agent = Some(AgentRun {
        status: Status::Unknown("GONE".into()),
        ..AgentRun::new(&id, tells)
    });
    r.detail = Some(format!(
        "The agent {id} is gone from Cursor (Cursor said it does not exist, twice, a minute apart): it was deleted, archived or expired before its result was read, so this comment cannot report it. Re-running the workflow launches a new agent."
    ));
    r
}

pub(super) struct Sweep<'a> {
    pub(super) rt: &'a Runtime,
    pub(super) inputs: &'a Inputs,
    pub(super) ctx: &'a Context,
    pub(super) github: &'a GitHubClient,
    pub(super) key: &'a MarkerKey,
    pub(super) v0: &'a mut AgentApi,
    pub(super) v1: &'a mut AgentApi,
    pub(super) tally: &'a mut Tally,
}

impl Sweep<'_> {
    fn api(&mut self, marker: &Marker) -> &mut AgentApi {
        if marker.run_id.is_some() {
            self.v1
        } else {
            self.v0
        }
    }

    /// Reads a candidate's agent (and, when it ended, its summary).
    pub(super) async fn read(&mut self, cand: &Candidate) -> Read {
        let id = cand.marker.agent.clone().unwrap_or_default();
        let rt = self.rt;
        let api = self.api(&cand.marker);
        let read = api.reattach(&id, cand.marker.run_id.as_deref()).await;
        let failure = match read {
            Ok(agent) if !agent.status.is_terminal() => {
                self.tally.pending += 1;
                return Read::Left;
            }
            Ok(agent) => {
                let mut r = RunReport::new(Outcome::for_final_status(&agent.status));
                r.summary = match agent.summary() {
                    Some(s) => Some(s.to_string()),
                    None => {
                        api.fallback_summary(&id, rt.clock.now() + CALL_BUDGET)
                            .await
                    }
                };
                // The duration line a waiting run shows: the run's own
                // length on v1 (`durationMs`). v0 gives only `createdAt`,
                // no end time, so a swept v0 comment has no duration (the
                // time until this sweep would overstate it).
                r.duration = agent.duration;
                r.agent = Some(agent);
                return Read::Ended(Box::new(r));
            }
            Err(Failure::Cancelled) => return Read::Cancelled,
            Err(f) => f,
        };
        if let Failure::Failed(e) = &failure {
            match crate::agent::existence(e) {
                crate::agent::Existence::Gone(how) => {
                    let age = cand
                        .marker
                        .at
                        .map(|at| Duration::from_secs(rt.clock.unix_secs().saturating_sub(at)));
                    if age.is_some_and(|a| a < crate::agent::GONE_MIN_AGE) {
                        rt.io.console.info(&format!(
                            "Cursor says agent {id} does not exist ({how}), but it was taken on {}s ago (Cursor can say so in an agent's first minute); {} is left for the next sweep.",
                            age.unwrap_or_default().as_secs(),
                            cand.comment.comment.html_url
                        ));
                        self.tally.failed += 1;
                        return Read::Left;
                    }
                    return Read::Suspect;
                }
                crate::agent::Existence::Unexplained(how) => {
                    return Read::Unexplained(format!("{how} ({e})"));
                }
                crate::agent::Existence::Unknown => {}
            }
        }
        rt.io.console.warning(&format!(
            "Could not read agent {id} for {}: {}; it is left for the next sweep.",
            cand.comment.comment.html_url,
            failure.describe()
        ));
        self.tally.failed += 1;
        Read::Left
    }

    /// A 404 that is not Cursor saying "no such agent": the sweep stops
    /// with every comment as it was (exit 1), naming `api-url`.
    pub(super) fn not_cursor(&self, how: &str) -> u8 {
        let console = &self.rt.io.console;
        let left = if self.tally.swept == 0 {
            "without changing any comment"
        } else {
            "leaving the comments it had not finalized as they were"
        };
        console.error(&format!(
            "The sweep stopped {left}: reading an agent answered {how}, which is not Cursor saying the agent does not exist. Check `api-url` ({}): it must be Cursor's API (the default, https://api.cursor.com), not a proxy or another server.",
            self.inputs.api_url
        ));
        self.rt.io.set_outputs(&[
            ("swept", self.tally.swept.to_string()),
            ("pending", self.tally.pending.to_string()),
        ]);
        1
    }

    /// Writes each ended agent's comment final (and reacts) at once.
    pub(super) async fn finalize_all<'c>(
        &mut self,
        ended: Vec<(&'c Candidate, RunReport)>,
    ) -> Vec<Finalized<'c>> {
        let mut done = Vec::new();
        for (cand, mut report) in ended {
            if self.rt.cancel.is_cancelled() {
                break;
            }
            let id = cand.marker.agent.clone().unwrap_or_default();
            report.run_id = cand.marker.run_id.clone();
            // The run URL names the GitHub host the artifact list links to.
            report.run_url = run_url(self.ctx, &cand.marker);
            report.comment_url = Some(cand.comment.comment.html_url.clone());
            let repo_url = self.ctx.repo_url();
            match finish_one(self.rt, self.github, self.key, cand, &report, &repo_url).await {
                Ok(Some((base, extras))) => {
                    self.tally.swept += 1;
                    self.tally.finished.push(format!(
                        "- [#{} comment]({}): {} (agent {})",
                        cand.comment.issue,
                        cand.comment.comment.html_url,
                        report.outcome.as_str(),
                        markdown::code_inline(&self.rt.io.console.redactor(), &id)
                    ));
                    // A gone agent has nothing more to tell.
                    let details_due = report.status() != Some("GONE");
                    done.push(Finalized {
                        cand,
                        report,
                        base,
                        extras,
                        details_due,
                    });
                }
                Ok(None) => {}
                Err(()) => self.tally.failed += 1,
            }
        }
        done
    }

    /// Reads each finalized run's usage and artifacts, and amends its
    /// comment once when they add anything; a cancel leaves the rest
    /// saying what they lack (within a short budget).
    pub(super) async fn amend_all(&mut self, finalized: Vec<Finalized<'_>>) {
        let rt = self.rt;
        for mut f in finalized.into_iter().filter(|f| f.details_due) {
            let id = f.cand.marker.agent.clone().unwrap_or_default();
            let host = f.report.github_host().to_string();
            let after = if rt.cancel.is_cancelled() {
                crate::agent::AfterRun {
                    missing: vec!["usage", "artifacts"],
                    ..Default::default()
                }
            } else {
                let (workspace, download, upload) = (
                    self.ctx.workspace.clone(),
                    self.inputs.download_artifacts.clone(),
                    self.inputs.artifacts_url.clone(),
                );
                self.api(&f.cand.marker)
                    .after_run(
                        &id,
                        &workspace,
                        download.as_deref(),
                        upload.as_deref(),
                        &host,
                        &rt.cancel,
                    )
                    .await
            };
            for w in &after.warnings {
                rt.io.console.warning(w);
            }
            f.report.missing = after.missing_line(rt.cancel.is_cancelled());
            f.report.usage = after.usage;
            f.report.artifacts = after.artifacts;
            if f.report.usage.is_none()
                && f.report.artifacts.is_none()
                && f.report.missing.is_none()
            {
                continue;
            }
            // After a cancel: a short budget of its own (the runner kills
            // the step ~10 s after the signal).
            let limits = if rt.cancel.is_cancelled() {
                Limits::new(rt.clock, rt.clock.now() + AMEND_AFTER_CANCEL, None)
            } else {
                Limits::new(
                    rt.clock,
                    rt.clock.now() + CALL_BUDGET,
                    Some(rt.cancel.clone()),
                )
            };
            let body = rt
                .io
                .console
                .redact(&comment::final_body(&f.base, &f.report, &f.extras));
            let cid = f.cand.comment.comment.id;
            if let Err(e) =
                policy::idempotent(&limits, || self.github.update_comment(cid, &body)).await
            {
                rt.io.console.warning(&e.actionable(&format!(
                    "add the usage and artifacts to the comment on #{}",
                    f.cand.comment.issue
                )));
            }
        }
    }
}

/// Finalizes one comment: re-reads it, skips it when it is final by now (or
/// no longer provably ours), else writes the final body and reacts.
/// `Ok(Some)`: this sweep finalized it, with the marker and extras it wrote.
async fn finish_one(
    rt: &Runtime,
    github: &GitHubClient,
    key: &MarkerKey,
    cand: &Candidate,
    report: &RunReport,
    repo_url: &str,
) -> Result<Option<(Marker, CommentExtras)>, ()> {
    let console = &rt.io.console;
    let limits = Limits::new(
        rt.clock,
        rt.clock.now() + CALL_BUDGET,
        Some(rt.cancel.clone()),
    );
    let id = cand.comment.comment.id;
    let now = match policy::idempotent(&limits, || github.get_comment(id)).await {
        Ok(c) => c,
        Err(e) if e.status() == Some(404) => return Ok(None),
        Err(e) => {
            console.warning(&e.actionable("re-read a comment before finalizing it"));
            return Err(());
        }
    };
    let fresh = RepoComment {
        comment: now,
        issue: cand.comment.issue,
    };
    match provably_ours(&fresh, key) {
        Some(m) if !m.is_final() => {}
        _ => return Ok(None),
    }
    // It names the issue it sits on (a 1.0.0 marker gains the field).
    let mut base = Marker {
        state: None,
        sig: None,
        on: None,
        issue: Some(cand.comment.issue),
        ..cand.marker.clone()
    }
    .finalized_by_sweep();
    // A scheduled job's comment says which pull request it is about (the
    // job's next run keeps one comment per open pull request).
    if base.job.is_some() && base.pr.is_none() {
        base.pr = report
            .pr_url()
            .and_then(|u| crate::job::pull_number(u, repo_url));
    }
    let extras = CommentExtras {
        note: None,
        followup_phrase: footer_phrase(&fresh.comment.body),
        redactor: console.redactor(),
        // Fixing CI's history: the sweep cannot render it again (the
        // workflow's name and the cap are not in the marker), so it keeps it.
        section: comment::section_of(&fresh.comment.body).map(String::from),
        signer: Some(key.clone()),
        ack: cand.marker.on.clone(),
        handoff_on_timeout: false,
        sweep_seen: false,
    };
    let body = console.redact(&comment::final_body(&base, report, &extras));
    if let Err(e) = policy::idempotent(&limits, || github.update_comment(id, &body)).await {
        console.warning(&e.actionable(&format!("finalize the comment on #{}", cand.comment.issue)));
        return Err(());
    }
    if let (Some(on), Some(content)) = (
        cand.marker.on.as_deref().and_then(decode_on),
        report.outcome.reaction(),
    ) && let Err(e) = policy::idempotent(&limits, || github.react(on, content)).await
    {
        console.warning(&e.actionable(&format!("add a {content} reaction")));
    }
    Ok(Some((base, extras)))
}
