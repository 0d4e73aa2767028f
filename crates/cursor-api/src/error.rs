//! Cursor API errors: both body shapes seen in practice, a classification
//! the retry policies act on, and messages a maintainer can act on.
//!
//! The text an error carries from the server (its body, a bad id) is made
//! printable where the client builds the error: redacted with the client's
//! own key, then cut ([`one_line`] with the client's [`Redactor`]). An
//! error's `Display` and messages then only put those bounded pieces
//! together, and cut nothing: they have no redactor, and need none for the
//! key. Whoever shows the message (comment, log, step summary) shortens it
//! again with the sink's redactor, which knows every secret of the run.

use kit::secret::Redactor;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// Which endpoint failed, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Me,
    Models,
    Repositories,
    ListAgents,
    Launch,
    Agent,
    Conversation,
    Followup,
    Stop,
    Delete,
    Artifacts,
    ArtifactDownload,
}

impl Endpoint {
    pub fn describe(self) -> &'static str {
        match self {
            Endpoint::Me => "GET /v0/me",
            Endpoint::Models => "GET /v0/models",
            Endpoint::Repositories => "GET /v0/repositories",
            Endpoint::ListAgents => "GET /v0/agents",
            Endpoint::Launch => "POST /v0/agents",
            Endpoint::Agent => "GET /v0/agents/{id}",
            Endpoint::Conversation => "GET /v0/agents/{id}/conversation",
            Endpoint::Followup => "POST /v0/agents/{id}/followup",
            Endpoint::Stop => "POST /v0/agents/{id}/stop",
            Endpoint::Delete => "DELETE /v0/agents/{id}",
            Endpoint::Artifacts => "GET /v0/agents/{id}/artifacts",
            Endpoint::ArtifactDownload => "GET /v0/agents/{id}/artifacts/download",
        }
    }

    /// Whether repeating the request cannot do anything twice.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Endpoint::Launch | Endpoint::Followup)
    }
}

/// Room for the Zod details an error body lists (each one line of at most
/// [`DETAIL_CHARS`]): enough to name the fix.
const MOST_DETAILS: usize = 3;
const DETAIL_CHARS: usize = 100;

/// An error body, whichever shape it came in; every piece printable
/// (redacted, then cut).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// `error` (string shape), or `error.message` (object shape), or `message`.
    pub message: Option<String>,
    /// `error.code` (object shape).
    pub code: Option<String>,
    /// Zod-style validation details, rendered one per entry.
    pub details: Vec<String>,
}

impl ErrorBody {
    /// Parses `{"error":"..."[,"details":[..]]}`, `{"error":{"code","message"}}`
    /// and `{"error":"Too Many Requests","message":"..."}`; anything else
    /// (HTML from a proxy, plain text) becomes the message, shortened.
    /// `redactor`: the client's, which knows its key.
    pub fn parse(redactor: &Redactor, bytes: &[u8]) -> ErrorBody {
        let text = String::from_utf8_lossy(bytes);
        let Ok(json) = serde_json::from_slice::<Value>(bytes) else {
            let t = text.trim();
            return ErrorBody {
                message: (!t.is_empty()).then(|| one_line(redactor, t, 200)),
                ..Default::default()
            };
        };
        let mut body = ErrorBody::default();
        match json.get("error") {
            Some(Value::String(s)) => body.message = Some(s.clone()),
            Some(Value::Object(o)) => {
                body.message = o.get("message").and_then(Value::as_str).map(String::from);
                body.code = o.get("code").and_then(Value::as_str).map(String::from);
            }
            _ => {}
        }
        // The generic shape puts the status phrase in `error`, detail in `message`.
        if let Some(m) = json.get("message").and_then(Value::as_str) {
            body.message = Some(match body.message.take() {
                Some(e) if e != m => format!("{e}: {m}"),
                _ => m.to_string(),
            });
        }
        if body.code.is_none() {
            body.code = json.get("code").and_then(Value::as_str).map(String::from);
        }
        if let Some(Value::Array(details)) = json.get("details") {
            body.details = details
                .iter()
                .take(MOST_DETAILS)
                .map(|d| match d.get("message").and_then(Value::as_str) {
                    Some(m) => one_line(redactor, m, DETAIL_CHARS),
                    None => one_line(redactor, &d.to_string(), DETAIL_CHARS),
                })
                .collect();
        }
        body.message = body.message.map(|m| one_line(redactor, &m, 200));
        body.code = body.code.map(|c| one_line(redactor, &c, 60));
        if body.message.is_none() && body.code.is_none() && body.details.is_empty() {
            body.message = Some(one_line(redactor, text.trim(), 200));
        }
        body
    }

    /// Everything the body says, on one line (each piece was shortened
    /// when the body was parsed).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = &self.message {
            parts.push(m.clone());
        }
        if let Some(c) = &self.code {
            parts.push(format!("[{c}]"));
        }
        if !self.details.is_empty() {
            parts.push(format!("({})", self.details.join("; ")));
        }
        parts.join(" ")
    }

    pub(crate) fn mentions(&self, needle: &str) -> bool {
        let needle = needle.to_ascii_lowercase();
        let has = |s: &Option<String>| {
            s.as_ref()
                .is_some_and(|s| s.to_ascii_lowercase().contains(&needle))
        };
        has(&self.message)
            || has(&self.code)
            || self
                .details
                .iter()
                .any(|d| d.to_ascii_lowercase().contains(&needle))
    }
}

/// Untrusted text made printable: one line, control and invisible
/// characters and terminal sequences removed, at most `max` characters.
/// Bounded, cleaned, redacted, then cut ([`Redactor::clean_cut`]): only the
/// first bytes the budget needs are read, and every secret `redactor` knows
/// is replaced whole before any cut, even one split by an invisible
/// character.
pub fn one_line(redactor: &Redactor, text: &str, max: usize) -> String {
    let (bounded, window_cut) = redactor.clean_cut(text, max.saturating_mul(4));
    let flat = bounded.split_whitespace().collect::<Vec<_>>().join(" ");
    let (shown, cut) = redactor.cut_chars(&flat, max);
    if cut || window_cut {
        format!("{shown}…")
    } else {
        flat
    }
}

/// What to do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Slow down; `retry_after` when the server said how long.
    RateLimited { retry_after: Option<Duration> },
    /// Try again later (5xx, connection trouble, timeouts).
    Transient,
    /// Retrying will not help.
    Fatal,
}

/// A failed Cursor API call, of either version: one shape, with the
/// version's endpoint (`E`: [`Endpoint`] for v0, `V1Endpoint` for v1) and
/// error body (`B`: [`ErrorBody`], or v1's body with its `helpUrl` and
/// `provider`). What differs between the versions (classification of v1
/// codes, the messages) stays with each version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError<E, B> {
    /// The server answered with an error status.
    Status {
        endpoint: E,
        status: u16,
        body: B,
        retry_after: Option<Duration>,
    },
    /// No usable answer. `maybe_sent`: the request may have reached the
    /// server (and, for a launch, created an agent).
    Transport {
        endpoint: E,
        maybe_sent: bool,
        message: String,
    },
    /// The server's TLS certificate is not trusted: retrying cannot help.
    Tls { endpoint: E, message: String },
    /// Our deadline for the request passed (the request may have been sent).
    Timeout { endpoint: E },
    /// A success status with a body we cannot read.
    Decode {
        endpoint: E,
        status: u16,
        message: String,
    },
    /// An id we refuse to put in a URL (or to send as `agentId`); printable
    /// (see the module).
    InvalidId { id: String },
}

/// A failed v0 call.
pub type CursorError = ApiError<Endpoint, ErrorBody>;

/// What a version's endpoint tells the shared error shape.
pub trait ApiEndpoint: Copy {
    /// The call, as messages name it (`GET /v0/agents/{id}`).
    fn describe(self) -> &'static str;
    /// What an id that fails validation is called in messages.
    const ID_NOUN: &'static str;
}

/// What a version's error body tells the shared error shape.
pub trait DescribeBody {
    /// Everything the body says, on one line, shortened (it is untrusted).
    fn describe_body(&self) -> String;
}

impl ApiEndpoint for Endpoint {
    fn describe(self) -> &'static str {
        Endpoint::describe(self)
    }
    const ID_NOUN: &'static str = "agent id";
}

impl DescribeBody for ErrorBody {
    fn describe_body(&self) -> String {
        self.describe()
    }
}

impl<E: Copy, B> ApiError<E, B> {
    pub fn endpoint(&self) -> Option<E> {
        match self {
            Self::Status { endpoint, .. }
            | Self::Transport { endpoint, .. }
            | Self::Tls { endpoint, .. }
            | Self::Timeout { endpoint }
            | Self::Decode { endpoint, .. } => Some(*endpoint),
            Self::InvalidId { .. } => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the request may have been carried out although we got no
    /// answer: a launch in this state may have created an agent.
    pub fn maybe_applied(&self) -> bool {
        match self {
            Self::Transport { maybe_sent, .. } => *maybe_sent,
            Self::Timeout { .. } => true,
            // A 5xx from a proxy or gateway can follow a request the API served.
            Self::Status { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            Self::Decode { .. } => true,
            Self::InvalidId { .. } | Self::Tls { .. } => false,
        }
    }

    /// The same failure with the endpoint and body mapped (v1 errors are
    /// classified by the v0 rules this way).
    pub fn map<E2, B2>(
        &self,
        endpoint: impl Fn(E) -> E2,
        body: impl Fn(&B) -> B2,
    ) -> ApiError<E2, B2> {
        match self {
            Self::Status {
                endpoint: e,
                status,
                body: b,
                retry_after,
            } => ApiError::Status {
                endpoint: endpoint(*e),
                status: *status,
                body: body(b),
                retry_after: *retry_after,
            },
            Self::Transport {
                endpoint: e,
                maybe_sent,
                message,
            } => ApiError::Transport {
                endpoint: endpoint(*e),
                maybe_sent: *maybe_sent,
                message: message.clone(),
            },
            Self::Tls {
                endpoint: e,
                message,
            } => ApiError::Tls {
                endpoint: endpoint(*e),
                message: message.clone(),
            },
            Self::Timeout { endpoint: e } => ApiError::Timeout {
                endpoint: endpoint(*e),
            },
            Self::Decode {
                endpoint: e,
                status,
                message,
            } => ApiError::Decode {
                endpoint: endpoint(*e),
                status: *status,
                message: message.clone(),
            },
            Self::InvalidId { id } => ApiError::InvalidId { id: id.clone() },
        }
    }
}

impl CursorError {
    /// Plan or budget exhaustion: a 429/400/403 that retrying cannot fix.
    pub(crate) fn is_usage_limit(&self) -> bool {
        match self {
            CursorError::Status { body, .. } => {
                matches!(
                    body.code.as_deref(),
                    Some("usage_limit_exceeded" | "plan_required")
                ) || body.mentions("usage-based pricing")
                    || body.mentions("hard limit")
                    || body.mentions("plan limit")
                    || body.mentions("upgrade your plan")
            }
            _ => false,
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            CursorError::Status { status: 429, .. } if self.is_usage_limit() => ErrorClass::Fatal,
            CursorError::Status {
                status: 429,
                retry_after,
                ..
            } => ErrorClass::RateLimited {
                retry_after: *retry_after,
            },
            CursorError::Status { status, .. } if *status == 408 || *status >= 500 => {
                ErrorClass::Transient
            }
            CursorError::Status { .. }
            | CursorError::InvalidId { .. }
            | CursorError::Tls { .. } => ErrorClass::Fatal,
            CursorError::Transport { .. }
            | CursorError::Timeout { .. }
            | CursorError::Decode { .. } => ErrorClass::Transient,
        }
    }

    /// A message that says what happened and what to change.
    pub fn actionable(&self, repository: &str) -> String {
        let endpoint = self
            .endpoint()
            .map(Endpoint::describe)
            .unwrap_or("Cursor API");
        match self {
            CursorError::InvalidId { id } => format!(
                "refusing to use {id:?} as a Cursor agent id (expected bc-<uuid>); if it came from an edited comment, remove that comment's marker"
            ),
            CursorError::Timeout { .. } => format!("{endpoint}: Cursor did not answer in time"),
            CursorError::Tls { message, .. } => format!(
                "{endpoint}: the server's TLS certificate is not trusted ({message}). Check `api-url`; behind a proxy or with a private CA, add the CA to the runner's trust store (or point SSL_CERT_FILE at it)."
            ),
            CursorError::Transport { message, .. } => {
                format!("{endpoint}: could not reach the Cursor API ({message})")
            }
            CursorError::Decode {
                status, message, ..
            } => format!(
                "{endpoint}: Cursor answered {status} with a body that is not the expected JSON ({message})"
            ),
            CursorError::Status { status, body, .. } => {
                let said = body.describe();
                let said = if said.is_empty() {
                    String::new()
                } else {
                    format!(" Cursor said: {said}")
                };
                let hint = match status {
                    401 => "Cursor rejected the API key (401). Check the `cursor-api-key` secret: create a User API key at https://cursor.com/dashboard/api (not an Admin API key) and store it as a repository secret.".to_string(),
                    _ if body.mentions("storage mode") => "Cursor refused to launch because storage mode is disabled for the key's account. Turn on storage in Cursor (Settings → General → Privacy: disable Privacy Mode (Legacy)); cloud agents need it.".to_string(),
                    _ if self.is_usage_limit() || (body.mentions("plan") && *status == 403) => "Cursor refused because of the account's plan or usage limit. Cloud agents need a paid plan with usage-based pricing and budget left (see https://cursor.com/dashboard → Settings / Spending).".to_string(),
                    _ if body.mentions("do not have access to repository") || body.mentions("repository does not exist") || body.mentions("github app") => format!(
                        "Cursor cannot access {repository}. Install the Cursor GitHub App on it and grant access (https://cursor.com/dashboard → Integrations → GitHub). This is Cursor's own GitHub access, not the workflow's token."
                    ),
                    _ if body.mentions("default branch") || body.mentions("verify existence of branch") => format!(
                        "Cursor could not resolve the branch to start from in {repository}. Check that the Cursor GitHub App can access the repository, or set `ref` to an existing branch."
                    ),
                    _ if body.mentions("unrecognized") || body.code.as_deref() == Some("unrecognized_keys") => "Cursor rejected the request format. This is a bug in cursor-agent-action: please report it with this message.".to_string(),
                    403 => "Cursor refused the request (403: insufficient permissions for the key).".to_string(),
                    404 => "Cursor does not know this agent (404): it was deleted, or belongs to another API key.".to_string(),
                    409 => "The agent was deleted or archived (409).".to_string(),
                    429 => "Cursor is rate limiting this API key (429); try again later or run fewer agents at once.".to_string(),
                    s if *s >= 500 => format!("The Cursor API failed ({s}); this is usually temporary, re-run the job."),
                    s => format!("The Cursor API rejected the request ({s})."),
                };
                format!("{endpoint}: {hint}{said}")
            }
        }
    }
}

impl<E: ApiEndpoint, B: DescribeBody> fmt::Display for ApiError<E, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status {
                endpoint,
                status,
                body,
                ..
            } => write!(
                f,
                "{} returned {status}: {}",
                endpoint.describe(),
                body.describe_body()
            ),
            Self::Transport {
                endpoint, message, ..
            } => write!(f, "{} failed: {message}", endpoint.describe()),
            Self::Timeout { endpoint } => write!(f, "{} timed out", endpoint.describe()),
            Self::Tls { endpoint, message } => write!(
                f,
                "{}: untrusted TLS certificate: {message}",
                endpoint.describe()
            ),
            Self::Decode {
                endpoint,
                status,
                message,
            } => write!(
                f,
                "{} returned {status} with an unreadable body: {message}",
                endpoint.describe()
            ),
            Self::InvalidId { id } => write!(f, "invalid {} {id:?}", E::ID_NOUN),
        }
    }
}

impl<E: ApiEndpoint + fmt::Debug, B: DescribeBody + fmt::Debug> std::error::Error
    for ApiError<E, B>
{
}

/// `Retry-After` as delta-seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, body: &str) -> CursorError {
        CursorError::Status {
            endpoint: Endpoint::Launch,
            status: code,
            body: ErrorBody::parse(&Redactor::new(), body.as_bytes()),
            retry_after: None,
        }
    }

    #[test]
    fn parses_both_shapes_and_the_generic_one() {
        let a = ErrorBody::parse(
            &Redactor::new(),
            br#"{"error":"Storage mode is disabled."}"#,
        );
        assert_eq!(a.message.as_deref(), Some("Storage mode is disabled."));
        let b = ErrorBody::parse(&Redactor::new(), br#"{"error":{"code":"usage_limit_exceeded","message":"Usage-based pricing required."}}"#);
        assert_eq!(b.code.as_deref(), Some("usage_limit_exceeded"));
        assert_eq!(b.message.as_deref(), Some("Usage-based pricing required."));
        let c = ErrorBody::parse(&Redactor::new(), br#"{"error":"Too Many Requests","message":"Rate limit exceeded. Please try again later."}"#);
        assert_eq!(
            c.message.as_deref(),
            Some("Too Many Requests: Rate limit exceeded. Please try again later.")
        );
        let d = ErrorBody::parse(&Redactor::new(), br#"{"error":"Invalid creation request parameters","details":[{"code":"unrecognized_keys","message":"Unrecognized key(s) in object: 'name'","path":[],"keys":["name"]}]}"#);
        assert_eq!(
            d.details,
            vec!["Unrecognized key(s) in object: 'name'".to_string()]
        );
        let e = ErrorBody::parse(
            &Redactor::new(),
            b"<html><body>502 Bad Gateway</body></html>",
        );
        assert_eq!(
            e.message.as_deref(),
            Some("<html><body>502 Bad Gateway</body></html>")
        );
        assert_eq!(
            ErrorBody::parse(&Redactor::new(), b""),
            ErrorBody::default()
        );
    }

    #[test]
    fn classification() {
        assert_eq!(status(500, "{}").class(), ErrorClass::Transient);
        assert_eq!(status(502, "").class(), ErrorClass::Transient);
        assert_eq!(status(401, "{}").class(), ErrorClass::Fatal);
        assert_eq!(
            status(429, "{}").class(),
            ErrorClass::RateLimited { retry_after: None }
        );
        assert_eq!(
            status(
                429,
                r#"{"error":{"code":"usage_limit_exceeded","message":"x"}}"#
            )
            .class(),
            ErrorClass::Fatal
        );
        let t = CursorError::Transport {
            endpoint: Endpoint::Launch,
            maybe_sent: false,
            message: "refused".into(),
        };
        assert_eq!(t.class(), ErrorClass::Transient);
        assert!(!t.maybe_applied());
        assert!(
            CursorError::Timeout {
                endpoint: Endpoint::Launch
            }
            .maybe_applied()
        );
        assert!(!status(400, "{}").maybe_applied());
    }

    #[test]
    fn actionable_messages() {
        let m = status(401, r#"{"error":"Invalid User API Key"}"#).actionable("o/r");
        assert!(
            m.contains("`cursor-api-key`") && m.contains("Invalid User API Key"),
            "{m}"
        );
        let m = status(403, r#"{"error":"Storage mode is disabled. Please enable storage in your Cursor settings to use agents via API."}"#).actionable("o/r");
        assert!(m.contains("storage mode is disabled"), "{m}");
        let m = status(400, r#"{"error":"You do not have access to repository o/r, or the repository does not exist. If you believe you should have access, ensure the Cursor GitHub App is installed"}"#).actionable("o/r");
        assert!(m.contains("Install the Cursor GitHub App on it"), "{m}");
        let m = status(400, r#"{"error":{"code":"usage_limit_exceeded","message":"Usage-based pricing required. Background Agent requires at least $2 remaining until your hard limit."}}"#).actionable("o/r");
        assert!(m.contains("plan or usage limit"), "{m}");
        let m = status(
            403,
            r#"{"error":{"code":"plan_required","message":"Upgrade required"}}"#,
        )
        .actionable("o/r");
        assert!(m.contains("plan or usage limit"), "{m}");
        let m = status(400, r#"{"error":"Invalid creation request parameters","details":[{"code":"unrecognized_keys","message":"Unrecognized key(s) in object: 'name'"}]}"#).actionable("o/r");
        assert!(m.contains("bug in cursor-agent-action"), "{m}");
    }

    #[test]
    fn untrusted_bodies_are_flattened() {
        let m = status(500, "{\"error\":\"line1\\n::error::pwned\\u200b\"}").actionable("o/r");
        assert!(!m.contains('\n') && !m.contains('\u{200b}'), "{m}");
    }

    #[test]
    fn retry_after_forms() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
