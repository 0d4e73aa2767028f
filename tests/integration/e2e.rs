//! The compiled binary as a separate process with a clean environment,
//! against both simulators, for every supported event; and cancellation by
//! signal. Time is compressed on both sides by the same factor.

use crate::support::*;
use kit::clock::Clock;
use serde_json::{Value, json};
use sim::*;
use std::time::{Duration, Instant};

fn launched(s: &Simulators) -> Value {
    let post = s
        .cursor
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/v0/agents")
        .expect("a launch");
    serde_json::from_str(&post.body).unwrap()
}

fn assert_finished(ran: &Ran, s: &Simulators) {
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    assert_eq!(ran.output("status"), "FINISHED");
    assert!(ran.output("agent-id").starts_with("bc-"));
    assert!(ran.output("pr-url").contains("/pull/"));
    assert!(!ran.output("summary").is_empty());
    assert!(
        ran.summary.contains("### ✅ Cursor agent finished"),
        "{}",
        ran.summary
    );
    assert_eq!(s.cursor.count("POST", "/v0/agents"), 1);
    assert!(s.cursor.count("GET", "/v0/agents/*") >= 2);
    assert_eq!(s.cursor.agents_created(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn issues_labeled() {
    let s = scaled_sims().await;
    let ran = labeled(&s).time_scale(SCALE).run_beside().await;
    assert_finished(&ran, &s);
    assert_eq!(
        launched(&s)["source"],
        json!({"repository": "https://github.com/Codertocat/Hello-World", "ref": "master"})
    );
    assert_eq!(
        s.github.count(
            "GET",
            "/repos/Codertocat/Hello-World/collaborators/Codertocat/permission"
        ),
        1
    );
    assert_eq!(
        s.github
            .count("POST", "/repos/Codertocat/Hello-World/issues/1/comments"),
        1
    );
    assert_eq!(s.github.comments(REPO, 1).len(), 1);
    assert!(
        ran.output("comment-url")
            .contains("/issues/1#issuecomment-")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn issues_opened_and_issue_comments() {
    let s = scaled_sims().await;
    assert_finished(
        &binary_test(&s, "issues", &fixture("issues.opened.with-empty-body.json"))
            .run_beside()
            .await,
        &s,
    );
    let s = scaled_sims().await;
    let ran = binary_test(&s, "issue_comment", &fixture("issue_comment.created.json"))
        .run_beside()
        .await;
    assert_finished(&ran, &s);
    assert_eq!(
        s.github.reactions()[0].target,
        ReactionTarget::Comment(492700400)
    );
    let s = scaled_sims().await;
    let ran = binary_test(&s, "issue_comment", &comment_on_pr_payload())
        .run_beside()
        .await;
    assert_finished(&ran, &s);
    assert_eq!(
        launched(&s)["source"],
        json!({"prUrl": "https://github.com/Codertocat/Hello-World/pull/1"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_requests_and_review_comments() {
    let s = scaled_sims().await;
    let ran = binary_test(&s, "pull_request", &fixture("pull_request.opened.json"))
        .env("GITHUB_REF", "refs/pull/2/merge")
        .run_beside()
        .await;
    assert_finished(&ran, &s);
    assert_eq!(
        launched(&s)["source"],
        json!({"prUrl": "https://github.com/Codertocat/Hello-World/pull/2"}),
        "the pull request itself, not a new branch off its head"
    );
    assert_eq!(s.github.comments(REPO, 2).len(), 1);
    let s = scaled_sims().await;
    let ran = binary_test(
        &s,
        "pull_request_review_comment",
        &fixture("pull_request_review_comment.created.json"),
    )
    .run_beside()
    .await;
    assert_finished(&ran, &s);
    assert_eq!(s.github.comments(REPO, 2).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_request_reviews() {
    let s = scaled_sims().await;
    let mut review = fixture("pull_request_review.submitted.json");
    review["review"]["body"] = json!("/cursor fix the same typo in the docs folder");
    let ran = binary_test(&s, "pull_request_review", &review)
        .input("trigger-phrase", "/cursor")
        .run_beside()
        .await;
    assert_finished(&ran, &s);
    assert_eq!(
        launched(&s)["source"],
        json!({"prUrl": "https://github.com/Codertocat/Hello-World/pull/2"}),
        "the pull request itself, not a new branch off its head"
    );
    assert_eq!(s.github.comments(REPO, 2).len(), 1);
    // Without the phrase: skipped, nothing sent to Cursor.
    let s = scaled_sims().await;
    let ran = binary_test(
        &s,
        "pull_request_review",
        &fixture("pull_request_review.submitted.json"),
    )
    .input("trigger-phrase", "/cursor")
    .run_beside()
    .await;
    ran.success();
    assert_eq!(ran.output("outcome"), "skipped");
    assert!(s.cursor.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_without_an_issue() {
    let cases: Vec<(&str, Value)> = vec![
        ("workflow_dispatch", fixture("workflow_dispatch.json")),
        (
            "repository_dispatch",
            json!({"action": "refresh-docs", "client_payload": {}, "repository": {"full_name": "Codertocat/Hello-World", "default_branch": "master"}}),
        ),
        ("schedule", json!({"schedule": "17 3 * * *"})),
        (
            "push",
            json!({"ref": "refs/heads/master", "after": "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}),
        ),
    ];
    for (event, payload) in cases {
        let s = scaled_sims().await;
        let ran = binary_test(&s, event, &payload)
            .input("prompt", "Refresh the docs")
            .run_beside()
            .await;
        assert_finished(&ran, &s);
        assert_eq!(
            github_writes_besides_job_markers(&s.github),
            Vec::<String>::new(),
            "{event}: no comment without an issue"
        );
        assert_eq!(ran.output("comment-url"), "");
        assert_eq!(
            launched(&s)["prompt"]["text"],
            "Refresh the docs",
            "{event}"
        );
    }
    // With a tracking issue.
    let s = scaled_sims().await;
    let ran = binary_test(&s, "schedule", &json!({"schedule": "17 3 * * *"}))
        .input("prompt", "Refresh the docs")
        .input("issue-number", "12")
        .run_beside()
        .await;
    assert_finished(&ran, &s);
    assert_eq!(s.github.comments(REPO, 12).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_exit_1_and_bad_keys_are_named() {
    let s = scaled_sims().await;
    s.cursor
        .set_default_scenario(Scenario::lasting(10, 60).ending(EndStatus::Error));
    let ran = labeled(&s).time_scale(SCALE).run_beside().await;
    ran.status(1);
    assert_eq!(ran.output("outcome"), "error");
    assert_eq!(ran.commands("error").len(), 1);

    let s = Simulators::start_on(
        "127.0.0.1:0".parse().unwrap(),
        "127.0.0.1:0".parse().unwrap(),
        Clock::scaled(SCALE),
        CursorSimConfig {
            keys: Some(vec!["crsr_the_right_key_000".into()]),
            object_errors: false,
        },
        GitHubSimConfig::default(),
    )
    .await
    .unwrap();
    s.github.set_permission("Codertocat", "admin");
    let ran = labeled(&s).time_scale(SCALE).run_beside().await;
    ran.status(1);
    assert!(
        ran.commands("error")[0].contains("Check the `cursor-api-key` secret"),
        "{}",
        ran.stdout
    );
    let comment = &s.github.comments(REPO, 1)[0];
    assert!(
        comment.body.contains("Could not launch the agent")
            && comment.body.contains("cursor-api-key"),
        "{}",
        comment.body
    );
    ran.assert_no_leak(&[KEY, TOKEN]);
}

#[cfg(unix)]
mod signals {
    use super::*;
    use std::process::{Command, Stdio};

    /// Starts the binary, waits until it is polling a long agent, sends
    /// `signal`, and returns the run and how long the exit took.
    async fn interrupt(s: &Simulators, on_cancel: &str, signal: i32) -> (Ran, Duration) {
        s.cursor.set_default_scenario(Scenario::lasting(5, 7200));
        // Real time here: the point is the wall-clock exit.
        let t = ActionTest::new()
            .event("issues", "issues.labeled.json")
            .against(&s.cursor_url(), Some(&s.github_url()))
            .input("on-cancel", on_cancel);
        let mut child = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&t.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while s.cursor.count("GET", "/v0/agents/*") == 0 || s.github.comments(REPO, 1).is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the run never started waiting"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // SAFETY: sending a signal to our own child process.
        let sent = Instant::now();
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(10),
                "no exit 10 s after the signal: the runner would kill it"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let took = sent.elapsed();
        let mut stdout = String::new();
        let mut stderr = String::new();
        use std::io::Read;
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let ran = t.finish_with(status.code().unwrap_or(-1), stdout, stderr);
        (ran, took)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sigint_cancels_promptly_and_stops_when_asked() {
        let s = sims_on(Clock::real()).await;
        let (ran, took) = interrupt(&s, "stop", libc::SIGINT).await;
        ran.status(1);
        assert!(
            took < Duration::from_secs(5),
            "exited {took:?} after SIGINT"
        );
        assert_eq!(ran.output("outcome"), "cancelled");
        assert_eq!(s.cursor.count("POST", "/v0/agents/*/stop"), 1);
        assert_eq!(
            s.cursor.status_of(ran.output("agent-id")).as_deref(),
            Some("STOPPED")
        );
        assert!(ran.summary.contains("Workflow cancelled"));
        let comment = &s.github.comments(REPO, 1)[0];
        assert!(
            comment.body.contains("### 🚫 Workflow cancelled") && comment.body.contains("SIGINT"),
            "{}",
            comment.body
        );
        assert_eq!(ran.commands("error").len(), 1);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn even_a_kill_keeps_the_agent_in_the_outputs() {
        // SIGKILL cannot be handled: what was written at launch must stand.
        let s = sims_on(Clock::real()).await;
        let (ran, _) = interrupt(&s, "leave", libc::SIGKILL).await;
        assert_eq!(ran.code, -1, "killed");
        let agent = s.cursor.agents()[0]["id"].as_str().unwrap().to_string();
        assert_eq!(ran.output("agent-id"), agent);
        assert_eq!(
            ran.output("agent-url"),
            format!("https://cursor.com/agents?id={agent}")
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sigterm_leaves_the_agent_running_by_default() {
        let s = sims_on(Clock::real()).await;
        let (ran, took) = interrupt(&s, "leave", libc::SIGTERM).await;
        ran.status(1);
        assert!(
            took < Duration::from_secs(5),
            "exited {took:?} after SIGTERM"
        );
        assert_eq!(ran.output("outcome"), "cancelled");
        assert_eq!(s.cursor.count("POST", "/v0/agents/*/stop"), 0);
        let status = s.cursor.status_of(ran.output("agent-id")).unwrap();
        assert!(
            status == "CREATING" || status == "RUNNING",
            "the agent is left running: {status}"
        );
    }
}
