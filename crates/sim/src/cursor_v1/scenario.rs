//! How v1 runs behave ([`V1Scenario`]), and the scenario as the control API takes it.

use serde_json::Value;
use std::time::Duration;

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
