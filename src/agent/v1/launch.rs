//! Launching on v1: the create with its `agentId`, adopting a replayed one, finding one in flight.

use super::super::AgentRun;
use super::{V1, repo_of_pr, view};
use crate::agent::{ApiError, Failure, LaunchError};
use crate::runner::Console;
use cursor_api::retry::{Backoff, delay_for};
use cursor_api::v1::{self as api, RepoSpec, V1Error};
use cursor_api::{ErrorClass, agent_url};
use std::time::Duration;

/// Creates sent for one launch at most (all with the same `agentId`).
const MAX_CREATES: u32 = 4;

impl V1 {
    /// Launches on the pull request's own branch instead (`repos[0].prUrl`
    /// with `workOnCurrentBranch: true`).
    pub fn launch_on_pull(&mut self, pr_url: &str) {
        self.request.repos = vec![RepoSpec {
            url: repo_of_pr(pr_url),
            starting_ref: None,
            pr_url: Some(pr_url.to_string()),
        }];
        self.request.work_on_current_branch = Some(true);
    }

    pub fn print_launch(&self, console: &Console) {
        let request = &self.request;
        console.group(&format!(
            "Launching a Cursor agent on {} (API v1)",
            self.repository
        ));
        if let Some(repo) = request.repos.first() {
            match (&repo.pr_url, &repo.starting_ref) {
                (Some(pr), _) => console.info(&format!("Pull request: {pr}")),
                (None, Some(r)) => console.info(&format!("Ref: {r}")),
                (None, None) => console.info("Ref: the repository's default branch"),
            }
        }
        if let Some(w) = request.work_on_current_branch {
            console.info(&format!("Work on the current branch: {w}"));
        }
        if let Some(id) = &request.agent_id {
            console.info(&format!("Agent id: {id}"));
        }
        if let Some(model) = &request.model {
            console.info(&format!("Model: {}", model.id));
        }
        if let Some(mode) = request.mode {
            console.info(&format!(
                "Mode: {}",
                match mode {
                    api::Mode::Agent => "agent",
                    api::Mode::Plan => "plan",
                }
            ));
        }
        console.info(&format!(
            "Prompt ({} characters):",
            request.prompt.text.chars().count()
        ));
        console.untrusted_block(&request.prompt.text);
        console.endgroup();
    }

    /// Adopts the agent a create made whose answer was lost.
    async fn adopt(&mut self, id: &str) -> Result<AgentRun, Failure> {
        self.reattach(id, None).await
    }

    pub async fn launch(&mut self, console: &Console) -> Result<(AgentRun, bool), LaunchError> {
        if self.cancel.is_cancelled() {
            return Err(LaunchError::Cancelled);
        }
        let mut ambiguous = false;
        let mut attempt = 0;
        let deadline = self.clock.now() + self.timeout;
        loop {
            attempt += 1;
            let result = tokio::select! {
                r = self.client.create_agent(&self.request) => r,
                _ = self.cancel.cancelled() => return Err(LaunchError::CancelledInFlight),
            };
            let error = match result {
                Ok(created) => {
                    self.run = Some(created.run.id.clone());
                    let agent = view(
                        &created.agent.id,
                        created.agent.url.as_deref(),
                        Some(&created.run),
                        None,
                    );
                    // Our own answer: created by it, not adopted (a lost
                    // earlier answer that did create would have made this
                    // one a 409).
                    return Ok((agent, false));
                }
                Err(e) => e,
            };
            if error.code() == Some("agent_id_conflict")
                && let Some(id) = self.request.agent_id.clone()
            {
                // An earlier create (a lost answer, or an earlier attempt of
                // this run) made it: adopt it.
                return match self.adopt(&id).await {
                    Ok(agent) => Ok((agent, true)),
                    Err(Failure::Cancelled) => Err(LaunchError::CancelledInFlight),
                    Err(Failure::Failed(e) | Failure::Deadline(Some(e))) => {
                        Err(LaunchError::Unknown(e))
                    }
                    Err(Failure::Deadline(None)) => Err(LaunchError::Unknown(ApiError::V1(error))),
                };
            }
            let applied = error.maybe_applied();
            if applied && self.request.agent_id.is_none() {
                // Without an `agentId` a retry could make a second agent.
                return Err(LaunchError::Unknown(ApiError::V1(error)));
            }
            let wait = delay_for(&error.as_v0(), attempt - 1, &Backoff::default(), 0.5)
                .filter(|_| error.class() != ErrorClass::Fatal || applied)
                .filter(|_| attempt < MAX_CREATES);
            // No wait past `timeout` (nor a very long one): with nothing
            // created, the launch ends at once and says why.
            let wait =
                match wait.map(|w| cursor_api::retry::launch_wait(w, self.clock.now(), deadline)) {
                    Some(Err(why)) if !(ambiguous || applied) => {
                        return Err(LaunchError::WaitRefused {
                            error: ApiError::V1(error),
                            why,
                        });
                    }
                    Some(Ok(w)) => Some(w),
                    _ => None,
                };
            match wait {
                Some(wait) => {
                    ambiguous |= applied;
                    let verb = if applied {
                        "The launch's answer was lost"
                    } else {
                        "The launch failed"
                    };
                    console.info(&format!(
                        "{verb} ({error}); retrying with the same agent id in {}s",
                        wait.as_secs().max(1)
                    ));
                    tokio::select! {
                        _ = self.clock.sleep(wait) => {}
                        _ = self.cancel.cancelled() => return Err(if ambiguous {
                            LaunchError::CancelledInFlight
                        } else {
                            LaunchError::Cancelled
                        }),
                    }
                }
                _ if ambiguous || applied => {
                    // The `agentId` settles it: a create that landed made
                    // that agent (adopt it); a 404 says none did, so the
                    // failure is Cursor's refusal, reported as such.
                    let Some(id) = self.request.agent_id.clone() else {
                        return Err(LaunchError::Unknown(ApiError::V1(error)));
                    };
                    return match self.adopt(&id).await {
                        Ok(agent) => Ok((agent, true)),
                        Err(Failure::Cancelled) => Err(LaunchError::CancelledInFlight),
                        Err(Failure::Failed(e)) if e.status() == Some(404) => {
                            Err(LaunchError::Failed(ApiError::V1(error)))
                        }
                        Err(_) => Err(LaunchError::Unknown(ApiError::V1(error))),
                    };
                }
                _ => return Err(LaunchError::Failed(ApiError::V1(error))),
            }
        }
    }

    pub async fn find_in_flight(&mut self, budget: Duration) -> Result<AgentRun, String> {
        let Some(id) = self.request.agent_id.clone() else {
            return Err("no agent id was chosen, so it cannot be looked up".into());
        };
        let clock = self.clock;
        let client = self.client.clone();
        let looked = clock
            .timeout(budget, async {
                let agent = client.agent(&id).await?;
                let run = match &agent.latest_run_id {
                    Some(r) => Some(client.run(&id, r).await?),
                    None => None,
                };
                Ok::<_, V1Error>((agent, run))
            })
            .await;
        match looked {
            Ok(Ok((agent, run))) => {
                self.run = run.as_ref().map(|r| r.id.clone());
                Ok(view(&id, agent.url.as_deref(), run.as_ref(), None))
            }
            Ok(Err(e)) if e.status() == Some(404) => Err("none was found yet".into()),
            Ok(Err(e)) => Err(format!("the lookup failed: {e}")),
            Err(_) => Err("the lookup did not answer in time".into()),
        }
    }

    pub fn in_flight_hint(&self) -> String {
        match &self.request.agent_id {
            Some(id) => format!("Check {} (agent id {id})", agent_url(id)),
            None => "Check https://cursor.com/agents for it".into(),
        }
    }
}
