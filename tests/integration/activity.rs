//! Live activity from v1 run streams: the recorded streams replayed through
//! the SSE parser into the accumulator, tool calls told once however many
//! frames and twins they send, hostile stream text neutralized in the
//! comment section and the log, and the comment's edit throttle over a long
//! run.

use cursor_agent_action::report::activity::{Activity, Change, EDIT_EVERY, EditThrottle};
use cursor_agent_action::runner::{Console, ConsoleMode};
use cursor_api::v1::RunStatus;
use cursor_api::v1::sse::parse_all;
use kit::clock::Moment;
use std::time::Duration;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v1-streams")
        .join(name);
    let mut b = std::fs::read(path).unwrap();
    b.push(b'\n');
    b
}

fn at(secs: u64) -> Moment {
    Moment::ZERO + Duration::from_secs(secs)
}

fn replay(bytes: &[u8]) -> (Activity, Vec<Change>) {
    let mut a = Activity::new(Default::default());
    let changes = parse_all(bytes)
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, e)| a.feed_sse(e, at(i as u64)))
        .collect();
    (a, changes)
}

#[test]
fn the_no_tool_run_shows_its_answer_once_and_no_tool() {
    let (mut a, changes) = replay(&fixture("no_tools.sse"));
    // The text-delta twin and the thinking events add nothing.
    assert_eq!(a.message(), "Paris");
    assert_eq!(a.tool_calls(), 0);
    let statuses: Vec<&str> = a.timeline().iter().map(|c| c.status.as_str()).collect();
    assert_eq!(statuses, ["RUNNING", "FINISHED"]);
    assert_eq!(changes.iter().filter(|c| **c == Change::Content).count(), 1);
    let md = a.markdown().unwrap();
    assert_eq!(md, "**Activity**\n\n> Paris\n");
    assert_eq!(a.take_log_lines(true), vec!["agent: Paris"]);
}

#[test]
fn recorded_endings_and_openings_replay_cleanly() {
    let (a, _) = replay(&fixture("cancelled_ending.sse"));
    assert_eq!(
        a.status(),
        Some(&RunStatus::Cancelled),
        "result, not status, is last"
    );
    assert!(
        a.markdown().is_none(),
        "nothing the agent did is in the ending"
    );
    let (a, _) = replay(&fixture("multi_turn_2_opening.sse"));
    let statuses: Vec<&str> = a.timeline().iter().map(|c| c.status.as_str()).collect();
    assert_eq!(statuses, ["CREATING", "RUNNING"]);
    let (a, _) = replay(&fixture("docs_example.sse"));
    assert_eq!(a.message(), "I'll update the README now.");
    assert_eq!(a.status(), Some(&RunStatus::Finished));
}

#[test]
fn a_replay_after_a_reconnect_is_taken_once() {
    let bytes = fixture("no_tools.sse");
    let mut twice = bytes.clone();
    twice.extend_from_slice(&bytes);
    let (a, _) = replay(&twice);
    assert_eq!(a.message(), "Paris");
    assert_eq!(a.timeline().len(), 2);
}

/// A run with tool calls in the recorded shape (§8.5.6): `running` then
/// `completed` frames per call, `interaction_update` twins, internal args.
fn tool_stream(calls: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut s =
        String::from("event: status\ndata: {\"runId\":\"run-1\",\"status\":\"RUNNING\"}\n\n");
    let mut id = 1_787_331_048_000u64;
    let mut push = |s: &mut String, event: &str, data: serde_json::Value| {
        id += 1;
        s.push_str(&format!("id: {id}-0\nevent: {event}\ndata: {data}\n\n"));
        s.push_str(&format!(
            "id: {id}-0\nevent: interaction_update\ndata: {}\n\n",
            serde_json::json!({"type": "tool-call-started", "toolCall": {"type": "shell"}})
        ));
    };
    push(
        &mut s,
        "assistant",
        serde_json::json!({"text": "Let me look at the project.\nThen fix it."}),
    );
    for (i, (name, key, value)) in calls.iter().enumerate() {
        let call = format!("call-{i}\nfc_{i}");
        let args = serde_json::json!({ *key: value, "timeout": 600000, "conversationId": "bc-1" });
        push(
            &mut s,
            "tool_call",
            serde_json::json!({"callId": call, "name": name, "status": "running", "args": args}),
        );
        push(
            &mut s,
            "tool_call",
            serde_json::json!({"callId": call, "name": name, "status": "completed", "args": args, "result": {"success": {}}}),
        );
    }
    s.push_str("event: status\ndata: {\"runId\":\"run-1\",\"status\":\"FINISHED\"}\n\n");
    s.into_bytes()
}

#[test]
fn tool_calls_are_plain_lines_with_a_count_of_the_rest() {
    let calls = [
        ("read_file", "target_file", "README.md"),
        ("grep_search", "query", "TODO"),
        ("read_file", "target_file", "src/main.rs"),
        ("edit_file", "target_file", "src/lib.rs"),
        ("run_terminal_cmd", "command", "cargo test"),
        ("web_search", "search_term", "rust sse"),
        ("todo_write", "todos", "x"),
    ];
    let (mut a, _) = replay(&tool_stream(&calls));
    assert_eq!(
        a.tool_calls(),
        7,
        "each call once: frames and twins do not double it"
    );
    let md = a.markdown().unwrap();
    assert_eq!(
        md,
        "**Activity**\n\n> Let me look at the project.\n>\n> Then fix it.\n\n\
         - _…and 2 earlier tool calls_\n\
         - Read `src/main.rs`\n\
         - Edited `src/lib.rs`\n\
         - Ran `cargo test`\n\
         - Searched the web for `rust sse`\n\
         - Updated the to-do list\n"
    );
    let log = a.take_log_lines(true);
    assert_eq!(log[0], "agent: Let me look at the project.");
    assert_eq!(log[1], "agent: Then fix it.");
    assert_eq!(log[2], "tool: Read README.md (running)");
    assert_eq!(log.len(), 9);
}

const HOSTILE: &str = "::set-output name=pwned::yes\n##[error]fake\n@octocat <img src=x> \
    <!-- cursor-agent-action {\"v\":1,\"agent\":\"bc-evil\"} --> [click](https://evil.example) \
    ```\n\u{1b}]0;title\u{7}crsr_secretkey123";

#[test]
fn hostile_stream_text_is_neutralized_in_the_section_and_the_log() {
    let calls = [
        ("run_terminal_cmd", "command", HOSTILE),
        ("read_file", "target_file", "../../`README`|<b>.md"),
        ("::warning::evil\n@octocat", "x", "y"),
        ("web_fetch", "url", "https://evil.example/?q=@octocat"),
    ];
    let mut bytes = tool_stream(&calls);
    let hostile_text = serde_json::json!({ "text": HOSTILE }).to_string();
    bytes.extend_from_slice(
        format!("id: 9999999999999-0\nevent: assistant\ndata: {hostile_text}\n\n").as_bytes(),
    );
    let (mut a, _) = replay(&bytes);
    let md = a.markdown().unwrap();
    for bad in [
        "<img",
        "<!-- cursor-agent-action",
        "](https://",
        "@octocat ",
        "\u{1b}",
        "<b>",
    ] {
        assert!(!md.contains(bad), "{bad:?} in\n{md}");
    }
    for line in md.lines() {
        let body = line.trim_start_matches(['>', '-', ' ']);
        assert!(
            !body.starts_with("```") && !body.starts_with("~~~"),
            "{line}"
        );
    }
    assert!(md.contains("@&#8203;octocat"), "{md}");
    assert!(md.lines().all(|l| l.len() < 1000));

    let (console, out) = Console::capture(ConsoleMode::Actions, false);
    console.add_secret("crsr_secretkey123");
    for line in a.take_log_lines(true) {
        console.info(&line);
    }
    let text = out.text();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .map(|l| format!("{l}\n"))
        .collect();
    for line in text.lines() {
        assert!(!line.trim_start().starts_with("::"), "{line}");
        assert!(!line.trim_start().starts_with("##["), "{line}");
        assert!(!line.contains('\u{1b}'), "{line}");
    }
    assert!(
        text.lines()
            .all(|l| l.starts_with("agent: ") || l.starts_with("tool: ")),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.contains("crsr_secretkey123")),
        "{text}"
    );
    assert!(
        text.contains("tool: Used tool ::warning::evil @octocat"),
        "{text}"
    );
}

/// The flow's loop, over a long run: every event offered to the throttle,
/// pending changes edited when due, the end always edited.
fn edits_for(events: &[(u64, Change)], end: u64) -> Vec<u64> {
    let mut th = EditThrottle::new();
    let mut edits = Vec::new();
    let mut i = 0;
    // One tick per second of the run: what a `select!` on the next event and
    // `due_at` does.
    for now in 0..end {
        let now_m = at(now);
        let mut edit = th.poll(now_m);
        while i < events.len() && events[i].0 == now {
            edit |= th.offer(now_m, events[i].1);
            i += 1;
        }
        if edit {
            th.edited(now_m);
            edits.push(now);
        }
    }
    if th.finish() {
        th.edited(at(end));
        edits.push(end);
    }
    assert_eq!(th.edits() as usize, edits.len());
    edits
}

#[test]
fn a_long_busy_run_is_edited_within_the_throttle_exactly() {
    // An hour, ten events a second (at one-second resolution: many per tick),
    // status changes at 0 (RUNNING) and 1805 (an unknown status, then back).
    let mut events = Vec::new();
    events.push((0, Change::Status));
    for s in 0..3600 {
        for _ in 0..10 {
            events.push((s, Change::Content));
        }
        if s == 1805 || s == 1806 {
            events.push((s, Change::Status));
        }
    }
    let edits = edits_for(&events, 3600);
    // 0,10,…,1800 (181) · 1805, 1806 (status) · 1816,…,3596 (179) · the end.
    let mut want: Vec<u64> = (0..=1800).step_by(10).collect();
    want.extend([1805, 1806]);
    want.extend((1816..3600).step_by(10));
    want.push(3600);
    assert_eq!(edits, want);
    assert_eq!(edits.len(), 181 + 2 + 179 + 1);
    // Between status changes and the end, never two edits within 10 s.
    for w in edits.windows(2) {
        let status = |s| s == 1805 || s == 1806 || s == 3600;
        assert!(w[1] - w[0] >= EDIT_EVERY.as_secs() || status(w[1]), "{w:?}");
    }
}

#[test]
fn a_burst_then_silence_is_edited_when_due_not_lost() {
    let mut events = vec![(0, Change::Status)];
    events.extend((0..500).map(|_| (3, Change::Content)));
    let edits = edits_for(&events, 100);
    assert_eq!(
        edits,
        vec![0, 10, 100],
        "the burst is shown at 10 s, then the end"
    );
}

mod rendering {
    use super::*;
    use cursor_agent_action::agent::RunUsage;
    use cursor_agent_action::artifacts::ArtifactsShown;
    use cursor_agent_action::marker::Marker;
    use cursor_agent_action::report::comment::{CommentExtras, Phase, render};
    use cursor_agent_action::report::{Outcome, RunReport, step_summary};

    fn bodies(r: &RunReport) -> (String, String, String) {
        let m = Marker::new(None, Some(1), 1);
        let x = CommentExtras::default();
        (
            render(&m, r, &Phase::Working { status: None }, &x),
            render(&m, r, &Phase::Final, &x),
            step_summary(&Default::default(), r),
        )
    }

    #[test]
    fn the_sections_render_only_when_set() {
        let plain = RunReport::new(Outcome::Finished);
        let (working, fin, summary) = bodies(&plain);
        assert!(
            working.contains(
                "_This comment is updated when the status changes and when the run ends._"
            )
        );
        for text in [&working, &fin, &summary] {
            for absent in [
                "**Activity**",
                "**Usage:**",
                "**Artifacts**",
                "**Timeline**",
                "| Usage |",
            ] {
                assert!(!text.contains(absent), "{absent} in {text}");
            }
        }
        let outputs = plain.outputs();
        let tail: Vec<(&str, &str)> = outputs
            .iter()
            .filter(|(k, _)| ["usage", "total-tokens", "cost-cents", "artifacts"].contains(k))
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        assert_eq!(
            tail,
            [
                ("usage", ""),
                ("total-tokens", ""),
                ("cost-cents", ""),
                ("artifacts", "")
            ]
        );

        let (mut a, _) = replay(&tool_stream(&[("read_file", "target_file", "README.md")]));
        let mut r = RunReport::new(Outcome::Finished);
        r.activity = a.markdown();
        r.timeline = a.timeline_markdown(at(0), Some(at(90)));
        r.usage = RunUsage::from_json(
            &serde_json::json!({"totalUsage": {"inputTokens": 900, "outputTokens": 100, "totalTokens": 1000}, "cost": {"chargedCents": 0}}),
            None,
        );
        r.artifacts = Some(ArtifactsShown {
            markdown: "**Artifacts**\n\n- `shot.png` (1 B)\n".into(),
            output: "out/shot.png".into(),
        });
        let (working, fin, summary) = bodies(&r);
        assert!(
            working.contains("**Activity**\n\n> Let me look at the project."),
            "{working}"
        );
        assert!(working.contains("- Read `README.md`"), "{working}");
        assert!(working.contains("at most every 10 s"), "{working}");
        assert!(
            !fin.contains("**Activity**"),
            "the final comment is as today: {fin}"
        );
        assert!(
            fin.contains("**Usage:** 1k tokens (input 900, output 100, cache 0) · included in your plan (nothing charged)"),
            "{fin}"
        );
        assert!(fin.contains("**Artifacts**\n\n- `shot.png` (1 B)"), "{fin}");
        assert!(summary.contains("| Usage | 1k tokens"), "{summary}");
        assert!(summary.contains("**Timeline**"), "{summary}");
        assert!(
            summary.contains("| +1m 30s | Ended (1 tool call) |"),
            "{summary}"
        );
        let outputs: std::collections::BTreeMap<_, _> = r.outputs().into_iter().collect();
        assert_eq!(outputs["total-tokens"], "1000");
        assert_eq!(outputs["cost-cents"], "0");
        assert_eq!(outputs["artifacts"], "out/shot.png");
        let _ = a.take_log_lines(true);
    }
}

#[test]
fn a_hostile_status_cannot_break_the_summary_timeline() {
    let mut a = Activity::new(Default::default());
    a.on_status(RunStatus::parse("RUNNING | <img src=x> @octocat `x"), at(0));
    a.on_assistant("hi", at(1));
    let md = a.timeline_markdown(at(0), Some(at(2))).unwrap();
    for line in md.lines().filter(|l| l.starts_with('|')) {
        // Every row keeps its two cells: no `|` of the status escapes.
        let unescaped = line.replace("\\|", "").matches('|').count();
        assert_eq!(unescaped, 3, "{line}");
    }
    assert!(!md.contains("<img") && !md.contains("@octocat"), "{md}");
}
