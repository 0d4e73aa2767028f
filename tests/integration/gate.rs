//! Who may trigger, for every event: every event a reader can cause is
//! refused before any Cursor request; `label` and `trigger-phrase` apply to
//! every event that has a label or text and are an error where they cannot;
//! events without a rule are refused unless opted in; reviews trigger like
//! comments; dry runs give the gate's verdict.

use crate::support::*;
use cursor_agent_action::marker::Marker;
use serde_json::{Value, json};
use sim::*;

/// The gate decides before the wait: every run here launches and leaves.
fn detached(s: &Simulators, event: &str, payload: &Value) -> ActionTest {
    test(s, event, payload).input("wait", "false")
}

fn review() -> Value {
    fixture("pull_request_review.submitted.json")
}

/// A payload with the fixture's repository and sender but nothing else.
fn bare(extra: Value) -> Value {
    let base = fixture("issues.opened.json");
    let mut v = json!({"repository": base["repository"], "sender": base["sender"]});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

/// `discussion` events: the issue fixture's issue, as a discussion.
fn discussion(action: &str) -> Value {
    let mut v = fixture("issues.labeled.json");
    let issue = v.as_object_mut().unwrap().remove("issue").unwrap();
    v["discussion"] = issue;
    v["action"] = json!(action);
    v
}

fn discussion_comment() -> Value {
    let mut v = fixture("issue_comment.created.json");
    let issue = v.as_object_mut().unwrap().remove("issue").unwrap();
    v["discussion"] = issue;
    v
}

fn workflow_run(actor: &str, triggering: &str) -> Value {
    let user = |login: &str| json!({"login": login, "id": 1, "type": "User"});
    bare(json!({
        "action": "completed",
        "workflow_run": {"id": 30433642, "event": "pull_request", "actor": user(actor), "triggering_actor": user(triggering)}
    }))
}

/// Inputs, as (name, value).
type Pairs = Vec<(&'static str, &'static str)>;

/// Every event kind a reader can cause, as (event name, payload, inputs).
fn gated_events() -> Vec<(&'static str, Value, Pairs)> {
    let prompt = vec![("prompt", "Tidy the README")];
    vec![
        ("issues", fixture("issues.opened.json"), vec![]),
        ("issues", fixture("issues.labeled.json"), vec![]),
        (
            "issue_comment",
            fixture("issue_comment.created.json"),
            vec![],
        ),
        ("issue_comment", comment_on_pr_payload(), vec![]),
        ("pull_request", fixture("pull_request.opened.json"), vec![]),
        ("pull_request", fixture("pull_request.labeled.json"), vec![]),
        (
            "pull_request_target",
            fixture("pull_request.opened.json"),
            vec![],
        ),
        (
            "pull_request_review_comment",
            fixture("pull_request_review_comment.created.json"),
            vec![],
        ),
        ("pull_request_review", review(), vec![]),
        ("discussion", discussion("created"), prompt.clone()),
        ("discussion_comment", discussion_comment(), prompt.clone()),
        ("watch", bare(json!({"action": "started"})), prompt.clone()),
        (
            "fork",
            bare(json!({"forkee": {"full_name": "someone/Hello-World"}})),
            prompt.clone(),
        ),
        (
            "workflow_run",
            workflow_run("Codertocat", "Codertocat"),
            prompt.clone(),
        ),
        (
            "check_run",
            bare(json!({"action": "rerequested", "check_run": {"id": 1}})),
            prompt.clone(),
        ),
        (
            "merge_group",
            bare(
                json!({"action": "checks_requested", "merge_group": {"head_ref": "refs/heads/gh-readonly-queue/master/pr-2"}}),
            ),
            prompt,
        ),
    ]
}

/// Makes `login` (a bot) the sender and the author of the event's text.
fn as_bot(mut v: Value, login: &str) -> Value {
    let bot = json!({"login": login, "id": 29139614, "type": "Bot"});
    v["sender"] = bot.clone();
    for key in ["comment", "review", "issue", "pull_request", "discussion"] {
        if v.get(key).is_some() {
            v[key]["user"] = bot.clone();
        }
    }
    if let Some(run) = v.get_mut("workflow_run") {
        run["actor"] = bot.clone();
        run["triggering_actor"] = bot;
    }
    v
}

#[tokio::test(start_paused = true)]
async fn every_event_a_reader_can_cause_is_refused() {
    for (event, payload, inputs) in gated_events() {
        for (role, allowed) in [
            ("admin", true),
            ("maintain", true),
            ("write", true),
            ("triage", false),
            ("read", false),
            ("none", false),
            ("404", false),
            // Organization custom roles: judged by the role they extend.
            ("release-manager:admin", true),
            ("reviewer:write", true),
            ("auditor:read", false),
        ] {
            let s = sims().await;
            if role == "404" {
                s.github.add_fault(FaultRule::new(
                    "GET",
                    "/repos/*/*/collaborators/*/permission",
                    Fault::status(404),
                ));
            } else {
                s.github.set_permission("Codertocat", role);
            }
            let mut t = detached(&s, event, &payload);
            for (k, v) in &inputs {
                t = t.input(k, v);
            }
            let ran = t.run_in_process().await;
            let case = format!("{event} ({:?}) by {role}", payload["action"]);
            assert_eq!(ran.code, 0, "{case}\n{}", ran.stdout);
            assert_eq!(
                s.github
                    .count("GET", "/repos/*/*/collaborators/Codertocat/permission"),
                1,
                "{case}: one permission check"
            );
            if allowed {
                assert_eq!(launches(&s), 1, "{case}\n{}", ran.stdout);
                assert_eq!(ran.output("outcome"), "launched", "{case}");
            } else {
                assert_eq!(s.cursor.requests().len(), 0, "{case}\n{}", ran.stdout);
                assert_eq!(ran.output("outcome"), "skipped", "{case}");
                let notice = ran.commands("notice").join("\n");
                let why = if role == "404" {
                    "is not a collaborator"
                } else {
                    "write, maintain or admin is needed"
                };
                assert!(notice.contains(why), "{case}: {notice}");
                assert!(
                    s.github.comments(REPO, 1).is_empty() && s.github.comments(REPO, 2).is_empty(),
                    "{case}: no comment"
                );
                assert!(s.github.reactions().is_empty(), "{case}: no reaction");
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn bots_trigger_only_when_allowed() {
    for (event, payload, inputs) in gated_events() {
        let payload = as_bot(payload, "renovate[bot]");
        for allowed in [false, true] {
            let s = sims().await;
            let mut t = detached(&s, event, &payload);
            for (k, v) in &inputs {
                t = t.input(k, v);
            }
            if allowed {
                t = t.input("allowed-bots", "renovate");
            }
            let ran = t.run_in_process().await;
            let case = format!("{event} by a bot, allowed: {allowed}");
            ran.success();
            // Apps are not collaborators: no permission to look up.
            assert_eq!(
                s.github
                    .count("GET", "/repos/*/*/collaborators/*/permission"),
                0,
                "{case}"
            );
            if allowed {
                assert_eq!(launches(&s), 1, "{case}\n{}", ran.stdout);
            } else {
                assert_eq!(s.cursor.requests().len(), 0, "{case}\n{}", ran.stdout);
                assert_eq!(ran.output("outcome"), "skipped", "{case}");
                ran.stdout_has("renovate[bot] is a bot and is not listed in `allowed-bots`");
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_workflow_run_is_judged_by_the_actors_of_the_run_that_caused_it() {
    // The sender (who the workflow_run event names) is an admin; the run was
    // caused, or re-run, by a reader: refused either way.
    for (actor, triggering) in [("outsider", "Codertocat"), ("Codertocat", "outsider")] {
        let s = sims().await;
        s.github.set_permission("outsider", "read");
        let ran = detached(&s, "workflow_run", &workflow_run(actor, triggering))
            .input("prompt", "Summarize the failed run")
            .run_in_process()
            .await;
        ran.success();
        assert_eq!(ran.output("outcome"), "skipped");
        assert_eq!(s.cursor.requests().len(), 0);
        ran.stdout_has("outsider has read permission");
        assert_eq!(
            s.github
                .count("GET", "/repos/*/*/collaborators/outsider/permission"),
            1
        );
    }
}

#[tokio::test(start_paused = true)]
async fn events_gated_by_github_need_no_permission_check() {
    for (event, payload) in [
        ("schedule", json!({"schedule": "0 3 * * *"})),
        ("workflow_dispatch", fixture("workflow_dispatch.json")),
        (
            "repository_dispatch",
            bare(json!({"action": "run-agent", "client_payload": {}})),
        ),
        (
            "push",
            bare(
                json!({"ref": "refs/heads/master", "after": "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}),
            ),
        ),
        ("release", bare(json!({"action": "published"}))),
    ] {
        let s = sims().await;
        s.github.set_permission("Codertocat", "read");
        let ran = detached(&s, event, &payload)
            .input("prompt", "Tidy the README")
            .run_in_process()
            .await;
        ran.success();
        assert_eq!(launches(&s), 1, "{event}\n{}", ran.stdout);
        assert_eq!(
            s.github
                .count("GET", "/repos/*/*/collaborators/*/permission"),
            0,
            "{event}"
        );
        ran.stdout_has("No permission check is needed: ");
    }
}

#[tokio::test(start_paused = true)]
async fn events_without_a_rule_are_refused_unless_opted_in() {
    let event = "project_card";
    let payload = bare(json!({"action": "moved", "project_card": {"id": 1}}));
    // Without the opt-in: skipped, naming the event and the input.
    let s = sims().await;
    let ran = detached(&s, event, &payload)
        .input("prompt", "Tidy the README")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("outcome"), "skipped");
    assert_eq!(s.cursor.requests().len(), 0);
    assert_eq!(s.github.requests().len(), 0);
    let notice = ran.commands("notice").join("\n");
    assert!(
        notice.contains("`project_card`") && notice.contains("allow-unknown-events: true"),
        "{notice}"
    );

    // With it, the sender is still checked.
    for (role, allowed) in [
        ("admin", true),
        ("write", true),
        ("read", false),
        ("none", false),
    ] {
        let s = sims().await;
        s.github.set_permission("Codertocat", role);
        let ran = detached(&s, event, &payload)
            .input("prompt", "Tidy the README")
            .input("allow-unknown-events", "true")
            .run_in_process()
            .await;
        ran.success();
        assert_eq!(
            s.github
                .count("GET", "/repos/*/*/collaborators/*/permission"),
            1
        );
        assert_eq!(launches(&s), usize::from(allowed), "{role}\n{}", ran.stdout);
    }

    // A bot sender is still held to `allowed-bots`.
    let s = sims().await;
    let ran = detached(&s, event, &as_bot(payload.clone(), "evil[bot]"))
        .input("prompt", "Tidy the README")
        .input("allow-unknown-events", "true")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(s.cursor.requests().len(), 0);

    // No sender at all: nobody to check, the opt-in decides.
    let s = sims().await;
    let mut bare_payload = payload.clone();
    bare_payload.as_object_mut().unwrap().remove("sender");
    let ran = detached(&s, event, &bare_payload)
        .input("prompt", "Tidy the README")
        .input("allow-unknown-events", "true")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(launches(&s), 1);

    // And with no prompt, an event with no task of its own is a
    // configuration error listing the events that carry one.
    let ran = detached(&s, event, &payload).run_in_process().await;
    ran.status(2);
    let errors = ran.commands("error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("`prompt`")
            && errors[0].contains("pull_request_review (submitted)")
            && errors[0].contains("issue_comment"),
        "{errors:?}"
    );
}

/// Runs `event` with `inputs` and returns (exit code, launches, notice+error text).
async fn filtered(event: &str, payload: &Value, inputs: &[(&str, &str)]) -> (i32, usize, String) {
    let s = sims().await;
    let mut t = detached(&s, event, payload);
    for (k, v) in inputs {
        t = t.input(k, v);
    }
    let ran = t.run_in_process().await;
    let mut said = ran.commands("notice");
    said.extend(ran.commands("error"));
    (ran.code, launches(&s), said.join("\n"))
}

fn with_body(mut v: Value, key: &str, body: &str) -> Value {
    v[key]["body"] = json!(body);
    v
}

#[tokio::test(start_paused = true)]
async fn the_trigger_phrase_applies_to_every_event_with_text() {
    let phrase = [("trigger-phrase", "/cursor")];
    let prompt = ("prompt", "Do it");
    // (event, payload with the phrase, payload without it, extra inputs)
    let cases: Vec<(&str, Value, Value, Pairs)> = vec![
        (
            "issues",
            with_body(
                fixture("issues.opened.json"),
                "issue",
                "/cursor fix the typo",
            ),
            fixture("issues.opened.json"),
            vec![],
        ),
        (
            // A labeled issue without `label` set: the phrase is looked for
            // in its title and body.
            "issues",
            with_body(
                fixture("issues.labeled.json"),
                "issue",
                "/cursor fix the typo",
            ),
            fixture("issues.labeled.json"),
            vec![],
        ),
        (
            "pull_request",
            with_body(
                fixture("pull_request.opened.json"),
                "pull_request",
                "/cursor polish",
            ),
            fixture("pull_request.opened.json"),
            vec![],
        ),
        (
            "issue_comment",
            with_body(
                fixture("issue_comment.created.json"),
                "comment",
                "/cursor fix it",
            ),
            fixture("issue_comment.created.json"),
            vec![],
        ),
        (
            "pull_request_review_comment",
            with_body(
                fixture("pull_request_review_comment.created.json"),
                "comment",
                "/cursor rename this",
            ),
            fixture("pull_request_review_comment.created.json"),
            vec![],
        ),
        (
            "pull_request_review",
            with_body(review(), "review", "/cursor fix the docs typo too"),
            review(),
            vec![],
        ),
        (
            "discussion",
            with_body(discussion("created"), "discussion", "/cursor draft this"),
            discussion("created"),
            vec![prompt],
        ),
        (
            "discussion_comment",
            with_body(discussion_comment(), "comment", "/cursor please"),
            discussion_comment(),
            vec![prompt],
        ),
    ];
    for (event, with, without, extra) in cases {
        let inputs: Vec<(&str, &str)> = phrase.iter().copied().chain(extra).collect();
        let (code, n, said) = filtered(event, &with, &inputs).await;
        assert_eq!((code, n), (0, 1), "{event} with the phrase: {said}");
        let (code, n, said) = filtered(event, &without, &inputs).await;
        assert_eq!((code, n), (0, 0), "{event} without the phrase: {said}");
        assert!(
            said.contains("does not contain the trigger phrase \"/cursor\""),
            "{said}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_label_applies_to_every_event_with_a_label() {
    let bug = [("label", "bug")];
    let other = [("label", "cursor")];
    for (event, labeled, opened, extra) in [
        (
            "issues",
            fixture("issues.labeled.json"),
            fixture("issues.opened.json"),
            None,
        ),
        (
            "pull_request",
            fixture("pull_request.labeled.json"),
            fixture("pull_request.opened.json"),
            None,
        ),
        (
            "pull_request_target",
            fixture("pull_request.labeled.json"),
            fixture("pull_request.opened.json"),
            None,
        ),
        (
            "discussion",
            discussion("labeled"),
            discussion("created"),
            Some(("prompt", "Do it")),
        ),
    ] {
        let with = |l: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
            l.iter().copied().chain(extra).collect()
        };
        let (code, n, said) = filtered(event, &labeled, &with(&bug)).await;
        assert_eq!((code, n), (0, 1), "{event} labeled bug: {said}");
        let (code, n, said) = filtered(event, &labeled, &with(&other)).await;
        assert_eq!(
            (code, n),
            (0, 0),
            "{event} labeled bug, label cursor: {said}"
        );
        assert!(said.contains("not \"cursor\""), "{said}");
        let (code, n, said) = filtered(event, &opened, &with(&bug)).await;
        assert_eq!((code, n), (0, 0), "{event} not labeled: {said}");
        assert!(said.contains("only adding that label"), "{said}");
    }
    // Both set: the label triggers labeled events (the phrase is for
    // comments), and comments need the phrase, in one workflow.
    let both = [("label", "bug"), ("trigger-phrase", "/cursor")];
    let (code, n, said) = filtered("issues", &fixture("issues.labeled.json"), &both).await;
    assert_eq!((code, n), (0, 1), "{said}");
    let (code, n, _) = filtered(
        "issue_comment",
        &with_body(
            fixture("issue_comment.created.json"),
            "comment",
            "/cursor go",
        ),
        &both,
    )
    .await;
    assert_eq!((code, n), (0, 1));
    let (code, n, _) = filtered(
        "issue_comment",
        &fixture("issue_comment.created.json"),
        &both,
    )
    .await;
    assert_eq!((code, n), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn label_or_phrase_where_they_cannot_apply_is_a_configuration_error() {
    let prompt = ("prompt", "Do it");
    for (event, payload) in [
        ("schedule", json!({"schedule": "0 3 * * *"})),
        ("workflow_dispatch", fixture("workflow_dispatch.json")),
        ("push", bare(json!({"ref": "refs/heads/master"}))),
        ("watch", bare(json!({"action": "started"}))),
        ("workflow_run", workflow_run("Codertocat", "Codertocat")),
    ] {
        for (input, value) in [("label", "bug"), ("trigger-phrase", "/cursor")] {
            let (code, n, said) = filtered(event, &payload, &[prompt, (input, value)]).await;
            assert_eq!((code, n), (2, 0), "{event} with {input}: {said}");
            let errors: Vec<&str> = said
                .lines()
                .filter(|l| l.starts_with("::error::"))
                .collect();
            assert_eq!(errors.len(), 1, "{said}");
            assert!(
                errors[0].contains(&format!("`{input}`"))
                    && errors[0].contains(&format!("`{event}` event"))
                    && errors[0].contains(&format!("remove `{input}`")),
                "{said}"
            );
        }
    }
    // An unknown event carries no text the action knows of, even opted in.
    let (code, n, said) = filtered(
        "project_card",
        &bare(json!({"action": "moved"})),
        &[
            prompt,
            ("allow-unknown-events", "true"),
            ("trigger-phrase", "/cursor"),
        ],
    )
    .await;
    assert_eq!((code, n), (2, 0), "{said}");
    assert!(said.contains("`trigger-phrase`"), "{said}");
}

#[tokio::test(start_paused = true)]
async fn a_review_with_the_phrase_starts_an_agent_on_its_pull_request() {
    let s = sims().await;
    let payload = with_body(review(), "review", "/cursor please fix the docs typo too");
    let ran = detached(&s, "pull_request_review", &payload)
        .input("trigger-phrase", "/cursor")
        .input("wait", "true")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    assert_eq!(launches(&s), 1);
    let post = s
        .cursor
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/v0/agents")
        .unwrap();
    let body: Value = serde_json::from_str(&post.body).unwrap();
    let text = body["prompt"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("A maintainer asked for changes to pull request #2 in Codertocat/Hello-World in the review below."),
        "{text}"
    );
    assert!(
        text.contains("The review by @Codertocat on pull request #2 that triggered this run:"),
        "{text}"
    );
    assert!(
        text.contains("/cursor please fix the docs typo too"),
        "{text}"
    );
    // One comment on the PR; no reaction: GitHub has no reactions on reviews.
    assert_eq!(s.github.comments(REPO, 2).len(), 1);
    assert!(
        s.github.reactions().is_empty(),
        "{:?}",
        s.github.reactions()
    );
    assert_eq!(
        s.github
            .count("GET", "/repos/*/*/collaborators/Codertocat/permission"),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn reviews_that_must_not_trigger_do_not() {
    let phrase = ("trigger-phrase", "/cursor");
    let cases: Vec<(&str, Value, Pairs, &str)> = vec![
        (
            "without the phrase",
            review(),
            vec![phrase],
            "does not contain the trigger phrase",
        ),
        (
            "without text",
            {
                let mut v = review();
                v["review"]["body"] = Value::Null;
                v["review"]["state"] = json!("approved");
                v
            },
            vec![],
            "The review has no text",
        ),
        (
            "edited",
            {
                let mut v = review();
                v["action"] = json!("edited");
                v
            },
            vec![],
            "only submitted reviews trigger",
        ),
        (
            "dismissed",
            {
                let mut v = review();
                v["action"] = json!("dismissed");
                v
            },
            vec![],
            "only submitted reviews trigger",
        ),
        (
            "written by the action",
            with_body(
                review(),
                "review",
                &format!(
                    "/cursor\n{}",
                    Marker::new(Some("bc-1"), Some(1), 1).render()
                ),
            ),
            vec![phrase],
            "its own reviews never trigger it",
        ),
        (
            "from a bot",
            as_bot(with_body(review(), "review", "/cursor fix"), "evil[bot]"),
            vec![phrase],
            "evil[bot] is a bot",
        ),
    ];
    for (case, payload, inputs, why) in cases {
        let (code, n, said) = filtered("pull_request_review", &payload, &inputs).await;
        assert_eq!((code, n), (0, 0), "review {case}: {said}");
        assert!(said.contains(why), "review {case}: {said}");
    }
    // From a reader: the permission is checked, nothing is launched.
    let s = sims().await;
    s.github.set_permission("Codertocat", "read");
    let ran = detached(&s, "pull_request_review", &review())
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("outcome"), "skipped");
    assert_eq!(s.cursor.requests().len(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_review_on_a_pull_request_with_an_agent_is_a_followup() {
    let s = sims().await;
    let first = detached(&s, "pull_request", &fixture("pull_request.opened.json"))
        .input("wait", "true")
        .run_in_process()
        .await;
    first.success();
    let agent = first.output("agent-id").to_string();
    let ran = detached(&s, "pull_request_review", &review())
        .env("GITHUB_RUN_ID", "1234567891")
        .input("wait", "true")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("agent-id"), agent);
    assert_eq!(launches(&s), 1, "no new agent");
    assert_eq!(s.cursor.count("POST", "/v0/agents/*/followup"), 1);
    let text = first_followup_text(&s);
    assert!(text.contains("do what the review asks"), "{text}");
    assert!(
        text.contains("Please also fix the same typo in the docs folder."),
        "{text}"
    );
    let comments = s.github.comments(REPO, 2);
    assert_eq!(comments.len(), 2, "one comment per trigger");
    assert_eq!(
        Marker::find(&comments[1].body).unwrap().agent.as_deref(),
        Some(agent.as_str())
    );
}

#[tokio::test(start_paused = true)]
async fn an_empty_token_where_the_gate_needs_one_is_one_clear_error() {
    let s = sims().await;
    let ran = detached(&s, "pull_request_review", &review())
        .input("github-token", "")
        .run_in_process()
        .await;
    ran.status(2);
    let errors = ran.commands("error");
    assert_eq!(errors.len(), 1, "{}", ran.stdout);
    assert!(
        errors[0].contains("`github-token`: is empty")
            && errors[0].contains("pull_request_review")
            && errors[0].contains("Codertocat")
            && errors[0].contains("remove the override"),
        "{errors:?}"
    );
    // Nothing says the run goes on without a comment first.
    assert!(
        !ran.stdout.contains("no comment is posted") && ran.commands("warning").is_empty(),
        "{}",
        ran.stdout
    );
    assert_eq!(s.cursor.requests().len(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_empty_token_where_the_gate_needs_none_warns_once_and_runs() {
    // Only people with write access can dispatch a workflow.
    let s = sims().await;
    let ran = detached(&s, "workflow_dispatch", &bare(json!({"inputs": {}})))
        .input("prompt", "Tidy the README")
        .input("issue-number", "1")
        .input("github-token", "")
        .run_in_process()
        .await;
    ran.success();
    let warnings = ran.commands("warning");
    assert_eq!(warnings.len(), 1, "{}", ran.stdout);
    assert!(
        warnings[0].contains("`github-token` is empty, so no comment is posted"),
        "{warnings:?}"
    );
    assert!(ran.commands("error").is_empty(), "{}", ran.stdout);
    assert_eq!(launches(&s), 1);
}

/// A dry run: no simulator, nothing sent anywhere.
fn dry(event: &str, payload: &Value) -> ActionTest {
    ActionTest::new()
        .event_json(event, payload)
        .input("cursor-api-key", KEY)
        .input("github-token", TOKEN)
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .input("api-url", "http://127.0.0.1:9")
        .input("dry-run", "true")
}

#[tokio::test]
async fn dry_runs_give_the_gates_verdict() {
    // Passes the filters: says the permission check was not made, and what
    // comes next.
    let ran = dry("issue_comment", &fixture("issue_comment.created.json"))
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("outcome"), "dry-run");
    let notice = ran.commands("notice").join("\n");
    assert!(
        notice.contains("Codertocat has write, maintain or admin permission")
            && notice.contains("the permission check is not made in a dry run")
            && notice.contains("follow up the agent named in the comments of #1")
            && notice.contains("the comments are not read in a dry run"),
        "{notice}"
    );

    // A labeled issue: a launch.
    let ran = dry("issues", &fixture("issues.labeled.json"))
        .run_in_process()
        .await;
    assert!(
        ran.commands("notice")
            .join("\n")
            .contains("A real run would then launch a new agent."),
        "{}",
        ran.stdout
    );

    // A re-run: reattach.
    let ran = dry("issues", &fixture("issues.labeled.json"))
        .env("GITHUB_RUN_ATTEMPT", "2")
        .run_in_process()
        .await;
    assert!(
        ran.commands("notice")
            .join("\n")
            .contains("reattach to the agent of an earlier attempt"),
        "{}",
        ran.stdout
    );

    // Gated by GitHub: no check needed.
    let ran = dry("schedule", &json!({"schedule": "0 3 * * *"}))
        .input("prompt", "Do it")
        .run_in_process()
        .await;
    let notice = ran.commands("notice").join("\n");
    assert!(notice.contains("no permission check is needed"), "{notice}");
    // A scheduled job: what the job's state would decide.
    assert!(
        notice.contains("skip if an agent of the scheduled job")
            && notice.contains("the agent of the job's open pull request")
            && notice.contains("Cursor and GitHub are not read in a dry run"),
        "{notice}"
    );

    // What the payload decides, a dry run decides: skipped, with the reason.
    for (event, payload, inputs, why) in [
        (
            "issues",
            fixture("issues.labeled.json"),
            vec![("label", "cursor")],
            "not \"cursor\"",
        ),
        (
            "issue_comment",
            fixture("issue_comment.created.json"),
            vec![("trigger-phrase", "/cursor")],
            "does not contain the trigger phrase",
        ),
        (
            "issue_comment",
            as_bot(fixture("issue_comment.created.json"), "evil[bot]"),
            vec![],
            "evil[bot] is a bot",
        ),
        (
            "issue_comment",
            with_body(
                fixture("issue_comment.created.json"),
                "comment",
                &Marker::new(None, Some(1), 1).render(),
            ),
            vec![],
            "its own comments never trigger it",
        ),
        (
            "project_card",
            bare(json!({"action": "moved"})),
            vec![("prompt", "Do it")],
            "no trigger rule for `project_card`",
        ),
    ] {
        let mut t = dry(event, &payload);
        for (k, v) in inputs {
            t = t.input(k, v);
        }
        let ran = t.run_in_process().await;
        ran.success();
        assert_eq!(ran.output("outcome"), "skipped", "{event}: {}", ran.stdout);
        let notice = ran.commands("notice").join("\n");
        assert!(
            notice.contains("a real run would skip this event too") && notice.contains(why),
            "{event}: {notice}"
        );
        ran.stdout_lacks("This is the request a real run would send");
    }

    // A filter that cannot apply: the same configuration error as a real run.
    let ran = dry("schedule", &json!({}))
        .input("prompt", "Do it")
        .input("label", "bug")
        .run_in_process()
        .await;
    ran.status(2);
    assert_eq!(ran.commands("error").len(), 1);
}

#[test]
fn security_md_lists_every_event_with_its_rule() {
    use cursor_agent_action::gate::{GATED_BY_GITHUB, SENDER_CHECKED};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let security = std::fs::read_to_string(root.join("SECURITY.md")).unwrap();
    let events_page = std::fs::read_to_string(root.join("docs/events-and-permissions.md")).unwrap();
    let row = |doc: &str, starts: &str| -> String {
        doc.lines()
            .find(|l| l.starts_with(starts))
            .unwrap_or_else(|| panic!("no row starting {starts:?}"))
            .to_string()
    };
    let writers = row(
        &security,
        "| caused only by someone GitHub already requires",
    );
    let readers = row(&security, "| a reader (or, on a public repository, anyone)");
    let page_writers = row(&events_page, "| `schedule`, `workflow_dispatch`");
    for (event, _) in GATED_BY_GITHUB {
        let e = format!("`{event}`");
        assert!(
            writers.contains(&e),
            "SECURITY.md: {e} among writer-only events"
        );
        assert!(
            page_writers.contains(&e),
            "docs/events-and-permissions.md: {e} among writer-only events"
        );
        assert!(!readers.contains(&e));
    }
    for event in SENDER_CHECKED.iter().filter(|e| **e != "workflow_run") {
        let e = format!("`{event}`");
        assert!(
            readers.contains(&e),
            "SECURITY.md: {e} among sender-checked events"
        );
        assert!(!writers.contains(&e));
    }
    assert!(security.contains("| a run of another workflow | `workflow_run` |"));
}
