//! A v0 agent as the rest of the action sees it (see [`super::super::run`]):
//! v0 has no runs, no duration and no usage; its agent carries its own
//! status, summary, branch and pull request.

use super::super::run::{AgentRun, Status, Tells, page_url};
use cursor_api::{Agent, AgentStatus};

/// A v0 status in the action's terms.
pub fn status_of(status: &AgentStatus) -> Status {
    match status {
        AgentStatus::Creating => Status::Creating,
        AgentStatus::Running => Status::Running,
        AgentStatus::Finished => Status::Finished,
        AgentStatus::Error => Status::Error,
        AgentStatus::Expired => Status::Expired,
        AgentStatus::Stopped => Status::Stopped,
        AgentStatus::Cancelled => Status::Cancelled,
        AgentStatus::Unknown(s) => Status::Unknown(s.clone()),
    }
}

/// The agent as the flow sees it.
pub fn view(agent: Agent) -> AgentRun {
    let url = agent
        .target
        .url
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .unwrap_or_else(|| page_url(&agent.id));
    // v0 tells no duration: `AgentRun::new` leaves it `None`.
    AgentRun {
        status: status_of(&agent.status),
        url,
        summary: agent.summary,
        branch: agent.target.branch_name,
        pr_url: agent.target.pr_url,
        ..AgentRun::new(&agent.id, Tells::V0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_view_takes_the_agents_own_result_and_builds_a_missing_link() {
        let a: Agent = serde_json::from_value(json!({
            "id": "bc-1", "status": "FINISHED", "summary": "Done.",
            "target": {"url": "https://cursor.com/agents?id=bc-1", "branchName": "cursor/x",
                       "prUrl": "https://github.com/o/r/pull/7"}
        }))
        .unwrap();
        let v = view(a);
        assert_eq!(v.status, Status::Finished);
        assert_eq!(v.summary(), Some("Done."));
        assert_eq!(v.branch.as_deref(), Some("cursor/x"));
        assert_eq!(v.pr_url.as_deref(), Some("https://github.com/o/r/pull/7"));
        assert_eq!(v.url, "https://cursor.com/agents?id=bc-1");
        assert_eq!((v.duration, v.tells), (None, Tells::V0));
        let a: Agent = serde_json::from_value(json!({
            "id": "bc-2", "status": "QUEUED", "summary": "  ",
            "target": {"url": "javascript:alert(1)"}
        }))
        .unwrap();
        let v = view(a);
        assert_eq!(v.status, Status::Unknown("QUEUED".into()));
        assert_eq!(v.summary(), None);
        assert_eq!(v.url, page_url("bc-2"));
    }
}
