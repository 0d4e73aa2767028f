//! The Cursor Cloud Agents API v1: durable agents and per-prompt runs,
//! followed over a run-scoped SSE stream (`cursor-api.md` §8).

pub mod sse;
