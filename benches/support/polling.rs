//! Simulated agents on the clock, polled by the real `Waiter`: shared by
//! the benchmarks.

use cursor_api::wait::schedule::PollSchedule;
use cursor_api::wait::{AgentSource, WaitConfig, WaitEnd, Waiter};
use cursor_api::{Agent, CursorError};
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

/// Agents usually start within a minute; this one is CREATING for 25 s.
const CREATING: Duration = Duration::from_secs(25);

/// An agent on the clock, answering status polls as the API would.
struct SimulatedAgent {
    clock: Clock,
    start: Moment,
    finish: Moment,
    polls: Cell<u32>,
}

impl AgentSource for SimulatedAgent {
    fn agent(&self, id: &str) -> impl Future<Output = Result<Agent, CursorError>> {
        self.polls.set(self.polls.get() + 1);
        let now = self.clock.now();
        let status = if now < self.start + CREATING {
            "CREATING"
        } else if now < self.finish {
            "RUNNING"
        } else {
            "FINISHED"
        };
        std::future::ready(Ok(serde_json::from_value(
            serde_json::json!({"id": id, "status": status}),
        )
        .unwrap()))
    }
}

pub struct Trial {
    pub requests: u32,
    pub notice_delay: Duration,
}

/// One agent of about `minutes`, its end shifted by up to a minute.
pub async fn trial(minutes: u64, seed: u64) -> Trial {
    let clock = Clock::real();
    let start = clock.now();
    let mut rng = fastrand::Rng::with_seed(seed);
    let finish =
        start + Duration::from_secs(minutes * 60) + Duration::from_millis(rng.u64(0..60_000));
    let agent = SimulatedAgent {
        clock,
        start,
        finish,
        polls: Cell::new(0),
    };
    let config = WaitConfig {
        schedule: PollSchedule::new(Duration::from_secs(10), Duration::from_secs(60)),
        started: start,
        deadline: start + Duration::from_secs(6 * 3600),
    };
    let mut waiter = Waiter::new(&agent, "bc-bench", config, clock, Cancel::new()).with_seed(seed);
    let end = waiter.run().await;
    assert!(matches!(end, WaitEnd::Terminal(_)), "{end:?}");
    Trial {
        requests: agent.polls.get(),
        notice_delay: clock.now().saturating_since(finish),
    }
}

/// An agent of about `minutes` polled every `interval`, as a shell loop
/// does: the requests made and the delay in noticing the end. The end is
/// drawn from one whole `interval` after `minutes`, so it is equally likely
/// to fall anywhere between two polls (a window of another length would
/// favour some places and bias the delay).
pub fn fixed_interval(minutes: u64, seed: u64, interval: Duration) -> Trial {
    let mut rng = fastrand::Rng::with_seed(seed);
    let period_ms = interval.as_millis().max(1) as u64;
    let finish = Duration::from_secs(minutes * 60) + Duration::from_millis(rng.u64(0..period_ms));
    let polls = (finish.as_secs_f64() / interval.as_secs_f64()).floor() as u32 + 1;
    Trial {
        requests: polls,
        notice_delay: interval * polls - finish,
    }
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[allow(dead_code)] // used by the polling bench, not the runner bench
pub fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}
