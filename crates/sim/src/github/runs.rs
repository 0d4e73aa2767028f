//! The GitHub simulator's workflow runs themselves (their jobs, annotations
//! and logs are `github_actions.rs`'s): a run read by id
//! (`GET /repos/{o}/{r}/actions/runs/{id}`) and runs listed newest first
//! (`GET /repos/{o}/{r}/actions/runs`, filtered by `head_sha`, `status`,
//! `event`; one page of `per_page`), as fix-CI reads them.

use super::{GhUser, message, page_params};
use crate::server::{Reply, Request};
use kit::rfc3339::iso8601;
use serde_json::{Value, json};
use std::time::SystemTime;

/// A workflow run to seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRun {
    /// `owner/repo` the run belongs to.
    pub repo: String,
    /// The workflow's name (`CI`) and file.
    pub name: String,
    pub path: String,
    pub head_sha: String,
    pub head_branch: String,
    /// `owner/repo` the head commit is in (a fork's, for a fork PR).
    pub head_repo: String,
    /// `pull_request`, `push`, …
    pub event: String,
    /// `success`, `failure`, `timed_out`, …; none while in progress.
    pub conclusion: Option<String>,
    pub run_attempt: u32,
    pub actor: GhUser,
}

#[derive(Debug, Clone)]
struct StoredRun {
    id: u64,
    run: SimRun,
    created: SystemTime,
}

#[derive(Debug)]
pub(super) struct RunsState {
    runs: Vec<StoredRun>,
    next_id: u64,
}

impl Default for RunsState {
    fn default() -> Self {
        Self {
            runs: Vec::new(),
            next_id: 7_000_000_000,
        }
    }
}

impl RunsState {
    pub(super) fn add(&mut self, run: SimRun) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.runs.push(StoredRun {
            id,
            run,
            created: SystemTime::now(),
        });
        id
    }

    pub(super) fn set_conclusion(&mut self, id: u64, conclusion: Option<&str>) -> bool {
        match self.runs.iter_mut().find(|r| r.id == id) {
            Some(r) => {
                r.run.conclusion = conclusion.map(String::from);
                true
            }
            None => false,
        }
    }

    fn json(r: &StoredRun, api: &str, server: &str) -> Value {
        let (id, run) = (r.id, &r.run);
        let repo = &run.repo;
        let done = run.conclusion.is_some();
        json!({
            "id": id, "name": run.name, "path": run.path, "node_id": format!("WFR_kwLOSim{id}"),
            "head_branch": run.head_branch, "head_sha": run.head_sha, "display_title": run.name,
            "run_number": id % 10_000, "run_attempt": run.run_attempt, "event": run.event,
            "status": if done { "completed" } else { "in_progress" }, "conclusion": run.conclusion,
            "workflow_id": 161_335, "check_suite_id": id + 1,
            "url": format!("{api}/repos/{repo}/actions/runs/{id}"),
            "html_url": format!("{server}/{repo}/actions/runs/{id}"),
            "jobs_url": format!("{api}/repos/{repo}/actions/runs/{id}/jobs"),
            "logs_url": format!("{api}/repos/{repo}/actions/runs/{id}/logs"),
            "pull_requests": [],
            "created_at": iso8601(r.created), "updated_at": iso8601(r.created),
            "run_started_at": iso8601(r.created),
            "actor": run.actor.to_json(api), "triggering_actor": run.actor.to_json(api),
            "head_repository": {"full_name": run.head_repo},
            "repository": {"full_name": repo}
        })
    }

    /// The REST routes for runs; `None`: not one of them.
    pub(super) fn route(
        &self,
        request: &Request,
        segments: &[&str],
        api: &str,
        server: &str,
    ) -> Option<Reply> {
        const RUN_DOCS: &str = "/actions/workflow-runs#get-a-workflow-run";
        if request.method != "GET" {
            return None;
        }
        let same =
            |r: &&StoredRun, o: &str, n: &str| r.run.repo.eq_ignore_ascii_case(&format!("{o}/{n}"));
        match segments {
            ["repos", o, n, "actions", "runs", id] => {
                let run = id
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| self.runs.iter().find(|r| r.id == id && same(r, o, n)));
                Some(match run {
                    Some(r) => Reply::json(200, &Self::json(r, api, server)),
                    None => message(404, "Not Found", RUN_DOCS),
                })
            }
            ["repos", o, n, "actions", "runs"] => {
                let wants = |key: &str, value: Option<&str>| {
                    request.query(key).is_none_or(|q| value == Some(q))
                };
                let mut listed: Vec<&StoredRun> = self
                    .runs
                    .iter()
                    .filter(|r| same(r, o, n))
                    .filter(|r| wants("head_sha", Some(&r.run.head_sha)))
                    .filter(|r| wants("event", Some(&r.run.event)))
                    .filter(|r| {
                        let status = if r.run.conclusion.is_some() {
                            "completed"
                        } else {
                            "in_progress"
                        };
                        request
                            .query("status")
                            .is_none_or(|q| q == status || Some(q) == r.run.conclusion.as_deref())
                    })
                    .collect();
                listed.sort_by_key(|r| std::cmp::Reverse(r.id));
                let (per_page, page) = page_params(request);
                let items: Vec<Value> = listed
                    .iter()
                    .skip((page - 1) * per_page)
                    .take(per_page)
                    .map(|r| Self::json(r, api, server))
                    .collect();
                Some(Reply::json(
                    200,
                    &json!({"total_count": listed.len(), "workflow_runs": items}),
                ))
            }
            _ => None,
        }
    }
}
