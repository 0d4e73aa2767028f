//! The Cursor v1 client against a loopback fake: the exact request shapes,
//! both follow-up answer shapes, and a message a user can act on for every
//! v1 error code.

use crate::support::*;
use cursor_api::AuthScheme;
use cursor_api::v1::*;
use kit::clock::Clock;
use kit::secret::Secret;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AGENT: &str = "bc-5012b32d-8b28-43b8-853f-da1aeba60415";
const RUN: &str = "run-e6750adb-4e5f-45b1-b1af-feddfd1cd681";

fn client(server: &MockServer) -> V1Client {
    V1Client::new(
        http(),
        &url::Url::parse(&server.uri()).unwrap(),
        &Secret::new(KEY),
        AuthScheme::Bearer,
        Clock::real(),
    )
}

fn run_json(status: &str) -> serde_json::Value {
    json!({"id": RUN, "agentId": AGENT, "status": status,
           "createdAt": "2026-04-13T18:30:00.000Z", "updatedAt": "2026-04-13T18:30:00.000Z"})
}

#[tokio::test]
async fn create_sends_exactly_the_v1_shape() {
    let server = MockServer::start().await;
    let agent_id = derive_agent_id(&["o/r", "42", "build", "step-1"]);
    let expected = json!({
        "prompt": {"text": "Fix it"},
        "model": {"id": "claude-haiku-4-5"},
        "repos": [{"url": "https://github.com/o/r", "startingRef": "main"}],
        "autoCreatePR": true,
        "skipReviewerRequest": true,
        "mode": "plan",
        "agentId": agent_id,
    });
    Mock::given(method("POST"))
        .and(path("/v1/agents"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(body_json(&expected))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "agent": {"id": agent_id, "status": "ACTIVE", "url": format!("https://cursor.com/agents/{agent_id}"),
                      "latestRunId": RUN, "repos": [{"url": "https://github.com/o/r"}]},
            "run": run_json("CREATING"),
        })))
        .expect(1)
        .mount(&server)
        .await;
    let created = client(&server)
        .create_agent(&CreateAgentRequest {
            prompt: Prompt::text("Fix it"),
            model: Some(ModelSelection::id("claude-haiku-4-5")),
            name: None,
            repos: vec![RepoSpec {
                url: "https://github.com/o/r".into(),
                starting_ref: Some("main".into()),
                pr_url: None,
            }],
            work_on_current_branch: None,
            auto_create_pr: Some(true),
            skip_reviewer_request: Some(true),
            mode: Some(Mode::Plan),
            agent_id: Some(agent_id.clone()),
        })
        .await
        .unwrap();
    assert_eq!(created.agent.id, agent_id);
    assert_eq!(created.run.status, RunStatus::Creating);
}

#[tokio::test]
async fn a_malformed_agent_id_is_never_sent() {
    let server = MockServer::start().await;
    let err = client(&server)
        .create_agent(&CreateAgentRequest {
            prompt: Prompt::text("x"),
            model: None,
            name: None,
            repos: vec![],
            work_on_current_branch: None,
            auto_create_pr: None,
            skip_reviewer_request: None,
            mode: None,
            agent_id: Some("bc-not-a-uuid".into()),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, V1Error::InvalidId { .. }), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn follow_ups_accept_both_answer_shapes_and_reads_keep_unknown_statuses() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/agents/{AGENT}/runs")))
        .and(body_json(json!({"prompt": {"text": "again"}})))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"run": run_json("CREATING")})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/agents/{AGENT}/runs")))
        .respond_with(ResponseTemplate::new(201).set_body_json(run_json("CREATING")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/agents/{AGENT}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": AGENT, "status": "HIBERNATING"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/agents/{AGENT}/usage")))
        .and(query_param("runId", RUN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalUsage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
            "runs": [{"id": RUN, "usage": {"totalTokens": 15}, "cost": {"rawCostCents": 2.48, "chargedCents": 0.0}}]})))
        .mount(&server)
        .await;
    let c = client(&server);
    let request = CreateRunRequest {
        prompt: Prompt::text("again"),
        model: None,
    };
    assert_eq!(c.create_run(AGENT, &request).await.unwrap().id, RUN);
    assert_eq!(c.create_run(AGENT, &request).await.unwrap().id, RUN);
    let agent = c.agent(AGENT).await.unwrap();
    assert_eq!(agent.status, AgentStatus::Unknown("HIBERNATING".into()));
    let usage = c.usage(AGENT, Some(RUN)).await.unwrap();
    assert_eq!(
        usage.cost, None,
        "absent cost is not reported yet, not zero"
    );
    assert_eq!(usage.runs[0].cost.unwrap().charged_cents, Some(0.0));
}

#[tokio::test]
async fn every_v1_error_code_says_what_to_do() {
    let server = MockServer::start().await;
    let mut messages = std::collections::BTreeMap::new();
    for (i, code) in KNOWN_CODES.iter().enumerate() {
        let run = format!("run-00000000-0000-0000-0000-{i:012}");
        Mock::given(method("GET"))
            .and(path(format!("/v1/agents/{AGENT}/runs/{run}")))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
                "code": code, "message": format!("raw {code}"),
                "helpUrl": "https://cursor.com/docs/help", "provider": "github"}})))
            .mount(&server)
            .await;
        let err = client(&server).run(AGENT, &run).await.unwrap_err();
        assert_eq!(err.code(), Some(*code));
        let m = err.actionable("o/r");
        assert!(m.contains(&format!("raw {code}")), "{code}: {m}");
        assert!(
            m.contains("Help: https://cursor.com/docs/help"),
            "{code}: {m}"
        );
        assert!(m.contains("(provider: github)"), "{code}: {m}");
        assert!(!m.contains('\n'), "{code}: {m}");
        // The hint is specific: it names the code (or, for the model's
        // validation error, the input to fix), not a generic "rejected".
        let hint = m.split(" Cursor said:").next().unwrap().to_string();
        assert!(
            !hint.contains("The Cursor API rejected the request (400)"),
            "{code}: {m}"
        );
        messages.insert(hint, code);
    }
    assert_eq!(
        messages.len(),
        KNOWN_CODES.len(),
        "one distinct message per code"
    );
}

#[tokio::test]
async fn the_string_shape_and_undocumented_limits_are_handled() {
    let server = MockServer::start().await;
    let cases = [
        (
            403,
            json!({"error": "Storage mode is disabled. Please enable storage in your Cursor settings to use agents via API."}),
            "storage mode is disabled",
        ),
        (
            400,
            json!({"error": "You do not have access to repository o/r, or the repository does not exist. If you believe you should have access, ensure the Cursor GitHub App is installed"}),
            "Install the Cursor GitHub App",
        ),
        (
            429,
            json!({"error": "Too many concurrent agents for your plan"}),
            "archive finished agents at https://cursor.com/agents",
        ),
        (
            400,
            json!({"error": {"code": "validation_error", "message": "Model 'grok-4.5' does not match a known variant"}}),
            "set `model`",
        ),
        (
            400,
            json!({"error": {"code": "usage_limit_exceeded", "message": "Usage-based pricing required. Background Agent requires at least $2 remaining until your hard limit."}}),
            "retrying will not help",
        ),
    ];
    for (i, (status, body, expect)) in cases.iter().enumerate() {
        let run = format!("run-00000000-0000-0000-0000-{i:012}");
        Mock::given(method("GET"))
            .and(path(format!("/v1/agents/{AGENT}/runs/{run}")))
            .respond_with(ResponseTemplate::new(*status).set_body_json(body))
            .mount(&server)
            .await;
        let m = client(&server)
            .run(AGENT, &run)
            .await
            .unwrap_err()
            .actionable("o/r");
        assert!(m.contains(expect), "{body}: {m}");
    }
}
