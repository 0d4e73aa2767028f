//! The compiled binary launching against a loopback fake: the request sent,
//! the outputs file, the step summary, dry runs, and secrets never leaking.

use crate::support::*;
use base64::Engine as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AGENT_ID: &str = "bc-5012b32d-8b28-43b8-853f-da1aeba60415";

fn created(branch: &str) -> Value {
    json!({"id": AGENT_ID, "name": "Fix spelling", "status": "CREATING",
           "source": {"repository": "https://github.com/Codertocat/Hello-World", "ref": "master"},
           "target": {"url": format!("https://cursor.com/agents?id={AGENT_ID}"), "branchName": branch, "autoCreatePr": true},
           "createdAt": "2026-11-23T10:00:00.000Z"})
}

#[tokio::test(flavor = "multi_thread")]
async fn launches_on_a_labeled_issue_and_writes_outputs_and_summary() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v0/agents"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(created("cursor/issue-1-run-1234567890-abcdef")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let gh = github().await;
    let ran = ActionTest::new()
        .event("issues", "issues.labeled.json")
        .against(&server.uri(), Some(&gh.github_url()))
        .input("wait", "false")
        .input("comment", "false")
        .run_beside()
        .await;
    ran.success();
    assert_eq!(
        gh.github.count(
            "GET",
            "/repos/Codertocat/Hello-World/collaborators/Codertocat/permission"
        ),
        1
    );
    assert_eq!(
        gh.github.requests().len(),
        1,
        "comment: false posts nothing"
    );

    let requests = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        vec!["prompt", "source", "target"],
        "only documented keys, nothing unset"
    );
    assert_eq!(
        body["source"],
        json!({"repository": "https://github.com/Codertocat/Hello-World", "ref": "master"})
    );
    assert_eq!(body["target"]["autoCreatePr"], json!(true));
    let branch = body["target"]["branchName"].as_str().unwrap();
    assert!(
        branch.starts_with("cursor/issue-1-run-1234567890-"),
        "{branch}"
    );
    assert!(
        body["prompt"]["text"]
            .as_str()
            .unwrap()
            .contains("Spelling error in the README file")
    );
    let auth = requests[0]
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(
        auth,
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:"))
        )
    );

    assert_eq!(ran.output("outcome"), "launched");
    assert_eq!(ran.output("agent-id"), AGENT_ID);
    assert_eq!(
        ran.output("agent-url"),
        format!("https://cursor.com/agents?id={AGENT_ID}")
    );
    assert_eq!(ran.output("status"), "CREATING");
    assert_eq!(
        ran.output("branch-name"),
        "cursor/issue-1-run-1234567890-abcdef"
    );
    assert_eq!(ran.output("pr-url"), "");
    assert!(
        ran.raw_outputs.contains("outcome<<ghadelimiter_"),
        "delimiter form: {}",
        ran.raw_outputs
    );
    assert!(
        ran.summary.contains("### 🚀 Cursor agent launched"),
        "{}",
        ran.summary
    );
    assert!(ran.summary.contains(&format!(
        "| Agent | [{AGENT_ID}](https://cursor.com/agents?id={AGENT_ID}) |"
    )));
    assert!(ran.commands("error").is_empty());
    // The key is masked before anything else is printed.
    assert_eq!(
        ran.stdout.lines().next().unwrap(),
        format!("::add-mask::{KEY}")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_and_token_never_leak_even_when_the_api_echoes_them() {
    let server = MockServer::start().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:"));
    let echo =
        format!(r#"{{"error":"bad key {KEY} (Authorization: Basic {basic}) token {TOKEN}"}}"#);
    Mock::given(method("POST"))
        .and(path("/v0/agents"))
        .respond_with(
            ResponseTemplate::new(401).set_body_raw(echo.into_bytes(), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let gh = github().await;
    let ran = ActionTest::new()
        .event("issues", "issues.labeled.json")
        .against(&server.uri(), Some(&gh.github_url()))
        .input("comment", "false")
        .env("RUNNER_DEBUG", "1")
        .run_beside()
        .await;
    ran.status(1);
    assert_eq!(ran.output("outcome"), "error");
    let errors = ran.commands("error");
    assert_eq!(errors.len(), 1, "{}", ran.stdout);
    assert!(
        errors[0].contains("Check the `cursor-api-key` secret"),
        "{}",
        errors[0]
    );
    ran.assert_no_leak(&[KEY, TOKEN, &basic]);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_prints_the_exact_request_and_sends_nothing() {
    let server = MockServer::start().await;
    let ran = ActionTest::new()
        .event("issues", "issues.labeled.json")
        .against(&server.uri(), None)
        .input("dry-run", "true")
        .input("webhook-url", "https://hooks.example.com/cursor")
        .input("webhook-secret", "whsec_0123456789abcdef0123456789abcdef")
        .run_beside()
        .await;
    ran.success();
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "dry run sends nothing"
    );
    ran.stdout_has("Dry run: nothing is launched")
        .stdout_has("POST ")
        .stdout_has("\"autoCreatePr\": true")
        .stdout_has("\"branchName\": \"cursor/issue-1-run-1234567890-")
        .stdout_has("*** (webhook-secret, redacted)")
        .stdout_has("Comment planned on #1 in Codertocat/Hello-World");
    ran.assert_no_leak(&[KEY, "whsec_0123456789abcdef"]);
    assert_eq!(ran.output("outcome"), "dry-run");
    assert!(ran.output("branch-name").starts_with("cursor/issue-1-run-"));
    // The request is printed between stop-commands markers: its text is untrusted.
    assert!(ran.stdout.contains("::stop-commands::"));
}

#[test]
fn outside_actions_outputs_are_printed() {
    let ran = ActionTest::new()
        .event("issues", "issues.labeled.json")
        .input("cursor-api-key", KEY)
        .input("dry-run", "true")
        .without("GITHUB_ACTIONS")
        .without("GITHUB_OUTPUT")
        .without("GITHUB_STEP_SUMMARY")
        .run();
    ran.success();
    ran.stdout_has("outputs:\n")
        .stdout_has("  outcome: dry-run")
        .stdout_lacks("::");
}

#[test]
fn help_and_version() {
    let ran = ActionTest::new().arg("--help").run();
    ran.success()
        .stdout_has("INPUTS")
        .stdout_has("cursor-api-key")
        .stdout_has("duration-seconds");
    let ran = ActionTest::new().arg("--version").run();
    ran.success();
    assert_eq!(
        ran.stdout.trim(),
        format!("cursor-agent-action {}", env!("CARGO_PKG_VERSION"))
    );
    let ran = ActionTest::new().arg("--bogus").run();
    ran.status(2);
    assert!(ran.stderr.contains("unknown argument"));
}

#[test]
fn composite_style_inputs_and_a_prompt_file() {
    // A composite wrapper sets INPUT_ names with underscores.
    let ran = ActionTest::new()
        .env("GITHUB_EVENT_NAME", "schedule")
        .input_underscore("cursor-api-key", KEY)
        .input_underscore("prompt-file", ".github/cursor/nightly.md")
        .input_underscore("dry-run", "true")
        .input_underscore("auto-create-pr", "false")
        .file(
            ".github/cursor/nightly.md",
            b"Refresh the API docs from the code.",
        )
        .run();
    ran.success()
        .stdout_has("\"text\": \"Refresh the API docs from the code.\"")
        .stdout_has("\"autoCreatePr\": false")
        .stdout_has("No comment planned");
    assert!(
        ran.output("branch-name")
            .starts_with("cursor/schedule-run-1234567890-")
    );
}

#[tokio::test]
async fn in_process_runs_see_the_same_behaviour() {
    let ran = ActionTest::new()
        .event("issue_comment", "issue_comment.created.json")
        .input("cursor-api-key", KEY)
        .input("dry-run", "true")
        .run_in_process()
        .await;
    ran.success().stdout_has("You are totally right!");
    assert_eq!(ran.output("outcome"), "dry-run");
}

/// Issue #23: the launch is bounded by `timeout` too. A 429 whose
/// `Retry-After` passes the deadline (or the 2 min a launch waits at most)
/// ends the step at once, `error`, naming why and creating nothing; one that
/// fits is honoured and the launch goes on. Virtual time, v0 and v1.
#[tokio::test(start_paused = true)]
async fn a_launch_never_waits_past_timeout_for_a_retry_after() {
    use kit::clock::Clock;
    use sim::{Fault, FaultRule, Scenario, V1Scenario};
    for api in ["v0", "v1"] {
        let create = if api == "v0" {
            "/v0/agents"
        } else {
            "/v1/agents"
        };
        for (retry_after, timeout, outcome, says) in [
            (3600u64, "5m", "error", "longer than a launch waits"),
            (90, "1m", "error", "past `timeout`"),
            (20, "5m", "finished", ""),
        ] {
            let s = sims_on(Clock::real()).await;
            s.cursor.set_default_scenario(Scenario::lasting(5, 20));
            s.cursor.v1().set_scenario(V1Scenario::lasting(3, 20));
            s.cursor.add_fault(
                FaultRule::new("POST", create, Fault::rate_limited(Some(retry_after))).times(1),
            );
            let began = tokio::time::Instant::now();
            let ran = ActionTest::new()
                .event("issues", "issues.labeled.json")
                .against(&s.cursor_url(), Some(&s.github_url()))
                .input("api-version", api)
                .input("timeout", timeout)
                .run_in_process()
                .await;
            let took = began.elapsed();
            let case = format!("{api}, Retry-After {retry_after}s, timeout {timeout}");
            assert_eq!(ran.output("outcome"), outcome, "{case}");
            let creates = s.cursor.count("POST", create);
            if outcome == "error" {
                ran.status(1);
                ran.stdout_has(says);
                assert_eq!(creates, 1, "{case}: not retried");
                assert!(
                    took < std::time::Duration::from_secs(30),
                    "{case}: {took:?}"
                );
            } else {
                ran.success();
                assert_eq!(creates, 2, "{case}: retried once");
                assert!(
                    took >= std::time::Duration::from_secs(retry_after),
                    "{case}"
                );
            }
        }
    }
}
