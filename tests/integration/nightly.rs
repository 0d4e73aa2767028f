//! Scheduled jobs (#18), over several runs with new run ids, against the
//! linked simulators (agents push to the GitHub simulator and open real
//! pull requests there), on v0 and v1: one open pull request per job, one
//! agent at a time, nights with nothing to change, and the GitHub requests
//! a night makes.

use crate::support::*;
use cursor_agent_action::marker::Marker;
use kit::clock::Clock;
use serde_json::json;
use sim::*;

/// Linked simulators whose agents work `secs` and finish.
pub(crate) async fn world(api: Api, secs: u64) -> Simulators {
    let s = sims_on(Clock::real()).await;
    s.link_repos();
    set_scenario(&s, api, secs, false);
    s
}

fn set_scenario(s: &Simulators, api: Api, secs: u64, no_changes: bool) {
    match api {
        Api::V0 => {
            let sc = Scenario::lasting(2, secs).summary(Some("Refreshed the docs."));
            s.cursor
                .set_default_scenario(if no_changes { sc.no_changes() } else { sc });
        }
        Api::V1 => s.cursor.v1().set_scenario(V1Scenario {
            result_text: "Refreshed the docs.".into(),
            no_changes,
            ..V1Scenario::lasting(2, secs)
        }),
    }
}

/// One night of the scheduled step `step` (its `GITHUB_ACTION`), run `run`.
pub(crate) fn night(s: &Simulators, api: Api, run: u64, step: &str) -> ActionTest {
    ActionTest::new()
        .event_json("schedule", &json!({"schedule": "17 3 * * *"}))
        .env("GITHUB_RUN_ID", &run.to_string())
        .env("GITHUB_REF", "refs/heads/main")
        .env(
            "GITHUB_WORKFLOW_REF",
            "Codertocat/Hello-World/.github/workflows/nightly-docs.yml@refs/heads/main",
        )
        .env("GITHUB_JOB", "docs")
        .env("GITHUB_ACTION", step)
        .against(&s.cursor_url(), Some(&s.github_url()))
        .input("prompt", "Refresh the docs from the code.")
        .api(api)
}

/// Requests that could change anything in Cursor.
fn cursor_writes(s: &Simulators) -> usize {
    s.cursor
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .count()
}

fn open_pulls(s: &Simulators) -> Vec<GhPull> {
    s.github
        .pulls(REPO)
        .into_iter()
        .filter(|p| p.open)
        .collect()
}

/// The job's marker comments on pull request `n` (by the action's bot).
fn pull_markers(s: &Simulators, n: u64) -> Vec<Marker> {
    s.github
        .comments(REPO, n)
        .iter()
        .filter(|c| c.user == GhUser::actions_bot())
        .filter_map(|c| Marker::find(&c.body))
        .filter(|m| m.job.is_some())
        .collect()
}

/// Deletes (v0) or archives (v1) agent `id`, as a person could in Cursor.
async fn remove_agent(s: &Simulators, api: Api, id: &str) {
    let c = http();
    let r = match api {
        Api::V0 => c.delete(format!("{}/v0/agents/{id}", s.cursor_url())),
        Api::V1 => c.post(format!("{}/v1/agents/{id}/archive", s.cursor_url())),
    };
    let status = r.basic_auth(KEY, Some("")).send().await.unwrap().status();
    assert!(status.is_success(), "{status}");
}

#[tokio::test(start_paused = true)]
async fn night_two_updates_night_ones_pull_request_and_reports_the_same_url() {
    for api in APIS {
        let s = world(api, 60).await;
        let one = night(&s, api, 101, "__run").run_in_process().await;
        one.success();
        assert_eq!(one.output("outcome"), "finished", "{api:?}");
        assert_eq!(one.output("changes"), "true", "{api:?}");
        let pr = one.output("pr-url").to_string();
        assert!(pr.ends_with("/pull/100"), "{api:?}: {pr}");
        assert_eq!(
            pull_markers(&s, 100).len(),
            1,
            "{api:?}: night 1 marks its PR"
        );
        let head_before = open_pulls(&s)[0].head_sha.clone();

        let two = night(&s, api, 102, "__run").run_in_process().await;
        two.success();
        assert_eq!(two.output("outcome"), "finished", "{api:?}");
        assert_eq!(two.output("pr-url"), pr, "{api:?}: the same pull request");
        assert_eq!(two.output("changes"), "true", "{api:?}");
        assert_eq!(
            two.output("agent-id"),
            one.output("agent-id"),
            "{api:?}: the same agent"
        );
        two.stdout_has("Found the job's open pull request #100");
        assert_eq!(agents_created(&s, api), 1, "{api:?}: no second agent");
        let open = open_pulls(&s);
        assert_eq!(open.len(), 1, "{api:?}: still one open PR");
        assert_ne!(
            open[0].head_sha, head_before,
            "{api:?}: night 2 pushed to it"
        );
        assert_eq!(
            pull_markers(&s, 100).len(),
            1,
            "{api:?}: the marker is not posted again"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_gone_agent_is_replaced_by_a_new_agent_on_the_pull_requests_branch() {
    for api in APIS {
        let s = world(api, 60).await;
        let one = night(&s, api, 101, "__run").run_in_process().await;
        one.success();
        let pr = one.output("pr-url").to_string();
        let first = one.output("agent-id").to_string();
        remove_agent(&s, api, &first).await;

        let two = night(&s, api, 102, "__run").run_in_process().await;
        two.success();
        assert_eq!(two.output("outcome"), "finished", "{api:?}");
        assert_eq!(two.output("pr-url"), pr, "{api:?}");
        assert_ne!(two.output("agent-id"), first, "{api:?}: a new agent");
        assert_eq!(agents_created(&s, api), 2, "{api:?}");
        let create = s
            .cursor
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.method == "POST" && r.path.ends_with("/agents"))
            .unwrap();
        let body: serde_json::Value = serde_json::from_str(&create.body).unwrap();
        match api {
            Api::V0 => {
                assert_eq!(body["source"]["prUrl"], json!(pr), "{body}");
                assert_eq!(body["target"]["autoBranch"], json!(false), "{body}");
            }
            Api::V1 => {
                assert_eq!(body["repos"][0]["prUrl"], json!(pr), "{body}");
                assert_eq!(body["workOnCurrentBranch"], json!(true), "{body}");
            }
        }
        assert_eq!(open_pulls(&s).len(), 1, "{api:?}");
        let markers = pull_markers(&s, 100);
        assert_eq!(markers.len(), 1, "{api:?}: the marker moved, not doubled");
        assert_eq!(
            markers[0].agent.as_deref(),
            Some(two.output("agent-id")),
            "{api:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_busy_previous_agent_skips_the_night_without_any_cursor_write() {
    for api in APIS {
        let s = world(api, 4 * 3600).await;
        let one = night(&s, api, 101, "__run")
            .input("wait", "false")
            .input("issue-number", "1")
            .run_in_process()
            .await;
        one.success();
        assert_eq!(one.output("outcome"), "launched", "{api:?}");
        let comments = s.github.comments(REPO, 1).len();
        s.cursor.clear_log();

        let two = night(&s, api, 102, "__run")
            .input("issue-number", "1")
            .run_in_process()
            .await;
        two.success();
        assert_eq!(two.output("outcome"), "skipped", "{api:?}");
        assert_eq!(cursor_writes(&s), 0, "{api:?}: {:?}", s.cursor.requests());
        assert_eq!(agents_created(&s, api), 1, "{api:?}");
        let notice = two.commands("notice").join("\n");
        assert!(notice.contains("still working"), "{api:?}: {notice}");
        assert!(
            notice.contains("If it is stuck, stop or archive it"),
            "{api:?}: says how to unblock the job: {notice}"
        );
        assert!(
            notice.contains(one.output("agent-id")),
            "{api:?}: the notice links the agent: {notice}"
        );
        assert_eq!(
            s.github.comments(REPO, 1).len(),
            comments,
            "{api:?}: no comment for a skipped night"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_merged_or_closed_pull_request_gets_a_fresh_launch() {
    for api in APIS {
        for merged in [true, false] {
            let s = world(api, 60).await;
            let one = night(&s, api, 101, "__run").run_in_process().await;
            one.success();
            assert!(one.output("pr-url").ends_with("/pull/100"));
            if merged {
                assert!(s.github.merge_pull(REPO, 100));
            } else {
                assert!(s.github.close_pull(REPO, 100));
            }
            let two = night(&s, api, 102, "__run").run_in_process().await;
            two.success();
            // The log says why the night starts a new pull request.
            two.stdout_has(&format!(
                "The job's pull request #100 (opened by its previous agent {}) was {}",
                one.output("agent-id"),
                if merged { "merged" } else { "closed" }
            ));
            assert_eq!(two.output("outcome"), "finished", "{api:?} {merged}");
            assert!(
                two.output("pr-url").ends_with("/pull/101"),
                "{api:?} {merged}: {}",
                two.output("pr-url")
            );
            assert_ne!(two.output("agent-id"), one.output("agent-id"));
            assert_eq!(agents_created(&s, api), 2, "{api:?} {merged}");
            assert_eq!(open_pulls(&s).len(), 1, "{api:?} {merged}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn two_scheduled_steps_keep_their_own_pull_requests() {
    for api in APIS {
        let s = world(api, 60).await;
        let a1 = night(&s, api, 101, "__run").run_in_process().await;
        let b1 = night(&s, api, 101, "__run_2").run_in_process().await;
        a1.success();
        b1.success();
        assert_ne!(a1.output("pr-url"), b1.output("pr-url"), "{api:?}");
        let a2 = night(&s, api, 102, "__run").run_in_process().await;
        let b2 = night(&s, api, 102, "__run_2").run_in_process().await;
        assert_eq!(a2.output("pr-url"), a1.output("pr-url"), "{api:?}");
        assert_eq!(b2.output("pr-url"), b1.output("pr-url"), "{api:?}");
        assert_eq!(a2.output("agent-id"), a1.output("agent-id"), "{api:?}");
        assert_eq!(b2.output("agent-id"), b1.output("agent-id"), "{api:?}");
        assert_eq!(agents_created(&s, api), 2, "{api:?}");
        assert_eq!(open_pulls(&s).len(), 2, "{api:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_copied_marker_by_anyone_else_is_ignored() {
    for api in APIS {
        let s = world(api, 60).await;
        let one = night(&s, api, 101, "__run").run_in_process().await;
        one.success();
        let genuine = s
            .github
            .comments(REPO, 100)
            .into_iter()
            .find(|c| Marker::find(&c.body).is_some_and(|m| m.job.is_some()))
            .unwrap();
        // The job's PR is merged; someone opens their own PR from a
        // `cursor/` branch and copies the marker onto it, as a person and
        // as another app's bot.
        assert!(s.github.merge_pull(REPO, 100));
        s.github.push(REPO, "cursor/mallory-1", 1);
        let theirs = s.github.open_pull(
            REPO,
            "cursor/mallory-1",
            "main",
            "docs",
            GhUser::user("mallory", 66),
        );
        s.github.add_comment(
            REPO,
            theirs,
            &genuine.body,
            GhUser::user("mallory", 66),
            "CONTRIBUTOR",
        );
        let evil_bot = GhUser {
            login: "evil[bot]".into(),
            id: 77,
            kind: "Bot".into(),
        };
        s.github
            .add_comment(REPO, theirs, &genuine.body, evil_bot, "NONE");
        s.cursor.clear_log();

        let two = night(&s, api, 102, "__run").run_in_process().await;
        two.success();
        assert_eq!(agents_created(&s, api), 2, "{api:?}: a fresh launch");
        assert_ne!(
            two.output("pr-url"),
            format!("https://github.com/{REPO}/pull/{theirs}"),
            "{api:?}"
        );
        let followups = s
            .cursor
            .requests()
            .iter()
            .filter(|r| {
                r.method == "POST" && (r.path.ends_with("/followup") || r.path.ends_with("/runs"))
            })
            .count();
        assert_eq!(
            followups, 0,
            "{api:?}: the copied marker's agent got nothing"
        );
        assert!(
            pull_markers(&s, theirs)
                .iter()
                .all(|m| m.agent.as_deref() == Some(one.output("agent-id"))),
            "{api:?}: their PR was not marked by the action"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn nights_with_nothing_to_change_say_so_and_keep_one_comment() {
    for api in APIS {
        let s = sims_on(Clock::real()).await;
        s.link_repos();
        set_scenario(&s, api, 60, true);
        for run in [101, 102] {
            let ran = night(&s, api, run, "__run")
                .input("issue-number", "1")
                .run_in_process()
                .await;
            ran.success();
            assert_eq!(ran.output("outcome"), "finished", "{api:?} {run}");
            assert_eq!(ran.output("changes"), "false", "{api:?} {run}");
            assert_eq!(ran.output("pr-url"), "", "{api:?} {run}");
            assert!(
                ran.summary.contains("| Changes | no changes"),
                "{api:?} {run}: {}",
                ran.summary
            );
            let comments = s.github.comments(REPO, 1);
            assert_eq!(comments.len(), 1, "{api:?} {run}: one comment, edited");
            assert!(
                comments[0].body.contains("**Changes:** no changes"),
                "{api:?} {run}: {}",
                comments[0].body
            );
            assert!(
                Marker::find(&comments[0].body).unwrap().run == Some(run),
                "{api:?} {run}: the comment tells the latest night"
            );
        }
        assert!(open_pulls(&s).is_empty(), "{api:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_tracking_issue_keeps_one_comment_per_open_pull_request() {
    for api in APIS {
        let s = world(api, 60).await;
        let tracked = |run| {
            night(&s, api, run, "__run")
                .input("issue-number", "1")
                .run_in_process()
        };
        tracked(101).await.success();
        tracked(102).await.success();
        let comments = s.github.comments(REPO, 1);
        assert_eq!(
            comments.len(),
            1,
            "{api:?}: night 2 edits night 1's comment"
        );
        assert_eq!(Marker::find(&comments[0].body).unwrap().pr, Some(100));
        assert!(s.github.merge_pull(REPO, 100));
        let three = tracked(103).await;
        three.success();
        assert!(three.output("pr-url").ends_with("/pull/101"), "{api:?}");
        let comments = s.github.comments(REPO, 1);
        assert_eq!(
            comments.len(),
            2,
            "{api:?}: the new PR gets its own comment"
        );
        assert!(comments[0].body.contains("/pull/100"), "{api:?}");
        assert!(comments[1].body.contains("/pull/101"), "{api:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn update_open_pr_false_launches_as_usual_every_night() {
    for api in APIS {
        let s = world(api, 60).await;
        let one = night(&s, api, 101, "__run")
            .input("update-open-pr", "false")
            .run_in_process()
            .await;
        let two = night(&s, api, 102, "__run")
            .input("update-open-pr", "false")
            .run_in_process()
            .await;
        one.success();
        two.success();
        assert_ne!(one.output("pr-url"), two.output("pr-url"), "{api:?}");
        assert_eq!(agents_created(&s, api), 2, "{api:?}");
        assert_eq!(open_pulls(&s).len(), 2, "{api:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_nights_github_requests_are_counted_and_bounded() {
    for api in APIS {
        let s = world(api, 60).await;
        night(&s, api, 101, "__run")
            .run_in_process()
            .await
            .success();
        // Other open pull requests on agent branches, newer than the job's.
        for i in 0..8 {
            let head = format!("cursor/other-{i}");
            s.github.push(REPO, &head, 1);
            s.github
                .open_pull(REPO, &head, "main", "other", GhUser::cursor_bot());
        }
        s.github.clear_reactions_and_log();
        let two = night(&s, api, 102, "__run").run_in_process().await;
        two.success();
        assert!(two.output("pr-url").ends_with("/pull/100"), "{api:?}");
        let gets = |p: &str| s.github.count("GET", p);
        assert_eq!(gets("/repos/*/*/pulls"), 1, "{api:?}: one listing");
        // v1 goes straight to the pull request its agent opened; v0 knows
        // its branches: one comment listing either way.
        assert_eq!(gets("/repos/*/*/issues/*/comments"), 1, "{api:?}");
        assert_eq!(
            gets("/repos/*/*/pulls/*"),
            1,
            "{api:?}: the head, for `changes`"
        );
        assert_eq!(
            s.github.requests().len(),
            3,
            "{api:?}: nothing else: {:?}",
            s.github.requests()
        );
    }
}

/// What a night-2 fault at each of the job's own calls may do: never a
/// second agent where the job's state was read, never a lost report; a
/// GitHub lookup that fails degrades to launching as usual, with a warning.
#[tokio::test(start_paused = true)]
async fn faults_at_each_of_the_jobs_calls_end_in_a_stated_outcome() {
    #[derive(Debug, Clone, Copy)]
    enum At {
        OpenPullListing,
        PullComments,
        HeadAfterTheRun,
        AgentListing,
        AgentRead,
    }
    for api in APIS {
        for at in [
            At::OpenPullListing,
            At::PullComments,
            At::HeadAfterTheRun,
            At::AgentListing,
            At::AgentRead,
        ] {
            let s = world(api, 60).await;
            let one = night(&s, api, 101, "__run").run_in_process().await;
            one.success();
            let pr = one.output("pr-url").to_string();
            let v = match api {
                Api::V0 => "v0",
                Api::V1 => "v1",
            };
            let fault = || Fault::status(500);
            match at {
                At::OpenPullListing => s
                    .github
                    .add_fault(FaultRule::new("GET", "/repos/*/*/pulls", fault()).times(30)),
                At::PullComments => s.github.add_fault(
                    FaultRule::new("GET", "/repos/*/*/issues/100/comments", fault()).times(30),
                ),
                At::HeadAfterTheRun => s
                    .github
                    .add_fault(FaultRule::new("GET", "/repos/*/*/pulls/100", fault()).times(30)),
                At::AgentListing => s
                    .cursor
                    .add_fault(FaultRule::new("GET", &format!("/{v}/agents"), fault()).times(30)),
                At::AgentRead => s
                    .cursor
                    .add_fault(FaultRule::new("GET", &format!("/{v}/agents/*"), fault()).times(30)),
            }
            s.cursor.clear_log();
            let two = night(&s, api, 102, "__run").run_in_process().await;
            let case = format!("{api:?} {at:?}");
            match at {
                At::OpenPullListing => {
                    two.success();
                    assert_eq!(two.output("outcome"), "finished", "{case}");
                    let warned = two.commands("warning").join("\n");
                    assert!(warned.contains("second pull request"), "{case}: {warned}");
                }
                At::PullComments => {
                    // The previous agent names its pull request: kept all the same.
                    two.success();
                    assert_eq!(two.output("pr-url"), pr, "{case}");
                    assert_eq!(agents_created(&s, api), 1, "{case}");
                }
                At::HeadAfterTheRun => {
                    two.success();
                    assert_eq!(two.output("outcome"), "finished", "{case}");
                    assert_eq!(two.output("pr-url"), pr, "{case}");
                    assert_eq!(two.output("changes"), "", "{case}: unknown, not a guess");
                }
                At::AgentListing | At::AgentRead => {
                    two.status(1);
                    assert_eq!(two.output("outcome"), "error", "{case}");
                    assert_eq!(cursor_writes(&s), 0, "{case}: nothing sent to Cursor");
                    let error = two.commands("error").join("\n");
                    assert!(error.contains("nothing was launched"), "{case}: {error}");
                }
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_to_the_pull_request_marker_leaves_one_marker() {
    for api in APIS {
        let s = world(api, 60).await;
        s.github.add_fault(FaultRule::new(
            "POST",
            "/repos/*/*/issues/100/comments",
            Fault::ApplyThenReset,
        ));
        let one = night(&s, api, 101, "__run").run_in_process().await;
        one.success();
        assert_eq!(pull_markers(&s, 100).len(), 1, "{api:?}");
        let two = night(&s, api, 102, "__run").run_in_process().await;
        assert_eq!(two.output("pr-url"), one.output("pr-url"), "{api:?}");
        assert_eq!(agents_created(&s, api), 1, "{api:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_rerun_of_a_night_reattaches_to_its_own_agent() {
    for api in APIS {
        for tracked in [false, true] {
            let s = world(api, 600).await;
            let attempt = |n: &str| {
                let t = night(&s, api, 101, "__run")
                    .env("GITHUB_RUN_ATTEMPT", n)
                    .input("timeout", "2m")
                    .input("on-timeout", "continue");
                if tracked {
                    t.input("issue-number", "1")
                } else {
                    t
                }
            };
            let first = attempt("1").run_in_process().await;
            first.success();
            assert_eq!(first.output("outcome"), "timeout", "{api:?} {tracked}");
            s.cursor.clear_log();
            let second = attempt("2").input("timeout", "45m").run_in_process().await;
            second.success();
            let case = format!("{api:?} tracked={tracked}");
            assert_eq!(
                second.output("outcome"),
                "finished",
                "{case}: not skipped as busy"
            );
            assert_eq!(
                second.output("agent-id"),
                first.output("agent-id"),
                "{case}"
            );
            second.stdout_has("Reattached to agent");
            assert_eq!(cursor_writes(&s), 0, "{case}: nothing sent again");
            assert_eq!(agents_created(&s, api), 1, "{case}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_fixed_branch_names_previous_agent_still_counts_as_busy() {
    // v0 `branch-name`: every night's agent uses the same branch, so the
    // branch that recognises the job's agents is also this run's own.
    let api = Api::V0;
    let s = world(api, 4 * 3600).await;
    let one = night(&s, api, 101, "__run")
        .input("branch-name", "docs/nightly")
        .input("wait", "false")
        .run_in_process()
        .await;
    one.success();
    assert_eq!(one.output("outcome"), "launched");
    s.cursor.clear_log();

    let two = night(&s, api, 102, "__run")
        .input("branch-name", "docs/nightly")
        .run_in_process()
        .await;
    two.success();
    assert_eq!(two.output("outcome"), "skipped", "{}", two.stdout);
    assert_eq!(cursor_writes(&s), 0, "{:?}", s.cursor.requests());
    assert_eq!(agents_created(&s, api), 1, "no second agent on the branch");
}

#[tokio::test(start_paused = true)]
async fn detached_nights_mark_the_pull_request_they_continue() {
    for api in APIS {
        let s = world(api, 60).await;
        let one = night(&s, api, 101, "__run")
            .input("wait", "false")
            .run_in_process()
            .await;
        one.success();
        // The agent finishes and opens its pull request after the run.
        tokio::time::sleep(std::time::Duration::from_secs(120)).await;
        assert_eq!(open_pulls(&s).len(), 1, "{api:?}");
        let n = open_pulls(&s)[0].number;

        let two = night(&s, api, 102, "__run")
            .input("wait", "false")
            .run_in_process()
            .await;
        two.success();
        two.stdout_has(&format!("Found the job's open pull request #{n}"));
        let markers = pull_markers(&s, n);
        assert_eq!(
            markers.len(),
            1,
            "{api:?}: the pull request found through its agent is marked, so a lost agent does not lose it"
        );
        assert_eq!(markers[0].agent.as_deref(), Some(one.output("agent-id")));
    }
}

#[tokio::test(start_paused = true)]
async fn a_detached_agent_on_the_pull_requests_branch_keeps_it_the_next_night() {
    for api in APIS {
        let s = world(api, 60).await;
        let one = night(&s, api, 101, "__run").run_in_process().await;
        one.success();
        remove_agent(&s, api, one.output("agent-id")).await;
        // Night 2 launches a new agent on the PR's branch, without waiting.
        let two = night(&s, api, 102, "__run")
            .input("wait", "false")
            .run_in_process()
            .await;
        two.success();
        assert_ne!(two.output("agent-id"), one.output("agent-id"), "{api:?}");
        tokio::time::sleep(std::time::Duration::from_secs(120)).await;

        let three = night(&s, api, 103, "__run").run_in_process().await;
        three.success();
        assert_eq!(
            three.output("agent-id"),
            two.output("agent-id"),
            "{api:?}: night 2's agent gets the prompt, not a third agent"
        );
        assert_eq!(agents_created(&s, api), 2, "{api:?}");
        assert!(three.output("pr-url").ends_with("/pull/100"), "{api:?}");
        let markers = pull_markers(&s, 100);
        assert_eq!(markers.len(), 1, "{api:?}: the marker moved");
        assert_eq!(markers[0].agent.as_deref(), Some(two.output("agent-id")));
    }
}

#[tokio::test(start_paused = true)]
async fn the_jobs_pull_request_is_found_behind_many_newer_open_ones() {
    for api in APIS {
        let s = world(api, 60).await;
        let one = night(&s, api, 101, "__run").run_in_process().await;
        one.success();
        // A busy repository (or anyone opening pull requests): more newer
        // open pull requests than one listing page holds.
        for i in 0..120 {
            let head = format!("feature/f-{i}");
            s.github
                .open_pull(REPO, &head, "main", "feature", GhUser::user("dev", 90));
        }
        s.github.clear_reactions_and_log();
        let two = night(&s, api, 102, "__run").run_in_process().await;
        two.success();
        assert_eq!(two.output("pr-url"), one.output("pr-url"), "{api:?}");
        assert_eq!(agents_created(&s, api), 1, "{api:?}: no second agent");
        assert_eq!(
            open_pulls(&s)
                .iter()
                .filter(|p| p.head.starts_with("cursor/"))
                .count(),
            1,
            "{api:?}: still one job pull request"
        );
        assert!(
            s.github.requests().len() <= 5,
            "{api:?}: bounded: {:?}",
            s.github.requests()
        );
    }
}

/// A cancel while the job's state is read (or after the run, while it is
/// settled) ends the run within the cancel budget, sending nothing new to
/// Cursor; the moment varies over each of the job's GitHub calls.
#[tokio::test(start_paused = true)]
async fn a_cancel_during_the_jobs_calls_is_raced_like_everything_else() {
    for api in APIS {
        for (path, after_run, at) in [
            ("/repos/*/*/pulls", false, 1),
            ("/repos/*/*/pulls", false, 3),
            ("/repos/*/*/issues/100/comments", false, 2),
            ("/repos/*/*/pulls/100", true, 67),
            ("/repos/*/*/pulls/100", true, 75),
        ] {
            let s = world(api, 60).await;
            night(&s, api, 101, "__run")
                .input("issue-number", "1")
                .run_in_process()
                .await
                .success();
            let case = format!("{api:?} {path}");
            s.github
                .add_fault(FaultRule::new("GET", path, Fault::Delay { millis: 600_000 }).times(30));
            s.cursor.clear_log();
            // Night 2 reaches its first listing at once; the read after the
            // run, at about a minute (the agent works 60 s).
            let started = tokio::time::Instant::now();
            let two = night(&s, api, 102, "__run")
                .input("issue-number", "1")
                .run_in_process_with(cancel_after(Some(at), "SIGTERM"))
                .await;
            let took = started.elapsed().as_secs();
            assert!(
                took <= at + 15,
                "{case}: the run ended {took}s in, cancelled at {at}s"
            );
            if !after_run {
                assert_eq!(two.output("outcome"), "cancelled", "{case}");
                assert_eq!(cursor_writes(&s), 0, "{case}: {:?}", s.cursor.requests());
            }
        }
        // And while the prompt is sent to the job's agent: the run ends
        // within the budget, saying the prompt may have been sent.
        for at in [1, 3] {
            let s = world(api, 60).await;
            night(&s, api, 101, "__run")
                .run_in_process()
                .await
                .success();
            let path = match api {
                Api::V0 => "/v0/agents/*/followup",
                Api::V1 => "/v1/agents/*/runs",
            };
            s.cursor.add_fault(
                FaultRule::new("POST", path, Fault::Delay { millis: 600_000 }).times(30),
            );
            let started = tokio::time::Instant::now();
            let two = night(&s, api, 102, "__run")
                .run_in_process_with(cancel_after(Some(at), "SIGTERM"))
                .await;
            let took = started.elapsed().as_secs();
            let case = format!("{api:?} follow-up at {at}s");
            assert!(took <= at + 15, "{case}: ended {took}s in");
            assert_eq!(two.output("outcome"), "cancelled", "{case}");
            assert_eq!(agents_created(&s, api), 1, "{case}: no launch after it");
        }
    }
}

/// A GitHub that hangs on the job's read after the run leaves the night's
/// tracking comment final all the same: the read has its own share of the
/// time left, not all of it.
#[tokio::test(start_paused = true)]
async fn a_hanging_read_after_the_run_still_leaves_the_comment_final() {
    for api in APIS {
        for path in ["/repos/*/*/pulls/100", "/repos/*/*/compare/*"] {
            let s = world(api, 60).await;
            if path.contains("compare") {
                set_scenario(&s, api, 60, true);
            }
            let one = night(&s, api, 101, "__run")
                .input("issue-number", "1")
                .run_in_process()
                .await;
            one.success();
            let case = format!("{api:?} {path}");
            s.github
                .add_fault(FaultRule::new("GET", path, Fault::Delay { millis: 600_000 }).times(30));
            let two = night(&s, api, 102, "__run")
                .input("issue-number", "1")
                .run_in_process()
                .await;
            two.success();
            assert_eq!(two.output("outcome"), "finished", "{case}");
            assert_eq!(two.output("changes"), "", "{case}: unknown, not a guess");
            let last = s
                .github
                .comments(REPO, 1)
                .into_iter()
                .filter_map(|c| Marker::find(&c.body))
                .next_back()
                .unwrap();
            assert!(last.is_final(), "{case}: the comment is final: {last:?}");
            assert_eq!(last.run, Some(102), "{case}");
        }
    }
}

/// v1 only: the v0 simulator's follow-up keeps the scenario its agent was
/// created with, so it cannot make a follow-up that pushes nothing.
#[tokio::test(start_paused = true)]
async fn a_night_with_nothing_to_change_on_the_open_pull_request_says_so() {
    for api in [Api::V1] {
        let s = world(api, 60).await;
        let one = night(&s, api, 101, "__run")
            .input("issue-number", "1")
            .run_in_process()
            .await;
        one.success();
        set_scenario(&s, api, 60, true);
        let two = night(&s, api, 102, "__run")
            .input("issue-number", "1")
            .run_in_process()
            .await;
        two.success();
        assert_eq!(two.output("outcome"), "finished", "{api:?}");
        assert_eq!(two.output("changes"), "false", "{api:?}");
        assert_eq!(
            two.output("pr-url"),
            one.output("pr-url"),
            "{api:?}: the job's pull request, still open"
        );
        let comments = s.github.comments(REPO, 1);
        assert_eq!(comments.len(), 1, "{api:?}: night 1's comment edited");
        assert!(
            comments[0].body.contains("no changes"),
            "{api:?}: {}",
            comments[0].body
        );
    }
}

/// A re-run of a night that continued the job's pull request reattaches to
/// its agent: the marker is not posted again, and `changes` is not a guess
/// (the head before the night is not known to the re-run).
#[tokio::test(start_paused = true)]
async fn a_rerun_of_a_continuing_night_keeps_one_marker_and_does_not_guess_changes() {
    for api in APIS {
        let s = world(api, 600).await;
        let one = night(&s, api, 101, "__run")
            .input("issue-number", "1")
            .run_in_process()
            .await;
        one.success();
        let attempt = |n: &str| {
            night(&s, api, 102, "__run")
                .env("GITHUB_RUN_ATTEMPT", n)
                .input("issue-number", "1")
        };
        // Attempt 1 sends the prompt and does not wait (a timeout with
        // `on-timeout: continue` ends the same way).
        let first = attempt("1").input("wait", "false").run_in_process().await;
        first.success();
        assert_eq!(first.output("outcome"), "followed-up", "{api:?}");
        let second = attempt("2").run_in_process().await;
        second.success();
        second.stdout_has("Reattached to agent");
        assert_eq!(second.output("outcome"), "finished", "{api:?}");
        assert_eq!(second.output("pr-url"), one.output("pr-url"), "{api:?}");
        assert_eq!(
            second.output("changes"),
            "",
            "{api:?}: unknown, not a guess from a pull request older than the night"
        );
        assert_eq!(pull_markers(&s, 100).len(), 1, "{api:?}: one marker");
    }
}

/// A job whose agent works on another repository (`repository`): its pull
/// request and branch are there, so this repository's compare cannot say
/// "no changes".
#[tokio::test(start_paused = true)]
async fn a_job_on_another_repository_does_not_report_no_changes_from_this_one() {
    for api in APIS {
        for no_changes in [false, true] {
            let s = world(api, 60).await;
            set_scenario(&s, api, 60, no_changes);
            let one = night(&s, api, 101, "__run")
                .input("repository", "octo-org/docs-site")
                .input("ref", "main")
                .run_in_process()
                .await;
            one.success();
            let case = format!("{api:?} no_changes={no_changes}");
            assert_eq!(one.output("outcome"), "finished", "{case}");
            let pr = one.output("pr-url");
            assert_eq!(pr.is_empty(), no_changes, "{case}: {pr}");
            assert_eq!(
                one.output("changes"),
                if no_changes { "" } else { "true" },
                "{case}: this repository's compare says nothing about another's branch"
            );
        }
    }
}

/// v1: other agents of the same Cursor key (other workflows, people) made
/// since the job's busy agent do not hide it: the night still skips.
#[tokio::test(start_paused = true)]
async fn a_busy_agent_behind_many_newer_agents_still_skips_the_night() {
    let api = Api::V1;
    let s = world(api, 4 * 3600).await;
    let one = night(&s, api, 101, "__run")
        .input("wait", "false")
        .run_in_process()
        .await;
    one.success();
    let c = http();
    for i in 0..70 {
        let status = c
            .post(format!("{}/v1/agents", s.cursor_url()))
            .basic_auth(KEY, Some(""))
            .json(&json!({
                "prompt": {"text": format!("other work {i}")},
                "repos": [{"url": "https://github.com/octo-org/elsewhere"}],
            }))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "{status}");
    }
    let created = agents_created(&s, api);
    let two = night(&s, api, 102, "__run").run_in_process().await;
    two.success();
    assert_eq!(two.output("outcome"), "skipped");
    assert_eq!(
        agents_created(&s, api),
        created,
        "no second agent of the job"
    );
}

#[tokio::test(start_paused = true)]
async fn a_previous_agent_still_creating_counts_as_busy() {
    // Night two starts while night one's agent is still CREATING: on v0 its
    // branch is not listed yet (so the branch cannot tell it is the job's),
    // on v1 its name already says so. Either way one agent at a time.
    for api in APIS {
        let s = sims_on(Clock::real()).await;
        s.link_repos();
        match api {
            Api::V0 => s
                .cursor
                .set_default_scenario(Scenario::lasting(600, 60).branch_hidden_while_creating()),
            Api::V1 => s.cursor.v1().set_scenario(V1Scenario::lasting(600, 60)),
        }
        let one = night(&s, api, 101, "__run")
            .input("wait", "false")
            .run_in_process()
            .await;
        one.success();
        assert_eq!(one.output("outcome"), "launched", "{api:?}");
        if api == Api::V0 {
            let listed: serde_json::Value = json_of(
                http()
                    .get(format!("{}/v0/agents", s.cursor_url()))
                    .basic_auth(KEY, Some("")),
            )
            .await;
            let agent = &listed["agents"][0];
            assert_eq!(agent["status"], "CREATING");
            assert!(agent["target"].get("branchName").is_none(), "{agent}");
        }
        s.cursor.clear_log();

        let two = night(&s, api, 102, "__run").run_in_process().await;
        two.success();
        assert_eq!(two.output("outcome"), "skipped", "{api:?}: {}", two.stdout);
        assert_eq!(agents_created(&s, api), 1, "{api:?}: no second agent");
        assert_eq!(cursor_writes(&s), 0, "{api:?}: {:?}", s.cursor.requests());
        let notice = two.commands("notice").join("\n");
        assert!(notice.contains(one.output("agent-id")), "{api:?}: {notice}");

        // An agent CREATING for another repository does not hold it up.
        if api == Api::V0 {
            let s = sims_on(Clock::real()).await;
            s.link_repos();
            s.cursor
                .set_default_scenario(Scenario::lasting(600, 60).branch_hidden_while_creating());
            let _: serde_json::Value = json_of(
                http()
                    .post(format!("{}/v0/agents", s.cursor_url()))
                    .basic_auth(KEY, Some(""))
                    .json(&json!({
                        "prompt": {"text": "elsewhere"},
                        "source": {"repository": "https://github.com/octo-org/elsewhere"},
                    })),
            )
            .await;
            let night = night(&s, api, 103, "__run")
                .input("wait", "false")
                .run_in_process()
                .await;
            night.success();
            assert_eq!(night.output("outcome"), "launched", "{}", night.stdout);
        }
    }
}
