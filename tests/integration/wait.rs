//! Whole waits against the simulator, in virtual time: every end, every
//! fault, the deadline, cancellation, and what a run reports for each.

use crate::support::*;
use cursor_api::wait::schedule::PollSchedule;
use cursor_api::wait::{WaitConfig, WaitEnd, WaitEvent, Waiter};
use cursor_api::*;
use kit::cancel::Cancel;
use kit::clock::Clock;
use sim::*;
use std::time::Duration;

struct Setup {
    sims: Simulators,
    client: CursorClient,
    clock: Clock,
}

async fn setup(scenario: Scenario) -> Setup {
    let clock = Clock::real();
    let sims = Simulators::start(clock).await.unwrap();
    sims.cursor.set_default_scenario(scenario);
    let client = cursor_client(&sims.cursor_url(), KEY, clock);
    Setup {
        sims,
        client,
        clock,
    }
}

impl Setup {
    async fn launch(&self) -> Agent {
        let request = launch_request("do it", REPO_URL, None, true);
        self.client.launch(&request).await.unwrap()
    }

    fn waiter<'a>(
        &'a self,
        id: &str,
        timeout: Duration,
        cancel: Cancel,
    ) -> Waiter<'a, CursorClient> {
        let now = self.clock.now();
        let config = WaitConfig {
            schedule: PollSchedule::new(Duration::from_secs(10), Duration::from_secs(60)),
            started: now,
            deadline: now + timeout,
        };
        Waiter::new(&self.client, id, config, self.clock, cancel).with_seed(1)
    }

    /// Launches and waits; returns the end, status polls and seconds taken.
    async fn run(&self, timeout: Duration) -> (WaitEnd, u32, u64) {
        let agent = self.launch().await;
        let start = self.clock.now();
        let mut w = self.waiter(&agent.id, timeout, Cancel::new());
        let end = w.run().await;
        (
            end,
            w.requests(),
            self.clock.now().saturating_since(start).as_secs(),
        )
    }

    /// When the status polls arrived (simulator seconds).
    fn poll_times(&self) -> Vec<f64> {
        self.sims
            .cursor
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path.starts_with("/v0/agents/"))
            .map(|r| r.at_ms as f64 / 1000.0)
            .collect()
    }
}

fn terminal(end: &WaitEnd) -> &AgentStatus {
    match end {
        WaitEnd::Terminal(a) => &a.status,
        other => panic!("not terminal: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn finished_error_and_expired_end_the_wait() {
    for (end, status) in [
        (EndStatus::Finished, AgentStatus::Finished),
        (EndStatus::Error, AgentStatus::Error),
        (EndStatus::Expired, AgentStatus::Expired),
    ] {
        let s = setup(Scenario::lasting(20, 180).ending(end)).await;
        let (wait_end, polls, secs) = s.run(Duration::from_secs(2700)).await;
        assert_eq!(terminal(&wait_end), &status);
        assert!(
            (200..=260).contains(&secs),
            "noticed within a poll interval: {secs}s"
        );
        assert!(polls <= 14, "{polls} polls for a 200 s agent");
        assert_eq!(polls as usize, s.sims.cursor.count("GET", "/v0/agents/*"));
    }
}

#[tokio::test(start_paused = true)]
async fn polls_are_fast_while_creating_then_slow_down() {
    let s = setup(Scenario::lasting(30, 600)).await;
    let (end, _, _) = s.run(Duration::from_secs(2700)).await;
    assert_eq!(terminal(&end), &AgentStatus::Finished);
    let t = s.poll_times();
    let gaps: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    // CREATING: every 3.75–5 s.
    assert!(
        gaps[..4].iter().all(|g| (3.7..=5.1).contains(g)),
        "{gaps:?}"
    );
    // Then 10 s, 15–20 s, 30–40 s, then 45–60 s, never more.
    let running: Vec<f64> = gaps.iter().copied().skip_while(|g| *g < 6.0).collect();
    assert!((9.9..=10.1).contains(&running[0]), "{running:?}");
    assert!((14.9..=20.1).contains(&running[1]), "{running:?}");
    assert!((29.9..=40.1).contains(&running[2]), "{running:?}");
    assert!(
        running[3..].iter().all(|g| (44.9..=60.1).contains(g)),
        "{running:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stopped_agent_ends_the_wait() {
    let s = setup(Scenario::lasting(10, 3600)).await;
    let agent = s.launch().await;
    let stopper = {
        let id = agent.id.clone();
        let client = s.client.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(120)).await;
            client.stop(&id).await.unwrap();
        })
    };
    let mut w = s.waiter(&agent.id, Duration::from_secs(2700), Cancel::new());
    assert_eq!(terminal(&w.run().await), &AgentStatus::Stopped);
    stopper.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_unknown_status_is_waited_through() {
    let s = setup(Scenario {
        reported_status: Some("PAUSED_FOR_REVIEW".into()),
        ..Scenario::lasting(10, 120)
    })
    .await;
    let agent = s.launch().await;
    let mut w = s.waiter(&agent.id, Duration::from_secs(2700), Cancel::new());
    let mut seen = Vec::new();
    let end = loop {
        match w.next().await {
            WaitEvent::StatusChanged(a) => seen.push(a.status),
            WaitEvent::Done(end) => break end,
            _ => {}
        }
    };
    assert_eq!(
        seen,
        vec![
            AgentStatus::Creating,
            AgentStatus::Unknown("PAUSED_FOR_REVIEW".into())
        ]
    );
    assert_eq!(terminal(&end), &AgentStatus::Finished);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured() {
    let s = setup(Scenario::lasting(10, 300)).await;
    s.sims.cursor.add_fault(FaultRule::new(
        "GET",
        "/v0/agents/*",
        Fault::rate_limited(Some(90)),
    ));
    let (end, _, _) = s.run(Duration::from_secs(2700)).await;
    assert_eq!(terminal(&end), &AgentStatus::Finished);
    let t = s.poll_times();
    assert!(
        (t[1] - t[0] - 90.0).abs() < 0.01,
        "the second poll waits exactly 90 s: {t:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn rate_limits_without_retry_after_back_off_exponentially() {
    let s = setup(Scenario::lasting(10, 600)).await;
    s.sims
        .cursor
        .add_fault(FaultRule::new("GET", "/v0/agents/*", Fault::rate_limited(None)).times(4));
    let (end, polls, _) = s.run(Duration::from_secs(2700)).await;
    assert_eq!(terminal(&end), &AgentStatus::Finished);
    let t = s.poll_times();
    let gaps: Vec<f64> = t.windows(2).take(4).map(|w| w[1] - w[0]).collect();
    // Backoff envelopes 2, 4, 8, 16 s; each wait in the upper half.
    for (i, g) in gaps.iter().enumerate() {
        let env = 2f64 * 2f64.powi(i as i32);
        assert!(
            *g >= env / 2.0 - 0.01 && *g <= env + 0.01,
            "gap {i}: {g} (envelope {env}): {gaps:?}"
        );
    }
    assert!(gaps.windows(2).all(|w| w[1] > w[0] * 0.9), "{gaps:?}");
    assert_eq!(polls as usize, t.len());
}

#[tokio::test(start_paused = true)]
async fn bursts_of_502_resets_and_stalls_are_ridden_out() {
    let s = setup(Scenario::lasting(10, 300)).await;
    s.sims
        .cursor
        .add_fault(FaultRule::new("GET", "/v0/agents/*", Fault::status(502)).times(5));
    s.sims
        .cursor
        .add_fault(FaultRule::new("GET", "/v0/agents/*", Fault::Reset).times(3));
    s.sims
        .cursor
        .add_fault(FaultRule::new("GET", "/v0/agents/*", Fault::Stall));
    let (end, polls, secs) = s.run(Duration::from_secs(2700)).await;
    assert_eq!(terminal(&end), &AgentStatus::Finished);
    let faulted = s
        .sims
        .cursor
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert_eq!(faulted, 9);
    assert!(polls >= 10);
    assert!(secs < 420, "{secs}");
}

#[tokio::test(start_paused = true)]
async fn an_early_404_is_tolerated_and_a_late_one_is_not() {
    let s = setup(Scenario::lasting(10, 120)).await;
    s.sims
        .cursor
        .add_fault(FaultRule::new("GET", "/v0/agents/*", Fault::status(404)).times(2));
    let (end, _, _) = s.run(Duration::from_secs(2700)).await;
    assert_eq!(terminal(&end), &AgentStatus::Finished);

    let s = setup(Scenario::lasting(10, 3600)).await;
    let agent = s.launch().await;
    let mut w = s.waiter(&agent.id, Duration::from_secs(2700), Cancel::new());
    // Seen running, then deleted: the next 404 is final.
    assert!(matches!(w.next().await, WaitEvent::StatusChanged(_)));
    s.client.delete(&agent.id).await.unwrap();
    match w.run().await {
        WaitEnd::Failed(e) => assert_eq!(e.status(), Some(404)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn unauthorized_and_forbidden_are_fatal_at_once() {
    for status in [401, 403] {
        let s = setup(Scenario::lasting(10, 120)).await;
        s.sims
            .cursor
            .add_fault(FaultRule::new("GET", "/v0/agents/*", Fault::status(status)));
        let (end, polls, secs) = s.run(Duration::from_secs(2700)).await;
        assert!(
            matches!(end, WaitEnd::Failed(ref e) if e.status() == Some(status)),
            "{end:?}"
        );
        assert_eq!((polls, secs), (1, 0));
    }
}

#[tokio::test(start_paused = true)]
async fn the_deadline_is_never_passed() {
    let s = setup(Scenario::lasting(10, 3600)).await;
    let (end, _, secs) = s.run(Duration::from_secs(300)).await;
    assert!(matches!(end, WaitEnd::Deadline), "{end:?}");
    assert_eq!(secs, 300);

    // A Retry-After beyond the deadline is cut short by it.
    let s = setup(Scenario::lasting(10, 3600)).await;
    s.sims.cursor.add_fault(FaultRule::new(
        "GET",
        "/v0/agents/*",
        Fault::rate_limited(Some(3600)),
    ));
    let (end, polls, secs) = s.run(Duration::from_secs(120)).await;
    assert!(matches!(end, WaitEnd::Deadline));
    assert_eq!((polls, secs), (1, 120));

    // A stalled poll is cut at the deadline too.
    let s = setup(Scenario::lasting(10, 3600)).await;
    s.sims
        .cursor
        .add_fault(FaultRule::new("GET", "/v0/agents/*", Fault::Stall).times(100));
    let (end, _, secs) = s.run(Duration::from_secs(45)).await;
    assert!(matches!(end, WaitEnd::Deadline));
    assert_eq!(secs, 45);
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_the_wait_at_once() {
    let s = setup(Scenario::lasting(10, 3600)).await;
    let agent = s.launch().await;
    let cancel = cancel_after(Some(100), "SIGINT");
    let start = s.clock.now();
    let mut w = s.waiter(&agent.id, Duration::from_secs(2700), cancel);
    assert!(matches!(w.run().await, WaitEnd::Cancelled));
    assert_eq!(
        s.clock.now().saturating_since(start),
        Duration::from_secs(100)
    );
}

#[tokio::test(start_paused = true)]
async fn heartbeats_come_at_most_once_a_minute() {
    let s = setup(Scenario::lasting(10, 600)).await;
    let agent = s.launch().await;
    let mut w = s.waiter(&agent.id, Duration::from_secs(2700), Cancel::new());
    let mut beats = Vec::new();
    loop {
        match w.next().await {
            WaitEvent::Heartbeat { elapsed, .. } => beats.push(elapsed.as_secs()),
            WaitEvent::Done(_) => break,
            _ => {}
        }
    }
    assert!(beats.len() >= 8, "{beats:?}");
    assert!(beats.windows(2).all(|w| w[1] - w[0] >= 60), "{beats:?}");
}

// ---- whole runs: outcomes, exit codes, outputs, the log ----

async fn run_action(sims: &Simulators, extra: &[(&str, &str)], cancel: Cancel) -> Ran {
    let mut t = ActionTest::new()
        .event("issues", "issues.labeled.json")
        .against(&sims.cursor_url(), Some(&sims.github_url()));
    for (k, v) in extra {
        t = t.input(k, v);
    }
    t.run_in_process_with(cancel).await
}

#[tokio::test(start_paused = true)]
async fn a_finished_run_writes_every_output_and_the_summary() {
    let sims = sims_on(Clock::real()).await;
    sims.cursor.set_default_scenario(Scenario::lasting(20, 180));
    let ran = run_action(&sims, &[], Cancel::new()).await;
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    assert_eq!(ran.output("status"), "FINISHED");
    assert!(
        ran.output("pr-url")
            .starts_with("https://github.com/Codertocat/Hello-World/pull/")
    );
    assert!(
        ran.output("branch-name")
            .starts_with("cursor/issue-1-run-1234567890-")
    );
    assert!(ran.output("summary").contains("Fixed the spelling"));
    let secs: u64 = ran.output("duration-seconds").parse().unwrap();
    assert!((200..=260).contains(&secs), "{secs}");
    assert!(
        ran.summary.contains("### ✅ Cursor agent finished")
            && ran.summary.contains("| Pull request | https://github.com/")
    );
    // The progress log: a group, one line per status change, heartbeats.
    let group = ran
        .stdout
        .split("::group::Waiting for agent")
        .nth(1)
        .unwrap()
        .split("::endgroup::")
        .next()
        .unwrap();
    let lines: Vec<&str> = group.lines().skip(1).collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("CREATING → RUNNING"))
            .count(),
        1,
        "{group}"
    );
    assert!(
        lines.iter().filter(|l| l.contains("still RUNNING")).count() >= 2,
        "{group}"
    );
    assert_eq!(
        sims.cursor.count("GET", "/v0/agents/*/conversation"),
        0,
        "no conversation needed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_summary_comes_from_the_conversation() {
    let sims = sims_on(Clock::real()).await;
    sims.cursor.set_default_scenario(Scenario {
        summary_in_status: false,
        ..Scenario::lasting(10, 60)
    });
    let ran = run_action(&sims, &[], Cancel::new()).await;
    ran.success();
    assert!(ran.output("summary").contains("Fixed the spelling"));
    assert_eq!(sims.cursor.count("GET", "/v0/agents/*/conversation"), 1);
}

#[tokio::test(start_paused = true)]
async fn failing_ends_exit_1_with_one_error() {
    for (end, outcome) in [(EndStatus::Error, "error"), (EndStatus::Expired, "expired")] {
        let sims = sims_on(Clock::real()).await;
        sims.cursor
            .set_default_scenario(Scenario::lasting(10, 60).ending(end).summary(None));
        let ran = run_action(&sims, &[], Cancel::new()).await;
        ran.status(1);
        assert_eq!(ran.output("outcome"), outcome);
        assert_eq!(ran.commands("error").len(), 1, "{}", ran.stdout);
    }
}

#[tokio::test(start_paused = true)]
async fn the_deadline_in_each_policy() {
    let cases = [
        ("fail", 1, "timeout", 0usize, "RUNNING"),
        ("stop", 1, "timeout", 1, "STOPPED"),
        ("continue", 0, "timeout", 0, "RUNNING"),
    ];
    for (policy, code, outcome, stops, status) in cases {
        let sims = sims_on(Clock::real()).await;
        sims.cursor
            .set_default_scenario(Scenario::lasting(10, 7200));
        let ran = run_action(
            &sims,
            &[("timeout", "10m"), ("on-timeout", policy)],
            Cancel::new(),
        )
        .await;
        ran.status(code);
        assert_eq!(ran.output("outcome"), outcome, "{policy}");
        assert_eq!(ran.output("status"), status, "{policy}");
        assert_eq!(
            sims.cursor.count("POST", "/v0/agents/*/stop"),
            stops,
            "{policy}"
        );
        let agent = ran.output("agent-id").to_string();
        assert_eq!(
            sims.cursor.status_of(&agent).as_deref(),
            Some(status),
            "{policy}"
        );
        let secs: u64 = ran.output("duration-seconds").parse().unwrap();
        assert_eq!(secs, 600, "{policy}: the deadline, not later");
        match policy {
            "continue" => assert_eq!(
                (ran.commands("warning").len(), ran.commands("error").len()),
                (1, 0)
            ),
            _ => assert_eq!(ran.commands("error").len(), 1),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn cancellation_reports_cancelled_and_applies_on_cancel() {
    for (policy, stops, status) in [("leave", 0usize, "RUNNING"), ("stop", 1, "STOPPED")] {
        let sims = sims_on(Clock::real()).await;
        sims.cursor
            .set_default_scenario(Scenario::lasting(10, 7200));
        let cancel = cancel_after(Some(300), "SIGINT");
        let ran = run_action(&sims, &[("on-cancel", policy)], cancel).await;
        ran.status(1);
        assert_eq!(ran.output("outcome"), "cancelled");
        assert_eq!(
            sims.cursor.count("POST", "/v0/agents/*/stop"),
            stops,
            "{policy}"
        );
        assert_eq!(
            sims.cursor.status_of(ran.output("agent-id")).as_deref(),
            Some(status)
        );
        assert!(
            ran.summary.contains("Workflow cancelled"),
            "{}",
            ran.summary
        );
        let comment = sims.github.comments(REPO, 1);
        assert!(
            comment[0].body.contains("### 🚫 Workflow cancelled"),
            "{}",
            comment[0].body
        );
    }
}
