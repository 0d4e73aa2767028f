//! The whole action on Cursor's v1 API (#12), against the simulator in
//! virtual time: v1 is the default; the create request's shape; one agent
//! per launch identity whatever is lost; the run's stream followed to the
//! final comment and outputs; deadlines and cancels while streaming;
//! follow-ups as runs; what v1 cannot do refused before anything is sent;
//! hostile stream text kept harmless.

use crate::support::*;
use cursor_agent_action::marker::Marker;
use serde_json::Value;
use sim::*;
use std::time::Duration;

fn creates(s: &Simulators) -> Vec<Value> {
    v1_bodies(s, "POST", "/v1/agents")
}

fn v0_requests(s: &Simulators) -> usize {
    s.cursor
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v0/"))
        .count()
}

fn final_comment(s: &Simulators) -> String {
    let comments = s.github.comments(REPO, 1);
    assert!(!comments.is_empty(), "no comment");
    comments.last().unwrap().body.clone()
}

#[tokio::test(start_paused = true)]
async fn the_default_is_v1_and_the_run_is_followed_to_the_final_comment() {
    let s = sims_v1(V1Scenario::lasting(3, 40)).await;
    let ran = labeled(&s)
        .v1()
        .default_api()
        .input("model", "gpt-5.2")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    assert_eq!(ran.output("status"), "FINISHED");
    assert_eq!(v0_requests(&s), 0, "nothing on v0");
    assert_eq!(s.cursor.v1().agents_created(), 1);
    // The request, as v1 wants it.
    let create = &creates(&s)[0];
    assert_eq!(create["model"], serde_json::json!({"id": "gpt-5.2"}));
    assert_eq!(
        create["repos"][0]["url"],
        "https://github.com/Codertocat/Hello-World"
    );
    assert!(
        create["prompt"]["text"]
            .as_str()
            .unwrap()
            .contains("Spelling error in the README file")
    );
    for absent in ["branchName", "target", "source", "webhook"] {
        assert!(create.get(absent).is_none(), "{absent}: {create}");
    }
    let agent_id = create["agentId"].as_str().unwrap();
    assert_eq!(ran.output("agent-id"), agent_id);
    // Outputs from the run.
    let run_id = ran.output("run-id");
    assert!(run_id.starts_with("run-"), "{run_id}");
    assert_eq!(
        ran.output("summary"),
        "Fixed the failing test and opened a pull request."
    );
    assert!(ran.output("branch-name").starts_with("cursor/"));
    // One stream connection followed it, its activity in the log.
    assert_eq!(s.cursor.v1().stream_connects(), vec![None]);
    ran.stdout_has("agent: Fixed the failing test and opened a pull request.")
        .stdout_has("tool: Ran cargo test (running)")
        .stdout_has("RUNNING → FINISHED");
    // The comment ends final, with the summary, and records agent and run.
    let body = final_comment(&s);
    assert!(!body.contains(WORKING), "{body}");
    assert!(body.contains("Fixed the failing test"), "{body}");
    let marker = Marker::find(&body).unwrap();
    assert_eq!(marker.agent.as_deref(), Some(agent_id));
    assert_eq!(marker.run_id.as_deref(), Some(run_id));
}

#[tokio::test(start_paused = true)]
async fn a_pull_request_trigger_works_on_its_branch_unless_pr_branch_is_new() {
    for (pr_branch, expected) in [("existing", true), ("new", false)] {
        let s = sims_v1(V1Scenario::lasting(3, 20)).await;
        ActionTest::new()
            .event("pull_request", "pull_request.opened.json")
            .against(&s.cursor_url(), Some(&s.github_url()))
            .v1()
            .input("prompt", "Review this")
            .input("pr-branch", pr_branch)
            .run_in_process()
            .await
            .success();
        let create = &creates(&s)[0];
        assert_eq!(create["workOnCurrentBranch"], expected, "{create}");
        assert!(
            create["repos"][0]["prUrl"]
                .as_str()
                .unwrap()
                .ends_with("/pull/2"),
            "{create}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_agent_id_is_the_same_on_every_attempt_and_a_rerun_reattaches() {
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    let first = labeled(&s).v1().run_in_process().await;
    first.success();
    // The re-run has the comment to go by…
    let second = labeled(&s)
        .v1()
        .env("GITHUB_RUN_ATTEMPT", "2")
        .run_in_process()
        .await;
    second.success();
    second.stdout_has("Reattached to agent");
    // …and one that reads no comment has only the agent id.
    let third = labeled(&s)
        .v1()
        .input("comment", "false")
        .env("GITHUB_RUN_ATTEMPT", "3")
        .run_in_process()
        .await;
    third.success();
    let id = first.output("agent-id");
    assert_eq!(second.output("agent-id"), id);
    assert_eq!(third.output("agent-id"), id);
    assert_eq!(second.output("run-id"), first.output("run-id"));
    assert_eq!(s.cursor.v1().agents_created(), 1);
    assert_eq!(
        s.github.comments(REPO, 1).len(),
        1,
        "one comment per launch"
    );
    // Another workflow run is another launch.
    let other = labeled(&s)
        .v1()
        .env("GITHUB_RUN_ID", "99")
        .run_in_process()
        .await;
    assert_ne!(other.output("agent-id"), id);
}

#[tokio::test(start_paused = true)]
async fn a_lost_create_answer_is_retried_with_the_same_agent_id_and_adopted() {
    for fault in [Fault::ApplyThenReset, Fault::ApplyThenStall, Fault::Reset] {
        let s = sims_v1(V1Scenario::lasting(3, 20)).await;
        s.cursor
            .add_fault(FaultRule::new("POST", "/v1/agents", fault.clone()));
        let ran = labeled(&s).v1().run_in_process().await;
        ran.success();
        assert_eq!(s.cursor.v1().agents_created(), 1, "{fault:?}");
        let creates = creates(&s);
        assert_eq!(creates.len(), 2, "{fault:?}");
        assert_eq!(creates[0]["agentId"], creates[1]["agentId"], "{fault:?}");
        assert_eq!(
            ran.output("agent-id"),
            creates[0]["agentId"].as_str().unwrap()
        );
        if matches!(fault, Fault::Reset) {
            ran.stdout_has("Launched agent");
        } else {
            ran.stdout_has("Adopted agent");
        }
        assert_eq!(ran.output("outcome"), "finished", "{fault:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_dropped_stream_resumes_without_doubling_the_activity() {
    let s = sims_v1(V1Scenario {
        drops: vec![
            Duration::from_secs(4) + Duration::from_millis(600),
            Duration::from_secs(20),
        ],
        ..V1Scenario::lasting(3, 40)
    })
    .await;
    let ran = labeled(&s).v1().run_in_process().await;
    ran.success();
    let connects = s.cursor.v1().stream_connects();
    assert!(connects.len() >= 3, "{connects:?}");
    assert!(
        connects[1..].iter().all(Option::is_some),
        "resumed: {connects:?}"
    );
    assert_eq!(
        ran.stdout.matches("tool: Ran cargo test (running)").count(),
        1,
        "{}",
        ran.stdout
    );
    assert_eq!(ran.stdout.matches("agent: Fixed the failing").count(), 1);
    assert_eq!(ran.output("outcome"), "finished");
}

#[tokio::test(start_paused = true)]
async fn an_expired_stream_falls_back_to_reading_the_run() {
    let s = sims_v1(V1Scenario {
        expired: true,
        ..V1Scenario::lasting(3, 60)
    })
    .await;
    let ran = labeled(&s).v1().run_in_process().await;
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    assert_eq!(
        ran.stdout.matches("instead of its stream").count(),
        1,
        "said once: {}",
        ran.stdout
    );
    assert_eq!(
        ran.output("summary"),
        "Fixed the failing test and opened a pull request."
    );
    assert!(!final_comment(&s).contains(WORKING));
}

#[tokio::test(start_paused = true)]
async fn the_deadline_while_streaming_honours_on_timeout() {
    for (on_timeout, code, outcome) in [
        ("fail", 1, "timeout"),
        ("continue", 0, "timeout"),
        ("stop", 1, "timeout"),
    ] {
        let s = sims_v1(V1Scenario::lasting(3, 7200)).await;
        let ran = labeled(&s)
            .v1()
            .input("timeout", "2m")
            .input("on-timeout", on_timeout)
            .run_in_process()
            .await;
        ran.status(code);
        assert_eq!(ran.output("outcome"), outcome, "{on_timeout}");
        let cancels = s.cursor.count("POST", "/v1/agents/*/runs/*/cancel");
        assert_eq!(cancels, usize::from(on_timeout == "stop"), "{on_timeout}");
        let body = final_comment(&s);
        assert!(!body.contains(WORKING), "{on_timeout}: {body}");
        if on_timeout == "stop" {
            assert!(body.contains("so it was stopped"), "{body}");
            assert_eq!(ran.output("status"), "CANCELLED");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn sigint_while_streaming_ends_in_time_and_cancels_the_run_when_asked() {
    for (on_cancel, cancel_fails) in [("stop", false), ("stop", true), ("leave", false)] {
        let s = sims_v1(V1Scenario {
            cancel_fails,
            ..V1Scenario::lasting(3, 7200)
        })
        .await;
        let t = labeled(&s).v1().input("on-cancel", on_cancel);
        let began = tokio::time::Instant::now();
        let ran = t
            .run_in_process_with(cancel_after(Some(30), "SIGINT"))
            .await;
        let after = began.elapsed().saturating_sub(Duration::from_secs(30));
        assert!(after <= Duration::from_secs(5), "{after:?}");
        ran.status(1);
        assert_eq!(ran.output("outcome"), "cancelled");
        let cancels = s.cursor.count("POST", "/v1/agents/*/runs/*/cancel");
        let body = final_comment(&s);
        assert!(!body.contains(WORKING), "{body}");
        match (on_cancel, cancel_fails) {
            ("stop", false) => {
                assert_eq!(cancels, 1);
                assert!(body.contains("so the agent was stopped"), "{body}");
            }
            ("stop", true) => {
                assert!(cancels >= 1);
                assert!(
                    body.contains("still reads RUNNING") && body.contains("may still be running"),
                    "honest: {body}"
                );
            }
            _ => {
                assert_eq!(cancels, 0);
                assert!(body.contains("keeps running"), "{body}");
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_follow_up_to_an_idle_agent_is_a_new_run() {
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    let first = labeled(&s).v1().run_in_process().await;
    first.success();
    let agent = first.output("agent-id").to_string();
    let ran = comment_trigger(&s).v1().run_in_process().await;
    ran.success();
    assert_eq!(ran.output("agent-id"), agent);
    assert_eq!(s.cursor.v1().agents_created(), 1);
    assert_eq!(s.cursor.v1().runs_of(&agent), 2);
    let runs = v1_bodies(&s, "POST", "/runs");
    assert_eq!(runs.len(), 1);
    assert!(
        runs[0]["prompt"]["text"]
            .as_str()
            .unwrap()
            .contains("You are totally right!")
    );
    assert_ne!(ran.output("run-id"), first.output("run-id"));
    assert_eq!(ran.output("outcome"), "finished");
    let comments = s.github.comments(REPO, 1);
    assert_eq!(comments.len(), 2);
    assert_eq!(
        Marker::find(&comments[1].body).unwrap().run_id.as_deref(),
        Some(ran.output("run-id"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_follow_up_to_a_busy_agent_is_sent_once_after_its_run_ends() {
    let s = sims_v1(V1Scenario::lasting(3, 120)).await;
    let first = labeled(&s)
        .v1()
        .input("wait", "false")
        .run_in_process()
        .await;
    first.success();
    let agent = first.output("agent-id").to_string();
    let ran = comment_trigger(&s).v1().run_in_process().await;
    ran.success();
    assert_eq!(ran.output("agent-id"), agent);
    assert_eq!(s.cursor.v1().runs_of(&agent), 2, "sent exactly once");
    let posted: Vec<_> = s
        .cursor
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/runs"))
        .collect();
    assert_eq!(posted.iter().filter(|r| r.status == 201).count(), 1);
    assert_eq!(posted[0].status, 409, "first refused busy");
    ran.stdout_has("is busy with another run");
    // While it waited, the comment said so.
    assert!(
        s.github.requests().iter().any(|r| r.method != "GET"
            && r.body
                .contains("is busy with another run; this follow-up is sent when that run ends")),
        "no interim comment said the agent was busy"
    );
    let body = final_comment(&s);
    assert!(body.contains("was busy with another run"), "{body}");
    assert!(!body.contains(WORKING));
}

#[tokio::test(start_paused = true)]
async fn a_follow_up_to_an_agent_archived_by_hand_unarchives_it_and_sends_the_run() {
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    let first = labeled(&s).v1().run_in_process().await;
    let old = first.output("agent-id").to_string();
    let r = http()
        .post(format!("{}/v1/agents/{old}/archive", s.cursor_url()))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ran = comment_trigger(&s).v1().run_in_process().await;
    ran.success();
    assert_eq!(ran.output("agent-id"), old);
    assert_eq!(s.cursor.v1().agents_created(), 1);
    assert_eq!(s.cursor.v1().runs_of(&old), 2);
    assert!(!s.cursor.v1().is_archived(&old), "no archive-when-done");
    let body = final_comment(&s);
    assert!(!body.contains("new agent was launched"), "{body}");
}

#[tokio::test(start_paused = true)]
async fn what_v1_cannot_honour_is_refused_before_anything_is_sent() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("branch-name", "cursor/mine")], "branch-name"),
        (
            &[("webhook-url", "https://example.com/hook")],
            "webhook-url",
        ),
        (
            &[
                ("webhook-url", "https://example.com/hook"),
                ("webhook-secret", "0123456789abcdef0123456789abcdef"),
            ],
            "webhook-secret",
        ),
        (
            &[
                ("auto-create-pr", "true"),
                ("open-as-cursor-github-app", "true"),
            ],
            "open-as-cursor-github-app",
        ),
        (&[("api-version", "v2")], "api-version"),
    ];
    for (inputs, named) in cases {
        let s = sims_v1(V1Scenario::default()).await;
        let mut t = labeled(&s).v1().default_api();
        for (k, v) in *inputs {
            t = t.input(k, v);
        }
        let ran = t.run_in_process().await;
        ran.status(2);
        let errors = ran.commands("error");
        assert_eq!(errors.len(), 1, "{}", ran.stdout);
        assert!(errors[0].contains(&format!("`{named}`")), "{}", errors[0]);
        if *named != "api-version" {
            assert!(
                errors[0].contains("api-version: v0"),
                "the fix: {}",
                errors[0]
            );
        }
        assert!(s.cursor.requests().is_empty(), "nothing sent for {named}");
        assert!(s.github.requests().is_empty(), "nothing sent for {named}");
    }
    // v1-only options on v0 are refused the same way.
    let s = sims_v1(V1Scenario::default()).await;
    let ran = labeled(&s)
        .api(Api::V0)
        .input("mode", "plan")
        .run_in_process()
        .await;
    ran.status(2);
    assert!(ran.commands("error")[0].contains("`mode`"));
}

#[tokio::test(start_paused = true)]
async fn plan_mode_and_the_current_branch_are_sent_and_mode_is_part_of_the_identity() {
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    let a = labeled(&s)
        .v1()
        .input("mode", "plan")
        .input("work-on-current-branch", "true")
        .input("skip-reviewer-request", "true")
        .run_in_process()
        .await;
    a.success();
    let b = labeled(&s)
        .v1()
        .input("mode", "agent")
        .run_in_process()
        .await;
    b.success();
    let creates = creates(&s);
    assert_eq!(creates[0]["mode"], "plan");
    assert_eq!(creates[0]["workOnCurrentBranch"], true);
    // v1's own field, without v0's need for open-as-cursor-github-app.
    assert_eq!(creates[0]["skipReviewerRequest"], true);
    assert!(creates[1].get("skipReviewerRequest").is_none());
    assert_eq!(creates[1]["mode"], "agent");
    assert_ne!(creates[0]["agentId"], creates[1]["agentId"]);
}

#[tokio::test(start_paused = true)]
async fn images_are_sent_in_v1_s_shape() {
    use base64::Engine as _;
    use cursor_agent_action::inputs::image::samples;
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    let png = samples::png(3, 2);
    let ran = labeled(&s)
        .v1()
        .file("shots/a.png", &png)
        .input("images", "shots/a.png")
        .run_in_process()
        .await;
    ran.success();
    let creates = creates(&s);
    assert_eq!(creates.len(), 1);
    let images = creates[0]["prompt"]["images"].as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["mimeType"], "image/png");
    assert_eq!(
        images[0]["data"],
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    // No v0 `dimension`: the simulator refuses unknown keys, and accepted it.
    assert!(images[0].get("dimension").is_none());
}

#[tokio::test(start_paused = true)]
async fn hostile_stream_text_never_runs_a_workflow_command_or_reaches_the_comment_raw() {
    let s = sims_v1(V1Scenario {
        result_text: "Done.\n::warning::pwned\n::add-mask::x @octocat <img src=x onerror=alert(1)> ::set-env name=X::y".into(),
        ..V1Scenario::lasting(3, 20)
    })
    .await;
    let ran = labeled(&s).v1().run_in_process().await;
    ran.success();
    for cmd in ["warning", "add-mask", "set-env", "error"] {
        assert!(
            ran.commands(cmd)
                .iter()
                .all(|l| !l.contains("pwned") && !l.contains("::y") && !l.ends_with("::x")),
            "{cmd}: {}",
            ran.stdout
        );
    }
    assert!(
        ran.stdout
            .lines()
            .all(|l| !l.starts_with("::warning::pwned"))
    );
    let body = final_comment(&s);
    assert!(!body.contains("@octocat"), "{body}");
    assert!(!body.contains("<img"), "{body}");
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_prints_the_v1_request_and_sends_nothing() {
    let s = sims_v1(V1Scenario::default()).await;
    let ran = labeled(&s)
        .v1()
        .input("dry-run", "true")
        .input("model", "gpt-5.2")
        .run_in_process()
        .await;
    ran.success();
    ran.stdout_has("/v1/agents\nAuthorization: Basic ***")
        .stdout_has("\"agentId\": \"bc-")
        .stdout_has("\"id\": \"gpt-5.2\"")
        .stdout_lacks("branchName");
    assert!(s.cursor.requests().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_signal_during_the_create_finds_the_agent_by_its_id_or_says_what_to_check() {
    for (fault, created) in [(Fault::ApplyThenStall, true), (Fault::Stall, false)] {
        let s = sims_v1(V1Scenario::lasting(3, 600)).await;
        s.cursor
            .add_fault(FaultRule::new("POST", "/v1/agents", fault.clone()));
        let t = labeled(&s).v1().input("on-cancel", "stop");
        let began = tokio::time::Instant::now();
        let ran = t.run_in_process_with(cancel_after(Some(2), "SIGINT")).await;
        let after = began.elapsed().saturating_sub(Duration::from_secs(2));
        assert!(after <= Duration::from_secs(5), "{fault:?}: {after:?}");
        ran.status(1);
        assert_eq!(ran.output("outcome"), "cancelled");
        assert_eq!(s.cursor.v1().agents_created(), usize::from(created));
        let id = creates(&s)[0]["agentId"].as_str().unwrap().to_string();
        if created {
            assert_eq!(ran.output("agent-id"), id, "linked");
            assert_eq!(s.cursor.count("POST", "/v1/agents/*/runs/*/cancel"), 1);
            assert!(final_comment(&s).contains("so the agent was stopped"));
        } else {
            let detail = ran.commands("error").join("\n");
            assert!(detail.contains(&format!("agent id {id}")), "{detail}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_or_refused_stream_still_reaches_the_end() {
    for scenario in [
        V1Scenario {
            stall_at: Some(Duration::from_secs(10)),
            ..V1Scenario::lasting(3, 900)
        },
        V1Scenario {
            unavailable_head: 20,
            ..V1Scenario::lasting(3, 120)
        },
        V1Scenario {
            buffered: true,
            ..V1Scenario::lasting(3, 300)
        },
    ] {
        let s = sims_v1(scenario.clone()).await;
        let ran = labeled(&s).v1().run_in_process().await;
        ran.success();
        assert_eq!(ran.output("outcome"), "finished", "{scenario:?}");
        assert!(ran.output("summary").starts_with("Fixed"), "{scenario:?}");
        assert!(!final_comment(&s).contains(WORKING));
    }
}

#[tokio::test(start_paused = true)]
async fn a_follow_up_to_an_agent_busy_past_the_deadline_is_not_sent_and_says_so() {
    let s = sims_v1(V1Scenario::lasting(3, 7200)).await;
    let first = labeled(&s)
        .v1()
        .input("wait", "false")
        .run_in_process()
        .await;
    let agent = first.output("agent-id").to_string();
    let ran = comment_trigger(&s)
        .v1()
        .input("timeout", "2m")
        .run_in_process()
        .await;
    ran.status(1);
    assert_eq!(ran.output("outcome"), "timeout");
    assert_eq!(s.cursor.v1().runs_of(&agent), 1, "never sent");
    let body = final_comment(&s);
    assert!(body.contains("stayed busy with another run"), "{body}");
}

#[tokio::test(start_paused = true)]
async fn a_refused_create_gives_the_v1_codes_actionable_message() {
    let s = sims_v1(V1Scenario::default()).await;
    s.cursor.add_fault(FaultRule::new(
        "POST",
        "/v1/agents",
        Fault::Status {
            status: 402,
            body: Some(r#"{"error":{"code":"plan_required","message":"Plan required"}}"#.into()),
            retry_after: None,
            headers: vec![],
        },
    ));
    let ran = labeled(&s).v1().run_in_process().await;
    ran.status(1);
    assert_eq!(ran.output("outcome"), "error");
    assert_eq!(creates(&s).len(), 1, "a refusal is not retried");
    let error = ran.commands("error").join("\n");
    assert!(
        error.contains("no plan that includes the API (plan_required)"),
        "{error}"
    );
    assert!(final_comment(&s).contains("plan_required"));
}

#[tokio::test(start_paused = true)]
async fn a_rerun_after_a_failed_run_launches_a_new_agent_with_an_id_of_its_own() {
    let s = sims_v1(V1Scenario {
        end_error: true,
        ..V1Scenario::lasting(3, 20)
    })
    .await;
    let first = labeled(&s).v1().run_in_process().await;
    first.status(1);
    s.cursor.v1().set_scenario(V1Scenario::lasting(3, 20));
    let second = labeled(&s)
        .v1()
        .env("GITHUB_RUN_ATTEMPT", "2")
        .run_in_process()
        .await;
    second.success();
    assert_ne!(first.output("agent-id"), second.output("agent-id"));
    assert_eq!(s.cursor.v1().agents_created(), 2);
    let body = final_comment(&s);
    assert!(
        body.contains("ended ERROR, so this attempt launched a new agent"),
        "{body}"
    );
    assert_eq!(s.github.comments(REPO, 1).len(), 1, "the same comment");
}

#[tokio::test(start_paused = true)]
async fn an_issue_whose_agent_was_made_on_v0_gets_a_new_v1_agent_on_a_follow_up() {
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    s.cursor.set_default_scenario(Scenario::lasting(5, 30));
    let first = labeled(&s).api(Api::V0).run_in_process().await;
    first.success();
    let old = first.output("agent-id").to_string();
    let ran = comment_trigger(&s).v1().run_in_process().await;
    ran.success();
    assert_ne!(ran.output("agent-id"), old);
    assert_eq!(s.cursor.v1().agents_created(), 1);
    assert_eq!(ran.output("outcome"), "finished");
    let body = final_comment(&s);
    assert!(
        body.contains(&format!(
            "The agent {old} this issue was using is gone (HTTP 404 agent_not_found)"
        )),
        "{body}"
    );
}

/// When the first comment write carrying `headline` reached GitHub, and
/// when the run was created (ms, the simulators' shared clock).
fn created_and_told(s: &Simulators, headline: &str) -> (u64, Option<u64>) {
    let created = s
        .cursor
        .requests()
        .iter()
        .find(|r| r.method == "POST" && r.path == "/v1/agents")
        .map(|r| r.at_ms)
        .expect("a create");
    let told = s
        .github
        .requests()
        .iter()
        .find(|r| r.path.contains("/comments") && r.body.contains(headline))
        .map(|r| r.at_ms);
    (created, told)
}

const FINISHED: &str = "Cursor agent finished";

/// Issue #23: the stream goes on with heartbeats only and the run's end is
/// never streamed. It is reported finished within the read policy (2 min
/// after the last news, then every 2 min; one read's spacing more at worst)
/// of its end, wherever that end falls against the reads.
#[tokio::test(start_paused = true)]
async fn a_run_that_finished_behind_heartbeats_is_reported_finished_within_two_minutes_of_its_end()
{
    for (heartbeats_from, ends_ms) in [
        (1_000u64, 3_500u64),
        (2_000, 118_000),
        (2_000, 125_000),
        (2_000, 250_000),
        (200_000, 400_000),
    ] {
        let s = sims_v1(V1Scenario {
            creating: Duration::from_secs(1),
            running: Duration::from_millis(ends_ms - 1_000),
            heartbeats_only_after: Some(Duration::from_millis(heartbeats_from)),
            ..V1Scenario::default()
        })
        .await;
        let ran = labeled(&s)
            .v1()
            .input("timeout", "1h")
            .run_in_process()
            .await;
        let case = format!("heartbeats only from {heartbeats_from} ms, ends at {ends_ms} ms");
        ran.success();
        assert_eq!(ran.output("outcome"), "finished", "{case}");
        assert_eq!(ran.output("status"), "FINISHED", "{case}");
        let (created, told) = created_and_told(&s, FINISHED);
        let late = told.expect("a final comment") - (created + ends_ms);
        assert!(late <= 130_000, "{case}: told {late} ms after the end");
    }
}

/// Issue #23's run: FINISHED 3.5 s in behind heartbeats, `timeout: 45s`,
/// `on-timeout: stop`, a cancel that answers 500. What a read says at the
/// deadline wins: reported finished at the deadline, never "stopped".
#[tokio::test(start_paused = true)]
async fn at_the_deadline_a_finished_run_read_back_wins_over_timeout_and_is_not_called_stopped() {
    for on_timeout in ["fail", "continue", "stop"] {
        let s = sims_v1(V1Scenario {
            creating: Duration::from_secs(1),
            running: Duration::from_millis(2_500),
            heartbeats_only_after: Some(Duration::from_secs(1)),
            cancel_fails: true,
            ..V1Scenario::default()
        })
        .await;
        let ran = labeled(&s)
            .v1()
            .input("timeout", "45s")
            .input("on-timeout", on_timeout)
            .run_in_process()
            .await;
        ran.success();
        assert_eq!(ran.output("outcome"), "finished", "{on_timeout}");
        assert_eq!(ran.output("status"), "FINISHED", "{on_timeout}");
        let (created, told) = created_and_told(&s, FINISHED);
        let told = told.expect("a final comment") - created;
        assert!(
            (45_000..47_000).contains(&told),
            "{on_timeout}: told at {told} ms"
        );
        let body = final_comment(&s);
        assert!(!body.contains("stopped"), "{on_timeout}: {body}");
        assert!(!ran.stdout.contains("was stopped"), "{on_timeout}");
        assert_eq!(
            s.cursor.count("POST", "/v1/agents/*/runs/*/cancel"),
            0,
            "{on_timeout}: nothing to cancel"
        );
    }
}

/// Issue #23: a follow-up carries the `images` input as a launch does, in
/// each API's shape (v0 `POST …/followup` with `dimension`, v1 `POST …/runs`
/// with `mimeType`), and the simulators (which refuse a malformed image)
/// take it.
#[tokio::test(start_paused = true)]
async fn a_follow_up_carries_the_images_input_on_v0_and_v1() {
    use base64::Engine as _;
    use cursor_agent_action::inputs::image::samples;
    let png = samples::png(3, 2);
    let data = base64::engine::general_purpose::STANDARD.encode(&png);
    for api in ["v0", "v1"] {
        let s = sims_v1(V1Scenario::lasting(3, 20)).await;
        s.cursor.set_default_scenario(Scenario::lasting(10, 20));
        let with_images = |t: ActionTest| {
            t.input("api-version", api)
                .file("shots/a.png", &png)
                .input("images", "shots/a.png")
        };
        with_images(labeled(&s).v1())
            .run_in_process()
            .await
            .success();
        let ran = with_images(comment_trigger(&s).v1()).run_in_process().await;
        ran.success();
        assert_eq!(ran.output("outcome"), "finished", "{api}");
        let (suffix, status) = if api == "v0" {
            ("/followup", 200)
        } else {
            ("/runs", 201)
        };
        let sent: Vec<_> = s
            .cursor
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with(suffix))
            .collect();
        assert_eq!(sent.len(), 1, "{api}: one follow-up");
        assert_eq!(sent[0].status, status, "{api}: accepted");
        let body: Value = serde_json::from_str(&sent[0].body).unwrap();
        let expected = if api == "v0" {
            serde_json::json!([{"data": data, "dimension": {"width": 3, "height": 2}}])
        } else {
            serde_json::json!([{"data": data, "mimeType": "image/png"}])
        };
        assert_eq!(body["prompt"]["images"], expected, "{api}");
    }
}
