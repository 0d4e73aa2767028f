//! GitHub API errors, classified by GitHub's own rate-limit rules, with
//! messages that name the fix for the classic traps.
//!
//! Their text is printable from the start: the client builds them with
//! every message redacted (its own token), then cut, and URL credentials
//! hidden (as the Cursor client does: see [`cursor_api::one_line`]), so
//! the messages here only put pieces together and cut nothing.
use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitHubError {
    Status {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
        ratelimit_remaining: Option<u64>,
        /// `x-ratelimit-reset`, epoch seconds.
        ratelimit_reset: Option<u64>,
    },
    /// No usable answer; the request may have been applied.
    Transport {
        message: String,
        maybe_sent: bool,
    },
    /// GitHub's TLS certificate is not trusted: retrying cannot help.
    Tls(String),
    Timeout,
    Decode(String),
    /// The run was cancelled while the call was in flight; the request may
    /// have been applied.
    Cancelled,
}

/// Text from GitHub or the HTTP stack made fit to carry in an error: URL
/// credentials hidden, every secret `redactor` knows (the client's token)
/// replaced, then one line of at most 200 characters.
pub(super) fn printable(redactor: &kit::secret::Redactor, text: &str) -> String {
    cursor_api::one_line(redactor, &without_userinfo(text), 200)
}

/// `text` with any `scheme://user:password@` credentials in URLs hidden.
fn without_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == ')' || c == '"')
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&tail[at..end]);
            }
            None => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// What to do about a GitHub error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitHubClass {
    /// A rate limit: wait this long (GitHub's rules), then retry.
    Wait(Duration),
    /// 5xx or transport trouble: retry with backoff.
    Transient,
    Fatal,
}

impl GitHubError {
    pub fn status(&self) -> Option<u16> {
        match self {
            GitHubError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// GitHub's rules: `retry-after` first; then, with no requests left,
    /// until `x-ratelimit-reset`; a secondary limit without either waits at
    /// least a minute, growing with each attempt. A 403 with none of these
    /// signals is a permission problem, not a rate limit.
    pub fn class(&self, now_epoch: u64, attempt: u32) -> GitHubClass {
        match self {
            GitHubError::Status {
                status: status @ (403 | 429),
                message,
                retry_after,
                ratelimit_remaining,
                ratelimit_reset,
            } => {
                if let Some(wait) = retry_after {
                    return GitHubClass::Wait(*wait);
                }
                if *ratelimit_remaining == Some(0)
                    && let Some(reset) = ratelimit_reset
                {
                    return GitHubClass::Wait(Duration::from_secs(
                        reset.saturating_sub(now_epoch).max(1) + 1,
                    ));
                }
                let m = message.to_ascii_lowercase();
                if *status == 429 || m.contains("rate limit") || m.contains("abuse") {
                    let factor = 1u32 << attempt.min(4);
                    return GitHubClass::Wait(Duration::from_secs(60) * factor);
                }
                GitHubClass::Fatal
            }
            GitHubError::Status { status, .. } if *status >= 500 => GitHubClass::Transient,
            GitHubError::Status { .. } | GitHubError::Tls(_) | GitHubError::Cancelled => {
                GitHubClass::Fatal
            }
            GitHubError::Transport { .. } | GitHubError::Timeout | GitHubError::Decode(_) => {
                GitHubClass::Transient
            }
        }
    }

    /// Whether a write may have happened although it reported failure.
    pub fn maybe_applied(&self) -> bool {
        match self {
            GitHubError::Status { status, .. } => *status >= 500,
            GitHubError::Transport { maybe_sent, .. } => *maybe_sent,
            GitHubError::Timeout | GitHubError::Decode(_) | GitHubError::Cancelled => true,
            GitHubError::Tls(_) => false,
        }
    }

    /// What happened and what to change, for `what` (e.g. "comment on #12").
    /// [`Self::actionable`], naming the proxy (its variable and host, never
    /// its credentials) when the request could not get through `proxy`.
    pub fn actionable_via(&self, what: &str, proxy: Option<&kit::http::ProxyRoute>) -> String {
        match (self, proxy) {
            (
                GitHubError::Transport {
                    message,
                    maybe_sent: false,
                },
                Some(route),
            ) => format!(
                "Could not reach GitHub to {what} through the proxy {} set by `{}` ({}). Check that the proxy is up and that `{}` (and `NO_PROXY`) are right for this runner.",
                route.host, route.variable, message, route.variable
            ),
            _ => self.actionable(what),
        }
    }

    pub fn actionable(&self, what: &str) -> String {
        match self {
            GitHubError::Status {
                status: 403,
                message,
                ..
            } if message.contains("Resource not accessible by integration") => format!(
                "GitHub refused to let the workflow's token {what} (403 Resource not accessible by integration). Add `permissions: issues: write` (and `pull-requests: write` for pull requests) to the job. On pull requests from forks the token is read-only whatever `permissions:` says: run the agent from a separate workflow (`workflow_run` or `pull_request_target`, with care) or set `comment: false`."
            ),
            GitHubError::Status { status: 401, .. } => format!(
                "GitHub rejected `github-token` while trying to {what} (401 Bad credentials); pass `${{{{ github.token }}}}` or a valid token."
            ),
            GitHubError::Status { status: 404, .. } => format!(
                "GitHub answered 404 while trying to {what}: the issue or comment does not exist, or the token cannot see it (check `issue-number` and the token's repository access)."
            ),
            GitHubError::Status {
                status: 422,
                message,
                ..
            } => format!("GitHub rejected the request to {what} (422: {}).", message),
            GitHubError::Status {
                status, message, ..
            } => format!(
                "GitHub answered {status} while trying to {what}: {}",
                message
            ),
            GitHubError::Transport { message, .. } => {
                format!("Could not reach GitHub to {what}: {}", message)
            }
            GitHubError::Timeout => format!("GitHub did not answer in time to {what}."),
            GitHubError::Cancelled => {
                format!("The run was cancelled while trying to {what}.")
            }
            GitHubError::Tls(m) => format!(
                "GitHub's TLS certificate is not trusted while trying to {what} ({}); on GitHub Enterprise Server with a private CA, add the CA to the runner's trust store (or point SSL_CERT_FILE at it).",
                m
            ),
            GitHubError::Decode(m) => format!(
                "GitHub's answer could not be read while trying to {what}: {}",
                m
            ),
        }
    }
}

impl fmt::Display for GitHubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GitHubError::Status {
                status, message, ..
            } => write!(f, "GitHub returned {status}: {}", message),
            GitHubError::Transport { message, .. } => {
                write!(f, "GitHub request failed: {}", message)
            }
            GitHubError::Timeout => f.write_str("GitHub request timed out"),
            GitHubError::Cancelled => f.write_str("GitHub request cancelled"),
            GitHubError::Tls(m) => write!(f, "GitHub TLS certificate not trusted: {}", m),
            GitHubError::Decode(m) => write!(f, "GitHub response unreadable: {}", m),
        }
    }
}

impl std::error::Error for GitHubError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_proxy_is_named_without_its_credentials() {
        let route = kit::http::ProxyRoute {
            variable: "HTTPS_PROXY",
            host: "proxy.corp:3128".into(),
        };
        let e = GitHubError::Transport {
            message: printable(
                &kit::secret::Redactor::new(),
                "error sending request: proxy http://alice:s3cret@proxy.corp:3128 refused",
            ),
            maybe_sent: false,
        };
        let said = e.actionable_via("read octocat's permission", Some(&route));
        assert!(
            said.contains("through the proxy proxy.corp:3128 set by `HTTPS_PROXY`"),
            "{said}"
        );
        assert!(
            !said.contains("s3cret") && !said.contains("alice"),
            "{said}"
        );
        // Without a proxy, or once the request was sent, as before.
        assert_eq!(e.actionable_via("x", None), e.actionable("x"));
        let sent = GitHubError::Transport {
            message: "reset".into(),
            maybe_sent: true,
        };
        assert_eq!(sent.actionable_via("x", Some(&route)), sent.actionable("x"));
    }

    fn status(
        status: u16,
        message: &str,
        retry_after: Option<u64>,
        remaining: Option<u64>,
        reset: Option<u64>,
    ) -> GitHubError {
        GitHubError::Status {
            status,
            message: message.into(),
            retry_after: retry_after.map(Duration::from_secs),
            ratelimit_remaining: remaining,
            ratelimit_reset: reset,
        }
    }

    #[test]
    fn rate_limits_follow_githubs_rules() {
        let now = 1_000_000;
        assert_eq!(
            status(403, "x", Some(30), Some(0), Some(now + 900)).class(now, 0),
            GitHubClass::Wait(Duration::from_secs(30))
        );
        assert_eq!(
            status(
                403,
                "API rate limit exceeded",
                None,
                Some(0),
                Some(now + 120)
            )
            .class(now, 0),
            GitHubClass::Wait(Duration::from_secs(121))
        );
        assert_eq!(
            status(
                403,
                "You have exceeded a secondary rate limit",
                None,
                None,
                None
            )
            .class(now, 0),
            GitHubClass::Wait(Duration::from_secs(60))
        );
        assert_eq!(
            status(429, "", None, None, None).class(now, 2),
            GitHubClass::Wait(Duration::from_secs(240))
        );
        assert_eq!(
            status(
                403,
                "Resource not accessible by integration",
                None,
                Some(4999),
                Some(now)
            )
            .class(now, 0),
            GitHubClass::Fatal
        );
        assert_eq!(
            status(502, "", None, None, None).class(now, 0),
            GitHubClass::Transient
        );
        assert_eq!(
            status(422, "", None, None, None).class(now, 0),
            GitHubClass::Fatal
        );
    }

    #[test]
    fn the_integration_403_names_the_fix() {
        let m = status(
            403,
            "Resource not accessible by integration",
            None,
            None,
            None,
        )
        .actionable("comment on #1");
        assert!(
            m.contains("permissions: issues: write") && m.contains("forks"),
            "{m}"
        );
    }
}
