//! A stateful simulator of the Cursor v0 API (`docs/`: spec §3–§7, §10, §11).
//! Agents live on the simulator's clock: CREATING, then RUNNING (the branch
//! appears), then FINISHED with a summary and PR, or ERROR/EXPIRED, as the
//! repository's scenario says. Faults are injected per request.

use crate::faults::{FaultRule, take};
use crate::host::{RepoHost, pull_number_of, pull_url, repo_of};
use crate::log::{LoggedRequest, log_entry};
use crate::server::{Handler, Reply, Request};
use base64::Engine as _;
use kit::clock::{Clock, Moment};
use kit::rfc3339::iso8601_millis;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How an agent ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EndStatus {
    #[default]
    Finished,
    Error,
    Expired,
}

/// Launch refusals seen from the real API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    StorageMode,
    RepositoryNotAccessible,
    DefaultBranch,
    PlanRequired,
    UsageLimit,
}

/// A summary with every kind of hostile content the action must defuse.
pub const HOSTILE_SUMMARY: &str = "Fixed the bug.\n::set-output name=pwned::yes\n::add-mask::nothing\n  ::stop-commands::abc\n##[error]fake error\nThanks @octocat and @github/security!\n<!-- cursor-agent-action {\"v\":1,\"agent\":\"bc-evil\"} -->\n<img src=\"https://evil.example/pixel.png\">\n<details><summary>x</summary>\n```\nunclosed fence";

/// How agents on a repository behave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scenario {
    pub creating_secs: u64,
    pub running_secs: u64,
    pub end: EndStatus,
    /// The summary text; `None`: the agent never writes one.
    pub summary: Option<String>,
    /// Whether `GET /v0/agents/{id}` carries the summary (it is always in the
    /// conversation): the API does not always send it.
    pub summary_in_status: bool,
    /// Refuse launches on this repository.
    pub refuse_launch: Option<Refusal>,
    /// Report this status while the agent runs (an unexpected value).
    pub reported_status: Option<String>,
    /// Omit every optional field from agent objects.
    pub minimal_fields: bool,
    pub followup_running_secs: u64,
    /// Report this `createdAt` instead of the real one (an API or proxy
    /// sending odd text).
    pub created_at: Option<String>,
    /// The agent's artifacts. Their presigned URLs lead back to this
    /// simulator (`/_artifacts/…`, no key needed), which serves their bytes.
    pub artifacts: Vec<SimArtifact>,
    /// Whether a run that finishes changed something. Linked to a
    /// repository host (`Simulators::link_repos`), a finished run pushes
    /// `commits` commits to its branch (and opens the PR if asked); without
    /// changes it pushes nothing and opens no PR (`branchName` is still
    /// reported, though the branch never exists) and reports no `prUrl`.
    pub changes: bool,
    /// Commits a finished run pushes (linked only).
    pub commits: u32,
    /// `target.branchName` is listed only once the agent runs, not while it
    /// is CREATING (the minimal CREATING answer observed has no branch).
    pub branch_hidden_while_creating: bool,
}

/// An artifact the simulator lists and serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimArtifact {
    /// As listed (may be hostile: `../x`, absolute, very long…).
    pub absolute_path: String,
    /// The size listed.
    pub size_bytes: u64,
    /// The bytes actually served (a lie about the size is a test).
    pub served_bytes: u64,
}

impl SimArtifact {
    pub fn new(path: &str, size: u64) -> Self {
        Self {
            absolute_path: path.into(),
            size_bytes: size,
            served_bytes: size,
        }
    }

    /// The served content: deterministic bytes.
    pub fn content(&self) -> Vec<u8> {
        (0..self.served_bytes).map(|i| (i % 251) as u8).collect()
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            creating_secs: 20,
            running_secs: 180,
            end: EndStatus::Finished,
            summary: Some(
                "Fixed the spelling of \"commit\" in README.md and opened a pull request.".into(),
            ),
            summary_in_status: true,
            refuse_launch: None,
            reported_status: None,
            minimal_fields: false,
            followup_running_secs: 60,
            created_at: None,
            artifacts: vec![SimArtifact::new(
                "/opt/cursor/artifacts/screenshot.png",
                12345,
            )],
            changes: true,
            commits: 1,
            branch_hidden_while_creating: false,
        }
    }
}

impl Scenario {
    pub fn lasting(creating_secs: u64, running_secs: u64) -> Self {
        Self {
            creating_secs,
            running_secs,
            ..Self::default()
        }
    }

    pub fn ending(mut self, end: EndStatus) -> Self {
        self.end = end;
        self
    }

    pub fn summary(mut self, summary: Option<&str>) -> Self {
        self.summary = summary.map(String::from);
        self
    }

    /// `target.branchName` is not listed while the agent is CREATING.
    pub fn branch_hidden_while_creating(mut self) -> Self {
        self.branch_hidden_while_creating = true;
        self
    }

    /// A run that changes nothing: no push, no pull request.
    pub fn no_changes(mut self) -> Self {
        self.changes = false;
        self
    }
}

#[derive(Debug, Clone)]
struct SimAgent {
    id: String,
    name: String,
    created: Moment,
    created_wall: SystemTime,
    repository: Option<String>,
    git_ref: Option<String>,
    source_pr_url: Option<String>,
    requested_branch: Option<String>,
    /// `source.prUrl` with `target.autoBranch: false`: the agent pushes to
    /// the pull request's head branch and `branchName` is ignored.
    on_pr_branch: bool,
    auto_branch: String,
    auto_create_pr: bool,
    open_as_app: bool,
    skip_reviewer: bool,
    prompt: String,
    scenario: Scenario,
    /// Status changes, in time order.
    timeline: Vec<(Moment, &'static str)>,
    followups: Vec<(Moment, String)>,
    deleted: bool,
    pr_number: u64,
    key: String,
    /// Created with a repository host: pushes and pull requests are real
    /// (on the host) instead of invented.
    linked: bool,
    /// `owner/repo` on the host.
    host_repo: Option<String>,
    /// On a PR's branch (linked): that PR's head, as the host knows it.
    pr_head: Option<String>,
    /// The pull request this agent opened on the host.
    host_pr_url: Option<String>,
    /// FINISHED runs already pushed to the host.
    settled_runs: usize,
}

impl SimAgent {
    fn status_at(&self, now: Moment) -> &'static str {
        self.timeline
            .iter()
            .take_while(|(t, _)| *t <= now)
            .last()
            .map(|(_, s)| *s)
            .unwrap_or("CREATING")
    }

    fn is_active(&self, now: Moment) -> bool {
        matches!(self.status_at(now), "CREATING" | "RUNNING")
    }

    fn has_finished(&self, now: Moment) -> bool {
        self.timeline
            .iter()
            .any(|(t, s)| *t <= now && *s == "FINISHED")
    }

    /// Replaces what has not happened yet with `events`.
    fn reschedule(&mut self, now: Moment, events: Vec<(Moment, &'static str)>) {
        self.timeline.retain(|(t, _)| *t <= now);
        self.timeline.extend(events);
    }

    fn branch(&self, now: Moment) -> Option<String> {
        if self.scenario.branch_hidden_while_creating && self.status_at(now) == "CREATING" {
            return None;
        }
        if self.on_pr_branch {
            return self.pr_head.clone();
        }
        match &self.requested_branch {
            Some(b) => Some(b.clone()),
            None if self.status_at(now) != "CREATING" => Some(self.auto_branch.clone()),
            None => None,
        }
    }

    fn pr_url(&self, now: Moment) -> Option<String> {
        if self.linked {
            if self.on_pr_branch {
                // Created from that pull request, and pushing to it.
                return self.source_pr_url.clone();
            }
            if let Some(url) = &self.host_pr_url {
                return Some(url.clone());
            }
        }
        if !(self.auto_create_pr && self.has_finished(now) && self.scenario.changes) {
            return None;
        }
        if let Some(pr) = &self.source_pr_url {
            return Some(pr.clone());
        }
        if self.linked {
            // The host refused the pull request (nothing to merge).
            return None;
        }
        let repo = self.repository.as_deref()?;
        let path = repo.split_once("://").map(|(_, r)| r).unwrap_or(repo);
        Some(format!("https://{path}/pull/{}", self.pr_number))
    }

    /// Pushes what the agent's finished runs did by `now` to the host.
    fn settle(&mut self, now: Moment, host: &dyn RepoHost) {
        if !self.linked || self.deleted {
            return;
        }
        let finished = self
            .timeline
            .iter()
            .filter(|(t, s)| *t <= now && *s == "FINISHED")
            .count();
        while self.settled_runs < finished {
            self.settled_runs += 1;
            let (Some(repo), true) = (self.host_repo.clone(), self.scenario.changes) else {
                continue;
            };
            let branch = if self.on_pr_branch {
                match &self.pr_head {
                    Some(h) => h.clone(),
                    None => continue,
                }
            } else {
                self.requested_branch
                    .clone()
                    .unwrap_or_else(|| self.auto_branch.clone())
            };
            host.push(&repo, &branch, self.scenario.commits.max(1));
            if self.auto_create_pr && self.host_pr_url.is_none() && self.source_pr_url.is_none() {
                let base = self.git_ref.as_deref().unwrap_or("main");
                if let Some(n) = host.open_pull(&repo, &branch, base, &self.name) {
                    self.host_pr_url = Some(pull_url(&host.server_url(), &repo, n));
                }
            }
        }
    }
}

/// Configuration fixed at start.
#[derive(Debug, Clone, Default)]
pub struct CursorSimConfig {
    /// Accepted API keys; `None` accepts any non-empty key.
    pub keys: Option<Vec<String>>,
    /// Errors in the documented object shape instead of the observed string.
    pub object_errors: bool,
}

struct State {
    agents: Vec<SimAgent>,
    scenarios: HashMap<String, Scenario>,
    default_scenario: Scenario,
    faults: Vec<FaultRule>,
    log: Vec<LoggedRequest>,
    repository_calls: HashMap<String, Vec<Moment>>,
    next_pr: u64,
    config: CursorSimConfig,
}

/// The simulator's state and request handler.
pub struct CursorSim {
    clock: Clock,
    state: Mutex<State>,
    v1: crate::cursor_v1::V1Sim,
    /// Where agents push (see `Simulators::link_repos`); `None`: they
    /// invent their PR URLs.
    host: Mutex<Option<Arc<dyn RepoHost>>>,
}

fn repo_key(url: &str) -> String {
    let u = url.trim().trim_end_matches('/').trim_end_matches(".git");
    u.split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(u)
        .to_ascii_lowercase()
}

fn random_hex(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.u32(0..16), 16).unwrap())
        .collect()
}

fn uuid4(rng: &mut fastrand::Rng) -> String {
    let variant = ['8', '9', 'a', 'b'][rng.usize(0..4)];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        random_hex(rng, 8),
        random_hex(rng, 4),
        random_hex(rng, 3),
        random_hex(rng, 3),
        random_hex(rng, 12)
    )
}

/// A Zod-style validation issue.
fn issue(code: &str, message: &str, path: &[&str]) -> Value {
    json!({"code": code, "message": message, "path": path})
}

fn slug(text: &str) -> String {
    let words: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(5)
        .map(|w| w.to_ascii_lowercase())
        .collect();
    if words.is_empty() {
        "task".into()
    } else {
        words.join("-")
    }
}

fn title(text: &str) -> String {
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("Agent task");
    let words: Vec<&str> = first.split_whitespace().take(6).collect();
    let t = words.join(" ");
    t.chars().take(60).collect()
}

impl CursorSim {
    pub fn new(clock: Clock, config: CursorSimConfig) -> Self {
        Self {
            clock,
            v1: crate::cursor_v1::V1Sim::new(clock),
            host: Mutex::new(None),
            state: Mutex::new(State {
                agents: Vec::new(),
                scenarios: HashMap::new(),
                default_scenario: Scenario::default(),
                faults: Vec::new(),
                log: Vec::new(),
                repository_calls: HashMap::new(),
                next_pr: 100,
                config,
            }),
        }
    }

    /// Agents launched from now on push to `host` and open their pull
    /// requests there (v0; the v1 half has its own `set_host`).
    pub fn set_host(&self, host: Arc<dyn RepoHost>) {
        *self.host.lock().unwrap() = Some(host);
    }

    fn host(&self) -> Option<Arc<dyn RepoHost>> {
        self.host.lock().unwrap().clone()
    }

    fn settle_locked(&self, state: &mut State) {
        if let Some(host) = self.host() {
            let now = self.clock.now();
            for a in &mut state.agents {
                a.settle(now, host.as_ref());
            }
        }
    }

    /// Lets agents (v0 and v1) push to their host what they did by now.
    pub fn settle(&self) {
        {
            let mut state = self.state.lock().unwrap();
            self.settle_locked(&mut state);
        }
        self.v1.settle();
    }

    /// The v1 API (`/v1/…`), served on the same port.
    pub fn v1(&self) -> &crate::cursor_v1::V1Sim {
        &self.v1
    }

    /// How agents on `repository` behave (a URL or `owner/repo`).
    pub fn set_scenario(&self, repository: &str, scenario: Scenario) {
        let key = if repository.contains('.') || repository.contains("://") {
            repo_key(repository)
        } else {
            format!("github.com/{}", repository.to_ascii_lowercase())
        };
        self.state.lock().unwrap().scenarios.insert(key, scenario);
    }

    pub fn set_default_scenario(&self, scenario: Scenario) {
        self.state.lock().unwrap().default_scenario = scenario;
    }

    pub fn add_fault(&self, rule: FaultRule) {
        self.state.lock().unwrap().faults.push(rule);
    }

    /// Fault rules not used up yet (the requests they wait for never came).
    pub fn pending_faults(&self) -> Vec<FaultRule> {
        let s = self.state.lock().unwrap();
        s.faults.iter().filter(|r| r.times > 0).cloned().collect()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.lock().unwrap().log.clone()
    }

    /// Requests matching `method` and a path pattern (`*` = one segment).
    pub fn count(&self, method: &str, pattern: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && crate::faults::path_matches(pattern, &r.path))
            .count()
    }

    /// Agents ever created (deleted ones included).
    pub fn agents_created(&self) -> usize {
        self.state.lock().unwrap().agents.len()
    }

    /// Agents as the API would show them now.
    pub fn agents(&self) -> Vec<Value> {
        self.settle();
        let now = self.clock.now();
        let state = self.state.lock().unwrap();
        state.agents.iter().map(|a| Self::render(a, now)).collect()
    }

    /// The status of an agent now (tests).
    pub fn status_of(&self, id: &str) -> Option<String> {
        let now = self.clock.now();
        let state = self.state.lock().unwrap();
        state
            .agents
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.status_at(now).to_string())
    }

    /// When agent `id` first turned terminal (FINISHED, ERROR, EXPIRED or
    /// STOPPED), on the simulator's clock, as scheduled now.
    pub fn ended_at(&self, id: &str) -> Option<Duration> {
        let state = self.state.lock().unwrap();
        let agent = state.agents.iter().find(|a| a.id == id)?;
        agent
            .timeline
            .iter()
            .find(|(_, s)| !matches!(*s, "CREATING" | "RUNNING"))
            .map(|(t, _)| t.since_start())
    }

    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    fn error(state: &State, status: u16, message: &str, code: &str) -> Reply {
        if state.config.object_errors {
            Reply::json(
                status,
                &json!({"error": {"code": code, "message": message}}),
            )
        } else {
            Reply::json(status, &json!({"error": message}))
        }
    }

    fn invalid(message: &str, details: Vec<Value>) -> Reply {
        Reply::json(400, &json!({"error": message, "details": details}))
    }

    fn render(a: &SimAgent, now: Moment) -> Value {
        let actual = a.status_at(now);
        let status = match (&a.scenario.reported_status, actual) {
            (Some(s), "RUNNING") => s.as_str(),
            _ => actual,
        };
        let minimal = a.scenario.minimal_fields;
        let mut source = Map::new();
        if let Some(r) = &a.repository {
            source.insert("repository".into(), json!(r));
        }
        if let (Some(r), false) = (&a.git_ref, minimal) {
            source.insert("ref".into(), json!(r));
        }
        if let Some(p) = &a.source_pr_url {
            source.insert("prUrl".into(), json!(p));
        }
        let mut target = Map::new();
        target.insert(
            "url".into(),
            json!(format!("https://cursor.com/agents?id={}", a.id)),
        );
        if let Some(b) = a.branch(now) {
            target.insert("branchName".into(), json!(b));
        }
        if let Some(pr) = a.pr_url(now) {
            target.insert("prUrl".into(), json!(pr));
        }
        if !minimal {
            target.insert("autoCreatePr".into(), json!(a.auto_create_pr));
            target.insert("openAsCursorGithubApp".into(), json!(a.open_as_app));
            target.insert("skipReviewerRequest".into(), json!(a.skip_reviewer));
        }
        let mut agent = Map::new();
        agent.insert("id".into(), json!(a.id));
        if !minimal {
            agent.insert("name".into(), json!(a.name));
        }
        agent.insert("status".into(), json!(status));
        agent.insert("source".into(), Value::Object(source));
        agent.insert("target".into(), Value::Object(target));
        if !minimal
            && a.scenario.summary_in_status
            && status == "FINISHED"
            && let Some(s) = &a.scenario.summary
        {
            agent.insert("summary".into(), json!(s));
        }
        let created = match &a.scenario.created_at {
            Some(odd) => odd.clone(),
            None => iso8601_millis(a.created_wall),
        };
        agent.insert("createdAt".into(), json!(created));
        Value::Object(agent)
    }

    fn conversation(a: &SimAgent, now: Moment) -> Value {
        let mut events: Vec<(Moment, &str, String)> =
            vec![(a.created, "user_message", a.prompt.clone())];
        for (t, text) in &a.followups {
            events.push((*t, "user_message", text.clone()));
        }
        for (t, status) in &a.timeline {
            if *t > now {
                continue;
            }
            let text = match *status {
                "RUNNING" => "I'll start working on this now.".to_string(),
                "FINISHED" => a
                    .scenario
                    .summary
                    .clone()
                    .unwrap_or_else(|| "I made the requested changes.".into()),
                "ERROR" => {
                    "I ran into an error I could not recover from: the test suite failed to build."
                        .into()
                }
                _ => continue,
            };
            events.push((*t, "assistant_message", text));
        }
        events.sort_by_key(|(t, _, _)| *t);
        let messages: Vec<Value> = events
            .into_iter()
            .enumerate()
            .map(|(i, (_, kind, text))| json!({"id": format!("msg_{:03}", i + 1), "type": kind, "text": text}))
            .collect();
        json!({"id": a.id, "messages": messages})
    }

    fn authenticate(request: &Request, config: &CursorSimConfig) -> Option<String> {
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
    fn repository_of(state: &State, request: &Request) -> Option<String> {
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

    fn route(&self, state: &mut State, request: &Request, key: &str) -> Reply {
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

    fn agent_route(
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

    fn repositories(&self, state: &mut State, key: &str, now: Moment) -> Reply {
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

    fn list(state: &State, request: &Request, now: Moment) -> Reply {
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

    fn create(&self, state: &mut State, request: &Request, key: &str, now: Moment) -> Reply {
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
    fn artifact_bytes(state: &State, rest: &str) -> Reply {
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

    fn control(&self, request: &Request) -> Reply {
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

impl Handler for CursorSim {
    fn handle(&self, request: Request) -> Reply {
        if request.path.starts_with("/_sim/") {
            return self.control(&request);
        }
        let mut state = self.state.lock().unwrap();
        self.settle_locked(&mut state);
        if let Some(rest) = request.path.strip_prefix("/_artifacts/") {
            // A presigned download: no key, like storage; faults apply.
            let normal = Self::artifact_bytes(&state, rest);
            let fault = take(
                &mut state.faults,
                request.method.as_str(),
                &request.path,
                None,
            );
            let reply = match &fault {
                Some(f) => f.reply(Some(normal)),
                None => normal,
            };
            let entry = log_entry(&request, &reply, fault.as_ref(), self.clock.now());
            state.log.push(entry);
            return reply;
        }
        let repository = Self::repository_of(&state, &request);
        let fault = take(
            &mut state.faults,
            request.method.as_str(),
            &request.path,
            repository.as_deref(),
        );
        let reply = match (&fault, Self::authenticate(&request, &state.config)) {
            (Some(f), _) if !f.applies_request() => f.reply(None),
            (_, None) => Self::error(&state, 401, "Invalid User API Key", "unauthorized"),
            (fault, Some(key)) => {
                let normal = self.route(&mut state, &request, &key);
                match fault {
                    Some(f) => f.reply(Some(normal)),
                    None => normal,
                }
            }
        };
        let entry = log_entry(&request, &reply, fault.as_ref(), self.clock.now());
        state.log.push(entry);
        reply
    }
}

// ---- request validation, Zod style ----

/// A string of at least one character.
fn nonempty(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.is_empty())
}

fn check_keys(value: &Value, allowed: &[&str], path: &[&str], issues: &mut Vec<Value>) {
    if let Some(obj) = value.as_object() {
        let unknown: Vec<&String> = obj
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        if !unknown.is_empty() {
            let list = unknown
                .iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(", ");
            issues.push(json!({"code": "unrecognized_keys", "message": format!("Unrecognized key(s) in object: {list}"), "path": path, "keys": unknown}));
        }
    }
}

fn check_prompt(prompt: &Value, issues: &mut Vec<Value>) {
    if !prompt.is_object() {
        issues.push(issue("invalid_type", "Required", &["prompt"]));
        return;
    }
    check_keys(prompt, &["text", "images"], &["prompt"], issues);
    match prompt["text"].as_str() {
        Some(t) if !t.is_empty() => {}
        Some(_) => issues.push(issue(
            "too_small",
            "String must contain at least 1 character(s)",
            &["prompt", "text"],
        )),
        None => issues.push(issue("invalid_type", "Required", &["prompt", "text"])),
    }
    if let Some(images) = prompt.get("images") {
        let Some(list) = images.as_array() else {
            issues.push(issue(
                "invalid_type",
                "Expected array",
                &["prompt", "images"],
            ));
            return;
        };
        if list.len() > 5 {
            issues.push(issue(
                "too_big",
                "Array must contain at most 5 element(s)",
                &["prompt", "images"],
            ));
        }
        for image in list {
            check_keys(image, &["data", "dimension"], &["prompt", "images"], issues);
            if !nonempty(&image["data"]) {
                issues.push(issue(
                    "too_small",
                    "String must contain at least 1 character(s)",
                    &["prompt", "images", "data"],
                ));
            }
            if let Some(dim) = image.get("dimension") {
                check_keys(
                    dim,
                    &["width", "height"],
                    &["prompt", "images", "dimension"],
                    issues,
                );
                for side in ["width", "height"] {
                    if dim[side].as_u64().is_none_or(|n| n < 1) {
                        issues.push(issue(
                            "too_small",
                            "Number must be greater than or equal to 1",
                            &["prompt", "images", "dimension", side],
                        ));
                    }
                }
            }
        }
    }
}

fn is_http_url(s: &str, max: usize) -> bool {
    s.len() <= max && url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

fn validate_create(body: &Value) -> Vec<Value> {
    let mut issues = Vec::new();
    check_keys(
        body,
        &["prompt", "model", "source", "target", "webhook"],
        &[],
        &mut issues,
    );
    check_prompt(&body["prompt"], &mut issues);
    if let Some(model) = body.get("model")
        && !nonempty(model)
    {
        issues.push(issue(
            "too_small",
            "String must contain at least 1 character(s)",
            &["model"],
        ));
    }
    let source = &body["source"];
    if !source.is_object() {
        issues.push(issue("invalid_type", "Required", &["source"]));
    } else {
        check_keys(
            source,
            &["repository", "ref", "prUrl"],
            &["source"],
            &mut issues,
        );
        let has_repo = source["repository"].as_str().is_some_and(|r| !r.is_empty());
        let has_pr = source["prUrl"]
            .as_str()
            .is_some_and(|p| is_http_url(p, 2048));
        if !has_repo && !has_pr {
            issues.push(issue(
                "custom",
                "Either repository or prUrl is required",
                &["source"],
            ));
        }
        if source.get("ref").is_some_and(|r| !nonempty(r)) {
            issues.push(issue(
                "too_small",
                "String must contain at least 1 character(s)",
                &["source", "ref"],
            ));
        }
    }
    if let Some(target) = body.get("target") {
        check_keys(
            target,
            &[
                "autoCreatePr",
                "openAsCursorGithubApp",
                "skipReviewerRequest",
                "branchName",
                "autoBranch",
            ],
            &["target"],
            &mut issues,
        );
        for flag in [
            "autoCreatePr",
            "openAsCursorGithubApp",
            "skipReviewerRequest",
            "autoBranch",
        ] {
            if target.get(flag).is_some_and(|v| !v.is_boolean()) {
                issues.push(issue("invalid_type", "Expected boolean", &["target", flag]));
            }
        }
        // autoBranch chooses between the PR's head branch and a new one: it
        // means nothing without a pull request.
        if target.get("autoBranch").is_some() && !body["source"]["prUrl"].is_string() {
            issues.push(issue(
                "custom",
                "autoBranch is only valid with source.prUrl",
                &["target", "autoBranch"],
            ));
        }
        if target.get("branchName").is_some_and(|b| !nonempty(b)) {
            issues.push(issue(
                "too_small",
                "String must contain at least 1 character(s)",
                &["target", "branchName"],
            ));
        }
    }
    if let Some(webhook) = body.get("webhook") {
        check_keys(webhook, &["url", "secret"], &["webhook"], &mut issues);
        if !webhook["url"]
            .as_str()
            .is_some_and(|u| is_http_url(u, 2048))
        {
            issues.push(issue("invalid_string", "Invalid url", &["webhook", "url"]));
        }
        if let Some(secret) = webhook.get("secret") {
            let n = secret.as_str().map(|s| s.chars().count()).unwrap_or(0);
            if !(32..=256).contains(&n) {
                issues.push(issue(
                    if n < 32 { "too_small" } else { "too_big" },
                    "String must contain between 32 and 256 character(s)",
                    &["webhook", "secret"],
                ));
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_matches_the_real_api() {
        let ok =
            json!({"prompt": {"text": "x"}, "source": {"repository": "https://github.com/o/r"}});
        assert!(validate_create(&ok).is_empty());
        let bad = json!({"name": "x", "prompt": {"text": ""}, "source": {}, "target": {"branchName": ""},
                         "webhook": {"url": "x", "secret": "short"}});
        let codes: Vec<String> = validate_create(&bad)
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            codes,
            vec![
                "unrecognized_keys",
                "too_small",
                "custom",
                "too_small",
                "invalid_string",
                "too_small"
            ]
        );
        let six = json!({"prompt": {"text": "x", "images": vec![json!({"data": "a"}); 6]}, "source": {"repository": "r"}});
        assert_eq!(validate_create(&six)[0]["code"], "too_big");
    }

    #[test]
    fn ids_and_names() {
        let mut rng = fastrand::Rng::with_seed(7);
        let id = uuid4(&mut rng);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(slug("Fix the README, please!"), "fix-the-readme-please");
        assert_eq!(
            title("\n\nResolve GitHub issue #1 in o/r now please"),
            "Resolve GitHub issue #1 in o/r"
        );
    }
}
