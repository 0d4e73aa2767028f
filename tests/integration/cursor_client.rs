//! The Cursor v0 client against a loopback fake: every endpoint, both auth
//! schemes, the exact launch body, and every error shape.

use crate::support::*;
use base64::Engine as _;
use cursor_api::*;
use kit::clock::Clock;
use kit::env::Env;
use kit::secret::Secret;
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer, scheme: AuthScheme) -> CursorClient {
    CursorClient::new(
        http(),
        &url::Url::parse(&server.uri()).unwrap(),
        &Secret::new(KEY),
        scheme,
        Clock::real(),
    )
}

fn agent_json(id: &str, status: &str) -> serde_json::Value {
    json!({"id": id, "name": "Fix it", "status": status,
           "source": {"repository": "https://github.com/o/r", "ref": "main"},
           "target": {"url": format!("https://cursor.com/agents?id={id}"), "autoCreatePr": true},
           "createdAt": "2026-11-23T10:00:00.000Z"})
}

#[tokio::test]
async fn both_auth_schemes() {
    let server = MockServer::start().await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:"))
    );
    Mock::given(method("GET")).and(path("/v0/me")).and(header("authorization", basic.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"apiKeyName": "ci", "createdAt": "2025-10-31T22:07:32.029Z", "userEmail": "dev@example.com"})))
        .expect(1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/v0/me"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"apiKeyName": "ci2", "createdAt": "x"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let me = client(&server, AuthScheme::Basic).me().await.unwrap();
    assert_eq!(me.api_key_name.as_deref(), Some("ci"));
    assert_eq!(me.user_email.as_deref(), Some("dev@example.com"));
    let me = client(&server, AuthScheme::Bearer).me().await.unwrap();
    assert_eq!(me.api_key_name.as_deref(), Some("ci2"));
    assert_eq!(me.user_email, None);
    let req = &server.received_requests().await.unwrap()[0];
    assert_eq!(req.headers.get("accept").unwrap(), "application/json");
    assert!(
        req.headers
            .get("user-agent")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("cursor-agent-action/")
    );
}

#[tokio::test]
async fn the_launch_body_is_exactly_the_documented_request() {
    let server = MockServer::start().await;
    let expected = json!({
        "prompt": {"text": "Add a README", "images": [{"data": "iVBORw0KGgo=", "dimension": {"width": 1024, "height": 768}}]},
        "model": "claude-4.5-sonnet-thinking",
        "source": {"repository": "https://github.com/o/r", "ref": "main"},
        "target": {"autoCreatePr": true, "openAsCursorGithubApp": true, "branchName": "cursor/readme"},
        "webhook": {"url": "https://hooks.example.com/x", "secret": "s".repeat(32)}
    });
    Mock::given(method("POST"))
        .and(path("/v0/agents"))
        .and(body_json(&expected))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(201).set_body_json(agent_json("bc-1", "CREATING")))
        .expect(1)
        .mount(&server)
        .await;
    let request = LaunchRequest {
        prompt: Prompt {
            text: "Add a README".into(),
            images: vec![PromptImage {
                data: "iVBORw0KGgo=".into(),
                dimension: Some(Dimension {
                    width: 1024,
                    height: 768,
                }),
            }],
        },
        model: Some("claude-4.5-sonnet-thinking".into()),
        source: AgentSource {
            repository: Some("https://github.com/o/r".into()),
            git_ref: Some("main".into()),
            pr_url: None,
        },
        target: LaunchTarget {
            auto_create_pr: true,
            open_as_cursor_github_app: true,
            skip_reviewer_request: false,
            branch_name: Some("cursor/readme".into()),
            auto_branch: None,
        },
        webhook: Some(WebhookSpec {
            url: "https://hooks.example.com/x".into(),
            secret: Some("s".repeat(32)),
        }),
    };
    let agent = client(&server, AuthScheme::Basic)
        .launch(&request)
        .await
        .unwrap();
    assert_eq!(agent.status, AgentStatus::Creating);

    // The minimal request: only required keys, and every key documented.
    let minimal = LaunchRequest {
        prompt: Prompt {
            text: "x".into(),
            images: vec![],
        },
        model: None,
        source: AgentSource {
            pr_url: Some("https://github.com/o/r/pull/1".into()),
            ..Default::default()
        },
        target: LaunchTarget {
            auto_create_pr: false,
            open_as_cursor_github_app: false,
            skip_reviewer_request: false,
            branch_name: None,
            auto_branch: None,
        },
        webhook: None,
    };
    assert_eq!(
        serde_json::to_value(&minimal).unwrap(),
        json!({"prompt": {"text": "x"}, "source": {"prUrl": "https://github.com/o/r/pull/1"}, "target": {"autoCreatePr": false}})
    );
}

#[tokio::test]
async fn every_other_endpoint() {
    let server = MockServer::start().await;
    let id = "bc-5012b32d-8b28-43b8-853f-da1aeba60415";
    let agent_path = format!("/v0/agents/{id}");
    let mocks = [
        Mock::given(method("GET")).and(path("/v0/models"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"models": ["default", "gpt-5.2"]}))),
        Mock::given(method("GET")).and(path("/v0/repositories"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"repositories": [{"owner": "o", "name": "r", "repository": "https://github.com/o/r"}]}))),
        Mock::given(method("GET")).and(path("/v0/agents")).and(query_param("limit", "100")).and(query_param("cursor", "bc-next")).and(query_param("prUrl", "https://github.com/o/r/pull/1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"agents": [agent_json(id, "RUNNING")], "nextCursor": "bc-after"}))),
        Mock::given(method("GET")).and(path(agent_path.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(agent_json(id, "FINISHED"))),
        Mock::given(method("GET")).and(path(format!("{agent_path}/conversation")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": id, "messages": [{"id": "m1", "type": "user_message", "text": "go"}, {"id": "m2", "type": "assistant_message", "text": "done"}]}))),
        Mock::given(method("POST")).and(path(format!("{agent_path}/followup"))).and(body_json(json!({"prompt": {"text": "also tests"}})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": id}))),
        Mock::given(method("POST")).and(path(format!("{agent_path}/stop")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": id}))),
        Mock::given(method("DELETE")).and(path(agent_path.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": id}))),
        Mock::given(method("GET")).and(path(format!("{agent_path}/artifacts")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"artifacts": [{"absolutePath": "/opt/cursor/artifacts/a.png", "sizeBytes": 12, "updatedAt": "2026-01-01T00:00:00.000Z"}]}))),
        Mock::given(method("GET")).and(path(format!("{agent_path}/artifacts/download"))).and(query_param("path", "/opt/cursor/artifacts/a.png"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"url": "https://s3.example/a.png?sig=1", "expiresAt": "2026-01-01T00:15:00.000Z"}))),
    ];
    for m in mocks {
        m.expect(1).mount(&server).await;
    }
    let c = client(&server, AuthScheme::Basic);
    assert_eq!(c.models().await.unwrap().models, vec!["default", "gpt-5.2"]);
    assert_eq!(c.repositories().await.unwrap().repositories[0].name, "r");
    let page = c
        .list_agents(
            Some(100),
            Some("bc-next"),
            Some("https://github.com/o/r/pull/1"),
        )
        .await
        .unwrap();
    assert_eq!(page.next(), Some("bc-after"));
    assert_eq!(page.agents[0].status, AgentStatus::Running);
    assert_eq!(c.agent(id).await.unwrap().status, AgentStatus::Finished);
    assert_eq!(
        c.conversation(id).await.unwrap().last_assistant_text(),
        Some("done")
    );
    let f = FollowupRequest {
        prompt: Prompt {
            text: "also tests".into(),
            images: vec![],
        },
    };
    assert_eq!(c.followup(id, &f).await.unwrap().id, id);
    assert_eq!(c.stop(id).await.unwrap().id, id);
    assert_eq!(c.delete(id).await.unwrap().id, id);
    assert_eq!(
        c.artifacts(id).await.unwrap().artifacts[0].size_bytes,
        Some(12)
    );
    assert_eq!(
        c.artifact_download_url(id, "/opt/cursor/artifacts/a.png")
            .await
            .unwrap()
            .url,
        "https://s3.example/a.png?sig=1"
    );
}

#[tokio::test]
async fn unsafe_agent_ids_never_reach_the_network() {
    let server = MockServer::start().await;
    let c = client(&server, AuthScheme::Basic);
    for id in ["../me", "bc-1/stop", "bc-1?x", ""] {
        assert!(
            matches!(c.agent(id).await, Err(CursorError::InvalidId { .. })),
            "{id}"
        );
        assert!(
            matches!(c.stop(id).await, Err(CursorError::InvalidId { .. })),
            "{id}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

async fn error_for(status: u16, body: &str, retry_after: Option<&str>) -> CursorError {
    let server = MockServer::start().await;
    let mut template =
        ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json");
    if let Some(ra) = retry_after {
        template = template.insert_header("retry-after", ra);
    }
    Mock::given(method("POST"))
        .and(path("/v0/agents"))
        .respond_with(template)
        .mount(&server)
        .await;
    let request = launch_request("x", "https://github.com/o/r", None, true);
    client(&server, AuthScheme::Basic)
        .launch(&request)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn error_shapes_map_to_messages_a_maintainer_can_act_on() {
    let cases: &[(u16, &str, &str)] = &[
        (
            401,
            r#"{"error":"Invalid User API Key"}"#,
            "Check the `cursor-api-key` secret",
        ),
        (
            400,
            r#"{"error":"You do not have access to repository o/r, or the repository does not exist. If you believe you should have access, ensure the Cursor GitHub App is installed"}"#,
            "Install the Cursor GitHub App",
        ),
        (
            403,
            r#"{"error":"Storage mode is disabled. Please enable storage in your Cursor settings to use agents via API."}"#,
            "storage mode is disabled",
        ),
        (
            400,
            r#"{"error":{"code":"usage_limit_exceeded","message":"Usage-based pricing required. Background Agent requires at least $2 remaining until your hard limit."}}"#,
            "plan or usage limit",
        ),
        (
            403,
            r#"{"error":{"code":"plan_required","message":"A paid plan is required"}}"#,
            "plan or usage limit",
        ),
        (
            400,
            r#"{"error":"Failed to determine repository default branch"}"#,
            "set `ref` to an existing branch",
        ),
        (
            400,
            r#"{"error":"Invalid creation request parameters","details":[{"code":"unrecognized_keys","message":"Unrecognized key(s) in object: 'name'","path":[],"keys":["name"]}]}"#,
            "bug in cursor-agent-action",
        ),
        (
            429,
            r#"{"error":"Too Many Requests","message":"Rate limit exceeded. Please try again later."}"#,
            "rate limiting",
        ),
        (
            500,
            "<html>Internal Server Error</html>",
            "usually temporary",
        ),
    ];
    for (status, body, expected) in cases {
        let e = error_for(*status, body, None).await;
        let m = e.actionable("o/r");
        assert!(m.starts_with("POST /v0/agents: "), "{m}");
        assert!(m.contains(expected), "{status} {body}: {m}");
    }
    // The documented object shape and the observed string shape read alike.
    let a = error_for(
        404,
        r#"{"error":{"message":"Agent not found","code":"not_found"}}"#,
        None,
    )
    .await;
    let b = error_for(404, r#"{"error":"Agent not found"}"#, None).await;
    assert!(
        a.actionable("o/r").contains("Agent not found")
            && b.actionable("o/r").contains("Agent not found")
    );
}

#[tokio::test]
async fn retry_after_is_read_and_classified() {
    let e = error_for(429, "{}", Some("17")).await;
    assert_eq!(
        e.class(),
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(17))
        }
    );
    let e = error_for(429, "{}", None).await;
    assert_eq!(e.class(), ErrorClass::RateLimited { retry_after: None });
    let e = error_for(
        429,
        r#"{"error":{"code":"usage_limit_exceeded","message":"x"}}"#,
        Some("5"),
    )
    .await;
    assert_eq!(
        e.class(),
        ErrorClass::Fatal,
        "a budget limit is not retried"
    );
    assert_eq!(
        error_for(502, "bad gateway", None).await.class(),
        ErrorClass::Transient
    );
    assert!(error_for(502, "", None).await.maybe_applied());
    assert!(!error_for(400, "{}", None).await.maybe_applied());
}

#[tokio::test]
async fn transport_failures_say_whether_the_request_may_have_been_sent() {
    let http = kit::http::client(&Env::from_pairs::<&str, &str>([])).unwrap();
    // Nothing listens on port 9 of loopback: refused before anything is sent.
    let c = CursorClient::new(
        http.clone(),
        &url::Url::parse("http://127.0.0.1:9").unwrap(),
        &Secret::new(KEY),
        AuthScheme::Basic,
        Clock::real(),
    );
    match c.me().await.unwrap_err() {
        CursorError::Transport { maybe_sent, .. } => assert!(!maybe_sent),
        other => panic!("{other:?}"),
    }
    // A slow server: our (scaled) deadline fires; the request was sent.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v0/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(2))
                .set_body_json(json!({"apiKeyName": "x"})),
        )
        .mount(&server)
        .await;
    let c = CursorClient::new(
        http,
        &url::Url::parse(&server.uri()).unwrap(),
        &Secret::new(KEY),
        AuthScheme::Basic,
        Clock::scaled(1000),
    );
    let e = c.me().await.unwrap_err();
    assert_eq!(
        e,
        CursorError::Timeout {
            endpoint: Endpoint::Me
        }
    );
    assert!(e.maybe_applied());
}

#[tokio::test]
async fn malformed_success_bodies_are_decode_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v0/agents/bc-1"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            b"{\"id\": \"bc-1\", \"status\": ".to_vec(),
            "application/json",
        ))
        .mount(&server)
        .await;
    let e = client(&server, AuthScheme::Basic)
        .agent("bc-1")
        .await
        .unwrap_err();
    assert!(
        matches!(e, CursorError::Decode { status: 200, .. }),
        "{e:?}"
    );
    assert_eq!(e.class(), ErrorClass::Transient);
}
