//! Pull requests on v0: by default the agent pushes to the pull request's own
//! branch (`autoBranch: false`, no `branchName`, which the API would ignore);
//! `pr-branch: new` asks for a new branch. A lost launch answer is recovered
//! with a lookup the API honours (`GET /v0/agents?prUrl=`, our prompt, since
//! the launch began), never by relaunching.

use crate::support::*;
use kit::clock::Clock;
use serde_json::{Value, json};
use sim::*;

const PR: &str = "https://github.com/Codertocat/Hello-World/pull/1";

fn on_pr_comment(s: &Simulators) -> ActionTest {
    binary_test(s, "issue_comment", &comment_on_pr_payload())
}

fn launch_bodies(s: &Simulators) -> Vec<Value> {
    s.cursor
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v0/agents")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_request_comment_pushes_to_the_pull_requests_branch_by_default() {
    let s = scaled_sims().await;
    let ran = on_pr_comment(&s).run_beside().await;
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    let sent = launch_bodies(&s);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["source"], json!({"prUrl": PR}));
    assert_eq!(sent[0]["target"]["autoBranch"], json!(false));
    assert!(
        sent[0]["target"].get("branchName").is_none(),
        "no branch name the API would ignore: {}",
        sent[0]["target"]
    );
    assert_eq!(ran.output("pr-url"), PR, "the agent's work lands on the PR");
}

#[tokio::test(flavor = "multi_thread")]
async fn pr_url_on_an_issue_event_also_pushes_to_that_branch() {
    let s = scaled_sims().await;
    let ran = labeled(&s)
        .time_scale(SCALE)
        .input("pr-url", PR)
        .run_beside()
        .await;
    ran.success();
    let sent = launch_bodies(&s);
    assert_eq!(sent[0]["source"], json!({"prUrl": PR}));
    assert_eq!(sent[0]["target"]["autoBranch"], json!(false));
    assert!(sent[0]["target"].get("branchName").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn pr_branch_new_asks_for_a_new_branch() {
    let s = scaled_sims().await;
    let ran = on_pr_comment(&s)
        .input("pr-branch", "new")
        .run_beside()
        .await;
    ran.success();
    let sent = launch_bodies(&s);
    assert_eq!(sent[0]["source"], json!({"prUrl": PR}));
    assert_eq!(sent[0]["target"]["autoBranch"], json!(true));
    let branch = sent[0]["target"]["branchName"].as_str().unwrap();
    assert!(branch.starts_with("cursor/pr-1-run-"), "{branch}");
    assert_eq!(ran.output("branch-name"), branch);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_pr_branch_names_the_input_and_its_values() {
    let s = scaled_sims().await;
    let ran = on_pr_comment(&s)
        .input("pr-branch", "head")
        .run_beside()
        .await;
    ran.status(2).stdout_has("pr-branch").stdout_has("existing");
    assert!(launch_bodies(&s).is_empty());
}

/// The answer to the launch is lost at each moment the fault can strike
/// (connection reset after the agent was created, or a stall until the
/// client gives up), with another agent already working on the same PR
/// for a different task: the action adopts its own agent, found through
/// `prUrl`, and never launches a second one.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_launch_on_a_pull_request_is_found_by_pr_url_not_relaunched() {
    for (fault, name) in [
        (Fault::ApplyThenReset, "reset"),
        (Fault::ApplyThenStall, "stall"),
    ] {
        for pr_branch in ["existing", "new"] {
            let s = scaled_sims().await;
            // Someone else's agent on the same pull request, for another task.
            let other: Value = json_of(
                http()
                    .post(format!("{}/v0/agents", s.cursor_url()))
                    .basic_auth(KEY, Some(""))
                    .json(&json!({"prompt": {"text": "an unrelated task"},
                                  "source": {"prUrl": PR},
                                  "target": {"autoBranch": false}})),
            )
            .await;
            let other_id = other["id"].as_str().expect("the other agent").to_string();
            s.cursor
                .add_fault(FaultRule::new("POST", "/v0/agents", fault.clone()));
            let ran = on_pr_comment(&s)
                .input("pr-branch", pr_branch)
                .run_beside()
                .await;
            ran.success();
            let case = format!("{name}, pr-branch {pr_branch}");
            assert_eq!(ran.output("outcome"), "finished", "{case}");
            assert_eq!(
                s.cursor.agents_created(),
                2,
                "{case}: the other agent and ours, no duplicate"
            );
            assert_eq!(launch_bodies(&s).len(), 2, "{case}: one launch of ours");
            assert_ne!(ran.output("agent-id"), other_id, "{case}: not adopted");
            assert!(ran.output("agent-id").starts_with("bc-"), "{case}");
            let looked_up =
                s.cursor.requests().into_iter().any(|r| {
                    r.method == "GET" && r.path == "/v0/agents" && r.query.contains("prUrl=")
                });
            assert!(looked_up, "{case}: the lookup filters by prUrl");
            ran.stdout_has("looking for this run's agent on");
        }
    }
}

#[tokio::test]
async fn the_simulator_refuses_auto_branch_without_a_pull_request() {
    let s = sims_on(Clock::real()).await;
    let r = http()
        .post(format!("{}/v0/agents", s.cursor_url()))
        .basic_auth(KEY, Some(""))
        .json(&json!({"prompt": {"text": "x"},
                      "source": {"repository": "https://github.com/Codertocat/Hello-World"},
                      "target": {"autoBranch": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body.to_string().contains("autoBranch"), "{body}");
    assert_eq!(s.cursor.agents_created(), 0);
}

/// The lookup after a lost answer adopts only an agent on our pull request,
/// created since this launch began, whose first message is our prompt:
/// not a newer agent on the same PR for another task, not an older one
/// with the same task (an earlier run's).
#[tokio::test(flavor = "multi_thread")]
async fn the_pr_lookup_adopts_only_this_launchs_agent() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    const OURS: &str = "bc-00000000-0000-4000-8000-000000000002";
    const NEWER: &str = "bc-00000000-0000-4000-8000-000000000003";
    const OLDER: &str = "bc-00000000-0000-4000-8000-000000000001";
    const TASK: &str = "Make the flaky test deterministic";
    let now = kit::rfc3339::iso8601_millis(std::time::SystemTime::now());
    let agent = |id: &str, created: &str| {
        json!({"id": id, "name": "task", "status": "RUNNING",
               "source": {"repository": "https://github.com/Codertocat/Hello-World"},
               "target": {"url": format!("https://cursor.com/agents?id={id}"), "prUrl": PR,
                          "autoCreatePr": true},
               "createdAt": created})
    };
    let conversation = |text: &str| json!({"id": "c", "messages": [{"id": "m1", "type": "user_message", "text": text}]});
    let server = MockServer::start().await;
    // The launch reaches Cursor, but a gateway loses the answer.
    Mock::given(method("POST"))
        .and(path("/v0/agents"))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v0/agents"))
        .and(query_param("prUrl", PR))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"agents": [
            agent(NEWER, &now),
            // Out of order, so that only its creation time can rule it out.
            agent(OLDER, "2020-01-01T00:00:00.000Z"),
            agent(OURS, &now),
        ]})))
        .expect(1..)
        .mount(&server)
        .await;
    for (id, text, calls) in [
        (NEWER, "another task", 1..=1),
        (OURS, TASK, 1..=1),
        (OLDER, TASK, 0..=0),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v0/agents/{id}/conversation")))
            .respond_with(ResponseTemplate::new(200).set_body_json(conversation(text)))
            .expect(calls)
            .mount(&server)
            .await;
    }
    let gh = github().await;
    let ran = ActionTest::new()
        .event_json("issue_comment", &comment_on_pr_payload())
        .against(&server.uri(), Some(&gh.github_url()))
        .input("prompt", TASK)
        .input("include-context", "false")
        .input("wait", "false")
        .input("comment", "false")
        .run_beside()
        .await;
    ran.success();
    assert_eq!(ran.output("agent-id"), OURS);
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn branch_name_with_pr_url_needs_pr_branch_new() {
    let s = scaled_sims().await;
    let issue = || {
        labeled(&s)
            .time_scale(SCALE)
            .input("pr-url", PR)
            .input("branch-name", "cursor/mine")
    };
    let ran = issue().run_beside().await;
    ran.status(2)
        .stdout_has("branch-name")
        .stdout_has("pr-branch: new");
    assert!(launch_bodies(&s).is_empty());
    let ran = issue().input("pr-branch", "new").run_beside().await;
    ran.success();
    let sent = launch_bodies(&s);
    assert_eq!(sent[0]["target"]["branchName"], "cursor/mine");
    assert_eq!(sent[0]["target"]["autoBranch"], json!(true));
}

/// A pull request's own events, as GitHub sends them (same repository):
/// the opened pull request, a review, a review comment.
fn pull_request_events() -> Vec<(&'static str, Value)> {
    let mut review = fixture("pull_request_review.submitted.json");
    review["review"]["body"] = json!("/cursor fix the same typo in the docs folder");
    vec![
        ("pull_request", fixture("pull_request.opened.json")),
        ("pull_request_review", review),
        (
            "pull_request_review_comment",
            fixture("pull_request_review_comment.created.json"),
        ),
    ]
}

const PR_2: &str = "https://github.com/Codertocat/Hello-World/pull/2";

fn on_pr_event(s: &Simulators, event: &str, payload: &Value) -> ActionTest {
    let t = ActionTest::new();
    // The review asks with the phrase, as a maintainer would.
    let t = if event == "pull_request_review" {
        t.input("trigger-phrase", "/cursor")
    } else {
        t
    };
    t.event_json(event, payload)
        .env("GITHUB_REF", "refs/pull/2/merge")
        .against(&s.cursor_url(), Some(&s.github_url()))
        .time_scale(SCALE)
}

/// Issue #23: on v0, a pull request's own events (same repository) pushed
/// to a new branch off its head, so the agent opened a second pull request.
/// `pr-branch: existing` (the default) promises the pull request's branch,
/// as comments on it get; `pr-branch: new` a new branch, as there.
#[tokio::test(flavor = "multi_thread")]
async fn a_pull_requests_own_events_honour_pr_branch_on_v0() {
    for (event, payload) in pull_request_events() {
        let s = scaled_sims().await;
        let ran = on_pr_event(&s, event, &payload).run_beside().await;
        ran.success();
        assert_eq!(ran.output("outcome"), "finished", "{event}");
        let sent = launch_bodies(&s);
        assert_eq!(sent.len(), 1, "{event}");
        assert_eq!(sent[0]["source"], json!({"prUrl": PR_2}), "{event}");
        assert_eq!(sent[0]["target"]["autoBranch"], json!(false), "{event}");
        assert!(
            sent[0]["target"].get("branchName").is_none(),
            "{event}: {}",
            sent[0]["target"]
        );
        assert_eq!(ran.output("pr-url"), PR_2, "{event}: no second PR");

        let s = scaled_sims().await;
        let ran = on_pr_event(&s, event, &payload)
            .input("pr-branch", "new")
            .run_beside()
            .await;
        ran.success();
        let sent = launch_bodies(&s);
        assert_eq!(sent[0]["source"], json!({"prUrl": PR_2}), "{event}");
        assert_eq!(sent[0]["target"]["autoBranch"], json!(true), "{event}");
        let branch = sent[0]["target"]["branchName"].as_str().unwrap();
        assert!(branch.starts_with("cursor/pr-2-run-"), "{event}: {branch}");
    }
}
