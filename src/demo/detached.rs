//! `demo --scenario detached`: a run that does not wait, finalized later
//! by a sweep.

use super::harness::{DEMO_SCALE, DemoSteps, EVENT, TempDir, heading, on_runtime};
use crate::app::run_action;
use crate::logging;
use crate::runner::{Console, ConsoleMode, parse_outputs};
use crate::stdio::outln;
use anyhow::Context as _;
use kit::clock::Clock;
use sim::{Scenario, Simulators, V1Scenario};
use std::sync::Arc;

/// The scenario of a detached run finalized by a later sweep.
pub const DETACHED: &str = "detached";

/// `demo --scenario detached`: the launch with `wait: false` (the job ends),
/// the agent finishing in Cursor meanwhile, and a later `sweep: true` step
/// finalizing the comment.
pub(super) fn detached(v0: bool, bold: bool) -> anyhow::Result<u8> {
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
            include_str!("../../tests/fixtures/github-events/workflow_dispatch.json"),
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
