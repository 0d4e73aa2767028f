//! The Cursor Cloud Agents API (v0): typed models, the client, and errors.

mod client;
mod error;
pub mod models;
pub(crate) mod transport;
pub mod v1;

pub use client::{AuthScheme, CursorClient, Timeouts};
pub use error::{CursorError, Endpoint, ErrorBody, ErrorClass, one_line, parse_retry_after};
pub use models::*;
