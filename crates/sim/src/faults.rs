//! Faults injected per request: a rule matches a method and a path pattern
//! (and optionally a repository) and applies to the next `times` requests.

use crate::server::Reply;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// An error status, with an optional body and `Retry-After` header.
    Status {
        status: u16,
        #[serde(default)]
        body: Option<String>,
        #[serde(default)]
        retry_after: Option<String>,
        /// Extra headers (e.g. GitHub's `x-ratelimit-remaining`).
        #[serde(default)]
        headers: Vec<(String, String)>,
    },
    /// The connection is closed without an answer; nothing is done.
    Reset,
    /// No answer ever comes; nothing is done.
    Stall,
    /// The answer comes after this many (clock) milliseconds.
    Delay { millis: u64 },
    /// The request is carried out, then the connection is closed: the client
    /// cannot know it worked (e.g. an agent is created).
    ApplyThenReset,
    /// The request is carried out, then no answer ever comes.
    ApplyThenStall,
    /// A success status with a body that is not valid JSON.
    MalformedJson,
    /// A pre-signed storage URL past its expiry: Azure Blob Storage's 403
    /// `AuthenticationFailed` (what GitHub's log links lead to).
    Expired,
    /// The answer's status, headers and first `bytes` bytes of its body
    /// (all of it when shorter), then the connection drops: a download
    /// broken off before its first byte, midway or at its very end.
    CutAfter { bytes: u64 },
}

impl Fault {
    pub fn status(status: u16) -> Self {
        Fault::Status {
            status,
            body: None,
            retry_after: None,
            headers: vec![],
        }
    }

    pub fn rate_limited(retry_after: Option<u64>) -> Self {
        Fault::Status {
            status: 429,
            body: Some(r#"{"error":"Too Many Requests","message":"Rate limit exceeded. Please try again later."}"#.into()),
            retry_after: retry_after.map(|s| s.to_string()),
            headers: vec![],
        }
    }

    /// A 404 as a proxy or another server sends it: an HTML page, no
    /// Cursor error code (what a mistyped `api-url` gets).
    pub fn not_found_page() -> Self {
        Fault::Status {
            status: 404,
            body: Some("<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>".into()),
            retry_after: None,
            headers: vec![],
        }
    }

    /// Cursor's own "no such agent": v1's coded object, v0's observed string.
    pub fn agent_not_found(v1: bool) -> Self {
        let body = if v1 {
            r#"{"error":{"code":"agent_not_found","message":"Agent not found"}}"#
        } else {
            r#"{"error":"Agent not found or access denied"}"#
        };
        Fault::Status {
            status: 404,
            body: Some(body.into()),
            retry_after: None,
            headers: vec![],
        }
    }

    /// Whether the request is carried out before the fault.
    pub fn applies_request(&self) -> bool {
        matches!(
            self,
            Fault::Delay { .. }
                | Fault::ApplyThenReset
                | Fault::ApplyThenStall
                | Fault::CutAfter { .. }
        )
    }

    /// The reply instead of (or around) the normal one.
    pub fn reply(&self, normal: Option<Reply>) -> Reply {
        match self {
            Fault::Status {
                status,
                body,
                retry_after,
                headers,
            } => {
                let body = body.clone().unwrap_or_else(|| match status {
                    500 => r#"{"error":"Internal server error"}"#.into(),
                    502 => "<html><body><h1>502 Bad Gateway</h1></body></html>".into(),
                    503 => "<html><body><h1>503 Service Unavailable</h1></body></html>".into(),
                    _ => format!(r#"{{"error":"Simulated {status}"}}"#),
                });
                let content_type = if body.trim_start().starts_with('{') {
                    "application/json"
                } else {
                    "text/html"
                };
                let mut reply = Reply::raw(*status, content_type, body);
                if let Some(ra) = retry_after {
                    reply = reply.with_header("retry-after", ra);
                }
                for (k, v) in headers {
                    reply = reply.with_header(k, v);
                }
                reply
            }
            Fault::Reset => Reply::Reset,
            Fault::Stall => Reply::Stall,
            Fault::Delay { millis } => Reply::Delay(
                Duration::from_millis(*millis),
                Box::new(normal.unwrap_or_else(|| {
                    Reply::json(500, &serde_json::json!({"error": "no reply"}))
                })),
            ),
            Fault::ApplyThenReset => Reply::Reset,
            Fault::ApplyThenStall => Reply::Stall,
            Fault::MalformedJson => Reply::raw(200, "application/json", "{\"id\": \"bc-trunc"),
            Fault::Expired => expired_link(),
            Fault::CutAfter { bytes } => match normal {
                Some(Reply::Response {
                    status,
                    headers,
                    body,
                }) => {
                    let (tx, rx) = tokio::sync::mpsc::channel(2);
                    let n = usize::try_from(*bytes)
                        .unwrap_or(usize::MAX)
                        .min(body.len());
                    if n > 0 {
                        let _ = tx.try_send(Ok(body.slice(..n)));
                    }
                    let _ = tx.try_send(Err(()));
                    Reply::Stream {
                        status,
                        headers,
                        body: std::sync::Arc::new(std::sync::Mutex::new(Some(rx))),
                    }
                }
                Some(other) => other,
                None => Reply::Reset,
            },
        }
    }
}

/// Azure Blob Storage's answer to an expired shared-access signature.
pub fn expired_link() -> Reply {
    Reply::raw(
        403,
        "application/xml",
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.</Message><AuthenticationErrorDetail>Signed expiry time has to be after signed start time</AuthenticationErrorDetail></Error>",
    )
}

/// A fault for matching requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// `GET`, `POST`, ...; any method when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// A path where `*` matches one segment, e.g. `/v0/agents/*`.
    pub path: String,
    /// Only requests about this repository (launches, and agents on it).
    #[serde(default)]
    pub repository: Option<String>,
    pub fault: Fault,
    /// How many matching requests it applies to.
    #[serde(default = "one")]
    pub times: u32,
    /// How many matching requests pass untouched before it applies.
    #[serde(default)]
    pub after: u32,
}

fn one() -> u32 {
    1
}

impl FaultRule {
    pub fn new(method: &str, path: &str, fault: Fault) -> Self {
        Self {
            method: Some(method.to_string()),
            path: path.to_string(),
            repository: None,
            fault,
            times: 1,
            after: 0,
        }
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    /// Lets the first `n` matching requests through untouched.
    pub fn after(mut self, n: u32) -> Self {
        self.after = n;
        self
    }

    pub fn for_repository(mut self, repository: &str) -> Self {
        self.repository = Some(repository.to_string());
        self
    }

    pub fn matches(&self, method: &str, path: &str, repository: Option<&str>) -> bool {
        if self.times == 0 {
            return false;
        }
        if self
            .method
            .as_deref()
            .is_some_and(|m| !m.eq_ignore_ascii_case(method))
        {
            return false;
        }
        if let Some(want) = &self.repository {
            let norm = |s: &str| {
                s.trim_end_matches('/')
                    .split_once("://")
                    .map(|(_, r)| r.to_string())
                    .unwrap_or_else(|| s.to_string())
                    .to_ascii_lowercase()
            };
            if repository.map(norm) != Some(norm(want)) {
                return false;
            }
        }
        path_matches(&self.path, path)
    }
}

/// `/v0/agents/*` matches `/v0/agents/bc-1` but not `/v0/agents/bc-1/stop`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let a: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    p.len() == a.len() && p.iter().zip(&a).all(|(p, a)| *p == "*" || p == a)
}

/// `POST /_sim/faults`: one rule or a list, handed to `add`.
pub fn add_from_json(body: serde_json::Value, add: impl Fn(FaultRule)) -> Reply {
    let rules: Result<Vec<FaultRule>, _> = if body.is_array() {
        serde_json::from_value(body)
    } else {
        serde_json::from_value(body).map(|r| vec![r])
    };
    match rules {
        Ok(rules) => {
            let n = rules.len();
            rules.into_iter().for_each(add);
            Reply::json(200, &serde_json::json!({"added": n}))
        }
        Err(e) => Reply::json(400, &serde_json::json!({"error": e.to_string()})),
    }
}

/// Takes the first rule matching the request, consuming one use of it.
pub fn take(
    rules: &mut [FaultRule],
    method: &str,
    path: &str,
    repository: Option<&str>,
) -> Option<Fault> {
    let rule = rules
        .iter_mut()
        .find(|r| r.matches(method, path, repository))?;
    if rule.after > 0 {
        rule.after -= 1;
        return None;
    }
    rule.times -= 1;
    Some(rule.fault.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_lets_the_first_matching_requests_through() {
        let mut rules = vec![
            FaultRule::new("GET", "/v1/x", Fault::Reset)
                .after(1)
                .times(1),
        ];
        assert_eq!(take(&mut rules, "GET", "/v1/x", None), None);
        assert_eq!(take(&mut rules, "GET", "/v1/x", None), Some(Fault::Reset));
        assert_eq!(take(&mut rules, "GET", "/v1/x", None), None);
        let json: FaultRule =
            serde_json::from_str(r#"{"path": "/v1/x", "fault": {"kind": "reset"}, "after": 2}"#)
                .unwrap();
        assert_eq!(json.after, 2);
    }

    #[test]
    fn patterns() {
        assert!(path_matches("/v0/agents/*", "/v0/agents/bc-1"));
        assert!(!path_matches("/v0/agents/*", "/v0/agents/bc-1/stop"));
        assert!(path_matches("/v0/agents", "/v0/agents/"));
    }

    #[test]
    fn rules_are_consumed() {
        let mut rules = vec![FaultRule::new("GET", "/v0/agents/*", Fault::status(502)).times(2)];
        assert!(take(&mut rules, "GET", "/v0/agents/bc-1", None).is_some());
        assert!(take(&mut rules, "POST", "/v0/agents/bc-1", None).is_none());
        assert!(take(&mut rules, "GET", "/v0/agents/bc-1", None).is_some());
        assert!(take(&mut rules, "GET", "/v0/agents/bc-1", None).is_none());
    }

    #[test]
    fn repository_rules() {
        let rule = FaultRule::new("POST", "/v0/agents", Fault::Reset)
            .for_repository("https://github.com/o/R");
        assert!(rule.matches("POST", "/v0/agents", Some("github.com/o/r")));
        assert!(!rule.matches("POST", "/v0/agents", Some("https://github.com/o/x")));
        assert!(!rule.matches("POST", "/v0/agents", None));
    }
}
