//! Simulated v1 runs on the clock, followed by the real `StreamFollower`:
//! a scripted in-memory `RunSource` whose streams are modelled on the
//! recordings (`cursor-api.md` §8.5, `tests/fixtures/v1-streams/`).
//!
//! The model, per run:
//! * CREATING for 5–9 s (the first event id of a recorded run came 7 s after
//!   its creation); 1 run in 5 (a follow-up) refuses its first connects with
//!   `409 stream_unavailable` for up to 1.5 s.
//! * Steps until the end: `step-started`, thinking deltas, sometimes
//!   assistant text, a tool call announced `running`, the tool's silence,
//!   `completed`, `step-completed`. Every `thinking`/`assistant`/`tool_call`
//!   has its `interaction_update` twin under the same id, and each delta a
//!   `token-delta`; ids are `<epoch-ms>-<seq>`.
//! * Tools: 60% last 1–15 s, 30% 15 s–2 min, 8% 2–6 min, 2% 6–15 min (CI
//!   waits, long builds). No heartbeat while a tool runs; otherwise one 30 s
//!   after connecting, then every 15 s (the live probe's figures).
//! * The end: final assistant text, `turn-ended`, `step-completed`, then
//!   `status: FINISHED` 5–10 s before the run's record turns FINISHED, when
//!   `result` and `done` (same id) follow and the server closes the stream.
//!   1 run in 50 sends no `result` at all and hangs open, silent: only a read
//!   of the run reveals the end.
//! * Drops ("error decoding response body") at exponential intervals of the
//!   given mean, whether or not bytes are flowing; a resume with
//!   `Last-Event-ID` gets the sticky status, then everything after that id.
//!
//! The run's real end is the moment its record turns FINISHED (a read would
//! say so); the notice delay runs from there to the follower's `Done`.

use bytes::Bytes;
use cursor_api::v1::{Run, RunStatus, V1Body, V1Endpoint, V1Error};
use cursor_api::wait::schedule::PollSchedule;
use cursor_api::wait::stream::{
    ChunkStream, RunSource, StreamConfig, StreamEnd, StreamEvent, StreamFollower,
};
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const AGENT: &str = "bc-5012b32d-8b28-43b8-853f-da1aeba60415";
const RUN: &str = "run-3f18821e-16c5-4408-a9a1-222812408ac7";
/// The first recorded id's clock (2026-08-21).
const EPOCH_MS: u64 = 1_787_331_048_018;

/// One chunk the server sends: an event with its twins (they share an id,
/// so a drop never falls between them).
struct Frame {
    at: Duration,
    id: Option<String>,
    bytes: Bytes,
    /// A tool call is running once this frame is sent.
    tool_running: bool,
}

/// A run's whole history, as the server would stream and report it.
pub struct Script {
    frames: Vec<Frame>,
    creating_until: Duration,
    /// The stream says FINISHED (5–10 s before the end).
    finished_status: Duration,
    /// The record turns FINISHED (the run's real end).
    pub end: Duration,
    /// Connects before this are refused with `409 stream_unavailable`.
    unavailable_until: Duration,
    drops: Vec<Duration>,
    /// No `result`: the stream hangs open after its terminal status.
    pub no_result: bool,
    /// Activity a reader should see exactly once: assistant deltas, tool
    /// calls (announced and completed).
    pub assistant_deltas: u32,
    pub tool_events: u32,
}

struct Builder {
    frames: Vec<Frame>,
    last_ms: u64,
    seq: u32,
    tool_running: bool,
    calls: u32,
}

impl Builder {
    fn id(&mut self, at: Duration) -> String {
        let ms = EPOCH_MS + at.as_millis() as u64;
        if ms == self.last_ms {
            self.seq += 1;
        } else {
            self.last_ms = ms;
            self.seq = 0;
        }
        format!("{ms}-{}", self.seq)
    }

    /// Events sharing one id (an event and its twins).
    fn push(&mut self, at: Duration, events: &[(&str, String)]) {
        let id = self.id(at);
        let mut s = String::new();
        for (event, data) in events {
            s.push_str(&format!("id: {id}\nevent: {event}\ndata: {data}\n\n"));
        }
        self.frames.push(Frame {
            at,
            id: Some(id),
            bytes: Bytes::from(s),
            tool_running: self.tool_running,
        });
    }

    fn status(&mut self, at: Duration, status: &str) {
        self.frames.push(Frame {
            at,
            id: None,
            bytes: Bytes::from(format!(
                "event: status\ndata: {{\"runId\":\"{RUN}\",\"status\":\"{status}\"}}\n\n"
            )),
            tool_running: self.tool_running,
        });
    }

    fn update(&mut self, at: Duration, data: String) {
        self.push(at, &[("interaction_update", data)]);
    }

    /// A delta (`thinking` or `assistant`) with its twin, and its token count.
    fn delta(&mut self, at: Duration, event: &str, twin: &str, text: &str) {
        self.push(
            at,
            &[
                (event, format!("{{\"text\":\"{text}\"}}")),
                (
                    "interaction_update",
                    format!("{{\"type\":\"{twin}\",\"text\":\"{text}\"}}"),
                ),
            ],
        );
        self.update(
            at + Duration::from_millis(3),
            "{\"type\":\"token-delta\",\"tokens\":6}".into(),
        );
    }

    fn tool(&mut self, at: Duration, status: &str) {
        let call = format!(
            "call-d0d6a774-6582-405a-9664-{:012x}-0\\nfc_d2e50e4e-15ef-9ef9-b89e-bd6c3438561e_0",
            self.calls
        );
        let (twin, args) = if status == "running" {
            (
                "tool-call-started",
                ",\"args\":{\"command\":\"cargo test --locked\",\"timeout\":600000}",
            )
        } else {
            (
                "tool-call-completed",
                ",\"result\":{\"success\":{\"command\":\"cargo test --locked\",\"stdout\":\"ok\",\"executionTime\":703}}",
            )
        };
        self.tool_running = status == "running";
        self.push(
            at,
            &[
                (
                    "tool_call",
                    format!("{{\"callId\":\"{call}\",\"name\":\"run_terminal_cmd\",\"status\":\"{status}\"{args}}}"),
                ),
                (
                    "interaction_update",
                    format!("{{\"type\":\"{twin}\",\"callId\":\"{call}\"}}"),
                ),
            ],
        );
    }
}

fn ms(rng: &mut fastrand::Rng, lo: u64, hi: u64) -> Duration {
    Duration::from_millis(rng.u64(lo..hi))
}

impl Script {
    /// A run of about `minutes` (its end shifted by up to a minute), with a
    /// drop every `drop_every` on average.
    pub fn new(minutes: u64, drop_every: Duration, seed: u64) -> Script {
        let mut rng = fastrand::Rng::with_seed(seed);
        let end = Duration::from_secs(minutes * 60) + ms(&mut rng, 0, 60_000);
        let finished_status = end - ms(&mut rng, 5_000, 10_001);
        let no_result = rng.u32(0..50) == 0;
        let creating_until = ms(&mut rng, 5_000, 9_001);
        let unavailable_until = if rng.u32(0..5) == 0 {
            ms(&mut rng, 0, 1_500)
        } else {
            Duration::ZERO
        };
        let mut b = Builder {
            frames: Vec::new(),
            last_ms: 0,
            seq: 0,
            tool_running: false,
            calls: 0,
        };
        let (mut assistant_deltas, mut tool_events) = (0, 0);
        let mut t = creating_until;
        b.status(t, "RUNNING");
        let mut step = 0;
        // The final text takes about 3 s before the terminal status.
        let work_until = finished_status - Duration::from_secs(3);
        while t < work_until {
            b.update(
                t,
                format!("{{\"type\":\"step-started\",\"stepId\":{step}}}"),
            );
            t += ms(&mut rng, 500, 8_000); // thinking before the first token
            for _ in 0..3 {
                t += ms(&mut rng, 3, 400);
                b.delta(t, "thinking", "thinking-delta", " and then");
            }
            t += ms(&mut rng, 5, 50);
            b.update(
                t,
                "{\"type\":\"thinking-completed\",\"thinkingDurationMs\":22}".into(),
            );
            if rng.bool() {
                for _ in 0..2 {
                    t += ms(&mut rng, 3, 200);
                    b.delta(t, "assistant", "text-delta", "Running the tests");
                    assistant_deltas += 1;
                }
            }
            t += ms(&mut rng, 5, 500);
            if t >= work_until {
                break;
            }
            b.tool(t, "running");
            tool_events += 1;
            let tool = match rng.u32(0..100) {
                0..60 => ms(&mut rng, 1_000, 15_000),
                60..90 => ms(&mut rng, 15_000, 120_000),
                90..98 => ms(&mut rng, 120_000, 360_000),
                _ => ms(&mut rng, 360_000, 900_000),
            };
            t = (t + tool).min(work_until);
            b.tool(t, "completed");
            b.calls += 1;
            tool_events += 1;
            t += ms(&mut rng, 5, 100);
            b.update(
                t,
                format!(
                    "{{\"type\":\"step-completed\",\"stepId\":{step},\"stepDurationMs\":3656}}"
                ),
            );
            step += 1;
        }
        // The final answer, with no tool running.
        let mut t = t.max(work_until);
        b.update(
            t,
            format!("{{\"type\":\"step-started\",\"stepId\":{step}}}"),
        );
        for _ in 0..3 {
            t += ms(&mut rng, 3, 300);
            b.delta(t, "assistant", "text-delta", "Done: the tests pass.");
            assistant_deltas += 1;
        }
        t += ms(&mut rng, 100, 200);
        b.update(t, "{\"type\":\"turn-ended\"}".into());
        b.update(
            t + Duration::from_millis(2),
            format!("{{\"type\":\"step-completed\",\"stepId\":{step},\"stepDurationMs\":3656}}"),
        );
        b.status(finished_status, "FINISHED");
        if !no_result {
            b.push(
                end,
                &[
                    (
                        "result",
                        format!(
                            "{{\"runId\":\"{RUN}\",\"status\":\"FINISHED\",\"text\":\"Done: the tests pass.\",\"durationMs\":{},\"git\":{{\"branches\":[{{\"repoUrl\":\"github.com/acme/app\",\"branch\":\"cursor/fix-tests-e2db\"}}]}}}}",
                            end.as_millis()
                        ),
                    ),
                    ("done", "{}".into()),
                ],
            );
        }
        let mut drops = Vec::new();
        let mut d = Duration::ZERO;
        loop {
            // Exponential gaps: a Poisson process of the given mean.
            d += drop_every.mul_f64(-(1.0 - rng.f64()).ln());
            if d > end + Duration::from_secs(600) {
                break;
            }
            drops.push(d);
        }
        Script {
            frames: b.frames,
            creating_until,
            finished_status,
            end,
            unavailable_until,
            drops,
            no_result,
            assistant_deltas,
            tool_events,
        }
    }

    /// What a read of the run says.
    fn record_at(&self, at: Duration) -> &'static str {
        if at < self.creating_until {
            "CREATING"
        } else if at < self.end {
            "RUNNING"
        } else {
            "FINISHED"
        }
    }

    /// The sticky status at the top of a connection: the stream's latest.
    fn sticky_at(&self, at: Duration) -> &'static str {
        if at < self.creating_until {
            "CREATING"
        } else if at < self.finished_status {
            "RUNNING"
        } else {
            "FINISHED"
        }
    }
}

/// The server: counts the follower's requests.
pub struct SimRun {
    script: Rc<Script>,
    clock: Clock,
    start: Moment,
    pub connects: Cell<u32>,
    pub reads: Cell<u32>,
    /// Connects refused at the head (409), connections cut by a drop.
    refused: Cell<u32>,
    dropped: Rc<Cell<u32>>,
}

pub struct SimStream {
    script: Rc<Script>,
    clock: Clock,
    start: Moment,
    sticky: Option<Bytes>,
    pos: usize,
    opened: Duration,
    last_heartbeat: Option<Duration>,
    drop_at: Option<Duration>,
    dropped: Rc<Cell<u32>>,
}

impl SimRun {
    fn now(&self) -> Duration {
        self.clock.now().saturating_since(self.start)
    }
}

impl RunSource for SimRun {
    type Stream = SimStream;

    async fn stream(&self, _: &str, _: &str, last: Option<&str>) -> Result<SimStream, V1Error> {
        self.connects.set(self.connects.get() + 1);
        let now = self.now();
        let s = &self.script;
        if now < s.unavailable_until {
            self.refused.set(self.refused.get() + 1);
            return Err(V1Error::Status {
                endpoint: V1Endpoint::Stream,
                status: 409,
                body: Box::new(V1Body::parse(
                    &Default::default(),
                    br#"{"error":{"code":"stream_unavailable","message":"Run stream is not available yet"}}"#,
                )),
                retry_after: None,
            });
        }
        let pos = match last {
            Some(id) => {
                s.frames
                    .iter()
                    .rposition(|f| f.id.as_deref() == Some(id))
                    .expect("resumed from an id of this run")
                    + 1
            }
            None => 0,
        };
        let status = s.sticky_at(now);
        Ok(SimStream {
            script: s.clone(),
            clock: self.clock,
            start: self.start,
            sticky: Some(Bytes::from(format!(
                "event: status\ndata: {{\"runId\":\"{RUN}\",\"status\":\"{status}\"}}\n\n"
            ))),
            pos,
            opened: now,
            last_heartbeat: None,
            drop_at: s.drops.iter().copied().find(|d| *d > now),
            dropped: self.dropped.clone(),
        })
    }

    async fn run(&self, agent: &str, run: &str) -> Result<Run, V1Error> {
        self.reads.set(self.reads.get() + 1);
        let status = RunStatus::parse(self.script.record_at(self.now()));
        let done = status.is_terminal();
        Ok(Run {
            result: done.then(|| "Done: the tests pass.".into()),
            ..Run::new(run, agent, status)
        })
    }
}

impl ChunkStream for SimStream {
    async fn chunk(&mut self) -> Result<Option<Bytes>, V1Error> {
        if let Some(b) = self.sticky.take() {
            return Ok(Some(b));
        }
        let s = self.script.clone();
        let next = s.frames.get(self.pos).map(|f| f.at);
        let quiet = self.pos.checked_sub(1).map_or(
            // Before any frame: quiet unless the run has ended (no result).
            s.frames.is_empty(),
            |p| s.frames[p].tool_running,
        );
        let ended = self.pos == s.frames.len();
        if ended && !s.no_result {
            return Ok(None); // after `done` the server closes
        }
        let heartbeat = (!quiet && !ended).then(|| match self.last_heartbeat {
            None => self.opened + Duration::from_secs(30),
            Some(h) => h + Duration::from_secs(15),
        });
        let wake = [next, heartbeat, self.drop_at].into_iter().flatten().min();
        let Some(wake) = wake else {
            std::future::pending::<()>().await;
            unreachable!()
        };
        // The only await: dropped mid-sleep, nothing has changed.
        self.clock.sleep_until(self.start + wake).await;
        if Some(wake) == self.drop_at {
            self.dropped.set(self.dropped.get() + 1);
            return Err(V1Error::Transport {
                endpoint: V1Endpoint::Stream,
                maybe_sent: true,
                message: "error decoding response body".into(),
            });
        }
        if next == Some(wake) {
            // Everything due at once (a replay comes in one go).
            let mut out = Vec::new();
            while let Some(f) = s.frames.get(self.pos)
                && f.at <= wake
            {
                out.extend_from_slice(&f.bytes);
                self.pos += 1;
            }
            return Ok(Some(Bytes::from(out)));
        }
        self.last_heartbeat = Some(wake);
        Ok(Some(Bytes::from_static(b"event: heartbeat\ndata: {}\n\n")))
    }
}

pub struct StreamTrial {
    pub requests: u32,
    /// Of which reads of the run, connects refused at the head (409), and
    /// reconnects after a drop; the rest are the first connect and
    /// replacements of a connection silent for `DEAD_AFTER`.
    pub reads: u32,
    pub refused: u32,
    pub dropped: u32,
    /// The follower gave the stream up and read the run instead.
    pub fell_back: bool,
    /// The run's real length (creation to end).
    pub length: Duration,
}

/// Follows one run with the real follower to its end.
pub async fn stream_trial(minutes: u64, drop_every: Duration, seed: u64) -> StreamTrial {
    let script = Rc::new(Script::new(minutes, drop_every, seed));
    let clock = Clock::real();
    let start = clock.now();
    let source = SimRun {
        script: script.clone(),
        clock,
        start,
        connects: Cell::new(0),
        reads: Cell::new(0),
        refused: Cell::new(0),
        dropped: Rc::new(Cell::new(0)),
    };
    let config = StreamConfig {
        schedule: PollSchedule::new(Duration::from_secs(10), Duration::from_secs(60)),
        started: start,
        deadline: start + Duration::from_secs(6 * 3600),
    };
    let mut f = StreamFollower::new(&source, AGENT, RUN, config, clock, Cancel::new());
    let (mut assistant, mut tools, mut fell_back) = (0, 0, false);
    let end = loop {
        match f.next().await {
            StreamEvent::Done(end) => break end,
            StreamEvent::Assistant(_) => assistant += 1,
            StreamEvent::ToolCall { .. } => tools += 1,
            StreamEvent::FallingBack { .. } => fell_back = true,
            _ => {}
        }
    };
    let noticed = clock.now().saturating_since(start);
    let StreamEnd::Ended { run, confirmed, .. } = &end else {
        panic!("seed {seed}: {end:?}");
    };
    assert_eq!(run.status, RunStatus::Finished, "seed {seed}");
    assert!(*confirmed, "seed {seed}");
    assert!(
        noticed >= script.end,
        "seed {seed}: reported before the end"
    );
    // Resumes lose nothing and repeat nothing (after a fall-back to reads,
    // the rest of the activity is not streamed: nothing is repeated).
    if fell_back {
        assert!(
            assistant <= script.assistant_deltas,
            "seed {seed}: assistant"
        );
        assert!(tools <= script.tool_events, "seed {seed}: tool calls");
    } else {
        assert_eq!(assistant, script.assistant_deltas, "seed {seed}: assistant");
        assert_eq!(tools, script.tool_events, "seed {seed}: tool calls");
    }
    let requests = source.connects.get() + source.reads.get();
    assert_eq!(requests, f.requests(), "seed {seed}");
    StreamTrial {
        requests,
        reads: source.reads.get(),
        refused: source.refused.get(),
        dropped: source.dropped.get(),
        fell_back,
        length: script.end,
    }
}
