//! One integration-test binary (as ripgrep and just do): each module is an
//! area of behaviour.

mod act;
mod action;
mod activity;
mod activity_flow;
mod artifacts;
mod attacks;
mod context;
mod cursor_client;
mod demo;
mod docs;
mod e2e;
mod edges;
mod examples;
mod fixed_branch;
mod gate;
mod hardening;
mod inputs;
mod install;
mod launch;
mod launch_cap;
mod nightly;
mod pictures;
mod pr_branch;
#[cfg(feature = "rehearsal")]
mod rehearsal;
mod reporting;
mod sim_world;
mod simulator;
mod standalone;
mod support;
mod sweep;
mod tls;
mod untrusted;
mod usage;
mod v1_archive;
mod v1_client;
mod v1_errors;
mod v1_flow;
mod v1_stream;
mod wait;
