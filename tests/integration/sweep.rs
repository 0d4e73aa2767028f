//! Detached runs and the sweep (#19), against the simulators in virtual
//! time, on v0 and v1: a comment left "still working" by `wait: false` or
//! `on-timeout: continue` is finalized by a later `sweep: true` step with
//! the body a waiting run writes; the sweep writes nothing while the agent
//! works, nothing a second time, nothing outside its window or to a comment
//! it cannot prove is the action's own; racing finishers end with one final
//! comment and one reaction.

use crate::support::*;
use cursor_agent_action::marker::{self, Marker};
use cursor_agent_action::report::comment::{
    self, CommentExtras, HANDOFF_TEXT, HANDOFF_TEXT_SWEEP_SEEN, Phase,
};
use cursor_agent_action::report::{Outcome, RunReport};
use kit::clock::Clock;
use kit::secret::Secret;
use sim::*;
use std::time::{Duration, SystemTime};

/// Simulators whose agent works `secs` and then finishes with `summary`.
pub(crate) async fn sims(api: Api, secs: u64, summary: &str) -> Simulators {
    let s = sims_on(Clock::real()).await;
    match api {
        Api::V0 => s
            .cursor
            .set_default_scenario(Scenario::lasting(3, secs).summary(Some(summary))),
        Api::V1 => s.cursor.v1().set_scenario(V1Scenario {
            result_text: summary.into(),
            ..V1Scenario::lasting(3, secs)
        }),
    }
    s
}

pub(crate) fn detached(s: &Simulators, api: Api) -> ActionTest {
    labeled(s).api(api).input("wait", "false")
}

/// A sweep step, as `examples/sweep.yml` runs it (any event; no prompt).
pub(crate) fn sweep(s: &Simulators, api: Api) -> ActionTest {
    ActionTest::new()
        .event("workflow_dispatch", "workflow_dispatch.json")
        .env("GITHUB_RUN_ID", "777")
        .against(&s.cursor_url(), Some(&s.github_url()))
        .input("sweep", "true")
        .api(api)
}

fn last_body(s: &Simulators) -> String {
    s.github
        .comments(REPO, 1)
        .last()
        .expect("a comment")
        .body
        .clone()
}

/// Every write: comment edits (octocrab sends them as POST; GitHub takes
/// PATCH too), new comments and reactions.
pub(crate) fn writes(s: &Simulators) -> usize {
    s.github.count("PATCH", "/repos/*/*/issues/comments/*")
        + s.github.count("POST", "/repos/*/*/issues/comments/*")
        + s.github.count("POST", "/repos/*/*/issues/*/comments")
        + s.github.count("POST", "/repos/*/*/issues/*/reactions")
        + s.github
            .count("POST", "/repos/*/*/issues/comments/*/reactions")
}

fn rockets(s: &Simulators) -> usize {
    s.github
        .reactions()
        .iter()
        .filter(|r| r.content == "rocket" && r.target == ReactionTarget::Issue(1))
        .count()
}

/// The body with what each simulator makes up (agent id on v0, run id and
/// branch on v1) and the signature over them blanked; on v0, without the
/// duration, which only a waiting run can know (v0 reports no end time).
fn comparable(api: Api, body: &str) -> String {
    let marker = Marker::find(body).unwrap();
    // A sweep marks its own (signed): the only difference in the marker.
    let mut body = body
        .replace(marker.agent.as_deref().unwrap(), "AGENT")
        .replace(marker.sig.as_deref().unwrap(), "SIG")
        .replace(r#","swept":true"#, "");
    // When each run took its agent on differs by run.
    if let Some(at) = marker.at {
        body = body.replace(&format!(r#","at":{at}"#), "");
    }
    if let Some(run) = &marker.run_id {
        body = body.replace(run.as_str(), "RUN");
    }
    body.lines()
        .filter(|l| matches!(api, Api::V1) || !l.starts_with("**Duration:**"))
        .map(|l| match l.strip_prefix("**Branch:** `cursor/") {
            Some(_) => "**Branch:** `cursor/…`",
            None => l,
        })
        .map(|l| l.trim_end_matches("  "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(start_paused = true)]
async fn a_detached_launch_is_finalized_by_a_later_sweep_as_a_waiting_run_would() {
    for api in APIS {
        let summary = "Fixed the typo and opened a pull request.";
        // What a waiting run writes.
        let w = sims(api, 40, summary).await;
        labeled(&w).api(api).run_in_process().await.success();
        let waited = last_body(&w);
        assert!(Marker::find(&waited).unwrap().is_final(), "{api:?}");

        // Launch, and the job ends.
        let s = sims(api, 40, summary).await;
        let launched = detached(&s, api).run_in_process().await;
        launched.success();
        assert_eq!(launched.output("outcome"), "launched");
        let open = last_body(&s);
        let marker = Marker::find(&open).unwrap();
        assert!(!marker.is_final(), "{api:?}: {open}");
        assert!(open.contains(HANDOFF_TEXT), "{api:?}: {open}");
        assert_eq!(rockets(&s), 1, "the launch reacts once");

        // The agent finishes; the sweep finalizes the comment.
        tokio::time::sleep(Duration::from_secs(120)).await;
        s.github.clear_reactions_and_log();
        s.cursor.clear_log();
        let swept = sweep(&s, api).run_in_process().await;
        swept.success();
        // The log's request counts are the simulators'.
        let (gh, cursor) = (s.github.requests().len(), s.cursor.requests().len());
        assert!(gh >= 4 && cursor >= 1, "{gh} {cursor}");
        swept.stdout_has(&format!("{gh} GitHub requests, {cursor} Cursor requests"));
        assert_eq!(swept.output("swept"), "1", "{api:?}\n{}", swept.stdout);
        assert_eq!(swept.output("pending"), "0");
        swept.stdout_has("Sweep: read 1 comments");
        assert!(swept.summary.contains("finished"), "{}", swept.summary);
        let body = last_body(&s);
        assert_eq!(s.github.comments(REPO, 1).len(), 1);
        assert_eq!(comparable(api, &body), comparable(api, &waited), "{api:?}");
        assert!(Marker::find(&body).unwrap().was_swept(), "{body}");
        assert!(!Marker::find(&waited).unwrap().was_swept(), "{waited}");
        // The run's length (v1 `durationMs`: 3 s creating + 40 s running),
        // as the waiting run measured it; v0 tells no end time.
        let duration = body.lines().find(|l| l.starts_with("**Duration:**"));
        match api {
            Api::V1 => assert_eq!(
                duration.map(|l| l.trim_end()),
                Some("**Duration:** 43s"),
                "{body}"
            ),
            Api::V0 => assert_eq!(duration, None, "{body}"),
        }
        assert!(body.contains(summary));
        assert_eq!(rockets(&s), 1, "{api:?}");
        assert_eq!(
            s.github.reactions().len(),
            1,
            "{api:?}: the sweep's own rocket"
        );

        // A second sweep changes nothing, and asks Cursor nothing.
        let before = writes(&s);
        let again = sweep(&s, api).run_in_process().await;
        again.success();
        assert_eq!(again.output("swept"), "0");
        assert_eq!(writes(&s), before, "{api:?}: a second sweep writes nothing");
        again.stdout_has(", 0 Cursor requests.");
        assert_eq!(last_body(&s), body);
    }
}

#[tokio::test(start_paused = true)]
async fn a_sweep_while_the_agent_works_writes_nothing() {
    for api in APIS {
        let s = sims(api, 3600, "done").await;
        detached(&s, api).run_in_process().await.success();
        let open = last_body(&s);
        for wait in [10, 600] {
            tokio::time::sleep(Duration::from_secs(wait)).await;
            let before = writes(&s);
            let ran = sweep(&s, api).run_in_process().await;
            ran.success();
            assert_eq!(ran.output("swept"), "0", "{api:?}");
            assert_eq!(ran.output("pending"), "1", "{api:?}");
            assert_eq!(writes(&s), before, "{api:?}");
            assert_eq!(last_body(&s), open);
        }
        // Once it has ended, the next sweep finishes it.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        let ran = sweep(&s, api).run_in_process().await;
        assert_eq!(ran.output("swept"), "1", "{api:?}");
        assert!(Marker::find(&last_body(&s)).unwrap().is_final());
    }
}

/// The requests that read agent `id` (v0 agent, v1 agent), at ms.
pub(crate) fn agent_reads(s: &Simulators, id: &str) -> Vec<u64> {
    s.cursor
        .requests()
        .into_iter()
        .filter(|r| {
            r.method == "GET"
                && (r.path == format!("/v0/agents/{id}") || r.path == format!("/v1/agents/{id}"))
        })
        .map(|r| r.at_ms)
        .collect()
}

fn body_of(s: &Simulators, id: u64) -> String {
    s.github
        .comments(REPO, 1)
        .into_iter()
        .find(|c| c.id == id)
        .unwrap()
        .body
}

#[tokio::test(start_paused = true)]
async fn gone_agents_are_finalized_only_when_cursor_says_so_twice_a_minute_apart_and_not_in_their_first_minutes()
 {
    for api in APIS {
        // The agent disappears from Cursor right after the launch.
        let s = sims(api, 40, "done").await;
        detached(&s, api).run_in_process().await.success();
        let open = last_body(&s);
        let id = Marker::find(&open).unwrap().agent.unwrap();
        match api {
            Api::V0 => {
                let deleted = http()
                    .delete(format!("{}/v0/agents/{id}", s.cursor_url()))
                    .basic_auth(KEY, Some(""))
                    .send()
                    .await
                    .unwrap();
                assert!(deleted.status().is_success());
            }
            Api::V1 => s.cursor.v1().reset(),
        }
        // In its first minutes: Cursor's "not found" is not believed.
        let ran = sweep(&s, api).run_in_process().await;
        ran.success();
        assert_eq!(ran.output("swept"), "0", "{api:?}: {}", ran.stdout);
        assert_eq!(last_body(&s), open, "{api:?}: untouched");
        // Later: read, read again a minute later, then finalized as gone.
        tokio::time::sleep(Duration::from_secs(10 * 60)).await;
        let before = agent_reads(&s, &id).len();
        let ran = sweep(&s, api).run_in_process().await;
        ran.success();
        assert_eq!(ran.output("swept"), "1", "{api:?}: {}", ran.stdout);
        let reads = agent_reads(&s, &id)[before..].to_vec();
        assert_eq!(reads.len(), 2, "{api:?}: two reads");
        assert!(reads[1] - reads[0] >= 60_000, "{api:?}: a minute apart");
        let body = last_body(&s);
        assert!(body.contains("is gone from Cursor"), "{body}");
        assert!(Marker::find(&body).unwrap().is_final());
        assert!(
            s.github
                .reactions()
                .iter()
                .any(|r| r.content == "confused" && r.target == ReactionTarget::Issue(1))
        );
    }
}

#[tokio::test(start_paused = true)]
async fn no_comment_is_finalized_as_gone_after_one_404() {
    for api in APIS {
        // Working, old enough; Cursor says "not found" once (v0 does so in
        // an agent's first minute; any passing glitch), then reads it fine.
        let s = sims(api, 3600, "done").await;
        detached(&s, api).run_in_process().await.success();
        let open = last_body(&s);
        tokio::time::sleep(Duration::from_secs(10 * 60)).await;
        let path = match api {
            Api::V0 => "/v0/agents/*",
            Api::V1 => "/v1/agents/*",
        };
        s.cursor.add_fault(FaultRule::new(
            "GET",
            path,
            Fault::agent_not_found(matches!(api, Api::V1)),
        ));
        let ran = sweep(&s, api).run_in_process().await;
        ran.success();
        assert_eq!(ran.output("swept"), "0", "{api:?}: {}", ran.stdout);
        assert_eq!(ran.output("pending"), "1", "{api:?}");
        assert_eq!(last_body(&s), open, "{api:?}: untouched");
        // A v0 comment of an older version (no time in its marker): the
        // second read alone decides.
        if let Api::V0 = api {
            let c = s.github.add_comment(
                REPO,
                1,
                &signed_open_body("bc-00000000-0000-0000-0000-000000000000", None),
                GhUser::actions_bot(),
                "NONE",
            );
            let ran = sweep(&s, api).run_in_process().await;
            assert_eq!(ran.output("swept"), "1", "{}", ran.stdout);
            assert!(body_of(&s, c).contains("is gone from Cursor"));
        }
    }
}

/// The sweep-404 rows: a 404 that does not say the agent does not exist
/// (a mistyped `api-url`, a proxy), on v0 and v1, at each moment the sweep
/// reads: every comment stays as it was, the step fails naming `api-url`.
#[tokio::test(start_paused = true)]
async fn a_404_without_cursor_s_code_changes_no_comment_and_fails_naming_api_url() {
    for api in APIS {
        // (the read it hits, 0-based; whether the first read said "gone")
        for (moment, first_gone) in [(0u32, false), (1, false), (1, true)] {
            let s = sims(api, 40, "done").await;
            for run in ["11", "12"] {
                detached(&s, api)
                    .env("GITHUB_RUN_ID", run)
                    .run_in_process()
                    .await
                    .success();
            }
            tokio::time::sleep(Duration::from_secs(10 * 60)).await;
            let open = comment_bodies(&s, 1);
            let path = match api {
                Api::V0 => "/v0/agents/*",
                Api::V1 => "/v1/agents/*",
            };
            let v1 = matches!(api, Api::V1);
            if first_gone {
                // The first agent reads "not found", then its confirming read
                // meets the proxy.
                s.cursor
                    .add_fault(FaultRule::new("GET", path, Fault::agent_not_found(v1)));
                s.cursor
                    .add_fault(FaultRule::new("GET", path, Fault::not_found_page()).after(1));
            } else {
                s.cursor
                    .add_fault(FaultRule::new("GET", path, Fault::not_found_page()).after(moment));
            }
            let writes_before = writes(&s);
            let ran = sweep(&s, api).run_in_process().await;
            ran.status(1);
            let errors = ran.commands("error");
            assert_eq!(errors.len(), 1, "{api:?} {moment}: {}", ran.stdout);
            assert!(errors[0].contains("`api-url`"), "{}", errors[0]);
            let after = comment_bodies(&s, 1);
            if first_gone {
                // The other agent ended and was finalized before the
                // confirming read; the suspect one is left as it was.
                let untouched = after.iter().zip(&open).filter(|(a, o)| a == o).count();
                assert_eq!(untouched, 1, "{api:?}: the suspect untouched");
                assert!(after.iter().all(|b| !b.contains("is gone")), "{api:?}");
            } else {
                assert_eq!(after, open, "{api:?} {moment}: every comment as it was");
                assert_eq!(writes(&s), writes_before, "{api:?} {moment}: no write");
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_sweep_writes_the_final_comment_first_and_amends_it_once_with_usage_and_artifacts() {
    let s = sims(Api::V1, 40, "done").await;
    detached(&s, Api::V1).run_in_process().await.success();
    tokio::time::sleep(Duration::from_secs(120)).await;
    let before = comment_writes(&s).len();
    let ran = sweep(&s, Api::V1).run_in_process().await;
    ran.success();
    let swept: Vec<(u64, String)> = comment_writes(&s)[before..].to_vec();
    assert_eq!(swept.len(), 2, "final, then one amendment: {swept:#?}");
    assert!(is_final_body(&swept[0].1) && is_final_body(&swept[1].1));
    assert!(swept[0].1.contains("done") && !swept[0].1.contains("**Usage:**"));
    assert!(
        swept[1].1.contains("**Usage:**") && swept[1].1.contains("`summary.md`"),
        "{}",
        swept[1].1
    );
}

/// An open comment as the action writes it, signed with the test's key.
fn signed_open_body(agent: &str, run: Option<&str>) -> String {
    let mut report = RunReport::new(Outcome::Launched);
    report.run_id = run.map(String::from);
    let extras = CommentExtras {
        signer: Some(marker::sig_key(&Secret::new(KEY))),
        ack: Some("issue:1".into()),
        ..Default::default()
    };
    let marker = Marker::new(Some(agent), Some(5), 1)
        .with_key("00ff")
        .with_run(run);
    comment::render(&marker, &report, &Phase::Final, &extras)
}

#[tokio::test(start_paused = true)]
async fn racing_finishers_end_with_one_final_comment_and_one_rocket() {
    for api in APIS {
        // Two sweeps at once.
        let s = sims(api, 40, "done").await;
        detached(&s, api).run_in_process().await.success();
        tokio::time::sleep(Duration::from_secs(120)).await;
        let (a, b) = tokio::join!(
            sweep(&s, api).run_in_process(),
            sweep(&s, api).run_in_process()
        );
        a.success();
        b.success();
        assert_eq!(s.github.comments(REPO, 1).len(), 1, "{api:?}");
        assert!(Marker::find(&last_body(&s)).unwrap().is_final());
        assert_eq!(rockets(&s), 1, "{api:?}");
        assert!(last_body(&s).contains("done"));

        // A waiting run and a sweep finishing the same comment, at several
        // moments around the agent's end.
        for at in [40, 43, 45, 50, 60] {
            let s = sims(api, 40, "done").await;
            let (waited, _) = tokio::join!(labeled(&s).api(api).run_in_process(), async {
                tokio::time::sleep(Duration::from_secs(at)).await;
                sweep(&s, api).run_in_process().await
            });
            waited.success();
            assert_eq!(waited.output("outcome"), "finished");
            let comments = s.github.comments(REPO, 1);
            assert_eq!(comments.len(), 1, "{api:?} at {at}s");
            let body = &comments[0].body;
            assert!(
                Marker::find(body).unwrap().is_final(),
                "{api:?} at {at}s: {body}"
            );
            assert!(body.contains("done"), "{api:?} at {at}s: {body}");
            assert_eq!(rockets(&s), 1, "{api:?} at {at}s");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn on_timeout_continue_hands_the_comment_to_the_sweep() {
    for api in APIS {
        let s = sims(api, 600, "done").await;
        let ran = labeled(&s)
            .api(api)
            .input("timeout", "30s")
            .input("on-timeout", "continue")
            .run_in_process()
            .await;
        ran.success();
        assert_eq!(ran.output("outcome"), "timeout");
        let body = last_body(&s);
        assert!(body.contains(HANDOFF_TEXT), "{api:?}: {body}");
        assert!(body.contains("Open the agent in Cursor"), "{body}");
        assert!(!Marker::find(&body).unwrap().is_final());
        // A plain timeout (`on-timeout: fail`) is final.
        let f = sims(api, 600, "done").await;
        labeled(&f)
            .api(api)
            .input("timeout", "30s")
            .run_in_process()
            .await;
        let failed = last_body(&f);
        assert!(!failed.contains(HANDOFF_TEXT));
        assert!(Marker::find(&failed).unwrap().is_final());
        // The sweep finishes the handed-off one once the agent ends.
        tokio::time::sleep(Duration::from_secs(900)).await;
        let swept = sweep(&s, api).run_in_process().await;
        assert_eq!(swept.output("swept"), "1", "{api:?}");
        let body = last_body(&s);
        assert!(body.contains("✅ Cursor agent finished"), "{body}");
        assert!(!body.contains(HANDOFF_TEXT));
    }
}

#[tokio::test(start_paused = true)]
async fn comments_outside_the_window_or_not_provably_ours_are_never_touched() {
    for api in APIS {
        let s = sims(api, 40, "done").await;
        detached(&s, api).run_in_process().await.success();
        let real = s.github.comments(REPO, 1)[0].clone();
        // Copies of the real marker: in a person's comment (any
        // association), without its `sig`, with a wrong one, by another bot
        // with a stolen-but-edited marker.
        let marker_line = real.body.lines().next().unwrap().to_string();
        let sigless = {
            let mut m = Marker::find(&real.body).unwrap();
            m.sig = None;
            format!("{}\nforged", m.render())
        };
        let wrong_sig = {
            let mut m = Marker::find(&real.body).unwrap();
            m.sig = Some("0".repeat(32));
            format!("{}\nforged", m.render())
        };
        let retargeted = {
            // A valid sig over other fields: the agent swapped.
            let mut m = Marker::find(&real.body).unwrap();
            m.attempt = Some(9);
            format!("{}\nforged", m.render())
        };
        let mut forged = Vec::new();
        for association in ["OWNER", "MEMBER", "COLLABORATOR", "NONE"] {
            forged.push(s.github.add_comment(
                REPO,
                2,
                &real.body,
                GhUser::user("mallory", 66),
                association,
            ));
            forged.push(s.github.add_comment(
                REPO,
                2,
                &format!("{marker_line}\ncopied"),
                GhUser::user("mallory", 66),
                association,
            ));
        }
        for body in [&sigless, &wrong_sig, &retargeted] {
            forged.push(
                s.github
                    .add_comment(REPO, 2, body, GhUser::actions_bot(), "NONE"),
            );
        }
        let forged_bodies = comment_bodies(&s, 2);
        // The real one, last updated 4 days ago: outside the default window.
        let old = SystemTime::now() - Duration::from_secs(4 * 86_400);
        assert!(s.github.set_comment_updated(real.id, old));
        tokio::time::sleep(Duration::from_secs(120)).await;
        let before = writes(&s);
        let ran = sweep(&s, api).run_in_process().await;
        ran.success();
        assert_eq!(ran.output("swept"), "0", "{api:?}\n{}", ran.stdout);
        assert_eq!(writes(&s), before, "{api:?}: nothing written");
        let now = comment_bodies(&s, 2);
        assert_eq!(now, forged_bodies);
        assert_eq!(last_body(&s), real.body);
        // A longer window reaches the real one, and only it.
        let ran = sweep(&s, api)
            .input("sweep-window", "5d")
            .run_in_process()
            .await;
        assert_eq!(ran.output("swept"), "1", "{api:?}\n{}", ran.stdout);
        assert!(Marker::find(&last_body(&s)).unwrap().is_final());
        let now = comment_bodies(&s, 2);
        assert_eq!(now, forged_bodies);
    }
}

#[tokio::test(start_paused = true)]
async fn hostile_summaries_stay_neutralized_when_swept() {
    for api in APIS {
        let hostile = "Done @octocat <img src=x onerror=alert(1)> <!-- --> \n::error::pwned\n<script>x</script>";
        let s = sims(api, 40, hostile).await;
        detached(&s, api).run_in_process().await.success();
        tokio::time::sleep(Duration::from_secs(120)).await;
        let ran = sweep(&s, api).run_in_process().await;
        assert_eq!(ran.output("swept"), "1");
        let body = last_body(&s);
        assert!(body.contains("@&#8203;octocat"), "{body}");
        assert!(
            !body.contains("<img") && !body.contains("<script"),
            "{body}"
        );
        assert_eq!(body.matches("<!--").count(), 1, "{body}");
        assert!(
            !ran.stdout.lines().any(|l| l.starts_with("::error::pwned")),
            "{}",
            ran.stdout
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_sweep_without_a_token_says_what_to_set() {
    let s = sims(Api::V1, 40, "done").await;
    let ran = ActionTest::new()
        .event("workflow_dispatch", "workflow_dispatch.json")
        .input("cursor-api-key", KEY)
        .input("api-url", &s.cursor_url())
        .input("sweep", "true")
        .run_in_process()
        .await;
    ran.status(2)
        .stdout_has("`sweep: true` needs `github-token`");
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_sweep_leaves_the_comments_it_did_not_reach_as_they_were() {
    for api in APIS {
        for cancel_at in [0, 5, 15, 25, 60] {
            let s = sims(api, 40, "done").await;
            for run in ["11", "12", "13"] {
                detached(&s, api)
                    .env("GITHUB_RUN_ID", run)
                    .run_in_process()
                    .await
                    .success();
            }
            let open: Vec<(u64, String)> = s
                .github
                .comments(REPO, 1)
                .into_iter()
                .map(|c| (c.id, c.body))
                .collect();
            assert_eq!(open.len(), 3);
            tokio::time::sleep(Duration::from_secs(120)).await;
            // Every edit takes 10 s to answer: the cancel lands mid-sweep.
            s.github.add_fault(
                FaultRule::new(
                    "POST",
                    "/repos/*/*/issues/comments/*",
                    Fault::Delay { millis: 10_000 },
                )
                .times(100),
            );
            let ran = sweep(&s, api)
                .run_in_process_with(cancel_after(Some(cancel_at), "SIGTERM"))
                .await;
            let after = s.github.comments(REPO, 1);
            assert_eq!(after.len(), 3);
            let mut finals = 0;
            for (c, (id, body)) in after.iter().zip(&open) {
                assert_eq!(c.id, *id);
                if Marker::find(&c.body).unwrap().is_final() {
                    finals += 1;
                    assert!(c.body.contains("done"), "{api:?} at {cancel_at}s");
                } else {
                    assert_eq!(&c.body, body, "{api:?} at {cancel_at}s: untouched");
                }
            }
            if cancel_at == 0 {
                assert_eq!(finals, 0, "{api:?}: cancelled before it began");
            }
            if cancel_at <= 5 {
                ran.status(1);
                assert_eq!(ran.commands("error").len(), 1, "{}", ran.stdout);
            }
            if cancel_at == 5 {
                // Only the edit in flight (applied, its answer cut off).
                assert_eq!(finals, 1, "{api:?}: {}", ran.stdout);
            }
            let counted: usize = ran.output("swept").parse().unwrap();
            assert!(counted <= finals, "{api:?} at {cancel_at}s");
            // The next sweep finishes the rest.
            let next = sweep(&s, api).run_in_process().await;
            next.success();
            assert_eq!(next.output("swept"), (3 - finals).to_string(), "{api:?}");
            assert!(
                s.github
                    .comments(REPO, 1)
                    .iter()
                    .all(|c| Marker::find(&c.body).unwrap().is_final())
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn each_input_a_sweep_ignores_is_warned_once_by_name() {
    let s = sims(Api::V1, 40, "done").await;
    let ignored = [
        ("label", "cursor"),
        ("trigger-phrase", "/cursor"),
        ("prompt", "Fix it"),
        ("issue-number", "7"),
        ("dry-run", "true"),
        ("comment", "false"),
        ("wait", "false"),
    ];
    let mut t = sweep(&s, Api::V1);
    for (name, value) in ignored {
        t = t.input(name, value);
    }
    // The runner passes every default: those are not warned.
    for (name, value) in [
        ("timeout", "45m"),
        ("followup", "true"),
        ("include-context", "TRUE"),
    ] {
        t = t.input(name, value);
    }
    let ran = t.run_in_process().await;
    ran.success();
    let warnings = ran.commands("warning");
    for (name, _) in ignored {
        let about: Vec<_> = warnings
            .iter()
            .filter(|w| {
                w.starts_with(&format!(
                    "::warning::`{name}` is ignored with `sweep: true`"
                ))
            })
            .collect();
        assert_eq!(about.len(), 1, "{name}: {warnings:#?}");
    }
    assert_eq!(warnings.len(), ignored.len(), "{warnings:#?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`dry-run`") && w.contains("still finalizes")),
        "{warnings:#?}"
    );
    assert!(
        warnings[0].contains("reads only `cursor-api-key`, `github-token`, `api-url`, `sweep-window`, `download-artifacts` and `artifacts-url`"),
        "{warnings:#?}"
    );
    // A launch step with the same inputs warns about none of them.
    let ran = labeled(&s)
        .input("label", "bug")
        .input("wait", "false")
        .api(Api::V1)
        .run_in_process()
        .await;
    ran.success();
    assert!(!ran.stdout.contains("is ignored with"), "{}", ran.stdout);
}

#[tokio::test(start_paused = true)]
async fn a_bad_sweep_window_names_the_input_and_a_prompt_is_ignored() {
    let s = sims(Api::V1, 40, "done").await;
    for bad in ["2w", "10s", "400d"] {
        let ran = sweep(&s, Api::V1)
            .input("sweep-window", bad)
            .run_in_process()
            .await;
        ran.status(2).stdout_has("`sweep-window`");
    }
    assert_eq!(s.github.requests().len(), 0, "nothing is read");
    let ran = sweep(&s, Api::V1)
        .input("sweep-window", "1d12h")
        .input("prompt", "Fix it")
        .run_in_process()
        .await;
    ran.success()
        .stdout_has("`prompt` is ignored with `sweep: true`");
    assert_eq!(s.cursor.v1().agents_created(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_sweep_runs_on_any_event_without_a_trigger_rule() {
    for (event, fixture) in [
        ("pull_request", "pull_request.opened.json"),
        ("issue_comment", "issue_comment.created.json"),
        ("issues", "issues.opened.json"),
    ] {
        let s = sims(Api::V1, 40, "done").await;
        detached(&s, Api::V1).run_in_process().await.success();
        tokio::time::sleep(Duration::from_secs(120)).await;
        let ran = ActionTest::new()
            .event(event, fixture)
            .against(&s.cursor_url(), Some(&s.github_url()))
            .input("sweep", "true")
            // A trigger rule that would refuse this event does not apply.
            .input("label", "no-such-label")
            .api(Api::V1)
            .run_in_process()
            .await;
        ran.success();
        assert_eq!(ran.output("swept"), "1", "{event}: {}", ran.stdout);
        assert_eq!(
            s.cursor.v1().agents_created(),
            1,
            "{event}: nothing launched"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_hand_off_says_a_sweep_runs_here_once_one_finalized_a_comment_on_the_issue() {
    for api in APIS {
        let s = sims(api, 40, "done").await;
        let first = detached(&s, api).run_in_process().await;
        first.success();
        let launch_requests = s.github.requests().len();
        assert!(
            last_body(&s).contains(HANDOFF_TEXT),
            "{api:?}: nothing seen yet"
        );
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert_eq!(sweep(&s, api).run_in_process().await.output("swept"), "1");
        // A later detached launch on the same issue (another workflow run).
        s.github.clear_reactions_and_log();
        detached(&s, api)
            .env("GITHUB_RUN_ID", "4243")
            .run_in_process()
            .await
            .success();
        let comments = s.github.comments(REPO, 1);
        assert_eq!(comments.len(), 2, "{api:?}");
        let body = &comments[1].body;
        assert!(body.contains(HANDOFF_TEXT_SWEEP_SEEN), "{api:?}: {body}");
        assert!(!body.contains(HANDOFF_TEXT), "{api:?}: {body}");
        assert_eq!(
            s.github.requests().len(),
            launch_requests,
            "{api:?}: telling costs no request"
        );
        // A handed-off timeout says it too.
        let ran = labeled(&s)
            .api(api)
            .env("GITHUB_RUN_ID", "4244")
            .input("timeout", "30s")
            .input("on-timeout", "continue")
            .run_in_process()
            .await;
        assert_eq!(ran.output("outcome"), "timeout", "{api:?}");
        assert!(last_body(&s).contains(HANDOFF_TEXT_SWEEP_SEEN), "{api:?}");

        // Only the action's own swept comments count: the same swept body
        // copied by a reader, or a bot's final marker with the mark added
        // (its signature then fails), prove nothing. (A writer's copy would
        // count: a writer may speak for the action, as with a personal
        // token; see `marker::trust`.)
        let swept_body = comments[0].body.clone();
        let w = sims(api, 5, "done").await;
        labeled(&w).api(api).run_in_process().await.success();
        let mut forged = Marker::find(&last_body(&w)).unwrap();
        assert!(forged.is_final() && !forged.was_swept());
        forged.swept = Some(true);
        let t = sims(api, 40, "done").await;
        t.github.add_comment(
            REPO,
            1,
            &swept_body,
            GhUser::user("mallory", 66),
            "CONTRIBUTOR",
        );
        t.github.add_comment(
            REPO,
            1,
            &format!("{}\nforged", forged.render()),
            GhUser::actions_bot(),
            "NONE",
        );
        detached(&t, api)
            .env("GITHUB_RUN_ID", "4245")
            .run_in_process()
            .await
            .success();
        let body = last_body(&t);
        assert!(body.contains(HANDOFF_TEXT), "{api:?}: {body}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_swept_job_comment_records_its_pull_request() {
    for api in APIS {
        let s = sims(api, 40, "Refreshed the docs.").await;
        s.link_repos();
        let launched = ActionTest::new()
            .event_json("schedule", &serde_json::json!({"schedule": "17 3 * * *"}))
            .env("GITHUB_REF", "refs/heads/main")
            .against(&s.cursor_url(), Some(&s.github_url()))
            .input("prompt", "Refresh the docs")
            .input("issue-number", "1")
            .input("wait", "false")
            .api(api)
            .run_in_process()
            .await;
        launched.success();
        let open = Marker::find(&last_body(&s)).unwrap();
        assert!(open.job.is_some() && open.pr.is_none(), "{api:?}: {open:?}");
        tokio::time::sleep(Duration::from_secs(120)).await;
        let swept = sweep(&s, api).run_in_process().await;
        swept.success();
        assert_eq!(swept.output("swept"), "1", "{api:?}");
        let done = Marker::find(&last_body(&s)).unwrap();
        assert!(done.is_final(), "{api:?}");
        assert_eq!(done.job, open.job, "{api:?}");
        assert_eq!(
            done.pr,
            Some(100),
            "{api:?}: the pull request the agent opened"
        );
    }
}

/// Whether an agent is gone is one rule (`agent::existence`), asked by
/// every path: the sweep, follow-ups on v0 and v1, and a scheduled job's
/// previous agent. Each path meets Cursor's own "no such agent" (believed)
/// and a proxy's 404 page (a failure, never "gone").
#[tokio::test(start_paused = true)]
async fn every_path_asks_one_rule_whether_an_agent_is_gone() {
    use crate::nightly;
    for api in APIS {
        let v1 = matches!(api, Api::V1);
        let agent_read = if v1 { "/v1/agents/*" } else { "/v0/agents/*" };
        for cursor_says in [true, false] {
            let fault = if cursor_says {
                Fault::agent_not_found(v1)
            } else {
                Fault::not_found_page()
            };
            let case = format!("{api:?}, Cursor says so: {cursor_says}");

            // The sweep (an old comment: its marker has no time).
            let s = sims(api, 40, "done").await;
            let c = s.github.add_comment(
                REPO,
                1,
                &signed_open_body(
                    "bc-00000000-0000-0000-0000-000000000000",
                    v1.then_some("run-00000000-0000-0000-0000-000000000000"),
                ),
                GhUser::actions_bot(),
                "NONE",
            );
            let open = body_of(&s, c);
            s.cursor
                .add_fault(FaultRule::new("GET", agent_read, fault.clone()).times(2));
            let ran = sweep(&s, api).run_in_process().await;
            if cursor_says {
                ran.success();
                assert!(
                    body_of(&s, c).contains("is gone from Cursor"),
                    "sweep, {case}"
                );
            } else {
                ran.status(1);
                assert_eq!(body_of(&s, c), open, "sweep, {case}");
            }

            // A follow-up comment to the issue's agent.
            let s = sims(api, 40, "done").await;
            labeled(&s).api(api).run_in_process().await.success();
            let followup_call = if v1 {
                FaultRule::new("GET", agent_read, fault.clone())
            } else {
                FaultRule::new("POST", "/v0/agents/*/followup", fault.clone())
            };
            s.cursor.add_fault(followup_call);
            let ran = comment_trigger(&s).api(api).run_in_process().await;
            let created = agents_created(&s, api);
            if cursor_says {
                ran.success();
                assert_eq!(created, 2, "follow-up, {case}: a new agent");
                assert!(
                    last_body(&s).contains("is gone (HTTP 404"),
                    "follow-up, {case}"
                );
            } else {
                ran.status(1);
                assert_eq!(created, 1, "follow-up, {case}: no new agent");
            }

            // A scheduled job's previous agent, still working.
            let s = nightly::world(api, 4 * 3600).await;
            nightly::night(&s, api, 101, "__run")
                .input("wait", "false")
                .input("issue-number", "1")
                .run_in_process()
                .await
                .success();
            s.cursor
                .add_fault(FaultRule::new("GET", agent_read, fault.clone()));
            let ran = nightly::night(&s, api, 102, "__run")
                .input("wait", "false")
                .input("issue-number", "1")
                .run_in_process()
                .await;
            if cursor_says {
                ran.success();
                assert_eq!(agents_created(&s, api), 2, "job, {case}: launched");
            } else {
                ran.status(1);
                assert_eq!(agents_created(&s, api), 1, "job, {case}: nothing launched");
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_sweep_cancelled_before_the_usage_arrives_leaves_a_final_comment_saying_what_is_missing()
{
    let s = sims_on(Clock::real()).await;
    // Cost comes 60 s after the end; the sweep runs 5 s after it.
    s.cursor.v1().set_scenario(V1Scenario {
        result_text: "done".into(),
        cost_lag: Duration::from_secs(60),
        ..V1Scenario::lasting(3, 40)
    });
    detached(&s, Api::V1).run_in_process().await.success();
    tokio::time::sleep(Duration::from_secs(48)).await;
    let before = comment_writes(&s).len();
    let ran = sweep(&s, Api::V1)
        .run_in_process_with(cancel_after(Some(2), "SIGTERM"))
        .await;
    ran.status(1);
    let swept: Vec<(u64, String)> = comment_writes(&s)[before..].to_vec();
    assert_eq!(swept.len(), 2, "final, then what is missing: {swept:#?}");
    assert!(swept[0].1.contains("done") && is_final_body(&swept[0].1));
    let last = &last_body(&s);
    assert!(is_final_body(last) && last.contains("done"), "{last}");
    assert!(
        last.contains("Not reported: its usage and artifacts (the workflow run was cancelled before Cursor reported it)"),
        "{last}"
    );
}
