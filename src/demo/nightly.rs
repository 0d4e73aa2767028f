//! `demo --scenario nightly`: three nights of a scheduled docs job on the
//! linked simulators (agents push to the simulated GitHub and open real pull
//! requests there): night 1 opens a pull request, night 2 sends its prompt to
//! the same agent and updates that pull request, the maintainer merges it,
//! and night 3 starts a new one. The tracking issue keeps one comment per
//! pull request.

use super::harness::{DEMO_SCALE, DemoSteps, TempDir, heading, on_runtime};
use crate::app::run_action;
use crate::logging;
use crate::runner::{Console, ConsoleMode, parse_outputs};
use crate::stdio::outln;
use anyhow::Context as _;
use kit::clock::Clock;
use sim::{Scenario, Simulators, V1Scenario};
use std::sync::Arc;

/// The scenario name.
pub const NIGHTLY: &str = "nightly";

const REPO: &str = "Codertocat/Hello-World";
const TRACKING_ISSUE: u64 = 1;

pub(super) fn nightly(v0: bool, bold: bool) -> anyhow::Result<u8> {
    let api = if v0 { "v0" } else { "v1" };
    on_runtime(async {
        let clock = Clock::scaled(DEMO_SCALE);
        let sims = Simulators::start(clock)
            .await
            .context("cannot start the simulators on loopback")?;
        sims.link_repos();
        let summary = "Updated README.md and docs/usage.md to match the current options.";
        sims.cursor
            .set_default_scenario(Scenario::lasting(20, 150).summary(Some(summary)));
        sims.cursor.v1().set_scenario(V1Scenario {
            result_text: summary.into(),
            ..V1Scenario::lasting(20, 150)
        });
        let dir = TempDir::new().context("cannot create a temporary directory")?;
        let event = dir.path().join("schedule.json");
        std::fs::write(&event, r#"{"schedule": "17 3 * * *"}"#)
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
        let workflow = format!("{REPO}/.github/workflows/nightly-docs.yml@refs/heads/main");
        let tracking = TRACKING_ISSUE.to_string();
        let night = |n: u32| {
            let name = format!("night-{n}");
            let runtime = steps.runtime(
                &name,
                "schedule",
                &event,
                &format!("{}", 7000 + n),
                &[
                    ("GITHUB_REF", "refs/heads/main"),
                    ("GITHUB_WORKFLOW_REF", &workflow),
                    ("GITHUB_JOB", "docs"),
                    ("GITHUB_ACTION", "__run"),
                    (
                        "INPUT_PROMPT",
                        "Bring README.md and docs/ up to date with the code.",
                    ),
                    ("INPUT_ISSUE-NUMBER", &tracking),
                ],
            );
            (runtime, steps.outputs(&name))
        };
        let show = |text: &str| console.info(text);
        let pulls = || {
            let list: Vec<String> = sims
                .github
                .pulls(REPO)
                .iter()
                .map(|p| {
                    let state = match (p.open, p.merged) {
                        (true, _) => "open",
                        (false, true) => "merged",
                        (false, false) => "closed",
                    };
                    let ahead = sims
                        .github
                        .branch(REPO, &p.head)
                        .map(|(_, ahead)| format!(", {ahead} commit(s) ahead of main"))
                        .unwrap_or_default();
                    format!("  #{} {state}: branch {}{ahead}", p.number, p.head)
                })
                .collect();
            if list.is_empty() {
                "  (none)".to_string()
            } else {
                list.join("\n")
            }
        };
        outln!(
            "A scheduled job (`on: schedule`, .github/workflows/nightly-docs.yml, job `docs`) asks an agent every\n\
             night to refresh the docs of Codertocat/Hello-World and reports on tracking issue #{TRACKING_ISSUE}. The agents\n\
             push to a simulated GitHub and open real pull requests there. Cursor API: {api}; simulated time\n\
             runs {DEMO_SCALE}× faster."
        );
        let mut code = 0;
        for n in 1..=3u32 {
            if n == 3 {
                heading("The maintainer merges the pull request", bold);
                if let Some(p) = sims.github.pulls(REPO).iter().find(|p| p.open) {
                    sims.github.merge_pull(REPO, p.number);
                    outln!("(pull request #{} merged)", p.number);
                }
            }
            heading(&format!("Night {n}: the step's log"), bold);
            let (runtime, outputs) = night(n);
            code = run_action(&runtime).await;
            outln!("(exit status {code})");
            heading(&format!("Night {n}: outputs and pull requests"), bold);
            match std::fs::read_to_string(&outputs)
                .map_err(|e| e.to_string())
                .and_then(|t| parse_outputs(&t))
            {
                Ok(pairs) => {
                    for name in ["outcome", "agent-id", "pr-url", "changes"] {
                        // Later writes win, as on the runner.
                        if let Some((k, v)) = pairs.iter().rev().find(|(k, _)| k == name) {
                            show(&format!("{k}: {v}"));
                        }
                    }
                }
                Err(e) => show(&format!("(no outputs: {e})")),
            }
            outln!("Pull requests:\n{}", pulls());
            if code != 0 {
                break;
            }
        }
        heading(
            &format!("The comments on tracking issue #{TRACKING_ISSUE}"),
            bold,
        );
        for c in sims.github.comments(REPO, TRACKING_ISSUE) {
            show(c.body.trim_end());
            outln!("――");
        }
        Ok(code)
    })
}
