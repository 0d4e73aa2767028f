//! Stopping on v1: cancelling the run and reading it back.

use super::{V1, status_of, view};
use cursor_api::ErrorClass;
use cursor_api::retry::{Backoff, delay_for};
use cursor_api::v1::RunStatus;
use kit::clock::Moment;
use std::time::Duration;

/// Reads confirming a cancel are this far apart.
const CONFIRM_EVERY: Duration = Duration::from_millis(400);

impl V1 {
    /// Cancels the run, then reads it back. A cancel may answer 500 and
    /// leave the run RUNNING, or come after the run ended (409): neither is
    /// reported as a stop; a run read back ended is reported as it ended.
    pub async fn stop(&mut self, id: &str, deadline: Moment) -> crate::agent::Stop {
        use crate::agent::Stop;
        let Some(run) = self.run.clone() else {
            return Stop::NotStopped("no run is known to cancel".into());
        };
        let clock = self.clock;
        let start = clock.now();
        // Keep a third of the budget for the read that confirms it.
        let cancel_until = start + deadline.saturating_since(start).mul_f64(0.66);
        let backoff = Backoff {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(4),
        };
        // `None`: Cursor took the cancel.
        let mut refused = Some("the cancel was not sent".to_string());
        for attempt in 0..5 {
            match clock
                .timeout(
                    deadline.saturating_since(clock.now()),
                    self.client.cancel_run(id, &run),
                )
                .await
            {
                Ok(Ok(_)) => {
                    refused = None;
                    break;
                }
                // Not cancellable: it has ended already (the read tells how).
                Ok(Err(e))
                    if e.code() == Some("run_not_cancellable") || e.status() == Some(409) =>
                {
                    refused = Some("Cursor answered that the run is not cancellable (409)".into());
                    break;
                }
                Ok(Err(e)) => {
                    let wait = delay_for(&e.as_v0(), attempt, &backoff, 0.5)
                        .filter(|_| e.class() != ErrorClass::Fatal);
                    refused = Some(e.actionable(&self.repository));
                    match wait {
                        Some(w) if clock.now() + w < cancel_until => clock.sleep(w).await,
                        _ => break,
                    }
                }
                Err(_) => {
                    refused = Some("Cursor did not answer the cancel in time".into());
                    break;
                }
            }
        }
        // The run takes a moment to end after an accepted cancel: re-read
        // it a few times, spaced, within the budget. A refused one is read
        // once: it will not end because of us.
        let read = loop {
            let left = deadline
                .saturating_since(clock.now())
                .max(Duration::from_millis(300));
            let read = clock.timeout(left, self.client.run(id, &run)).await;
            let again = clock.now() + CONFIRM_EVERY < deadline;
            match &read {
                Ok(Ok(r)) if !r.status.is_terminal() && again && refused.is_none() => {
                    clock.sleep(CONFIRM_EVERY).await
                }
                Ok(Err(e)) if e.class() != ErrorClass::Fatal && again => {
                    clock.sleep(CONFIRM_EVERY).await
                }
                _ => break read,
            }
        };
        match (read, refused) {
            (Ok(Ok(r)), None) if r.status == RunStatus::Cancelled => {
                Stop::Stopped(status_of(&r.status))
            }
            (Ok(Ok(r)), refused) if r.status.is_terminal() => Stop::Ended {
                agent: view(id, None, Some(&r), None),
                refused,
            },
            (Ok(Ok(r)), Some(why)) => Stop::NotStopped(format!(
                "the cancel was refused ({why}) and the run still reads {}",
                r.status
            )),
            (Ok(Ok(r)), None) => Stop::NotStopped(format!(
                "Cursor accepted the cancel, but the run still reads {}",
                r.status
            )),
            (_, Some(why)) => Stop::NotStopped(format!(
                "the cancel was refused ({why}) and the run could not be read to see whether it ended"
            )),
            (_, None) => Stop::NotStopped(
                "Cursor accepted the cancel, but the run could not be read to confirm it ended"
                    .into(),
            ),
        }
    }
}
