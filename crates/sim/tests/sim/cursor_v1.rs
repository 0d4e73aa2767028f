//! The v1 half of the Cursor simulator, through the v1 client: strict
//! validation, idempotent creation, one run at a time, cancel (and its
//! failure), usage with lagging cost, artifacts, archive.

use crate::support::*;
use cursor_api::AuthScheme;
use cursor_api::v1::*;
use kit::clock::Clock;
use kit::secret::Secret;
use sim::*;
use std::time::Duration;

const REPO: &str = "https://github.com/Codertocat/Hello-World";

async fn v1_setup(scenario: V1Scenario) -> (Simulators, V1Client, Clock) {
    let clock = Clock::real();
    let sims = Simulators::start(clock).await.unwrap();
    sims.cursor.v1().set_scenario(scenario);
    let client = V1Client::new(
        http(),
        &url::Url::parse(&sims.cursor_url()).unwrap(),
        &Secret::new(KEY),
        AuthScheme::Bearer,
        clock,
    );
    (sims, client, clock)
}

fn create_request(agent_id: Option<String>) -> CreateAgentRequest {
    CreateAgentRequest {
        prompt: Prompt::text("Fix the failing test"),
        model: Some(ModelSelection::id("claude-haiku-4-5")),
        name: None,
        repos: vec![RepoSpec {
            url: REPO.into(),
            starting_ref: Some("main".into()),
            pr_url: None,
        }],
        work_on_current_branch: None,
        auto_create_pr: Some(true),
        skip_reviewer_request: Some(true),
        mode: None,
        agent_id,
    }
}

async fn raw_create(sims: &Simulators, body: serde_json::Value) -> (u16, serde_json::Value) {
    let r = http()
        .post(format!("{}/v1/agents", sims.cursor_url()))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(start_paused = true)]
async fn requests_are_validated_strictly() {
    let (sims, _, _) = v1_setup(V1Scenario::default()).await;
    let cases = [
        (
            serde_json::json!({"prompt": {"text": "x"}, "branchName": "b"}),
            "Unrecognized key(s) in object: 'branchName'",
        ),
        (
            serde_json::json!({"prompt": {"text": "x"}, "model": "gpt-5.2"}),
            "Expected object",
        ),
        (
            serde_json::json!({"prompt": {"text": "x"}, "model": {"id": "nope"}}),
            "Model 'nope' is not available",
        ),
        (
            serde_json::json!({"prompt": {"text": "x"}, "agentId": "bc-123"}),
            "agentId",
        ),
        (serde_json::json!({"prompt": {"text": ""}}), "prompt.text"),
        (
            serde_json::json!({"prompt": {"text": "x"}, "mode": "yolo"}),
            "mode",
        ),
    ];
    for (body, expect) in cases {
        let (status, answer) = raw_create(&sims, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["error"]["code"], "validation_error", "{body}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains(expect),
            "{body}: {answer}"
        );
    }
    assert_eq!(sims.cursor.v1().agents_created(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_replayed_agent_id_conflicts_and_the_agent_is_adopted() {
    let (sims, client, _) = v1_setup(V1Scenario::default()).await;
    let id = derive_agent_id(&["Codertocat/Hello-World", "7", "job", "step"]);
    // The first answer is lost after the agent was created.
    sims.cursor
        .add_fault(FaultRule::new("POST", "/v1/agents", Fault::ApplyThenReset));
    let lost = client
        .create_agent(&create_request(Some(id.clone())))
        .await
        .unwrap_err();
    assert!(lost.maybe_applied(), "{lost:?}");
    // The retry with the same id cannot create a second agent.
    let again = client
        .create_agent(&create_request(Some(id.clone())))
        .await
        .unwrap_err();
    assert_eq!(
        (again.status(), again.code()),
        (Some(409), Some("agent_id_conflict"))
    );
    assert_eq!(sims.cursor.v1().agents_created(), 1);
    let agent = client.agent(&id).await.unwrap();
    let run = client
        .run(&id, agent.latest_run_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(run.agent_id, id);
}

#[tokio::test(start_paused = true)]
async fn one_run_at_a_time_then_follow_ups_then_archive() {
    let (sims, client, clock) = v1_setup(V1Scenario::lasting(2, 20)).await;
    let created = client.create_agent(&create_request(None)).await.unwrap();
    let id = created.agent.id.clone();
    let follow = CreateRunRequest {
        prompt: Prompt::text("and more"),
        model: None,
    };
    let busy = client.create_run(&id, &follow).await.unwrap_err();
    assert_eq!(busy.code(), Some("agent_busy"));
    assert_eq!(client.agent(&id).await.unwrap().status, AgentStatus::Active);
    clock.sleep(Duration::from_secs(30)).await;
    let first = client.run(&id, &created.run.id).await.unwrap();
    assert_eq!(first.status, RunStatus::Finished);
    assert_eq!(
        first.result.as_deref(),
        Some("Fixed the failing test and opened a pull request.")
    );
    let branch = &first.git.as_ref().unwrap().branches[0];
    assert_eq!(
        branch.repo_url, "github.com/Codertocat/Hello-World",
        "scheme-less"
    );
    assert_eq!(client.agent(&id).await.unwrap().status, AgentStatus::Idle);
    let second = client.create_run(&id, &follow).await.unwrap();
    assert_ne!(second.id, created.run.id);
    assert_eq!(sims.cursor.v1().runs_of(&id), 2);
    let runs = client.list_runs(&id, None, None).await.unwrap();
    assert_eq!(runs.items[0].id, second.id, "newest first");
    clock.sleep(Duration::from_secs(30)).await;
    client.archive(&id).await.unwrap();
    client.archive(&id).await.unwrap();
    assert_eq!(
        client.agent(&id).await.unwrap().status,
        AgentStatus::Archived
    );
    let archived = client.create_run(&id, &follow).await.unwrap_err();
    assert_eq!(archived.code(), Some("agent_archived"));
    client.unarchive(&id).await.unwrap();
    client.create_run(&id, &follow).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn cancel_ends_the_run_or_fails_with_500_and_leaves_it_running() {
    for fails in [false, true] {
        let (_sims, client, clock) = v1_setup(V1Scenario {
            cancel_fails: fails,
            ..V1Scenario::lasting(2, 120)
        })
        .await;
        let created = client.create_agent(&create_request(None)).await.unwrap();
        let (id, run) = (created.agent.id.clone(), created.run.id.clone());
        clock.sleep(Duration::from_secs(10)).await;
        let r = client.cancel_run(&id, &run).await;
        clock.sleep(Duration::from_secs(2)).await;
        let after = client.run(&id, &run).await.unwrap();
        if fails {
            assert_eq!(r.unwrap_err().status(), Some(500));
            assert_eq!(after.status, RunStatus::Running);
        } else {
            r.unwrap();
            assert_eq!(after.status, RunStatus::Cancelled);
            assert_eq!(after.result, None, "no text on a cancelled run");
            let again = client.cancel_run(&id, &run).await.unwrap_err();
            assert_eq!(again.code(), Some("run_not_cancellable"));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn usage_cost_lags_and_artifacts_appear_after_the_end() {
    let (_sims, client, clock) = v1_setup(V1Scenario::lasting(2, 20)).await;
    let created = client.create_agent(&create_request(None)).await.unwrap();
    let (id, run) = (created.agent.id.clone(), created.run.id.clone());
    clock.sleep(Duration::from_secs(23)).await;
    let usage = client.usage(&id, Some(&run)).await.unwrap();
    assert!(usage.total_usage.total_tokens > 0);
    assert_eq!(usage.cost, None, "cost lags the run's end");
    assert!(
        client.artifacts(&id).await.unwrap().items.is_empty(),
        "uploaded a moment later"
    );
    clock.sleep(Duration::from_secs(10)).await;
    let usage = client.usage(&id, Some(&run)).await.unwrap();
    assert!(usage.cost.unwrap().charged_cents.unwrap() > 0.0);
    let items = client.artifacts(&id).await.unwrap().items;
    assert_eq!(items[0].path, "artifacts/summary.md");
    let url = client
        .artifact_download_url(&id, &items[0].path)
        .await
        .unwrap();
    assert!(url.url.starts_with("https://"));
    let missing = client
        .artifact_download_url(&id, "artifacts/nope")
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("artifact_not_found"));
    let unknown = client
        .usage(&id, Some("run-00000000-0000-0000-0000-000000000000"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("run_not_found"));
}

#[tokio::test(start_paused = true)]
async fn v0_and_v1_share_one_port() {
    let (sims, client, _) = v1_setup(V1Scenario::default()).await;
    assert_eq!(client.me().await.unwrap().api_key_name, "simulator");
    assert!(
        client
            .models()
            .await
            .unwrap()
            .items
            .iter()
            .any(|m| m.id == "default")
    );
    let v0 = cursor_client(&sims.cursor_url(), KEY, Clock::real());
    assert!(!v0.models().await.unwrap().models.is_empty());
}

/// Reads a whole stream from the simulator (it closes after `done`).
async fn read_stream(
    client: &V1Client,
    agent: &str,
    run: &str,
    last: Option<&str>,
) -> Vec<cursor_api::v1::sse::SseEvent> {
    let mut s = client.stream(agent, run, last).await.unwrap();
    assert_eq!(s.retention_seconds, Some(86400));
    let mut p = cursor_api::v1::sse::SseParser::new();
    let mut events = Vec::new();
    while let Some(chunk) = s.chunk().await.unwrap() {
        events.extend(p.feed(&chunk).unwrap());
    }
    events
}

#[tokio::test(start_paused = true)]
async fn the_stream_has_the_recorded_shape_and_resumes_after_an_id() {
    let (_sims, client, clock) = v1_setup(V1Scenario::lasting(3, 30)).await;
    let created = client.create_agent(&create_request(None)).await.unwrap();
    let (agent, run) = (created.agent.id.clone(), created.run.id.clone());
    let events = read_stream(&client, &agent, &run, None).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    // Sticky status without an id at the top; CREATING then RUNNING.
    assert_eq!((kinds[0], events[0].id.as_deref()), ("status", None));
    assert!(events[0].data.contains("CREATING"), "{:?}", events[0]);
    assert!(
        events
            .iter()
            .any(|e| e.event == "status" && e.data.contains("RUNNING"))
    );
    // Twins share ids.
    for (i, e) in events.iter().enumerate() {
        if e.event == "assistant" || e.event == "thinking" {
            assert_eq!(events[i + 1].event, "interaction_update");
            assert_eq!(events[i + 1].id, e.id);
        }
    }
    // status FINISHED (no id) seconds before result; result and done share an id.
    // (Heartbeats may come between them.)
    let content: Vec<_> = events.iter().filter(|e| e.event != "heartbeat").collect();
    let n = content.len();
    let tail: Vec<&str> = content[n - 3..].iter().map(|e| e.event.as_str()).collect();
    assert_eq!(tail, ["status", "result", "done"]);
    assert!(content[n - 3].id.is_none() && content[n - 3].data.contains("FINISHED"));
    assert_eq!(content[n - 2].id, content[n - 1].id);
    assert!(clock.now().since_start() >= Duration::from_secs(33));
    // Resuming after an id: the sticky status, then only later events.
    let mid = events.iter().position(|e| e.event == "tool_call").unwrap();
    let resumed = read_stream(&client, &agent, &run, events[mid].id.as_deref()).await;
    assert_eq!(resumed[0].event, "status");
    assert!(
        resumed[0].data.contains("FINISHED"),
        "sticky = the current status"
    );
    assert_eq!(&resumed[1..], &events[mid + 1..]);
    // An id from elsewhere is refused.
    let bad = client.stream(&agent, &run, Some("1-0")).await.unwrap_err();
    assert_eq!(bad.code(), Some("invalid_last_event_id"));
}

#[tokio::test(start_paused = true)]
async fn run_reads_are_rate_limited_per_key_with_retry_after() {
    let (sims, client, clock) = v1_setup(V1Scenario::lasting(3, 600)).await;
    sims.cursor.v1().set_run_read_limit(5);
    let created = client.create_agent(&create_request(None)).await.unwrap();
    let (id, run) = (created.agent.id.clone(), created.run.id.clone());
    for _ in 0..5 {
        client.run(&id, &run).await.unwrap();
    }
    let limited = client.run(&id, &run).await.unwrap_err();
    assert_eq!(
        (limited.status(), limited.code()),
        (Some(429), Some("rate_limit_exceeded"))
    );
    let wait = limited.retry_after().unwrap();
    assert!(
        wait <= Duration::from_secs(60) && wait >= Duration::from_secs(59),
        "{wait:?}"
    );
    clock.sleep(wait).await;
    client.run(&id, &run).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_control_api_sets_v1_scenarios_and_refuses_unknown_fields() {
    let (sims, client, _) = v1_setup(V1Scenario::default()).await;
    let post = |body: serde_json::Value| {
        http()
            .post(format!("{}/_sim/v1/scenario", sims.cursor_url()))
            .json(&body)
            .send()
    };
    assert_eq!(
        post(serde_json::json!({"expired": true, "heartbeat_secs": 0}))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post(serde_json::json!({"expird": true}))
            .await
            .unwrap()
            .status(),
        400
    );
    let created = client.create_agent(&create_request(None)).await.unwrap();
    let err = client
        .stream(&created.agent.id, &created.run.id, None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(410), Some("stream_expired"))
    );
    http()
        .post(format!("{}/_sim/reset", sims.cursor_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(sims.cursor.v1().agents_created(), 0);
}
