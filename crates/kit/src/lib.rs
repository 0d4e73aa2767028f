//! Plumbing every layer of the action uses, and nothing of the action
//! itself: time, cancellation, the environment, timestamps, HTTP, and the
//! leaf text helpers (invisible characters, a stable hash), and secrets
//! (a value that never prints, the redactor).

pub mod cancel;
pub mod clock;
pub mod env;
pub mod http;
pub mod rfc3339;
pub mod secret;
pub mod text;
