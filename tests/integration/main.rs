//! One integration-test binary (as ripgrep and just do): each module is an
//! area of behaviour, and one line below says what belongs in it. A new test
//! goes in the module whose line names its promise; where two fit, the one
//! that names the narrower area. Setup comes from `support` (the simulators,
//! `test(&s, event, payload)`, `labeled`, `.api(api)`, `.run_in_process()`),
//! never a module's own copy: a test on v0 and v1 loops over `APIS`.
//!
//! Reading order, narrowest first: a unit of the library (client, parser,
//! renderer) against a fake; the whole action in this process against the
//! simulators in virtual time; the compiled binary as a process; the action
//! as a workflow runs it; the repository's own files.

// == The library's parts, one at a time ==
// Every fixture event's repository, ref, issue number and prompt context.
mod context;

// Input parsing: names, defaults, every rejection, the one error listing all.
mod inputs;

// The v0 Cursor client against a loopback fake: endpoints, auth, errors.
mod cursor_client;

// The v1 Cursor client against a loopback fake: request shapes, error codes.
mod v1_client;

// The v1 run stream's SSE parser, on the recorded streams and every split.
mod v1_stream;

// Live activity from a v1 stream: the accumulator, its text, the edit throttle.
mod activity;

// Artifacts listed and downloaded (v0 and v1): paths, sizes, links, limits.
mod artifacts;

// Usage and cost of a v1 run read from the simulator, and their absence.
mod usage;

// The `max-launches-per-issue` count and decision, through the marker trust rule.
mod launch_cap;

// Text from the Cursor API rendered harmless in the comment and summary.
mod untrusted;

// Whole waits (v0) against the simulator: every end, fault, deadline, cancel.
mod wait;

// Fixing failing CI, its groundwork: a run's jobs, annotations and logs read
// from the GitHub simulator; evidence excerpts, fingerprints, request counts.
mod fix_ci;

// == The whole action in this process, against the simulators in virtual time ==
// Who may trigger, for every event; `label`, `trigger-phrase`, dry runs.
mod gate;

// The action tried as an attacker with read, triage or no access would.
mod attacks;

// The live comment: one per trigger, finalized, re-runs reattach, follow-ups.
mod reporting;

// Fixing failing CI end to end (`fix-ci`, v0 and v1): which pull request,
// who, forks, bots, the loop guard from the signed marker, `reason`.
mod fix_ci_flow;

// Promises at the edges: cancel at any moment, always final, one identity.
mod edges;

// Fail safe: the fault matrix over every Cursor and GitHub call (v0 and v1).
mod hardening;

// The action on v1: create shape, stream followed to the end, follow-up runs.
mod v1_flow;

// v1 errors a user can act on, through the whole run to the `::error::` line.
mod v1_errors;

// `archive-when-done` (v1): archive at the end, unarchive on a follow-up.
mod v1_archive;

// v1 activity, usage and artifacts through the whole action.
mod activity_flow;

// Pull requests on v0: the agent's branch, and a lost launch found by PR URL.
mod pr_branch;

// A fixed `branch-name` never adopts another night's agent (v0).
mod fixed_branch;

// Scheduled jobs over several nights (v0 and v1): one pull request per job.
mod nightly;

// Detached runs and `sweep: true` (v0 and v1): the comment finalized later.
mod sweep;

// == The simulators through the action's own clients (the simulators' own
// tests are in crates/sim/tests/) ==
// The GitHub simulator behaves as the real API, via the action's octocrab client.
mod simulator;

// The linked world: pull requests and branches the agents create on GitHub.
mod sim_world;

// == The compiled binary as a process ==
// The binary against a loopback fake: the request, outputs, summary, `--help`.
mod launch;

// The binary against both simulators for every event; signals; time scaled.
mod e2e;

// `cursor-agent-action demo`: the log, outputs, summary and comment it shows.
mod demo;

// `cursor-agent-action simulator` as a user runs it, and proxies from the env.
mod standalone;

// https verified against the system store, loaded at the first handshake.
mod tls;

// == The action as a workflow runs it, and what a user downloads ==
// action.yml through `act`, installing the binary from a local release.
mod act;

// scripts/install.sh: the right asset, checksums, retries, the source build.
mod install;

// The release archive, run through `act` and under qemu (feature `rehearsal`).
#[cfg(feature = "rehearsal")]
mod rehearsal;

// == The repository's own files ==
// action.yml, the inputs table and the README agree; workflows lint clean.
mod action;

// The docs' links, anchors, workflows and pictures stay true.
mod docs;

// The example workflows never both answer one event.
mod examples;

// The pictures of the comment: which demo comments, their HTML (used by docs).
mod pictures;

// Shared setup: the builder, the simulators, fixtures, common inspections.
mod support;
