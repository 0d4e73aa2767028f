//! GitHub requests per run with the live activity (#13): the whole action,
//! in this process and in virtual time, against both simulators (v1, its
//! run followed over the stream), for a 5- and a 60-minute agent, quiet (the
//! simulator's own few events) or busy (a tool call every 5 s and a message
//! every minute). Counts every request the GitHub simulator receives, and
//! the comment's writes among them (the throttle: at most one activity edit
//! per 10 s, status changes at once, the final comment always).
//!
//! `cargo bench --bench github_requests` prints the README's table.

#[path = "support/seen.rs"]
mod seen;
use cursor_agent_action::app::run_action;
use cursor_agent_action::runner::ConsoleMode;
use kit::clock::Clock;
use serde_json::{Value, json};
use sim::{Simulators, V1Scenario};
use std::time::Duration;

fn busy(minutes: u64) -> Vec<(Duration, String, Value)> {
    let secs = minutes * 60;
    let mut script = Vec::new();
    for t in (5..secs.saturating_sub(10)).step_by(5) {
        let id = format!("call-{t}");
        let args = json!({"target_file": format!("src/file{t}.rs")});
        script.push((
            Duration::from_secs(t),
            "tool_call".to_string(),
            json!({"callId": id, "name": "read_file", "status": "running", "args": args}),
        ));
        script.push((
            Duration::from_secs(t + 2),
            "tool_call".to_string(),
            json!({"callId": id, "name": "read_file", "status": "completed", "args": args}),
        ));
        if t % 60 == 0 {
            script.push((
                Duration::from_secs(t + 1),
                "assistant".to_string(),
                json!({"text": format!("Minute {}: still reading.\n", t / 60)}),
            ));
        }
    }
    script
}

/// (GitHub requests, comment writes, events in the stream) for one run.
async fn one_run(minutes: u64, busy_agent: bool) -> (usize, usize, usize) {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    sims.github.set_permission("Codertocat", "admin");
    let script = if busy_agent {
        busy(minutes)
    } else {
        Vec::new()
    };
    let events = script.len();
    sims.cursor.v1().set_scenario(V1Scenario {
        script,
        ..V1Scenario::lasting(20, minutes * 60)
    });
    let dir = tempfile::tempdir().unwrap();
    let rt = seen::labeled_step(
        &sims,
        dir.path(),
        Clock::real(),
        ConsoleMode::Plain,
        &[("INPUT_TIMEOUT", "2h")],
    );
    let code = run_action(&rt).await;
    assert_eq!(code, 0, "the run succeeds");
    let requests = sims.github.requests();
    let writes = requests
        .iter()
        .filter(|r| {
            (r.method == "POST" && r.path.ends_with("/issues/1/comments"))
                || (matches!(r.method.as_str(), "POST" | "PATCH")
                    && r.path.contains("/issues/comments/")
                    && !r.path.ends_with("/reactions"))
        })
        .count();
    (requests.len(), writes, events)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        println!("GitHub requests per run (v1, live activity; virtual time, one run per row: the flow is deterministic).\n");
        println!("| agent runs for | activity | stream events scripted | GitHub requests | of which comment writes |");
        println!("|---|---|---|---|---|");
        for minutes in [5, 60] {
            for busy_agent in [false, true] {
                let (requests, writes, events) = one_run(minutes, busy_agent).await;
                println!(
                    "| {minutes} min | {} | {events} | {requests} | {writes} |",
                    if busy_agent {
                        "busy (a tool call every 5 s)"
                    } else {
                        "quiet (the simulator's own)"
                    }
                );
            }
        }
    });
}
