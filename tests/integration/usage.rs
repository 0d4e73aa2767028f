//! Usage and cost of a v1 run, read from the simulator: cost that lags the
//! run's end is waited for within the stated budget, and any failure
//! (404, 403 feature_unavailable, 5xx, malformed bodies, a run with no usage
//! yet) gives no usage rather than an error.

use crate::support::{create_request, v1_setup};
use cursor_agent_action::agent::usage::{USAGE_BUDGET, USAGE_READS, read_usage};
use cursor_agent_action::report::usage::{line, outputs};
use cursor_api::v1::V1Client;
use kit::clock::Clock;
use sim::{Fault, FaultRule, Simulators, V1Scenario};
use std::time::Duration;

const USAGE: &str = "/v1/agents/*/usage";

/// A run that ends 33 s after its creation, read 34 s after it.
async fn ended_run(cost_lag: u64) -> (Simulators, V1Client, Clock, String, String) {
    let (sims, client, clock) = v1_setup(V1Scenario {
        cost_lag: Duration::from_secs(cost_lag),
        ..V1Scenario::lasting(3, 30)
    })
    .await;
    let created = client.create_agent(&create_request(None)).await.unwrap();
    clock.sleep(Duration::from_secs(34)).await;
    (sims, client, clock, created.agent.id, created.run.id)
}

#[tokio::test(start_paused = true)]
async fn cost_that_lags_is_waited_for_within_the_budget() {
    // Cost lands 7 s after the end: reads at +1, +5 and +9 s find it at the third.
    let (sims, client, clock, agent, run) = ended_run(7).await;
    let start = clock.now();
    let usage = read_usage(&client, &agent, Some(&run), clock)
        .await
        .unwrap();
    assert!(clock.now().saturating_since(start) <= USAGE_BUDGET);
    assert_eq!(sims.cursor.count("GET", USAGE), USAGE_READS as usize);
    let cost = usage.cost.expect("the cost came within the budget");
    assert!(cost.charged > 0.0);
    assert!(usage.tokens.total > 0);
    assert!(line(&usage).contains(" tokens (input "), "{}", line(&usage));
    assert!(line(&usage).contains(" · $0."), "{}", line(&usage));
    let outputs = outputs(&usage);
    let json: serde_json::Value = serde_json::from_str(&outputs[0].1).unwrap();
    assert_eq!(json["totalTokens"].as_u64(), Some(usage.tokens.total));
    assert_eq!(outputs[1].1, usage.tokens.total.to_string());
    assert!(!outputs[2].1.is_empty());
}

#[tokio::test(start_paused = true)]
async fn cost_already_there_is_read_once_and_cost_never_there_is_left_out() {
    let (sims, client, clock, agent, run) = ended_run(0).await;
    let usage = read_usage(&client, &agent, Some(&run), clock)
        .await
        .unwrap();
    assert!(usage.cost.is_some());
    assert_eq!(sims.cursor.count("GET", USAGE), 1);

    let (sims, client, clock, agent, run) = ended_run(600).await;
    let start = clock.now();
    let usage = read_usage(&client, &agent, Some(&run), clock)
        .await
        .unwrap();
    assert_eq!(sims.cursor.count("GET", USAGE), USAGE_READS as usize);
    assert!(clock.now().saturating_since(start) <= USAGE_BUDGET);
    assert_eq!(usage.cost, None);
    assert!(line(&usage).ends_with("· cost not reported yet"));
    assert_eq!(outputs(&usage)[2].1, "", "no cost is not zero cost");
}

#[tokio::test(start_paused = true)]
async fn any_failure_gives_no_usage() {
    let feature_unavailable = Fault::Status {
        status: 403,
        body: Some(
            r#"{"error":{"code":"feature_unavailable","message":"Usage is in early access"}}"#
                .into(),
        ),
        retry_after: None,
        headers: vec![],
    };
    let cases: Vec<(&str, Option<Fault>, usize)> = vec![
        ("403 feature_unavailable", Some(feature_unavailable), 1),
        (
            "500 on every read",
            Some(Fault::status(500)),
            USAGE_READS as usize,
        ),
        (
            "malformed body",
            Some(Fault::MalformedJson),
            USAGE_READS as usize,
        ),
        (
            "429 beyond the budget",
            Some(Fault::rate_limited(Some(60))),
            1,
        ),
    ];
    for (name, fault, reads) in cases {
        let (sims, client, clock, agent, run) = ended_run(0).await;
        if let Some(f) = fault {
            sims.cursor
                .add_fault(FaultRule::new("GET", USAGE, f).times(100));
        }
        let start = clock.now();
        assert_eq!(
            read_usage(&client, &agent, Some(&run), clock).await,
            None,
            "{name}"
        );
        assert_eq!(sims.cursor.count("GET", USAGE), reads, "{name}");
        assert!(
            clock.now().saturating_since(start) <= USAGE_BUDGET,
            "{name}"
        );
    }
    // An unknown run: 404 run_not_found, once.
    let (sims, client, clock, agent, _) = ended_run(0).await;
    assert_eq!(
        read_usage(&client, &agent, Some("run-unknown"), clock).await,
        None
    );
    assert_eq!(sims.cursor.count("GET", USAGE), 1);
    // A 500 at one moment only: the next read has it.
    let (sims, client, clock, agent, run) = ended_run(0).await;
    sims.cursor
        .add_fault(FaultRule::new("GET", USAGE, Fault::status(500)).times(1));
    assert!(
        read_usage(&client, &agent, Some(&run), clock)
            .await
            .is_some()
    );
    assert_eq!(sims.cursor.count("GET", USAGE), 2);
}

#[tokio::test(start_paused = true)]
async fn a_run_not_ended_has_no_usage_yet() {
    let (sims, client, clock) = v1_setup(V1Scenario::lasting(3, 600)).await;
    let created = client.create_agent(&create_request(None)).await.unwrap();
    clock.sleep(Duration::from_secs(10)).await;
    let got = read_usage(&client, &created.agent.id, Some(&created.run.id), clock).await;
    assert_eq!(got, None, "all zeros and no cost is no usage");
    assert_eq!(sims.cursor.count("GET", USAGE), USAGE_READS as usize);
}

// ---- final first, details after (#23) ----

use crate::support::{Api, cancel_after, comment_writes, is_final_body, labeled, sims_on};
use sim::Scenario;

/// The comment's writes whose body is final, with when (ms).
fn final_writes(s: &Simulators) -> Vec<(u64, String)> {
    comment_writes(s)
        .into_iter()
        .filter(|(_, b)| is_final_body(b))
        .collect()
}

/// When the `rocket` reaction was added (ms).
fn rocket_at(s: &Simulators) -> u64 {
    s.github
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/reactions") && r.body.contains("rocket"))
        .expect("a rocket")
        .at_ms
}

#[tokio::test(start_paused = true)]
async fn the_final_comment_is_written_within_1s_of_the_result_and_usage_and_artifacts_amend_it_once()
 {
    let s = sims_on(Clock::real()).await;
    // Cost lags the end by 6 s, artifacts by 2 s (the simulator's upload).
    s.cursor.v1().set_scenario(V1Scenario {
        cost_lag: Duration::from_secs(6),
        ..V1Scenario::lasting(3, 40)
    });
    let ran = labeled(&s).api(Api::V1).run_in_process().await;
    ran.success();
    let end = s.cursor.v1().run_ends()[0].as_millis() as u64;
    let finals = final_writes(&s);
    assert_eq!(
        finals.len(),
        2,
        "one final write, one amendment: {finals:#?}"
    );
    let (at, first) = &finals[0];
    assert!(
        *at >= end && at - end <= 1000,
        "final {} ms after the result",
        at - end
    );
    for fact in ["**Summary**", "**Duration:**", "**Branch:**"] {
        assert!(
            first.contains(fact),
            "{fact} in the first final write:\n{first}"
        );
    }
    assert!(!first.contains("**Usage:**"), "usage comes later:\n{first}");
    assert!(
        rocket_at(&s) <= finals[1].0,
        "the reaction comes with the outcome"
    );
    let (amended_at, amended) = &finals[1];
    assert!(amended_at - end >= 6000, "the amendment waits for the cost");
    assert!(amended.contains("**Usage:**"), "{amended}");
    assert!(amended.contains("`summary.md`"), "{amended}");
    assert!(!amended.contains("Not reported"), "{amended}");
    assert_eq!(
        comment_writes(&s).last().map(|w| w.0),
        Some(*amended_at),
        "nothing after the amendment"
    );
    assert!(
        !ran.output("cost-cents").is_empty(),
        "the outputs have the cost"
    );
}

#[tokio::test(start_paused = true)]
async fn nothing_to_add_means_no_amendment_and_v0_is_final_within_1s_of_its_terminal_read() {
    let s = sims_on(Clock::real()).await;
    s.cursor.set_default_scenario(Scenario {
        artifacts: vec![],
        ..Scenario::lasting(20, 300)
    });
    let ran = labeled(&s).api(Api::V0).run_in_process().await;
    ran.success();
    let finals = final_writes(&s);
    assert_eq!(finals.len(), 1, "no usage on v0, no artifacts: {finals:#?}");
    // The outcome is known at the read that sees the terminal status.
    let known = s
        .cursor
        .requests()
        .into_iter()
        .filter(|r| {
            r.method == "GET"
                && r.path.starts_with("/v0/agents/bc")
                && r.path.matches('/').count() == 3
        })
        .map(|r| r.at_ms)
        .max()
        .unwrap();
    assert!(finals[0].0 - known <= 1000, "{} ms", finals[0].0 - known);
    assert!(finals[0].1.contains("**Summary**"));
    // With an artifact (the default scenario), exactly one amendment.
    let s = sims_on(Clock::real()).await;
    s.cursor.set_default_scenario(Scenario::lasting(20, 300));
    labeled(&s).api(Api::V0).run_in_process().await.success();
    let finals = final_writes(&s);
    assert_eq!(finals.len(), 2, "{finals:#?}");
    assert!(!finals[0].1.contains("screenshot.png"));
    assert!(finals[1].1.contains("screenshot.png"), "{}", finals[1].1);
}

#[tokio::test(start_paused = true)]
async fn a_cancel_between_the_final_write_and_the_amendment_leaves_a_final_comment_saying_what_is_missing()
 {
    let s = sims_on(Clock::real()).await;
    s.cursor.v1().set_scenario(V1Scenario {
        cost_lag: Duration::from_secs(30),
        ..V1Scenario::lasting(3, 40)
    });
    let ran = labeled(&s)
        .api(Api::V1)
        .run_in_process_with(cancel_after(Some(46), "SIGTERM"))
        .await;
    let end = s.cursor.v1().run_ends()[0].as_millis() as u64;
    let finals = final_writes(&s);
    assert!(
        finals[0].0 <= 46_000 && finals[0].0 - end <= 1000,
        "final before the cancel"
    );
    assert_eq!(finals.len(), 2, "{finals:#?}");
    let last = &finals[1].1;
    assert!(
        last.contains("Not reported: its usage and artifacts (the workflow run was cancelled before Cursor reported it)"),
        "{last}"
    );
    assert!(finals[1].0 <= 46_000 + 5_000, "within the cancel budget");
    assert!(last.contains("**Summary**"), "still the outcome:\n{last}");
    assert_eq!(ran.output("outcome"), "finished");
}
