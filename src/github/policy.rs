//! What is retried on GitHub, and how. Reads and idempotent writes (an edit
//! with the same body, a reaction) are retried on 5xx, transport errors and
//! rate limits; waits follow GitHub's rules and never pass the deadline. A
//! new comment is re-posted only after listing the issue's comments shows
//! that the first attempt did not land.

use super::{GitHubClass, GitHubClient, GitHubError, IssueComment};
use cursor_api::retry::Backoff;
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Attempts per call at most.
pub const MAX_ATTEMPTS: u32 = 4;

/// The limits a sequence of calls runs under.
#[derive(Clone)]
pub struct Limits {
    pub clock: Clock,
    pub deadline: Moment,
    /// Stop waiting when cancelled (absent while finalizing after a cancel).
    pub cancel: Option<Cancel>,
}

impl Limits {
    pub fn new(clock: Clock, deadline: Moment, cancel: Option<Cancel>) -> Self {
        Self {
            clock,
            deadline,
            cancel,
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(Cancel::is_cancelled)
    }

    /// Waits `d`, unless that passes the deadline or the run is cancelled.
    async fn wait(&self, d: Duration) -> bool {
        if self.clock.now() + d > self.deadline {
            return false;
        }
        match &self.cancel {
            Some(c) => tokio::select! {
                _ = self.clock.sleep(d) => true,
                _ = c.cancelled() => false,
            },
            None => {
                self.clock.sleep(d).await;
                true
            }
        }
    }

    /// Runs `fut`, giving up at the deadline or, at once, on a cancel (a
    /// call in flight never holds up the end of a cancelled run).
    pub(crate) async fn bounded<T>(
        &self,
        fut: impl Future<Output = Result<T, GitHubError>>,
    ) -> Result<T, GitHubError> {
        let remaining = self.deadline.saturating_since(self.clock.now());
        if remaining.is_zero() {
            return Err(GitHubError::Timeout);
        }
        if self.cancelled() {
            return Err(GitHubError::Cancelled);
        }
        let timed = self.clock.timeout(remaining, fut);
        match &self.cancel {
            Some(c) => tokio::select! {
                r = timed => r.unwrap_or(Err(GitHubError::Timeout)),
                _ = c.cancelled() => Err(GitHubError::Cancelled),
            },
            None => timed.await.unwrap_or(Err(GitHubError::Timeout)),
        }
    }
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// How long to wait before attempt `attempt + 1`, or `None` to give up.
pub fn retry_wait(error: &GitHubError, attempt: u32, unit: f64) -> Option<Duration> {
    if attempt + 1 >= MAX_ATTEMPTS {
        return None;
    }
    match error.class(now_epoch(), attempt) {
        GitHubClass::Wait(d) => Some(d),
        GitHubClass::Transient => Some(Backoff::default().delay(attempt, unit)),
        GitHubClass::Fatal => None,
    }
}

/// Retries a call that is safe to repeat.
pub async fn idempotent<T, F, Fut>(limits: &Limits, mut op: F) -> Result<T, GitHubError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, GitHubError>>,
{
    let mut rng = fastrand::Rng::new();
    let mut attempt = 0;
    loop {
        let error = match limits.bounded(op()).await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let Some(wait) = retry_wait(&error, attempt, rng.f64()) else {
            return Err(error);
        };
        tracing::debug!(
            "{error}; retrying GitHub call in {:.1}s",
            wait.as_secs_f64()
        );
        if limits.cancelled() || !limits.wait(wait).await {
            return Err(error);
        }
        attempt += 1;
    }
}

/// Creates a comment exactly once: after a failure that may have been
/// applied (5xx, lost answer), the issue's comments are listed and one that
/// `is_ours` and is trusted (see [`IssueComment::is_trusted`]) is adopted
/// instead of posting again.
pub async fn create_comment(
    client: &GitHubClient,
    limits: &Limits,
    issue: u64,
    body: &str,
    is_ours: impl Fn(&IssueComment) -> bool,
) -> Result<IssueComment, GitHubError> {
    let mut rng = fastrand::Rng::new();
    let mut attempt = 0;
    loop {
        let error = match limits.bounded(client.create_comment(issue, body)).await {
            Ok(c) => return Ok(c),
            Err(e) => e,
        };
        if error.maybe_applied() {
            let listed = idempotent(limits, || client.list_comments(issue)).await;
            match listed {
                Ok(comments) => {
                    // Only a comment we could have written: anyone can
                    // copy a marker (its run id and key are public).
                    if let Some(c) = comments
                        .into_iter()
                        .rev()
                        .find(|c| c.is_trusted() && is_ours(c))
                    {
                        tracing::debug!(
                            "the comment was created although the answer was lost; using it"
                        );
                        return Ok(c);
                    }
                }
                // Unknown whether it landed: posting again could duplicate it.
                Err(_) => return Err(error),
            }
        }
        let Some(wait) = retry_wait(&error, attempt, rng.f64()) else {
            return Err(error);
        };
        if limits.cancelled() || !limits.wait(wait).await {
            return Err(error);
        }
        attempt += 1;
    }
}
