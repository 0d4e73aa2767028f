//! `archive-when-done` (#17): an agent whose run ended with nothing queued
//! is archived, so it stops counting against the plan's concurrent-agent
//! limit; a follow-up to an archived agent unarchives it and sends the run
//! to it, and only launches a new agent when unarchiving fails. v1 only.

use crate::support::*;
use sim::*;

fn final_comment(s: &Simulators) -> String {
    let body = s.github.comments(REPO, 1).last().unwrap().body.clone();
    assert!(!body.contains(WORKING), "{body}");
    body
}

#[tokio::test(start_paused = true)]
async fn a_finished_agent_is_archived_and_a_follow_up_unarchives_it_and_sends_the_run() {
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    let first = labeled(&s)
        .v1()
        .input("archive-when-done", "true")
        .run_in_process()
        .await;
    first.success();
    assert_eq!(first.output("outcome"), "finished");
    let id = first.output("agent-id").to_string();
    assert!(
        s.cursor.v1().is_archived(&id),
        "archived once its run ended"
    );
    assert_eq!(v1_bodies(&s, "POST", "/archive").len(), 1);
    first.stdout_has("Archived agent");

    let ran = comment_trigger(&s)
        .v1()
        .input("archive-when-done", "true")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    assert_eq!(ran.output("agent-id"), id, "the same agent, not a new one");
    assert_eq!(s.cursor.v1().agents_created(), 1);
    assert_eq!(s.cursor.v1().runs_of(&id), 2, "the follow-up sent once");
    assert_eq!(v1_bodies(&s, "POST", "/unarchive").len(), 1);
    // Unarchived before the run was sent.
    let order: Vec<String> = s
        .cursor
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/v1/agents/"))
        .map(|r| r.path.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(order, ["archive", "unarchive", "runs", "archive"]);
    assert!(s.cursor.v1().is_archived(&id), "archived again when done");
    let body = final_comment(&s);
    assert!(!body.contains("new agent was launched"), "{body}");
}

#[tokio::test(start_paused = true)]
async fn without_the_input_nothing_is_archived() {
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    let ran = labeled(&s).v1().run_in_process().await;
    ran.success();
    assert!(!s.cursor.v1().is_archived(ran.output("agent-id")));
    assert_eq!(v1_bodies(&s, "POST", "/archive").len(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_agent_whose_run_is_still_going_is_not_archived() {
    // No wait: the run is still going when the step ends.
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    let ran = labeled(&s)
        .v1()
        .input("archive-when-done", "true")
        .input("wait", "false")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("outcome"), "launched");
    assert_eq!(v1_bodies(&s, "POST", "/archive").len(), 0);
    // A deadline: the run is still going.
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    s.cursor.v1().set_scenario(V1Scenario::lasting(3, 7200));
    let ran = labeled(&s)
        .v1()
        .input("archive-when-done", "true")
        .input("timeout", "5m")
        .run_in_process()
        .await;
    assert_eq!(ran.output("outcome"), "timeout");
    assert_eq!(v1_bodies(&s, "POST", "/archive").len(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_agent_given_another_run_as_this_one_ended_is_left_unarchived() {
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    // The step's comment edits take 30 s, so the report (and the archive
    // check after it) comes well after the run ended…
    s.github.add_fault(
        FaultRule::new(
            "POST",
            "/repos/*/*/issues/comments/*",
            Fault::Delay { millis: 30_000 },
        )
        .times(1000),
    );
    let url = s.cursor_url();
    let watcher = labeled(&s)
        .v1()
        .input("archive-when-done", "true")
        .run_in_process();
    // …and meanwhile someone sends the agent another run as soon as it is free.
    let sender = async {
        let client = http();
        let id = loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let list: serde_json::Value = client
                .get(format!("{url}/v1/agents"))
                .basic_auth(KEY, Some(""))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(id) = list["items"][0]["id"].as_str() {
                break id.to_string();
            }
        };
        for _ in 0..600 {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let r = client
                .post(format!("{url}/v1/agents/{id}/runs"))
                .basic_auth(KEY, Some(""))
                .json(&serde_json::json!({"prompt": {"text": "one more"}}))
                .send()
                .await
                .unwrap();
            if r.status() == 201 {
                return id;
            }
        }
        panic!("the agent never became free");
    };
    let (ran, id) = tokio::join!(watcher, sender);
    assert_eq!(ran.output("outcome"), "finished");
    assert_eq!(ran.output("agent-id"), id);
    assert_eq!(s.cursor.v1().runs_of(&id), 2);
    assert!(!s.cursor.v1().is_archived(&id), "another run is on it");
    assert_eq!(v1_bodies(&s, "POST", "/archive").len(), 0);
    ran.stdout_has("was not archived: another run is queued or running on it");
}

#[tokio::test(start_paused = true)]
async fn an_archive_that_fails_changes_nothing_else() {
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    s.cursor
        .add_fault(FaultRule::new("POST", "/v1/agents/*/archive", Fault::status(500)).times(1000));
    let ran = labeled(&s)
        .v1()
        .input("archive-when-done", "true")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    assert!(!s.cursor.v1().is_archived(ran.output("agent-id")));
    ran.stdout_has("was not archived");
    assert!(final_comment(&s).contains("Cursor agent finished"));
}

#[tokio::test(start_paused = true)]
async fn a_follow_up_whose_unarchive_fails_launches_a_new_agent_and_says_why() {
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    let first = labeled(&s)
        .v1()
        .input("archive-when-done", "true")
        .run_in_process()
        .await;
    let old = first.output("agent-id").to_string();
    assert!(s.cursor.v1().is_archived(&old));
    s.cursor.add_fault(
        FaultRule::new("POST", "/v1/agents/*/unarchive", Fault::status(403)).times(1000),
    );
    let ran = comment_trigger(&s).v1().run_in_process().await;
    ran.success();
    assert_ne!(ran.output("agent-id"), old);
    assert_eq!(s.cursor.v1().agents_created(), 2);
    let body = final_comment(&s);
    assert!(
        body.contains("is archived in Cursor and could not be unarchived"),
        "{body}"
    );
}

#[tokio::test(start_paused = true)]
async fn on_v0_the_input_is_refused_before_anything_is_sent() {
    let s = sims_v1(V1Scenario::lasting(3, 20)).await;
    let ran = labeled(&s)
        .api(Api::V0)
        .input("archive-when-done", "true")
        .run_in_process()
        .await;
    ran.status(2);
    let errors = ran.commands("error");
    assert_eq!(errors.len(), 1, "{}", ran.stdout);
    assert!(errors[0].contains("`archive-when-done`"), "{}", errors[0]);
    assert!(s.cursor.requests().is_empty() && s.github.requests().is_empty());
    // `false` (the default, as action.yml passes it) is fine on v0.
    let ran = labeled(&s)
        .api(Api::V0)
        .input("archive-when-done", "false")
        .run_in_process()
        .await;
    ran.success();
}
