//! A follow-up on v1 (a new run), unarchiving, archive-when-done, waiting for idle.

use super::{V1, view};
use crate::agent::{ApiError, Failure, Followup};
use cursor_api::retry::{FollowupRetry, followup_retry};
use cursor_api::v1::{self as api, CreateRunRequest};
use cursor_api::wait::stream::{StreamConfig, StreamEnd, StreamEvent, StreamFollower};
use kit::clock::Moment;
use std::time::Duration;

impl V1 {
    pub async fn followup(&mut self, id: &str, text: &str) -> Followup {
        // The `images` input goes with a follow-up as with a launch.
        let request = CreateRunRequest {
            prompt: api::Prompt {
                text: text.to_string(),
                images: self.request.prompt.images.clone(),
            },
            model: self.model.clone(),
        };
        let before = match self
            .read(Duration::from_secs(60), || self.client.agent(id))
            .await
        {
            Ok(a) => a,
            Err(Failure::Cancelled) => return Followup::CancelledInFlight,
            Err(Failure::Failed(e)) => {
                return match crate::agent::existence(&e) {
                    crate::agent::Existence::Gone(how) => Followup::Gone(format!(
                        "The agent {id} this issue was using is gone ({how}), so a new agent was launched."
                    )),
                    _ => Followup::Failed {
                        error: e,
                        agent: None,
                    },
                };
            }
            Err(Failure::Deadline(Some(e))) => {
                return Followup::Failed {
                    error: e,
                    agent: None,
                };
            }
            Err(Failure::Deadline(None)) => return Followup::Unread(Failure::Deadline(None)),
        };
        // An archived agent (`archive-when-done`, or by hand) is unarchived
        // and the run sent to it; only if that fails is a new one launched.
        let mut unarchived = false;
        if before.status == api::AgentStatus::Archived {
            if let Some(gone) = self.unarchive(id).await {
                return gone;
            }
            unarchived = true;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = tokio::select! {
                r = self.client.create_run(id, &request) => r,
                _ = self.cancel.cancelled() => return Followup::CancelledInFlight,
            };
            let error = match result {
                Ok(run) => {
                    self.run = Some(run.id.clone());
                    return Followup::Sent(view(id, before.url.as_deref(), Some(&run), None));
                }
                Err(e) => e,
            };
            match error.code() {
                Some("agent_busy") => return Followup::Busy,
                Some("agent_archived") if !unarchived => {
                    if let Some(gone) = self.unarchive(id).await {
                        return gone;
                    }
                    unarchived = true;
                    attempt -= 1;
                    continue;
                }
                Some("agent_archived") => {
                    return Followup::Gone(format!(
                        "The agent {id} this issue was using is archived in Cursor and stayed archived after it was unarchived, so a new agent was launched."
                    ));
                }
                _ => {}
            }
            if let crate::agent::Existence::Gone(how) =
                crate::agent::existence(&ApiError::V1(error.clone()))
            {
                return Followup::Gone(format!(
                    "The agent {id} this issue was using is gone ({how}), so a new agent was launched."
                ));
            }
            // A lost answer: a new latest run says it landed.
            if error.maybe_applied()
                && let Ok(now) = self
                    .read(Duration::from_secs(60), || self.client.agent(id))
                    .await
                && now.latest_run_id.is_some()
                && now.latest_run_id != before.latest_run_id
            {
                let run_id = now.latest_run_id.clone().unwrap_or_default();
                let run = self
                    .read(Duration::from_secs(60), || self.client.run(id, &run_id))
                    .await
                    .ok();
                self.run = Some(run_id);
                return Followup::Sent(view(id, now.url.as_deref(), run.as_ref(), None));
            }
            match followup_retry(
                error.class(),
                &error.as_v0(),
                attempt,
                &self.clock,
                &self.cancel,
            )
            .await
            {
                FollowupRetry::Again => {}
                FollowupRetry::Cancelled => return Followup::CancelledInFlight,
                FollowupRetry::GiveUp => {
                    let agent = self.reattach(id, None).await.ok();
                    return Followup::Failed {
                        error: ApiError::V1(error),
                        agent,
                    };
                }
            }
        }
    }

    /// Unarchives agent `id` for a follow-up. `Some`: what the follow-up
    /// does instead (a new agent, or the cancel).
    async fn unarchive(&mut self, id: &str) -> Option<Followup> {
        match self
            .read(Duration::from_secs(60), || self.client.unarchive(id))
            .await
        {
            Ok(_) => {
                tracing::info!("Unarchived agent {id} for this follow-up");
                None
            }
            Err(Failure::Cancelled) => Some(Followup::CancelledInFlight),
            Err(e) => Some(Followup::Gone(format!(
                "The agent {id} this issue was using is archived in Cursor and could not be unarchived ({}), so a new agent was launched.",
                e.describe()
            ))),
        }
    }

    /// `archive-when-done`: archives agent `id` once its run has ended and
    /// no other run is queued for it, before `deadline`. A failure changes
    /// nothing else (the agent just keeps counting against the plan's
    /// limit); what happened is returned for the log.
    pub async fn archive_if_done(&mut self, id: &str, deadline: Moment) -> Option<String> {
        if !self.archive_when_done {
            return None;
        }
        let within = deadline.saturating_since(self.clock.now());
        let agent = match self.read(within, || self.client.agent(id)).await {
            Ok(a) => a,
            Err(e) => {
                return Some(format!(
                    "Agent {id} was not archived (it could not be read: {})",
                    e.describe()
                ));
            }
        };
        if agent.status == api::AgentStatus::Archived {
            return None;
        }
        let queued = agent.status == api::AgentStatus::Active
            || (self.run.is_some() && agent.latest_run_id != self.run);
        if queued {
            return Some(format!(
                "Agent {id} was not archived: another run is queued or running on it"
            ));
        }
        let within = deadline.saturating_since(self.clock.now());
        Some(match self.read(within, || self.client.archive(id)).await {
            Ok(_) => format!("Archived agent {id} (archive-when-done); a follow-up unarchives it"),
            Err(e) => format!("Agent {id} was not archived: {}", e.describe()),
        })
    }

    /// Follows agent `id`'s current run to its end (or `deadline`).
    pub async fn await_idle(&mut self, id: &str, deadline: Moment) -> Result<(), Failure> {
        let agent = self
            .read(Duration::from_secs(60), || self.client.agent(id))
            .await?;
        let Some(run) = agent.latest_run_id else {
            return Ok(());
        };
        let config = StreamConfig {
            schedule: self.schedule,
            started: self.clock.now(),
            deadline,
        };
        let mut follower = StreamFollower::new(
            &self.client,
            id,
            &run,
            config,
            self.clock,
            self.cancel.clone(),
        );
        loop {
            match follower.next().await {
                StreamEvent::Done(StreamEnd::Ended { .. }) => return Ok(()),
                StreamEvent::Done(StreamEnd::Cancelled) => return Err(Failure::Cancelled),
                StreamEvent::Done(StreamEnd::Deadline) => return Err(Failure::Deadline(None)),
                StreamEvent::Done(StreamEnd::Failed(e)) => {
                    return Err(Failure::Failed(ApiError::V1(e)));
                }
                _ => {}
            }
        }
    }
}
