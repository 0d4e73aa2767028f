//! A v1 agent and run as the rest of the action sees them (see
//! [`super::super::run`]): the run's status and result (summary, and branch
//! and pull request from `git.branches`), its duration once it ended.

use super::super::run::{AgentRun, Status, Tells, page_url};
use cursor_api::v1::{Run, RunStatus};
use std::time::Duration;

/// A run's status in the action's terms.
pub fn status_of(run: &RunStatus) -> Status {
    match run {
        RunStatus::Creating => Status::Creating,
        RunStatus::Running => Status::Running,
        RunStatus::Finished => Status::Finished,
        RunStatus::Error => Status::Error,
        RunStatus::Cancelled => Status::Cancelled,
        RunStatus::Expired => Status::Expired,
        RunStatus::Unknown(s) => Status::Unknown(s.clone()),
    }
}

/// The agent as the flow sees it: its id and link, with `run`'s status and
/// result; `text`: what the stream said, which wins over the run's result.
pub fn view(agent: &str, url: Option<&str>, run: Option<&Run>, text: Option<&str>) -> AgentRun {
    let branch = run.and_then(|r| r.git.as_ref()).and_then(|g| {
        g.branches
            .iter()
            .find(|b| b.branch.is_some() || b.pr_url.is_some())
    });
    AgentRun {
        url: url
            .filter(|u| u.starts_with("https://"))
            .map(String::from)
            .unwrap_or_else(|| page_url(agent)),
        status: run
            .map(|r| status_of(&r.status))
            .unwrap_or(Status::Creating),
        summary: text
            .map(String::from)
            .or_else(|| run.and_then(|r| r.result.clone())),
        branch: branch.and_then(|b| b.branch.clone()),
        pr_url: branch.and_then(|b| b.pr_url.clone()),
        // `durationMs`: terminal runs only (spec §8.4).
        duration: run
            .filter(|r| r.status.is_terminal())
            .and_then(|r| r.duration_ms)
            .map(Duration::from_millis),
        ..AgentRun::new(agent, Tells::V1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str) -> Run {
        serde_json::from_str(json).unwrap()
    }
    #[test]
    fn the_view_takes_the_result_and_the_branch_with_a_pull_request() {
        let r = run(
            r#"{"id":"run-1","agentId":"bc-1","status":"FINISHED","result":"Done.","durationMs":61000,
                "git":{"branches":[{"repoUrl":"github.com/o/r"},
                                   {"repoUrl":"github.com/o/r","branch":"cursor/x","prUrl":"https://github.com/o/r/pull/7"}]}}"#,
        );
        let a = view(
            "bc-1",
            Some("https://cursor.com/agents/bc-1"),
            Some(&r),
            None,
        );
        assert_eq!(a.status, Status::Finished);
        assert_eq!(a.summary(), Some("Done."));
        assert_eq!(a.branch.as_deref(), Some("cursor/x"));
        assert_eq!(a.pr_url.as_deref(), Some("https://github.com/o/r/pull/7"));
        assert_eq!(a.url, "https://cursor.com/agents/bc-1");
        assert_eq!(a.duration, Some(Duration::from_secs(61)));
        assert_eq!(a.tells, Tells::V1);
        // Streamed text wins over a run read without a result; a URL that is
        // not https falls back to Cursor's page for the id; a run not ended
        // has no duration yet.
        let r = run(r#"{"id":"run-1","agentId":"bc-1","status":"CANCELLED"}"#);
        let a = view(
            "bc-1",
            Some("javascript:alert(1)"),
            Some(&r),
            Some("partial"),
        );
        assert_eq!(a.status, Status::Cancelled);
        assert_eq!(a.summary(), Some("partial"));
        assert_eq!(a.url, page_url("bc-1"));
        assert_eq!(a.branch, None);
        let r = run(r#"{"id":"run-1","agentId":"bc-1","status":"RUNNING","durationMs":5}"#);
        assert_eq!(view("bc-1", None, Some(&r), None).duration, None);
        // Unknown statuses are kept.
        let r = run(r#"{"id":"run-1","agentId":"bc-1","status":"QUEUED"}"#);
        assert_eq!(
            view("bc-1", None, Some(&r), None).status,
            Status::Unknown("QUEUED".into())
        );
    }
}
