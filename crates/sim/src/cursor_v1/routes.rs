//! The `/v1/…` routes: create, read, follow-up, cancel, archive, artifacts.

use super::validate::{
    CREATE_KEYS, MODELS, check_model, check_prompt, error, is_uuid_agent_id, unknown_keys,
    validation,
};
use super::{SimAgent, SimRun, TimedEvent, V1Sim, V1State};
use crate::host::{pull_number_of, repo_of};
use crate::server::{Reply, Request};
use kit::clock::Moment;
use kit::rfc3339::iso8601_millis;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

impl V1Sim {
    /// Serves `/v1/…` (`rest` is the path after `v1`), for the key `key`.
    pub fn route(&self, method: &str, rest: &[&str], request: &Request, key: &str) -> Reply {
        let now = self.clock.now();
        let mut state = self.state.lock().unwrap();
        Self::settle_locked(&mut state, now);
        match (method, rest) {
            ("GET", ["me"]) => Reply::json(
                200,
                &json!({"apiKeyName": "simulator", "createdAt": "2025-10-31T22:07:32.029Z", "userId": "user_sim", "userEmail": "developer@example.com"}),
            ),
            ("GET", ["models"]) => Reply::json(
                200,
                &json!({"items": MODELS.iter().map(|m| json!({"id": m, "displayName": m})).collect::<Vec<_>>()}),
            ),
            ("GET", ["agents"]) => {
                if let Some((k, _)) = request.query.iter().find(|(k, _)| {
                    !["limit", "cursor", "prUrl", "includeArchived"].contains(&k.as_str())
                }) {
                    return validation(&format!("Unrecognized key(s) in object: '{k}'"));
                }
                let limit = match request.query("limit") {
                    None => 20,
                    Some(l) => match l.parse::<usize>() {
                        Ok(n) if (1..=100).contains(&n) => n,
                        _ => {
                            return validation("limit: Number must be an integer from 1 to 100");
                        }
                    },
                };
                let archived = request.query("includeArchived") != Some("false");
                let pr = request.query("prUrl");
                let visible: Vec<&SimAgent> = state
                    .agents
                    .iter()
                    .rev()
                    .filter(|a| a.key == key)
                    .filter(|a| archived || !a.archived)
                    .filter(|a| pr.is_none_or(|p| a.pr_url.as_deref() == Some(p)))
                    .collect();
                let start = match request.query("cursor") {
                    None => 0,
                    Some(c) => match visible.iter().position(|a| a.id == c) {
                        Some(i) => i,
                        None => return validation("cursor: Invalid cursor"),
                    },
                };
                let items: Vec<Value> = visible
                    .iter()
                    .skip(start)
                    .take(limit)
                    .map(|a| Self::render_agent(a, now))
                    .collect();
                let mut body = json!({"items": items});
                if let Some(next) = visible.get(start + limit) {
                    body["nextCursor"] = json!(next.id);
                }
                Reply::json(200, &body)
            }
            ("POST", ["agents"]) => self.create(&mut state, request, key, now),
            (_, ["agents", id, tail @ ..]) => {
                let Some(index) = state
                    .agents
                    .iter()
                    .position(|a| a.id == *id && a.key == key)
                else {
                    return error(404, "agent_not_found", "Agent not found");
                };
                self.agent_route(&mut state, index, method, tail, request, now)
            }
            _ => error(404, "not_found", "Not found"),
        }
    }

    pub(super) fn create(
        &self,
        state: &mut V1State,
        request: &Request,
        key: &str,
        now: Moment,
    ) -> Reply {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return error(400, "missing_body", "Request body must be JSON");
        };
        if !body.is_object() {
            return error(400, "missing_body", "Request body must be an object");
        }
        if let Some(r) = unknown_keys(&body, CREATE_KEYS)
            .or_else(|| check_prompt(&body["prompt"]))
            .or_else(|| check_model(&body["model"]))
        {
            return r;
        }
        match body.get("name") {
            None | Some(Value::Null) => {}
            Some(Value::String(n)) if n.chars().count() <= 100 => {}
            Some(Value::String(_)) => {
                return validation("name: String must contain at most 100 character(s)");
            }
            Some(_) => return validation("name: Expected string"),
        }
        if let Some(m) = body.get("mode")
            && !matches!(m.as_str(), Some("agent" | "plan"))
        {
            return validation("mode: Invalid enum value. Expected 'agent' | 'plan'");
        }
        let repos = body["repos"].as_array().cloned().unwrap_or_default();
        if repos.len() > 20 {
            return validation("repos: Array must contain at most 20 element(s)");
        }
        for r in &repos {
            if let Some(e) = unknown_keys(r, &["url", "startingRef", "prUrl"]) {
                return e;
            }
            if r["url"].as_str().is_none_or(|u| u.is_empty()) {
                return validation("repos[0].url: Required");
            }
        }
        let id = match body.get("agentId") {
            None => format!("bc-{}", Self::uuid(state)),
            Some(Value::String(id)) if is_uuid_agent_id(id) => {
                if state.agents.iter().any(|a| a.id == *id) {
                    return error(
                        409,
                        "agent_id_conflict",
                        "An agent with this agentId already exists",
                    );
                }
                id.clone()
            }
            Some(_) => return validation("agentId: must be bc-<uuid>"),
        };
        let prompt = body["prompt"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let run = self.new_run(state, &prompt, 0);
        let slug: String = prompt
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(4)
            .map(|w| w.to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join("-");
        let rng = state.rng.get_or_insert_with(fastrand::Rng::new);
        let mut branch = format!(
            "cursor/{}-{:04x}",
            if slug.is_empty() { "task" } else { &slug },
            rng.u16(..)
        );
        let first = repos.first();
        let repo_url = first.and_then(|r| r["url"].as_str()).map(String::from);
        let starting_ref = first
            .and_then(|r| r["startingRef"].as_str())
            .map(String::from);
        let given_pr = first.and_then(|r| r["prUrl"].as_str()).map(String::from);
        let host = state.host.clone();
        let host_repo = repo_url.as_deref().and_then(repo_of);
        let mut pr_url = None;
        if let (Some(h), Some(repo), true) = (
            &host,
            &host_repo,
            body["workOnCurrentBranch"].as_bool() == Some(true),
        ) {
            // Linked: work on the PR's head (or `startingRef`) itself.
            let head = given_pr
                .as_deref()
                .and_then(pull_number_of)
                .and_then(|n| h.pull_head(repo, n));
            if let Some(head) = head {
                branch = head;
                pr_url = given_pr.clone();
            } else if let Some(r) = &starting_ref {
                branch = r.clone();
            }
        }
        let agent = SimAgent {
            id,
            key: key.to_string(),
            name: body["name"]
                .as_str()
                .map_or_else(|| prompt.chars().take(60).collect(), String::from),
            repo: repos
                .first()
                .and_then(|r| r["url"].as_str())
                .map(String::from),
            branch,
            auto_pr: body["autoCreatePR"].as_bool().unwrap_or(false),
            archived: false,
            created_wall: SystemTime::now(),
            runs: vec![run],
            linked: host.is_some(),
            host_repo,
            base: starting_ref.unwrap_or_else(|| "main".into()),
            pr_url,
        };
        let reply = json!({"agent": Self::render_agent(&agent, now), "run": Self::render_run(&agent, &agent.runs[0], now)});
        state.agents.push(agent);
        Reply::json(201, &reply)
    }

    pub(super) fn agent_route(
        &self,
        state: &mut V1State,
        index: usize,
        method: &str,
        tail: &[&str],
        request: &Request,
        now: Moment,
    ) -> Reply {
        match (method, tail) {
            ("GET", []) => Reply::json(200, &Self::render_agent(&state.agents[index], now)),
            ("POST", ["archive"]) => {
                state.agents[index].archived = true;
                Reply::json(200, &json!({"id": state.agents[index].id}))
            }
            ("POST", ["unarchive"]) => {
                state.agents[index].archived = false;
                Reply::json(200, &json!({"id": state.agents[index].id}))
            }
            ("POST", ["runs"]) => {
                let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
                    return error(400, "missing_body", "Request body must be JSON");
                };
                if let Some(r) = unknown_keys(&body, &["prompt", "model"])
                    .or_else(|| check_prompt(&body["prompt"]))
                    .or_else(|| check_model(&body["model"]))
                {
                    return r;
                }
                let agent = &state.agents[index];
                if agent.archived {
                    return error(409, "agent_archived", "Agent is archived");
                }
                if agent
                    .runs
                    .last()
                    .is_some_and(|r| matches!(r.status(now), "CREATING" | "RUNNING"))
                {
                    return error(409, "agent_busy", "Agent already has an active run");
                }
                let step = 13 * agent.runs.len() as u64;
                let prompt = body["prompt"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let run = self.new_run(state, &prompt, step);
                let agent = &mut state.agents[index];
                agent.runs.push(run);
                let rendered = Self::render_run(agent, agent.runs.last().unwrap(), now);
                Reply::json(201, &json!({"run": rendered}))
            }
            ("GET", ["runs"]) => {
                let agent = &state.agents[index];
                let items: Vec<Value> = agent
                    .runs
                    .iter()
                    .rev()
                    .map(|r| Self::render_run(agent, r, now))
                    .collect();
                Reply::json(200, &json!({"items": items}))
            }
            (_, ["runs", run_id, run_tail @ ..]) => {
                let Some(r) = state.agents[index]
                    .runs
                    .iter()
                    .position(|r| r.id == *run_id)
                else {
                    return error(404, "run_not_found", "Run not found");
                };
                match (method, run_tail) {
                    ("GET", []) => {
                        let limit = state.run_reads_per_minute;
                        let key = state.agents[index].key.clone();
                        let reads = state.run_reads.entry(key).or_default();
                        reads.retain(|t| now.saturating_since(*t) < Duration::from_secs(60));
                        if limit > 0 && reads.len() >= limit {
                            let wait = Duration::from_secs(60)
                                .saturating_sub(now.saturating_since(reads[0]));
                            return error(
                                429,
                                "rate_limit_exceeded",
                                "Rate limit exceeded. Please try again later.",
                            )
                            .with_header("retry-after", &wait.as_secs().max(1).to_string());
                        }
                        reads.push(now);
                        let agent = &state.agents[index];
                        Reply::json(200, &Self::render_run(agent, &agent.runs[r], now))
                    }
                    ("POST", ["cancel"]) => self.cancel(state, index, r, now),
                    ("GET", ["stream"]) => self.stream(state, index, r, request, now),
                    _ => error(404, "not_found", "Not found"),
                }
            }
            ("GET", ["usage"]) => {
                let agent = &state.agents[index];
                let runs: Vec<&SimRun> = match request.query("runId") {
                    Some(id) => match agent.runs.iter().find(|r| r.id == id) {
                        Some(r) => vec![r],
                        None => return error(404, "run_not_found", "Run not found"),
                    },
                    None => agent.runs.iter().collect(),
                };
                let mut total = 0u64;
                let mut cost_total: Option<f64> = Some(0.0);
                let items: Vec<Value> = runs.iter().map(|r| {
                    let tokens = if now >= r.end { 1000 + 10 * r.prompt.len() as u64 } else { 0 };
                    total += tokens;
                    let mut v = json!({"id": r.id, "usage": {"inputTokens": tokens * 3 / 4, "outputTokens": tokens / 4, "cacheWriteTokens": 0, "cacheReadTokens": 0, "totalTokens": tokens}});
                    if now >= r.end + r.scenario.cost_lag {
                        let cents = tokens as f64 / 1000.0 * 0.62;
                        v["cost"] = json!({"rawCostCents": cents, "chargedCents": cents});
                        cost_total = cost_total.map(|c| c + cents);
                    } else {
                        cost_total = None;
                    }
                    v
                }).collect();
                let mut v = json!({"totalUsage": {"inputTokens": total * 3 / 4, "outputTokens": total / 4, "cacheWriteTokens": 0, "cacheReadTokens": 0, "totalTokens": total}, "runs": items});
                if let Some(c) = cost_total {
                    v["cost"] = json!({"rawCostCents": c, "chargedCents": c});
                }
                Reply::json(200, &v)
            }
            ("GET", ["artifacts"]) => Reply::json(
                200,
                &json!({"items": Self::artifacts(&state.agents[index], now)}),
            ),
            ("GET", ["artifacts", "download"]) => {
                let Some(path) = request.query("path") else {
                    return validation("path: Required");
                };
                if path.starts_with('/') {
                    return validation("path must be relative (artifacts/…)");
                }
                if !Self::artifacts(&state.agents[index], now)
                    .iter()
                    .any(|a| a["path"] == path)
                {
                    return error(404, "artifact_not_found", "Artifact not found");
                }
                Reply::json(
                    200,
                    &json!({"url": format!("https://cloud-agent-artifacts.s3.us-east-1.amazonaws.com/simulated/{path}?X-Amz-Signature=sim"), "expiresAt": iso8601_millis(SystemTime::now() + Duration::from_secs(900))}),
                )
            }
            _ => error(404, "not_found", "Not found"),
        }
    }
    pub(super) fn cancel(&self, state: &mut V1State, index: usize, r: usize, now: Moment) -> Reply {
        let run = &mut state.agents[index].runs[r];
        if !matches!(run.status(now), "CREATING" | "RUNNING") {
            return error(409, "run_not_cancellable", "Run is not active");
        }
        if run.scenario.cancel_fails {
            return Reply::json(
                500,
                &json!({"error": {"code": "internal_error", "message": "Failed to cancel run"}}),
            );
        }
        let id = run.id.clone();
        // A heartbeat-only stream goes on as it was: the cancel shows only
        // in `GET run`.
        let wedged = run
            .scenario
            .heartbeats_only_after
            .is_some_and(|a| now >= run.created + a);
        run.events
            .retain(|e| e.at <= now || (wedged && e.event == "heartbeat"));
        let base = state.epoch_ms;
        let run = &mut state.agents[index].runs[r];
        let fin = now + Duration::from_millis(300);
        let end = now + Duration::from_secs(1);
        let stamp = format!("{}-0", base + end.since_start().as_millis() as u64);
        if wedged {
            run.end = end;
            run.end_status = "CANCELLED";
            run.drops_left.clear();
            run.stall_left = None;
            return Reply::json(200, &json!({"id": id}));
        }
        run.events.push(TimedEvent {
            at: fin,
            id: None,
            event: "status".into(),
            data: json!({"runId": id, "status": "FINISHED"}),
        });
        run.events.push(TimedEvent { at: end, id: Some(stamp.clone()), event: "result".into(), data: json!({"runId": id, "status": "CANCELLED", "durationMs": (end - run.created).as_millis() as u64}) });
        run.events.push(TimedEvent {
            at: end,
            id: Some(stamp),
            event: "done".into(),
            data: json!({}),
        });
        run.end = end;
        run.end_status = "CANCELLED";
        run.drops_left.clear();
        run.stall_left = None;
        Reply::json(200, &json!({"id": id}))
    }
}
