//! The `max-launches-per-issue` guardrail against the GitHub simulator: the
//! action's own launch markers are counted from the issue's comments as
//! GitHub returns them, through the one trust rule (readers' forgeries and
//! bots' unsigned markers not believed), and the cap skips exactly when the
//! count reaches it.

use crate::support::*;
use cursor_agent_action::context::RepoId;
use cursor_agent_action::github::GitHubClient;
use cursor_agent_action::github::IssueComment;
use cursor_agent_action::launch_cap::{CapDecision, count_launches, decide};
use cursor_agent_action::marker::{self, Marker};
use kit::clock::Clock;
use kit::secret::Secret;
use sim::{GhUser, Simulators};
use std::num::NonZeroU32;

/// A launch's comment on issue 1, signed as the action signs it.
fn marker(n: u64) -> String {
    let agent = format!("bc-00000000-0000-0000-0000-{n:012}");
    let key = marker::sig_key(&Secret::new(KEY));
    format!(
        "{}\n### ✅ Cursor agent finished\n",
        Marker::new(Some(&agent), Some(n), 1)
            .with_issue(Some(1))
            .signed(&key, marker::STATE_FINAL)
            .render()
    )
}

/// The markers of issue `issue`'s comments the flow believes.
fn believed(comments: &[IssueComment], issue: u64) -> Vec<Marker> {
    let key = marker::sig_key(&Secret::new(KEY));
    comments
        .iter()
        .filter_map(|c| marker::believe(c, issue, &key))
        .collect()
}

#[tokio::test]
async fn the_cap_skips_exactly_at_the_limit() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    let gh = GitHubClient::new(
        http(),
        &sims.github_url(),
        &Secret::new(TOKEN),
        RepoId::parse(REPO).unwrap(),
        Clock::real(),
    )
    .unwrap();
    let cap = NonZeroU32::new(3);
    // A reader pastes our markers (copies of signed ones), a bot posts an
    // unsigned one, and a skip comment names no agent.
    for n in 100..110 {
        sims.github
            .add_comment(REPO, 1, &marker(n), GhUser::user("mallory", 666), "NONE");
    }
    sims.github.add_comment(
        REPO,
        1,
        &format!(
            "{}\n### ✅ Cursor agent finished\n",
            Marker::new(Some("bc-00000000-0000-0000-0000-000000000999"), Some(51), 1)
                .with_issue(Some(1))
                .render()
        ),
        other_app_bot(),
        "NONE",
    );
    sims.github.add_comment(
        REPO,
        1,
        &format!(
            "{}\n### ⏭️ Skipped\n",
            Marker::new(None, Some(50), 1)
                .with_issue(Some(1))
                .signed(&marker::sig_key(&Secret::new(KEY)), marker::STATE_FINAL)
                .render()
        ),
        GhUser::actions_bot(),
        "NONE",
    );
    for n in 1..=3u64 {
        let comments = believed(&gh.list_comments(1).await.unwrap(), 1);
        assert_eq!(count_launches(&comments), (n - 1) as usize);
        assert_eq!(
            decide(cap, &comments),
            CapDecision::Launch {
                launches: (n - 1) as usize
            },
            "launch {n} is under the cap"
        );
        sims.github
            .add_comment(REPO, 1, &marker(n), GhUser::actions_bot(), "NONE");
    }
    let comments = believed(&gh.list_comments(1).await.unwrap(), 1);
    let d = decide(cap, &comments);
    assert!(d.is_skip(), "{d:?}");
    assert!(
        d.message(1)
            .unwrap()
            .contains("already has 3 Cursor agents")
    );
    // Another issue is not affected, not even by a copy of issue 1's
    // signed markers posted there by a bot.
    sims.github
        .add_comment(REPO, 2, &marker(1), GhUser::actions_bot(), "NONE");
    assert_eq!(
        count_launches(&believed(&gh.list_comments(2).await.unwrap(), 2)),
        0
    );
}

/// With `comment: false` the action writes no comment to count from, so the
/// cap would never be reached: it is refused (exit 2, naming both inputs)
/// before any request, instead of being silently off.
#[tokio::test(start_paused = true)]
async fn the_cap_without_comments_is_refused_naming_both_inputs() {
    let s = sims_on(Clock::real()).await;
    let base = || {
        ActionTest::new()
            .event("issues", "issues.labeled.json")
            .against(&s.cursor_url(), Some(&s.github_url()))
            .input("max-launches-per-issue", "1")
    };
    let ran = base().input("comment", "false").run_in_process().await;
    assert_eq!(ran.code, 2, "{}", ran.stdout);
    let errors = ran.commands("error").join("\n");
    assert!(
        errors.contains("`max-launches-per-issue`") && errors.contains("`comment: true`"),
        "{errors}"
    );
    assert!(s.cursor.requests().is_empty(), "no Cursor request");
    assert_eq!(s.github.comments(REPO, 1).len(), 0, "no comment");
    // With comments on, the cap is read and the first launch goes ahead.
    let ran = base().run_in_process().await;
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    assert_eq!(s.cursor.agents_created(), 1);
}
