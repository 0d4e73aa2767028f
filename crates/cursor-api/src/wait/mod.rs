//! Waiting for an agent: poll `GET /v0/agents/{id}` on the schedule, ride out
//! transient failures, honour `Retry-After`, never pass the deadline, and
//! stop at once when the job is cancelled. The [`Waiter`] is pulled: each
//! [`Waiter::next`] returns the next thing worth telling (a status change, a
//! heartbeat, a retry, or the end), so the caller can update the comment
//! between polls without callbacks.

pub mod schedule;
pub mod stream;

use crate::client::CursorClient;
use crate::error::{CursorError, ErrorClass};
use crate::models::{Agent, AgentStatus};
use crate::retry::{Backoff, delay_for};
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
use schedule::{Phase, PollSchedule};
use std::future::Future;
use std::time::Duration;

/// Where the waiter reads the agent from (the client, or a script in tests).
pub trait AgentSource {
    fn agent(&self, id: &str) -> impl Future<Output = Result<Agent, CursorError>>;
}

impl AgentSource for CursorClient {
    fn agent(&self, id: &str) -> impl Future<Output = Result<Agent, CursorError>> {
        CursorClient::agent(self, id)
    }
}

/// A 404 this soon after launch is the API catching up, not a lost agent.
pub(crate) const EARLY_404_WINDOW: Duration = Duration::from_secs(60);
/// At most one heartbeat line per this long.
pub(crate) const HEARTBEAT_EVERY: Duration = Duration::from_secs(60);
/// No single poll may take longer than this.
pub(crate) const POLL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
pub struct WaitConfig {
    pub schedule: PollSchedule,
    /// When the agent was launched (or followed up).
    pub started: Moment,
    /// Nothing happens after this, whatever the API says.
    pub deadline: Moment,
}

/// How waiting ended.
#[derive(Debug, Clone)]
pub enum WaitEnd {
    /// The agent reached a final status.
    Terminal(Agent),
    /// The deadline came first.
    Deadline,
    /// The job was cancelled.
    Cancelled,
    /// An error retrying cannot fix (401, 403, a late 404...).
    Failed(CursorError),
}

/// What the waiter has to tell.
#[derive(Debug, Clone)]
pub enum WaitEvent {
    /// The first status seen, and every change after it.
    StatusChanged(Agent),
    /// Still waiting (at most once per [`HEARTBEAT_EVERY`]).
    Heartbeat {
        elapsed: Duration,
        status: AgentStatus,
    },
    /// A poll failed and will be retried after `wait`.
    Retrying {
        error: CursorError,
        wait: Duration,
    },
    Done(WaitEnd),
}

pub struct Waiter<'a, S: AgentSource> {
    source: &'a S,
    id: String,
    config: WaitConfig,
    clock: Clock,
    cancel: Cancel,
    rng: fastrand::Rng,
    backoff: Backoff,
    last: Option<Agent>,
    next_poll: Moment,
    last_heartbeat: Moment,
    creating_since: Option<Moment>,
    running_polls: u32,
    error_attempts: u32,
    requests: u32,
    done: bool,
}

impl<'a, S: AgentSource> Waiter<'a, S> {
    /// Starts waiting; the first poll happens at once.
    pub fn new(source: &'a S, id: &str, config: WaitConfig, clock: Clock, cancel: Cancel) -> Self {
        let now = clock.now();
        Self {
            source,
            id: id.to_string(),
            config,
            clock,
            cancel,
            rng: fastrand::Rng::new(),
            backoff: Backoff {
                base: Duration::from_secs(2),
                cap: config
                    .schedule
                    .max_poll_interval
                    .max(Duration::from_secs(2)),
            },
            last: None,
            next_poll: now,
            last_heartbeat: now,
            creating_since: None,
            running_polls: 0,
            error_attempts: 0,
            requests: 0,
            done: false,
        }
    }

    /// Seeds the random source (tests).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = fastrand::Rng::with_seed(seed);
        self
    }

    /// The agent as last seen.
    pub fn last(&self) -> Option<&Agent> {
        self.last.as_ref()
    }

    /// Status requests made so far.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    fn finish(&mut self, end: WaitEnd) -> WaitEvent {
        self.done = true;
        WaitEvent::Done(end)
    }

    fn schedule_next(&mut self, now: Moment, status: &AgentStatus) {
        let phase = if *status == AgentStatus::Creating {
            let since = *self.creating_since.get_or_insert(now);
            Phase::Creating {
                for_: now.saturating_since(since),
            }
        } else {
            let p = Phase::Running {
                polls: self.running_polls,
            };
            self.running_polls += 1;
            p
        };
        self.next_poll = now + self.config.schedule.delay(phase, self.rng.f64());
    }

    /// The next event. After `Done`, keeps returning `Done(Cancelled)`-like
    /// ends; callers stop at the first `Done`.
    pub async fn next(&mut self) -> WaitEvent {
        if self.done {
            return WaitEvent::Done(WaitEnd::Deadline);
        }
        loop {
            if self.cancel.is_cancelled() {
                return self.finish(WaitEnd::Cancelled);
            }
            let now = self.clock.now();
            if now >= self.config.deadline {
                return self.finish(WaitEnd::Deadline);
            }
            if let Some(agent) = &self.last
                && now.saturating_since(self.last_heartbeat) >= HEARTBEAT_EVERY
            {
                self.last_heartbeat = now;
                return WaitEvent::Heartbeat {
                    elapsed: now.saturating_since(self.config.started),
                    status: agent.status.clone(),
                };
            }
            if now < self.next_poll {
                let mut wake = self.next_poll.min(self.config.deadline);
                // A heartbeat needs a status to report.
                if self.last.is_some() {
                    wake = wake.min(self.last_heartbeat + HEARTBEAT_EVERY);
                }
                tokio::select! {
                    _ = self.clock.sleep_until(wake) => {}
                    _ = self.cancel.cancelled() => {}
                }
                continue;
            }

            let budget = self.config.deadline.saturating_since(now).min(POLL_TIMEOUT);
            let result = tokio::select! {
                r = self.clock.timeout(budget, self.source.agent(&self.id)) => r,
                _ = self.cancel.cancelled() => return self.finish(WaitEnd::Cancelled),
            };
            self.requests += 1;
            let now = self.clock.now();
            let result = result.unwrap_or(Err(CursorError::Timeout {
                endpoint: crate::error::Endpoint::Agent,
            }));
            match result {
                Ok(agent) => {
                    self.error_attempts = 0;
                    let changed = self.last.as_ref().is_none_or(|l| l.status != agent.status);
                    self.last = Some(agent.clone());
                    if agent.status.is_terminal() {
                        return self.finish(WaitEnd::Terminal(agent));
                    }
                    self.schedule_next(now, &agent.status);
                    if changed {
                        self.last_heartbeat = now;
                        return WaitEvent::StatusChanged(agent);
                    }
                }
                Err(error) => {
                    let early_404 = error.status() == Some(404)
                        && self.last.is_none()
                        && now.saturating_since(self.config.started) < EARLY_404_WINDOW;
                    let wait = if early_404 {
                        Some(self.backoff.delay(self.error_attempts, self.rng.f64()))
                    } else {
                        delay_for(&error, self.error_attempts, &self.backoff, self.rng.f64())
                    };
                    let Some(wait) = wait else {
                        return self.finish(WaitEnd::Failed(error));
                    };
                    debug_assert!(early_404 || error.class() != ErrorClass::Fatal);
                    self.error_attempts += 1;
                    self.next_poll = now + wait;
                    return WaitEvent::Retrying { error, wait };
                }
            }
        }
    }

    /// Runs to the end, ignoring intermediate events (tests, benchmarks).
    pub async fn run(&mut self) -> WaitEnd {
        loop {
            if let WaitEvent::Done(end) = self.next().await {
                return end;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Endpoint, ErrorBody};
    use proptest::prelude::*;
    use std::cell::RefCell;

    /// A status, or an error status with its `Retry-After`.
    type Answer = Result<&'static str, (u16, Option<u64>)>;

    /// A scripted API: each poll takes the next answer; then RUNNING forever.
    struct Script(RefCell<Vec<Answer>>, RefCell<u32>);

    impl AgentSource for Script {
        fn agent(&self, id: &str) -> impl Future<Output = Result<Agent, CursorError>> {
            *self.1.borrow_mut() += 1;
            let next = if self.0.borrow().is_empty() {
                Ok("RUNNING")
            } else {
                self.0.borrow_mut().remove(0)
            };
            let result = match next {
                Ok(status) => Ok(serde_json::from_value(
                    serde_json::json!({"id": id, "status": status}),
                )
                .unwrap()),
                Err((status, retry_after)) => Err(CursorError::Status {
                    endpoint: Endpoint::Agent,
                    status,
                    body: ErrorBody::default(),
                    retry_after: retry_after.map(Duration::from_secs),
                }),
            };
            std::future::ready(result)
        }
    }

    fn error() -> impl Strategy<Value = Answer> {
        (
            prop::sample::select(vec![429u16, 500, 502, 503, 404]),
            proptest::option::of(0u64..7200),
        )
            .prop_map(Err)
    }

    fn answer() -> impl Strategy<Value = Answer> {
        prop_oneof![
            4 => prop::sample::select(vec!["CREATING", "RUNNING", "WEIRD"]).prop_map(Ok),
            1 => prop::sample::select(vec!["FINISHED", "ERROR", "EXPIRED", "STOPPED"]).prop_map(Ok),
            2 => error(),
        ]
    }

    /// Errors first (before any status is known), then anything.
    fn answers() -> impl Strategy<Value = Vec<Answer>> {
        (
            prop::collection::vec(error(), 0..4),
            prop::collection::vec(answer(), 0..40),
        )
            .prop_map(|(mut a, b)| {
                a.extend(b);
                a
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Whatever the API answers, the wait ends, never after the deadline,
        /// and never polls faster than the floor of the schedule or backoff.
        #[test]
        fn every_wait_ends_by_the_deadline(answers in answers(), timeout in 1u64..7200, poll in 1u64..120, extra in 0u64..600) {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
                let out = rt.block_on(async {
                    let clock = Clock::real();
                    let script = Script(RefCell::new(answers), RefCell::new(0));
                    let start = clock.now();
                    let config = WaitConfig {
                        schedule: PollSchedule::new(Duration::from_secs(poll), Duration::from_secs(poll + extra)),
                        started: start,
                        deadline: start + Duration::from_secs(timeout),
                    };
                    let mut w = Waiter::new(&script, "bc-1", config, clock, Cancel::new());
                    let end = w.run().await;
                    let calls = *script.1.borrow();
                    (end, clock.now().saturating_since(start), calls)
                });
                let _ = tx.send(out);
            });
            let (end, took, calls) = rx.recv_timeout(std::time::Duration::from_secs(5)).expect("the wait made no progress (busy loop?)");
            prop_assert!(took <= Duration::from_secs(timeout), "{took:?} > {timeout}s");
            if matches!(end, WaitEnd::Deadline) {
                prop_assert_eq!(took, Duration::from_secs(timeout));
            }
            // Polls are at least ~1 s apart (backoff floor), plus the first.
            prop_assert!(calls as u64 <= timeout + 1, "{calls} polls in {timeout}s");
        }
    }
}
