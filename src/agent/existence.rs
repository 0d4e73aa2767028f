//! `existence`: the ONE place any path decides from a failed call that an agent is gone.

use super::ApiError;
use cursor_api::CursorError;
use cursor_api::v1::V1Error;
use std::time::Duration;

/// What a failed call says about whether an agent exists (see [`existence`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existence {
    /// Cursor says the agent (or the run a comment names) does not exist,
    /// in so many words; or the id cannot be an agent's. The text says how,
    /// for the report (`HTTP 404 agent_not_found`).
    Gone(String),
    /// A 404 or 410 that does not say so: a wrong `api-url`, a proxy, a
    /// route Cursor does not have. A failure, never "gone".
    Unexplained(String),
    /// Any other failure: it says nothing about the agent.
    Unknown,
}

/// THE rule for "is this agent gone", which every path asks (the sweep,
/// follow-ups on v0 and v1, a scheduled job's previous agent): only an
/// answer in which Cursor says the agent does not exist counts. v1: a 404
/// with `error.code` `agent_not_found` (or `run_not_found` for the run
/// read). v0: a 404 whose body is Cursor's "Agent not found" (as a
/// string or with that code), or a 409 "deleted or archived". A 404 or 410
/// without that (a wrong `api-url`, a proxy's page) is
/// [`Existence::Unexplained`].
///
/// v0 also answers "Agent not found" in an agent's first minute, so the
/// sweep, whose verdict is permanent, believes it only for an agent older
/// than [`GONE_MIN_AGE`] and only when a second read at least
/// [`GONE_CONFIRM_AFTER`] later says the same (see `crate::sweep`).
pub fn existence(e: &ApiError) -> Existence {
    let said = |status: u16, what: &str| format!("HTTP {status} {what}");
    match e {
        ApiError::V1(V1Error::InvalidId { .. }) | ApiError::V0(CursorError::InvalidId { .. }) => {
            Existence::Gone("not a valid agent id".into())
        }
        ApiError::V1(v1) => match (v1.status(), v1.code()) {
            (Some(404), Some(code @ ("agent_not_found" | "run_not_found"))) => {
                Existence::Gone(said(404, code))
            }
            (Some(status @ (404 | 410)), code) => Existence::Unexplained(said(
                status,
                // The client redacted the code when it parsed the body.
                &code.map_or("without an error code".to_string(), |c| {
                    cursor_api::one_line(&kit::secret::Redactor::default(), c, 40)
                }),
            )),
            _ => Existence::Unknown,
        },
        ApiError::V0(CursorError::Status { status, body, .. }) => {
            let says = |needle: &str| {
                [&body.message, &body.code].iter().any(|t| {
                    t.as_deref()
                        .is_some_and(|t| t.to_ascii_lowercase().contains(needle))
                })
            };
            match *status {
                404 if body.code.as_deref() == Some("agent_not_found")
                    || says("agent not found") =>
                {
                    Existence::Gone(said(404, "agent not found"))
                }
                409 if says("deleted") || says("archived") => {
                    Existence::Gone(said(409, "deleted or archived"))
                }
                status @ (404 | 410) => {
                    Existence::Unexplained(said(status, "without \"Agent not found\""))
                }
                _ => Existence::Unknown,
            }
        }
        ApiError::V0(_) => Existence::Unknown,
    }
}

/// The sweep never believes "gone" of an agent younger than this (v0
/// answers 404 in an agent's first minute).
pub const GONE_MIN_AGE: Duration = Duration::from_secs(5 * 60);
/// …and only when a second read at least this much later says it again.
pub const GONE_CONFIRM_AFTER: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;
    use cursor_api::v1::{V1Body, V1Endpoint};
    use cursor_api::{Endpoint, ErrorBody};

    fn v1(status: u16, body: &str) -> ApiError {
        ApiError::V1(V1Error::Status {
            endpoint: V1Endpoint::Agent,
            status,
            body: Box::new(V1Body::parse(&Default::default(), body.as_bytes())),
            retry_after: None,
        })
    }

    fn v0(status: u16, body: &str) -> ApiError {
        ApiError::V0(CursorError::Status {
            endpoint: Endpoint::Agent,
            status,
            body: ErrorBody::parse(&Default::default(), body.as_bytes()),
            retry_after: None,
        })
    }

    #[test]
    fn only_cursor_saying_so_makes_an_agent_gone() {
        let page = "<html><body><h1>404 Not Found</h1></body></html>";
        let gone = |e: &ApiError| matches!(existence(e), Existence::Gone(_));
        let unexplained = |e: &ApiError| matches!(existence(e), Existence::Unexplained(_));
        // Cursor's own answers (the shapes of cursor-api.md §3.4, §8.7).
        assert!(gone(&v1(
            404,
            r#"{"error":{"code":"agent_not_found","message":"Agent not found"}}"#
        )));
        assert!(gone(&v1(
            404,
            r#"{"error":{"code":"run_not_found","message":"Run not found"}}"#
        )));
        assert!(gone(&v0(
            404,
            r#"{"error":"Agent not found or access denied"}"#
        )));
        assert!(gone(&v0(
            404,
            r#"{"error":{"code":"agent_not_found","message":"x"}}"#
        )));
        assert!(gone(&v0(
            409,
            r#"{"error":"Conflict - agent is deleted or archived"}"#
        )));
        // Not Cursor's answer: a proxy, another server, a route Cursor lacks.
        for e in [
            v1(404, page),
            v1(
                404,
                r#"{"error":{"code":"not_found","message":"Not found"}}"#,
            ),
            v1(410, page),
            v0(404, page),
            v0(404, r#"{"error":"Not found"}"#),
            v0(410, ""),
        ] {
            assert!(unexplained(&e), "{e}");
        }
        // Anything else says nothing about the agent.
        assert_eq!(existence(&v1(500, page)), Existence::Unknown);
        assert_eq!(
            existence(&v0(403, r#"{"error":"Agent not found"}"#)),
            Existence::Unknown
        );
        assert_eq!(
            existence(&v1(
                409,
                r#"{"error":{"code":"agent_archived","message":"x"}}"#
            )),
            Existence::Unknown
        );
    }
}
