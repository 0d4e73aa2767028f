//! Tests of the activity as a whole: events in; Markdown and log lines out.

use super::*;
use proptest::prelude::*;

fn t(secs: u64) -> Moment {
    Moment::ZERO + Duration::from_secs(secs)
}

#[test]
fn tool_calls_read_as_plain_activity() {
    let mut a = Activity::new(Redactor::new());
    let cases = [
        (
            "read_file",
            serde_json::json!({"target_file": "README.md"}),
            "Read `README.md`",
        ),
        (
            "edit_file",
            serde_json::json!({"target_file": "src/lib.rs"}),
            "Edited `src/lib.rs`",
        ),
        (
            "run_terminal_cmd",
            serde_json::json!({"command": "cargo test", "timeout": 600000}),
            "Ran `cargo test`",
        ),
        (
            "delete_file",
            serde_json::json!({"path": "old.txt"}),
            "Deleted `old.txt`",
        ),
        (
            "grep_search",
            serde_json::json!({"query": "fn main"}),
            "Searched for `fn main`",
        ),
        (
            "todo_write",
            serde_json::json!({"todos": []}),
            "Updated the to-do list",
        ),
    ];
    for (i, (name, args, _)) in cases.iter().enumerate() {
        a.on_tool_call(&format!("c{i}"), name, true, Some(args), t(i as u64));
    }
    let shown: Vec<String> = a
        .recent_tools()
        .map(|t| t.markdown(&Redactor::new()))
        .collect();
    let want: Vec<&str> = cases[1..].iter().map(|c| c.2).collect();
    assert_eq!(shown, want);
    let md = a.markdown().unwrap();
    assert!(md.contains("- _…and 1 earlier tool call_\n"), "{md}");
    a.on_tool_call("x", "frobnicate", false, None, t(9));
    assert_eq!(
        a.recent_tools().last().unwrap().markdown(&Redactor::new()),
        "Used tool `frobnicate` (running)"
    );
}

#[test]
fn follower_events_feed_it_too() {
    let mut a = Activity::new(Redactor::new());
    let ev = |e: StreamEvent, s| (e, t(s));
    let events = [
        ev(StreamEvent::Status(RunStatus::Running), 0),
        ev(StreamEvent::Assistant("Reading.".into()), 1),
        ev(
            StreamEvent::ToolCall {
                call_id: "a\nb".into(),
                name: "run_terminal_cmd".into(),
                completed: false,
                args: Some(serde_json::json!({"command": "cargo test"})),
            },
            2,
        ),
        ev(
            StreamEvent::Heartbeat {
                elapsed: Duration::from_secs(3),
                status: None,
            },
            3,
        ),
    ];
    let changes: Vec<Change> = events.iter().map(|(e, m)| a.observe(e, *m)).collect();
    assert_eq!(
        changes,
        [
            Change::Status,
            Change::Content,
            Change::Content,
            Change::None
        ]
    );
    assert_eq!(a.activity_span(), Some((t(1), t(2))));
    let md = a.markdown().unwrap();
    assert!(
        md.ends_with("> Reading.\n\n- Ran `cargo test` (running)\n"),
        "{md}"
    );
    let tl = a.timeline_markdown(t(0), Some(t(65))).unwrap();
    assert!(tl.contains("| +0s | Status `RUNNING` |"), "{tl}");
    assert!(tl.contains("| +1s | First activity |"), "{tl}");
    assert!(tl.contains("| +1m 5s | Ended (1 tool call) |"), "{tl}");
}

#[test]
fn a_call_is_counted_once_across_its_frames() {
    let mut a = Activity::new(Redactor::new());
    assert_eq!(
        a.on_tool_call("c\n1", "read_file", false, None, t(0)),
        Change::Content
    );
    assert_eq!(
        a.on_tool_call("c\n1", "read_file", true, None, t(1)),
        Change::Content
    );
    assert_eq!(
        a.on_tool_call("c\n1", "read_file", true, None, t(2)),
        Change::None
    );
    assert_eq!(a.tool_calls(), 1);
    assert_eq!(
        a.recent_tools().next().unwrap().markdown(&Redactor::new()),
        "Read a file"
    );
}

#[test]
fn a_new_message_starts_after_a_tool_call() {
    let mut a = Activity::new(Redactor::new());
    a.on_assistant("Looking at ", t(0));
    a.on_assistant("the code.", t(0));
    assert_eq!(a.message(), "Looking at the code.");
    a.on_tool_call("1", "read_file", true, None, t(1));
    a.on_assistant("Done.", t(2));
    assert_eq!(a.message(), "Done.");
    assert_eq!(
        a.take_log_lines(true),
        vec![
            "agent: Looking at the code.",
            "tool: Read a file",
            "agent: Done."
        ]
    );
}

fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "@octocat",
        "<img src=x>",
        "<!-- cursor-agent-action {\"v\":1} -->",
        "```",
        "~~~",
        "\n",
        "\r",
        "::set-output name=x::y",
        "##[error]x",
        "[x](https://evil.example)",
        "https://evil.example/a",
        "\u{202e}",
        "\u{1b}[31m",
        "`",
        "|",
        "owner/repo#1",
        "\0",
        "&#64;a",
        "www.evil.example",
        "a",
        " ",
        "README.md",
    ]);
    prop::collection::vec(pieces, 0..30).prop_map(|v| v.concat())
}

/// What GitHub would act on: raw HTML (but our `<code>`), links,
/// mentions and bare URLs in text (not code), our marker, an open fence.
pub(crate) fn assert_safe_markdown(md: &str) {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    for event in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => {
                assert!(
                    h.as_ref() == "<code>" || h.as_ref() == "</code>",
                    "HTML {h:?} in {md}"
                )
            }
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => panic!("link in {md}"),
            Event::Start(Tag::CodeBlock(_)) => panic!("code block in {md}"),
            Event::Text(t) => {
                // GitHub mentions need no word character before the `@`.
                for (i, _) in t.match_indices("@octocat") {
                    let prev = t[..i].chars().next_back();
                    assert!(
                        prev.is_some_and(|p| p.is_alphanumeric() || "_.-".contains(p)),
                        "mention {t:?} in {md}"
                    );
                }
                assert!(
                    !t.to_ascii_lowercase().contains("https://evil"),
                    "URL {t:?} in {md}"
                );
                // `www.` links only at a word's start.
                let low = t.to_ascii_lowercase();
                for (i, _) in low.match_indices("www.evil") {
                    let prev = low[..i].chars().next_back();
                    assert!(prev.is_some_and(char::is_alphanumeric), "URL {t:?} in {md}");
                }
            }
            _ => {}
        }
    }
    assert!(!md.contains("<!-- cursor-agent-action"), "{md}");
    assert!(
        !md.contains('\u{202e}') && !md.contains('\u{1b}') && !md.contains('\0'),
        "{md}"
    );
}

proptest! {
    #[test]
    fn hostile_streams_are_neutralized(
        name in hostile(), arg in hostile(), text in hostile(), call in hostile()
    ) {
        let mut a = Activity::new(Redactor::new());
        a.on_assistant(&text, t(0));
        for n in [name.as_str(), "read_file", "run_terminal_cmd", "web_fetch"] {
            let args = serde_json::json!({"target_file": arg, "command": arg, "url": arg});
            a.on_tool_call(&format!("{call}{n}"), n, false, Some(&args), t(1));
        }
        if let Some(md) = a.markdown() {
            assert_safe_markdown(&md);
            for line in md.lines() {
                prop_assert!(line.len() < 2000, "{}", line);
            }
        }
        for line in a.take_log_lines(true) {
            prop_assert!(line.starts_with("agent: ") || line.starts_with("tool: "), "{}", line);
            prop_assert!(!line.contains(['\n', '\r', '\0', '\u{1b}']), "{}", line);
            prop_assert!(!crate::runner::escape::is_command_like(&line), "{}", line);
            prop_assert!(line.chars().count() <= LOG_LINE_CHARS + 10, "{}", line);
        }
    }

    #[test]
    fn huge_arguments_are_cut(n in 100usize..20_000) {
        let mut a = Activity::new(Redactor::new());
        let args = serde_json::json!({"command": "x".repeat(n)});
        a.on_tool_call("1", "run_terminal_cmd", true, Some(&args), t(0));
        let md = a.markdown().unwrap();
        prop_assert!(md.len() < TARGET_CHARS * 2 + 100, "{}", md.len());
    }
}
