//! What every scenario of the demo runs on: the event, the time scale, a
//! runtime, a temporary directory, headings, and each step's runner
//! environment.

use crate::runner::{ActionsIo, Console};
use crate::runtime::Runtime;
use crate::stdio::outln;
use anyhow::Context as _;
use kit::cancel::Cancel;
use kit::clock::Clock;
use kit::env::Env;
use sim::Simulators;
use std::sync::Arc;

/// The event the demo replays: GitHub's own example payload.
pub(super) const EVENT: &str =
    include_str!("../../tests/fixtures/github-events/issues.labeled.json");
/// Minutes of simulated time per second of the demo.
pub(super) const DEMO_SCALE: u32 = 60;

/// A directory removed when dropped.
pub(super) struct TempDir(std::path::PathBuf);

impl TempDir {
    pub(super) fn new() -> std::io::Result<Self> {
        let name = format!(
            "cursor-agent-action-demo-{}-{}",
            std::process::id(),
            crate::runner::escape::random_token()
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    pub(super) fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `body` on a single-threaded runtime.
pub(super) fn on_runtime<F: std::future::Future<Output = anyhow::Result<u8>>>(
    body: F,
) -> anyhow::Result<u8> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(body)
}

pub(super) fn heading(title: &str, bold: bool) {
    if bold {
        outln!("\n\x1b[1m━━ {title} ━━\x1b[0m");
    } else {
        outln!("\n━━ {title} ━━");
    }
}

/// The steps of a multi-step demo (detached, nightly): each a runner
/// environment of its own on the same simulators and clock.
pub(super) struct DemoSteps<'a> {
    pub(super) sims: &'a Simulators,
    pub(super) dir: &'a std::path::Path,
    pub(super) api: &'a str,
    pub(super) console: &'a Arc<Console>,
    pub(super) clock: Clock,
}

impl DemoSteps<'_> {
    /// Where step `name` writes its outputs.
    pub(super) fn outputs(&self, name: &str) -> std::path::PathBuf {
        self.dir.join(format!("{name}-output.txt"))
    }

    /// Step `name` (its job, and the name of its output and summary files)
    /// of run `run` on `event_name`; `extra` adds or overrides variables.
    pub(super) fn runtime(
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
