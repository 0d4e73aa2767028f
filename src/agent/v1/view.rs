//! A v1 agent and run as the flow sees them: status and result.

use cursor_api::v1::{Run, RunStatus};
use cursor_api::{Agent, AgentSource, AgentStatus, AgentTarget, agent_url};
use std::time::Duration;

/// A run's status in the terms the report uses.
pub fn status_of(run: &RunStatus) -> AgentStatus {
    AgentStatus::parse(run.as_str())
}

/// The agent as the flow sees it: its id and link, with `run`'s status and
/// result (summary, and branch and pull request from `git.branches`).
pub fn view(agent: &str, url: Option<&str>, run: Option<&Run>, text: Option<&str>) -> Agent {
    let branch = run.and_then(|r| r.git.as_ref()).and_then(|g| {
        g.branches
            .iter()
            .find(|b| b.branch.is_some() || b.pr_url.is_some())
    });
    Agent {
        id: agent.to_string(),
        name: None,
        status: run
            .map(|r| status_of(&r.status))
            .unwrap_or(AgentStatus::Creating),
        source: AgentSource::default(),
        target: AgentTarget {
            branch_name: branch.and_then(|b| b.branch.clone()),
            url: Some(
                url.filter(|u| u.starts_with("https://"))
                    .map(String::from)
                    .unwrap_or_else(|| agent_url(agent)),
            ),
            pr_url: branch.and_then(|b| b.pr_url.clone()),
            ..AgentTarget::default()
        },
        summary: text
            .map(String::from)
            .or_else(|| run.and_then(|r| r.result.clone())),
        created_at: None,
        // `durationMs`: terminal runs only (spec §8.4).
        duration: run
            .filter(|r| r.status.is_terminal())
            .and_then(|r| r.duration_ms)
            .map(Duration::from_millis),
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
            r#"{"id":"run-1","agentId":"bc-1","status":"FINISHED","result":"Done.",
                "git":{"branches":[{"repoUrl":"github.com/o/r"},
                                   {"repoUrl":"github.com/o/r","branch":"cursor/x","prUrl":"https://github.com/o/r/pull/7"}]}}"#,
        );
        let a = view(
            "bc-1",
            Some("https://cursor.com/agents/bc-1"),
            Some(&r),
            None,
        );
        assert_eq!(a.status, AgentStatus::Finished);
        assert_eq!(a.summary(), Some("Done."));
        assert_eq!(a.target.branch_name.as_deref(), Some("cursor/x"));
        assert_eq!(
            a.target.pr_url.as_deref(),
            Some("https://github.com/o/r/pull/7")
        );
        assert_eq!(a.url(), "https://cursor.com/agents/bc-1");
        // Streamed text wins over a run read without a result; a URL that is
        // not https falls back to Cursor's page for the id.
        let r = run(r#"{"id":"run-1","agentId":"bc-1","status":"CANCELLED"}"#);
        let a = view(
            "bc-1",
            Some("javascript:alert(1)"),
            Some(&r),
            Some("partial"),
        );
        assert_eq!(a.status, AgentStatus::Cancelled);
        assert_eq!(a.summary(), Some("partial"));
        assert_eq!(a.url(), agent_url("bc-1"));
        assert_eq!(a.target.branch_name, None);
        // Unknown statuses are kept.
        let r = run(r#"{"id":"run-1","agentId":"bc-1","status":"QUEUED"}"#);
        assert_eq!(
            view("bc-1", None, Some(&r), None).status,
            AgentStatus::Unknown("QUEUED".into())
        );
    }
}
