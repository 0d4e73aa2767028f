//! What waiting costs on v1: the real `StreamFollower` in virtual time
//! against simulated runs whose streams are modelled on the recordings
//! (silent tool calls, drops, `status: FINISHED` before `result`, 1 run in 50
//! with no `result`; see `support/streaming.rs`), next to v0 status polling
//! (the real `Waiter`) and a shell loop polling every 30 s, on the same run
//! lengths and ends.
//!
//! The delays are what a person sees: the whole action (in this process,
//! against the simulators, `support/seen.rs`) from the run's end to the
//! first comment write carrying the final text, and to the last write (the
//! amendment with usage and artifacts). Requests come from the model
//! (many more trials: the per-hour figures need them).
//!
//! `cargo bench --bench streaming` prints the README's table;
//! `cargo bench --bench streaming -- 101 11` runs 101 model trials and 11
//! whole-action runs per row instead.

#[path = "support/polling.rs"]
mod polling;
#[path = "support/seen.rs"]
mod seen;
#[path = "support/streaming.rs"]
mod streaming;

use polling::{fixed_interval, median, percentile, trial};
use std::time::{Duration, Instant};
use streaming::stream_trial;

/// As the polling benchmark: stable medians to a few tenths of a second.
const TRIALS: u64 = 10_001;
/// For 240-minute runs: enough for medians stable to a tenth of a second
/// (the delay's spread is small), in about a minute.
const LONG_TRIALS: u64 = 2_001;
/// Whole-action runs per row (each both on v1 and on v0).
const SEEN_TRIALS: u64 = 21;

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
    let began = Instant::now();
    rt.block_on(async {
        println!(
            "v1 stream following vs v0 polling (defaults) vs a shell loop every 30 s, in virtual time. \
             Requests are Cursor requests (stream connects + run reads; status polls), per agent-hour of the runs' real lengths, from the model ({trials} runs a row). \
             Delays are what a person sees, from the whole action ({seen_trials} runs a row on each API): from the run's end (its record turns terminal) to the first comment write carrying the final text, \
             and to the last write (the one amendment with the usage and artifacts that come after the end; cost lags 2–10 s). \
             The shell loop has no comment: when it notices.\n"
        );
        println!(
            "| run length | a drop every | stream: requests per run (median) | per agent-hour | final comment: median | p90 | max | last amendment: median | max | runs with no `result`: final comment | polling: per agent-hour | its final comment: median | p90 | its last amendment: median | shell loop: per agent-hour | it notices: median |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        let mut breakdown = Vec::new();
        let rows: [(u64, u64); 8] = [
            (5, 20),
            (60, 20),
            (240, 20),
            (1, 10),
            (5, 10),
            (15, 10),
            (30, 10),
            (60, 10),
        ];
        for (minutes, drop_minutes) in rows {
            let drop_every = Duration::from_secs(drop_minutes * 60);
            let mut requests = Vec::new();
            let mut total_requests = 0u64;
            let mut poll_requests = 0u64;
            let (mut loop_requests, mut loop_delays) = (0u64, Vec::new());
            let mut hours = 0.0;
            let (mut reads, mut refused, mut dropped, mut fell_back) = (0u64, 0u64, 0u64, 0u64);
            let row_began = Instant::now();
            // 240-minute runs cost ~33 ms each here (2-core machine):
            // 10,001 of them would take over 5 minutes alone.
            let n = if minutes >= 240 { trials.min(LONG_TRIALS) } else { trials };
            for seed in 0..n {
                let seed = seed + minutes * 100_000 + drop_minutes * 10_000_000;
                let s = stream_trial(minutes, drop_every, seed).await;
                hours += s.length.as_secs_f64() / 3600.0;
                requests.push(s.requests as f64);
                total_requests += s.requests as u64;
                reads += s.reads as u64;
                refused += s.refused as u64;
                dropped += s.dropped as u64;
                fell_back += s.fell_back as u64;
                let p = trial(minutes, seed).await;
                poll_requests += p.requests as u64;
                let l = fixed_interval(minutes, seed, Duration::from_secs(30));
                loop_requests += l.requests as u64;
                loop_delays.push(l.notice_delay.as_secs_f64());
            }
            breakdown.push(format!(
                "- {minutes} min, a drop every {drop_minutes} min, per run: {:.2} first connects or replacements of a silent connection, {:.2} refused at the head (409), {:.2} reconnects after drops, {:.2} reads of the run; {fell_back} of {n} runs fell back to reads ({:.0} s)",
                (total_requests - reads - refused - dropped) as f64 / n as f64,
                refused as f64 / n as f64,
                dropped as f64 / n as f64,
                reads as f64 / n as f64,
                row_began.elapsed().as_secs_f64()
            ));
            // Polling runs end when the stream's do (the same draw from the
            // same seed); the loop's end within 30 s past `minutes` (see
            // `fixed_interval`), 15 s earlier on average: its hours are
            // taken as the stream's.
            // What a person sees: the whole action, on v1 and on v0.
            let (mut finals, mut lasts, mut silent_finals) = (Vec::new(), Vec::new(), Vec::new());
            let (mut poll_finals, mut poll_lasts) = (Vec::new(), Vec::new());
            for k in 0..seen_trials {
                let seed = k + minutes * 100_000 + drop_minutes * 10_000_000;
                let scenario = seen::v1_scenario(minutes, drop_every, seed);
                let no_result = scenario.no_result;
                let v1 = seen::v1_seen(scenario).await;
                if no_result {
                    silent_finals.push(v1.final_after.as_secs_f64());
                } else {
                    finals.push(v1.final_after.as_secs_f64());
                    lasts.push(v1.last_after.as_secs_f64());
                }
                let v0 = seen::v0_seen(minutes, seed).await;
                poll_finals.push(v0.final_after.as_secs_f64());
                poll_lasts.push(v0.last_after.as_secs_f64());
            }
            println!(
                "| {minutes} min | {drop_minutes} min | {:.0} | {:.1} | {:.1} s | {:.1} s | {:.1} s | {:.1} s | {:.1} s | {} | {:.0} | {:.1} s | {:.1} s | {:.1} s | {:.0} | {:.1} s |",
                median(requests),
                total_requests as f64 / hours,
                median(finals.clone()),
                percentile(finals.clone(), 0.9),
                finals.iter().cloned().fold(0.0, f64::max),
                median(lasts.clone()),
                lasts.iter().cloned().fold(0.0, f64::max),
                or_none(&silent_finals, 0.5),
                poll_requests as f64 / hours,
                median(poll_finals.clone()),
                percentile(poll_finals, 0.9),
                median(poll_lasts),
                loop_requests as f64 / hours,
                median(loop_delays),
            );
        }
        println!("\nWhere the stream's requests go (mean per run; wall time of the row):\n");
        for line in breakdown {
            println!("{line}");
        }
    });
    eprintln!("({:.0} s)", began.elapsed().as_secs_f64());
}

/// A percentile of `v` as "1.2 s (n = 200)", or "none" with no trial.
fn or_none(v: &[f64], p: f64) -> String {
    if v.is_empty() {
        return "none".into();
    }
    let x = percentile(v.to_vec(), p);
    if p == 0.5 {
        format!("{x:.1} s (of {})", v.len())
    } else {
        format!("{x:.1} s")
    }
}
