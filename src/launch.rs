//! Launching without duplicates. `POST /v0/agents` is retried only when the
//! request certainly did not reach Cursor (connection refused, 429). When the
//! answer is lost after the request was sent, the agent may exist: we look it
//! up and adopt it, and launch again only when it is not there. The lookup
//! uses a key the API honours: the deterministic branch name for a new
//! branch on a repository; for a pull request (`source.prUrl`, where v0
//! ignores `branchName` when it pushes to the PR's branch) the list filtered
//! by `prUrl`, narrowed to agents created since this launch began whose
//! first message is our prompt.

use crate::cancel::Cancel;
use crate::clock::Clock;
use crate::cursor::{Agent, CursorClient, CursorError, LaunchRequest};
use crate::retry::{Backoff, GaveUp, delay_for, retry_idempotent};
use crate::runner::Console;
use std::time::{Duration, SystemTime};

/// Launches whose answer was lost, at most: each is followed by a lookup,
/// and only a lookup that finds nothing allows another.
pub const MAX_AMBIGUOUS_LAUNCHES: u32 = 4;
/// Pages of the agent list searched for a lost launch (100 agents each).
const LOOKUP_PAGES: u32 = 3;
/// Waits before each lookup: a slow create may show up a little later.
const LOOKUP_WAITS: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_secs(5),
    Duration::from_secs(15),
];

#[derive(Debug)]
pub enum LaunchError {
    /// Cursor refused, or kept failing before the request was processed.
    Failed(CursorError),
    /// The launch may have created an agent that could not be found (no
    /// branch identity, or the lookups failed).
    Unknown(CursorError),
    Cancelled,
}

/// How the agent was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Launched {
    /// Found by branch after a lost answer, instead of created by our answer.
    pub adopted: bool,
    /// `POST /v0/agents` requests sent.
    pub requests: u32,
}

/// Normalizes a repository URL for comparison (`github.com/o/r` form).
fn repo_key(url: &str) -> String {
    let u = url.trim().trim_end_matches('/').trim_end_matches(".git");
    let u = u.split_once("://").map(|(_, rest)| rest).unwrap_or(u);
    u.to_ascii_lowercase()
}

/// Whether a listed agent is the one this request would have created.
pub fn matches_request(agent: &Agent, request: &LaunchRequest) -> bool {
    let Some(branch) = &request.target.branch_name else {
        return false;
    };
    if agent.target.branch_name.as_deref() != Some(branch.as_str()) {
        return false;
    }
    match (&agent.source.repository, &request.source.repository) {
        (Some(a), Some(b)) => repo_key(a) == repo_key(b),
        _ => true,
    }
}

/// How far Cursor's clock may be behind ours when comparing `createdAt`
/// with the moment this launch began.
const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// `YYYY-MM-DDTHH:MM:SS`, the part of an ISO 8601 UTC time that orders
/// the same as a string.
fn iso_seconds(t: SystemTime) -> String {
    crate::sim::time::iso8601(t)[..19].to_string()
}

/// Whether an agent listed for our pull request could be this launch's:
/// created since `not_before` (or undated) and started with our prompt.
async fn is_our_pr_agent(
    cursor: &CursorClient,
    agent: &Agent,
    request: &LaunchRequest,
    not_before: &str,
) -> Result<bool, CursorError> {
    let created = agent.created_at.as_deref().unwrap_or("");
    if created.len() >= 19 && &created[..19] < not_before {
        return Ok(false);
    }
    let conversation = cursor.conversation(&agent.id).await?;
    Ok(conversation
        .messages
        .iter()
        .find(|m| m.kind == crate::cursor::MessageKind::User)
        .is_some_and(|m| m.text == request.prompt.text))
}

/// Looks for the agent a lost launch of `request` (begun at `began`) may
/// have created on a pull request: `GET /v0/agents?prUrl=`.
async fn find_pr_agent(
    cursor: &CursorClient,
    request: &LaunchRequest,
    pr_url: &str,
    began: SystemTime,
) -> Result<Option<Agent>, CursorError> {
    let not_before = iso_seconds(began - CLOCK_SKEW);
    let mut page_cursor: Option<String> = None;
    for _ in 0..LOOKUP_PAGES {
        let page = cursor
            .list_agents(Some(100), page_cursor.as_deref(), Some(pr_url))
            .await?;
        for agent in &page.agents {
            if is_our_pr_agent(cursor, agent, request, &not_before).await? {
                return Ok(Some(agent.clone()));
            }
        }
        match page.next() {
            Some(next) => page_cursor = Some(next.to_string()),
            None => break,
        }
    }
    Ok(None)
}

/// The lookup after a lost answer to a launch begun at `began`.
async fn find_launched(
    cursor: &CursorClient,
    request: &LaunchRequest,
    began: SystemTime,
) -> Result<Option<Agent>, CursorError> {
    match &request.source.pr_url {
        Some(pr_url) => find_pr_agent(cursor, request, pr_url, began).await,
        None => find_existing(cursor, request).await,
    }
}

/// Whether a lost launch of `request` can be looked up.
fn has_identity(request: &LaunchRequest) -> bool {
    request.source.pr_url.is_some() || request.target.branch_name.is_some()
}

/// Looks through the newest agents for one matching `request` by its
/// branch name (also a re-run's lookup). An agent pushing to a pull
/// request's own branch has no branch name of ours and, on a re-run, no
/// launch moment to go by: a re-run finds it through the comment's marker.
pub async fn find_existing(
    cursor: &CursorClient,
    request: &LaunchRequest,
) -> Result<Option<Agent>, CursorError> {
    if request.target.branch_name.is_none() {
        return Ok(None);
    }
    let mut page_cursor: Option<String> = None;
    for _ in 0..LOOKUP_PAGES {
        let page = cursor
            .list_agents(Some(100), page_cursor.as_deref(), None)
            .await?;
        if let Some(agent) = page.agents.iter().find(|a| matches_request(a, request)) {
            return Ok(Some(agent.clone()));
        }
        match page.next() {
            Some(next) => page_cursor = Some(next.to_string()),
            None => break,
        }
    }
    Ok(None)
}

async fn lookup_after_ambiguity(
    cursor: &CursorClient,
    clock: &Clock,
    cancel: &Cancel,
    request: &LaunchRequest,
    began: SystemTime,
) -> Result<Option<Agent>, LaunchError> {
    let mut last_error = None;
    for wait in LOOKUP_WAITS {
        tokio::select! {
            _ = clock.sleep(wait) => {}
            _ = cancel.cancelled() => return Err(LaunchError::Cancelled),
        }
        // Listing is idempotent: ride out a short outage before concluding.
        let deadline = clock.now() + Duration::from_secs(60);
        let found = retry_idempotent(clock, deadline, cancel, 4, &Backoff::default(), || {
            find_launched(cursor, request, began)
        })
        .await;
        match found {
            Ok(Some(agent)) => return Ok(Some(agent)),
            Ok(None) => last_error = None,
            Err(GaveUp::Cancelled) => return Err(LaunchError::Cancelled),
            Err(GaveUp::Failed(e) | GaveUp::Deadline(Some(e))) => last_error = Some(e),
            Err(GaveUp::Deadline(None)) => {
                last_error = Some(CursorError::Timeout {
                    endpoint: crate::cursor::Endpoint::ListAgents,
                })
            }
        }
    }
    match last_error {
        // The list never answered: we cannot tell, so we must not relaunch.
        Some(e) => Err(LaunchError::Unknown(e)),
        None => Ok(None),
    }
}

/// Launches `request`, retrying only what is safe and adopting a lost launch.
pub async fn launch(
    cursor: &CursorClient,
    clock: &Clock,
    cancel: &Cancel,
    console: &Console,
    request: &LaunchRequest,
) -> Result<(Agent, Launched), LaunchError> {
    let backoff = Backoff::default();
    let mut rng = fastrand::Rng::new();
    let mut requests = 0;
    let mut safe_retries = 0;
    let mut ambiguous = 0;
    let began = SystemTime::now();
    loop {
        if cancel.is_cancelled() {
            return Err(LaunchError::Cancelled);
        }
        requests += 1;
        let result = tokio::select! {
            r = cursor.launch(request) => r,
            _ = cancel.cancelled() => return Err(LaunchError::Cancelled),
        };
        let error = match result {
            Ok(agent) => {
                return Ok((
                    agent,
                    Launched {
                        adopted: false,
                        requests,
                    },
                ));
            }
            Err(e) => e,
        };
        if !error.maybe_applied() {
            // Nothing was created: a transient failure or rate limit may be retried.
            let wait = delay_for(&error, safe_retries, &backoff, rng.f64())
                .filter(|w| *w <= Duration::from_secs(120));
            match wait {
                Some(wait) if safe_retries < 4 => {
                    safe_retries += 1;
                    console.info(&format!(
                        "Launch not accepted yet ({error}); retrying in {}s",
                        wait.as_secs().max(1)
                    ));
                    tokio::select! {
                        _ = clock.sleep(wait) => {}
                        _ = cancel.cancelled() => return Err(LaunchError::Cancelled),
                    }
                    continue;
                }
                _ => return Err(LaunchError::Failed(error)),
            }
        }
        ambiguous += 1;
        if !has_identity(request) {
            return Err(LaunchError::Unknown(error));
        }
        let looking_for = match (&request.source.pr_url, &request.target.branch_name) {
            (Some(pr), _) => format!("this run's agent on {pr}"),
            (None, Some(branch)) => format!("branch {branch}"),
            (None, None) => unreachable!("has_identity checked"),
        };
        console.warning(&format!(
            "The launch may have created an agent although its answer was lost ({error}); looking for {looking_for} before launching again."
        ));
        match lookup_after_ambiguity(cursor, clock, cancel, request, began).await? {
            Some(agent) => {
                console.info(&format!(
                    "Found the agent launched by this run: {}",
                    agent.id
                ));
                return Ok((
                    agent,
                    Launched {
                        adopted: true,
                        requests,
                    },
                ));
            }
            None if ambiguous < MAX_AMBIGUOUS_LAUNCHES => {
                console.info("No agent was created; launching again.");
            }
            None => return Err(LaunchError::Unknown(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_keys() {
        assert_eq!(repo_key("https://github.com/O/R.git/"), "github.com/o/r");
        assert_eq!(repo_key("github.com/o/r"), "github.com/o/r");
    }
}
