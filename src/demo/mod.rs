//! `cursor-agent-action demo`: the whole flow on a real event (a label added
//! to an issue) against both simulators in this process, with time
//! compressed, printing what a maintainer would see. No key, no network.
//!
//! `cursor-agent-action simulator`: both simulators as a standalone server,
//! for trying a workflow locally (`api-url`, `GITHUB_API_URL`).
//!
//! One file per scenario: `single` runs the one-step scenarios (a label,
//! the agent, the comment), each scenario of several steps has its own file
//! and a line in [`MULTI_STEP`]; `harness` is what they all run on.

mod detached;
mod fix_ci;
mod harness;
mod nightly;
mod simulator;
mod single;

pub use detached::DETACHED;
pub use fix_ci::FIX_CI;
pub use nightly::NIGHTLY;
pub use simulator::{SimulatorOptions, simulator};
pub use single::{SCENARIOS, V1_SCENARIOS, WORKING_COMMENT};

/// A scenario's run: `(v0, bold)` to the action's exit status.
type Run = fn(bool, bool) -> anyhow::Result<u8>;

/// The scenarios of several steps, in the order the demo names them: the
/// name `--scenario` takes, and the run. A new one is a file in this
/// directory and a line here (with its `mod` line above).
const MULTI_STEP: &[(&str, Run)] = &[
    (DETACHED, detached::detached),
    (NIGHTLY, nightly::nightly),
    (FIX_CI, fix_ci::fix_ci),
];

/// `scenarios` and the multi-step ones, as a list a person reads (the
/// errors and the header name the same scenarios `demo --help` does).
fn with_multi_step(scenarios: &[&str]) -> String {
    let mut all = scenarios.to_vec();
    all.extend(MULTI_STEP.iter().map(|(name, _)| *name));
    all.join(", ")
}

/// Runs the demo; returns the action's exit status. `bold` styles the
/// headings (for a terminal).
pub fn demo(scenario_name: &str, v0: bool, bold: bool) -> anyhow::Result<u8> {
    match MULTI_STEP.iter().find(|(name, _)| *name == scenario_name) {
        Some((_, run)) => run(v0, bold),
        None => single::single(scenario_name, v0, bold),
    }
}
