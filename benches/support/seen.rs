//! What a person sees: the whole action, in this process and in virtual
//! time, against both simulators, and the comment writes it makes. A notice
//! delay is measured from the run's end in the simulator (v1: its record
//! turns terminal, when `result` is sent; v0: the agent turns FINISHED) to
//! the first comment write whose body is final (its marker says so), and
//! separately to the last write (the amendment with usage and artifacts,
//! when there is one). Shared by the benchmarks that report a notice delay.
// Each benchmark uses its own part of this.
#![allow(dead_code)]

use cursor_agent_action::app::run_action;
use cursor_agent_action::marker::Marker;
use cursor_agent_action::runner::{ActionsIo, Console, ConsoleMode};
use cursor_agent_action::runtime::Runtime;
use kit::cancel::Cancel;
use kit::clock::Clock;
use kit::env::Env;
use sim::{Simulators, V1Scenario};
use std::sync::Arc;
use std::time::Duration;

const LABELED: &str = include_str!("../../tests/fixtures/github-events/issues.labeled.json");

/// The comment writes of one waiting run, from the run's end.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    /// From the run's end to the first write carrying the final text.
    pub final_after: Duration,
    /// From the run's end to the last write (the amendment, if any).
    pub last_after: Duration,
}

/// Successful comment creates and edits: (ms on the simulator's clock, final?).
pub fn comment_writes(sims: &Simulators) -> Vec<(u64, bool)> {
    sims.github
        .requests()
        .into_iter()
        .filter_map(|r| {
            let created = r.path.contains("/issues/") && r.path.ends_with("/comments");
            let edited = r.path.contains("/issues/comments/") && !r.path.ends_with("/reactions");
            let writes = matches!(r.method.as_str(), "POST" | "PATCH") && (created || edited);
            if !writes || r.status >= 300 {
                return None;
            }
            let body: serde_json::Value = serde_json::from_str(&r.body).ok()?;
            let is_final = Marker::find(body["body"].as_str()?).is_some_and(|m| m.is_final());
            Some((r.at_ms, is_final))
        })
        .collect()
}

/// What the writes after `end` (ms) show.
pub fn seen(sims: &Simulators, end: Duration) -> Option<Seen> {
    let writes = comment_writes(sims);
    let first = writes.iter().position(|(_, f)| *f)?;
    let end_ms = end.as_millis() as u64;
    let last = writes.last()?.0;
    assert!(
        writes.len() - first <= 2,
        "one final write and at most one amendment"
    );
    Some(Seen {
        final_after: Duration::from_millis(writes[first].0.saturating_sub(end_ms)),
        last_after: Duration::from_millis(last.saturating_sub(end_ms)),
    })
}

/// The runner of one step of the action on the labeled issue (GitHub's
/// `issues.labeled` payload, label `bug`) against `sims`, its files in
/// `dir`, with `inputs` besides the key, token and API URL. The benchmarks
/// that run the whole action share it.
pub fn labeled_step(
    sims: &Simulators,
    dir: &std::path::Path,
    clock: Clock,
    mode: ConsoleMode,
    inputs: &[(&'static str, &str)],
) -> Runtime {
    let file = |name: &str| dir.join(name).display().to_string();
    std::fs::write(dir.join("event.json"), LABELED).unwrap();
    let mut pairs = vec![
        ("GITHUB_REPOSITORY", "Codertocat/Hello-World".to_string()),
        ("GITHUB_EVENT_NAME", "issues".into()),
        ("GITHUB_EVENT_PATH", file("event.json")),
        ("GITHUB_REF", "refs/heads/master".into()),
        ("GITHUB_RUN_ID", "4242".into()),
        ("GITHUB_RUN_ATTEMPT", "1".into()),
        ("GITHUB_API_URL", sims.github_url()),
        ("GITHUB_OUTPUT", file("output.txt")),
        ("GITHUB_STEP_SUMMARY", file("summary.md")),
        ("GITHUB_WORKSPACE", dir.display().to_string()),
        (
            "INPUT_CURSOR-API-KEY",
            "crsr_bench_000000000000000000000".into(),
        ),
        ("INPUT_GITHUB-TOKEN", "ghs_bench_0000000000000000000".into()),
        ("INPUT_API-URL", sims.cursor_url()),
        ("INPUT_LABEL", "bug".into()),
    ];
    pairs.extend(inputs.iter().map(|(k, v)| (*k, v.to_string())));
    let env = Env::from_pairs(pairs);
    let (console, _captured) = Console::capture(mode, false);
    Runtime {
        io: ActionsIo::from_env(&env, Arc::new(console)),
        env,
        clock,
        cancel: Cancel::new(),
    }
}

/// One step of the action on a labeled issue, waiting (`wait: true`).
pub async fn waiting_step(sims: &Simulators, clock: Clock, api: &str) {
    let dir = tempfile::tempdir().unwrap();
    let rt = labeled_step(
        sims,
        dir.path(),
        clock,
        ConsoleMode::Plain,
        &[("INPUT_API-VERSION", api), ("INPUT_TIMEOUT", "6h")],
    );
    assert_eq!(run_action(&rt).await, 0, "the step succeeds");
}

/// A v1 run of about `minutes` (its end up to a minute later), as the
/// recordings show one (`cursor-api.md` §8.5): CREATING 5–9 s, the
/// terminal status 5–10 s before `result`, drops at exponential intervals
/// of mean `drop_every`, 1 run in 50 with no `result`, cost 2–10 s after
/// the end, an artifact 2 s after it.
pub fn v1_scenario(minutes: u64, drop_every: Duration, seed: u64) -> V1Scenario {
    let mut rng = fastrand::Rng::with_seed(seed);
    let running = Duration::from_secs(minutes * 60) + Duration::from_millis(rng.u64(0..60_000));
    let mut drops = Vec::new();
    let mut at = Duration::ZERO;
    loop {
        let gap = -(1.0 - rng.f64()).ln() * drop_every.as_secs_f64();
        at += Duration::from_secs_f64(gap);
        if at >= running {
            break;
        }
        drops.push(at);
    }
    V1Scenario {
        creating: Duration::from_millis(rng.u64(5_000..9_000)),
        running,
        status_lead: Duration::from_millis(rng.u64(5_000..10_000)),
        drops,
        no_result: rng.u32(0..50) == 0,
        cost_lag: Duration::from_millis(rng.u64(2_000..10_000)),
        ..V1Scenario::default()
    }
}

/// A waiting v1 run on `scenario`: what its comment showed, when.
pub async fn v1_seen(scenario: V1Scenario) -> Seen {
    let clock = Clock::real();
    let sims = Simulators::start(clock).await.unwrap();
    sims.github.set_permission("Codertocat", "admin");
    sims.cursor.v1().set_scenario(scenario);
    waiting_step(&sims, clock, "v1").await;
    let end = sims.cursor.v1().run_ends()[0];
    seen(&sims, end).expect("a final comment")
}

/// A waiting v0 run of about `minutes` (its end up to a minute later).
pub async fn v0_seen(minutes: u64, seed: u64) -> Seen {
    let mut rng = fastrand::Rng::with_seed(seed);
    let clock = Clock::real();
    let sims = Simulators::start(clock).await.unwrap();
    sims.github.set_permission("Codertocat", "admin");
    let running = minutes * 60 - 25 + rng.u64(0..60);
    sims.cursor
        .set_default_scenario(sim::Scenario::lasting(25, running));
    waiting_step(&sims, clock, "v0").await;
    let id = sims.cursor.agents()[0]["id"].as_str().unwrap().to_string();
    let end = sims.cursor.ended_at(&id).expect("ended");
    seen(&sims, end).expect("a final comment")
}
