//! The Cursor v1 API, simulated beside v0 on the same port (`/v1/…`): agents
//! and runs, strict request validation, `agentId` idempotency, `agent_busy`,
//! cancel, usage with lagging cost, artifacts, archive, and the run's SSE
//! stream as the recordings show it (`cursor-api.md` §8.5.7): an id-less
//! `status` at every connect and mid-stream, `thinking`/`assistant` twins
//! sharing ids with `interaction_update`, a terminal `status: FINISHED`
//! seconds before `result`, `result` and `done` sharing an id, a cancelled
//! run as `status: FINISHED` + `result: CANCELLED` without text.
//!
//! Each run's events are a timeline fixed at creation (changed only by a
//! cancel); a stream connection replays what is due and then sends each
//! event at its time, in the simulator's clock. Faults per scenario: a
//! refused head (`stream_unavailable` as 409 or as a first `error` event),
//! drops mid-run, a stall (bytes stop, connection stays open), `410`, no
//! `result`, heartbeats or none, silent tool calls, a cancel that fails, a
//! stream that goes on with heartbeats only (its run ends unseen).

use crate::host::{RepoHost, pull_number_of, pull_url, repo_of};
use crate::server::{Reply, Request};
use bytes::Bytes;
use kit::clock::{Clock, Moment};
use kit::rfc3339::iso8601_millis;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How long a heartbeat-only stream goes on after its run's end.
const HEARTBEATS_ONLY_FOR: Duration = Duration::from_secs(6 * 3600);

/// How v1 runs behave. Offsets are from the run's creation.
#[derive(Debug, Clone, PartialEq)]
pub struct V1Scenario {
    pub creating: Duration,
    /// From RUNNING to `result`.
    pub running: Duration,
    /// `ERROR` or `FINISHED` (cancel makes `CANCELLED`).
    pub end_error: bool,
    pub result_text: String,
    /// How long the terminal `status` comes before `result`.
    pub status_lead: Duration,
    /// Heartbeat interval while nothing else happens; `None`: never.
    pub heartbeat: Option<Duration>,
    /// A tool call that runs silently (no event at all) for this long,
    /// starting this long after RUNNING.
    pub silent_tool: Option<(Duration, Duration)>,
    /// From this long after the run's creation, its stream sends nothing
    /// but heartbeats (every `heartbeat`, else 15 s), on every connection,
    /// past the run's end and forever: no status, no `result`, no `done`.
    /// `GET run` tells the truth, and so does a reconnect's sticky status.
    pub heartbeats_only_after: Option<Duration>,
    /// The stream says `status: FINISHED` and never sends `result`/`done`;
    /// the connection stays open. `GET run` reports the end.
    pub no_result: bool,
    /// At these offsets, open streams are dropped mid-body (each once).
    pub drops: Vec<Duration>,
    /// At this offset, an open stream stops sending and stays open (once).
    pub stall_at: Option<Duration>,
    /// The first this many stream connects are refused with
    /// `stream_unavailable`.
    pub unavailable_head: u32,
    /// …as a 200 whose first event is `error` instead of a 409.
    pub unavailable_as_event: bool,
    /// Every stream connect answers `410 stream_expired`.
    pub expired: bool,
    /// Cancel answers 500 and the run keeps running.
    pub cancel_fails: bool,
    /// A proxy buffers the stream: headers come, then no byte until the
    /// run's stream ends.
    pub buffered: bool,
    /// Usage `cost` appears this long after the run ends.
    pub cost_lag: Duration,
    /// More stream events, each `(after RUNNING, event, data)` (with an id),
    /// e.g. many or hostile `tool_call`s and `assistant` texts.
    pub script: Vec<(Duration, String, Value)>,
    /// A finished run changed nothing: linked to a repository host, it
    /// pushes nothing and opens no PR (`git.branches` still lists the
    /// agent's branch, without `prUrl`, as the recordings show).
    pub no_changes: bool,
    /// Commits a finished run pushes (linked only).
    pub commits: u32,
}

impl Default for V1Scenario {
    fn default() -> Self {
        Self {
            creating: Duration::from_secs(3),
            running: Duration::from_secs(30),
            end_error: false,
            result_text: "Fixed the failing test and opened a pull request.".into(),
            status_lead: Duration::from_secs(5),
            heartbeat: Some(Duration::from_secs(15)),
            silent_tool: None,
            heartbeats_only_after: None,
            no_result: false,
            drops: Vec::new(),
            stall_at: None,
            unavailable_head: 0,
            unavailable_as_event: false,
            expired: false,
            cancel_fails: false,
            buffered: false,
            cost_lag: Duration::from_secs(5),
            script: Vec::new(),
            no_changes: false,
            commits: 1,
        }
    }
}

impl V1Scenario {
    pub fn lasting(creating_secs: u64, running_secs: u64) -> Self {
        Self {
            creating: Duration::from_secs(creating_secs),
            running: Duration::from_secs(running_secs),
            ..Self::default()
        }
    }
}

/// [`V1Scenario`] as the control API takes it (`POST /_sim/v1/scenario`):
/// durations in seconds, every field optional.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct V1ScenarioJson {
    pub creating_secs: Option<f64>,
    pub running_secs: Option<f64>,
    pub end_error: Option<bool>,
    pub result_text: Option<String>,
    pub status_lead_secs: Option<f64>,
    /// 0: no heartbeats.
    pub heartbeat_secs: Option<f64>,
    /// `[after_secs, length_secs]`.
    pub silent_tool_secs: Option<[f64; 2]>,
    pub heartbeats_only_after_secs: Option<f64>,
    pub no_result: Option<bool>,
    pub drops_secs: Option<Vec<f64>>,
    pub stall_at_secs: Option<f64>,
    pub unavailable_head: Option<u32>,
    pub unavailable_as_event: Option<bool>,
    pub expired: Option<bool>,
    pub cancel_fails: Option<bool>,
    pub buffered: Option<bool>,
    pub cost_lag_secs: Option<f64>,
    /// `[[after_secs, event, data], …]`.
    pub script: Option<Vec<(f64, String, Value)>>,
    pub no_changes: Option<bool>,
    pub commits: Option<u32>,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.clamp(0.0, 1e7))
}

impl V1ScenarioJson {
    pub fn into_scenario(self) -> V1Scenario {
        let d = V1Scenario::default();
        V1Scenario {
            creating: self.creating_secs.map_or(d.creating, secs),
            running: self.running_secs.map_or(d.running, secs),
            end_error: self.end_error.unwrap_or(d.end_error),
            result_text: self.result_text.unwrap_or(d.result_text),
            status_lead: self.status_lead_secs.map_or(d.status_lead, secs),
            heartbeat: match self.heartbeat_secs {
                None => d.heartbeat,
                Some(h) if h <= 0.0 => None,
                Some(h) => Some(secs(h)),
            },
            silent_tool: self.silent_tool_secs.map(|[a, l]| (secs(a), secs(l))),
            heartbeats_only_after: self.heartbeats_only_after_secs.map(secs),
            no_result: self.no_result.unwrap_or(d.no_result),
            drops: self
                .drops_secs
                .map_or(d.drops, |v| v.into_iter().map(secs).collect()),
            stall_at: self.stall_at_secs.map(secs),
            unavailable_head: self.unavailable_head.unwrap_or(d.unavailable_head),
            unavailable_as_event: self.unavailable_as_event.unwrap_or(d.unavailable_as_event),
            expired: self.expired.unwrap_or(d.expired),
            cancel_fails: self.cancel_fails.unwrap_or(d.cancel_fails),
            buffered: self.buffered.unwrap_or(d.buffered),
            cost_lag: self.cost_lag_secs.map_or(d.cost_lag, secs),
            script: self.script.map_or(d.script, |v| {
                v.into_iter()
                    .map(|(at, e, data)| (secs(at), e, data))
                    .collect()
            }),
            no_changes: self.no_changes.unwrap_or(d.no_changes),
            commits: self.commits.unwrap_or(d.commits),
        }
    }
}

#[derive(Debug, Clone)]
struct TimedEvent {
    at: Moment,
    id: Option<String>,
    event: String,
    data: Value,
}

impl TimedEvent {
    fn bytes(&self) -> String {
        let mut s = String::new();
        if let Some(id) = &self.id {
            s.push_str(&format!("id: {id}\n"));
        }
        s.push_str(&format!("event: {}\ndata: {}\n\n", self.event, self.data));
        s
    }
}

#[derive(Debug, Clone)]
struct SimRun {
    id: String,
    created: Moment,
    created_wall: SystemTime,
    scenario: V1Scenario,
    prompt: String,
    events: Vec<TimedEvent>,
    /// When the run is terminal, and how.
    end: Moment,
    end_status: &'static str,
    text: Option<String>,
    drops_left: Vec<Duration>,
    stall_left: Option<Duration>,
    unavailable_left: u32,
    /// Its end was pushed to the host (linked agents).
    settled: bool,
}

impl SimRun {
    fn status(&self, now: Moment) -> &'static str {
        if now >= self.end {
            self.end_status
        } else if now < self.created + self.scenario.creating {
            "CREATING"
        } else {
            "RUNNING"
        }
    }
}

#[derive(Debug, Clone)]
struct SimAgent {
    id: String,
    key: String,
    name: String,
    repo: Option<String>,
    branch: String,
    auto_pr: bool,
    archived: bool,
    created_wall: SystemTime,
    runs: Vec<SimRun>,
    /// Created with a repository host: its branch and PR exist there.
    linked: bool,
    /// `owner/repo` on the host.
    host_repo: Option<String>,
    /// The base of the PR it opens (`startingRef`, else `main`).
    base: String,
    /// Its pull request: the one it works on, or the one it opened.
    pr_url: Option<String>,
}

#[derive(Default)]
struct V1State {
    agents: Vec<SimAgent>,
    scenario: V1Scenario,
    rng: Option<fastrand::Rng>,
    epoch_ms: u64,
    /// The `Last-Event-ID` of every stream connect (`None`: from the start).
    connects: Vec<Option<String>>,
    /// `GET run` limit per key per minute (≈300 observed); 0: none.
    run_reads_per_minute: usize,
    run_reads: std::collections::HashMap<String, Vec<Moment>>,
    /// Where agents push (`Simulators::link_repos`).
    host: Option<Arc<dyn RepoHost>>,
}

/// The v1 half of the Cursor simulator (shares auth, faults and the request
/// log with v0 through `CursorSim`).
#[derive(Clone)]
pub struct V1Sim {
    clock: Clock,
    state: Arc<Mutex<V1State>>,
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

fn validation(message: &str) -> Reply {
    error(400, "validation_error", message)
}

const MODELS: &[&str] = &[
    "default",
    "claude-haiku-4-5",
    "claude-4.5-sonnet-thinking",
    "gpt-5.2",
];
const CREATE_KEYS: &[&str] = &[
    "prompt",
    "model",
    "name",
    "env",
    "repos",
    "workOnCurrentBranch",
    "autoCreatePR",
    "skipReviewerRequest",
    "envVars",
    "mcpServers",
    "customSubagents",
    "mode",
    "agentId",
];

fn unknown_keys(v: &Value, allowed: &[&str]) -> Option<Reply> {
    let obj = v.as_object()?;
    let unknown: Vec<String> = obj
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| format!("'{k}'"))
        .collect();
    (!unknown.is_empty()).then(|| {
        validation(&format!(
            "Unrecognized key(s) in object: {}",
            unknown.join(", ")
        ))
    })
}

fn check_prompt(v: &Value) -> Option<Reply> {
    if let Some(r) = unknown_keys(v, &["text", "images"]) {
        return Some(r);
    }
    // Images: at most 5, each `{data, mimeType}` (base64) or `{url}`.
    if let Some(images) = v.get("images") {
        let Some(images) = images.as_array() else {
            return Some(validation("prompt.images: Expected array"));
        };
        if images.len() > 5 {
            return Some(validation(
                "prompt.images: Array must contain at most 5 element(s)",
            ));
        }
        for image in images {
            if let Some(r) = unknown_keys(image, &["data", "mimeType", "url"]) {
                return Some(r);
            }
            let inline = image["data"].as_str().is_some_and(|d| !d.is_empty())
                && matches!(
                    image["mimeType"].as_str(),
                    Some("image/png" | "image/jpeg" | "image/gif" | "image/webp")
                );
            let linked = image["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://"));
            if inline == linked {
                return Some(validation(
                    "prompt.images: each image needs data and a png/jpeg/gif/webp mimeType, or a url",
                ));
            }
        }
    }
    match v["text"].as_str() {
        Some(t) if !t.is_empty() => None,
        _ => Some(validation(
            "prompt.text: String must contain at least 1 character(s)",
        )),
    }
}

fn check_model(v: &Value) -> Option<Reply> {
    match v {
        Value::Null => None,
        Value::Object(_) => {
            if let Some(r) = unknown_keys(v, &["id", "params"]) {
                return Some(r);
            }
            match v["id"].as_str() {
                Some(id) if MODELS.contains(&id) => None,
                Some(id) => Some(validation(&format!(
                    "Model '{id}' is not available or invalid"
                ))),
                None => Some(validation("model.id: Required")),
            }
        }
        _ => Some(validation("model: Expected object, received string")),
    }
}

pub fn is_uuid_agent_id(id: &str) -> bool {
    cursor_api::v1::is_agent_id(id)
}

impl V1Sim {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            state: Arc::new(Mutex::new(V1State {
                epoch_ms: 1_787_331_000_000,
                run_reads_per_minute: 300,
                ..V1State::default()
            })),
        }
    }

    /// How runs created from now on behave.
    pub fn set_scenario(&self, scenario: V1Scenario) {
        self.state.lock().unwrap().scenario = scenario;
    }

    /// Agents created from now on push to `host` and open their pull
    /// requests there.
    pub fn set_host(&self, host: Arc<dyn RepoHost>) {
        self.state.lock().unwrap().host = Some(host);
    }

    /// Pushes to the host what linked agents' runs did by now.
    pub fn settle(&self) {
        let now = self.clock.now();
        Self::settle_locked(&mut self.state.lock().unwrap(), now);
    }

    fn settle_locked(state: &mut V1State, now: Moment) {
        let Some(host) = state.host.clone() else {
            return;
        };
        for agent in state.agents.iter_mut().filter(|a| a.linked) {
            for i in 0..agent.runs.len() {
                let run = &mut agent.runs[i];
                if run.settled || now < run.end {
                    continue;
                }
                run.settled = true;
                if run.end_status != "FINISHED" || run.scenario.no_changes {
                    continue;
                }
                let commits = run.scenario.commits.max(1);
                let Some(repo) = agent.host_repo.clone() else {
                    continue;
                };
                host.push(&repo, &agent.branch, commits);
                if agent.auto_pr
                    && agent.pr_url.is_none()
                    && let Some(n) = host.open_pull(&repo, &agent.branch, &agent.base, &agent.name)
                {
                    agent.pr_url = Some(pull_url(&host.server_url(), &repo, n));
                }
            }
        }
    }

    /// Forgets every agent and goes back to the default scenario.
    pub fn reset(&self) {
        let mut s = self.state.lock().unwrap();
        s.agents.clear();
        s.connects.clear();
        s.run_reads.clear();
        s.scenario = V1Scenario::default();
    }

    /// Agents created (including any a lost answer hid from the client).
    pub fn agents_created(&self) -> usize {
        self.state.lock().unwrap().agents.len()
    }

    /// The ids of the agents created, oldest first.
    pub fn agent_ids(&self) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.agents.iter().map(|a| a.id.clone()).collect()
    }

    /// Whether the agent `id` is archived.
    pub fn is_archived(&self, id: &str) -> bool {
        let s = self.state.lock().unwrap();
        s.agents.iter().any(|a| a.id == id && a.archived)
    }

    /// `GET …/runs/{runId}` calls allowed per key per minute (0: no limit);
    /// over it, `429 rate_limit_exceeded` with `Retry-After`.
    pub fn set_run_read_limit(&self, per_minute: usize) {
        self.state.lock().unwrap().run_reads_per_minute = per_minute;
    }

    /// The `Last-Event-ID` sent with each stream connect, in order.
    pub fn stream_connects(&self) -> Vec<Option<String>> {
        self.state.lock().unwrap().connects.clone()
    }

    /// When each run of every agent ends (turns terminal: its `result`),
    /// on the simulator's clock, in creation order: what a benchmark or a
    /// test measures a notice delay from.
    pub fn run_ends(&self) -> Vec<Duration> {
        let s = self.state.lock().unwrap();
        s.agents
            .iter()
            .flat_map(|a| a.runs.iter().map(|r| r.end.since_start()))
            .collect()
    }

    /// Runs of an agent.
    pub fn runs_of(&self, agent: &str) -> usize {
        let s = self.state.lock().unwrap();
        s.agents
            .iter()
            .find(|a| a.id == agent)
            .map_or(0, |a| a.runs.len())
    }

    fn uuid(state: &mut V1State) -> String {
        let rng = state.rng.get_or_insert_with(fastrand::Rng::new);
        let hex = |rng: &mut fastrand::Rng, n: usize| -> String {
            (0..n)
                .map(|_| char::from_digit(rng.u32(0..16), 16).unwrap())
                .collect()
        };
        let variant = ['8', '9', 'a', 'b'][rng.usize(0..4)];
        format!(
            "{}-{}-4{}-{variant}{}-{}",
            hex(rng, 8),
            hex(rng, 4),
            hex(rng, 3),
            hex(rng, 3),
            hex(rng, 12)
        )
    }

    fn new_run(&self, state: &mut V1State, prompt: &str, step0: u64) -> SimRun {
        let now = self.clock.now();
        let scenario = state.scenario.clone();
        let id = format!("run-{}", Self::uuid(state));
        let base = state.epoch_ms;
        let stamp = |at: Moment| format!("{}-0", base + at.since_start().as_millis() as u64);
        let mut events = Vec::new();
        let push =
            |events: &mut Vec<TimedEvent>, at: Moment, with_id: bool, event: &str, data: Value| {
                events.push(TimedEvent {
                    at,
                    id: with_id.then(|| stamp(at)),
                    event: event.into(),
                    data,
                });
            };
        let running = now + scenario.creating;
        let end = running + scenario.running;
        let ending = end
            .saturating_since(Moment::ZERO)
            .saturating_sub(scenario.status_lead);
        let ending = Moment::ZERO + ending.max(running.since_start());
        push(
            &mut events,
            running,
            false,
            "status",
            json!({"runId": id, "status": "RUNNING"}),
        );
        let ms = Duration::from_millis(1);
        push(
            &mut events,
            running + ms,
            true,
            "interaction_update",
            json!({"type": "step-started", "stepId": step0}),
        );
        push(
            &mut events,
            running + ms * 2,
            true,
            "interaction_update",
            json!({"type": "user-message-appended", "userMessage": {"type": "user_message", "session_id": id, "text": prompt}}),
        );
        // Thinking first, a tool call (silent for a while if asked), then the answer.
        let think = running + Duration::from_millis(500);
        push(
            &mut events,
            think,
            true,
            "thinking",
            json!({"text": "Looking at the task."}),
        );
        push(
            &mut events,
            think,
            true,
            "interaction_update",
            json!({"type": "thinking-delta", "text": "Looking at the task."}),
        );
        let tool_start = match scenario.silent_tool {
            Some((after, _)) => running + after,
            None => running + Duration::from_secs(1),
        };
        let tool_len = scenario
            .silent_tool
            .map_or(Duration::from_secs(2), |(_, l)| l);
        let call = format!("call-{}", Self::uuid(state));
        if tool_start < ending {
            push(
                &mut events,
                tool_start,
                true,
                "tool_call",
                json!({"callId": call, "name": "run_terminal_cmd", "status": "running", "args": {"command": "cargo test"}}),
            );
            let done_at = (tool_start + tool_len).min(ending);
            push(
                &mut events,
                done_at,
                true,
                "tool_call",
                json!({"callId": call, "name": "run_terminal_cmd", "status": "completed", "result": {"success": {"stdout": "ok"}}}),
            );
        }
        // The answer, word by word, just before the end.
        let words: Vec<String> = scenario
            .result_text
            .split_inclusive(' ')
            .map(String::from)
            .collect();
        let mut at = ending.max(tool_start + tool_len).min(ending);
        at = Moment::ZERO
            + at.since_start()
                .saturating_sub(Duration::from_millis(10 * (words.len() as u64 + 2)));
        at = at.max(running + ms * 3);
        for w in &words {
            at = at + Duration::from_millis(10);
            push(&mut events, at, true, "assistant", json!({"text": w}));
            push(
                &mut events,
                at,
                true,
                "interaction_update",
                json!({"type": "text-delta", "text": w}),
            );
        }
        push(
            &mut events,
            at + ms,
            true,
            "interaction_update",
            json!({"type": "turn-ended"}),
        );
        for (after, event, data) in &scenario.script {
            let at = (running + *after).min(ending);
            push(&mut events, at, true, event, data.clone());
        }
        // Heartbeats, except while the silent tool runs.
        if let Some(every) = scenario.heartbeat {
            let mut t = now + every;
            while t < end {
                let silent = scenario
                    .silent_tool
                    .is_some_and(|(a, l)| t >= running + a && t < running + a + l);
                if !silent {
                    push(&mut events, t, false, "heartbeat", json!({}));
                }
                t = t + every;
            }
        }
        let end_status = if scenario.end_error {
            "ERROR"
        } else {
            "FINISHED"
        };
        push(
            &mut events,
            ending.max(at + ms * 2),
            false,
            "status",
            json!({"runId": id, "status": "FINISHED"}),
        );
        let text = (!scenario.end_error).then(|| scenario.result_text.clone());
        if !scenario.no_result {
            let mut result = json!({"runId": id, "status": end_status, "durationMs": (end - now).as_millis() as u64});
            if let Some(t) = &text {
                result["text"] = json!(t);
            }
            push(&mut events, end, true, "result", result);
            push(&mut events, end, true, "done", json!({}));
        }
        if let Some(after) = scenario.heartbeats_only_after {
            let from = now + after;
            events.retain(|e| e.at < from || e.event == "heartbeat");
            let every = scenario.heartbeat.unwrap_or(Duration::from_secs(15));
            let mut t = events
                .iter()
                .filter(|e| e.event == "heartbeat")
                .map(|e| e.at + every)
                .max()
                .unwrap_or(from)
                .max(from);
            while t < end + HEARTBEATS_ONLY_FOR {
                push(&mut events, t, false, "heartbeat", json!({}));
                t = t + every;
            }
        }
        events.sort_by_key(|e| e.at);
        SimRun {
            id,
            created: now,
            created_wall: SystemTime::now(),
            drops_left: scenario.drops.clone(),
            stall_left: scenario.stall_at,
            unavailable_left: scenario.unavailable_head,
            settled: false,
            scenario,
            prompt: prompt.to_string(),
            events,
            end,
            end_status,
            text,
        }
    }

    fn git(agent: &SimAgent, run: &SimRun, now: Moment) -> Value {
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

    fn render_run(agent: &SimAgent, run: &SimRun, now: Moment) -> Value {
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

    fn agent_status(agent: &SimAgent, now: Moment) -> &'static str {
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

    fn render_agent(agent: &SimAgent, now: Moment) -> Value {
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

    fn create(&self, state: &mut V1State, request: &Request, key: &str, now: Moment) -> Reply {
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

    fn agent_route(
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

    /// Uploaded as a run ends: listed from 2 s after the first run's end.
    fn artifacts(agent: &SimAgent, now: Moment) -> Vec<Value> {
        match agent.runs.first() {
            Some(r) if now >= r.end + Duration::from_secs(2) && r.end_status == "FINISHED" => vec![
                json!({"path": "artifacts/summary.md", "sizeBytes": 2048, "updatedAt": iso8601_millis(SystemTime::now())}),
            ],
            _ => vec![],
        }
    }

    fn cancel(&self, state: &mut V1State, index: usize, r: usize, now: Moment) -> Reply {
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

    fn stream(
        &self,
        state: &mut V1State,
        index: usize,
        r: usize,
        request: &Request,
        now: Moment,
    ) -> Reply {
        let last = request.header("last-event-id").map(String::from);
        state.connects.push(last);
        let run = &mut state.agents[index].runs[r];
        if run.scenario.expired {
            return error(
                410,
                "stream_expired",
                "Stream has expired; read the run instead",
            );
        }
        let unavailable = run.unavailable_left > 0;
        if unavailable {
            run.unavailable_left -= 1;
            if !run.scenario.unavailable_as_event {
                return error(409, "stream_unavailable", "Stream is not available yet");
            }
        }
        let start = match request.header("last-event-id").filter(|l| !l.is_empty()) {
            None => 0,
            Some(last) => match run
                .events
                .iter()
                .rposition(|e| e.id.as_deref() == Some(last))
            {
                Some(i) => i + 1,
                None => {
                    return error(
                        400,
                        "invalid_last_event_id",
                        "Last-Event-ID must refer to an event within the requested run",
                    );
                }
            },
        };
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, ()>>(64);
        let headers = vec![
            ("content-type".to_string(), "text/event-stream".to_string()),
            ("cache-control".to_string(), "no-cache".to_string()),
            (
                "x-cursor-stream-retention-seconds".to_string(),
                "86400".to_string(),
            ),
        ];
        let body = Arc::new(Mutex::new(Some(rx)));
        let sticky = json!({"runId": run.id, "status": run.status(now)});
        let buffered_by_proxy = run.scenario.buffered;
        let agent_id = state.agents[index].id.clone();
        let run_id = state.agents[index].runs[r].id.clone();
        let this = self.clone();
        let buffered = buffered_by_proxy;
        tokio::spawn(async move {
            if unavailable {
                let e = format!(
                    "event: error\ndata: {}\n\n",
                    json!({"code": "stream_unavailable", "message": "Stream is not available yet"})
                );
                let _ = tx.send(Ok(Bytes::from(e))).await;
                return;
            }
            let sticky = format!("event: status\ndata: {sticky}\n\n");
            if buffered {
                // Everything is held back until the stream ends.
                let (inner, mut held) = tokio::sync::mpsc::channel(64);
                let pump = this.pump(inner, &agent_id, &run_id, start, now);
                let mut all = sticky.into_bytes();
                let collect = async {
                    while let Some(Ok(b)) = held.recv().await {
                        all.extend_from_slice(&b);
                    }
                };
                tokio::select! {
                    _ = async { tokio::join!(pump, collect) } => {}
                    _ = tx.closed() => return,
                }
                let _ = tx.send(Ok(Bytes::from(all))).await;
                return;
            }
            if tx.send(Ok(Bytes::from(sticky))).await.is_err() {
                return;
            }
            this.pump(tx, &agent_id, &run_id, start, now).await;
        });
        Reply::Stream {
            status: 200,
            headers,
            body,
        }
    }

    /// Sends the run's events from `next` on, each at its time.
    async fn pump(
        &self,
        tx: tokio::sync::mpsc::Sender<Result<Bytes, ()>>,
        agent: &str,
        run: &str,
        mut next: usize,
        connected: Moment,
    ) {
        enum Step {
            Send(String, bool),
            Wait(Option<Moment>),
            Drop,
            Stall,
        }
        loop {
            let now = self.clock.now();
            let step = {
                let mut s = self.state.lock().unwrap();
                let Some(r) = s
                    .agents
                    .iter_mut()
                    .find(|a| a.id == agent)
                    .and_then(|a| a.runs.iter_mut().find(|r| r.id == run))
                else {
                    return;
                };
                let rel = |m: Moment| m.saturating_since(r.created);
                let since = rel(now);
                if let Some(i) = r
                    .drops_left
                    .iter()
                    .position(|d| *d <= since && r.created + *d > connected)
                {
                    r.drops_left.remove(i);
                    Step::Drop
                } else if r
                    .stall_left
                    .is_some_and(|d| d <= since && r.created + d > connected)
                {
                    r.stall_left = None;
                    Step::Stall
                } else if next < r.events.len() && r.events[next].at <= now {
                    let mut out = String::new();
                    let mut last = false;
                    while next < r.events.len() && r.events[next].at <= now {
                        out.push_str(&r.events[next].bytes());
                        last = r.events[next].event == "done";
                        next += 1;
                    }
                    Step::Send(out, last)
                } else {
                    let mut wake: Option<Moment> = r.events.get(next).map(|e| e.at);
                    for d in r.drops_left.iter().chain(r.stall_left.iter()) {
                        let at = r.created + *d;
                        if at > connected {
                            wake = Some(wake.map_or(at, |w| w.min(at)));
                        }
                    }
                    Step::Wait(wake)
                }
            };
            match step {
                Step::Send(bytes, last) => {
                    if tx.send(Ok(Bytes::from(bytes))).await.is_err() || last {
                        return;
                    }
                }
                Step::Drop => {
                    let _ = tx.send(Err(())).await;
                    return;
                }
                Step::Stall => {
                    tx.closed().await;
                    return;
                }
                Step::Wait(wake) => {
                    // Cancel may change the timeline: look again at least every second.
                    let wake = wake.map_or(now + Duration::from_secs(1), |w| {
                        w.min(now + Duration::from_secs(1))
                    });
                    tokio::select! {
                        _ = self.clock.sleep_until(wake) => {}
                        _ = tx.closed() => return,
                    }
                }
            }
        }
    }
}
