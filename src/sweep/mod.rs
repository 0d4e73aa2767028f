//! The sweep (`sweep: true`): launches nothing. It lists this repository's
//! comments updated within `sweep-window` (REST, bounded by a page limit),
//! keeps those that are provably the action's own and not final, reads each
//! one's agent (v1 run or v0 agent, as the marker records), and finalizes
//! every one whose work has ended exactly as a waiting run would: the same
//! [`crate::report::comment::render`] of a report with the same fields, and the same
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

mod candidates;
mod finish;

use finish::{Read, Sweep, gone_report};

pub use candidates::{Candidate, candidates, decode_on, encode_on, footer_phrase, provably_ours};

use crate::agent::{AgentApi, Setup};
use crate::context::Context;
use crate::github::GitHubClient;
use crate::github::policy::{self, Limits};
use crate::inputs::{ApiVersion, Inputs, PromptSource};
use crate::marker::{self, Marker};
use crate::runtime::Runtime;
use std::time::{Duration, SystemTime};

/// Pages of 100 comments read at most.
pub const MAX_SWEEP_PAGES: u32 = 10;
/// Time for the GitHub calls about one comment.
const CALL_BUDGET: Duration = Duration::from_secs(60);
/// After a cancel, for the edit that says what a finalized comment lacks.
const AMEND_AFTER_CANCEL: Duration = Duration::from_secs(3);

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
