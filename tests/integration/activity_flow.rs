//! #13 through the whole action, against the simulators in virtual time:
//! the live activity in the working comment (within the edit throttle), its
//! log lines and the summary's timeline, hostile stream text neutralized in
//! all three, usage in comment, summary and outputs (and its absence
//! changing nothing else), artifacts downloaded through the flow, and the
//! launch cap skipping exactly at the cap.

use crate::support::*;
use crate::untrusted::problems;
use cursor_agent_action::report::activity::EDIT_EVERY;
use kit::clock::Clock;
use serde_json::{Value, json};
use sim::*;
use std::time::Duration;

fn tool(at: u64, id: &str, name: &str, args: Value) -> (Duration, String, Value) {
    (
        Duration::from_secs(at),
        "tool_call".into(),
        json!({"callId": id, "name": name, "status": "running", "args": args}),
    )
}

fn said(at: u64, text: &str) -> (Duration, String, Value) {
    (
        Duration::from_secs(at),
        "assistant".into(),
        json!({ "text": text }),
    )
}

#[tokio::test(start_paused = true)]
async fn activity_shows_in_the_working_comment_within_the_throttle() {
    // 10 minutes of work, a tool call every second: ~600 events.
    let running = 600;
    let script: Vec<_> = (1..590)
        .map(|i| {
            tool(
                i,
                &format!("call-{i}"),
                "read_file",
                json!({"target_file": format!("src/f{i}.rs")}),
            )
        })
        .chain([said(2, "Let me look at the project.\n")])
        .collect();
    let s = sims_v1(V1Scenario {
        script,
        ..V1Scenario::lasting(3, running)
    })
    .await;
    let ran = labeled(&s).v1().run_in_process().await;
    ran.success();
    let writes = comment_writes(&s);
    // The working comment shows the activity as it goes.
    let working: Vec<&(u64, String)> = writes
        .iter()
        .filter(|(_, b)| b.contains("**Activity**"))
        .collect();
    assert!(
        working.iter().any(|(_, b)| b.contains("Read `src/f9.rs`")),
        "{working:?}"
    );
    assert!(working[0].1.contains("> Let me look at the project."));
    assert!(
        working.last().unwrap().1.contains("earlier tool calls_"),
        "the rest is counted"
    );
    // Writes: the first working comment (CREATING), RUNNING at 3 s at once,
    // then activity every 10 s from 13 s while tool calls come, the last
    // (at 3+589 s) in the first edit due after it, FINISHED (5 s before the
    // end) at once, the final comment, and its one amendment with the
    // usage and artifacts that come after the run's end (#23).
    let content_edits = (3 + 589 - 13u64).div_ceil(EDIT_EVERY.as_secs()) + 1;
    assert_eq!(content_edits, 59);
    assert_eq!(
        writes.len() as u64,
        1 + 1 + content_edits + 1 + 1 + 1,
        "{:?}",
        writes.iter().map(|w| w.0).collect::<Vec<_>>()
    );
    // No two activity edits closer than the throttle (status edits aside).
    let activity_times: Vec<u64> = writes[2..writes.len() - 3].iter().map(|w| w.0).collect();
    for pair in activity_times.windows(2) {
        assert!(
            pair[1] - pair[0] >= EDIT_EVERY.as_millis() as u64,
            "{pair:?}"
        );
    }
    // The final comment: no activity, the result; the log has each tool once.
    let last = &writes.last().unwrap().1;
    assert!(!last.contains("**Activity**"), "{last}");
    assert_eq!(ran.stdout.matches("tool: Read src/f").count(), 589);
    assert!(ran.summary.contains("**Timeline**"), "{}", ran.summary);
    // Ours and the simulated run's own `cargo test`.
    assert!(
        ran.summary.contains("Ended (590 tool calls)"),
        "{}",
        ran.summary
    );
}

#[tokio::test(start_paused = true)]
async fn a_held_back_edit_is_made_when_due_without_further_events() {
    // One burst of activity, then a long silent tool: the burst's last
    // state must reach the comment 10 s after the previous edit.
    let script = vec![
        tool(1, "a", "read_file", json!({"target_file": "README.md"})),
        tool(2, "b", "edit_file", json!({"target_file": "src/lib.rs"})),
    ];
    let s = sims_v1(V1Scenario {
        script,
        heartbeat: None,
        ..V1Scenario::lasting(3, 120)
    })
    .await;
    labeled(&s).v1().run_in_process().await.success();
    let writes = comment_writes(&s);
    let with_edit: Vec<_> = writes
        .iter()
        .filter(|(_, b)| b.contains("Edited `src/lib.rs`"))
        .collect();
    assert!(
        !with_edit.is_empty(),
        "{writes:?} {:?}",
        s.github
            .requests()
            .iter()
            .map(|r| (r.method.clone(), r.path.clone(), r.status))
            .collect::<Vec<_>>()
    );
    // Made 10 s after the RUNNING edit (3 s), not at the next status.
    assert_eq!(with_edit[0].0 / 1000, 13, "{writes:?}");
}

#[tokio::test(start_paused = true)]
async fn hostile_stream_text_is_harmless_in_comment_log_and_summary() {
    let nasty = "::error::pwned @octocat <img src=x onerror=alert(1)> <!-- cursor-agent-action --> ``` ghp_\u{202e}x";
    let script = vec![
        said(1, &format!("{nasty}\n::set-env name=X::y\n")),
        tool(
            2,
            "c1\n::warning::id",
            &format!("{nasty} tool"),
            json!({"x": 1}),
        ),
        tool(
            3,
            "c2",
            "run_terminal_cmd",
            json!({"command": format!("echo {nasty}\n::add-mask::z")}),
        ),
        tool(
            4,
            "c3",
            "read_file",
            json!({"target_file": "@admin/<b>x</b>`.md"}),
        ),
    ];
    let s = sims_v1(V1Scenario {
        script,
        ..V1Scenario::lasting(3, 60)
    })
    .await;
    let ran = labeled(&s).v1().run_in_process().await;
    ran.success();
    let writes = comment_writes(&s);
    assert!(writes.iter().any(|(_, b)| b.contains("**Activity**")));
    // The working bodies carry the stream's text (the final one does not).
    for (_, body) in writes.iter().filter(|(_, b)| b.contains("**Activity**")) {
        let found = problems(body, false);
        assert!(found.is_empty(), "{found:?} in\n{body}");
    }
    // The log: no line the runner would read as a command but ours.
    for line in ran.stdout.lines() {
        let cmd = line.trim_start();
        if let Some(rest) = cmd.strip_prefix("::") {
            let name = rest.split([' ', ':']).next().unwrap_or("");
            assert!(
                [
                    "add-mask",
                    "group",
                    "endgroup",
                    "stop-commands",
                    "notice",
                    "warning",
                    "error",
                    "debug"
                ]
                .contains(&name)
                    || rest.starts_with(|c: char| c.is_ascii_hexdigit()),
                "{line}"
            );
            assert!(!line.contains("pwned"), "{line}");
        }
    }
    // The agent's words are in the log, as text after our prefix, inside
    // the waiting group.
    let group = ran.stdout.split("::group::Waiting").nth(1).unwrap();
    let group = group.split("::endgroup::").next().unwrap();
    let told: Vec<&str> = group.lines().filter(|l| l.contains("pwned")).collect();
    assert!(told.len() >= 3, "{group}");
    for l in &told {
        assert!(l.starts_with('['), "{l}");
        assert!(!l.contains('\u{202e}'), "{l}");
    }
    assert!(group.contains("] agent: ::error::pwned"), "{group}");
    assert!(group.contains("] tool: Ran echo ::error::pwned"), "{group}");
    assert!(!ran.summary.contains("<img"), "{}", ran.summary);
    assert!(!ran.summary.contains("@octocat"), "{}", ran.summary);
}

#[tokio::test(start_paused = true)]
async fn usage_shows_in_comment_summary_and_outputs() {
    let s = sims_v1(V1Scenario {
        cost_lag: Duration::from_secs(3),
        ..V1Scenario::lasting(3, 30)
    })
    .await;
    let ran = labeled(&s).v1().run_in_process().await;
    ran.success();
    let total: u64 = ran.output("total-tokens").parse().unwrap();
    assert!(total > 1000, "{total}");
    let usage: Value = serde_json::from_str(ran.output("usage")).unwrap();
    assert_eq!(usage["totalTokens"], total);
    assert!(!ran.output("cost-cents").is_empty());
    let last = comment_writes(&s).pop().unwrap().1;
    assert!(last.contains("tokens"), "{last}");
    assert!(ran.summary.contains("tokens"), "{}", ran.summary);
    ran.stdout_has("Usage: ");
}

#[tokio::test(start_paused = true)]
async fn no_usage_changes_nothing_else() {
    // The same run with usage read fine, as the baseline.
    let baseline = {
        let s = sims_v1(V1Scenario::lasting(3, 30)).await;
        let ran = labeled(&s).v1().run_in_process().await;
        ran.success();
        (
            ran.output("outcome").to_string(),
            ran.output("summary").to_string(),
        )
    };
    let faults = [
        Fault::status(404),
        Fault::status(500),
        Fault::Status {
            status: 200,
            body: Some(r#"{"runs":[]}"#.into()),
            retry_after: None,
            headers: vec![],
        },
    ];
    for fault in faults {
        let s = sims_v1(V1Scenario::lasting(3, 30)).await;
        s.cursor
            .add_fault(FaultRule::new("GET", "/v1/agents/*/usage", fault.clone()).times(10));
        let ran = labeled(&s).v1().run_in_process().await;
        ran.success();
        assert_eq!(ran.output("outcome"), baseline.0, "{fault:?}");
        assert_eq!(ran.output("summary"), baseline.1, "{fault:?}");
        assert_eq!(ran.output("total-tokens"), "", "{fault:?}");
        assert_eq!(ran.output("usage"), "", "{fault:?}");
        let last = comment_writes(&s).pop().unwrap().1;
        assert!(last.contains("Fixed the failing test"), "{fault:?}: {last}");
        assert!(!last.contains("tokens"), "{fault:?}: {last}");
        assert!(!ran.stdout.contains("::error::"), "{fault:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn artifacts_download_through_the_flow_contained_and_capped() {
    let s = sims_on(Clock::real()).await;
    let long = format!("/opt/cursor/artifacts/{}.png", "n".repeat(400));
    s.cursor.set_default_scenario(Scenario {
        artifacts: vec![
            SimArtifact::new("/opt/cursor/artifacts/screenshot.png", 1000),
            SimArtifact::new("/opt/cursor/artifacts/../../../escape.txt", 10),
            SimArtifact::new(&long, 10),
            SimArtifact::new(
                "/opt/cursor/artifacts/huge.mp4",
                cursor_agent_action::artifacts::MAX_ARTIFACT_BYTES + 1,
            ),
        ],
        ..Scenario::lasting(3, 30)
    });
    let test = ActionTest::new()
        .event("issues", "issues.labeled.json")
        .against(&s.cursor_url(), Some(&s.github_url()))
        .input("api-version", "v0")
        .input("download-artifacts", "out/artifacts");
    let workspace = test.workspace();
    let ran = test.run_in_process().await;
    ran.success();
    let dir = workspace.join("out/artifacts");
    let written: Vec<String> = ran.output("artifacts").lines().map(String::from).collect();
    assert_eq!(written.len(), 3, "{written:?}\n{}", ran.stdout);
    for p in &written {
        let path = workspace.join(p);
        let canon = path.canonicalize().unwrap();
        assert!(canon.starts_with(dir.canonicalize().unwrap()), "{p}");
    }
    assert!(!workspace.join("escape.txt").exists());
    assert!(!dir.join("huge.mp4").exists());
    assert!(ran.stdout.contains("huge.mp4"), "the refusal is told");
    assert!(ran.stdout.contains("refused"), "{}", ran.stdout);
    let last = comment_writes(&s).pop().unwrap().1;
    assert!(last.contains("screenshot.png"), "{last}");
}

#[tokio::test(start_paused = true)]
async fn the_launch_cap_skips_exactly_at_the_cap_through_the_flow() {
    let s = sims_v1(V1Scenario::lasting(2, 5)).await;
    let run = |n: u64| {
        labeled(&s)
            .v1()
            .env("GITHUB_RUN_ID", &format!("{}", 4_000_000_000u64 + n))
            .input("max-launches-per-issue", "2")
    };
    for n in 1..=2 {
        let ran = run(n).run_in_process().await;
        ran.success();
        assert_eq!(ran.output("outcome"), "finished", "launch {n}");
    }
    assert_eq!(s.cursor.v1().agents_created(), 2);
    let ran = run(3).run_in_process().await;
    ran.success();
    assert_eq!(ran.output("outcome"), "skipped");
    assert_eq!(s.cursor.v1().agents_created(), 2, "no third launch");
    assert_eq!(ran.commands("notice").len(), 1, "{}", ran.stdout);
    let comments = s.github.comments(REPO, 1);
    assert_eq!(comments.len(), 3, "a skip comment of its own");
    assert!(
        comments[2].body.contains("max-launches-per-issue"),
        "{}",
        comments[2].body
    );
    // Without the cap, a fourth run launches.
    let ran = labeled(&s)
        .v1()
        .env("GITHUB_RUN_ID", "4000000009")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(s.cursor.v1().agents_created(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_cancel_while_usage_or_artifacts_are_read_ends_within_five_seconds() {
    // The run ends at 33 s; usage is re-read while the cost lags (33–43 s),
    // then the (v1) artifact list waits 5 s when empty. A signal at any of
    // those moments ends the step within 5 s, with the final comment.
    for at in [34u64, 36, 40, 44, 47] {
        let s = sims_v1(V1Scenario {
            cost_lag: Duration::from_secs(600),
            end_error: true,
            ..V1Scenario::lasting(3, 30)
        })
        .await;
        let began = tokio::time::Instant::now();
        let ran = labeled(&s)
            .v1()
            .run_in_process_with(cancel_after(Some(at), "SIGTERM"))
            .await;
        let after = began.elapsed().saturating_sub(Duration::from_secs(at));
        assert!(
            after <= Duration::from_secs(5),
            "at {at}s: ended {after:?} after"
        );
        let last = comment_writes(&s).pop().unwrap().1;
        assert!(
            !last.contains("starting") && !last.contains("working"),
            "at {at}s: {last}"
        );
        assert_eq!(ran.output("status"), "ERROR", "at {at}s");
    }
}

#[tokio::test(start_paused = true)]
async fn the_final_comment_says_where_the_workflow_uploads_the_artifacts() {
    let page = "https://github.com/Codertocat/Hello-World/actions/runs/1234567890#artifacts";
    for (url, linked) in [(page, true), ("https://example.com/elsewhere", false)] {
        let s = sims_v1(V1Scenario::lasting(2, 5)).await;
        let ran = labeled(&s)
            .v1()
            .input("download-artifacts", "out")
            .input("artifacts-url", url)
            .run_in_process()
            .await;
        ran.success();
        let last = comment_writes(&s).pop().unwrap().1;
        let said = if linked {
            format!("Uploaded with the workflow run: [artifacts]({url})")
        } else {
            // Not this GitHub server: named, never a link.
            format!("Uploaded with the workflow run: `{url}`")
        };
        assert!(last.contains(&said), "{url}:\n{last}");
    }
    // Anything but an http(s) URL is refused, naming the input.
    let s = sims_v1(V1Scenario::lasting(2, 5)).await;
    let ran = labeled(&s)
        .v1()
        .input("artifacts-url", "javascript:alert(1)")
        .run_in_process()
        .await;
    ran.status(2);
    assert!(ran.commands("error")[0].contains("`artifacts-url`"));
    assert!(s.cursor.requests().is_empty());
}
