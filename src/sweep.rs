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

use crate::agent::{AgentApi, ApiError, Failure, Setup};
use crate::context::Context;
use crate::cursor::AgentStatus;
use crate::github::policy::{self, Limits};
use crate::github::{GitHubClient, ReactionOn, RepoComment};
use crate::inputs::{ApiVersion, Inputs, PromptSource};
use crate::marker::{self, Marker, MarkerKey};
use crate::report::comment::{self, CommentExtras};
use crate::report::markdown;
use crate::report::{Outcome, RunReport};
use crate::runtime::Runtime;
use std::time::{Duration, SystemTime};

/// Pages of 100 comments read at most.
pub const MAX_SWEEP_PAGES: u32 = 10;
/// Time for the GitHub calls about one comment.
const CALL_BUDGET: Duration = Duration::from_secs(60);

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

/// Whether a read failure means the agent is gone for good.
fn gone(e: &ApiError) -> bool {
    matches!(e.status(), Some(404 | 410))
        || e.to_string().contains("agent_archived")
        || e.to_string().contains("agent_expired")
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
    crate::rfc3339::iso8601(t)
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
    for cand in &todo {
        if rt.cancel.is_cancelled() {
            break;
        }
        let id = cand.marker.agent.clone().unwrap_or_default();
        let api = if cand.marker.run_id.is_some() {
            &mut v1
        } else {
            &mut v0
        };
        let read = api.reattach(&id, cand.marker.run_id.as_deref()).await;
        let mut report = match read {
            Ok(agent) if !agent.status.is_terminal() => {
                tally.pending += 1;
                continue;
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
                // The run URL names the GitHub host the artifact list links to.
                r.run_url = run_url(ctx, &cand.marker);
                // The same usage and artifacts a waiting run reports.
                let after = api
                    .after_run(
                        &id,
                        &ctx.workspace,
                        inputs.download_artifacts.as_deref(),
                        inputs.artifacts_url.as_deref(),
                        r.github_host(),
                        &rt.cancel,
                    )
                    .await;
                for w in &after.warnings {
                    console.warning(w);
                }
                r.usage = after.usage;
                r.artifacts = after.artifacts;
                r
            }
            Err(Failure::Failed(e)) if gone(&e) => {
                let mut r = RunReport::new(Outcome::Expired);
                // Its link is all that is left of it.
                let mut agent = crate::agent::v1::view(&id, None, None, None);
                agent.status = AgentStatus::Unknown("GONE".into());
                r.agent = Some(agent);
                r.detail = Some(format!(
                    "The agent {id} is gone from Cursor ({}): it was deleted, archived or expired before its result was read, so this comment cannot report it. Re-running the workflow launches a new agent.",
                    e.status()
                        .map(|s| format!("HTTP {s}"))
                        .unwrap_or_else(|| "no longer readable".into())
                ));
                r
            }
            Err(Failure::Cancelled) => break,
            Err(f) => {
                console.warning(&format!(
                    "Could not read agent {id} for {}: {}; it is left for the next sweep.",
                    cand.comment.comment.html_url,
                    f.describe()
                ));
                tally.failed += 1;
                continue;
            }
        };
        report.run_id = cand.marker.run_id.clone();
        report.run_url = run_url(ctx, &cand.marker);
        report.comment_url = Some(cand.comment.comment.html_url.clone());
        match finish_one(rt, &github, &key, cand, &report, &ctx.repo_url()).await {
            Ok(true) => {
                tally.swept += 1;
                tally.finished.push(format!(
                    "- [#{} comment]({}): {} (agent {})",
                    cand.comment.issue,
                    cand.comment.comment.html_url,
                    report.outcome.as_str(),
                    markdown::code_inline(&rt.io.console.redactor(), &id)
                ));
            }
            Ok(false) => {}
            Err(()) => tally.failed += 1,
        }
    }
    let open = todo.len();
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

/// Finalizes one comment: re-reads it, skips it when it is final by now (or
/// no longer provably ours), else writes the final body and reacts.
/// `Ok(true)`: this sweep finalized it.
async fn finish_one(
    rt: &Runtime,
    github: &GitHubClient,
    key: &MarkerKey,
    cand: &Candidate,
    report: &RunReport,
    repo_url: &str,
) -> Result<bool, ()> {
    let console = &rt.io.console;
    let limits = Limits::new(
        rt.clock,
        rt.clock.now() + CALL_BUDGET,
        Some(rt.cancel.clone()),
    );
    let id = cand.comment.comment.id;
    let now = match policy::idempotent(&limits, || github.get_comment(id)).await {
        Ok(c) => c,
        Err(e) if e.status() == Some(404) => return Ok(false),
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
        _ => return Ok(false),
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
    Ok(true)
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
