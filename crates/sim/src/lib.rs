//! Simulators of the Cursor API (v0 and v1) and of the GitHub REST calls the
//! action makes, with a fault model (errors, delays, dropped and stalled
//! connections per request) and a request log. They serve on loopback over
//! hyper and run on the kit's clock, so tests can run long agents in
//! seconds.
//!
//! They ship in the release binary on purpose: `cursor-agent-action demo`
//! and `cursor-agent-action simulator` (the README promises both; the
//! release rehearsal runs the packaged aarch64 binary's `demo`) start them,
//! so users can try a workflow without a key or network. The action's tests
//! use them as a dev path. They import the Cursor client's wire helpers and
//! the kit, never the action.

mod cursor;
mod cursor_v1;
mod faults;
mod github;
mod host;
mod log;
mod server;
mod simulators;

pub use cursor::{
    CursorSim, CursorSimConfig, EndStatus, HOSTILE_SUMMARY, Refusal, Scenario, SimArtifact,
};
pub use cursor_v1::{V1Scenario, V1Sim};
pub use faults::{Fault, FaultRule};
pub use github::{
    GhComment, GhPull, GhUser, GitHubSim, GitHubSimConfig, LOG_LINK_TTL, ReactionTarget,
    SimAnnotation, SimJob, SimRun, SimStep,
};
pub use host::RepoHost;
pub use log::LoggedRequest;
pub use simulators::Simulators;
