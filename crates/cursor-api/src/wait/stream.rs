//! Following a v1 run over its SSE stream, pulled like [`super::Waiter`]:
//! each [`StreamFollower::next`] returns the next thing worth telling.
//!
//! The rules (`cursor-api.md` §8.5, issue #17):
//! * The outcome comes from `result`, or from a read of the run; never from
//!   the last `status` event. A terminal `status` with no `result` behind it
//!   is confirmed by reading the run after [`QUIET_CONFIRM`] of quiet
//!   (re-read up to [`CONFIRM_READS`] times; if the record stays running,
//!   the run is reported as ended, unconfirmed).
//! * Events carrying an id are processed once, by (id, event, data): twins
//!   share ids, so an id alone is not a key. Activity comes from `assistant`
//!   and `tool_call` only; `interaction_update` twins are used for nothing
//!   but the "turn ended" hint, so activity is never doubled.
//! * Silence is not death. Heartbeats may never come while a tool runs.
//!   Only after [`DEAD_AFTER`] without a byte is the connection replaced
//!   (resuming with `Last-Event-ID`); the reconnect's sticky `status` is the
//!   liveness check. A run silent for 10 minutes costs at most 2 reconnects;
//!   a silently dead connection is noticed within [`DEAD_AFTER`]. When the
//!   stream says the turn ended (an `assistant` answer or `turn-ended` with no
//!   tool running), one run read after [`HINT_QUIET`] catches a `result`
//!   that is late.
//! * Noise is not news. A stream can keep sending heartbeats while nothing
//!   else comes, even after its run has ended (issue #23: FINISHED 3.5 s in,
//!   then heartbeats only). Bytes flowing never prove the run is alive: while
//!   only heartbeats arrive, the run is read [`NOISE_READ_EVERY`] (2 min)
//!   after the last event that said something, and every [`NOISE_READ_EVERY`]
//!   after that for as long as heartbeats are all that comes. A run that ends
//!   behind heartbeats is reported within [`NOISE_READ_EVERY`] of its end
//!   (plus [`MIN_READ_INTERVAL`] at worst); a heartbeat-only hour costs 30
//!   reads. Silence (no byte at all) is still the reconnect's business, so a
//!   silent tool costs no read. At the deadline the caller reads the run once
//!   more (`flow::watch`): a terminal status read back wins over `timeout`.
//! * `stream_unavailable` before any content (409, or a first `error` event)
//!   is retried [`HEAD_RETRIES`] times [`HEAD_RETRY_EVERY`] apart; after
//!   content it means the stream went away: resume. `invalid_last_event_id`
//!   → from the start, skipping what was seen. Drops resume with backoff
//!   0.5 → 8 s; more than [`MAX_FAILURES`] failed connections in a row,
//!   `410 stream_expired`, or a connection that stays byte-less for
//!   [`BUFFERED_AFTER`] twice (a buffering proxy) → read the run on the poll
//!   schedule instead, said once.
//! * Reads of the run: at most one per [`MIN_READ_INTERVAL`], `Retry-After`
//!   honoured. Cancellation and the deadline end it at once.

use super::schedule::{Phase, PollSchedule};
use crate::error::ErrorClass;
use crate::retry::{Backoff, delay_for};
use crate::v1::sse::{SseEvent, SseParser};
use crate::v1::{Git, Run, RunStatus, RunStream, V1Client, V1Error};
use bytes::Bytes;
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
use kit::secret::Redactor;
use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::time::Duration;

/// Where the follower reads the run from: the v1 client, or (benchmarks,
/// tests) a model of it.
pub trait RunSource {
    type Stream: ChunkStream;
    /// Opens the run's stream, resuming after `last_event_id`.
    fn stream(
        &self,
        agent: &str,
        run: &str,
        last_event_id: Option<&str>,
    ) -> impl Future<Output = Result<Self::Stream, V1Error>>;
    /// Reads the run.
    fn run(&self, agent: &str, run: &str) -> impl Future<Output = Result<Run, V1Error>>;
    /// What knows the source's credential: an `error` event's text is made
    /// printable with it, as the client does for error bodies.
    fn redactor(&self) -> Redactor {
        Redactor::new()
    }
}

/// An open stream's body, in chunks split anywhere.
pub trait ChunkStream {
    /// The next bytes; `None` when the server closed the stream.
    fn chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, V1Error>>;
}

impl RunSource for V1Client {
    type Stream = RunStream;

    fn stream(
        &self,
        agent: &str,
        run: &str,
        last_event_id: Option<&str>,
    ) -> impl Future<Output = Result<RunStream, V1Error>> {
        V1Client::stream(self, agent, run, last_event_id)
    }

    fn run(&self, agent: &str, run: &str) -> impl Future<Output = Result<Run, V1Error>> {
        V1Client::run(self, agent, run)
    }

    fn redactor(&self) -> Redactor {
        V1Client::redactor(self).clone()
    }
}

impl ChunkStream for RunStream {
    fn chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, V1Error>> {
        RunStream::chunk(self)
    }
}

/// Quiet after a terminal `status` before the run is read to confirm it.
pub const QUIET_CONFIRM: Duration = Duration::from_secs(10);
/// Confirmation reads before a run whose record stays RUNNING is reported
/// as ended, unconfirmed.
pub(crate) const CONFIRM_READS: u32 = 3;
/// Quiet after the stream says the turn ended before one run read.
pub(crate) const HINT_QUIET: Duration = Duration::from_secs(30);
/// No byte for this long: the connection is replaced.
pub const DEAD_AFTER: Duration = Duration::from_secs(300);
/// A new connection with no byte (not even the sticky status) for this long
/// is being buffered or is dead.
pub const BUFFERED_AFTER: Duration = Duration::from_secs(30);
/// `stream_unavailable` at the head: retries and their spacing.
pub(crate) const HEAD_RETRIES: u32 = 5;
pub(crate) const HEAD_RETRY_EVERY: Duration = Duration::from_millis(400);
/// Failed connections in a row (since one delivered content) before
/// falling back to reads.
pub(crate) const MAX_FAILURES: u32 = 5;
/// Reads of the run are at least this far apart.
pub const MIN_READ_INTERVAL: Duration = Duration::from_secs(10);
/// At most one heartbeat line per this long.
pub(crate) const HEARTBEAT_EVERY: Duration = Duration::from_secs(60);
/// While only heartbeats arrive, the run is read this long after the last
/// event that said something, then again every this long.
pub(crate) const NOISE_READ_EVERY: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy)]
pub struct StreamConfig {
    /// The fallback reads' schedule (the `poll-interval` inputs).
    pub schedule: PollSchedule,
    pub started: Moment,
    pub deadline: Moment,
}

/// How following ended.
#[derive(Debug, Clone)]
pub enum StreamEnd {
    /// The run ended. `run` comes from `result` or from a read; `text` is
    /// `result.text`, else the run's `result`, else the `assistant` deltas.
    /// `confirmed` is false when the stream said the run ended but its
    /// record kept saying otherwise.
    Ended {
        run: Run,
        text: Option<String>,
        confirmed: bool,
    },
    Deadline,
    Cancelled,
    Failed(V1Error),
}

#[derive(Debug, Clone)]
pub enum StreamEvent {
    /// The first status seen and every change (from the stream or a read).
    Status(RunStatus),
    /// Assistant text (a delta; concatenate).
    Assistant(String),
    /// A tool call started or completed. `call_id` is untrusted (it may
    /// contain a newline).
    ToolCall {
        call_id: String,
        name: String,
        completed: bool,
        /// The call's arguments as sent (untrusted), when the frame has them.
        args: Option<serde_json::Value>,
    },
    Heartbeat {
        elapsed: Duration,
        status: Option<RunStatus>,
    },
    Retrying {
        error: V1Error,
        wait: Duration,
    },
    /// The stream is given up; the run is read on the poll schedule (said once).
    FallingBack {
        reason: String,
    },
    Done(StreamEnd),
}

pub struct StreamFollower<'a, S: RunSource = V1Client> {
    client: &'a S,
    agent: String,
    run: String,
    config: StreamConfig,
    clock: Clock,
    cancel: Cancel,
    rng: fastrand::Rng,
    queue: VecDeque<StreamEvent>,
    done: bool,
    conn: Option<S::Stream>,
    parser: SseParser,
    last_id: Option<String>,
    seen: HashSet<(String, String, String)>,
    content_seen: bool,
    head_retries: u32,
    failures: u32,
    buffered: u32,
    restarted: bool,
    reconnect_at: Moment,
    conn_opened: Moment,
    conn_bytes: u64,
    last_bytes: Moment,
    status: Option<RunStatus>,
    text: String,
    tools_running: HashSet<String>,
    ending_since: Option<Moment>,
    confirm_reads: u32,
    hint_since: Option<Moment>,
    fallback: Option<String>,
    polls: u32,
    next_read: Moment,
    last_heartbeat: Moment,
    requests: u32,
    /// The last event that said something (new content, a status change),
    /// or the last read made because only heartbeats came since.
    quiet_since: Moment,
    /// A heartbeat arrived since `quiet_since`.
    noise: bool,
}

impl<'a, S: RunSource> StreamFollower<'a, S> {
    pub fn new(
        client: &'a S,
        agent: &str,
        run: &str,
        config: StreamConfig,
        clock: Clock,
        cancel: Cancel,
    ) -> Self {
        let now = clock.now();
        Self {
            client,
            agent: agent.to_string(),
            run: run.to_string(),
            config,
            clock,
            cancel,
            rng: fastrand::Rng::new(),
            queue: VecDeque::new(),
            done: false,
            conn: None,
            parser: SseParser::new(),
            last_id: None,
            seen: HashSet::new(),
            content_seen: false,
            head_retries: 0,
            failures: 0,
            buffered: 0,
            restarted: false,
            reconnect_at: now,
            conn_opened: now,
            conn_bytes: 0,
            last_bytes: now,
            status: None,
            text: String::new(),
            tools_running: HashSet::new(),
            ending_since: None,
            confirm_reads: 0,
            hint_since: None,
            fallback: None,
            polls: 0,
            next_read: now,
            last_heartbeat: now,
            requests: 0,
            quiet_since: now,
            noise: false,
        }
    }

    /// Cursor requests made so far (connects and reads).
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// The id resumes start after.
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Whether the stream was given up for reads.
    pub fn fell_back(&self) -> bool {
        self.fallback.is_some()
    }

    pub async fn next(&mut self) -> StreamEvent {
        if self.done {
            return StreamEvent::Done(StreamEnd::Deadline);
        }
        loop {
            if let Some(e) = self.queue.pop_front() {
                if matches!(e, StreamEvent::Done(_)) {
                    self.done = true;
                    self.conn = None;
                }
                return e;
            }
            if self.cancel.is_cancelled() {
                return self.finish(StreamEnd::Cancelled);
            }
            let now = self.clock.now();
            if now >= self.config.deadline {
                return self.finish(StreamEnd::Deadline);
            }
            if now.saturating_since(self.last_heartbeat) >= HEARTBEAT_EVERY {
                self.last_heartbeat = now;
                return StreamEvent::Heartbeat {
                    elapsed: now.saturating_since(self.config.started),
                    status: self.status.clone(),
                };
            }
            if self.fallback.is_some() {
                self.fallback_step().await;
            } else if self.conn.is_none() {
                self.connect_step().await;
            } else {
                self.read_step().await;
            }
        }
    }

    fn finish(&mut self, end: StreamEnd) -> StreamEvent {
        self.done = true;
        self.conn = None;
        StreamEvent::Done(end)
    }

    fn end(&mut self, run: Run, confirmed: bool) {
        let text = run
            .result
            .clone()
            .or_else(|| (!self.text.is_empty()).then(|| self.text.clone()));
        self.queue.push_back(StreamEvent::Done(StreamEnd::Ended {
            run,
            text,
            confirmed,
        }));
    }

    /// Sleeps until `at` (or the deadline, the heartbeat or cancellation).
    async fn sleep_until(&self, at: Moment) {
        let wake = at
            .min(self.config.deadline)
            .min(self.last_heartbeat + HEARTBEAT_EVERY);
        tokio::select! {
            _ = self.clock.sleep_until(wake) => {}
            _ = self.cancel.cancelled() => {}
        }
    }

    fn fall_back(&mut self, reason: &str) {
        self.conn = None;
        if self.fallback.is_none() {
            tracing::info!("following the run by reading it instead of its stream: {reason}");
            self.fallback = Some(reason.to_string());
            self.queue.push_back(StreamEvent::FallingBack {
                reason: reason.to_string(),
            });
        }
    }

    fn set_status(&mut self, status: RunStatus) {
        if self.status.as_ref() != Some(&status) {
            self.status = Some(status.clone());
            self.queue.push_back(StreamEvent::Status(status));
        }
    }

    fn backoff(&mut self, error: &V1Error, attempt: u32) -> Duration {
        let b = Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
        };
        delay_for(&error.as_v0(), attempt, &b, self.rng.f64()).unwrap_or(b.cap)
    }

    async fn connect_step(&mut self) {
        if self.clock.now() < self.reconnect_at {
            self.sleep_until(self.reconnect_at).await;
            return;
        }
        self.requests += 1;
        let attempt = self
            .client
            .stream(&self.agent, &self.run, self.last_id.as_deref());
        let result = tokio::select! {
            r = attempt => r,
            _ = self.cancel.cancelled() => return,
        };
        let now = self.clock.now();
        match result {
            Ok(stream) => {
                self.conn = Some(stream);
                self.parser = SseParser::new();
                self.conn_opened = now;
                self.conn_bytes = 0;
                self.last_bytes = now;
            }
            Err(e) => self.connect_failed(e, now),
        }
    }

    fn connect_failed(&mut self, e: V1Error, now: Moment) {
        let code = e.code().map(str::to_string);
        match (e.status(), code.as_deref()) {
            (_, Some("stream_unavailable")) | (Some(409), None) if !self.content_seen => {
                self.head_unavailable(e, now)
            }
            (_, Some("invalid_last_event_id")) if !self.restarted => {
                // From the start; what was seen is skipped by `seen`.
                self.restarted = true;
                self.last_id = None;
                self.reconnect_at = now;
            }
            (Some(410), _) | (_, Some("stream_expired")) => {
                self.fall_back("the run's stream has expired (410)")
            }
            _ if e.class() == ErrorClass::Fatal && matches!(e.status(), Some(401 | 403 | 404)) => {
                self.queue
                    .push_back(StreamEvent::Done(StreamEnd::Failed(e)));
            }
            _ => self.failed_connection(e, now),
        }
    }

    fn head_unavailable(&mut self, e: V1Error, now: Moment) {
        self.conn = None;
        self.head_retries += 1;
        if self.head_retries > HEAD_RETRIES {
            self.fall_back("the run's stream stayed unavailable");
        } else {
            self.reconnect_at = now + HEAD_RETRY_EVERY;
            self.queue.push_back(StreamEvent::Retrying {
                error: e,
                wait: HEAD_RETRY_EVERY,
            });
        }
    }

    fn failed_connection(&mut self, e: V1Error, now: Moment) {
        // A connection that carried bytes and held past the buffering check
        // was working: during a silent tool no event has an id to reset the
        // count, so without this, drops minutes apart would add up to
        // "failed repeatedly".
        let held =
            self.conn.is_some() && self.conn_bytes > 0 && now >= self.conn_opened + BUFFERED_AFTER;
        if held {
            self.failures = 0;
        }
        self.conn = None;
        self.failures += 1;
        if self.failures > MAX_FAILURES {
            self.fall_back("the run's stream failed repeatedly");
            return;
        }
        let wait = self.backoff(&e, self.failures - 1);
        self.reconnect_at = now + wait;
        self.queue
            .push_back(StreamEvent::Retrying { error: e, wait });
    }

    /// The next timer while a connection is open.
    fn timer(&self) -> Moment {
        let mut at = self.last_bytes + DEAD_AFTER;
        if self.conn_bytes == 0 {
            at = at.min(self.conn_opened + BUFFERED_AFTER);
        }
        if let Some(e) = self.ending_since {
            at = at.min((e + QUIET_CONFIRM * (1 << self.confirm_reads.min(4))).max(self.next_read));
        }
        if let Some(h) = self.hint_since {
            at = at.min((h + HINT_QUIET).max(self.next_read));
        }
        if self.noise {
            at = at.min((self.quiet_since + NOISE_READ_EVERY).max(self.next_read));
        }
        at
    }

    /// Something happened: the quiet (and its noise) starts over.
    fn news(&mut self, now: Moment) {
        self.quiet_since = now;
        self.noise = false;
    }

    async fn read_step(&mut self) {
        let timer = self.timer();
        let wake = timer
            .min(self.config.deadline)
            .min(self.last_heartbeat + HEARTBEAT_EVERY);
        let conn = self.conn.as_mut().expect("connected");
        let chunk = tokio::select! {
            c = conn.chunk() => Some(c),
            _ = self.clock.sleep_until(wake) => None,
            _ = self.cancel.cancelled() => return,
        };
        let now = self.clock.now();
        match chunk {
            Some(Ok(Some(bytes))) => {
                self.last_bytes = now;
                self.conn_bytes += bytes.len() as u64;
                match self.parser.feed(&bytes) {
                    Ok(events) => {
                        for e in events {
                            self.process(e, now);
                            if self.conn.is_none()
                                || self.queue.iter().any(|e| matches!(e, StreamEvent::Done(_)))
                            {
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::debug!("run stream: {e}; reconnecting");
                        self.failed_connection(
                            V1Error::Decode {
                                endpoint: crate::v1::V1Endpoint::Stream,
                                status: 200,
                                message: e.to_string(),
                            },
                            now,
                        );
                    }
                }
            }
            Some(Ok(None)) => {
                // Closed without `result`: resume (the read timers still run).
                self.parser.finish();
                let e = V1Error::Transport {
                    endpoint: crate::v1::V1Endpoint::Stream,
                    maybe_sent: true,
                    message: "the stream ended without a result".into(),
                };
                if self.ending_since.is_some() {
                    // Ended after a terminal status: confirm by a read now.
                    self.conn = None;
                    self.confirm(now).await;
                } else {
                    self.failed_connection(e, now);
                }
            }
            Some(Err(e)) => self.failed_connection(e, now),
            None => self.on_timer(now).await,
        }
    }

    async fn on_timer(&mut self, now: Moment) {
        if now >= self.config.deadline
            || now.saturating_since(self.last_heartbeat) >= HEARTBEAT_EVERY
        {
            return;
        }
        if self.conn_bytes == 0 && now >= self.conn_opened + BUFFERED_AFTER {
            self.buffered += 1;
            if self.buffered >= 2 {
                self.fall_back("the run's stream delivers nothing (a proxy may be buffering it)");
            } else {
                self.conn = None;
                self.reconnect_at = now;
            }
            return;
        }
        if now >= self.last_bytes + DEAD_AFTER {
            // Replace a silent connection; not a failure.
            tracing::debug!(
                "run stream silent for {}s; reconnecting",
                DEAD_AFTER.as_secs()
            );
            self.conn = None;
            self.reconnect_at = now;
            return;
        }
        if let Some(e) = self.ending_since
            && now >= e + QUIET_CONFIRM * (1 << self.confirm_reads.min(4))
        {
            self.confirm(now).await;
            return;
        }
        if self.noise && now >= self.quiet_since + NOISE_READ_EVERY {
            // Heartbeats only since the last news: ask the run itself.
            self.news(now);
            if let Some(run) = self.read_run().await
                && run.status.is_terminal()
            {
                self.set_status(run.status.clone());
                self.end(run, true);
            }
            return;
        }
        if let Some(h) = self.hint_since
            && now >= h + HINT_QUIET
        {
            self.hint_since = None;
            if let Some(run) = self.read_run().await
                && run.status.is_terminal()
            {
                self.set_status(run.status.clone());
                self.end(run, true);
            }
        }
    }

    /// A read after a terminal `status` with no `result`.
    async fn confirm(&mut self, _now: Moment) {
        self.confirm_reads += 1;
        let Some(run) = self.read_run().await else {
            return;
        };
        if run.status.is_terminal() {
            self.set_status(run.status.clone());
            self.end(run, true);
        } else if self.confirm_reads >= CONFIRM_READS {
            self.end(run, false);
        }
    }

    /// Reads the run, at most once per [`MIN_READ_INTERVAL`].
    async fn read_run(&mut self) -> Option<Run> {
        if self.clock.now() < self.next_read {
            self.sleep_until(self.next_read).await;
            if self.cancel.is_cancelled() || self.clock.now() < self.next_read {
                return None;
            }
        }
        self.requests += 1;
        let result = tokio::select! {
            r = self.client.run(&self.agent, &self.run) => r,
            _ = self.cancel.cancelled() => return None,
        };
        let now = self.clock.now();
        self.next_read = now + MIN_READ_INTERVAL;
        match result {
            Ok(run) => Some(run),
            Err(e) => {
                if e.class() == ErrorClass::Fatal {
                    self.queue
                        .push_back(StreamEvent::Done(StreamEnd::Failed(e)));
                    return None;
                }
                let wait = self.backoff(&e, self.polls).max(MIN_READ_INTERVAL);
                self.next_read = now + wait;
                self.queue
                    .push_back(StreamEvent::Retrying { error: e, wait });
                None
            }
        }
    }

    async fn fallback_step(&mut self) {
        let Some(run) = self.read_run().await else {
            return;
        };
        self.set_status(run.status.clone());
        if run.status.is_terminal() {
            self.end(run, true);
            return;
        }
        let phase = if run.status == RunStatus::Creating {
            Phase::Creating {
                for_: self.clock.now().saturating_since(self.config.started),
            }
        } else {
            self.polls += 1;
            Phase::Running {
                polls: self.polls - 1,
            }
        };
        let delay = self.config.schedule.delay(phase, self.rng.f64());
        self.next_read = self.next_read.max(self.clock.now() + delay);
    }

    fn process(&mut self, e: SseEvent, now: Moment) {
        if let Some(id) = &e.id {
            if !self
                .seen
                .insert((id.clone(), e.event.clone(), e.data.clone()))
            {
                return;
            }
            self.last_id = Some(id.clone());
            if e.event != "heartbeat" {
                self.news(now);
            }
            self.content_seen = true;
            self.failures = 0;
            self.head_retries = 0;
        }
        let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
        let str_of = |k: &str| data.get(k).and_then(|v| v.as_str()).map(str::to_string);
        match e.event.as_str() {
            "status" => {
                if let Some(s) = str_of("status") {
                    let s = RunStatus::parse(&s);
                    if s.is_terminal() {
                        self.ending_since.get_or_insert(now);
                    } else {
                        self.ending_since = None;
                        self.confirm_reads = 0;
                    }
                    // The sticky status of a reconnect repeats what is known.
                    if self.status.as_ref() != Some(&s) {
                        self.news(now);
                    }
                    self.set_status(s);
                }
            }
            "heartbeat" => self.noise = true,
            "assistant" => {
                if let Some(t) = str_of("text") {
                    self.text.push_str(&t);
                    if self.tools_running.is_empty() {
                        self.hint_since = Some(now);
                    }
                    self.queue.push_back(StreamEvent::Assistant(t));
                }
            }
            "tool_call" => {
                let call_id = str_of("callId").unwrap_or_default();
                let completed = str_of("status").as_deref() == Some("completed");
                if completed {
                    self.tools_running.remove(&call_id);
                } else {
                    self.tools_running.insert(call_id.clone());
                    self.hint_since = None;
                }
                self.queue.push_back(StreamEvent::ToolCall {
                    call_id,
                    name: str_of("name").unwrap_or_default(),
                    completed,
                    args: data.get("args").filter(|a| !a.is_null()).cloned(),
                });
            }
            // Twins of the simplified events: only the end-of-turn hint is used.
            "interaction_update"
                if matches!(str_of("type").as_deref(), Some("turn-ended"))
                    && self.tools_running.is_empty() =>
            {
                self.hint_since = Some(now);
            }
            "result" => {
                let status = RunStatus::parse(&str_of("status").unwrap_or_default());
                let run = Run {
                    duration_ms: data.get("durationMs").and_then(|v| v.as_u64()),
                    result: str_of("text"),
                    git: data
                        .get("git")
                        .and_then(|g| serde_json::from_value::<Git>(g.clone()).ok()),
                    ..Run::new(
                        str_of("runId").unwrap_or_else(|| self.run.clone()),
                        self.agent.clone(),
                        status.clone(),
                    )
                };
                self.set_status(status);
                self.end(run, true);
            }
            "done" => {
                // `done` without `result`: confirm by a read at once.
                self.ending_since = Some(Moment::ZERO);
            }
            "error" => {
                let err = V1Error::Status {
                    endpoint: crate::v1::V1Endpoint::Stream,
                    status: 200,
                    body: Box::new(crate::v1::V1Body::parse(
                        &self.client.redactor(),
                        e.data.as_bytes(),
                    )),
                    retry_after: None,
                };
                if str_of("code").as_deref() == Some("stream_unavailable") && !self.content_seen {
                    self.head_unavailable(err, now);
                } else {
                    // The stream went away: resume.
                    self.failed_connection(err, now);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    const NO_TOOLS: &[u8] = include_bytes!("../../../../tests/fixtures/v1-streams/no_tools.sse");
    const AGENT: &str = "bc-5012b32d-8b28-43b8-853f-da1aeba60415";
    const RUN: &str = "run-3f18821e-16c5-4408-a9a1-222812408ac7";

    /// Serves `body` one byte per chunk, then ends; the run reads as `status`.
    struct Scripted {
        body: Vec<u8>,
        status: RunStatus,
        connects: RefCell<Vec<Option<String>>>,
        reads: RefCell<u32>,
    }

    struct Bytewise(VecDeque<u8>);

    impl ChunkStream for Bytewise {
        async fn chunk(&mut self) -> Result<Option<Bytes>, V1Error> {
            Ok(self.0.pop_front().map(|b| Bytes::from(vec![b])))
        }
    }

    impl RunSource for Scripted {
        type Stream = Bytewise;

        async fn stream(&self, _: &str, _: &str, last: Option<&str>) -> Result<Bytewise, V1Error> {
            self.connects.borrow_mut().push(last.map(String::from));
            Ok(Bytewise(self.body.iter().copied().collect()))
        }

        async fn run(&self, agent: &str, run: &str) -> Result<Run, V1Error> {
            *self.reads.borrow_mut() += 1;
            Ok(Run {
                result: Some("Paris".into()),
                ..Run::new(run, agent, self.status.clone())
            })
        }
    }

    async fn follow(source: &Scripted) -> (StreamEnd, Vec<StreamEvent>) {
        let clock = Clock::real();
        let now = clock.now();
        let config = StreamConfig {
            schedule: PollSchedule::new(Duration::from_secs(10), Duration::from_secs(60)),
            started: now,
            deadline: now + Duration::from_secs(3600),
        };
        let mut f = StreamFollower::new(source, AGENT, RUN, config, clock, Cancel::new());
        let mut events = Vec::new();
        loop {
            match f.next().await {
                StreamEvent::Done(end) => return (end, events),
                e => events.push(e),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_recording_byte_by_byte_ends_from_result_without_a_read() {
        let source = Scripted {
            body: [NO_TOOLS, b"\n"].concat(),
            status: RunStatus::Running,
            connects: RefCell::default(),
            reads: RefCell::default(),
        };
        let (end, events) = follow(&source).await;
        let StreamEnd::Ended { run, text, .. } = end else {
            panic!("{end:?}");
        };
        assert_eq!(run.status, RunStatus::Finished);
        assert_eq!(text.as_deref(), Some("Paris"));
        assert_eq!(*source.reads.borrow(), 0);
        let assistant: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, StreamEvent::Assistant(_)))
            .collect();
        assert_eq!(assistant.len(), 1, "twins ignored");
    }

    /// The recording up to `cut`, then a heartbeat every 15 s forever; the
    /// run reads FINISHED from `ends_at` on (issue #23).
    struct Noisy {
        prefix: Vec<u8>,
        ends_at: Moment,
        clock: Clock,
        reads: RefCell<Vec<Duration>>,
    }

    struct Heartbeats {
        prefix: Option<Vec<u8>>,
        clock: Clock,
    }

    impl ChunkStream for Heartbeats {
        async fn chunk(&mut self) -> Result<Option<Bytes>, V1Error> {
            if let Some(p) = self.prefix.take() {
                return Ok(Some(Bytes::from(p)));
            }
            self.clock.sleep(Duration::from_secs(15)).await;
            Ok(Some(Bytes::from_static(b"event: heartbeat\ndata: {}\n\n")))
        }
    }

    impl RunSource for Noisy {
        type Stream = Heartbeats;

        async fn stream(&self, _: &str, _: &str, _: Option<&str>) -> Result<Heartbeats, V1Error> {
            Ok(Heartbeats {
                prefix: Some(self.prefix.clone()),
                clock: self.clock,
            })
        }

        async fn run(&self, agent: &str, run: &str) -> Result<Run, V1Error> {
            let now = self.clock.now();
            self.reads.borrow_mut().push(now.since_start());
            let finished = now >= self.ends_at;
            let status = if finished {
                RunStatus::Finished
            } else {
                RunStatus::Running
            };
            Ok(Run {
                result: finished.then(|| "Paris".into()),
                ..Run::new(run, agent, status)
            })
        }
    }

    /// A run that finished behind heartbeats is reported finished within
    /// [`NOISE_READ_EVERY`] (+ one read's spacing) of its end, wherever the
    /// recording stops and whenever the run ends relative to the reads.
    #[tokio::test(start_paused = true)]
    async fn a_run_that_finished_behind_heartbeats_is_reported_within_the_read_policy() {
        let text = std::str::from_utf8(NO_TOOLS).unwrap();
        // Heartbeats only from: the sticky status, the first thinking, the
        // answer (the hint's read comes first), the turn's end.
        let cuts = [
            text.find("id: 1787331048018-0").unwrap(),
            text.find("id: 1787331051492-0").unwrap(),
            text.find("id: 1787331051515-0").unwrap(),
            text.find("event: status\ndata: {\"runId\":\"run-3f18821e-16c5-4408-a9a1-222812408ac7\",\"status\":\"FINISHED\"}").unwrap(),
        ];
        // The run ends 3.5 s in (the case), just before and just
        // after the first read, between reads, and late.
        for cut in cuts {
            for ends in [3.5, 119.0, 121.0, 250.0, 1000.0] {
                let clock = Clock::real();
                let start = clock.now();
                let source = Noisy {
                    prefix: NO_TOOLS[..cut].to_vec(),
                    ends_at: start + Duration::from_secs_f64(ends),
                    clock,
                    reads: RefCell::default(),
                };
                let config = StreamConfig {
                    schedule: PollSchedule::new(Duration::from_secs(10), Duration::from_secs(60)),
                    started: start,
                    deadline: start + Duration::from_secs(6 * 3600),
                };
                let mut f = StreamFollower::new(&source, AGENT, RUN, config, clock, Cancel::new());
                let end = loop {
                    if let StreamEvent::Done(end) = f.next().await {
                        break end;
                    }
                };
                let case = format!("cut at {cut}, ends at {ends} s");
                let StreamEnd::Ended {
                    run,
                    text,
                    confirmed,
                } = end
                else {
                    panic!("{case}: {end:?}");
                };
                assert_eq!(run.status, RunStatus::Finished, "{case}");
                assert_eq!(text.as_deref(), Some("Paris"), "{case}");
                assert!(confirmed, "{case}");
                let late = clock.now().saturating_since(source.ends_at);
                assert!(
                    late <= NOISE_READ_EVERY + MIN_READ_INTERVAL,
                    "{case}: reported {late:?} after the end"
                );
                // Spaced reads: never more than one per policy period, plus
                // the hint's and the terminal status's own.
                let reads = source.reads.borrow().len() as f64;
                let periods = (ends / NOISE_READ_EVERY.as_secs_f64()).ceil() + 1.0;
                assert!(reads <= periods + 3.0, "{case}: {reads} reads");
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_cut_after_its_finished_status_is_confirmed_by_a_read() {
        let text = std::str::from_utf8(NO_TOOLS).unwrap();
        let cut = text.find("id: 1787331057248-0").unwrap();
        let source = Scripted {
            body: NO_TOOLS[..cut].to_vec(),
            status: RunStatus::Finished,
            connects: RefCell::default(),
            reads: RefCell::default(),
        };
        let clock = Clock::real();
        let (end, _) = follow(&source).await;
        let StreamEnd::Ended { run, confirmed, .. } = end else {
            panic!("{end:?}");
        };
        assert_eq!(run.status, RunStatus::Finished);
        assert!(confirmed);
        assert_eq!(*source.reads.borrow(), 1);
        // Closed right after the terminal status: confirmed at once, not
        // after a reconnect.
        assert_eq!(source.connects.borrow().len(), 1);
        assert!(clock.now().since_start() < QUIET_CONFIRM);
    }
}
