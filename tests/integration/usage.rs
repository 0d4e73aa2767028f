//! Usage and cost of a v1 run, read from the simulator: cost that lags the
//! run's end is waited for within the stated budget, and any failure
//! (404, 403 feature_unavailable, 5xx, malformed bodies, a run with no usage
//! yet) gives no usage rather than an error.

use crate::v1_sim::{create_request, v1_setup};
use cursor_agent_action::clock::Clock;
use cursor_agent_action::cursor::v1::V1Client;
use cursor_agent_action::report::usage::{USAGE_BUDGET, USAGE_READS, read_usage};
use cursor_agent_action::sim::{Fault, FaultRule, Simulators, V1Scenario};
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
    assert!(usage.line().contains(" tokens (input "), "{}", usage.line());
    assert!(usage.line().contains(" · $0."), "{}", usage.line());
    let outputs = usage.outputs();
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
    assert!(usage.line().ends_with("· cost not reported yet"));
    assert_eq!(usage.outputs()[2].1, "", "no cost is not zero cost");
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
