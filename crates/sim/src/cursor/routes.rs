//! The REST routes (`/v0/…`), authentication and the control routes (`/_sim/…`).

use super::scenario::{EndStatus, Refusal, Scenario};
use super::validate::{check_keys, check_prompt, issue, validate_create};
use super::{
    CursorSim, CursorSimConfig, SimAgent, State, random_hex, repo_key, slug, title, uuid4,
};
use crate::host::{pull_number_of, repo_of};
use crate::server::{Reply, Request};
use base64::Engine as _;
use kit::clock::Moment;
use kit::rfc3339::iso8601_millis;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

impl CursorSim {
    pub(super) fn authenticate(request: &Request, config: &CursorSimConfig) -> Option<String> {
        let header = request.header("authorization")?;
        let key = if let Some(b) = header.strip_prefix("Basic ") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            text.strip_suffix(':')
                .map(String::from)
                .or_else(|| text.split_once(':').map(|(k, _)| k.to_string()))?
        } else {
            header.strip_prefix("Bearer ")?.trim().to_string()
        };
        if key.is_empty() {
            return None;
        }
        match &config.keys {
            Some(keys) if !keys.contains(&key) => None,
            _ => Some(key),
        }
    }

    /// The repository a request is about, for fault rules.
    pub(super) fn repository_of(state: &State, request: &Request) -> Option<String> {
        if request.path == "/v0/agents" && request.method == "POST" {
            let body: Value = serde_json::from_slice(&request.body).ok()?;
            return body["source"]["repository"]
                .as_str()
                .or(body["source"]["prUrl"].as_str())
                .map(String::from);
        }
        let id = request
            .path
            .strip_prefix("/v0/agents/")?
            .split('/')
            .next()?;
        state
            .agents
            .iter()
            .find(|a| a.id == id)
            .and_then(|a| a.repository.clone())
    }

    pub(super) fn route(&self, state: &mut State, request: &Request, key: &str) -> Reply {
        let now = self.clock.now();
        let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
        let method = request.method.as_str();
        match (method, segments.as_slice()) {
            ("GET", ["v0", "me"]) => Reply::json(
                200,
                &json!({"apiKeyName": "simulator", "createdAt": "2025-10-31T22:07:32.029Z", "userEmail": "developer@example.com"}),
            ),
            ("GET", ["v0", "models"]) => Reply::json(
                200,
                &json!({"models": ["default", "claude-4.5-sonnet-thinking", "gpt-5.2", "claude-4-opus-thinking"]}),
            ),
            ("GET", ["v0", "repositories"]) => self.repositories(state, key, now),
            ("GET", ["v0", "agents"]) => Self::list(state, request, now),
            ("POST", ["v0", "agents"]) => self.create(state, request, key, now),
            (_, ["v0", "agents", id, rest @ ..]) => {
                if !(id.starts_with("bc-") || id.starts_with("bc_")) {
                    return Self::error(state, 400, "Invalid agent ID format", "validation_error");
                }
                let Some(index) = state
                    .agents
                    .iter()
                    .position(|a| a.id == *id && !a.deleted && a.key == key)
                else {
                    return Self::error(
                        state,
                        404,
                        "Agent not found or access denied",
                        "agent_not_found",
                    );
                };
                self.agent_route(state, index, method, rest, request, now)
            }
            (_, ["v1", rest @ ..]) => self.v1.route(method, rest, request, key),
            _ => Self::error(state, 404, "Not found", "not_found"),
        }
    }

    pub(super) fn agent_route(
        &self,
        state: &mut State,
        index: usize,
        method: &str,
        rest: &[&str],
        request: &Request,
        now: Moment,
    ) -> Reply {
        match (method, rest) {
            ("GET", []) => Reply::json(200, &Self::render(&state.agents[index], now)),
            ("DELETE", []) => {
                state.agents[index].deleted = true;
                Reply::json(200, &json!({"id": state.agents[index].id}))
            }
            ("GET", ["conversation"]) => {
                Reply::json(200, &Self::conversation(&state.agents[index], now))
            }
            ("POST", ["followup"]) => {
                let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
                    return Self::invalid(
                        "Invalid request body",
                        vec![issue("invalid_type", "Expected object", &[])],
                    );
                };
                let mut issues = Vec::new();
                check_keys(&body, &["prompt"], &[], &mut issues);
                check_prompt(&body["prompt"], &mut issues);
                if !issues.is_empty() {
                    return Self::invalid("Invalid followup request parameters", issues);
                }
                let a = &mut state.agents[index];
                if a.status_at(now) == "EXPIRED" {
                    return Self::error(
                        state,
                        409,
                        "Agent is deleted or archived",
                        "agent_archived",
                    );
                }
                let text = body["prompt"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                a.followups.push((now, text));
                let done = now + Duration::from_secs(a.scenario.followup_running_secs);
                a.reschedule(now, vec![(now, "RUNNING"), (done, "FINISHED")]);
                Reply::json(200, &json!({"id": a.id}))
            }
            ("POST", ["stop"]) => {
                let a = &mut state.agents[index];
                if !a.is_active(now) {
                    return Self::error(state, 400, "Agent is not running", "validation_error");
                }
                a.reschedule(now, vec![(now, "STOPPED")]);
                Reply::json(200, &json!({"id": a.id}))
            }
            ("GET", ["artifacts"]) => {
                let items: Vec<Value> = state.agents[index]
                    .scenario
                    .artifacts
                    .iter()
                    .map(|a| json!({"absolutePath": a.absolute_path, "sizeBytes": a.size_bytes, "updatedAt": iso8601_millis(SystemTime::now())}))
                    .collect();
                Reply::json(200, &json!({ "artifacts": items }))
            }
            ("GET", ["artifacts", "download"]) => match request.query("path") {
                Some(path) => {
                    let a = &state.agents[index];
                    let Some(n) = a
                        .scenario
                        .artifacts
                        .iter()
                        .position(|x| x.absolute_path == path)
                    else {
                        return Self::error(state, 404, "Agent or artifact not found", "not_found");
                    };
                    // A presigned URL back to this simulator (loopback).
                    let host = request.header("host").unwrap_or("127.0.0.1");
                    Reply::json(
                        200,
                        &json!({"url": format!("http://{host}/_artifacts/{}/{n}?X-Amz-Signature=sim", a.id), "expiresAt": iso8601_millis(SystemTime::now() + Duration::from_secs(900))}),
                    )
                }
                None => Self::invalid(
                    "Invalid request parameters",
                    vec![issue("invalid_type", "Required", &["path"])],
                ),
            },
            _ => Self::error(state, 404, "Not found", "not_found"),
        }
    }

    pub(super) fn repositories(&self, state: &mut State, key: &str, now: Moment) -> Reply {
        let calls = state.repository_calls.entry(key.to_string()).or_default();
        let minute = Duration::from_secs(60);
        let hour = Duration::from_secs(3600);
        let last_minute: Vec<&Moment> = calls
            .iter()
            .filter(|t| now.saturating_since(**t) < minute)
            .collect();
        let last_hour = calls
            .iter()
            .filter(|t| now.saturating_since(**t) < hour)
            .count();
        if !last_minute.is_empty() || last_hour >= 30 {
            let wait = last_minute
                .iter()
                .map(|t| minute.saturating_sub(now.saturating_since(**t)))
                .max()
                .unwrap_or(minute);
            return Reply::json(429, &json!({"error": "Too Many Requests", "message": "Rate limit exceeded. Please try again later."}))
                .with_header("retry-after", &wait.as_secs().max(1).to_string());
        }
        calls.push(now);
        Reply::json(
            200,
            &json!({"repositories": [
                {"owner": "Codertocat", "name": "Hello-World", "repository": "https://github.com/Codertocat/Hello-World"},
                {"owner": "octo-org", "name": "octo-repo", "repository": "https://github.com/octo-org/octo-repo"}
            ]}),
        )
    }

    pub(super) fn list(state: &State, request: &Request, now: Moment) -> Reply {
        let limit = match request.query("limit") {
            None => 20,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    return Self::invalid(
                        "Invalid request parameters",
                        vec![issue(
                            "too_big",
                            "limit must be an integer from 1 to 100",
                            &["limit"],
                        )],
                    );
                }
            },
        };
        let visible: Vec<&SimAgent> = state
            .agents
            .iter()
            .rev()
            .filter(|a| !a.deleted)
            .filter(|a| match request.query("prUrl") {
                Some(pr) => {
                    a.source_pr_url.as_deref() == Some(pr) || a.pr_url(now).as_deref() == Some(pr)
                }
                None => true,
            })
            .collect();
        let start = match request.query("cursor") {
            None => 0,
            Some(c) => match visible.iter().position(|a| a.id == c) {
                Some(i) => i,
                None => {
                    return Self::invalid(
                        "Invalid cursor",
                        vec![issue("invalid_string", "Unknown cursor", &["cursor"])],
                    );
                }
            },
        };
        let page: Vec<Value> = visible
            .iter()
            .skip(start)
            .take(limit)
            .map(|a| Self::render(a, now))
            .collect();
        let mut body = json!({"agents": page});
        if let Some(next) = visible.get(start + limit) {
            body["nextCursor"] = json!(next.id);
        }
        Reply::json(200, &body)
    }

    pub(super) fn create(
        &self,
        state: &mut State,
        request: &Request,
        key: &str,
        now: Moment,
    ) -> Reply {
        let body: Value = match serde_json::from_slice(&request.body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return Self::invalid(
                    "Invalid creation request parameters",
                    vec![issue(
                        "invalid_type",
                        "Expected object, received string",
                        &[],
                    )],
                );
            }
        };
        let issues = validate_create(&body);
        if !issues.is_empty() {
            return Self::invalid("Invalid creation request parameters", issues);
        }
        let source = &body["source"];
        let repository = source["repository"].as_str().map(String::from);
        let source_pr_url = source["prUrl"].as_str().map(String::from);
        let scenario_key = repository
            .as_deref()
            .or(source_pr_url
                .as_deref()
                .and_then(|p| p.rsplitn(3, '/').nth(2)))
            .map(repo_key)
            .unwrap_or_default();
        let scenario = state
            .scenarios
            .get(&scenario_key)
            .cloned()
            .unwrap_or_else(|| state.default_scenario.clone());
        if let Some(refusal) = scenario.refuse_launch {
            let repo_name = scenario_key
                .split_once('/')
                .map(|(_, r)| r)
                .unwrap_or(&scenario_key)
                .to_string();
            return match refusal {
                Refusal::StorageMode => Self::error(
                    state,
                    403,
                    "Storage mode is disabled. Please enable storage in your Cursor settings to use agents via API.",
                    "feature_unavailable",
                ),
                Refusal::RepositoryNotAccessible => Self::error(
                    state,
                    400,
                    &format!(
                        "You do not have access to repository {repo_name}, or the repository does not exist. If you believe you should have access, ensure the Cursor GitHub App is installed"
                    ),
                    "repository_access",
                ),
                Refusal::DefaultBranch => Self::error(
                    state,
                    400,
                    "Failed to determine repository default branch",
                    "validation_error",
                ),
                Refusal::PlanRequired => Reply::json(
                    403,
                    &json!({"error": {"code": "plan_required", "message": "A paid plan is required to use Background Agents."}}),
                ),
                Refusal::UsageLimit => Reply::json(
                    400,
                    &json!({"error": {"code": "usage_limit_exceeded", "message": "Usage-based pricing required. Background Agent requires at least $2 remaining until your hard limit."}}),
                ),
            };
        }
        let active = state
            .agents
            .iter()
            .filter(|a| a.key == key && !a.deleted && a.is_active(now))
            .count();
        if active >= 256 {
            return Self::error(
                state,
                429,
                "Too many active agents for this API key (256)",
                "rate_limit_exceeded",
            );
        }
        let mut rng = fastrand::Rng::new();
        let id = format!("bc-{}", uuid4(&mut rng));
        let prompt = body["prompt"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let target = &body["target"];
        let created = now;
        let running = created + Duration::from_secs(scenario.creating_secs);
        let end_at = running + Duration::from_secs(scenario.running_secs);
        let end = match scenario.end {
            EndStatus::Finished => "FINISHED",
            EndStatus::Error => "ERROR",
            EndStatus::Expired => "EXPIRED",
        };
        state.next_pr += 1;
        let on_pr_branch = source_pr_url.is_some() && target["autoBranch"] == json!(false);
        let host = self.host();
        let host_repo = repository
            .as_deref()
            .or(source_pr_url.as_deref())
            .and_then(repo_of);
        let pr_head = match (&host, &host_repo, on_pr_branch) {
            (Some(h), Some(repo), true) => source_pr_url
                .as_deref()
                .and_then(pull_number_of)
                .and_then(|n| h.pull_head(repo, n)),
            _ => None,
        };
        let agent = SimAgent {
            id,
            name: title(&prompt),
            created,
            created_wall: SystemTime::now(),
            repository: repository.clone(),
            git_ref: source["ref"].as_str().map(String::from),
            source_pr_url,
            requested_branch: target["branchName"].as_str().map(String::from),
            on_pr_branch,
            auto_branch: format!("cursor/{}-{}", slug(&prompt), random_hex(&mut rng, 4)),
            auto_create_pr: target["autoCreatePr"].as_bool().unwrap_or(false),
            open_as_app: target["openAsCursorGithubApp"].as_bool().unwrap_or(false),
            skip_reviewer: target["skipReviewerRequest"].as_bool().unwrap_or(false),
            prompt,
            scenario,
            timeline: vec![(created, "CREATING"), (running, "RUNNING"), (end_at, end)],
            followups: Vec::new(),
            deleted: false,
            pr_number: state.next_pr,
            key: key.to_string(),
            linked: host.is_some(),
            host_repo,
            pr_head,
            host_pr_url: None,
            settled_runs: 0,
        };
        let reply = Reply::json(201, &Self::render(&agent, now));
        state.agents.push(agent);
        reply
    }

    /// The control API (`/_sim/...`), for out-of-process tests and users.
    pub(super) fn artifact_bytes(state: &State, rest: &str) -> Reply {
        let mut parts = rest.split('/');
        let (Some(id), Some(n)) = (
            parts.next(),
            parts.next().and_then(|n| n.parse::<usize>().ok()),
        ) else {
            return Reply::raw(404, "text/plain", "NoSuchKey");
        };
        match state
            .agents
            .iter()
            .find(|a| a.id == id)
            .and_then(|a| a.scenario.artifacts.get(n))
        {
            Some(a) => Reply::raw(200, "application/octet-stream", a.content()),
            None => Reply::raw(404, "text/plain", "NoSuchKey"),
        }
    }

    pub(super) fn control(&self, request: &Request) -> Reply {
        self.settle();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/_sim/requests") => {
                Reply::json(200, &serde_json::to_value(self.requests()).unwrap())
            }
            ("GET", "/_sim/agents") => Reply::json(200, &json!(self.agents())),
            ("POST", "/_sim/faults") => crate::faults::add_from_json(body, |r| self.add_fault(r)),
            ("POST", "/_sim/scenarios") => {
                let repository = body
                    .get("repository")
                    .and_then(Value::as_str)
                    .map(String::from);
                let mut fields = body.clone();
                if let Some(o) = fields.as_object_mut() {
                    o.remove("repository");
                }
                match serde_json::from_value::<Scenario>(fields) {
                    Ok(s) => {
                        match repository.as_deref() {
                            Some(r) if r != "default" => self.set_scenario(r, s),
                            _ => self.set_default_scenario(s),
                        }
                        Reply::json(200, &json!({"ok": true}))
                    }
                    Err(e) => Reply::json(400, &json!({"error": e.to_string()})),
                }
            }
            ("POST", "/_sim/v1/scenario") => {
                match serde_json::from_value::<crate::cursor_v1::V1ScenarioJson>(body) {
                    Ok(s) => {
                        self.v1.set_scenario(s.into_scenario());
                        Reply::json(200, &json!({"ok": true}))
                    }
                    Err(e) => Reply::json(400, &json!({"error": e.to_string()})),
                }
            }
            ("POST", "/_sim/reset") => {
                self.v1.reset();
                let mut state = self.state.lock().unwrap();
                state.agents.clear();
                state.faults.clear();
                state.log.clear();
                state.scenarios.clear();
                state.default_scenario = Scenario::default();
                Reply::json(200, &json!({"ok": true}))
            }
            _ => Reply::json(404, &json!({"error": "unknown control endpoint"})),
        }
    }
}
