//! A stateful simulator of the Cursor v0 API (`docs/`: spec §3–§7, §10, §11).
//! Agents live on the simulator's clock: CREATING, then RUNNING (the branch
//! appears), then FINISHED with a summary and PR, or ERROR/EXPIRED, as the
//! repository's scenario says. Faults are injected per request.
//!
//! Here: the state, the control surface tests use and the request handler.
//! [`scenario`]: how agents behave; [`agent`]: one agent on the clock;
//! [`routes`]: the REST and control routes; [`render`]: JSON and error
//! replies; [`validate`]: request checks, Zod style, as the real API answers.

mod agent;
mod render;
mod routes;
mod scenario;
mod validate;

pub use scenario::{EndStatus, HOSTILE_SUMMARY, Refusal, Scenario, SimArtifact};

use crate::faults::{FaultRule, take};
use crate::host::RepoHost;
use crate::log::{LoggedRequest, log_entry};
use crate::server::{Handler, Reply, Request};
use agent::SimAgent;
use kit::clock::{Clock, Moment};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

#[cfg(test)]
mod tests {
    use super::*;

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
