//! The Cursor Cloud Agents REST client, as octocrab is GitHub's: one
//! transport (auth, timeouts, TLS), the error shape and its classes, the
//! retry policy, the v0 API (client, models, the polling [`wait::Waiter`]) and
//! the v1 API ([`v1`]: client, models, errors, the SSE parser, and the stream
//! follower in [`wait::stream`]). It knows nothing of GitHub or the action: it
//! imports only the kit.

mod client;
mod error;
pub mod models;
pub mod retry;
mod transport;
pub mod v1;
pub mod wait;

pub use client::CursorClient;
pub use error::{
    ApiError, CursorError, Endpoint, ErrorBody, ErrorClass, one_line, parse_retry_after,
};
pub use models::*;
pub use transport::{AuthScheme, Client, Timeouts, Version};
