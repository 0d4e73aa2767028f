//! What a run ends with, and how it is told: step outputs, the step summary
//! and (see `comment`) the issue comment. Pure functions of a [`RunReport`].

pub mod activity;
pub mod comment;
pub mod usage;

use crate::agent::RunUsage;
use crate::agent::{AgentRun, Status};
use crate::artifacts::ArtifactsShown;
use crate::inputs::OnTimeout;
use crate::markdown;
use kit::secret::Redactor;
use std::time::Duration;

/// How the run ended (the `outcome` output).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    Launched,
    FollowedUp,
    Error,
    Expired,
    Stopped,
    Timeout,
    Cancelled,
    Skipped,
    DryRun,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Finished => "finished",
            Outcome::Launched => "launched",
            Outcome::FollowedUp => "followed-up",
            Outcome::Error => "error",
            Outcome::Expired => "expired",
            Outcome::Stopped => "stopped",
            Outcome::Timeout => "timeout",
            Outcome::Cancelled => "cancelled",
            Outcome::Skipped => "skipped",
            Outcome::DryRun => "dry-run",
        }
    }

    /// The outcome a waiting run (and a sweep) reports for an agent's final
    /// status.
    pub fn for_final_status(status: &Status) -> Outcome {
        match status {
            Status::Finished => Outcome::Finished,
            Status::Expired => Outcome::Expired,
            Status::Stopped | Status::Cancelled => Outcome::Stopped,
            _ => Outcome::Error,
        }
    }

    /// The reaction the trigger gets for a final comment with this outcome
    /// (a handed-off timeout gets none: see `comment::is_handoff`).
    pub fn reaction(self) -> Option<&'static str> {
        match self {
            Outcome::Finished | Outcome::Launched | Outcome::FollowedUp => Some("rocket"),
            Outcome::Error | Outcome::Expired | Outcome::Stopped | Outcome::Timeout => {
                Some("confused")
            }
            _ => None,
        }
    }

    /// 0 for success-like outcomes (and a timeout the user chose to accept),
    /// 1 for failures.
    pub fn exit_code(self, on_timeout: OnTimeout) -> u8 {
        match self {
            Outcome::Finished
            | Outcome::Launched
            | Outcome::FollowedUp
            | Outcome::Skipped
            | Outcome::DryRun => 0,
            Outcome::Timeout if on_timeout == OnTimeout::Continue => 0,
            _ => 1,
        }
    }

    pub fn is_success(self) -> bool {
        matches!(
            self,
            Outcome::Finished | Outcome::Launched | Outcome::FollowedUp
        )
    }

    fn headline(self) -> &'static str {
        match self {
            Outcome::Finished => "✅ Cursor agent finished",
            Outcome::Launched => "🚀 Cursor agent launched",
            Outcome::FollowedUp => "🚀 Follow-up sent to the Cursor agent",
            Outcome::Error => "❌ Cursor agent failed",
            Outcome::Expired => "⌛ Cursor agent expired",
            Outcome::Stopped => "⏹️ Cursor agent stopped",
            Outcome::Timeout => "⏱️ Timed out waiting for the Cursor agent",
            Outcome::Cancelled => "🚫 Workflow cancelled",
            Outcome::Skipped => "⏭️ Skipped",
            Outcome::DryRun => "🧪 Dry run: nothing launched",
        }
    }
}

/// Everything known at the end of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub outcome: Outcome,
    /// The agent as last seen.
    pub agent: Option<AgentRun>,
    /// The branch planned for a launch (when the agent is not known).
    pub planned_branch: Option<String>,
    /// The summary: the agent's, or its last assistant message.
    pub summary: Option<String>,
    pub duration: Option<Duration>,
    pub comment_url: Option<String>,
    /// What happened and what to do, for failures, skips and timeouts.
    pub detail: Option<String>,
    pub run_url: Option<String>,
    /// The v1 run followed (none on v0).
    pub run_id: Option<String>,
    /// The live activity section (`activity::Activity::markdown`), shown
    /// while the agent works; `None` (v0, or nothing yet): as before.
    pub activity: Option<String>,
    /// The step summary's timeline (`activity::Activity::timeline_markdown`).
    pub timeline: Option<String>,
    /// The run's usage (v1), shown in the final comment and the summary.
    pub usage: Option<RunUsage>,
    /// The agent's artifacts, listed (and where they were written).
    pub artifacts: Option<ArtifactsShown>,
    /// A scheduled job's finished run: whether it pushed anything (see
    /// [`crate::job`]); `None` outside jobs or when unknown.
    pub changes: Option<bool>,
    /// What the run ended without, although it was still to come (usage,
    /// artifacts, cut short by a cancel or their budget): one line, ours.
    pub missing: Option<String>,
    /// Why the run did nothing or stopped, as a word (the `reason` output;
    /// fix-CI's `not-a-failure`, `stale`, `fork`, … see `crate::fix_ci`).
    pub reason: Option<&'static str>,
}

impl RunReport {
    pub fn new(outcome: Outcome) -> Self {
        Self {
            outcome,
            agent: None,
            planned_branch: None,
            summary: None,
            duration: None,
            comment_url: None,
            detail: None,
            run_url: None,
            run_id: None,
            activity: None,
            timeline: None,
            usage: None,
            artifacts: None,
            changes: None,
            missing: None,
            reason: None,
        }
    }

    pub fn agent_id(&self) -> Option<&str> {
        self.agent.as_ref().map(|a| a.id.as_str())
    }

    pub fn agent_url(&self) -> Option<String> {
        self.agent.as_ref().map(|a| a.url.clone())
    }

    pub fn branch(&self) -> Option<&str> {
        self.agent
            .as_ref()
            .and_then(|a| a.branch.as_deref())
            .or(self.planned_branch.as_deref())
    }

    pub fn pr_url(&self) -> Option<&str> {
        self.agent.as_ref().and_then(|a| a.pr_url.as_deref())
    }

    /// The GitHub server's host (from the run URL we built): pull request
    /// links from the API are shown as links only there.
    pub fn github_host(&self) -> &str {
        self.run_url
            .as_deref()
            .and_then(markdown::host_of)
            .unwrap_or("github.com")
    }

    pub fn status(&self) -> Option<&str> {
        self.agent.as_ref().map(|a| a.status.as_str())
    }

    /// Every output, always written (empty when unknown) so later steps can
    /// test them without checking for existence.
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        let s = |v: Option<&str>| v.unwrap_or_default().to_string();
        vec![
            ("outcome", self.outcome.as_str().to_string()),
            ("agent-id", s(self.agent_id())),
            ("agent-url", self.agent_url().unwrap_or_default()),
            ("status", s(self.status())),
            ("branch-name", s(self.branch())),
            ("pr-url", s(self.pr_url())),
            ("run-id", s(self.run_id.as_deref())),
            ("summary", s(self.summary.as_deref())),
            ("comment-url", s(self.comment_url.as_deref())),
            (
                "duration-seconds",
                self.duration
                    .map(|d| d.as_secs().to_string())
                    .unwrap_or_default(),
            ),
        ]
        .into_iter()
        .chain(match &self.usage {
            Some(u) => usage::outputs(u),
            None => usage::empty_outputs(),
        })
        .chain([
            (
                "artifacts",
                self.artifacts
                    .as_ref()
                    .map(|a| a.output.clone())
                    .unwrap_or_default(),
            ),
            (
                "changes",
                self.changes.map(|c| c.to_string()).unwrap_or_default(),
            ),
            ("reason", s(self.reason)),
        ])
        .collect()
    }
}

/// The one `::error::` line of a failed run: what happened and what to
/// change. The detail when there is one; otherwise, for an agent that ended
/// badly, its first summary line and its link (never the bare outcome word).
pub fn failure_line(redactor: &Redactor, report: &RunReport) -> String {
    if let Some(detail) = report.detail.as_deref().filter(|d| !d.trim().is_empty()) {
        return detail.to_string();
    }
    let Some(agent) = &report.agent else {
        return format!("The run ended `{}`.", report.outcome.as_str());
    };
    let (id, url) = (&agent.id, &agent.url);
    let first = report
        .summary
        .as_deref()
        .and_then(|s| s.lines().map(str::trim).find(|l| !l.is_empty()))
        .map(|l| cursor_api::one_line(redactor, l, 200));
    match (report.outcome, first) {
        (Outcome::Error, Some(line)) => format!(
            "The agent {id} ended with an error: {line} — see {url}; re-running the workflow launches a new agent."
        ),
        (Outcome::Error, None) => format!(
            "The agent {id} ended with an error and no summary; see {url} for what went wrong. Re-running the workflow launches a new agent."
        ),
        (Outcome::Expired, _) => format!(
            "The agent {id} expired before finishing ({url}); re-running the workflow launches a new one."
        ),
        (Outcome::Stopped, _) => {
            format!("The agent {id} was stopped before finishing: {url}")
        }
        (outcome, _) => format!(
            "The run ended `{}`; the agent is at {url}.",
            outcome.as_str()
        ),
    }
}

/// A job's changes, as the comment and the summary say them.
pub fn changes_text(changes: bool) -> &'static str {
    if changes {
        "pushed commits"
    } else {
        "no changes (nothing was pushed)"
    }
}

/// `1h 2m 3s` for humans.
pub fn human_duration(d: Duration) -> String {
    let t = d.as_secs();
    match (t / 3600, t % 3600 / 60, t % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// The step summary (Markdown).
/// `redactor`: the run's, for every cut of untrusted text.
pub fn step_summary(redactor: &Redactor, report: &RunReport) -> String {
    let mut md = format!("### {}\n\n| | |\n|---|---|\n", report.outcome.headline());
    md.push_str(&format!("| Outcome | `{}` |\n", report.outcome.as_str()));
    // API strings in table cells: `code_inline` and `text_inline` escape
    // `|`, so no value can add a cell.
    if let Some(id) = report.agent_id() {
        md.push_str(&format!(
            "| Agent | {} |\n",
            markdown::agent_link(
                redactor,
                &if cursor_api::is_valid_agent_id(id) {
                    id.to_string()
                } else {
                    markdown::text_inline(redactor, id)
                },
                &report.agent_url().unwrap_or_default()
            )
        ));
    }
    if let Some(status) = report.status() {
        md.push_str(&format!(
            "| Status | {} |\n",
            markdown::code_inline(redactor, status)
        ));
    }
    if let Some(pr) = report.pr_url() {
        md.push_str(&format!(
            "| Pull request | {} |\n",
            markdown::pr_link(redactor, pr, report.github_host())
        ));
    }
    if let Some(branch) = report.branch() {
        md.push_str(&format!(
            "| Branch | {} |\n",
            markdown::code_inline(redactor, branch)
        ));
    }
    if let Some(changes) = report.changes {
        md.push_str(&format!("| Changes | {} |\n", changes_text(changes)));
    }
    if let Some(d) = report.duration {
        md.push_str(&format!("| Duration | {} |\n", human_duration(d)));
    }
    if let Some(u) = &report.usage {
        // Our own text and numbers: no cell can be added.
        md.push_str(&format!("| Usage | {} |\n", usage::line(u)));
    }
    if let Some(detail) = &report.detail {
        md.push_str(&format!(
            "\n{}\n",
            markdown::sanitize_inline(redactor, detail)
        ));
    }
    if let Some(missing) = &report.missing {
        md.push_str(&format!(
            "\n{}\n",
            markdown::sanitize_inline(redactor, missing)
        ));
    }
    if let Some(timeline) = &report.timeline {
        md.push_str(&format!("\n{}", timeline.trim_end()));
        md.push('\n');
    }
    if let Some(a) = &report.artifacts {
        md.push_str(&format!("\n{}", a.markdown.trim_end()));
        md.push('\n');
    }
    if let Some(summary) = &report.summary {
        let (text, _) = markdown::sanitize_within(redactor, summary, 200_000);
        md.push_str(&format!("\n**Summary**\n\n{text}\n"));
    }
    md.push('\n');
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        use Outcome::*;
        for o in [Finished, Launched, FollowedUp, Skipped, DryRun] {
            assert_eq!(o.exit_code(OnTimeout::Fail), 0, "{o:?}");
        }
        for o in [Error, Expired, Stopped, Timeout, Cancelled] {
            assert_eq!(o.exit_code(OnTimeout::Fail), 1, "{o:?}");
        }
        assert_eq!(Timeout.exit_code(OnTimeout::Continue), 0);
        assert_eq!(Timeout.exit_code(OnTimeout::Stop), 1);
    }

    #[test]
    fn outputs_are_complete_and_ordered() {
        let names: Vec<&str> = RunReport::new(Outcome::Skipped)
            .outputs()
            .iter()
            .map(|(n, _)| *n)
            .collect();
        let spec: Vec<&str> = crate::inputs::OUTPUTS
            .iter()
            .map(|o| o.name)
            .filter(|n| !crate::inputs::spec::SWEEP_OUTPUTS.contains(n))
            .collect();
        assert_eq!(names, spec);
    }

    #[test]
    fn an_error_agent_is_told_by_its_first_summary_line_and_link() {
        let mut report = RunReport::new(Outcome::Error);
        report.agent = Some(AgentRun {
            status: Status::Error,
            ..AgentRun::new("bc-9", crate::agent::Tells::V0)
        });
        report.summary = Some("\n  Build failed: missing `libssl`\nmore detail".into());
        let line = failure_line(&Redactor::new(), &report);
        assert!(line.contains("Build failed: missing `libssl`"), "{line}");
        assert!(line.contains(&crate::agent::page_url("bc-9")), "{line}");
        assert!(!line.contains("more detail"), "{line}");
        report.summary = None;
        let line = failure_line(&Redactor::new(), &report);
        assert!(
            line.contains("no summary") && line.contains("bc-9"),
            "{line}"
        );
        report.detail = Some("Could not launch.".into());
        assert_eq!(failure_line(&Redactor::new(), &report), "Could not launch.");
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_secs(5)), "5s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2m 5s");
        assert_eq!(human_duration(Duration::from_secs(3725)), "1h 2m");
    }
}
