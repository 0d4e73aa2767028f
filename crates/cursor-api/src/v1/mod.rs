//! The Cursor Cloud Agents API v1: durable agents and per-prompt runs,
//! followed over a run-scoped SSE stream (`cursor-api.md` §8).

mod client;
mod error;
pub mod models;
pub mod sse;

pub use client::RunStream;
pub use client::V1Client;
pub use error::{KNOWN_CODES, V1Body, V1Endpoint, V1Error};
pub use models::*;
