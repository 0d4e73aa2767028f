//! The request log every simulator keeps (`GET /_sim/requests`): what came
//! in, what went out, which fault was injected, and when.

use crate::faults::Fault;
use crate::server::{Reply, Request};
use kit::clock::Moment;
use serde::{Deserialize, Serialize};

/// One request as a simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
    /// The status sent back; 0 when the connection was dropped or stalled.
    pub status: u16,
    /// The injected fault, if any.
    pub fault: Option<String>,
    /// When it arrived, in the simulator's clock (milliseconds from start).
    pub at_ms: u64,
    /// The same, in microseconds.
    pub at_us: u64,
}

pub(crate) fn log_entry(
    request: &Request,
    reply: &Reply,
    fault: Option<&Fault>,
    at: Moment,
) -> LoggedRequest {
    LoggedRequest {
        at_ms: at.since_start().as_millis() as u64,
        at_us: at.since_start().as_micros() as u64,
        method: request.method.to_string(),
        path: request.path.clone(),
        query: request.raw_query.clone(),
        body: String::from_utf8_lossy(&request.body).into_owned(),
        status: reply.status(),
        fault: fault.map(|f| format!("{f:?}")),
    }
}
