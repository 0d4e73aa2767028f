//! How much waiting costs: for agents lasting 1 to 60 minutes, the status
//! requests made and the delay between the agent finishing and the action
//! noticing, at the default settings (poll-interval 10s, max 60s), with the
//! real `Waiter` in virtual time against simulated agents. Each length is run
//! many times with other seeds and end times, since the jitter makes every
//! run different.
//!
//! `cargo bench --bench polling` prints a Markdown table (the README's).

use cursor_agent_action::cancel::Cancel;
use cursor_agent_action::clock::{Clock, Moment};
use cursor_agent_action::cursor::{Agent, CursorError};
use cursor_agent_action::wait::schedule::PollSchedule;
use cursor_agent_action::wait::{AgentSource, WaitConfig, WaitEnd, Waiter};
use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

const TRIALS: u64 = 1001;
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

struct Trial {
    requests: u32,
    notice_delay: Duration,
}

/// One agent of about `minutes`, its end shifted by up to a minute.
async fn trial(minutes: u64, seed: u64) -> Trial {
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        println!("Status polling at the defaults (poll-interval 10s, max-poll-interval 60s; CREATING for 25 s), {TRIALS} simulated agents per length, in virtual time:\n");
        println!("| agent runs for | status requests (median) | requests per agent-hour | notice delay median | notice delay p90 | max |");
        println!("|---|---|---|---|---|---|");
        for minutes in [1u64, 5, 15, 30, 60] {
            let mut requests = Vec::new();
            let mut delays = Vec::new();
            for seed in 0..TRIALS {
                let t = trial(minutes, seed + minutes * 100_000).await;
                requests.push(t.requests as f64);
                delays.push(t.notice_delay.as_secs_f64());
            }
            let med_req = median(requests.clone());
            println!(
                "| {minutes} min | {med_req:.0} | {:.0} | {:.1} s | {:.1} s | {:.1} s |",
                med_req * 60.0 / minutes as f64,
                median(delays.clone()),
                percentile(delays.clone(), 0.9),
                delays.iter().cloned().fold(0.0, f64::max),
            );
        }
    });
}
