//! The one-step scenarios of the demo: a maintainer labels an issue, the
//! action launches the agent, follows it and reports; the log, outputs,
//! step summary, each write of the comment and the requests are shown.

use super::harness::{DEMO_SCALE, EVENT, TempDir, heading, on_runtime};
use super::with_multi_step;
use crate::app::run_action;
use crate::logging;
use crate::runner::{ActionsIo, Console, ConsoleMode, parse_outputs};
use crate::runtime::Runtime;
use crate::stdio::{errln, outln};
use anyhow::Context as _;
use kit::cancel::Cancel;
use kit::clock::Clock;
use kit::env::Env;
use sim::{EndStatus, HOSTILE_SUMMARY, Refusal, Scenario, Simulators, V1Scenario};
use std::sync::Arc;

/// The heading of the demo's section holding one working comment in full.
pub const WORKING_COMMENT: &str = "A working comment, in full (the first with the most activity)";

/// How many activity lines (tool calls) a comment body lists.
fn activity_lines(body: &str) -> usize {
    body.lines().filter(|l| l.starts_with("- ")).count()
}

/// The scenarios `demo --scenario` offers.
pub const SCENARIOS: &[&str] = &[
    "finished",
    "error",
    "expired",
    "no-summary",
    "hostile-summary",
    "storage-mode",
    "not-connected",
];

/// The scenarios the v1 demo offers.
pub const V1_SCENARIOS: &[&str] = &["finished", "error", "hostile-summary"];

/// What the demo's agent does while it runs (seconds after RUNNING), so
/// the comment shows its activity changing.
fn demo_activity() -> Vec<(std::time::Duration, String, serde_json::Value)> {
    use serde_json::json;
    let said = |at: u64, text: &str| {
        (
            std::time::Duration::from_secs(at),
            "assistant".to_string(),
            json!({ "text": text }),
        )
    };
    let tool = |at: u64, id: &str, name: &str, args: serde_json::Value, done: bool| {
        (
            std::time::Duration::from_secs(at),
            "tool_call".to_string(),
            json!({"callId": id, "name": name, "status": if done { "completed" } else { "running" }, "args": args}),
        )
    };
    vec![
        said(
            3,
            "I'll start by reading the README and the failing test.\n",
        ),
        tool(
            5,
            "d1",
            "read_file",
            json!({"target_file": "README.md"}),
            false,
        ),
        tool(
            6,
            "d1",
            "read_file",
            json!({"target_file": "README.md"}),
            true,
        ),
        tool(14, "d2", "grep_search", json!({"query": "commmit"}), false),
        tool(15, "d2", "grep_search", json!({"query": "commmit"}), true),
        said(30, "Found the typo in two places; fixing them.\n"),
        tool(
            35,
            "d3",
            "edit_file",
            json!({"target_file": "README.md"}),
            false,
        ),
        tool(
            40,
            "d3",
            "edit_file",
            json!({"target_file": "README.md"}),
            true,
        ),
        tool(
            60,
            "d4",
            "run_terminal_cmd",
            json!({"command": "cargo test"}),
            false,
        ),
        tool(
            90,
            "d4",
            "run_terminal_cmd",
            json!({"command": "cargo test"}),
            true,
        ),
        said(100, "Tests pass. Opening a pull request.\n"),
    ]
}

fn v1_scenario(name: &str) -> Option<V1Scenario> {
    let base = V1Scenario {
        script: demo_activity(),
        ..V1Scenario::lasting(20, 150)
    };
    Some(match name {
        "finished" => base,
        "error" => V1Scenario {
            end_error: true,
            ..base
        },
        "hostile-summary" => V1Scenario {
            result_text: HOSTILE_SUMMARY.to_string(),
            ..base
        },
        _ => return None,
    })
}

fn scenario(name: &str) -> Option<Scenario> {
    let base = Scenario::lasting(20, 150);
    Some(match name {
        "finished" => base,
        "error" => base.ending(EndStatus::Error).summary(None),
        "expired" => base.ending(EndStatus::Expired).summary(None),
        "no-summary" => Scenario {
            summary_in_status: false,
            ..base
        },
        "hostile-summary" => base.summary(Some(HOSTILE_SUMMARY)),
        "storage-mode" => Scenario {
            refuse_launch: Some(Refusal::StorageMode),
            ..base
        },
        "not-connected" => Scenario {
            refuse_launch: Some(Refusal::RepositoryNotAccessible),
            ..base
        },
        _ => return None,
    })
}

/// A one-step scenario: the label, the agent, the comment; the whole of
/// what a maintainer sees. An unknown name ends 2 with the names there are.
pub(super) fn single(scenario_name: &str, v0: bool, bold: bool) -> anyhow::Result<u8> {
    let Some(scenario) = scenario(scenario_name) else {
        errln!(
            "error: unknown scenario {scenario_name:?}; use one of {}",
            with_multi_step(SCENARIOS)
        );
        return Ok(2);
    };
    let v1 = match (v0, v1_scenario(scenario_name)) {
        (true, _) => None,
        (false, Some(s)) => Some(s),
        (false, None) => {
            errln!(
                "error: the scenario {scenario_name:?} is shown on the v0 API only; add --api v0, or use one of {}",
                with_multi_step(V1_SCENARIOS)
            );
            return Ok(2);
        }
    };
    let api = if v1.is_some() { "v1" } else { "v0" };
    on_runtime(async {
        let clock = Clock::scaled(DEMO_SCALE);
        let sims = Simulators::start(clock)
            .await
            .context("cannot start the simulators on loopback")?;
        sims.github.set_permission("Codertocat", "admin");
        sims.cursor.set_default_scenario(scenario);
        if let Some(v1) = v1 {
            sims.cursor.v1().set_scenario(v1);
        }
        let dir = TempDir::new().context("cannot create a temporary directory")?;
        let event = dir.path().join("event.json");
        let outputs = dir.path().join("output.txt");
        let summary = dir.path().join("summary.md");
        std::fs::write(&event, EVENT).context("cannot write the event payload")?;
        let path = |p: &std::path::Path| p.display().to_string();
        let env = Env::from_pairs([
            ("GITHUB_REPOSITORY", "Codertocat/Hello-World".to_string()),
            ("GITHUB_EVENT_NAME", "issues".into()),
            ("GITHUB_EVENT_PATH", path(&event)),
            ("GITHUB_REF", "refs/heads/master".into()),
            ("GITHUB_RUN_ID", "4242".into()),
            ("GITHUB_RUN_ATTEMPT", "1".into()),
            ("GITHUB_JOB", "agent".into()),
            ("GITHUB_API_URL", sims.github_url()),
            ("GITHUB_OUTPUT", path(&outputs)),
            ("GITHUB_STEP_SUMMARY", path(&summary)),
            ("GITHUB_WORKSPACE", path(dir.path())),
            (
                "INPUT_CURSOR-API-KEY",
                "crsr_demo_0000000000000000000000".into(),
            ),
            ("INPUT_GITHUB-TOKEN", "ghs_demo_00000000000000000000".into()),
            ("INPUT_API-URL", sims.cursor_url()),
            ("INPUT_API-VERSION", api.into()),
            ("INPUT_LABEL", "bug".into()),
            ("INPUT_TRIGGER-PHRASE", "/cursor".into()),
        ]);
        outln!(
            "A maintainer adds the label \"bug\" to issue #1 of Codertocat/Hello-World (GitHub's example payload).\n\
             The action runs against local simulators of the Cursor and GitHub APIs; simulated time runs {DEMO_SCALE}× faster.\n\
             Cursor API: {api}{}. Scenario: {scenario_name} (others: {}).",
            if api == "v1" {
                " (its run followed live over the stream; --api v0 for the legacy API)"
            } else {
                ""
            },
            if api == "v1" {
                with_multi_step(V1_SCENARIOS)
            } else {
                with_multi_step(SCENARIOS)
            }
        );
        heading("The step's log", bold);
        let console = Arc::new(Console::stdout(ConsoleMode::Plain, false));
        let _log = tracing::subscriber::set_default(logging::subscriber(console.clone()));
        let runtime = Runtime {
            io: ActionsIo::from_env(&env, console.clone()),
            env,
            clock,
            cancel: Cancel::new(),
        };
        let code = run_action(&runtime).await;
        outln!("(exit status {code})");
        // What follows holds the agent's text too: through the console, so a
        // line of it cannot act as a workflow command when the demo runs in
        // a workflow (the hostile-summary scenario shows the `»` it gets).
        let show = |text: &str| console.info(text);

        heading("Step outputs (GITHUB_OUTPUT)", bold);
        match std::fs::read_to_string(&outputs)
            .map_err(|e| e.to_string())
            .and_then(|t| parse_outputs(&t))
        {
            Ok(pairs) => {
                // Later writes win, as on the runner.
                let mut seen: Vec<(String, String)> = Vec::new();
                for (k, v) in pairs {
                    seen.retain(|(n, _)| *n != k);
                    seen.push((k, v));
                }
                for (k, v) in seen {
                    if v.contains('\n') {
                        show(&format!("{k}:"));
                        for line in v.lines() {
                            show(&format!("    {line}"));
                        }
                    } else {
                        show(&format!("{k}: {v}"));
                    }
                }
            }
            Err(e) => show(&format!("(none: {e})")),
        }
        heading("Step summary (GITHUB_STEP_SUMMARY)", bold);
        show(
            std::fs::read_to_string(&summary)
                .unwrap_or_default()
                .trim_end(),
        );
        heading("The comment as it changed (each write)", bold);
        let started_ms = sims.github.requests().first().map_or(0, |r| r.at_ms);
        let writes: Vec<(u64, String)> = sims
            .github
            .requests()
            .into_iter()
            .filter(|r| {
                r.status / 100 == 2
                    && ((r.method == "POST" && r.path.ends_with("/issues/1/comments"))
                        || (matches!(r.method.as_str(), "POST" | "PATCH")
                            && r.path.contains("/issues/comments/")
                            && !r.path.ends_with("/reactions")))
            })
            .filter_map(|r| {
                let v: serde_json::Value = serde_json::from_str(&r.body).ok()?;
                Some((r.at_ms, v["body"].as_str()?.to_string()))
            })
            .collect();
        for (n, (at, body)) in writes.iter().enumerate() {
            let kind = if n == 0 { "posted" } else { "edited" };
            show(&format!(
                "#{} {kind} at +{}s (simulated):",
                n + 1,
                at.saturating_sub(started_ms) / 1000
            ));
            // The heading, the status and the activity: what changes.
            for line in body.lines().filter(|l| {
                l.starts_with("### ")
                    || l.starts_with("> ")
                    || l.starts_with("- ")
                    || l.contains("status `")
            }) {
                let line = match line.find(" · status `") {
                    Some(i) => &line[i + 3..],
                    None => line,
                };
                show(&format!("    {line}"));
            }
        }
        // One working write in full, as GitHub receives it: the earliest with
        // the most activity lines (timing jitter cannot change which one, as
        // the demo's events are seconds apart). docs/images/ is drawn from it.
        if let Some((_, body)) = writes
            .split_last()
            .map(|(_, working)| working)
            .and_then(|w| w.iter().rev().max_by_key(|(_, b)| activity_lines(b)))
        {
            heading(WORKING_COMMENT, bold);
            show(body.trim_end());
        }
        heading("The comment on issue #1", bold);
        let comments = sims.github.comments("Codertocat/Hello-World", 1);
        match comments.last() {
            Some(c) => show(c.body.trim_end()),
            None => show("(no comment)"),
        }
        let reactions: Vec<String> = sims
            .github
            .reactions()
            .iter()
            .map(|r| r.content.clone())
            .collect();
        heading("Requests the simulators received", bold);
        for (name, log) in [
            ("Cursor", sims.cursor.requests()),
            ("GitHub", sims.github.requests()),
        ] {
            let mut counts: Vec<(String, usize)> = Vec::new();
            for r in log {
                let path = r
                    .path
                    .split('/')
                    .map(|s| {
                        if s.starts_with("bc-") || s.starts_with("run-") || s.parse::<u64>().is_ok()
                        {
                            "{id}"
                        } else {
                            s
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                let key = format!("{} {path}", r.method);
                match counts.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((key, 1)),
                }
            }
            for (k, n) in counts {
                outln!("{name}: {k} ×{n}");
            }
        }
        outln!(
            "Reactions on the issue: {}",
            if reactions.is_empty() {
                "none".into()
            } else {
                reactions.join(", ")
            }
        );
        Ok(code)
    })
}
