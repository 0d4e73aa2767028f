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
//!
//! Here: the state and the control surface tests use. [`scenario`]: how
//! runs behave; [`timeline`]: a run's events, fixed at creation;
//! [`routes`]: the REST routes; [`stream`]: the SSE stream; [`render`]: JSON
//! as of a moment; [`validate`]: request checks and error replies.

mod render;
mod routes;
mod scenario;
mod stream;
mod timeline;
mod validate;

pub use scenario::{V1Scenario, V1ScenarioJson};

use crate::host::{RepoHost, pull_url};
use kit::clock::{Clock, Moment};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How long a heartbeat-only stream goes on after its run's end.
const HEARTBEATS_ONLY_FOR: Duration = Duration::from_secs(6 * 3600);

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
}
