//! Any bytes as `GITHUB_EVENT_PATH`, for every event name: parsing never
//! panics, and what it reads is made safe for the prompt.
#![no_main]

use cursor_agent_action::context::event;
use cursor_agent_action::prompt::strip_hidden;
use kit::text::is_invisible;
use libfuzzer_sys::fuzz_target;

const EVENTS: &[&str] = &[
    "issues",
    "issue_comment",
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "pull_request_review_comment",
    "discussion",
    "discussion_comment",
    "workflow_run",
    "workflow_dispatch",
    "repository_dispatch",
    "schedule",
    "push",
    "deployment",
];

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for name in EVENTS {
        if let Ok(payload) = event::parse(name, &json)
            && let event::Event::Issues { issue, .. } | event::Event::IssueComment { issue, .. } =
                &payload.event
        {
            let body = strip_hidden(issue.body.as_deref().unwrap_or_default());
            assert!(!body.contains("<!--"));
            assert!(!body.chars().any(is_invisible));
        }
    }
});
