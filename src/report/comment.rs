//! The live issue comment: its hidden marker (agent id, run id, attempt) and
//! its body while the agent works and once the run ends.

use super::{Outcome, RunReport, human_duration};
use crate::agent::Status;
use crate::markdown;
use crate::marker::{Marker, MarkerKey, STATE_FINAL, STATE_OPEN};
use kit::secret::Redactor;

/// GitHub rejects comment bodies over 65536 characters; stay well below in
/// bytes (which bounds characters too).
pub const MAX_COMMENT_BYTES: usize = 65_000;

/// Around a comment's section (e.g. fixing CI's history), so that a later
/// writer that cannot render it again (the sweep) carries it over as it was.
/// Invisible in the rendered comment; a section is neutralized Markdown, so
/// its own text can hold neither delimiter.
const SECTION_START: &str = "<!-- section -->\n";
const SECTION_END: &str = "\n<!-- /section -->";

/// The section of a comment this action wrote (see [`CommentExtras::section`]).
pub fn section_of(body: &str) -> Option<&str> {
    let start = body.find(SECTION_START)? + SECTION_START.len();
    let len = body[start..].find(SECTION_END)?;
    Some(&body[start..start + len])
}

/// Where the comment is in the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// The agent is being launched or is working; `status` as last seen.
    Working { status: Option<Status> },
    /// The run is over.
    Final,
}

/// What the comment shows besides the report.
#[derive(Debug, Clone, Default)]
pub struct CommentExtras {
    /// A line shown above the details (e.g. "the previous agent was gone").
    pub note: Option<String>,
    /// The trigger phrase, when follow-ups are on: the footer says how to
    /// send one.
    pub followup_phrase: Option<String>,
    /// Signs the marker (and records its state) when set: the action's key.
    pub signer: Option<MarkerKey>,
    /// Where the trigger's reaction goes, recorded in the marker.
    pub ack: Option<String>,
    /// `on-timeout: continue`: a timeout hands the comment to a sweep.
    pub handoff_on_timeout: bool,
    /// A sweep has run on this repository: one finalized a comment of the
    /// action on this issue (a signed `swept` marker among the comments the
    /// run lists anyway). The hand-off then says this repository's sweep
    /// finishes the comment, instead of how to set one up.
    pub sweep_seen: bool,
    /// The run's (the console's): every cut of untrusted text goes through it.
    pub redactor: Redactor,
    /// A section of Markdown shown below the note, already neutralized by
    /// whoever built it (fix-CI's attempt, evidence and history).
    pub section: Option<String>,
}

/// Whether a final-phase comment for `report` is handed off to a sweep: the
/// agent is still working and nobody waits for it (`wait: false`, or the
/// deadline with `on-timeout: continue`).
pub fn is_handoff(report: &RunReport, extras: &CommentExtras) -> bool {
    match report.outcome {
        Outcome::Launched | Outcome::FollowedUp => true,
        Outcome::Timeout => extras.handoff_on_timeout,
        _ => false,
    }
}

/// What a handed-off comment says about its future, when the run cannot
/// tell whether this repository has a sweep: how to get one.
pub const HANDOFF_TEXT: &str = "⏳ **Still working:** this comment is updated when the agent finishes, by a sweep (a step with `sweep: true`; see \"Detached runs and the sweep\" in the cursor-agent-action README). Until then, follow the agent in Cursor.";

/// The same when a sweep is known to run here (it finalized an earlier
/// comment of the action on this issue).
pub const HANDOFF_TEXT_SWEEP_SEEN: &str = "⏳ **Still working:** this comment is updated when the agent finishes, by this repository's sweep (it finalized an earlier comment of this action on this issue). Until then, follow the agent in Cursor.";

/// The hand-off text for `extras`.
pub fn handoff_text(extras: &CommentExtras) -> &'static str {
    if extras.sweep_seen {
        HANDOFF_TEXT_SWEEP_SEEN
    } else {
        HANDOFF_TEXT
    }
}

fn working_headline(redactor: &Redactor, status: Option<&Status>) -> String {
    match status {
        None => "⏳ Launching a Cursor agent".into(),
        Some(Status::Creating) => "⏳ Cursor agent starting".into(),
        Some(Status::Running) => "⚙️ Cursor agent working".into(),
        Some(other) => format!(
            "⚙️ Cursor agent: {}",
            markdown::code_inline(redactor, other.as_str())
        ),
    }
}

/// What to tell the maintainer when the report has no detail of its own;
/// `followups`: a comment can reach this agent. The advice is what a re-run
/// does: after ERROR or EXPIRED it launches a new agent.
fn default_detail(outcome: Outcome, followups: bool) -> Option<&'static str> {
    Some(match outcome {
        Outcome::Error => {
            "The agent reported an error. Open it in Cursor to see what went wrong; re-running the workflow launches a new agent."
        }
        Outcome::Expired => {
            "The agent expired before finishing. Re-running the workflow launches a new one."
        }
        Outcome::Stopped if followups => {
            "The agent was stopped before finishing. A follow-up comment resumes it; re-running the workflow launches a new agent."
        }
        Outcome::Stopped => {
            "The agent was stopped before finishing. Re-running the workflow launches a new agent."
        }
        Outcome::Cancelled => "The workflow run was cancelled.",
        Outcome::Launched => {
            "This workflow does not wait for the agent (`wait: false`); follow it in Cursor."
        }
        _ => return None,
    })
}

/// The final body for `report`: what a waiting run and a sweep both write
/// when the run is over (redact it before posting).
pub fn final_body(marker: &Marker, report: &RunReport, extras: &CommentExtras) -> String {
    render(marker, report, &Phase::Final, extras)
}

/// The comment body for `report` in `phase`.
pub fn render(
    marker: &Marker,
    report: &RunReport,
    phase: &Phase,
    extras: &CommentExtras,
) -> String {
    let redactor = &extras.redactor;
    let headline = match phase {
        Phase::Working { status } => working_headline(redactor, status.as_ref()),
        Phase::Final => report.outcome.headline().to_string(),
    };
    let mut links = Vec::new();
    if let Some(url) = report.agent_url() {
        links.push(markdown::agent_link(
            redactor,
            "Open the agent in Cursor",
            &url,
        ));
    }
    if let Some(status) = report.status() {
        links.push(format!(
            "status {}",
            markdown::code_inline(redactor, status)
        ));
    }
    if let Some(run) = &report.run_url {
        links.push(format!("[workflow run]({run})"));
    }
    let handoff = matches!(phase, Phase::Final) && is_handoff(report, extras);
    let marker = marker.clone().with_on(extras.ack.as_deref());
    let marker = match &extras.signer {
        Some(key) => {
            let open = !matches!(phase, Phase::Final) || handoff;
            marker.signed(key, if open { STATE_OPEN } else { STATE_FINAL })
        }
        None => marker,
    };
    let mut md = format!("{}\n### {headline}\n\n", marker.render());
    if !links.is_empty() {
        md.push_str(&links.join(" · "));
        md.push_str("\n\n");
    }
    if let Some(note) = &extras.note {
        md.push_str(&format!(
            "{}\n\n",
            markdown::sanitize_inline(redactor, note)
        ));
    }
    if let Some(section) = &extras.section {
        md.push_str(SECTION_START);
        md.push_str(section.trim_end());
        md.push_str(SECTION_END);
        md.push_str("\n\n");
    }
    let mut facts = Vec::new();
    if let Some(pr) = report.pr_url() {
        facts.push(format!(
            "**Pull request:** {}",
            markdown::pr_link(redactor, pr, report.github_host())
        ));
    }
    if let Some(branch) = report.branch() {
        facts.push(format!(
            "**Branch:** {}",
            markdown::code_inline(redactor, branch)
        ));
    }
    if let (Phase::Final, Some(changes)) = (phase, report.changes) {
        facts.push(format!("**Changes:** {}", super::changes_text(changes)));
    }
    if let (Phase::Final, Some(d)) = (phase, report.duration) {
        facts.push(format!("**Duration:** {}", human_duration(d)));
    }
    if let (Phase::Final, Some(u)) = (phase, &report.usage) {
        facts.push(format!("**Usage:** {}", super::usage::line(u)));
    }
    if !facts.is_empty() {
        md.push_str(&facts.join("  \n"));
        md.push_str("\n\n");
    }
    match phase {
        Phase::Working { .. } => match &report.activity {
            // Built by `activity::Activity::markdown` (neutralized there).
            Some(activity) => {
                md.push_str(activity.trim_end());
                md.push_str(
                    "\n\n_This comment is updated as the agent works (at most every 10 s), when the status changes and when the run ends._\n\n",
                );
            }
            None => md.push_str(
                "_This comment is updated when the status changes and when the run ends._\n\n",
            ),
        },
        Phase::Final => {
            let followups = extras.followup_phrase.is_some() && report.agent.is_some();
            let detail = report
                .detail
                .as_deref()
                .or(default_detail(report.outcome, followups));
            if let Some(detail) = detail {
                md.push_str(&format!(
                    "{}\n\n",
                    markdown::sanitize_inline(redactor, detail)
                ));
            }
            if let Some(missing) = &report.missing {
                md.push_str(&format!(
                    "{}\n\n",
                    markdown::sanitize_inline(redactor, missing)
                ));
            }
            if handoff {
                md.push_str(handoff_text(extras));
                md.push_str("\n\n");
            }
            // Built by `artifacts::markdown_list` (neutralized there).
            if let Some(a) = report.artifacts.as_ref().filter(|a| !a.markdown.is_empty()) {
                md.push_str(a.markdown.trim_end());
                md.push_str("\n\n");
            }
        }
    }
    let footer = format!(
        "<sub>Posted by cursor-agent-action{}.</sub>\n",
        extras
            .followup_phrase
            .as_deref()
            // Only an agent can be followed up.
            .filter(|_| report.agent.is_some())
            .map(|p| format!(
                " · comment `{} …` to send the agent a follow-up",
                p.replace('`', "'")
            ))
            .unwrap_or_default()
    );
    if let (Phase::Final, Some(summary)) = (phase, &report.summary) {
        // The summary gets whatever room the rest leaves.
        let wrapper =
            "<details><summary>Agent summary</summary>\n\n\n\n</details>\n\n**Summary**\n\n…\n";
        let budget =
            MAX_COMMENT_BYTES.saturating_sub(md.len() + footer.len() + wrapper.len() + 200);
        let (text, cut) = markdown::sanitize_within(redactor, summary, budget);
        let text = if cut {
            format!(
                "{text}\n\n_(summary shortened; the full text is in the agent's page in Cursor)_"
            )
        } else {
            text
        };
        md.push_str("**Summary**\n\n");
        md.push_str(&markdown::fold("Agent summary", &text, 30, 3000));
        md.push_str("\n\n");
    }
    md.push_str(&footer);
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{AgentRun, Tells};
    use crate::marker::sig_key;

    fn agent(status: Status) -> AgentRun {
        AgentRun {
            status,
            url: "https://cursor.com/agents?id=bc-11111111-2222-3333-4444-555555555555".into(),
            branch: Some("cursor/issue-1".into()),
            pr_url: Some("https://github.com/o/r/pull/9".into()),
            ..AgentRun::new("bc-11111111-2222-3333-4444-555555555555", Tells::V0)
        }
    }

    #[test]
    fn final_comment_has_links_and_a_safe_summary() {
        let mut r = RunReport::new(Outcome::Finished);
        r.agent = Some(agent(Status::Finished));
        r.summary = Some("Fixed it. Thanks @octocat <!-- hidden --> <img src=x>".into());
        r.duration = Some(std::time::Duration::from_secs(200));
        r.run_url = Some("https://github.com/o/r/actions/runs/1".into());
        let body = render(
            &Marker::new(r.agent_id(), Some(1), 1),
            &r,
            &Phase::Final,
            &CommentExtras::default(),
        );
        assert!(body.starts_with("<!-- cursor-agent-action {\"v\":1,\"agent\":\"bc-11111111-2222-3333-4444-555555555555\",\"run\":1,\"attempt\":1} -->\n"));
        assert!(body.contains("### ✅ Cursor agent finished"));
        assert!(body.contains("**Pull request:** https://github.com/o/r/pull/9"));
        assert!(body.contains("**Duration:** 3m 20s"));
        assert!(body.contains("@&#8203;octocat"));
        assert_eq!(body.matches("<!--").count(), 1, "{body}");
        assert!(!body.contains("<img"));
    }

    #[test]
    fn signed_markers_verify_and_record_the_state() {
        let key = sig_key(&kit::secret::Secret::new("k"));
        let extras = CommentExtras {
            signer: Some(key.clone()),
            ack: Some("comment:77".into()),
            ..CommentExtras::default()
        };
        let mut r = RunReport::new(Outcome::Launched);
        r.agent = Some(agent(Status::Running));
        let marker = Marker::new(r.agent_id(), Some(1), 1).with_key("ab");
        let open = render(&marker, &r, &Phase::Final, &extras);
        let m = Marker::find(&open).unwrap();
        assert!(m.verify(&key) && !m.is_final(), "{open}");
        assert_eq!(m.on.as_deref(), Some("comment:77"));
        assert!(open.contains(HANDOFF_TEXT));
        r.outcome = Outcome::Finished;
        let done = render(&marker, &r, &Phase::Final, &extras);
        let d = Marker::find(&done).unwrap();
        assert!(d.verify(&key) && d.is_final());
        assert!(!done.contains(HANDOFF_TEXT));
        // The state is not signed (a sweep re-signs it); every other field is.
        assert_eq!(d.sig, m.sig);
        let other = sig_key(&kit::secret::Secret::new("other"));
        assert!(!d.verify(&other));
        let mut tampered = d.clone();
        tampered.agent = Some("bc-other".into());
        assert!(!tampered.verify(&key));
        // Odd values never reach a re-rendered marker.
        let odd = "<!-- cursor-agent-action {\"v\":1,\"on\":\"x-->\",\"state\":\"-->\",\"sig\":\"zz\"} -->";
        let o = Marker::find(odd).unwrap();
        assert_eq!((o.on, o.state, o.sig), (None, None, None));
        // A timeout hands off only with `on-timeout: continue`.
        r.outcome = Outcome::Timeout;
        assert!(!is_handoff(&r, &extras));
        let cont = CommentExtras {
            handoff_on_timeout: true,
            ..extras.clone()
        };
        assert!(is_handoff(&r, &cont));
        // A sweep's mark is signed: it cannot be added to a comment.
        r.outcome = Outcome::Finished;
        assert!(!d.was_swept(), "a waiting run's final comment");
        let by_sweep = Marker::find(&final_body(
            &marker.clone().finalized_by_sweep(),
            &r,
            &extras,
        ))
        .unwrap();
        assert!(by_sweep.verify(&key) && by_sweep.was_swept());
        let mut forged = d.clone();
        forged.swept = Some(true);
        assert!(!forged.verify(&key), "the mark is covered by the signature");
        // The hand-off says what the run can tell.
        r.outcome = Outcome::Launched;
        let seen = CommentExtras {
            sweep_seen: true,
            ..cont
        };
        let body = render(&marker, &r, &Phase::Final, &seen);
        assert!(body.contains(HANDOFF_TEXT_SWEEP_SEEN) && !body.contains(HANDOFF_TEXT));
    }

    #[test]
    fn working_comment_says_so() {
        let mut r = RunReport::new(Outcome::Launched);
        r.agent = Some(agent(Status::Running));
        let body = render(
            &Marker::new(r.agent_id(), Some(1), 1),
            &r,
            &Phase::Working {
                status: Some(Status::Running),
            },
            &CommentExtras::default(),
        );
        assert!(body.contains("### ⚙️ Cursor agent working"));
        assert!(body.contains("status `RUNNING`"));
    }

    #[test]
    fn huge_summaries_are_capped() {
        let mut r = RunReport::new(Outcome::Finished);
        r.agent = Some(agent(Status::Finished));
        r.summary = Some("@a <b> ".repeat(40_000));
        let body = render(
            &Marker::new(r.agent_id(), None, 1),
            &r,
            &Phase::Final,
            &CommentExtras::default(),
        );
        assert!(body.len() <= MAX_COMMENT_BYTES, "{}", body.len());
        assert!(body.contains("<details><summary>Agent summary</summary>"));
        assert!(body.contains("summary shortened"));
        assert!(body.trim_end().ends_with("</sub>"));
    }
}
