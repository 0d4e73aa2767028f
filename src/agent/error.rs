//! A failed Cursor call of either version, and why a retried read gave up.

use cursor_api::retry::GaveUp;
use cursor_api::v1::V1Error;
use cursor_api::{CursorError, ErrorClass};
use std::fmt;

/// A failed Cursor call, of either version.
#[derive(Debug, Clone)]
pub enum ApiError {
    V0(CursorError),
    V1(V1Error),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::V0(e) => e.fmt(f),
            ApiError::V1(e) => e.fmt(f),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::V0(e) => e.status(),
            ApiError::V1(e) => e.status(),
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            ApiError::V0(e) => e.class(),
            ApiError::V1(e) => e.class(),
        }
    }

    pub fn maybe_applied(&self) -> bool {
        match self {
            ApiError::V0(e) => e.maybe_applied(),
            ApiError::V1(e) => e.maybe_applied(),
        }
    }

    /// The failure in v0 terms (for the transport checks both share).
    pub fn as_v0(&self) -> CursorError {
        match self {
            ApiError::V0(e) => e.clone(),
            ApiError::V1(e) => e.as_v0(),
        }
    }

    /// A connection that failed before the request was sent: what the
    /// transport said (for naming a proxy instead of the API).
    pub fn unsent_transport_message(&self) -> Option<String> {
        match self.as_v0() {
            CursorError::Transport {
                maybe_sent: false,
                message,
                ..
            } => Some(message),
            _ => None,
        }
    }

    /// What the user can do about it.
    pub fn actionable(&self, repository: &str) -> String {
        match self {
            ApiError::V0(e) => e.actionable(repository),
            ApiError::V1(e) => e.actionable(repository),
        }
    }
}

/// Why a retried read gave up.
#[derive(Debug)]
pub enum Failure {
    Failed(ApiError),
    Deadline(Option<ApiError>),
    Cancelled,
}

impl Failure {
    pub fn describe(&self) -> String {
        match self {
            Failure::Failed(e) => e.to_string(),
            Failure::Deadline(Some(e)) => format!("gave up: {e}"),
            Failure::Deadline(None) => "timed out".into(),
            Failure::Cancelled => "cancelled".into(),
        }
    }
}

impl From<GaveUp> for Failure {
    fn from(g: GaveUp) -> Self {
        match g {
            GaveUp::Failed(e) => Failure::Failed(ApiError::V0(e)),
            GaveUp::Deadline(e) => Failure::Deadline(e.map(ApiError::V0)),
            GaveUp::Cancelled => Failure::Cancelled,
        }
    }
}
