//! Promises at the edges (#15): a cancel at any moment ends the step within
//! 5 s with everything written; the comment always ends final; one launch,
//! one identity; errors and hints that fit. All in virtual time against the
//! simulators.

use crate::support::*;
use sim::*;
use std::time::Duration;

/// Runs `t` with SIGINT at `at` seconds; returns the run and how long after
/// the signal it ended.
async fn signalled(t: ActionTest, at: u64) -> (Ran, Duration) {
    let began = tokio::time::Instant::now();
    let ran = t
        .run_in_process_with(cancel_after(Some(at), "SIGINT"))
        .await;
    let after = began.elapsed().saturating_sub(Duration::from_secs(at));
    (ran, after)
}

fn assert_cancelled_in_time(ran: &Ran, after: Duration) {
    ran.status(1);
    assert_eq!(ran.output("outcome"), "cancelled");
    assert!(
        after <= Duration::from_secs(5),
        "ended {after:?} after the signal"
    );
    assert!(ran.summary.contains("`cancelled`"), "{}", ran.summary);
    assert_eq!(ran.commands("error").len(), 1, "{}", ran.stdout);
}

#[tokio::test(start_paused = true)]
async fn a_launch_in_flight_at_the_signal_is_found_and_linked() {
    let s = sims_v0(Scenario::lasting(20, 600)).await;
    s.cursor
        .add_fault(FaultRule::new("POST", "/v0/agents", Fault::ApplyThenStall));
    let (ran, after) = signalled(labeled(&s), 2).await;
    assert_cancelled_in_time(&ran, after);
    let agents = s.cursor.agents();
    assert_eq!(agents.len(), 1);
    let id = agents[0]["id"].as_str().unwrap();
    assert_eq!(ran.output("agent-id"), id);
    assert!(ran.summary.contains(id));
    let comments = s.github.comments(REPO, 1);
    assert_eq!(
        comments.len(),
        1,
        "the found agent is reported on the issue"
    );
    let body = &comments[0].body;
    assert!(
        body.contains("### 🚫 Workflow cancelled") && body.contains(id),
        "{body}"
    );
    assert!(!body.contains(WORKING));
    // on-cancel: leave (the default): it keeps running.
    assert_eq!(s.cursor.status_of(id).as_deref(), Some("CREATING"));
}

#[tokio::test(start_paused = true)]
async fn a_launch_in_flight_at_the_signal_is_stopped_with_on_cancel_stop() {
    let s = sims_v0(Scenario::lasting(20, 600)).await;
    s.cursor
        .add_fault(FaultRule::new("POST", "/v0/agents", Fault::ApplyThenStall));
    let (ran, after) = signalled(labeled(&s).input("on-cancel", "stop"), 2).await;
    assert_cancelled_in_time(&ran, after);
    let id = ran.output("agent-id").to_string();
    assert!(!id.is_empty());
    assert_eq!(s.cursor.status_of(&id).as_deref(), Some("STOPPED"));
    assert_eq!(s.cursor.count("POST", "/v0/agents/*/stop"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_launch_that_cannot_be_found_may_have_been_launched() {
    let s = sims_v0(Scenario::lasting(20, 600)).await;
    // Held open and never carried out; the lookup finds nothing.
    s.cursor
        .add_fault(FaultRule::new("POST", "/v0/agents", Fault::Stall));
    let (ran, after) = signalled(labeled(&s), 2).await;
    assert_cancelled_in_time(&ran, after);
    let error = ran.commands("error")[0];
    assert!(error.contains("may have been launched"), "{error}");
    assert!(error.contains("https://cursor.com/agents"), "{error}");
    assert!(
        error.contains("cursor/issue-1-run-"),
        "names the branch: {error}"
    );
    assert!(ran.summary.contains("may have been launched"));
    // Nothing known was launched: no comment is started for it.
    assert!(s.github.comments(REPO, 1).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_signal_during_any_github_call_ends_within_five_seconds() {
    let calls = [
        ("GET", "/repos/*/*/collaborators/*/permission", 2),
        ("GET", "/repos/*/*/issues/*/comments", 2),
        ("POST", "/repos/*/*/issues/*/reactions", 2),
        ("POST", "/repos/*/*/issues/*/comments", 10),
        ("POST", "/repos/*/*/issues/comments/*", 40),
    ];
    for (method, path, at) in calls {
        let s = sims_v0(Scenario::lasting(20, 600)).await;
        s.github
            .add_fault(FaultRule::new(method, path, Fault::Stall).times(1));
        let t = test(&s, "issue_comment", &fixture("issue_comment.created.json"));
        let (ran, after) = signalled(t, at).await;
        assert_cancelled_in_time(&ran, after);
        // Where a comment exists, its last body is the final state.
        if let Some(c) = s.github.comments(REPO, 1).last() {
            assert!(
                c.body.contains("### 🚫 Workflow cancelled") && !c.body.contains(WORKING),
                "{method} {path}: {}",
                c.body
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_rejected_edit_does_not_freeze_the_comment() {
    for status in [403, 404, 422] {
        let s = sims_v0(Scenario::lasting(20, 300)).await;
        // The first edit (the RUNNING update) is refused.
        s.github.add_fault(
            FaultRule::new(
                "POST",
                "/repos/*/*/issues/comments/*",
                Fault::status(status),
            )
            .times(1),
        );
        let ran = labeled(&s).run_in_process().await;
        ran.success();
        let comments = s.github.comments(REPO, 1);
        assert_eq!(comments.len(), 1, "{status}: {comments:#?}");
        let body = &comments[0].body;
        assert!(
            body.contains("### ✅ Cursor agent finished") && !body.contains(WORKING),
            "{status}: {body}"
        );
        // Reactions still follow.
        assert!(
            s.github.reactions().iter().any(|r| r.content == "rocket"),
            "{status}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_final_edit_is_retried_within_the_budget() {
    let s = sims_v0(Scenario::lasting(20, 300)).await;
    // Both intermediate edits land; the final one meets a 502 burst longer
    // than one call's retries.
    s.github.add_fault(
        FaultRule::new("POST", "/repos/*/*/issues/comments/*", Fault::status(502)).times(6),
    );
    let ran = labeled(&s).run_in_process().await;
    ran.success();
    let body = &s.github.comments(REPO, 1)[0].body;
    assert!(
        body.contains("### ✅ Cursor agent finished") && !body.contains(WORKING),
        "{body}"
    );
}

#[tokio::test(start_paused = true)]
async fn matrix_legs_that_differ_only_in_model_keep_their_own_agents_and_comments() {
    let s = sims_v0(Scenario::lasting(10, 60)).await;
    let leg = |model: &str| labeled(&s).input("model", model);
    let a = leg("gpt-5.2").run_in_process().await;
    let b = leg("claude-4.5-sonnet-thinking").run_in_process().await;
    a.success();
    b.success();
    assert_ne!(a.output("agent-id"), b.output("agent-id"));
    assert_ne!(a.output("branch-name"), b.output("branch-name"));
    assert_ne!(a.output("comment-url"), b.output("comment-url"));
    assert_eq!(s.cursor.agents_created(), 2);
    assert_eq!(s.github.comments(REPO, 1).len(), 2);
    // Legs the action cannot tell apart are told apart by `launch-key`.
    let c = labeled(&s)
        .input("launch-key", "shard-1")
        .run_in_process()
        .await;
    let d = labeled(&s)
        .input("launch-key", "shard-2")
        .run_in_process()
        .await;
    assert_ne!(c.output("agent-id"), d.output("agent-id"));
    assert_eq!(s.github.comments(REPO, 1).len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_rerun_after_an_error_launches_a_new_agent_and_says_why() {
    for (end, word) in [(EndStatus::Error, "ERROR"), (EndStatus::Expired, "EXPIRED")] {
        let s = sims_v0(Scenario::lasting(10, 60).ending(end)).await;
        let first = labeled(&s).run_in_process().await;
        first.status(1);
        let old = first.output("agent-id").to_string();
        s.cursor.set_default_scenario(Scenario::lasting(10, 60));
        let second = labeled(&s)
            .env("GITHUB_RUN_ATTEMPT", "2")
            .run_in_process()
            .await;
        second.success();
        assert_ne!(second.output("agent-id"), old, "{word}");
        assert_eq!(s.cursor.agents_created(), 2, "{word}");
        let why = format!(
            "The agent {old} of an earlier attempt ended {word}, so this attempt launched a new agent."
        );
        second.stdout_has(&why);
        let comments = s.github.comments(REPO, 1);
        assert_eq!(comments.len(), 1, "the run's one comment: {word}");
        assert!(comments[0].body.contains(&why), "{}", comments[0].body);
        assert!(comments[0].body.contains("### ✅ Cursor agent finished"));
    }
}

#[tokio::test(start_paused = true)]
async fn an_error_agent_s_error_line_carries_its_first_summary_line_and_link() {
    let s = sims_v0(Scenario::lasting(10, 60).ending(EndStatus::Error)).await;
    let ran = labeled(&s).run_in_process().await;
    ran.status(1);
    let errors = ran.commands("error");
    assert_eq!(errors.len(), 1, "{}", ran.stdout);
    let line = errors[0];
    let first = ran.output("summary").lines().next().unwrap_or_default();
    assert!(!first.is_empty(), "the agent wrote a summary");
    assert!(line.contains(first), "{line}");
    assert!(line.contains(ran.output("agent-url")), "{line}");
    assert_ne!(line.trim(), "::error::error");
    // The advice matches what a re-run does.
    let body = &s.github.comments(REPO, 1)[0].body;
    assert!(!body.contains("comment again"), "{body}");
}

#[tokio::test(start_paused = true)]
async fn no_follow_up_hint_without_an_agent() {
    let s = sims_v0(Scenario {
        refuse_launch: Some(Refusal::RepositoryNotAccessible),
        ..Scenario::lasting(10, 60)
    })
    .await;
    let ran = test(&s, "issue_comment", &fixture("issue_comment.created.json"))
        .input("trigger-phrase", "fixed")
        .run_in_process()
        .await;
    ran.status(1);
    let comments = s.github.comments(REPO, 1);
    let ours = comments.last().unwrap();
    assert!(
        !ours.body.contains("to send the agent a follow-up"),
        "{}",
        ours.body
    );
}

/// Every comment body the run wrote carries the follow-up invitation for
/// `phrase`, or none does.
fn invitations(s: &Simulators, phrase: &str) -> (usize, usize) {
    let writes = comment_writes(s);
    let invited = writes
        .iter()
        .filter(|(_, body)| {
            body.contains(&format!(
                "comment `{phrase} …` to send the agent a follow-up"
            ))
        })
        .count();
    (invited, writes.len())
}

#[tokio::test(start_paused = true)]
async fn the_follow_up_invitation_appears_only_where_a_comment_would_follow_up() {
    // A label workflow with a trigger-phrase (as one copied from a comment
    // workflow): a comment never reaches it, so nothing invites one, in the
    // working comment or the final one, on success or after a stop.
    for (scenario, outcome) in [
        (Scenario::lasting(10, 60), "finished"),
        (Scenario::lasting(10, 600), "timeout"),
    ] {
        let s = sims_v0(scenario).await;
        let ran = labeled(&s)
            .input("label", "bug")
            .input("trigger-phrase", "/cursor")
            .input("timeout", "2m")
            .input("on-timeout", "stop")
            .run_in_process()
            .await;
        assert_eq!(ran.output("outcome"), outcome, "{}", ran.stdout);
        let (invited, written) = invitations(&s, "/cursor");
        assert!(written >= 2, "a working and a final body");
        assert_eq!(invited, 0, "{:#?}", comment_writes(&s));
        for (_, body) in comment_writes(&s) {
            assert!(!body.contains("follow-up comment"), "{body}");
        }
        if outcome == "timeout" {
            let last = comment_writes(&s).pop().unwrap().1;
            assert!(last.contains("so it was stopped"), "{last}");
        }
    }
    // `followup: false` on a comment: the comment is not sent to the agent.
    let s = sims_v0(Scenario::lasting(10, 60)).await;
    test(&s, "issue_comment", &fixture("issue_comment.created.json"))
        .input("trigger-phrase", "fixed")
        .input("followup", "false")
        .run_in_process()
        .await
        .success();
    assert_eq!(invitations(&s, "fixed").0, 0, "{:#?}", comment_writes(&s));
    // A comment workflow: the next comment with the phrase is a follow-up,
    // and every body that names the agent says so.
    let s = sims_v0(Scenario::lasting(10, 60)).await;
    test(&s, "issue_comment", &fixture("issue_comment.created.json"))
        .input("trigger-phrase", "fixed")
        .run_in_process()
        .await
        .success();
    let (invited, written) = invitations(&s, "fixed");
    assert!(
        invited >= 2 && invited + 1 >= written,
        "{:#?}",
        comment_writes(&s)
    );
    let writes = comment_writes(&s);
    let last = &writes.last().unwrap().1;
    assert!(
        last.contains("comment `fixed …` to send the agent a follow-up"),
        "{last}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_rerun_after_a_stop_at_the_deadline_launches_a_new_agent() {
    let s = sims_v0(Scenario::lasting(10, 7200)).await;
    let first = labeled(&s)
        .input("timeout", "5m")
        .input("on-timeout", "stop")
        .run_in_process()
        .await;
    first.status(1);
    let old = first.output("agent-id").to_string();
    assert_eq!(s.cursor.status_of(&old).as_deref(), Some("STOPPED"));
    s.cursor.set_default_scenario(Scenario::lasting(10, 60));
    let second = labeled(&s)
        .env("GITHUB_RUN_ATTEMPT", "2")
        .run_in_process()
        .await;
    second.success();
    assert_ne!(second.output("agent-id"), old);
    second.stdout_has(&format!(
        "The agent {old} of an earlier attempt ended STOPPED"
    ));
    let body = &s.github.comments(REPO, 1)[0].body;
    assert!(body.contains("### ✅ Cursor agent finished"), "{body}");
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_proxy_is_named_not_the_api() {
    let s = sims_v0(Scenario::lasting(10, 60)).await;
    // A closed port on loopback: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let ran = ActionTest::new()
        .event_json(
            "workflow_dispatch",
            &serde_json::json!({"ref": "refs/heads/master", "inputs": {}}),
        )
        .against(&s.cursor_url(), None)
        .input("prompt", "Refresh the docs")
        .env("HTTP_PROXY", &proxy)
        .run_in_process()
        .await;
    ran.status(1);
    let errors = ran.commands("error");
    assert_eq!(errors.len(), 1, "{}", ran.stdout);
    let host = proxy.trim_start_matches("http://");
    assert!(
        errors[0].contains(host) && errors[0].contains("`HTTP_PROXY`"),
        "{}",
        errors[0]
    );
    assert!(
        !errors[0].contains("could not reach the Cursor API"),
        "{}",
        errors[0]
    );
    assert_eq!(s.cursor.agents_created(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_rerun_of_a_comment_trigger_after_an_error_launches_rather_than_follows_up() {
    let s = sims_v0(Scenario::lasting(10, 60).ending(EndStatus::Error)).await;
    let comment = || test(&s, "issue_comment", &fixture("issue_comment.created.json"));
    let first = comment().run_in_process().await;
    first.status(1);
    let old = first.output("agent-id").to_string();
    s.cursor.set_default_scenario(Scenario::lasting(10, 60));
    let second = comment()
        .env("GITHUB_RUN_ATTEMPT", "2")
        .run_in_process()
        .await;
    second.success();
    assert_eq!(second.output("outcome"), "finished");
    assert_ne!(second.output("agent-id"), old);
    assert_eq!(s.cursor.agents_created(), 2);
    assert_eq!(s.cursor.count("POST", "/v0/agents/*/followup"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_comment_deleted_during_the_run_is_replaced_by_a_final_one() {
    let s = sims_v0(Scenario::lasting(20, 300)).await;
    // Someone deletes the comment while the agent runs (after the RUNNING edit).
    let github = s.github.clone();
    let deleter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(100)).await;
        let comments = github.comments(REPO, 1);
        assert_eq!(comments.len(), 1, "the run's comment exists by now");
        assert!(github.delete_comment(comments[0].id));
    });
    let ran = labeled(&s).run_in_process().await;
    deleter.await.unwrap();
    ran.success();
    let comments = s.github.comments(REPO, 1);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    let body = &comments[0].body;
    assert!(
        body.contains("### ✅ Cursor agent finished") && !body.contains(WORKING),
        "{body}"
    );
    assert!(body.contains(ran.output("agent-id")));
    assert!(
        ran.output("comment-url")
            .ends_with(&format!("#issuecomment-{}", comments[0].id)),
        "the outputs name the new comment"
    );
    ran.stdout_has("was deleted; posting a new one");
}

#[tokio::test(start_paused = true)]
async fn a_fixed_branch_never_adopts_another_run_s_agent() {
    let s = sims_v0(Scenario::lasting(10, 60)).await;
    let dispatch = serde_json::json!({"ref": "refs/heads/master", "inputs": {}});
    let night = |run: &str, prompt: &str| {
        test(&s, "workflow_dispatch", &dispatch)
            .env("GITHUB_RUN_ID", run)
            .input("branch-name", "cursor/nightly")
            .input("prompt", prompt)
    };
    let first = night("100", "Tidy the changelog").run_in_process().await;
    first.success();
    let other = first.output("agent-id").to_string();
    // The next run's launch answer is lost (the request was not carried
    // out): the lookup finds the first run's agent on the same branch.
    s.cursor
        .add_fault(FaultRule::new("POST", "/v0/agents", Fault::Reset).times(1));
    let second = night("101", "Update the dependencies")
        .run_in_process()
        .await;
    second.success();
    assert_ne!(second.output("agent-id"), other, "not adopted");
    assert_eq!(s.cursor.agents_created(), 2);
    second.stdout_lacks("Found the agent launched by this run");
    // Its own lost launch, though, is still found and adopted.
    s.cursor
        .add_fault(FaultRule::new("POST", "/v0/agents", Fault::ApplyThenReset).times(1));
    let third = night("102", "Check the links").run_in_process().await;
    third.success();
    third.stdout_has("Found the agent launched by this run");
    assert_eq!(s.cursor.agents_created(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_proxy_on_github_calls_is_named_without_its_credentials() {
    let s = sims_v0(Scenario::lasting(10, 60)).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = closed.local_addr().unwrap().to_string();
    drop(closed);
    // A comment trigger: the permission check is the first call, to GitHub.
    let ran = ActionTest::new()
        .event("issue_comment", "issue_comment.created.json")
        .against(&s.cursor_url(), Some(&s.github_url()))
        .env(
            "HTTP_PROXY",
            &format!("http://proxyuser:pr0xy-s3cret@{host}"),
        )
        .run_in_process()
        .await;
    ran.status(1);
    let errors = ran.commands("error");
    assert_eq!(errors.len(), 1, "{}", ran.stdout);
    assert!(
        errors[0].contains(&format!("through the proxy {host} set by `HTTP_PROXY`")),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("permission"), "{}", errors[0]);
    assert!(
        !ran.everything_unmasked().contains("pr0xy-s3cret")
            && !ran.everything_unmasked().contains("proxyuser"),
        "the proxy's credentials were printed"
    );
    assert!(s.github.requests().is_empty() && s.cursor.requests().is_empty());
}
