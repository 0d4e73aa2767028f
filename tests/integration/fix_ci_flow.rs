//! Fixing failing CI end to end (issue 26): a `workflow_run` event (or a
//! comment on a pull request) with `fix-ci: true`, against the simulators
//! on both API versions: which pull request, who, forks, bots, the loop
//! guard counted from the signed marker, follow-ups, and the `reason`
//! output and notice of every run that does nothing.
//!
//! No real `workflow_run` payload is in the fixtures: [`payload`] builds one
//! from the shape GitHub documents (octokit/webhooks'
//! `workflow-run.schema.json`: `id`, `name`, `path`, `conclusion`,
//! `head_sha`, `head_branch`, `event`, `run_attempt`, `pull_requests`,
//! `head_repository`, `actor`, `triggering_actor`).

use crate::support::*;
use serde_json::{Value, json};
use sim::{GhUser, Scenario, SimJob, SimRun, Simulators, V1Scenario};

const FAILED_STEPS: &[(&str, &str)] = &[
    ("Set up job", "success"),
    ("Run actions/checkout@v4", "success"),
    ("Run cargo test", "failure"),
    ("Complete job", "success"),
];
const BRANCH: &str = "feature";

struct Ci {
    s: Simulators,
    api: Api,
    pr: u64,
    sha: String,
}

/// The simulators with an open pull request by Codertocat (an admin) from
/// `feature`; agents finish at once, or keep working (`busy`).
async fn ci(api: Api, busy: bool) -> Ci {
    let s = match api {
        Api::V0 => {
            sims_v0(if busy {
                Scenario::lasting(0, 3600)
            } else {
                Scenario::lasting(0, 0)
            })
            .await
        }
        Api::V1 => {
            sims_v1(if busy {
                V1Scenario::lasting(0, 3600)
            } else {
                V1Scenario::lasting(0, 0)
            })
            .await
        }
    };
    let pr = s.github.open_pull(
        REPO,
        BRANCH,
        "main",
        "A change",
        GhUser::user("Codertocat", 21031067),
    );
    let sha = s.github.branch(REPO, BRANCH).unwrap().0;
    Ci { s, api, pr, sha }
}

fn log(error: &str) -> String {
    let stamp = "2026-12-07T10:00:00.0000000Z";
    [
        "##[group]Run actions/checkout@v4".to_string(),
        "##[endgroup]".into(),
        "##[group]Run cargo test".into(),
        "##[endgroup]".into(),
        "running 3 tests".into(),
        format!("##[error]{error}"),
        "test result: FAILED. 2 passed; 1 failed".into(),
    ]
    .iter()
    .map(|l| format!("{stamp} {l}\n"))
    .collect()
}

impl Ci {
    /// A completed run of `CI` at `sha` with one failed job whose log ends in `error`.
    fn failed_run(&self, sha: &str, error: &str) -> u64 {
        let id = self.s.github.add_run(SimRun {
            repo: REPO.into(),
            name: "CI".into(),
            path: ".github/workflows/ci.yml".into(),
            head_sha: sha.into(),
            head_branch: BRANCH.into(),
            head_repo: REPO.into(),
            event: "pull_request".into(),
            conclusion: Some("failure".into()),
            run_attempt: 1,
            actor: GhUser::user("Codertocat", 21031067),
        });
        let job = self
            .s
            .github
            .add_job(REPO, id, 1, SimJob::new("test", FAILED_STEPS));
        self.s.github.set_job_log(job, log(error));
        id
    }

    /// The action on a `workflow_run` event, as run `action_run` of the
    /// fixing workflow.
    fn fix(&self, payload: &Value, action_run: u64) -> ActionTest {
        let t = test(&self.s, "workflow_run", payload)
            .input("fix-ci", "true")
            .input("wait", "false")
            .env("GITHUB_RUN_ID", &action_run.to_string());
        match self.api {
            Api::V0 => t,
            Api::V1 => t.v1(),
        }
    }

    fn cursor_requests(&self) -> usize {
        self.s.cursor.requests().len()
    }

    fn followups(&self) -> usize {
        self.s
            .cursor
            .requests()
            .iter()
            .filter(|r| {
                r.method == "POST"
                    && (r.path.ends_with("/followup")
                        || (r.path.starts_with("/v1/agents/") && r.path.ends_with("/runs")))
            })
            .count()
    }

    fn fix_comments(&self) -> Vec<String> {
        comment_bodies(&self.s, self.pr)
            .into_iter()
            .filter(|b| b.contains("Fixing CI") || b.contains("CI passes"))
            .collect()
    }
}

/// A `workflow_run.completed` payload for run `id` of `CI`.
fn payload(
    id: u64,
    sha: &str,
    conclusion: &str,
    prs: &[u64],
    actor: &str,
    head_repo: &str,
) -> Value {
    let user = |login: &str| json!({"login": login, "id": 1, "type": if login.ends_with("[bot]") { "Bot" } else { "User" }});
    json!({
        "action": "completed",
        "workflow_run": {
            "id": id, "name": "CI", "path": ".github/workflows/ci.yml",
            "conclusion": conclusion, "status": "completed",
            "head_sha": sha, "head_branch": BRANCH, "event": "pull_request",
            "run_attempt": 1, "run_number": 12,
            "html_url": format!("{REPO_URL}/actions/runs/{id}"),
            "pull_requests": prs.iter().map(|n| json!({"number": n, "id": n + 1000})).collect::<Vec<_>>(),
            "head_repository": {"full_name": head_repo},
            "repository": {"full_name": REPO},
            "actor": user(actor), "triggering_actor": user(actor)
        },
        "workflow": {"name": "CI", "path": ".github/workflows/ci.yml"},
        "repository": {"full_name": REPO, "default_branch": "main"},
        "sender": user(actor)
    })
}

#[tokio::test]
async fn a_failed_run_on_a_pull_request_launches_one_agent_with_the_evidence() {
    for api in APIS {
        let c = ci(api, false).await;
        let run = c.failed_run(&c.sha, "assertion failed: left == right");
        // The run names no pull request: it is found by its head commit.
        let ran = c
            .fix(&payload(run, &c.sha, "failure", &[], "Codertocat", REPO), 1)
            .run_in_process()
            .await;
        ran.success();
        assert_eq!(
            ran.output("outcome"),
            "launched",
            "{api:?}: {}",
            ran.everything()
        );
        assert_eq!(ran.output("reason"), "");
        assert_eq!(agents_created(&c.s, api), 1, "{api:?}");
        let prompt = match api {
            Api::V0 => launch_prompt_v0(&c.s),
            Api::V1 => v1_bodies(&c.s, "POST", "/v1/agents")[0]["prompt"]["text"]
                .as_str()
                .unwrap()
                .to_string(),
        };
        assert!(
            prompt.contains("assertion failed: left == right"),
            "{api:?}: {prompt}"
        );
        assert!(prompt.contains("Run cargo test"), "{prompt}");
        assert!(prompt.contains(&c.sha), "{prompt}");
        let comments = c.fix_comments();
        assert_eq!(comments.len(), 1, "{comments:?}");
        assert!(comments[0].contains("attempt 1 of 2"), "{}", comments[0]);
    }
}

/// The agent finishes after the run (`wait: false`); the sweep finalizes
/// the comment and keeps what fixing CI wrote in it: the attempt and the
/// evidence, which it could not render again.
#[tokio::test]
async fn the_sweep_finalizes_a_fix_ci_comment_and_keeps_its_history() {
    for api in APIS {
        let c = ci(api, false).await;
        let run = c.failed_run(&c.sha, "assertion failed: left == right");
        let ran = c
            .fix(
                &payload(run, &c.sha, "failure", &[c.pr], "Codertocat", REPO),
                1,
            )
            .run_in_process()
            .await;
        assert_eq!(ran.output("outcome"), "launched", "{}", ran.everything());
        let before = c.fix_comments();
        assert_eq!(before.len(), 1, "{before:?}");
        assert!(before[0].contains("attempt 1 of 2"), "{}", before[0]);
        let swept = crate::sweep::sweep(&c.s, api).run_in_process().await;
        swept.success();
        assert_eq!(
            swept.output("swept"),
            "1",
            "{api:?}: {}",
            swept.everything()
        );
        let after = c.fix_comments();
        assert_eq!(after.len(), 1, "{after:?}");
        assert_ne!(after[0], before[0], "{api:?}: the sweep changed nothing");
        assert!(is_final_body(&after[0]), "{api:?}: {}", after[0]);
        for kept in [
            "**Fixing CI** for workflow",
            "attempt 1 of 2",
            "assertion failed: left == right",
        ] {
            assert!(
                after[0].contains(kept),
                "{api:?}: {kept:?} lost:\n{}",
                after[0]
            );
        }
    }
}

fn launch_prompt_v0(s: &Simulators) -> String {
    let r = s
        .cursor
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/v0/agents")
        .unwrap();
    let body: Value = serde_json::from_str(&r.body).unwrap();
    body["prompt"]["text"].as_str().unwrap().to_string()
}

/// Runs the action for a new failure at a new head of the pull request.
async fn fail_again(c: &Ci, error: &str, action_run: u64) -> Ran {
    c.s.github.push(REPO, BRANCH, 1);
    let sha = c.s.github.branch(REPO, BRANCH).unwrap().0;
    let run = c.failed_run(&sha, error);
    c.fix(
        &payload(run, &sha, "failure", &[c.pr], "Codertocat", REPO),
        action_run,
    )
    .run_in_process()
    .await
}

#[tokio::test]
async fn a_second_failure_follows_up_the_agent_and_the_cap_stops_the_third() {
    for api in APIS {
        let c = ci(api, false).await;
        let first = fail_again(&c, "error one", 1).await;
        assert_eq!(
            first.output("outcome"),
            "launched",
            "{}",
            first.everything()
        );
        let second = fail_again(&c, "error two", 2).await;
        assert_eq!(
            second.output("outcome"),
            "followed-up",
            "{api:?}: {}",
            second.everything()
        );
        second.stdout_has("Sent the failed run's evidence as a follow-up to agent");
        assert_eq!(
            agents_created(&c.s, api),
            1,
            "{api:?}: never a second agent"
        );
        assert_eq!(c.followups(), 1, "{api:?}");
        let before = c.cursor_requests();
        let third = fail_again(&c, "error three", 3).await;
        third.success();
        assert_eq!(third.output("outcome"), "skipped");
        assert_eq!(
            third.output("reason"),
            "attempt-cap",
            "{}",
            third.everything()
        );
        assert!(
            third
                .commands("notice")
                .iter()
                .any(|n| n.contains("2 attempts")),
            "{}",
            third.everything()
        );
        assert_eq!(
            c.cursor_requests(),
            before,
            "{api:?}: the cap makes no Cursor request"
        );
        let comments = c.fix_comments();
        assert_eq!(comments.len(), 1, "one comment, edited: {comments:?}");
        assert!(comments[0].contains("attempt cap"), "{}", comments[0]);
        assert!(
            comments[0].contains("attempt 2 of 2"),
            "the history: {}",
            comments[0]
        );
    }
}

#[tokio::test]
async fn the_same_failure_after_a_fix_stops_at_once() {
    for api in APIS {
        let c = ci(api, false).await;
        fail_again(&c, "error: linker `cc` not found", 1)
            .await
            .success();
        let before = c.cursor_requests();
        let again = fail_again(&c, "error: linker `cc` not found", 2).await;
        again.success();
        assert_eq!(
            again.output("reason"),
            "same-failure",
            "{api:?}: {}",
            again.everything()
        );
        assert_eq!(c.cursor_requests(), before, "{api:?}");
        assert!(
            c.fix_comments()[0].contains("the same failure"),
            "{}",
            c.fix_comments()[0]
        );
    }
}

#[tokio::test]
async fn a_passing_run_resets_the_count() {
    let c = ci(Api::V1, false).await;
    fail_again(&c, "error one", 1).await.success();
    fail_again(&c, "error two", 2).await.success();
    let passed = c.s.github.add_run(SimRun {
        repo: REPO.into(),
        name: "CI".into(),
        path: ".github/workflows/ci.yml".into(),
        head_sha: c.sha.clone(),
        head_branch: BRANCH.into(),
        head_repo: REPO.into(),
        event: "pull_request".into(),
        conclusion: Some("success".into()),
        run_attempt: 1,
        actor: GhUser::user("Codertocat", 21031067),
    });
    let ok = c
        .fix(
            &payload(passed, &c.sha, "success", &[c.pr], "Codertocat", REPO),
            3,
        )
        .run_in_process()
        .await;
    ok.success();
    assert_eq!(ok.output("reason"), "not-a-failure");
    assert!(
        c.fix_comments()[0].contains("starts again"),
        "{}",
        c.fix_comments()[0]
    );
    // Attempt 1 again, not the cap.
    let after = fail_again(&c, "error three", 4).await;
    assert_eq!(
        after.output("outcome"),
        "followed-up",
        "{}",
        after.everything()
    );
    assert!(
        c.fix_comments()[0].contains("attempt 1 of 2"),
        "{}",
        c.fix_comments()[0]
    );
}

#[tokio::test]
async fn a_busy_agent_gets_no_second_agent_and_it_is_not_an_attempt() {
    for api in APIS {
        let c = ci(api, true).await;
        fail_again(&c, "error one", 1).await.success();
        let busy = fail_again(&c, "error two", 2).await;
        busy.success();
        assert_eq!(
            busy.output("reason"),
            "busy",
            "{api:?}: {}",
            busy.everything()
        );
        assert_eq!(agents_created(&c.s, api), 1);
        assert_eq!(c.followups(), 0, "{api:?}");
        let comment = &c.fix_comments()[0];
        assert!(comment.contains("still working"), "{comment}");
        assert!(
            comment.contains("(1 of at most 2"),
            "busy is not an attempt: {comment}"
        );
    }
}

#[tokio::test]
async fn every_non_failure_conclusion_does_nothing_and_says_so() {
    let c = ci(Api::V1, false).await;
    for conclusion in [
        "success",
        "cancelled",
        "neutral",
        "skipped",
        "stale",
        "action_required",
    ] {
        let ran = c
            .fix(
                &payload(99, &c.sha, conclusion, &[c.pr], "Codertocat", REPO),
                1,
            )
            .run_in_process()
            .await;
        ran.success();
        assert_eq!(ran.output("outcome"), "skipped", "{conclusion}");
        assert_eq!(ran.output("reason"), "not-a-failure", "{conclusion}");
        assert!(
            ran.commands("notice")
                .iter()
                .any(|n| n.contains(conclusion)),
            "{}",
            ran.everything()
        );
    }
    assert_eq!(c.cursor_requests(), 0, "zero Cursor requests");
    assert!(c.fix_comments().is_empty());
}

#[tokio::test]
async fn a_stale_run_does_nothing_and_says_so() {
    let c = ci(Api::V1, false).await;
    let old = c.sha.clone();
    let run = c.failed_run(&old, "boom");
    c.s.github.push(REPO, BRANCH, 1);
    let ran = c
        .fix(
            &payload(run, &old, "failure", &[c.pr], "Codertocat", REPO),
            1,
        )
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("reason"), "stale", "{}", ran.everything());
    assert!(
        ran.commands("notice")
            .iter()
            .any(|n| n.contains("newer commit"))
    );
    assert_eq!(c.cursor_requests(), 0);
}

#[tokio::test]
async fn a_forks_run_gets_a_diagnosis_comment_and_no_agent() {
    let c = ci(Api::V1, false).await;
    let run = c.failed_run(&c.sha, "expected 3, got 4");
    // A fork's run names no pull request; its head repository is the fork.
    let ran = c
        .fix(
            &payload(
                run,
                &c.sha,
                "failure",
                &[],
                "Codertocat",
                "octocat/Hello-World",
            ),
            1,
        )
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("reason"), "fork", "{}", ran.everything());
    assert_eq!(c.cursor_requests(), 0, "never an agent");
    let comments = c.fix_comments();
    assert_eq!(comments.len(), 1);
    assert!(comments[0].contains("fork"), "{}", comments[0]);
    assert!(
        comments[0].contains("expected 3, got 4"),
        "the first error line: {}",
        comments[0]
    );
    assert!(
        comments[0].contains("Run cargo test"),
        "the step: {}",
        comments[0]
    );
}

#[tokio::test]
async fn a_bots_run_is_skipped_unless_allowed() {
    let c = ci(Api::V1, false).await;
    let run = c.failed_run(&c.sha, "boom");
    let p = payload(run, &c.sha, "failure", &[c.pr], "dependabot[bot]", REPO);
    let ran = c.fix(&p, 1).run_in_process().await;
    ran.success();
    assert_eq!(ran.output("reason"), "bot");
    assert!(
        ran.commands("notice")
            .iter()
            .any(|n| n.contains("Dependabot")),
        "{}",
        ran.everything()
    );
    assert_eq!(c.cursor_requests(), 0);
    let allowed = c
        .fix(&p, 2)
        .input("allowed-bots", "dependabot[bot]")
        .run_in_process()
        .await;
    assert_eq!(
        allowed.output("outcome"),
        "launched",
        "{}",
        allowed.everything()
    );
}

#[tokio::test]
async fn a_readers_run_and_a_readers_pull_request_launch_nothing() {
    let c = ci(Api::V1, false).await;
    c.s.github.set_permission("reader", "read");
    let run = c.failed_run(&c.sha, "boom");
    let ran = c
        .fix(&payload(run, &c.sha, "failure", &[c.pr], "reader", REPO), 1)
        .run_in_process()
        .await;
    assert_eq!(
        ran.output("reason"),
        "not-permitted",
        "{}",
        ran.everything()
    );
    // A writer's run on a reader's pull request.
    let pr =
        c.s.github
            .open_pull(REPO, "readers", "main", "Theirs", GhUser::user("reader", 5));
    let sha = c.s.github.branch(REPO, "readers").unwrap().0;
    let run = c.failed_run(&sha, "boom");
    let ran = c
        .fix(&payload(run, &sha, "failure", &[pr], "Codertocat", REPO), 2)
        .run_in_process()
        .await;
    assert_eq!(
        ran.output("reason"),
        "not-permitted",
        "{}",
        ran.everything()
    );
    assert!(ran.commands("notice").iter().any(|n| n.contains("reader")));
    assert_eq!(c.cursor_requests(), 0);
}

#[tokio::test]
async fn a_forged_or_other_issues_marker_cannot_reset_or_raise_the_count() {
    let c = ci(Api::V1, false).await;
    fail_again(&c, "error one", 1).await.success();
    fail_again(&c, "error two", 2).await.success();
    let real = c.fix_comments()[0].clone();
    // A reader posts a copy of the real comment, its count edited to 0
    // (its signature no longer verifies), and one unedited.
    let reset = real.replacen("\"n\":2", "\"n\":0", 1);
    assert_ne!(reset, real);
    for body in [&reset, &real] {
        c.s.github
            .add_comment(REPO, c.pr, body, GhUser::user("reader", 5), "CONTRIBUTOR");
    }
    // The edited copy posted by another app's bot: its signature fails.
    c.s.github
        .add_comment(REPO, c.pr, &reset, other_app_bot(), "NONE");
    // The real comment copied to another pull request steers nothing there.
    let other = c.s.github.open_pull(
        REPO,
        "other",
        "main",
        "Other",
        GhUser::user("Codertocat", 21031067),
    );
    c.s.github
        .add_comment(REPO, other, &real, GhUser::actions_bot(), "NONE");
    let capped = fail_again(&c, "error three", 3).await;
    assert_eq!(
        capped.output("reason"),
        "attempt-cap",
        "{}",
        capped.everything()
    );
    let sha = c.s.github.branch(REPO, "other").unwrap().0;
    let run = c.failed_run(&sha, "boom");
    let fresh = c
        .fix(
            &payload(run, &sha, "failure", &[other], "Codertocat", REPO),
            4,
        )
        .run_in_process()
        .await;
    assert_eq!(
        fresh.output("outcome"),
        "launched",
        "a copied marker raised nothing: {}",
        fresh.everything()
    );
}

#[tokio::test]
async fn a_comment_on_a_pull_request_fixes_its_latest_failed_run() {
    let c = ci(Api::V1, false).await;
    c.failed_run(&c.sha, "error: cannot find value `x`");
    let mut p = comment_on_pr_payload();
    p["issue"]["number"] = json!(c.pr);
    p["comment"]["body"] = json!("/cursor fix-ci");
    let ran = test(&c.s, "issue_comment", &p)
        .v1()
        .input("fix-ci", "true")
        .input("wait", "false")
        .run_in_process()
        .await;
    assert_eq!(ran.output("outcome"), "launched", "{}", ran.everything());
    let body = &v1_bodies(&c.s, "POST", "/v1/agents")[0];
    assert!(body.to_string().contains("cannot find value"), "{body}");
}

#[tokio::test]
async fn fix_ci_on_another_event_is_ignored_with_a_warning() {
    let s = sims_v1(V1Scenario::lasting(0, 0)).await;
    let ran = labeled(&s)
        .v1()
        .input("fix-ci", "true")
        .input("wait", "false")
        .run_in_process()
        .await;
    assert_eq!(ran.output("outcome"), "launched", "{}", ran.everything());
    assert!(
        ran.commands("warning")
            .iter()
            .any(|w| w.contains("`fix-ci` is ignored")),
        "{}",
        ran.everything()
    );
}

#[tokio::test]
async fn a_launch_reads_only_what_it_needs() {
    let c = ci(Api::V1, false).await;
    let run = c.failed_run(&c.sha, "boom");
    // A passing job of the same run costs nothing but its place in the listing.
    c.s.github.add_job(
        REPO,
        run,
        1,
        SimJob::new("lint", &[("Run clippy", "success")]),
    );
    c.s.github.clear_reactions_and_log();
    let ran = c
        .fix(
            &payload(run, &c.sha, "failure", &[c.pr], "Codertocat", REPO),
            1,
        )
        .run_in_process()
        .await;
    ran.success();
    let gh: Vec<String> =
        c.s.github
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
    let p = "/repos/Codertocat/Hello-World";
    let expected = [
        format!("GET {p}/pulls/{}", c.pr),
        format!("GET {p}/issues/{}/comments", c.pr),
        format!("GET {p}/collaborators/Codertocat/permission"),
        format!("GET {p}/actions/runs/{run}/jobs"),
    ];
    assert_eq!(gh[..4], expected, "{gh:#?}");
    // The failed job's annotations and log (its link, then the storage);
    // then the flow's comment listing and the one comment.
    assert!(
        gh[4].ends_with("/annotations")
            && gh[5].ends_with("/logs")
            && gh[6].starts_with("GET /_blobs/"),
        "{gh:#?}"
    );
    assert_eq!(
        gh[7..],
        [
            format!("GET {p}/issues/{}/comments", c.pr),
            format!("POST {p}/issues/{}/comments", c.pr)
        ],
        "{gh:#?}"
    );
    let cursor: Vec<String> =
        c.s.cursor
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
    assert_eq!(cursor, ["POST /v1/agents"]);
}

/// Every string in a JSON body (the prompt as Cursor reads it, escapes undone).
fn strings_of(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(a) => a.iter().for_each(|v| strings_of(v, out)),
        Value::Object(o) => o.values().for_each(|v| strings_of(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn redact_values_and_the_token_in_logs_and_annotations_never_reach_cursor() {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    const PLANTED: &str = "npm_Pl4ntedV4lue0123456789";
    // A value whose URL encoding differs from it.
    const SPECIAL: &str = "p@ss w0rd/+=&x";
    // Token shapes nobody registered.
    const SHAPES: &[&str] = &[
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "ghs_ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210",
        "AKIAIOSFODNN7EXAMPLE",
    ];
    const KEY_BODY: &str = "MIIEowIBAAKCAQEAzmWp1y2ZqkYwXvTqB3s9Q8r7H0kL5nJ6vWcX4aF2eD1gHi";
    let encoded: Vec<String> = vec![
        STANDARD.encode(PLANTED),
        URL_SAFE.encode(format!("??>{TOKEN}")),
        url::form_urlencoded::byte_serialize(SPECIAL.as_bytes()).collect(),
        STANDARD.encode(format!("x-access-token:{TOKEN}")),
    ];
    // PLANTED inside a longer blob, its base64 wrapped at 76 columns: bytes
    // 51..72 of the blob are PLANTED's, characters 68..96 of the base64,
    // and the first line break falls inside them.
    let blob = STANDARD.encode(format!("{}{PLANTED}{}", "c".repeat(50), "d".repeat(40)));
    let wrapped_core = blob[68..96].to_string();
    let stamp = "2026-12-07T10:00:00.0000000Z";
    let mut lines: Vec<String> = vec![
        "##[group]Run actions/checkout@v4".into(),
        "##[endgroup]".into(),
        "##[group]Run cargo test".into(),
        "##[endgroup]".into(),
        "-----BEGIN RSA PRIVATE KEY-----".into(),
        KEY_BODY.into(),
        "-----END RSA PRIVATE KEY-----".into(),
    ];
    lines.extend(
        blob.as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8(c.to_vec()).unwrap()),
    );
    lines.push(format!(
        "##[error]auth failed for {PLANTED} with {TOKEN}, {SPECIAL}, {} and {}",
        encoded.join(" "),
        SHAPES.join(" ")
    ));
    lines.push("test result: FAILED. 2 passed; 1 failed".into());
    let log: String = lines.iter().map(|l| format!("{stamp} {l}\n")).collect();
    for api in APIS {
        let c = ci(api, false).await;
        let run = c.s.github.add_run(SimRun {
            repo: REPO.into(),
            name: "CI".into(),
            path: ".github/workflows/ci.yml".into(),
            head_sha: c.sha.clone(),
            head_branch: BRANCH.into(),
            head_repo: REPO.into(),
            event: "pull_request".into(),
            conclusion: Some("failure".into()),
            run_attempt: 1,
            actor: GhUser::user("Codertocat", 21031067),
        });
        let job =
            c.s.github
                .add_job(REPO, run, 1, SimJob::new("test", FAILED_STEPS));
        c.s.github.set_job_log(job, log.clone());
        c.s.github.add_annotation(
            job,
            sim::SimAnnotation {
                path: "src/lib.rs".into(),
                line: 3,
                level: "failure".into(),
                message: format!("token {PLANTED} rejected; {}", encoded.join(" ")),
                title: Some(format!("{} {SPECIAL}", SHAPES.join(" "))),
                raw_details: Some(format!("{TOKEN}\n{KEY}")),
            },
        );
        let ran = c
            .fix(
                &payload(run, &c.sha, "failure", &[c.pr], "Codertocat", REPO),
                1,
            )
            .input("redact", &format!("\n{PLANTED}\n{SPECIAL}\n"))
            .run_in_process()
            .await;
        assert_eq!(
            ran.output("outcome"),
            "launched",
            "{api:?}: {}",
            ran.everything()
        );
        let mut sent = String::new();
        for r in c.s.cursor.requests() {
            if let Ok(v) = serde_json::from_slice::<Value>(r.body.as_bytes()) {
                strings_of(&v, &mut sent);
            }
            sent.push_str(&r.body);
        }
        assert!(
            sent.contains("auth failed for"),
            "{api:?}: the evidence went: {sent}"
        );
        let mut forms: Vec<&str> = vec![PLANTED, SPECIAL, TOKEN, KEY, KEY_BODY];
        forms.extend(SHAPES);
        forms.extend(encoded.iter().map(String::as_str));
        for secret in &forms {
            assert!(
                !sent.contains(secret),
                "{api:?}: {secret} reached Cursor: {sent}"
            );
        }
        let unwrapped: String = sent.split('\n').map(str::trim_end).collect();
        assert!(
            !unwrapped.contains(&wrapped_core),
            "{api:?}: the wrapped base64 of a redact value reached Cursor: {sent}"
        );
        ran.assert_no_leak(&forms);
        for body in comment_bodies(&c.s, c.pr) {
            for secret in &forms {
                assert!(!body.contains(secret), "{secret} in the comment: {body}");
            }
        }
    }
}

#[tokio::test]
async fn a_dry_run_reads_and_launches_nothing() {
    let c = ci(Api::V1, false).await;
    let run = c.failed_run(&c.sha, "boom");
    c.s.github.clear_reactions_and_log();
    let ran = c
        .fix(
            &payload(run, &c.sha, "failure", &[c.pr], "Codertocat", REPO),
            1,
        )
        .input("dry-run", "true")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("outcome"), "dry-run", "{}", ran.everything());
    assert_eq!(c.cursor_requests(), 0);
    assert!(c.s.github.requests().is_empty());
}

/// A `push` run of `CI` on `main` that failed.
fn failed_push(c: &Ci, error: &str) -> Value {
    let sha = c.s.github.branch(REPO, "main").unwrap().0;
    let id = c.s.github.add_run(SimRun {
        repo: REPO.into(),
        name: "CI".into(),
        path: ".github/workflows/ci.yml".into(),
        head_sha: sha.clone(),
        head_branch: "main".into(),
        head_repo: REPO.into(),
        event: "push".into(),
        conclusion: Some("failure".into()),
        run_attempt: 1,
        actor: GhUser::user("Codertocat", 21031067),
    });
    let job =
        c.s.github
            .add_job(REPO, id, 1, SimJob::new("test", FAILED_STEPS));
    c.s.github.set_job_log(job, log(error));
    let mut p = payload(id, &sha, "failure", &[], "Codertocat", REPO);
    p["workflow_run"]["event"] = json!("push");
    p["workflow_run"]["head_branch"] = json!("main");
    p
}

#[tokio::test]
async fn a_failure_on_the_default_branch_is_fixed_in_one_pull_request_per_workflow() {
    for api in APIS {
        let c = ci(api, false).await;
        c.s.link_repos();
        let first = c
            .fix(&failed_push(&c, "error one"), 1)
            .env("GITHUB_REF", "refs/heads/main")
            .run_in_process()
            .await;
        assert_eq!(
            first.output("outcome"),
            "launched",
            "{api:?}: {}",
            first.everything()
        );
        c.s.cursor.settle();
        c.s.github.push(REPO, "main", 1);
        let second = c
            .fix(&failed_push(&c, "error two"), 2)
            .env("GITHUB_REF", "refs/heads/main")
            .run_in_process()
            .await;
        assert_eq!(
            second.output("outcome"),
            "followed-up",
            "{api:?}: the fix PR's agent continues: {}",
            second.everything()
        );
        assert_eq!(
            agents_created(&c.s, api),
            1,
            "{api:?}: one fix pull request, one agent"
        );
    }
}

#[tokio::test]
async fn a_rerun_of_the_fixing_workflow_reattaches_and_counts_nothing_again() {
    for api in APIS {
        let c = ci(api, true).await;
        let run = c.failed_run(&c.sha, "boom");
        let p = payload(run, &c.sha, "failure", &[c.pr], "Codertocat", REPO);
        let first = c.fix(&p, 1).run_in_process().await;
        assert_eq!(
            first.output("outcome"),
            "launched",
            "{api:?}: {}",
            first.everything()
        );
        // The same run of the fixing workflow, re-run (attempt 2), while
        // its agent still works: not `busy`, not a second attempt.
        let again = c
            .fix(&p, 1)
            .env("GITHUB_RUN_ATTEMPT", "2")
            .run_in_process()
            .await;
        assert_eq!(
            again.output("outcome"),
            "launched",
            "{api:?}: {}",
            again.everything()
        );
        assert_eq!(again.output("reason"), "");
        assert_eq!(agents_created(&c.s, api), 1, "{api:?}");
        assert_eq!(c.followups(), 0, "{api:?}");
        let comment = &c.fix_comments()[0];
        assert_eq!(
            comment.matches(&format!("[run {run}](")).count(),
            1,
            "{api:?}: one history entry: {comment}"
        );
        assert!(comment.contains("counts nothing again"), "{comment}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_github_read_ends_in_a_clear_error_and_launches_nothing() {
    use sim::{Fault, FaultRule};
    // Each new read failing for good: the open pull requests (how the run's
    // pull request is found), the jobs listing (404), reset connections.
    let faults = [
        (
            "GET",
            "/repos/Codertocat/Hello-World/pulls",
            Fault::status(502),
            "list the open pull requests",
        ),
        (
            "GET",
            "/repos/Codertocat/Hello-World/actions/runs/*/jobs",
            Fault::status(404),
            "list the jobs of run",
        ),
        (
            "GET",
            "/repos/Codertocat/Hello-World/pulls",
            Fault::Reset,
            "list the open pull requests",
        ),
    ];
    for (method, path, fault, what) in faults {
        let c = ci(Api::V1, false).await;
        let run = c.failed_run(&c.sha, "boom");
        let p = payload(run, &c.sha, "failure", &[], "Codertocat", REPO);
        c.s.github
            .add_fault(FaultRule::new(method, path, fault).times(100));
        let ran = c.fix(&p, 1).run_in_process().await;
        assert_eq!(ran.code, 1, "{path}: {}", ran.everything());
        assert_eq!(ran.output("outcome"), "error");
        let errors = ran.commands("error");
        assert_eq!(
            errors.len(),
            1,
            "{path}: one ::error:: line: {}",
            ran.everything()
        );
        assert!(
            errors[0].contains("nothing was launched") && errors[0].contains(what),
            "{path}: {}",
            errors[0]
        );
        assert_eq!(c.cursor_requests(), 0, "{path}");
    }
}

// ---- Review findings (h-review): each test states a promise the docs make ----

/// The loop guard lives in the fix comment's signed marker; with
/// `comment: false` there is no comment, so nothing may count attempts
/// unless the run refuses: never more agent runs than the cap.
#[tokio::test]
async fn without_comments_the_loop_guard_still_caps_the_agent_runs() {
    let c = ci(Api::V1, false).await;
    let mut outcomes = Vec::new();
    for (i, error) in ["error one", "error two", "error three"].iter().enumerate() {
        c.s.github.push(REPO, BRANCH, 1);
        let sha = c.s.github.branch(REPO, BRANCH).unwrap().0;
        let run = c.failed_run(&sha, error);
        let ran = c
            .fix(
                &payload(run, &sha, "failure", &[c.pr], "Codertocat", REPO),
                i as u64 + 1,
            )
            .input("comment", "false")
            .run_in_process()
            .await;
        if ran.code == 2 {
            // Refused as a configuration error, naming the input.
            assert!(
                ran.commands("error")
                    .iter()
                    .any(|e| e.contains("`comment`")),
                "{}",
                ran.everything()
            );
            outcomes.push("config error".into());
        } else {
            outcomes.push(format!(
                "{} {}",
                ran.output("outcome"),
                ran.output("reason")
            ));
        }
        c.s.cursor.settle();
    }
    let runs = agents_created(&c.s, Api::V1) + c.followups();
    assert!(
        runs <= 2,
        "fix-ci-max-attempts is 2, but {runs} agent runs were started ({} agents): {outcomes:?}",
        agents_created(&c.s, Api::V1)
    );
}

/// docs/fix-ci.md: with no pull request, only "a failure of a push (on the
/// default branch)" is fixed in a pull request of its own. A push to
/// another branch with no pull request is `no-pull-request`, not an agent
/// sent to fix the default branch (which the run never tested).
#[tokio::test]
async fn a_push_failure_on_another_branch_without_a_pull_request_launches_nothing() {
    let c = ci(Api::V1, false).await;
    c.s.link_repos();
    c.s.github.push(REPO, "hotfix", 1);
    let sha = c.s.github.branch(REPO, "hotfix").unwrap().0;
    let id = c.s.github.add_run(SimRun {
        repo: REPO.into(),
        name: "CI".into(),
        path: ".github/workflows/ci.yml".into(),
        head_sha: sha.clone(),
        head_branch: "hotfix".into(),
        head_repo: REPO.into(),
        event: "push".into(),
        conclusion: Some("failure".into()),
        run_attempt: 1,
        actor: GhUser::user("Codertocat", 21031067),
    });
    let job =
        c.s.github
            .add_job(REPO, id, 1, SimJob::new("test", FAILED_STEPS));
    c.s.github.set_job_log(job, log("boom"));
    let mut p = payload(id, &sha, "failure", &[], "Codertocat", REPO);
    p["workflow_run"]["event"] = json!("push");
    p["workflow_run"]["head_branch"] = json!("hotfix");
    let ran = c
        .fix(&p, 1)
        .env("GITHUB_REF", "refs/heads/main")
        .run_in_process()
        .await;
    assert_eq!(
        ran.output("reason"),
        "no-pull-request",
        "{}",
        ran.everything()
    );
    assert_eq!(agents_created(&c.s, Api::V1), 0);
}

/// A failed push on the default branch is that branch's failure: an open
/// pull request of another branch (or a fork's) that happens to have the
/// same head commit must not take it (a fork can open such a pull request
/// at will and so divert every failure of `main` to its diagnosis). The
/// run's head branch and repository must match the pull request's head.
#[tokio::test]
async fn a_push_failure_on_the_default_branch_is_not_taken_by_a_pull_request_of_another_branch() {
    let c = ci(Api::V1, false).await;
    c.s.link_repos();
    // `main` was pushed to the commit that is also #pr's head (feature).
    let mut p = failed_push(&c, "boom");
    let run = p["workflow_run"]["id"].as_u64().unwrap();
    c.s.github.add_run(SimRun {
        repo: REPO.into(),
        name: "CI".into(),
        path: ".github/workflows/ci.yml".into(),
        head_sha: c.sha.clone(),
        head_branch: "main".into(),
        head_repo: REPO.into(),
        event: "push".into(),
        conclusion: Some("failure".into()),
        run_attempt: 1,
        actor: GhUser::user("Codertocat", 21031067),
    });
    p["workflow_run"]["head_sha"] = json!(c.sha);
    let _ = run;
    let ran = c
        .fix(&p, 1)
        .env("GITHUB_REF", "refs/heads/main")
        .run_in_process()
        .await;
    assert!(
        c.fix_comments().is_empty(),
        "main's failure was written on #{} (branch {BRANCH}): {}",
        c.pr,
        ran.everything()
    );
    for body in v1_bodies(&c.s, "POST", "/v1/agents") {
        assert!(
            !body.to_string().contains(&format!("/pull/{}", c.pr)),
            "an agent was sent to #{}'s branch for main's failure: {body}",
            c.pr
        );
    }
}

/// After a same-failure stop the notice says a comment has the agent try
/// again: a maintainer's comment then gets an attempt.
#[tokio::test]
async fn after_a_same_failure_stop_the_comment_the_notice_suggests_gets_an_attempt() {
    let c = ci(Api::V1, false).await;
    fail_again(&c, "error: linker `cc` not found", 1)
        .await
        .success();
    c.s.cursor.settle();
    let stopped = fail_again(&c, "error: linker `cc` not found", 2).await;
    assert_eq!(stopped.output("reason"), "same-failure");
    let advice = stopped.commands("notice").join("\n");
    assert!(
        advice.contains("comment on the pull request to have the agent try again"),
        "{advice}"
    );
    // The maintainer pushes a change (the failure is the same) and comments.
    let after_push = fail_again(&c, "error: linker `cc` not found", 3).await;
    assert_eq!(after_push.output("reason"), "same-failure");
    let mut p = comment_on_pr_payload();
    p["issue"]["number"] = json!(c.pr);
    p["comment"]["body"] = json!("/cursor fix-ci");
    let ran = test(&c.s, "issue_comment", &p)
        .v1()
        .input("fix-ci", "true")
        .input("wait", "false")
        .run_in_process()
        .await;
    assert!(
        matches!(ran.output("outcome"), "launched" | "followed-up"),
        "the notice said a comment would try again, but: {} {}\n{}",
        ran.output("outcome"),
        ran.output("reason"),
        ran.everything()
    );
}
