//! Errors users can act on (#17): every v1 error code a create or a
//! follow-up can answer reaches the step's `::error::` line through the
//! whole run, with what to do about it, Cursor's own message, its `helpUrl`
//! and its `provider` (`cursor-api.md` §8.7); the plan's concurrent-agent
//! limit, whose exact error is undocumented, is matched defensively and
//! says to archive old agents or raise the plan.

use crate::support::*;
use cursor_agent_action::marker::Marker;
use kit::clock::Clock;
use serde_json::json;
use sim::*;

/// (status, code, Cursor's message, what the line must tell the user).
const CODES: &[(u16, &str, &str, &str)] = &[
    (
        401,
        "unauthorized",
        "Invalid API key",
        "create a User API key",
    ),
    (
        401,
        "api_key_not_found",
        "API key not found",
        "create a User API key",
    ),
    (
        403,
        "plan_required",
        "A paid plan is required",
        "paid plan with usage-based pricing",
    ),
    (
        403,
        "role_forbidden",
        "Your role cannot create agents",
        "ask a Cursor team admin",
    ),
    (
        403,
        "feature_unavailable",
        "Cloud agents are not enabled",
        "not enabled for the account",
    ),
    (
        400,
        "integration_not_connected",
        "GitHub is not connected",
        "connect the Cursor GitHub App for https://github.com/Codertocat/Hello-World",
    ),
    (
        403,
        "repository_access",
        "No access to the repository",
        "Install the Cursor GitHub App",
    ),
    (
        400,
        "repository_required",
        "A repository is required",
        "check the `repository` input",
    ),
    (
        400,
        "pr_resolution_failed",
        "Could not resolve the pull request",
        "check that the pull request exists",
    ),
    (
        400,
        "invalid_model",
        "Model is not available",
        "set `model` to an id listed by Cursor",
    ),
    (
        400,
        "validation_error",
        "prompt.text: Required",
        "check the inputs it names",
    ),
    (
        400,
        "missing_body",
        "Request body must be JSON",
        "bug in cursor-agent-action",
    ),
    (
        400,
        "invalid_branch_name",
        "Branch name is invalid",
        "bug in cursor-agent-action",
    ),
    (
        403,
        "service_account_required",
        "A service account is required",
        "service-account key",
    ),
    (
        402,
        "usage_limit_exceeded",
        "Usage-based pricing required",
        "Raise the hard limit or add budget",
    ),
    (
        501,
        "not_implemented",
        "Not implemented",
        "does not implement this call",
    ),
    (
        429,
        "rate_limit_exceeded",
        "Rate limit exceeded",
        "run fewer agents at once",
    ),
    (500, "internal_error", "Internal error", "re-run the job"),
    (502, "upstream_error", "Upstream failed", "re-run the job"),
    // The plan's limit: no documented code, matched on the message.
    (
        429,
        "rate_limit_exceeded",
        "You have reached the limit of 8 concurrent agents",
        "archive finished agents at https://cursor.com/agents (or set `archive-when-done`), wait for running ones, or raise the plan",
    ),
    (
        400,
        "validation_error",
        "Too many active agents for this plan",
        "archive finished agents at https://cursor.com/agents (or set `archive-when-done`), wait for running ones, or raise the plan",
    ),
];

fn refusal(status: u16, code: &str, message: &str) -> Fault {
    Fault::Status {
        status,
        body: Some(
            json!({"error": {
                "code": code,
                "message": message,
                "helpUrl": format!("https://cursor.com/docs/api/errors#{code}"),
                "provider": "github",
            }})
            .to_string(),
        ),
        retry_after: None,
        headers: vec![],
    }
}

fn check(ran: &Ran, code: &str, message: &str, says: &str, call: &str) {
    let errors = ran.commands("error");
    let line = errors
        .iter()
        .find(|l| l.contains(message))
        .unwrap_or_else(|| {
            panic!(
                "{call} {code}: no ::error:: with Cursor's message:\n{}",
                ran.stdout
            )
        });
    for want in [
        says,
        &format!("https://cursor.com/docs/api/errors#{code}"),
        "provider: github",
    ] {
        assert!(
            line.contains(want),
            "{call} {code}: {want:?} missing from\n{line}"
        );
    }
    assert_ne!(ran.code, 0, "{call} {code}");
}

#[tokio::test(start_paused = true)]
async fn every_error_a_create_can_answer_reaches_the_error_line_with_what_to_do() {
    for (status, code, message, says) in CODES {
        let s = sims_on(Clock::real()).await;
        s.cursor.add_fault(
            FaultRule::new("POST", "/v1/agents", refusal(*status, code, message)).times(1000),
        );
        let ran = ActionTest::new()
            .event("issues", "issues.labeled.json")
            .against(&s.cursor_url(), Some(&s.github_url()))
            .v1()
            .input("timeout", "10m")
            .run_in_process()
            .await;
        check(&ran, code, message, says, "create");
    }
}

#[tokio::test(start_paused = true)]
async fn every_error_a_follow_up_can_answer_reaches_the_error_line_with_what_to_do() {
    for (status, code, message, says) in CODES {
        let s = sims_on(Clock::real()).await;
        s.cursor.v1().set_scenario(V1Scenario::lasting(3, 20));
        let first = ActionTest::new()
            .event("issues", "issues.labeled.json")
            .against(&s.cursor_url(), Some(&s.github_url()))
            .v1()
            .run_in_process()
            .await;
        first.success();
        let id = first.output("agent-id");
        assert!(
            Marker::find(&s.github.comments(REPO, 1)[0].body)
                .is_some_and(|m| m.agent.as_deref() == Some(id))
        );
        s.cursor.add_fault(
            FaultRule::new("POST", "/v1/agents/*/runs", refusal(*status, code, message))
                .times(1000),
        );
        let ran = ActionTest::new()
            .event("issue_comment", "issue_comment.created.json")
            .against(&s.cursor_url(), Some(&s.github_url()))
            .env("GITHUB_RUN_ID", "1234567891")
            .v1()
            .input("timeout", "10m")
            .run_in_process()
            .await;
        check(&ran, code, message, says, "follow-up");
        assert_eq!(
            s.cursor.v1().agents_created(),
            1,
            "follow-up {code}: no new agent"
        );
    }
}

/// Codes that do not end a create or a follow-up on the error line: the
/// flow acts on them (tested in `v1_flow`, `v1_archive`), or only other
/// calls answer them.
const HANDLED: &[(&str, &str)] = &[
    (
        "agent_not_found",
        "a follow-up launches a new agent, and the comment says why",
    ),
    ("agent_busy", "the follow-up waits for the run to end"),
    (
        "agent_archived",
        "the agent is unarchived (a new one launched if that fails)",
    ),
    (
        "agent_id_conflict",
        "the agent an earlier create made is adopted",
    ),
    ("run_not_found", "answered by run reads, not by a create"),
    ("run_not_cancellable", "answered by cancel only"),
    ("stream_expired", "answered by the stream only (v1_stream)"),
    (
        "stream_unavailable",
        "answered by the stream only (v1_stream)",
    ),
    (
        "invalid_last_event_id",
        "answered by the stream only (v1_stream)",
    ),
    ("artifact_not_found", "answered by artifact downloads only"),
    (
        "client_cancelled",
        "answered to a request the client itself cancelled",
    ),
];

#[test]
fn the_tables_cover_every_code_cursor_lists() {
    use cursor_api::v1::KNOWN_CODES;
    for code in KNOWN_CODES {
        assert!(
            CODES.iter().any(|(_, c, _, _)| c == code) || HANDLED.iter().any(|(c, _)| c == code),
            "{code}: neither shown on the error line nor handled"
        );
    }
}
