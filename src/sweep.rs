//! The sweep (`sweep: true`): launches nothing. It lists this repository's
//! comments updated within `sweep-window` (REST, bounded by a page limit),
//! keeps those that are provably the action's own and not final, reads each
//! one's agent (v1 run or v0 agent, as the marker records), and finalizes
//! every one whose work has ended exactly as a waiting run would: the same
//! [`comment::render`] of a report with the same fields, and the same
//! reaction on the trigger. Agents still working are left untouched.
//!
//! Provably ours: its marker is believed by [`marker::believe`], the rule
//! every path shares (an author who may speak for the action, a signature
//! under the key derived from `cursor-api-key`, and the issue the comment
//! sits on named in the marker). A marker copied into anyone's comment, or
//! onto another issue, with or without its `sig`, is ignored.
//!
//! Safe under races: it writes only final states, re-reads each comment just
//! before editing it and skips it when it is final by then; reactions are
//! idempotent on GitHub. A cancel stops it between comments, so the ones it
//! did not reach stay as they were.

use crate::agent::{AgentApi, Failure, Setup};
use crate::context::Context;
use crate::github::policy::{self, Limits};
use crate::github::{GitHubClient, ReactionOn, RepoComment};
use crate::inputs::{ApiVersion, Inputs, PromptSource};
use crate::marker::{self, Marker, MarkerKey};
use crate::report::comment::{self, CommentExtras};
use crate::report::markdown;
use crate::report::{Outcome, RunReport};
use crate::runtime::Runtime;
use cursor_api::AgentStatus;
use std::time::{Duration, SystemTime};

/// Pages of 100 comments read at most.
pub const MAX_SWEEP_PAGES: u32 = 10;
/// Time for the GitHub calls about one comment.
const CALL_BUDGET: Duration = Duration::from_secs(60);
/// After a cancel, for the edit that says what a finalized comment lacks.
const AMEND_AFTER_CANCEL: Duration = Duration::from_secs(3);

/// A reaction target as the marker records it.
pub fn encode_on(on: ReactionOn) -> String {
    match on {
        ReactionOn::Issue(n) => format!("issue:{n}"),
        ReactionOn::Comment(n) => format!("comment:{n}"),
        ReactionOn::ReviewComment(n) => format!("review:{n}"),
    }
}

/// The reaction target a marker records.
pub fn decode_on(on: &str) -> Option<ReactionOn> {
    let (kind, n) = on.split_once(':')?;
    let n: u64 = n.parse().ok()?;
    Some(match kind {
        "issue" => ReactionOn::Issue(n),
        "comment" => ReactionOn::Comment(n),
        "review" => ReactionOn::ReviewComment(n),
        _ => return None,
    })
}

/// A comment the sweep may finish: the action's own, signed, not final.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub comment: RepoComment,
    pub marker: Marker,
}

/// Whether a listed comment is provably the action's own (its marker is
/// believed on the issue it sits on), and its marker if so.
pub fn provably_ours(c: &RepoComment, key: &MarkerKey) -> Option<Marker> {
    marker::believe(&c.comment, c.issue, key)
}

/// The candidates among `listed`: ours, not final, naming an agent.
pub fn candidates(listed: &[RepoComment], key: &MarkerKey) -> Vec<Candidate> {
    listed
        .iter()
        .filter_map(|c| {
            let marker = provably_ours(c, key)?;
            (!marker.is_final() && marker.agent.is_some()).then(|| Candidate {
                comment: c.clone(),
                marker,
            })
        })
        .collect()
}

/// The follow-up phrase the comment's footer shows (the waiting run's
/// `trigger-phrase`), so the final body keeps it.
pub fn footer_phrase(body: &str) -> Option<String> {
    let footer = body
        .lines()
        .rev()
        .find(|l| l.starts_with("<sub>Posted by"))?;
    let start = footer.find(" · comment `")? + " · comment `".len();
    let rest = &footer[start..];
    let end = rest.find(" …` to send the agent a follow-up")?;
    Some(rest[..end].to_string())
}

/// The workflow run a marker names, as `Context::run_url` writes it.
fn run_url(ctx: &Context, marker: &Marker) -> Option<String> {
    let run = marker.run?;
    let mut url = format!("{}/actions/runs/{run}", ctx.repo_url());
    if let Some(a) = marker.attempt.filter(|a| *a > 1) {
        url.push_str(&format!("/attempts/{a}"));
    }
    Some(url)
}

/// What the sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub read: usize,
    pub swept: usize,
    pub pending: usize,
    /// Comments it could not finish this time (a read or an edit failed).
    pub failed: usize,
    /// Summary lines, one per finished comment.
    pub finished: Vec<String>,
}

/// `2026-11-23T10:00:00Z`.
fn rfc3339(t: SystemTime) -> String {
    kit::rfc3339::iso8601(t)
}

/// An agent API of `version`, for reading only.
fn reader(
    rt: &Runtime,
    inputs: &Inputs,
    ctx: &Context,
    http: &reqwest::Client,
    version: ApiVersion,
) -> Option<AgentApi> {
    let mut inputs = inputs.clone();
    inputs.api_version = version;
    // Reading needs no task; the plan only gives the client its identity.
    inputs.prompt = Some(PromptSource::Text("sweep".into()));
    inputs.issue_number = None;
    let plan = crate::plan::plan(&inputs, ctx).ok()?;
    Some(AgentApi::new(Setup {
        http: http.clone(),
        inputs: &inputs,
        ctx,
        plan: &plan,
        clock: rt.clock,
        cancel: rt.cancel.clone(),
        redactor: rt.io.console.redactor(),
    }))
}

/// Runs the sweep. Returns the exit status.
pub async fn run(
    rt: &Runtime,
    inputs: &Inputs,
    ctx: &Context,
    http: reqwest::Client,
    github: Option<GitHubClient>,
) -> u8 {
    let console = &rt.io.console;
    let Some(github) = github else {
        console.error("`sweep: true` needs `github-token` (with `issues: write` and `pull-requests: write`) to read and finalize the action's comments; set it, e.g. `github-token: ${{ github.token }}`.");
        return crate::runtime::EXIT_CONFIG;
    };
    let key = marker::sig_key(&inputs.api_key);
    let (Some(mut v0), Some(mut v1)) = (
        reader(rt, inputs, ctx, &http, ApiVersion::V0),
        reader(rt, inputs, ctx, &http, ApiVersion::V1),
    ) else {
        console.error("The sweep could not set up its Cursor client for this repository.");
        return crate::runtime::EXIT_CONFIG;
    };
    let since = rfc3339(SystemTime::now() - inputs.sweep_window);
    let limits = Limits::new(
        rt.clock,
        rt.clock.now() + CALL_BUDGET,
        Some(rt.cancel.clone()),
    );
    let listed = policy::idempotent(&limits, || {
        github.list_repo_comments(&since, MAX_SWEEP_PAGES)
    })
    .await;
    let (listed, truncated) = match listed {
        Ok(v) => v,
        Err(crate::github::GitHubError::Cancelled) => {
            console
                .error("The sweep was cancelled before it read any comment; nothing was changed.");
            rt.io
                .set_outputs(&[("swept", "0".into()), ("pending", "0".into())]);
            return 1;
        }
        Err(e) => {
            console.error(&e.actionable("list the repository's comments for the sweep"));
            return 1;
        }
    };
    if truncated {
        console.warning(&format!(
            "The sweep read the {} most recently updated comments ({MAX_SWEEP_PAGES} pages) and left older ones; run it more often or shorten `sweep-window`.",
            listed.len()
        ));
    }
    let mut tally = Tally {
        read: listed.len(),
        ..Tally::default()
    };
    let todo = candidates(&listed, &key);
    let mut sweep = Sweep {
        rt,
        inputs,
        ctx,
        github: &github,
        key: &key,
        v0: &mut v0,
        v1: &mut v1,
        tally: &mut tally,
    };
    // Every agent is read before any comment is written: an answer that
    // shows the API is not Cursor's (a 404 that does not say the agent
    // does not exist) leaves every comment as it was.
    let mut ended = Vec::new();
    let mut suspects = Vec::new();
    for cand in &todo {
        if rt.cancel.is_cancelled() {
            break;
        }
        match sweep.read(cand).await {
            Read::Ended(report) => ended.push((cand, *report)),
            Read::Suspect => suspects.push(cand),
            Read::Left => {}
            Read::Unexplained(e) => return sweep.not_cursor(&e),
            Read::Cancelled => break,
        }
    }
    let first_reads_done = rt.clock.now();
    // Final first: every ended agent's comment at once, then the usage and
    // artifacts that come later, one amendment each.
    let finalized = sweep.finalize_all(ended).await;
    sweep.amend_all(finalized).await;
    // "Gone" is believed only when a second read, at least a minute
    // after the first, says it again.
    if !suspects.is_empty() && !rt.cancel.is_cancelled() {
        let confirm_at = first_reads_done + crate::agent::GONE_CONFIRM_AFTER;
        console.info(&format!(
            "Cursor says {} agent(s) do not exist; reading again at least {}s after the first read before calling them gone.",
            suspects.len(),
            crate::agent::GONE_CONFIRM_AFTER.as_secs()
        ));
        tokio::select! {
            _ = rt.clock.sleep_until(confirm_at) => {}
            _ = rt.cancel.cancelled() => {}
        }
        let mut confirmed = Vec::new();
        for cand in suspects {
            if rt.cancel.is_cancelled() {
                break;
            }
            match sweep.read(cand).await {
                Read::Ended(report) => confirmed.push((cand, *report)),
                Read::Suspect => confirmed.push((cand, gone_report(cand))),
                Read::Left => {}
                Read::Unexplained(e) => return sweep.not_cursor(&e),
                Read::Cancelled => break,
            }
        }
        let finalized = sweep.finalize_all(confirmed).await;
        sweep.amend_all(finalized).await;
    }
    let todo_len = todo.len();
    let open = todo_len;
    let cancelled = rt.cancel.is_cancelled();
    if cancelled {
        console.error(&format!(
            "The sweep was cancelled ({}); the comments it did not reach are left as they were for the next sweep.",
            rt.cancel.reason().unwrap_or("cancellation")
        ));
    }
    console.info(&format!(
        "Sweep: read {} comments updated since {since} ({open} of the action's not final); finalized {}, {} still working, {} left for the next sweep; {} GitHub requests, {} Cursor requests.",
        tally.read,
        tally.swept,
        tally.pending,
        tally.failed,
        github.request_count(),
        v0.request_count() + v1.request_count()
    ));
    rt.io.set_outputs(&[
        ("swept", tally.swept.to_string()),
        ("pending", tally.pending.to_string()),
    ]);
    let mut summary = format!(
        "### 🧹 Cursor agent sweep\n\nRead {} comments; finalized {}, {} still working.\n\n",
        tally.read, tally.swept, tally.pending
    );
    for line in &tally.finished {
        summary.push_str(line);
        summary.push('\n');
    }
    rt.io.append_summary(&summary);
    u8::from(cancelled)
}

/// What reading a candidate's agent told.
enum Read {
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
struct Finalized<'c> {
    cand: &'c Candidate,
    report: RunReport,
    base: Marker,
    extras: CommentExtras,
    /// The agent whose usage and artifacts are still to come.
    details_due: bool,
}

/// The report of an agent Cursor said twice does not exist.
fn gone_report(cand: &Candidate) -> RunReport {
    let id = cand.marker.agent.clone().unwrap_or_default();
    let mut r = RunReport::new(Outcome::Expired);
    // Its link is all that is left of it.
    let mut agent = crate::agent::v1::view(&id, None, None, None);
    agent.status = AgentStatus::Unknown("GONE".into());
    r.agent = Some(agent);
    r.detail = Some(format!(
        "The agent {id} is gone from Cursor (Cursor said it does not exist, twice, a minute apart): it was deleted, archived or expired before its result was read, so this comment cannot report it. Re-running the workflow launches a new agent."
    ));
    r
}

struct Sweep<'a> {
    rt: &'a Runtime,
    inputs: &'a Inputs,
    ctx: &'a Context,
    github: &'a GitHubClient,
    key: &'a MarkerKey,
    v0: &'a mut AgentApi,
    v1: &'a mut AgentApi,
    tally: &'a mut Tally,
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
    async fn read(&mut self, cand: &Candidate) -> Read {
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
    fn not_cursor(&self, how: &str) -> u8 {
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
    async fn finalize_all<'c>(
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
    async fn amend_all(&mut self, finalized: Vec<Finalized<'_>>) {
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
        section: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaction_targets_round_trip() {
        for on in [
            ReactionOn::Issue(3),
            ReactionOn::Comment(4),
            ReactionOn::ReviewComment(5),
        ] {
            assert_eq!(decode_on(&encode_on(on)), Some(on));
        }
        assert_eq!(decode_on("pull:3"), None);
        assert_eq!(decode_on("issue:x"), None);
    }

    #[test]
    fn footer_phrases_are_recovered() {
        let body = "x\n<sub>Posted by cursor-agent-action · comment `/cursor …` to send the agent a follow-up</sub>\n";
        assert_eq!(footer_phrase(body).as_deref(), Some("/cursor"));
        assert_eq!(
            footer_phrase("<sub>Posted by cursor-agent-action.</sub>\n"),
            None
        );
    }
}
