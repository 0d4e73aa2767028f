//! Agents, runs and artifacts as JSON, as of a moment.

use super::{SimAgent, SimRun, V1Sim};
use kit::clock::Moment;
use kit::rfc3339::iso8601_millis;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

impl V1Sim {
    pub(super) fn git(agent: &SimAgent, run: &SimRun, now: Moment) -> Value {
        let Some(repo) = &agent.repo else {
            return json!({"branches": []});
        };
        let repo_url = repo
            .split_once("://")
            .map_or(repo.as_str(), |(_, r)| r)
            .trim_end_matches('/');
        let mut b = json!({"repoUrl": repo_url, "branch": agent.branch});
        if agent.linked {
            // Per agent: the PR once one exists, on every run.
            if let Some(pr) = &agent.pr_url {
                b["prUrl"] = json!(pr);
            }
        } else if agent.auto_pr
            && now >= run.end
            && run.end_status == "FINISHED"
            && !run.scenario.no_changes
        {
            b["prUrl"] = json!(format!("https://{repo_url}/pull/1"));
        }
        json!({"branches": [b]})
    }

    pub(super) fn render_run(agent: &SimAgent, run: &SimRun, now: Moment) -> Value {
        let status = run.status(now);
        let created = iso8601_millis(run.created_wall);
        // updatedAt is frozen while RUNNING (it moves on transitions only).
        let updated = match status {
            "CREATING" => created.clone(),
            "RUNNING" => iso8601_millis(run.created_wall + run.scenario.creating),
            _ => iso8601_millis(run.created_wall + (run.end - run.created)),
        };
        let mut v = json!({"id": run.id, "agentId": agent.id, "status": status,
                           "createdAt": created, "updatedAt": updated});
        if now >= run.end {
            v["durationMs"] = json!((run.end - run.created).as_millis() as u64);
            if let Some(t) = &run.text
                && run.end_status != "CANCELLED"
            {
                v["result"] = json!(t);
            }
            v["git"] = Self::git(agent, run, now);
        } else if now >= run.created + run.scenario.creating
            || (agent.linked && agent.runs.first().is_some_and(|r| r.id != run.id))
        {
            // Linked, a later run shows the agent's branch (and PR) at once.
            v["git"] = Self::git(agent, run, now);
        }
        v
    }

    pub(super) fn agent_status(agent: &SimAgent, now: Moment) -> &'static str {
        if agent.archived {
            "ARCHIVED"
        } else if agent
            .runs
            .last()
            .is_some_and(|r| matches!(r.status(now), "CREATING" | "RUNNING"))
        {
            "ACTIVE"
        } else {
            "IDLE"
        }
    }

    pub(super) fn render_agent(agent: &SimAgent, now: Moment) -> Value {
        let mut v = json!({
            "id": agent.id, "name": agent.name, "status": Self::agent_status(agent, now),
            "env": {"type": "cloud"},
            "url": format!("https://cursor.com/agents/{}", agent.id),
            "createdAt": iso8601_millis(agent.created_wall),
            "updatedAt": iso8601_millis(agent.created_wall),
            "latestRunId": agent.runs.last().map(|r| r.id.clone()),
            "autoCreatePR": agent.auto_pr,
        });
        if let Some(r) = &agent.repo {
            v["repos"] = json!([{"url": r}]);
        }
        v
    }
    /// Uploaded as a run ends: listed from 2 s after the first run's end.
    pub(super) fn artifacts(agent: &SimAgent, now: Moment) -> Vec<Value> {
        match agent.runs.first() {
            Some(r) if now >= r.end + Duration::from_secs(2) && r.end_status == "FINISHED" => vec![
                json!({"path": "artifacts/summary.md", "sizeBytes": 2048, "updatedAt": iso8601_millis(SystemTime::now())}),
            ],
            _ => vec![],
        }
    }
}
