//! #15: a fixed `branch-name` is shared by every run of a workflow (a
//! nightly job, say), so after a lost launch answer only an agent created
//! since this step started can be this run's: last night's agent on the same
//! branch, with the same prompt, is never adopted. On v0, where the launch
//! is looked up by branch.

use crate::support::*;
use kit::clock::Clock;
use sim::*;
use std::time::{Duration, SystemTime};

fn nightly(s: &Simulators, run_id: &str) -> ActionTest {
    ActionTest::new()
        .event_json("workflow_dispatch", &fixture("workflow_dispatch.json"))
        .against(&s.cursor_url(), Some(&s.github_url()))
        .input("prompt", "Update the dependencies and fix what breaks.")
        .input("branch-name", "cursor/nightly-deps")
        .input("comment", "false")
        .env("GITHUB_RUN_ID", run_id)
}

#[tokio::test(start_paused = true)]
async fn a_fixed_branch_name_never_adopts_another_nights_agent_after_a_lost_launch_answer() {
    for (fault, created_by_the_lost_launch) in
        [(Fault::Reset, false), (Fault::ApplyThenReset, true)]
    {
        let s = sims_on(Clock::real()).await;
        // Last night's run: same branch, same prompt, created a day ago.
        let yesterday = SystemTime::now() - Duration::from_secs(24 * 3600);
        s.cursor.set_default_scenario(Scenario {
            created_at: Some(kit::rfc3339::iso8601(yesterday)),
            ..Scenario::lasting(5, 30)
        });
        let last_night = nightly(&s, "100")
            .input("wait", "false")
            .run_in_process()
            .await;
        last_night.success();
        let old = last_night.output("agent-id").to_string();
        // It has finished by tonight (a working one would make tonight's
        // scheduled run skip: one agent at a time per job).
        tokio::time::sleep(Duration::from_secs(120)).await;
        // Tonight: the launch's answer is lost.
        s.cursor.set_default_scenario(Scenario::lasting(5, 30));
        s.cursor
            .add_fault(FaultRule::new("POST", "/v0/agents", fault.clone()));
        let ran = nightly(&s, "200").run_in_process().await;
        ran.success();
        let id = ran.output("agent-id");
        assert_ne!(id, old, "{fault:?}: adopted last night's agent");
        assert_eq!(
            s.cursor.agents_created(),
            2,
            "{fault:?}: one agent tonight, no duplicate"
        );
        let agents = s.cursor.agents();
        assert_eq!(agents[1]["id"], id, "{fault:?}");
        assert_eq!(ran.output("outcome"), "finished", "{fault:?}");
        if created_by_the_lost_launch {
            ran.stdout_has("Adopted");
        }
    }
}
