//! Fixing failing CI (issue 26): the parts that do not depend on the flow.
//! [`evidence`] turns a job's log (read as a stream) into a small, exact
//! excerpt; [`fingerprint`] names a failure so that the same failure after a
//! fix is recognized; [`gather`] reads a run's failed jobs, their
//! annotations and logs from GitHub into [`gather::Evidence`]; [`prompt`]
//! renders it for the agent and the comment within the caps of `caps`.

mod caps;
mod comment;
pub mod evidence;
pub mod fingerprint;
pub mod gather;
mod lines;
mod lookup;
pub mod policy;
pub mod prompt;
pub mod run;
