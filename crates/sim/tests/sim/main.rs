//! The simulators' own tests, one binary: each module is one simulator,
//! driven through the cursor-api client or raw HTTP.

/// The Cursor v0 simulator: auth, strict validation, lifecycle, listing, faults, control API.
mod cursor_v0;
/// The Cursor v1 simulator: validation, idempotent creation, runs, cancel, usage, artifacts, archive.
mod cursor_v1;
/// The few helpers both share (key, HTTP client, a v0 client).
mod support;
