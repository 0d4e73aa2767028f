//! How much waiting costs: for agents lasting 1 to 60 minutes, the status
//! requests made and the delay between the agent finishing and the action
//! noticing, at the default settings (poll-interval 10s, max 60s), with the
//! real `Waiter` in virtual time against simulated agents. Each length is run
//! many times with other seeds and end times, since the jitter makes every
//! run different.
//!
//! `cargo bench --bench polling` prints a Markdown table (the README's).

#[path = "support/polling.rs"]
mod polling;

use polling::{fixed_interval, median, percentile, trial};

/// Enough that the median notice delay is stable to a few tenths of a
/// second (with 1001 it moved by more than a second between seeds).
const TRIALS: u64 = 10_001;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        println!("Status polling at the defaults (poll-interval 10s, max-poll-interval 60s; CREATING for 25 s), {TRIALS} simulated agents per length, in virtual time:\n");
        println!("| agent runs for | status requests (median) | requests per agent-hour | notice delay median | notice delay p90 | max | shell loop every 30 s: requests | its median delay |");
        println!("|---|---|---|---|---|---|---|---|");
        for minutes in [1u64, 5, 15, 30, 60] {
            let mut requests = Vec::new();
            let mut delays = Vec::new();
            let mut loop_requests = Vec::new();
            let mut loop_delays = Vec::new();
            for seed in 0..TRIALS {
                let seed = seed + minutes * 100_000;
                let t = trial(minutes, seed).await;
                requests.push(t.requests as f64);
                delays.push(t.notice_delay.as_secs_f64());
                let l = fixed_interval(minutes, seed, std::time::Duration::from_secs(30));
                loop_requests.push(l.requests as f64);
                loop_delays.push(l.notice_delay.as_secs_f64());
            }
            let med_req = median(requests.clone());
            println!(
                "| {minutes} min | {med_req:.0} | {:.0} | {:.1} s | {:.1} s | {:.1} s | {:.0} | {:.1} s |",
                med_req * 60.0 / minutes as f64,
                median(delays.clone()),
                percentile(delays.clone(), 0.9),
                delays.iter().cloned().fold(0.0, f64::max),
                median(loop_requests),
                median(loop_delays),
            );
        }
    });
}
