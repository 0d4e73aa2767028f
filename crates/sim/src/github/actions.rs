//! The GitHub simulator's workflow runs: jobs per run and attempt (listed
//! with `per_page`/`page` and `Link` headers, `filter=latest|all`, or per
//! attempt), check-run annotations, and job logs behind a redirect to a
//! loopback "storage" URL (`/_blobs/logs/{job}/{token}`) that expires after
//! a configurable span of the simulator's clock, as GitHub's do after a
//! minute. The storage answers an expired link (or the `expired` fault)
//! with Azure's 403 `AuthenticationFailed`, and refuses a request that
//! carries a token (a client must not send its GitHub token there).

use super::{message, page_params, paged};
use crate::faults::expired_link;
use crate::server::{Reply, Request};
use bytes::Bytes;
use kit::clock::Moment;
use kit::rfc3339::iso8601;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// How long a log link lasts by default (GitHub: "expires after 1 minute").
pub const LOG_LINK_TTL: Duration = Duration::from_secs(60);

/// A job to seed (`POST /_sim/actions/jobs` takes the same fields).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SimJob {
    pub name: String,
    /// `success`, `failure`, `timed_out`, `cancelled`, `skipped`; none
    /// while in progress.
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub steps: Vec<SimStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SimStep {
    pub name: String,
    pub conclusion: String,
}

impl SimJob {
    /// A job whose steps have these names and conclusions; its conclusion
    /// is the first that is not `success`/`skipped` (else `success`).
    pub fn new(name: &str, steps: &[(&str, &str)]) -> Self {
        let conclusion = steps
            .iter()
            .map(|(_, c)| *c)
            .find(|c| !matches!(*c, "success" | "skipped"))
            .unwrap_or("success");
        Self {
            name: name.into(),
            conclusion: Some(conclusion.into()),
            steps: steps
                .iter()
                .map(|(n, c)| SimStep {
                    name: (*n).into(),
                    conclusion: (*c).into(),
                })
                .collect(),
        }
    }
}

/// A check-run annotation to seed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SimAnnotation {
    pub path: String,
    #[serde(default)]
    pub line: u64,
    /// `notice`, `warning` or `failure`.
    pub level: String,
    pub message: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub raw_details: Option<String>,
}

#[derive(Debug, Clone)]
struct StoredJob {
    id: u64,
    repo: String,
    run_id: u64,
    attempt: u32,
    job: SimJob,
    started: SystemTime,
}

#[derive(Debug)]
pub(super) struct ActionsState {
    jobs: Vec<StoredJob>,
    logs: HashMap<u64, Bytes>,
    annotations: HashMap<u64, Vec<SimAnnotation>>,
    /// Link token → (job, expiry).
    links: HashMap<String, (u64, Moment)>,
    issued: u64,
    next_job: u64,
    pub(super) ttl: Duration,
}

impl Default for ActionsState {
    fn default() -> Self {
        Self {
            jobs: Vec::new(),
            logs: HashMap::new(),
            annotations: HashMap::new(),
            links: HashMap::new(),
            issued: 0,
            next_job: 30_000_000_000,
            ttl: LOG_LINK_TTL,
        }
    }
}

impl ActionsState {
    pub(super) fn add_job(&mut self, repo: &str, run_id: u64, attempt: u32, job: SimJob) -> u64 {
        self.next_job += 1;
        let id = self.next_job;
        self.jobs.push(StoredJob {
            id,
            repo: repo.into(),
            run_id,
            attempt: attempt.max(1),
            job,
            started: SystemTime::now(),
        });
        id
    }

    pub(super) fn set_log(&mut self, job_id: u64, log: Bytes) {
        self.logs.insert(job_id, log);
    }

    pub(super) fn add_annotation(&mut self, job_id: u64, a: SimAnnotation) {
        self.annotations.entry(job_id).or_default().push(a);
    }

    /// `POST /_sim/actions/jobs`: `{repo, run_id, attempt?, name,
    /// conclusion?, steps?, log?, annotations?}` → `{id}`.
    pub(super) fn seed(&mut self, body: &Value) -> Reply {
        let repo = body["repo"].as_str().map(String::from);
        let run_id = body["run_id"].as_u64();
        let job = serde_json::from_value::<SimJob>(body.clone());
        let (Some(repo), Some(run_id), Ok(job)) = (repo, run_id, job) else {
            return Reply::json(
                400,
                &json!({"error": "expected {\"repo\", \"run_id\", \"attempt\"?, \"name\", \"conclusion\"?, \"steps\"?: [{\"name\", \"conclusion\"}], \"log\"?, \"annotations\"?: [{\"path\", \"line\"?, \"level\", \"message\", \"title\"?, \"raw_details\"?}]}"}),
            );
        };
        let attempt = body["attempt"]
            .as_u64()
            .unwrap_or(1)
            .min(u64::from(u32::MAX)) as u32;
        let id = self.add_job(&repo, run_id, attempt, job);
        if let Some(log) = body["log"].as_str() {
            self.set_log(id, Bytes::from(log.to_string()));
        }
        if let Ok(annotations) =
            serde_json::from_value::<Vec<SimAnnotation>>(body["annotations"].clone())
        {
            for a in annotations {
                self.add_annotation(id, a);
            }
        }
        Reply::json(200, &json!({"id": id}))
    }

    fn job_json(&self, j: &StoredJob, api: &str, server: &str) -> Value {
        let repo = &j.repo;
        let done = j.job.conclusion.is_some();
        let steps: Vec<Value> = j
            .job
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                json!({"name": s.name, "status": "completed", "conclusion": s.conclusion,
                       "number": i + 1, "started_at": iso8601(j.started), "completed_at": iso8601(j.started)})
            })
            .collect();
        json!({
            "id": j.id, "run_id": j.run_id, "workflow_name": "CI", "head_branch": "main",
            "run_url": format!("{api}/repos/{repo}/actions/runs/{}", j.run_id),
            "run_attempt": j.attempt, "node_id": format!("CR_kwDOSim{}", j.id),
            "head_sha": "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed",
            "url": format!("{api}/repos/{repo}/actions/jobs/{}", j.id),
            "html_url": format!("{server}/{repo}/actions/runs/{}/job/{}", j.run_id, j.id),
            "status": if done { "completed" } else { "in_progress" },
            "conclusion": j.job.conclusion,
            "created_at": iso8601(j.started), "started_at": iso8601(j.started),
            "completed_at": done.then(|| iso8601(j.started)),
            "name": j.job.name, "steps": steps,
            "check_run_url": format!("{api}/repos/{repo}/check-runs/{}", j.id),
            "labels": ["ubuntu-latest"], "runner_id": 1, "runner_name": "GitHub Actions 1",
            "runner_group_id": 2, "runner_group_name": "GitHub Actions"
        })
    }

    /// The REST routes for runs, jobs, annotations and logs; `None`: not one.
    pub(super) fn route(
        &mut self,
        now: Moment,
        request: &Request,
        segments: &[&str],
        api: &str,
        server: &str,
        path: &str,
    ) -> Option<Reply> {
        const JOBS_DOCS: &str = "/actions/workflow-jobs#list-jobs-for-a-workflow-run";
        if request.method != "GET" {
            return None;
        }
        let same =
            |j: &&StoredJob, o: &str, r: &str| j.repo.eq_ignore_ascii_case(&format!("{o}/{r}"));
        let listed: Vec<&StoredJob> = match segments {
            ["repos", o, r, "actions", "runs", run, "jobs"] => {
                let Ok(run) = run.parse::<u64>() else {
                    return Some(message(404, "Not Found", JOBS_DOCS));
                };
                let of_run: Vec<&StoredJob> = self
                    .jobs
                    .iter()
                    .filter(|j| same(j, o, r) && j.run_id == run)
                    .collect();
                let latest = of_run.iter().map(|j| j.attempt).max().unwrap_or(0);
                match request.query("filter").unwrap_or("latest") {
                    "all" => of_run,
                    "latest" => of_run.into_iter().filter(|j| j.attempt == latest).collect(),
                    _ => return Some(message(422, "Validation Failed", JOBS_DOCS)),
                }
            }
            ["repos", o, r, "actions", "runs", run, "attempts", n, "jobs"] => {
                let (Ok(run), Ok(n)) = (run.parse::<u64>(), n.parse::<u32>()) else {
                    return Some(message(404, "Not Found", JOBS_DOCS));
                };
                self.jobs
                    .iter()
                    .filter(|j| same(j, o, r) && j.run_id == run && j.attempt == n)
                    .collect()
            }
            ["repos", o, r, "check-runs", id, "annotations"] => {
                let job = id
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| self.jobs.iter().find(|j| j.id == id && same(j, o, r)));
                let Some(job) = job else {
                    return Some(message(
                        404,
                        "Not Found",
                        "/checks/runs#list-check-run-annotations",
                    ));
                };
                let items: Vec<Value> = self
                    .annotations
                    .get(&job.id)
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        json!({"path": a.path, "blob_href": format!("{server}/{}/blob/main/{}", job.repo, a.path),
                               "start_line": a.line, "end_line": a.line, "start_column": null, "end_column": null,
                               "annotation_level": a.level, "title": a.title, "message": a.message, "raw_details": a.raw_details})
                    })
                    .collect();
                let (per_page, page) = page_params(request);
                let page_items: Vec<Value> = items
                    .into_iter()
                    .skip((page - 1) * per_page)
                    .take(per_page)
                    .collect();
                return Some(Reply::json(200, &json!(page_items)));
            }
            ["repos", o, r, "actions", "jobs", id, "logs"] => {
                let job = id
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| self.jobs.iter().find(|j| j.id == id && same(j, o, r)));
                let Some(job) =
                    job.filter(|j| j.job.conclusion.is_some() && self.logs.contains_key(&j.id))
                else {
                    return Some(message(
                        404,
                        "Not Found",
                        "/actions/workflow-jobs#download-job-logs-for-a-workflow-run",
                    ));
                };
                let job_id = job.id;
                self.issued += 1;
                let token = format!("sv{:08x}{:08x}", self.issued, job_id % 0xffff_ffff);
                self.links.insert(token.clone(), (job_id, now + self.ttl));
                let origin = api.strip_suffix("/api/v3").unwrap_or(api);
                let location = format!("{origin}/_blobs/logs/{job_id}/{token}?sig=sim");
                return Some(Reply::raw(302, "text/plain", "").with_header("location", &location));
            }
            _ => return None,
        };
        if listed.is_empty() {
            return Some(message(404, "Not Found", JOBS_DOCS));
        }
        let (per_page, page) = page_params(request);
        let pages = listed.len().div_ceil(per_page).max(1);
        let items: Vec<Value> = listed
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|j| self.job_json(j, api, server))
            .collect();
        let others: Vec<String> = request
            .query
            .iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let link_to = |p: usize| {
            let mut q = others.clone();
            q.push(format!("per_page={per_page}"));
            q.push(format!("page={p}"));
            format!("<{api}{path}?{}>", q.join("&"))
        };
        Some(paged(
            Reply::json(200, &json!({"total_count": listed.len(), "jobs": items})),
            page,
            pages,
            link_to,
        ))
    }

    /// `GET /_blobs/logs/{job}/{token}`: the storage behind a log link.
    pub(super) fn blob(&self, now: Moment, request: &Request) -> Reply {
        if request.header("authorization").is_some() {
            return Reply::raw(
                400,
                "application/xml",
                "<Error><Code>InvalidAuthenticationInfo</Code><Message>The storage does not take a GitHub token.</Message></Error>",
            );
        }
        let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
        let ["_blobs", "logs", job, token] = segments.as_slice() else {
            return Reply::raw(
                404,
                "application/xml",
                "<Error><Code>BlobNotFound</Code></Error>",
            );
        };
        match self.links.get(*token) {
            Some((id, expiry)) if job.parse::<u64>().ok() == Some(*id) => {
                if now > *expiry {
                    return expired_link();
                }
                let log = self.logs.get(id).cloned().unwrap_or_default();
                Reply::raw(200, "text/plain; charset=utf-8", log)
            }
            _ => expired_link(),
        }
    }
}
