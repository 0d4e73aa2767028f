//! `demo --scenario fix-ci`: fixing failing CI on a pull request, on the
//! linked simulators. CI fails on pull request #100; the action reads the
//! failed job's evidence and an agent fixes the pull request (attempt 1);
//! CI passes, which resets the count; a later push fails differently and
//! the same agent gets it (attempt 1 again, a follow-up); the agent's push
//! fails the same way, and the fingerprint stops the loop.

use super::harness::{DEMO_SCALE, DemoSteps, TempDir, heading, on_runtime};
use crate::app::run_action;
use crate::logging;
use crate::runner::{Console, ConsoleMode, parse_outputs};
use crate::stdio::outln;
use anyhow::Context as _;
use kit::clock::Clock;
use sim::{GhUser, SimJob, SimRun};
use sim::{Scenario, Simulators, V1Scenario};
use std::sync::Arc;

/// The scenario name.
pub const FIX_CI: &str = "fix-ci";

const REPO: &str = "Codertocat/Hello-World";
const BRANCH: &str = "add-totals";

const STEPS: &[(&str, &str)] = &[
    ("Set up job", "success"),
    ("Run actions/checkout@v4", "success"),
    ("Run cargo test", "failure"),
    ("Complete job", "success"),
];

fn log(error: &str) -> String {
    let stamp = "2026-12-07T10:00:00.0000000Z";
    [
        "##[group]Run actions/checkout@v4",
        "##[endgroup]",
        "##[group]Run cargo test",
        "##[endgroup]",
        "running 12 tests",
        &format!("##[error]{error}"),
        "test result: FAILED. 11 passed; 1 failed",
    ]
    .iter()
    .map(|l| format!("{stamp} {l}\n"))
    .collect()
}

/// A completed run of `CI` at the pull request's head; with `error`, one
/// failed job whose log ends in it. Returns the `workflow_run` payload.
fn ci_run(sims: &Simulators, error: Option<&str>) -> String {
    let sha = sims
        .github
        .branch(REPO, BRANCH)
        .map(|b| b.0)
        .unwrap_or_default();
    let conclusion = if error.is_some() {
        "failure"
    } else {
        "success"
    };
    let id = sims.github.add_run(SimRun {
        repo: REPO.into(),
        name: "CI".into(),
        path: ".github/workflows/ci.yml".into(),
        head_sha: sha.clone(),
        head_branch: BRANCH.into(),
        head_repo: REPO.into(),
        event: "pull_request".into(),
        conclusion: Some(conclusion.into()),
        run_attempt: 1,
        actor: GhUser::user("Codertocat", 21031067),
    });
    if let Some(error) = error {
        let job = sims.github.add_job(REPO, id, 1, SimJob::new("test", STEPS));
        sims.github.set_job_log(job, log(error));
    }
    let user = serde_json::json!({"login": "Codertocat", "id": 21031067, "type": "User"});
    serde_json::json!({
        "action": "completed",
        "workflow_run": {
            "id": id, "name": "CI", "path": ".github/workflows/ci.yml", "conclusion": conclusion,
            "head_sha": sha, "head_branch": BRANCH, "event": "pull_request", "run_attempt": 1,
            "pull_requests": [], "head_repository": {"full_name": REPO},
            "actor": user, "triggering_actor": user
        },
        "repository": {"full_name": REPO, "default_branch": "main"},
        "sender": user
    })
    .to_string()
}

pub(super) fn fix_ci(v0: bool, bold: bool) -> anyhow::Result<u8> {
    let api = if v0 { "v0" } else { "v1" };
    on_runtime(async {
        let clock = Clock::scaled(DEMO_SCALE);
        let sims = Simulators::start(clock)
            .await
            .context("cannot start the simulators on loopback")?;
        sims.link_repos();
        sims.github.set_permission("Codertocat", "admin");
        let summary = "Fixed the rounding in `totals()`; the failing test passes.";
        sims.cursor
            .set_default_scenario(Scenario::lasting(20, 150).summary(Some(summary)));
        sims.cursor.v1().set_scenario(V1Scenario {
            result_text: summary.into(),
            ..V1Scenario::lasting(20, 150)
        });
        let pr = sims.github.open_pull(
            REPO,
            BRANCH,
            "main",
            "Add totals",
            GhUser::user("Codertocat", 21031067),
        );
        let dir = TempDir::new().context("cannot create a temporary directory")?;
        let console = Arc::new(Console::stdout(ConsoleMode::Plain, false));
        let _log = tracing::subscriber::set_default(logging::subscriber(console.clone()));
        let steps = DemoSteps {
            sims: &sims,
            dir: dir.path(),
            api,
            console: &console,
            clock,
        };
        outln!(
            "Pull request #{pr} of {REPO} runs the workflow CI. A workflow on `workflow_run` runs the action with\n\
             `fix-ci: true` after every run of CI. The agents push to a simulated GitHub. Cursor API: {api};\n\
             simulated time runs {DEMO_SCALE}× faster."
        );
        let wrong = "assertion `left == right` failed: totals() left: 10.999 right: 11.0";
        let other = "error[E0425]: cannot find value `rate` in this scope";
        let runs: [(&str, Option<&str>); 4] = [
            ("CI fails on the pull request", Some(wrong)),
            ("The agent's fix makes CI pass", None),
            ("A later push fails differently", Some(other)),
            ("The agent's push fails the same way", Some(other)),
        ];
        let mut code = 0;
        for (n, (title, error)) in runs.iter().enumerate() {
            if n == 2 {
                sims.github.push(REPO, BRANCH, 1);
            }
            heading(&format!("{}. {title}: the step's log", n + 1), bold);
            let event = dir.path().join(format!("run-{n}.json"));
            std::fs::write(&event, ci_run(&sims, *error))
                .context("cannot write the event payload")?;
            let name = format!("fix-{}", n + 1);
            let runtime = steps.runtime(
                &name,
                "workflow_run",
                &event,
                &format!("{}", 8000 + n),
                &[("GITHUB_REF", "refs/heads/main"), ("INPUT_FIX-CI", "true")],
            );
            code = run_action(&runtime).await;
            outln!("(exit status {code})");
            if let Ok(pairs) = std::fs::read_to_string(steps.outputs(&name))
                .map_err(|e| e.to_string())
                .and_then(|t| parse_outputs(&t))
            {
                for key in ["outcome", "reason", "agent-id"] {
                    if let Some((k, v)) = pairs.iter().rev().find(|(k, _)| k == key) {
                        console.info(&format!("{k}: {v}"));
                    }
                }
            }
            if code != 0 {
                break;
            }
        }
        heading(&format!("The fix-CI comment on #{pr}, in the end"), bold);
        for c in sims.github.comments(REPO, pr) {
            console.info(c.body.trim_end());
            outln!("――");
        }
        Ok(code)
    })
}
