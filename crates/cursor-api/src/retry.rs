//! Network retry policy for the Cursor API, in one place: which errors are
//! retried, how long to wait, and the helper that runs an idempotent call
//! under a deadline and cancellation. Launches and follow-ups never go
//! through [`retry_idempotent`]: see `launch`.

use crate::error::{CursorError, ErrorClass};
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
use std::future::Future;
use std::time::Duration;

/// Exponential backoff with jitter: the n-th wait is drawn from the upper
/// half of `min(cap, base * 2^n)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The envelope for attempt `n` (0-based): `min(cap, base * 2^n)`.
    pub fn envelope(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A jittered wait within `[envelope/2, envelope]`; `unit` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let env = self.envelope(attempt);
        env.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }
}

/// How long to wait before retrying after `error`, or `None` if it must not
/// be retried. `Retry-After` wins over the backoff.
pub fn delay_for(
    error: &CursorError,
    attempt: u32,
    backoff: &Backoff,
    unit: f64,
) -> Option<Duration> {
    match error.class() {
        ErrorClass::Fatal => None,
        ErrorClass::RateLimited {
            retry_after: Some(d),
        } => Some(d),
        ErrorClass::RateLimited { retry_after: None } | ErrorClass::Transient => {
            Some(backoff.delay(attempt, unit))
        }
    }
}

/// The longest a launch waits before retrying (a `Retry-After` asking more
/// ends it at once).
pub(crate) const MAX_LAUNCH_WAIT: Duration = Duration::from_secs(120);

/// Whether a launch (or follow-up) may wait `wait` before its next attempt:
/// at most [`MAX_LAUNCH_WAIT`], and never past `deadline` (the `timeout`
/// input, counted from the launch's start, bounds the launch too). `Err`:
/// why not, for the report.
pub fn launch_wait(wait: Duration, now: Moment, deadline: Moment) -> Result<Duration, String> {
    let secs = wait.as_secs().max(1);
    if wait > MAX_LAUNCH_WAIT {
        return Err(format!(
            "Cursor asked to retry in {secs}s, longer than a launch waits ({}s); re-run the job later",
            MAX_LAUNCH_WAIT.as_secs()
        ));
    }
    if now + wait >= deadline {
        return Err(format!(
            "Cursor asked to retry in {secs}s, past `timeout` ({}s left of it), which bounds the launch too; re-run the job later, or raise `timeout`",
            deadline.saturating_since(now).as_secs()
        ));
    }
    Ok(wait)
}

/// How many times a follow-up is sent at the most.
const FOLLOWUP_ATTEMPTS: u32 = 4;

/// The longest a follow-up waits before it is sent again.
const MAX_FOLLOWUP_WAIT: Duration = Duration::from_secs(60);

/// What a follow-up does after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowupRetry {
    /// Waited: send it again.
    Again,
    /// Not retryable, or the last attempt: report the error.
    GiveUp,
    /// The run was cancelled while waiting.
    Cancelled,
}

/// After attempt `attempt` (1-based) of a follow-up failed, and the caller
/// has checked that it did not land (a follow-up is never repeated blindly),
/// whether to send it again, after waiting here. `class`: the error's class
/// in its own version's terms; `error`: the same error in v0 terms, whose
/// rules (and `Retry-After`) say how long to wait. Both API versions' follow-ups
/// retry through this one step.
pub async fn followup_retry(
    class: ErrorClass,
    error: &CursorError,
    attempt: u32,
    clock: &Clock,
    cancel: &Cancel,
) -> FollowupRetry {
    let retryable = class != ErrorClass::Fatal && attempt < FOLLOWUP_ATTEMPTS;
    match delay_for(error, attempt - 1, &Backoff::default(), 0.5).filter(|_| retryable) {
        Some(wait) => {
            tokio::select! {
                _ = clock.sleep(wait.min(MAX_FOLLOWUP_WAIT)) => FollowupRetry::Again,
                _ = cancel.cancelled() => FollowupRetry::Cancelled,
            }
        }
        None => FollowupRetry::GiveUp,
    }
}

/// Why a retried call gave up.
#[derive(Debug)]
pub enum GaveUp {
    /// The last error, which was fatal or came after the last attempt.
    Failed(CursorError),
    /// The deadline came first (with the last error, if any).
    Deadline(Option<CursorError>),
    Cancelled,
}

/// Retries an idempotent call on transient errors and rate limits, with
/// backoff, until `deadline`, at most `max_attempts` times.
pub async fn retry_idempotent<T, F, Fut>(
    clock: &Clock,
    deadline: Moment,
    cancel: &Cancel,
    max_attempts: u32,
    backoff: &Backoff,
    mut op: F,
) -> Result<T, GaveUp>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CursorError>>,
{
    let mut rng = fastrand::Rng::new();
    let mut last = None;
    for attempt in 0..max_attempts.max(1) {
        if cancel.is_cancelled() {
            return Err(GaveUp::Cancelled);
        }
        let remaining = deadline.saturating_since(clock.now());
        if remaining.is_zero() {
            return Err(GaveUp::Deadline(last));
        }
        let result = tokio::select! {
            r = clock.timeout(remaining, op()) => r,
            _ = cancel.cancelled() => return Err(GaveUp::Cancelled),
        };
        let error = match result {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => e,
            Err(_) => return Err(GaveUp::Deadline(last)),
        };
        let Some(wait) = delay_for(&error, attempt, backoff, rng.f64()) else {
            return Err(GaveUp::Failed(error));
        };
        tracing::debug!("{error}; retrying in {:.1}s", wait.as_secs_f64());
        last = Some(error);
        if attempt + 1 == max_attempts.max(1) {
            break;
        }
        if clock.now() + wait >= deadline {
            // Waiting would run past the deadline: stop now, not later.
            clock.sleep_until(deadline).await;
            return Err(GaveUp::Deadline(last));
        }
        tokio::select! {
            _ = clock.sleep(wait) => {}
            _ = cancel.cancelled() => return Err(GaveUp::Cancelled),
        }
    }
    Err(GaveUp::Failed(last.expect("at least one attempt failed")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Endpoint, ErrorBody};
    use proptest::prelude::*;

    fn status(code: u16, retry_after: Option<u64>) -> CursorError {
        CursorError::Status {
            endpoint: Endpoint::Agent,
            status: code,
            body: ErrorBody::default(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn which_errors_retry() {
        let b = Backoff::default();
        assert_eq!(
            delay_for(&status(429, Some(7)), 0, &b, 0.3),
            Some(Duration::from_secs(7))
        );
        assert!(delay_for(&status(429, None), 0, &b, 0.3).is_some());
        assert!(delay_for(&status(502, None), 3, &b, 0.3).is_some());
        assert_eq!(delay_for(&status(401, None), 0, &b, 0.3), None);
        assert_eq!(delay_for(&status(404, None), 0, &b, 0.3), None);
    }

    proptest! {
        #[test]
        fn backoff_is_bounded_and_monotone(base_ms in 1u64..5000, cap_ms in 1u64..120_000, n in 0u32..64, unit in 0.0f64..1.0) {
            let b = Backoff { base: Duration::from_millis(base_ms), cap: Duration::from_millis(cap_ms.max(base_ms)) };
            let env = b.envelope(n);
            prop_assert!(env <= b.cap);
            prop_assert!(b.envelope(n + 1) >= env);
            let d = b.delay(n, unit);
            prop_assert!(d <= env && d >= env / 2);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_errors_then_succeeds() {
        let clock = Clock::real();
        let mut calls = 0;
        let r = retry_idempotent(
            &clock,
            clock.now() + Duration::from_secs(60),
            &Cancel::new(),
            5,
            &Backoff::default(),
            || {
                calls += 1;
                let n = calls;
                async move { if n < 3 { Err(status(502, None)) } else { Ok(n) } }
            },
        )
        .await;
        assert_eq!(r.unwrap(), 3);
    }

    #[test]
    fn a_launch_never_waits_past_its_deadline_or_the_cap() {
        let start = Moment::ZERO;
        let deadline = start + Duration::from_secs(300);
        let ok = |w: u64, at: u64| {
            launch_wait(
                Duration::from_secs(w),
                start + Duration::from_secs(at),
                deadline,
            )
        };
        assert_eq!(ok(30, 0), Ok(Duration::from_secs(30)));
        assert!(
            ok(121, 0)
                .unwrap_err()
                .contains("longer than a launch waits")
        );
        let past = ok(60, 250).unwrap_err();
        assert!(
            past.contains("`timeout`") && past.contains("50s left"),
            "{past}"
        );
        assert!(ok(3600, 0).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_followup_is_sent_at_most_four_times_waiting_at_most_a_minute() {
        let clock = Clock::real();
        let cancel = Cancel::new();
        let transient = ErrorClass::Transient;
        let start = clock.now();
        // `Retry-After: 3600` is waited for a minute at the most.
        let slow = status(429, Some(3600));
        assert_eq!(
            followup_retry(slow.class(), &slow, 1, &clock, &cancel).await,
            FollowupRetry::Again
        );
        assert_eq!(clock.now(), start + MAX_FOLLOWUP_WAIT);
        let busy = status(502, None);
        for attempt in 2..FOLLOWUP_ATTEMPTS {
            assert_eq!(
                followup_retry(transient, &busy, attempt, &clock, &cancel).await,
                FollowupRetry::Again
            );
        }
        let before = clock.now();
        assert_eq!(
            followup_retry(transient, &busy, FOLLOWUP_ATTEMPTS, &clock, &cancel).await,
            FollowupRetry::GiveUp
        );
        // A fatal class in the caller's version gives up at once.
        assert_eq!(
            followup_retry(ErrorClass::Fatal, &busy, 1, &clock, &cancel).await,
            FollowupRetry::GiveUp
        );
        assert_eq!(clock.now(), before, "giving up waits for nothing");
        cancel.cancel("test");
        assert_eq!(
            followup_retry(transient, &busy, 1, &clock, &cancel).await,
            FollowupRetry::Cancelled
        );
    }

    #[tokio::test(start_paused = true)]
    async fn never_waits_past_the_deadline() {
        let clock = Clock::real();
        let deadline = clock.now() + Duration::from_secs(10);
        let r = retry_idempotent(
            &clock,
            deadline,
            &Cancel::new(),
            10,
            &Backoff::default(),
            || async { Err::<(), _>(status(429, Some(3600))) },
        )
        .await;
        assert!(matches!(r, Err(GaveUp::Deadline(Some(_)))));
        assert_eq!(clock.now(), deadline);
    }
}
