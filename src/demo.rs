//! `cursor-agent-action demo`: the whole flow on a real event (a label added
//! to an issue) against both simulators in this process, with time
//! compressed, printing what a maintainer would see. No key, no network.
//!
//! `cursor-agent-action simulator`: both simulators as a standalone server,
//! for trying a workflow locally (`api-url`, `GITHUB_API_URL`).

use crate::app::run_action;
use crate::logging;
use crate::runner::{ActionsIo, Console, ConsoleMode, parse_outputs};
use crate::runtime::Runtime;
use crate::stdio::{errln, outln};
use anyhow::Context as _;
use kit::cancel::Cancel;
use kit::clock::Clock;
use kit::env::Env;
use sim::{
    CursorSimConfig, EndStatus, GitHubSimConfig, HOSTILE_SUMMARY, Refusal, Scenario, Simulators,
    V1Scenario,
};
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

mod fix_ci;
mod nightly;
pub use fix_ci::FIX_CI;
pub use nightly::NIGHTLY;

/// The event the demo replays: GitHub's own example payload.
const EVENT: &str = include_str!("../tests/fixtures/github-events/issues.labeled.json");
/// Minutes of simulated time per second of the demo.
const DEMO_SCALE: u32 = 60;

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

/// `scenarios` and the two multi-step ones, as a list a person reads (the
/// errors and the header name the same scenarios `demo --help` does).
fn with_multi_step(scenarios: &[&str]) -> String {
    let mut all = scenarios.to_vec();
    all.extend([DETACHED, NIGHTLY, FIX_CI]);
    all.join(", ")
}

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

/// A directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        let name = format!(
            "cursor-agent-action-demo-{}-{}",
            std::process::id(),
            crate::runner::escape::random_token()
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `body` on a single-threaded runtime.
fn on_runtime<F: std::future::Future<Output = anyhow::Result<u8>>>(body: F) -> anyhow::Result<u8> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(body)
}

fn heading(title: &str, bold: bool) {
    if bold {
        outln!("\n\x1b[1m━━ {title} ━━\x1b[0m");
    } else {
        outln!("\n━━ {title} ━━");
    }
}

/// Runs the demo; returns the action's exit status. `bold` styles the
/// headings (for a terminal).
pub fn demo(scenario_name: &str, v0: bool, bold: bool) -> anyhow::Result<u8> {
    if scenario_name == DETACHED {
        return detached(v0, bold);
    }
    if scenario_name == NIGHTLY {
        return nightly::nightly(v0, bold);
    }
    if scenario_name == FIX_CI {
        return fix_ci::fix_ci(v0, bold);
    }
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

/// The scenario of a detached run finalized by a later sweep.
pub const DETACHED: &str = "detached";

/// `demo --scenario detached`: the launch with `wait: false` (the job ends),
/// the agent finishing in Cursor meanwhile, and a later `sweep: true` step
/// finalizing the comment.
fn detached(v0: bool, bold: bool) -> anyhow::Result<u8> {
    let api = if v0 { "v0" } else { "v1" };
    on_runtime(async {
        let clock = Clock::scaled(DEMO_SCALE);
        let sims = Simulators::start(clock)
            .await
            .context("cannot start the simulators on loopback")?;
        sims.github.set_permission("Codertocat", "admin");
        sims.cursor.set_default_scenario(Scenario::lasting(20, 150));
        sims.cursor.v1().set_scenario(V1Scenario::lasting(20, 150));
        let dir = TempDir::new().context("cannot create a temporary directory")?;
        let event = dir.path().join("event.json");
        std::fs::write(&event, EVENT).context("cannot write the event payload")?;
        let dispatch = dir.path().join("dispatch.json");
        std::fs::write(
            &dispatch,
            include_str!("../tests/fixtures/github-events/workflow_dispatch.json"),
        )
        .context("cannot write the event payload")?;
        let console = Arc::new(Console::stdout(ConsoleMode::Plain, false));
        let _log = tracing::subscriber::set_default(logging::subscriber(console.clone()));
        let steps = DemoSteps {
            sims: &sims,
            dir: dir.path(),
            api,
            console: &console,
            clock,
        };
        let step = |name: &str,
                    event_name: &str,
                    event: &std::path::Path,
                    run: &str,
                    extra: &[(&str, &str)]| {
            steps.runtime(name, event_name, event, run, extra)
        };
        let show = |text: &str| console.info(text);
        let comment = || {
            sims.github
                .comments("Codertocat/Hello-World", 1)
                .last()
                .map(|c| c.body.trim_end().to_string())
                .unwrap_or_else(|| "(no comment)".into())
        };
        outln!(
            "A maintainer adds the label \"bug\" to issue #1 of Codertocat/Hello-World; the workflow launches\n\
             the agent with `wait: false` and the job ends. Later, a sweep step (`sweep: true`, run by the\n\
             agent's pull request or an hourly schedule) finalizes the comment. Cursor API: {api}; simulated\n\
             time runs {DEMO_SCALE}× faster."
        );
        heading("1. The launch (wait: false): the step's log", bold);
        let launch = step(
            "agent",
            "issues",
            &event,
            "4242",
            &[("INPUT_LABEL", "bug"), ("INPUT_WAIT", "false")],
        );
        let code = run_action(&launch).await;
        outln!("(exit status {code}; the job ends, no runner waits)");
        heading("The comment while the agent works", bold);
        show(&comment());
        heading("2. Meanwhile the agent works in Cursor…", bold);
        clock.sleep(std::time::Duration::from_secs(200)).await;
        outln!("(the agent has finished; nothing has updated the comment yet)");
        heading("3. The sweep (sweep: true): the step's log", bold);
        let sweep = step(
            "sweep",
            "workflow_dispatch",
            &dispatch,
            "4243",
            &[("INPUT_SWEEP", "true")],
        );
        let code = run_action(&sweep).await;
        outln!("(exit status {code})");
        heading("The sweep's outputs and step summary", bold);
        let outputs = std::fs::read_to_string(dir.path().join("sweep-output.txt"))
            .map_err(|e| e.to_string())
            .and_then(|t| parse_outputs(&t));
        match outputs {
            Ok(pairs) => {
                for (k, v) in pairs {
                    show(&format!("{k}: {v}"));
                }
            }
            Err(e) => show(&format!("(none: {e})")),
        }
        show(
            std::fs::read_to_string(dir.path().join("sweep-summary.md"))
                .unwrap_or_default()
                .trim_end(),
        );
        heading("The comment on issue #1, final", bold);
        show(&comment());
        let reactions: Vec<String> = sims
            .github
            .reactions()
            .iter()
            .map(|r| r.content.clone())
            .collect();
        outln!("Reactions on the issue: {}", reactions.join(", "));
        Ok(code)
    })
}

/// The steps of a multi-step demo (detached, nightly): each a runner
/// environment of its own on the same simulators and clock.
struct DemoSteps<'a> {
    sims: &'a Simulators,
    dir: &'a std::path::Path,
    api: &'a str,
    console: &'a Arc<Console>,
    clock: Clock,
}

impl DemoSteps<'_> {
    /// Where step `name` writes its outputs.
    fn outputs(&self, name: &str) -> std::path::PathBuf {
        self.dir.join(format!("{name}-output.txt"))
    }

    /// Step `name` (its job, and the name of its output and summary files)
    /// of run `run` on `event_name`; `extra` adds or overrides variables.
    fn runtime(
        &self,
        name: &str,
        event_name: &str,
        event: &std::path::Path,
        run: &str,
        extra: &[(&str, &str)],
    ) -> Runtime {
        let path = |p: &std::path::Path| p.display().to_string();
        let mut pairs = vec![
            (
                "GITHUB_REPOSITORY".to_string(),
                "Codertocat/Hello-World".to_string(),
            ),
            ("GITHUB_EVENT_NAME".into(), event_name.into()),
            ("GITHUB_EVENT_PATH".into(), path(event)),
            ("GITHUB_REF".into(), "refs/heads/master".into()),
            ("GITHUB_RUN_ID".into(), run.into()),
            ("GITHUB_RUN_ATTEMPT".into(), "1".into()),
            ("GITHUB_JOB".into(), name.into()),
            ("GITHUB_API_URL".into(), self.sims.github_url()),
            ("GITHUB_OUTPUT".into(), path(&self.outputs(name))),
            (
                "GITHUB_STEP_SUMMARY".into(),
                path(&self.dir.join(format!("{name}-summary.md"))),
            ),
            ("GITHUB_WORKSPACE".into(), path(self.dir)),
            (
                "INPUT_CURSOR-API-KEY".into(),
                "crsr_demo_0000000000000000000000".into(),
            ),
            (
                "INPUT_GITHUB-TOKEN".into(),
                "ghs_demo_00000000000000000000".into(),
            ),
            ("INPUT_API-URL".into(), self.sims.cursor_url()),
            ("INPUT_API-VERSION".into(), self.api.into()),
        ];
        // Later pairs win.
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Runtime {
            io: ActionsIo::from_env(&Env::from_pairs(pairs.clone()), self.console.clone()),
            env: Env::from_pairs(pairs),
            clock: self.clock,
            cancel: Cancel::new(),
        }
    }
}

/// Options of `cursor-agent-action simulator`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorOptions {
    pub cursor_port: u16,
    pub github_port: u16,
    pub time_scale: u32,
    pub keys: Vec<String>,
    pub token: Option<String>,
    /// Logins given write permission on every repository.
    pub writers: Vec<String>,
}

impl Default for SimulatorOptions {
    fn default() -> Self {
        Self {
            cursor_port: 0,
            github_port: 0,
            time_scale: 1,
            keys: Vec::new(),
            token: None,
            writers: Vec::new(),
        }
    }
}

/// Runs both simulators until Ctrl-C.
pub fn simulator(options: SimulatorOptions) -> anyhow::Result<u8> {
    on_runtime(async {
        let clock = Clock::scaled(options.time_scale);
        let addr = |port| SocketAddr::from(([127, 0, 0, 1], port));
        let cursor_config = CursorSimConfig {
            keys: (!options.keys.is_empty()).then(|| options.keys.clone()),
            object_errors: false,
        };
        let github_config = GitHubSimConfig {
            token: options.token.clone(),
            ..Default::default()
        };
        let sims = Simulators::start_on(
            addr(options.cursor_port),
            addr(options.github_port),
            clock,
            cursor_config,
            github_config,
        )
        .await
        .context("cannot listen")?;
        // Agents push their branches and open their pull requests on the
        // GitHub port, as they would on GitHub.
        sims.link_repos();
        for login in &options.writers {
            sims.github.set_permission(login, "write");
        }
        // Listen before announcing: a user (or a test) may press Ctrl-C at once.
        let cancel = Cancel::new();
        cancel
            .listen_for_signals()
            .context("cannot listen for Ctrl-C")?;
        let mut out = std::io::stdout().lock();
        // Writes may fail (a closed pipe): the servers run on regardless.
        let _ = writeln!(
            out,
            "Cursor API simulator: {}   (the action's `api-url` input)",
            sims.cursor_url()
        );
        let _ = writeln!(
            out,
            "GitHub API simulator: {}   (GITHUB_API_URL)",
            sims.github_url()
        );
        let _ = writeln!(
            out,
            "API keys: {}. Time runs {}× faster.",
            if options.keys.is_empty() {
                "any".to_string()
            } else {
                options.keys.join(", ")
            },
            options.time_scale
        );
        let _ = writeln!(
            out,
            "Users with write permission: {}; others can read only (grant more with POST /_sim/permissions on the GitHub port).",
            if options.writers.is_empty() {
                "none".to_string()
            } else {
                options.writers.join(", ")
            }
        );
        let _ = writeln!(
            out,
            "Control, Cursor port: POST /_sim/scenarios, POST /_sim/faults, POST /_sim/reset, GET /_sim/requests, GET /_sim/agents."
        );
        let _ = writeln!(
            out,
            "Control, GitHub port: POST /_sim/permissions, POST /_sim/read-only, POST /_sim/faults, GET /_sim/requests, GET /_sim/comments?repo=owner/name&issue=N."
        );
        let _ = writeln!(out, "Press Ctrl-C to stop.");
        let _ = out.flush();
        drop(out);
        cancel.cancelled().await;
        Ok(0)
    })
}
