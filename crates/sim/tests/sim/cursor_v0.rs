//! The Cursor v0 simulator behaves as the real API does (per the spec), as
//! seen through our own client (cursor-api).

use crate::support::*;
use cursor_api::*;
use kit::clock::Clock;
use kit::secret::Secret;
use serde_json::{Value, json};
use sim::*;
use std::net::SocketAddr;
use std::time::Duration;

fn cursor(sims: &Simulators, key: &str, scheme: AuthScheme) -> CursorClient {
    CursorClient::new(
        http(),
        &url::Url::parse(&sims.cursor_url()).unwrap(),
        &Secret::new(key),
        scheme,
        Clock::real(),
    )
}

fn request(repo: &str, branch: Option<&str>, auto_pr: bool) -> LaunchRequest {
    LaunchRequest {
        prompt: Prompt {
            text: "Fix the README spelling".into(),
            images: vec![],
        },
        model: None,
        source: AgentSource {
            repository: Some(repo.into()),
            git_ref: Some("master".into()),
            pr_url: None,
        },
        target: LaunchTarget {
            auto_create_pr: auto_pr,
            open_as_cursor_github_app: false,
            skip_reviewer_request: false,
            branch_name: branch.map(String::from),
            auto_branch: None,
        },
        webhook: None,
    }
}

const REPO: &str = "https://github.com/Codertocat/Hello-World";

/// Raw HTTP to the Cursor simulator, for what our client never sends.
async fn raw(
    sims: &Simulators,
    method: reqwest::Method,
    path: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut r = http().request(method, format!("{}{path}", sims.cursor_url()));
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

#[tokio::test]
async fn auth_accepts_basic_and_bearer_and_rejects_the_rest() {
    let sims = Simulators::start_on(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        Clock::real(),
        CursorSimConfig {
            keys: Some(vec![KEY.into()]),
            object_errors: false,
        },
        GitHubSimConfig::default(),
    )
    .await
    .unwrap();
    assert!(cursor(&sims, KEY, AuthScheme::Basic).me().await.is_ok());
    assert!(cursor(&sims, KEY, AuthScheme::Bearer).me().await.is_ok());
    let e = cursor(&sims, "crsr_wrong_key_000", AuthScheme::Basic)
        .me()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(401));
    let (status, body, _) = raw(&sims, reqwest::Method::GET, "/v0/me", None, None).await;
    assert_eq!(
        (status, body),
        (401, json!({"error": "Invalid User API Key"}))
    );
}

#[tokio::test]
async fn strict_validation_like_the_real_api() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    let auth = format!("Bearer {KEY}");
    let (status, body, _) = raw(
        &sims,
        reqwest::Method::POST,
        "/v0/agents",
        Some(&auth),
        Some(json!({
            "name": "x", "prompt": {"text": "x"}, "source": {"repository": REPO}
        })),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "Invalid creation request parameters");
    assert_eq!(
        body["details"][0],
        json!({"code": "unrecognized_keys", "message": "Unrecognized key(s) in object: 'name'", "path": [], "keys": ["name"]})
    );
    let cases = [
        (
            json!({"prompt": {"text": ""}, "source": {"repository": REPO}}),
            "too_small",
            json!(["prompt", "text"]),
        ),
        (
            json!({"prompt": {"text": "x", "images": vec![json!({"data": "aGk="}); 6]}, "source": {"repository": REPO}}),
            "too_big",
            json!(["prompt", "images"]),
        ),
        (
            json!({"prompt": {"text": "x"}, "source": {"repository": REPO}, "webhook": {"url": "https://h.example", "secret": "short"}}),
            "too_small",
            json!(["webhook", "secret"]),
        ),
        (
            json!({"prompt": {"text": "x"}, "source": {"repository": REPO}, "target": {"branch": "x"}}),
            "unrecognized_keys",
            json!(["target"]),
        ),
    ];
    for (body, code, path) in cases {
        let (status, reply, _) = raw(
            &sims,
            reqwest::Method::POST,
            "/v0/agents",
            Some(&auth),
            Some(body),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(reply["details"][0]["code"], code, "{reply}");
        assert_eq!(reply["details"][0]["path"], path, "{reply}");
    }
    for limit in ["0", "101", "x"] {
        let (status, _, _) = raw(
            &sims,
            reqwest::Method::GET,
            &format!("/v0/agents?limit={limit}"),
            Some(&auth),
            None,
        )
        .await;
        assert_eq!(status, 400, "limit={limit}");
    }
    assert_eq!(sims.cursor.agents_created(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_lifecycle_runs_on_the_clock() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    sims.cursor
        .set_scenario("Codertocat/Hello-World", Scenario::lasting(20, 100));
    let c = cursor(&sims, KEY, AuthScheme::Basic);
    let created = c.launch(&request(REPO, None, true)).await.unwrap();
    assert!(
        created.id.starts_with("bc-") && created.id.len() == 39,
        "{}",
        created.id
    );
    assert_eq!(created.status, AgentStatus::Creating);
    assert_eq!(created.target.branch_name, None, "no branch before it runs");
    assert_eq!(
        created.url(),
        format!("https://cursor.com/agents?id={}", created.id)
    );
    assert!(created.created_at.as_deref().unwrap().ends_with('Z'));

    tokio::time::sleep(Duration::from_secs(21)).await;
    let running = c.agent(&created.id).await.unwrap();
    assert_eq!(running.status, AgentStatus::Running);
    assert!(
        running
            .target
            .branch_name
            .as_deref()
            .unwrap()
            .starts_with("cursor/fix-the-readme-spelling-")
    );
    assert_eq!(running.target.pr_url, None);
    assert_eq!(running.summary, None);

    tokio::time::sleep(Duration::from_secs(100)).await;
    let done = c.agent(&created.id).await.unwrap();
    assert_eq!(done.status, AgentStatus::Finished);
    assert!(done.summary().unwrap().contains("Fixed the spelling"));
    assert!(
        done.target
            .pr_url
            .as_deref()
            .unwrap()
            .starts_with("https://github.com/Codertocat/Hello-World/pull/")
    );
    let conversation = c.conversation(&created.id).await.unwrap();
    let kinds: Vec<&MessageKind> = conversation.messages.iter().map(|m| &m.kind).collect();
    assert_eq!(
        kinds,
        vec![
            &MessageKind::User,
            &MessageKind::Assistant,
            &MessageKind::Assistant
        ]
    );
    assert_eq!(conversation.messages[0].text, "Fix the README spelling");

    // A follow-up sends a finished agent back to RUNNING, then it finishes again.
    let f = FollowupRequest {
        prompt: Prompt {
            text: "Also fix the typo in CONTRIBUTING".into(),
            images: vec![],
        },
    };
    assert_eq!(c.followup(&created.id, &f).await.unwrap().id, created.id);
    assert_eq!(
        c.agent(&created.id).await.unwrap().status,
        AgentStatus::Running
    );
    tokio::time::sleep(Duration::from_secs(61)).await;
    assert_eq!(
        c.agent(&created.id).await.unwrap().status,
        AgentStatus::Finished
    );
    let conversation = c.conversation(&created.id).await.unwrap();
    assert!(
        conversation
            .messages
            .iter()
            .any(|m| m.text == "Also fix the typo in CONTRIBUTING")
    );

    // Delete, then 404.
    c.delete(&created.id).await.unwrap();
    assert_eq!(c.agent(&created.id).await.unwrap_err().status(), Some(404));
    assert_eq!(
        c.conversation(&created.id).await.unwrap_err().status(),
        Some(404)
    );
}

#[tokio::test(start_paused = true)]
async fn requested_branches_stop_error_and_expired() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    let c = cursor(&sims, KEY, AuthScheme::Basic);
    let a = c
        .launch(&request(REPO, Some("cursor/issue-1-run-9"), false))
        .await
        .unwrap();
    assert_eq!(
        a.target.branch_name.as_deref(),
        Some("cursor/issue-1-run-9"),
        "a requested branch is known at once"
    );
    c.stop(&a.id).await.unwrap();
    assert_eq!(c.agent(&a.id).await.unwrap().status, AgentStatus::Stopped);
    assert_eq!(
        c.stop(&a.id).await.unwrap_err().status(),
        Some(400),
        "only running agents stop"
    );

    sims.cursor.set_scenario(
        "o/err",
        Scenario::lasting(5, 10)
            .ending(EndStatus::Error)
            .summary(None),
    );
    sims.cursor
        .set_scenario("o/old", Scenario::lasting(5, 10).ending(EndStatus::Expired));
    let e = c
        .launch(&request("https://github.com/o/err", None, true))
        .await
        .unwrap();
    let x = c
        .launch(&request("https://github.com/o/old", None, true))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(16)).await;
    let e = c.agent(&e.id).await.unwrap();
    assert_eq!(e.status, AgentStatus::Error);
    assert_eq!((e.summary, e.target.pr_url), (None, None));
    assert_eq!(c.agent(&x.id).await.unwrap().status, AgentStatus::Expired);
    let f = FollowupRequest {
        prompt: Prompt {
            text: "again".into(),
            images: vec![],
        },
    };
    assert_eq!(c.followup(&x.id, &f).await.unwrap_err().status(), Some(409));
}

#[tokio::test]
async fn lists_newest_first_with_cursors() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    let c = cursor(&sims, KEY, AuthScheme::Basic);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            c.launch(&request(REPO, Some(&format!("b{i}")), false))
                .await
                .unwrap()
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = c.list_agents(Some(2), next.as_deref(), None).await.unwrap();
        assert!(page.agents.len() <= 2);
        seen.extend(page.agents.iter().map(|a| a.id.clone()));
        match page.next() {
            Some(n) => next = Some(n.to_string()),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
}

#[tokio::test(start_paused = true)]
async fn repositories_are_limited_to_one_call_a_minute() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    let c = cursor(&sims, KEY, AuthScheme::Basic);
    assert_eq!(
        c.repositories().await.unwrap().repositories[0].repository,
        REPO
    );
    let e = c.repositories().await.unwrap_err();
    assert_eq!(
        e.class(),
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
    tokio::time::sleep(Duration::from_secs(61)).await;
    assert!(c.repositories().await.is_ok());
}

#[tokio::test]
async fn faults_per_request_and_refusals_per_repository() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    let c = cursor(&sims, KEY, AuthScheme::Basic);
    sims.cursor.add_fault(FaultRule::new(
        "GET",
        "/v0/me",
        Fault::rate_limited(Some(9)),
    ));
    sims.cursor
        .add_fault(FaultRule::new("GET", "/v0/me", Fault::rate_limited(None)));
    sims.cursor
        .add_fault(FaultRule::new("GET", "/v0/me", Fault::status(502)).times(2));
    sims.cursor
        .add_fault(FaultRule::new("GET", "/v0/me", Fault::Reset));
    sims.cursor
        .add_fault(FaultRule::new("GET", "/v0/me", Fault::MalformedJson));
    assert_eq!(
        c.me().await.unwrap_err().class(),
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(9))
        }
    );
    assert_eq!(
        c.me().await.unwrap_err().class(),
        ErrorClass::RateLimited { retry_after: None }
    );
    assert_eq!(c.me().await.unwrap_err().status(), Some(502));
    assert_eq!(c.me().await.unwrap_err().status(), Some(502));
    assert!(matches!(
        c.me().await.unwrap_err(),
        CursorError::Transport {
            maybe_sent: true,
            ..
        }
    ));
    assert!(matches!(
        c.me().await.unwrap_err(),
        CursorError::Decode { status: 200, .. }
    ));
    assert!(c.me().await.is_ok(), "faults are used up");

    // A launch whose answer is lost still creates the agent.
    sims.cursor
        .add_fault(FaultRule::new("POST", "/v0/agents", Fault::ApplyThenReset));
    let e = c
        .launch(&request(REPO, Some("cursor/lost"), false))
        .await
        .unwrap_err();
    assert!(e.maybe_applied(), "{e:?}");
    assert_eq!(sims.cursor.agents_created(), 1);
    assert_eq!(
        sims.cursor.agents()[0]["target"]["branchName"],
        "cursor/lost"
    );

    // Refusals by repository.
    for (repo, refusal, status, text) in [
        (
            "o/storage",
            Refusal::StorageMode,
            403,
            "Storage mode is disabled",
        ),
        (
            "o/private",
            Refusal::RepositoryNotAccessible,
            400,
            "You do not have access to repository",
        ),
        (
            "o/budget",
            Refusal::UsageLimit,
            400,
            "Usage-based pricing required",
        ),
    ] {
        sims.cursor.set_scenario(
            repo,
            Scenario {
                refuse_launch: Some(refusal),
                ..Scenario::default()
            },
        );
        let e = c
            .launch(&request(&format!("https://github.com/{repo}"), None, true))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(status));
        assert!(e.to_string().contains(text), "{e}");
    }
    assert_eq!(sims.cursor.agents_created(), 1);
    assert_eq!(sims.cursor.count("POST", "/v0/agents"), 4);
}

#[tokio::test(start_paused = true)]
async fn slow_and_stalled_responses_meet_the_clients_timeout() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    let c = cursor(&sims, KEY, AuthScheme::Basic);
    sims.cursor.add_fault(FaultRule::new(
        "GET",
        "/v0/models",
        Fault::Delay { millis: 5_000 },
    ));
    sims.cursor
        .add_fault(FaultRule::new("GET", "/v0/models", Fault::Stall));
    assert_eq!(
        c.models().await.unwrap().models[0],
        "default",
        "a slow answer still arrives"
    );
    assert_eq!(
        c.models().await.unwrap_err(),
        CursorError::Timeout {
            endpoint: Endpoint::Models
        }
    );
}

#[tokio::test(start_paused = true)]
async fn unexpected_statuses_and_missing_fields() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    sims.cursor.set_default_scenario(Scenario {
        reported_status: Some("PAUSED_FOR_REVIEW".into()),
        minimal_fields: true,
        ..Scenario::lasting(1, 100)
    });
    let c = cursor(&sims, KEY, AuthScheme::Basic);
    let a = c.launch(&request(REPO, None, true)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let raw = &sims.cursor.agents()[0];
    assert!(
        raw.get("name").is_none()
            && raw["source"].get("ref").is_none()
            && raw["target"].get("autoCreatePr").is_none(),
        "{raw}"
    );
    let seen = c.agent(&a.id).await.unwrap();
    assert_eq!(
        seen.status,
        AgentStatus::Unknown("PAUSED_FOR_REVIEW".into())
    );
    assert_eq!(seen.name, None);
}

#[tokio::test]
async fn the_control_api_configures_a_running_simulator() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    let base = sims.cursor_url();
    let h = http();
    let r = h
        .post(format!("{base}/_sim/scenarios"))
        .json(&json!({"repository": "o/r", "end": "error", "running_secs": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = h.post(format!("{base}/_sim/faults")).json(&json!({"method": "GET", "path": "/v0/me", "fault": {"kind": "status", "status": 503}, "times": 1})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let c = cursor(&sims, KEY, AuthScheme::Basic);
    assert_eq!(c.me().await.unwrap_err().status(), Some(503));
    let log: Vec<LoggedRequest> = json_of(h.get(format!("{base}/_sim/requests"))).await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].method.as_str(), log[0].path.as_str(), log[0].status),
        ("GET", "/v0/me", 503)
    );
    assert!(log[0].fault.is_some());
}
