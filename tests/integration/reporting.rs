//! Reporting on GitHub: one live comment per trigger, always finalized;
//! re-runs reattach; follow-ups reach the same agent; only trusted people
//! trigger; nothing is duplicated or lost when GitHub misbehaves.

use crate::support::*;
use cursor_agent_action::marker::Marker;
use serde_json::{Value, json};
use sim::*;

/// Comment writes: (creates, updates).
fn writes(s: &Simulators) -> (usize, usize) {
    let creates = s.github.count("POST", "/repos/*/*/issues/*/comments");
    let updates = s.github.count("POST", "/repos/*/*/issues/comments/*")
        + s.github.count("PATCH", "/repos/*/*/issues/comments/*");
    (creates, updates)
}

fn only_comment(s: &Simulators, issue: u64) -> GhComment {
    let comments = s.github.comments(REPO, issue);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    comments.into_iter().next().unwrap()
}

fn reactions(s: &Simulators) -> Vec<(ReactionTarget, String)> {
    s.github
        .reactions()
        .into_iter()
        .map(|r| (r.target, r.content))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn one_comment_per_trigger_updated_on_each_status_change() {
    let s = sims_v0(Scenario::lasting(20, 300)).await;
    let ran = labeled(&s).run_in_process().await;
    ran.success();
    let c = only_comment(&s, 1);
    // Created at CREATING, updated at RUNNING and at the end, then once
    // more when the agent's artifact is listed (#23: final first, details
    // after): never per poll.
    assert_eq!(writes(&s), (1, 3));
    assert!(s.cursor.count("GET", "/v0/agents/*") > 5);
    assert!(
        c.body.contains("### ✅ Cursor agent finished") && !c.body.contains(WORKING),
        "{}",
        c.body
    );
    let marker = Marker::find(&c.body).unwrap();
    assert_eq!(marker.agent.as_deref(), Some(ran.output("agent-id")));
    assert_eq!((marker.run, marker.attempt), (Some(1234567890), Some(1)));
    assert!(c.body.contains(
        "[workflow run](https://github.com/Codertocat/Hello-World/actions/runs/1234567890)"
    ));
    assert_eq!(
        ran.output("comment-url"),
        format!("https://github.com/{REPO}/issues/1#issuecomment-{}", c.id)
    );
    assert_eq!(
        reactions(&s),
        vec![
            (ReactionTarget::Issue(1), "eyes".into()),
            (ReactionTarget::Issue(1), "rocket".into())
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn every_outcome_finalizes_the_one_comment() {
    struct Case {
        name: &'static str,
        scenario: Scenario,
        inputs: &'static [(&'static str, &'static str)],
        cancel_after: Option<u64>,
        headline: &'static str,
        reaction: Option<&'static str>,
    }
    let long = Scenario::lasting(10, 7200);
    let cases = [
        Case {
            name: "error",
            scenario: Scenario::lasting(10, 60).ending(EndStatus::Error),
            inputs: &[],
            cancel_after: None,
            headline: "❌ Cursor agent failed",
            reaction: Some("confused"),
        },
        Case {
            name: "expired",
            scenario: Scenario::lasting(10, 60).ending(EndStatus::Expired),
            inputs: &[],
            cancel_after: None,
            headline: "⌛ Cursor agent expired",
            reaction: Some("confused"),
        },
        Case {
            name: "timeout",
            scenario: long.clone(),
            inputs: &[("timeout", "5m")],
            cancel_after: None,
            headline: "⏱️ Timed out",
            reaction: Some("confused"),
        },
        Case {
            name: "timeout-stop",
            scenario: long.clone(),
            inputs: &[("timeout", "5m"), ("on-timeout", "stop")],
            cancel_after: None,
            headline: "⏱️ Timed out",
            reaction: Some("confused"),
        },
        Case {
            name: "timeout-continue",
            scenario: long.clone(),
            inputs: &[("timeout", "5m"), ("on-timeout", "continue")],
            cancel_after: None,
            headline: "⏱️ Timed out",
            reaction: None,
        },
        Case {
            name: "cancelled",
            scenario: long.clone(),
            inputs: &[],
            cancel_after: Some(200),
            headline: "🚫 Workflow cancelled",
            reaction: None,
        },
        Case {
            name: "no-wait",
            scenario: long.clone(),
            inputs: &[("wait", "false")],
            cancel_after: None,
            headline: "🚀 Cursor agent launched",
            reaction: Some("rocket"),
        },
        Case {
            name: "launch-refused",
            scenario: Scenario {
                refuse_launch: Some(Refusal::StorageMode),
                ..Scenario::default()
            },
            inputs: &[],
            cancel_after: None,
            headline: "❌ Cursor agent failed",
            reaction: Some("confused"),
        },
    ];
    for case in cases {
        let s = sims_v0(case.scenario).await;
        let mut t = labeled(&s);
        for (k, v) in case.inputs {
            t = t.input(k, v);
        }
        let ran = t
            .run_in_process_with(cancel_after(case.cancel_after, "SIGTERM"))
            .await;
        let c = only_comment(&s, 1);
        assert_eq!(writes(&s).0, 1, "{}", case.name);
        assert!(
            c.body.contains(&format!("### {}", case.headline)),
            "{}: {}",
            case.name,
            c.body
        );
        assert!(
            !c.body.contains(WORKING),
            "{}: still says working: {}",
            case.name,
            c.body
        );
        assert_eq!(
            ran.output("comment-url"),
            format!("https://github.com/{REPO}/issues/1#issuecomment-{}", c.id),
            "{}",
            case.name
        );
        let final_reactions: Vec<String> = reactions(&s)
            .into_iter()
            .map(|(_, r)| r)
            .filter(|r| r != "eyes")
            .collect();
        assert_eq!(
            final_reactions,
            case.reaction
                .map(|r| vec![r.to_string()])
                .unwrap_or_default(),
            "{}",
            case.name
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_rerun_reattaches_to_its_agent_and_comment() {
    let s = sims_v0(Scenario::lasting(10, 1200)).await;
    // Attempt 1 gives up waiting, leaving the agent running.
    let first = labeled(&s)
        .input("timeout", "5m")
        .input("on-timeout", "continue")
        .run_in_process()
        .await;
    first.success();
    let agent = first.output("agent-id").to_string();
    // Attempt 2 of the same run.
    let second = labeled(&s)
        .env("GITHUB_RUN_ATTEMPT", "2")
        .run_in_process()
        .await;
    second.success();
    assert_eq!(second.output("agent-id"), agent);
    assert_eq!(second.output("outcome"), "finished");
    second.stdout_has("Reattached to agent");
    assert_eq!(s.cursor.agents_created(), 1, "one agent");
    assert_eq!(s.cursor.count("POST", "/v0/agents"), 1);
    let c = only_comment(&s, 1);
    assert_eq!(writes(&s).0, 1, "one comment");
    assert!(c.body.contains("### ✅ Cursor agent finished"));
    assert_eq!(Marker::find(&c.body).unwrap().attempt, Some(2));
    assert_eq!(first.output("comment-url"), second.output("comment-url"));
}

#[tokio::test(start_paused = true)]
async fn two_steps_of_one_run_keep_their_own_agents_and_comments() {
    let s = sims_v0(Scenario::lasting(10, 1200)).await;
    let step = |id: &str, prompt: &str, attempt: &str| {
        labeled(&s)
            .env("GITHUB_ACTION", id)
            .env("GITHUB_RUN_ATTEMPT", attempt)
            .input("prompt", prompt)
            .input("timeout", "2m")
            .input("on-timeout", "continue")
    };
    let docs = step("docs", "Update the docs", "1").run_in_process().await;
    let tests = step("tests", "Add tests", "1").run_in_process().await;
    assert_ne!(docs.output("agent-id"), tests.output("agent-id"));
    assert_eq!(s.github.comments(REPO, 1).len(), 2);
    // Re-running the run: each step finds its own agent and comment.
    let docs2 = step("docs", "Update the docs", "2").run_in_process().await;
    let tests2 = step("tests", "Add tests", "2").run_in_process().await;
    assert_eq!(docs2.output("agent-id"), docs.output("agent-id"));
    assert_eq!(tests2.output("agent-id"), tests.output("agent-id"));
    assert_eq!(docs2.output("comment-url"), docs.output("comment-url"));
    assert_eq!(tests2.output("comment-url"), tests.output("comment-url"));
    assert_eq!(s.cursor.agents_created(), 2);
    assert_eq!(s.github.comments(REPO, 1).len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_rerun_without_a_comment_finds_its_agent_by_branch() {
    let s = sims_v0(Scenario::lasting(10, 1200)).await;
    let dispatch = json!({"ref": "refs/heads/master", "inputs": {}});
    let first = test(&s, "workflow_dispatch", &dispatch)
        .input("prompt", "Refresh the docs")
        .input("timeout", "2m")
        .input("on-timeout", "continue")
        .run_in_process()
        .await;
    first.success();
    let second = test(&s, "workflow_dispatch", &dispatch)
        .input("prompt", "Refresh the docs")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .run_in_process()
        .await;
    second.success();
    assert_eq!(first.output("agent-id"), second.output("agent-id"));
    assert_eq!(s.cursor.agents_created(), 1);
    assert_eq!(
        github_writes_besides_job_markers(&s.github),
        Vec::<String>::new(),
        "no issue: no comment"
    );
}

#[tokio::test(start_paused = true)]
async fn a_comment_on_an_issue_with_an_agent_is_a_followup() {
    let s = sims_v0(Scenario::lasting(10, 60)).await;
    let first = labeled(&s).run_in_process().await;
    first.success();
    let agent = first.output("agent-id").to_string();
    s.github.clear_reactions_and_log();

    let ran = test(&s, "issue_comment", &fixture("issue_comment.created.json"))
        .env("GITHUB_RUN_ID", "1234567891")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("agent-id"), agent);
    assert_eq!(ran.output("outcome"), "finished");
    assert_eq!(s.cursor.agents_created(), 1, "no new agent");
    assert_eq!(s.cursor.count("POST", "/v0/agents/*/followup"), 1);
    assert!(
        first_followup_text(&s).contains("You are totally right! I'll get this fixed right away.")
    );
    let comments = s.github.comments(REPO, 1);
    assert_eq!(comments.len(), 2, "one comment per trigger");
    let marker = Marker::find(&comments[1].body).unwrap();
    assert_eq!(
        (marker.agent.as_deref(), marker.run),
        (Some(agent.as_str()), Some(1234567891))
    );
    assert_eq!(
        reactions(&s),
        vec![
            (ReactionTarget::Comment(492700400), "eyes".into()),
            (ReactionTarget::Comment(492700400), "rocket".into())
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_followup_to_a_gone_agent_launches_a_new_one_and_says_so() {
    let s = sims_v0(Scenario::lasting(10, 60)).await;
    let first = labeled(&s).run_in_process().await;
    let old = first.output("agent-id").to_string();
    // The agent is deleted in Cursor.
    let r = http()
        .delete(format!("{}/v0/agents/{old}", s.cursor_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ran = test(&s, "issue_comment", &fixture("issue_comment.created.json"))
        .env("GITHUB_RUN_ID", "1234567891")
        .run_in_process()
        .await;
    ran.success();
    assert_ne!(ran.output("agent-id"), old);
    assert_eq!(s.cursor.agents_created(), 2);
    let comments = s.github.comments(REPO, 1);
    assert!(
        comments[1].body.contains(&format!(
            "The agent {old} this issue was using is gone (HTTP 404 agent not found), so a new agent was launched."
        )),
        "{}",
        comments[1].body
    );
}

#[tokio::test(start_paused = true)]
async fn followups_can_be_turned_off() {
    let s = sims_v0(Scenario::lasting(10, 60)).await;
    labeled(&s).run_in_process().await.success();
    let ran = test(&s, "issue_comment", &fixture("issue_comment.created.json"))
        .env("GITHUB_RUN_ID", "1234567891")
        .input("followup", "false")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(s.cursor.agents_created(), 2);
    assert_eq!(s.cursor.count("POST", "/v0/agents/*/followup"), 0);
}

/// Runs a trigger that must be refused: skipped, a notice, exit 0, and not
/// one Cursor request or GitHub write.
async fn assert_refused(s: &Simulators, t: ActionTest, why: &str) {
    let ran = t.run_in_process().await;
    ran.success();
    assert_eq!(ran.output("outcome"), "skipped");
    let notices = ran.commands("notice");
    assert_eq!(notices.len(), 1, "{}", ran.stdout);
    assert!(notices[0].contains(why), "{} lacks {why:?}", notices[0]);
    assert!(
        s.cursor.requests().is_empty(),
        "a refused trigger costs no Cursor request"
    );
    assert!(
        s.github.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        s.github.requests()
    );
    assert!(ran.summary.contains("Skipped"));
}

#[tokio::test(start_paused = true)]
async fn who_may_trigger() {
    // No write permission.
    for role in ["read", "triage", "none"] {
        let s = sims_v0(Scenario::default()).await;
        s.github.set_permission("Codertocat", role);
        assert_refused(
            &s,
            labeled(&s),
            &format!("Codertocat has {role} permission"),
        )
        .await;
    }
    // Maintainers may.
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    s.github.set_permission("Codertocat", "maintain");
    labeled(&s).run_in_process().await.success();
    assert_eq!(s.cursor.agents_created(), 1);

    // Bots: refused unless listed; then not permission-checked.
    let mut bot = fixture("issue_comment.created.json");
    bot["sender"]["login"] = json!("helper-bot[bot]");
    bot["sender"]["type"] = json!("Bot");
    bot["comment"]["user"] = bot["sender"].clone();
    let s = sims_v0(Scenario::default()).await;
    assert_refused(
        &s,
        test(&s, "issue_comment", &bot),
        "helper-bot[bot] is a bot and is not listed in `allowed-bots`",
    )
    .await;
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    test(&s, "issue_comment", &bot)
        .input("allowed-bots", "other, helper-bot")
        .run_in_process()
        .await
        .success();
    assert_eq!(s.cursor.agents_created(), 1);
    assert_eq!(
        s.github
            .count("GET", "/repos/*/*/collaborators/*/permission"),
        0
    );

    // The action's own comments.
    let mut own = fixture("issue_comment.created.json");
    own["comment"]["body"] = json!(
        "<!-- cursor-agent-action {\"v\":1,\"agent\":\"bc-1\",\"run\":1,\"attempt\":1} -->\n### ✅ Cursor agent finished"
    );
    let s = sims_v0(Scenario::default()).await;
    assert_refused(
        &s,
        test(&s, "issue_comment", &own),
        "written by cursor-agent-action",
    )
    .await;

    // Edited comments.
    let mut edited = fixture("issue_comment.created.json");
    edited["action"] = json!("edited");
    let s = sims_v0(Scenario::default()).await;
    assert_refused(
        &s,
        test(&s, "issue_comment", &edited),
        "only new comments trigger",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn trigger_phrase_and_label() {
    let s = sims_v0(Scenario::default()).await;
    assert_refused(
        &s,
        test(&s, "issue_comment", &fixture("issue_comment.created.json"))
            .input("trigger-phrase", "/cursor"),
        "does not contain the trigger phrase \"/cursor\"",
    )
    .await;

    let mut asked = fixture("issue_comment.created.json");
    asked["comment"]["body"] = json!("/Cursor please fix this");
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    test(&s, "issue_comment", &asked)
        .input("trigger-phrase", "/cursor")
        .run_in_process()
        .await
        .success();
    assert_eq!(s.cursor.agents_created(), 1);

    let mut quoted = fixture("issue_comment.created.json");
    quoted["comment"]["body"] = json!("> /cursor please fix this\nI agree");
    let s = sims_v0(Scenario::default()).await;
    assert_refused(
        &s,
        test(&s, "issue_comment", &quoted).input("trigger-phrase", "/cursor"),
        "trigger phrase",
    )
    .await;

    let s = sims_v0(Scenario::default()).await;
    assert_refused(
        &s,
        labeled(&s).input("label", "cursor"),
        "The label added was \"bug\", not \"cursor\"",
    )
    .await;
    let s = sims_v0(Scenario::default()).await;
    assert_refused(
        &s,
        test(&s, "issues", &fixture("issues.opened.json")).input("label", "cursor"),
        "only adding that label triggers",
    )
    .await;
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    labeled(&s)
        .input("label", "BUG")
        .run_in_process()
        .await
        .success();
    assert_eq!(s.cursor.agents_created(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_summary_cannot_ping_or_inject_and_the_body_is_capped() {
    let s = sims_v0(Scenario::lasting(5, 30).summary(Some(HOSTILE_SUMMARY))).await;
    let ran = labeled(&s).run_in_process().await;
    ran.success();
    let body = only_comment(&s, 1).body;
    assert!(
        body.contains("@&#8203;octocat") && body.contains("@&#8203;github/security"),
        "{body}"
    );
    assert_eq!(body.matches("<!--").count(), 1, "only our marker: {body}");
    assert!(
        !body.contains("<img") && !body.contains("<details><summary>x"),
        "{body}"
    );
    assert_eq!(
        Marker::find(&body).unwrap().agent.as_deref(),
        Some(ran.output("agent-id"))
    );
    // In the log the summary's command-like lines are inert.
    for line in ran.stdout.lines() {
        assert!(
            !line.starts_with("::set-output")
                && !line.starts_with("::add-mask::nothing")
                && !line.starts_with("##[error]"),
            "{line}"
        );
    }
    assert_eq!(
        ran.output("summary"),
        HOSTILE_SUMMARY,
        "outputs carry the text as is (safely delimited)"
    );

    let huge = "Line with @someone and <b>html</b>.\n".repeat(5000);
    let s = sims_v0(Scenario::lasting(5, 30).summary(Some(&huge))).await;
    labeled(&s).run_in_process().await.success();
    let body = only_comment(&s, 1).body;
    assert!(body.chars().count() <= 65536, "{}", body.chars().count());
    assert!(
        body.contains("<details><summary>Agent summary</summary>")
            && body.contains("summary shortened")
    );
}

#[tokio::test(start_paused = true)]
async fn a_lost_comment_post_is_not_repeated() {
    for fault in [
        Fault::ApplyThenReset,
        Fault::ApplyThenStall,
        Fault::status(502),
    ] {
        let s = sims_v0(Scenario::lasting(5, 30)).await;
        s.github.add_fault(FaultRule::new(
            "POST",
            "/repos/*/*/issues/*/comments",
            fault.clone(),
        ));
        let ran = labeled(&s).run_in_process().await;
        ran.success();
        let c = only_comment(&s, 1);
        assert!(
            c.body.contains("### ✅ Cursor agent finished"),
            "{fault:?}: {}",
            c.body
        );
        let posts = s.github.count("POST", "/repos/*/*/issues/*/comments");
        let expected = if fault.applies_request() { 1 } else { 2 };
        assert_eq!(posts, expected, "{fault:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_forbidden_comment_does_not_lose_the_outcome() {
    let s = sims_v0(Scenario::lasting(5, 30)).await;
    s.github.set_read_only(true);
    let ran = labeled(&s).run_in_process().await;
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    assert!(ran.output("agent-id").starts_with("bc-"));
    assert_eq!(ran.output("comment-url"), "");
    assert!(ran.summary.contains("### ✅ Cursor agent finished"));
    let warnings = ran.commands("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("permissions: issues: write")),
        "{}",
        ran.stdout
    );
    // After the first 403 it stops trying.
    assert_eq!(s.github.count("POST", "/repos/*/*/issues/*/comments"), 1);
    assert!(s.github.comments(REPO, 1).is_empty());
}

#[tokio::test(start_paused = true)]
async fn github_rate_limits_are_waited_out() {
    let s = sims_v0(Scenario::lasting(5, 30)).await;
    s.github.add_fault(FaultRule::new(
        "GET",
        "/repos/*/*/issues/*/comments",
        Fault::Status {
            status: 403,
            body: Some(r#"{"message":"You have exceeded a secondary rate limit."}"#.into()),
            retry_after: Some("30".into()),
            headers: vec![],
        },
    ));
    labeled(&s).run_in_process().await.success();
    let lists: Vec<LoggedRequest> = s
        .github
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/comments"))
        .collect();
    assert_eq!(lists.len(), 2);
    assert!((lists[1].at_ms - lists[0].at_ms) as f64 / 1000.0 >= 30.0);
    assert_eq!(s.github.comments(REPO, 1).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn where_the_comment_goes() {
    // A pull request event: on the PR.
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    test(&s, "pull_request", &fixture("pull_request.labeled.json"))
        .run_in_process()
        .await
        .success();
    only_comment(&s, 2);
    assert_eq!(reactions(&s)[0], (ReactionTarget::Issue(2), "eyes".into()));

    // A review comment: the reaction on it, the comment on the PR.
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    let review = fixture("pull_request_review_comment.created.json");
    test(&s, "pull_request_review_comment", &review)
        .run_in_process()
        .await
        .success();
    only_comment(&s, 2);
    let id = review["comment"]["id"].as_u64().unwrap();
    assert_eq!(
        reactions(&s)[0],
        (ReactionTarget::ReviewComment(id), "eyes".into())
    );

    // A comment on a PR: on that PR.
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    test(&s, "issue_comment", &comment_on_pr_payload())
        .run_in_process()
        .await
        .success();
    only_comment(&s, 1);
    let launched: Value = serde_json::from_str(&s.cursor.requests()[0].body).unwrap();
    assert_eq!(
        launched["source"],
        json!({"prUrl": "https://github.com/Codertocat/Hello-World/pull/1"})
    );

    // A schedule: no comment, unless issue-number says where.
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    let ran = test(&s, "schedule", &json!({"schedule": "0 3 * * *"}))
        .input("prompt", "Refresh the docs")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(
        github_writes_besides_job_markers(&s.github),
        Vec::<String>::new()
    );
    assert_eq!(ran.output("comment-url"), "");
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    test(&s, "schedule", &json!({"schedule": "0 3 * * *"}))
        .input("prompt", "Refresh the docs")
        .input("issue-number", "77")
        .run_in_process()
        .await
        .success();
    only_comment(&s, 77);

    // issue-number overrides the event's issue.
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    labeled(&s)
        .input("issue-number", "9")
        .run_in_process()
        .await
        .success();
    only_comment(&s, 9);
    assert!(s.github.comments(REPO, 1).is_empty());

    // comment: false posts nothing but still checks permission.
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    labeled(&s)
        .input("comment", "false")
        .run_in_process()
        .await
        .success();
    assert!(s.github.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test(start_paused = true)]
async fn github_enterprise_server() {
    let s = sims_v0(Scenario::lasting(5, 5)).await;
    let ran = labeled(&s)
        .env("GITHUB_API_URL", &format!("{}/api/v3", s.github_url()))
        .env("GITHUB_SERVER_URL", "https://ghe.example.com")
        .run_in_process()
        .await;
    ran.success();
    assert!(
        s.github
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/api/v3/"))
    );
    let body = only_comment(&s, 1).body;
    assert!(
        body.contains(
            "[workflow run](https://ghe.example.com/Codertocat/Hello-World/actions/runs/1234567890)"
        ),
        "{body}"
    );
}
