//! How much waiting costs: for agents lasting 1 to 60 minutes, the status
//! requests made and the delay between the agent finishing and the person
//! being told, at the default settings (poll-interval 10s, max 60s). The
//! requests: the real `Waiter` in virtual time against simulated agents,
//! many times with other seeds and end times, since the jitter makes every
//! run different. The delays are what a person sees: the whole action (in
//! this process, against the simulators, `support/seen.rs`) from the
//! agent's end to the first comment write carrying the final text, and to
//! the last write (the amendment listing its artifact).
//!
//! `cargo bench --bench polling` prints a Markdown table (the README's);
//! `cargo bench --bench polling -- 1001 21` runs 1001 model trials and 21
//! whole-action runs per length instead.

#[path = "support/polling.rs"]
mod polling;
#[path = "support/seen.rs"]
mod seen;

use polling::{fixed_interval, median, percentile, trial};

/// Enough that the median request count is stable.
const TRIALS: u64 = 10_001;
/// Whole-action runs per length: the comment delay's median to about a
/// second (polling's jitter spreads it over the interval).
const SEEN_TRIALS: u64 = 101;

fn main() {
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<u64>().ok())
        .collect();
    let trials = numbers.first().copied().unwrap_or(TRIALS);
    let seen_trials = numbers.get(1).copied().unwrap_or(SEEN_TRIALS);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        println!(
            "Status polling at the defaults (poll-interval 10s, max-poll-interval 60s; CREATING for 25 s), in virtual time: requests from {trials} simulated agents per length; \
             delays from {seen_trials} runs of the whole action per length, from the agent's end to the first comment write carrying the final text, and to the last write \
             (the one amendment listing the agent's artifact). The shell loop has no comment: when it notices.\n"
        );
        println!("| agent runs for | status requests (median) | requests per agent-hour | final comment: median | p90 | max | last amendment: median | shell loop every 30 s: requests | it notices: median |");
        println!("|---|---|---|---|---|---|---|---|---|");
        for minutes in [1u64, 5, 15, 30, 60] {
            let mut requests = Vec::new();
            let mut loop_requests = Vec::new();
            let mut loop_delays = Vec::new();
            for seed in 0..trials {
                let seed = seed + minutes * 100_000;
                let t = trial(minutes, seed).await;
                requests.push(t.requests as f64);
                let l = fixed_interval(minutes, seed, std::time::Duration::from_secs(30));
                loop_requests.push(l.requests as f64);
                loop_delays.push(l.notice_delay.as_secs_f64());
            }
            let (mut finals, mut lasts) = (Vec::new(), Vec::new());
            for seed in 0..seen_trials {
                let s = seen::v0_seen(minutes, seed + minutes * 100_000).await;
                finals.push(s.final_after.as_secs_f64());
                lasts.push(s.last_after.as_secs_f64());
            }
            let med_req = median(requests.clone());
            println!(
                "| {minutes} min | {med_req:.0} | {:.0} | {:.1} s | {:.1} s | {:.1} s | {:.1} s | {:.0} | {:.1} s |",
                med_req * 60.0 / minutes as f64,
                median(finals.clone()),
                percentile(finals.clone(), 0.9),
                finals.iter().cloned().fold(0.0, f64::max),
                median(lasts),
                median(loop_requests),
                median(loop_delays),
            );
        }
    });
}
