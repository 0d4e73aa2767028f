//! Launching without duplicates. `POST /v0/agents` is retried only when the
//! request certainly did not reach Cursor (connection refused, 429). When the
//! answer is lost after the request was sent, the agent may exist: we look it
//! up and adopt it, and launch again only when it is not there. The lookup
//! uses a key the API honours: the deterministic branch name for a new
//! branch on a repository; for a pull request (`source.prUrl`, where v0
//! ignores `branchName` when it pushes to the PR's branch) the list filtered
//! by `prUrl`, narrowed to agents created since this launch began whose
//! first message is our prompt.

use crate::runner::Console;
use cursor_api::retry::{Backoff, GaveUp, delay_for, retry_idempotent};
use cursor_api::{Agent, CursorClient, CursorError, LaunchRequest};
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
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
    /// Cancelled before any request that could create an agent was sent.
    Cancelled,
    /// Cancelled while a launch request was in flight (or its lost answer was
    /// being looked up): an agent may exist.
    CancelledInFlight,
    /// Nothing was created, and the wait Cursor asked for before a retry is
    /// too long or passes the deadline (see [`cursor_api::retry::launch_wait`]).
    WaitRefused { error: CursorError, why: String },
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

/// Clock skew allowed between the runner and Cursor when judging whether an
/// agent was created after this run started.
const CREATED_SKEW: Duration = Duration::from_secs(120);

pub use kit::rfc3339::parse as parse_rfc3339;

/// Which listed agent may be taken for this run's own: the same request
/// (branch, repository, ref) and, when `not_before` is set, created after it
/// (a fixed `branch-name` is shared with every other run that uses it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Adoption {
    /// Epoch seconds: agents created earlier (beyond clock skew) are another run's.
    pub not_before: Option<u64>,
}

/// Whether a listed agent is the one this request would have created.
pub fn matches_request(agent: &Agent, request: &LaunchRequest, adoption: Adoption) -> bool {
    let Some(branch) = &request.target.branch_name else {
        return false;
    };
    if agent.target.branch_name.as_deref() != Some(branch.as_str()) {
        return false;
    }
    if let Some(not_before) = adoption.not_before {
        let created = agent.created_at.as_deref().and_then(parse_rfc3339);
        // Unknown creation time: it cannot be shown to be ours.
        match created {
            Some(c) if c + CREATED_SKEW.as_secs() >= not_before => {}
            _ => return false,
        }
    }
    if let (Some(a), Some(b)) = (&agent.source.git_ref, &request.source.git_ref)
        && a != b
    {
        return false;
    }
    match (&agent.source.repository, &request.source.repository) {
        (Some(a), Some(b)) => repo_key(a) == repo_key(b),
        _ => true,
    }
}

/// Whether `agent` may have been launched with `request`'s repository and
/// ref but does not show its branch yet: Cursor may list `target.branchName`
/// only once the agent runs, so a CREATING agent without one could be any
/// launch's on this repository and ref (a scheduled job counts it as its
/// own, busy, rather than launch a second agent beside it).
pub fn may_be_creating_for(agent: &Agent, request: &LaunchRequest) -> bool {
    if agent.status != cursor_api::AgentStatus::Creating || agent.target.branch_name.is_some() {
        return false;
    }
    if let (Some(a), Some(b)) = (&agent.source.git_ref, &request.source.git_ref)
        && a != b
    {
        return false;
    }
    match (&agent.source.repository, &request.source.repository) {
        (Some(a), Some(b)) => repo_key(a) == repo_key(b),
        _ => true,
    }
}

/// Whether `agent` was launched with `request`'s prompt (its first user
/// message).
async fn same_prompt(
    cursor: &CursorClient,
    agent: &Agent,
    request: &LaunchRequest,
) -> Result<bool, CursorError> {
    let conversation = cursor.conversation(&agent.id).await?;
    Ok(conversation
        .messages
        .iter()
        .find(|m| m.kind == cursor_api::MessageKind::User)
        .is_some_and(|m| m.text.trim() == request.prompt.text.trim()))
}

/// How far Cursor's clock may be behind ours when comparing `createdAt`
/// with the moment this launch began.
const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Whether an agent listed for our pull request could be this launch's:
/// created since `not_before` (epoch seconds; an undated or unreadable
/// `createdAt` does not rule it out) and started with our prompt.
async fn is_our_pr_agent(
    cursor: &CursorClient,
    agent: &Agent,
    request: &LaunchRequest,
    not_before: u64,
) -> Result<bool, CursorError> {
    let created = agent.created_at.as_deref().and_then(parse_rfc3339);
    if created.is_some_and(|c| c < not_before) {
        return Ok(false);
    }
    same_prompt(cursor, agent, request).await
}

/// Looks for the agent a lost launch of `request` (begun at `began`) may
/// have created on a pull request: `GET /v0/agents?prUrl=`.
async fn find_pr_agent(
    cursor: &CursorClient,
    request: &LaunchRequest,
    pr_url: &str,
    began: SystemTime,
) -> Result<Option<Agent>, CursorError> {
    let not_before = (began - CLOCK_SKEW)
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut page_cursor: Option<String> = None;
    for _ in 0..LOOKUP_PAGES {
        let page = cursor
            .list_agents(Some(100), page_cursor.as_deref(), Some(pr_url))
            .await?;
        for agent in &page.agents {
            if is_our_pr_agent(cursor, agent, request, not_before).await? {
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
    adoption: Adoption,
    began: SystemTime,
) -> Result<Option<Agent>, CursorError> {
    match &request.source.pr_url {
        Some(pr_url) => find_pr_agent(cursor, request, pr_url, began).await,
        None => find_existing(cursor, request, adoption).await,
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
    adoption: Adoption,
) -> Result<Option<Agent>, CursorError> {
    if request.target.branch_name.is_none() {
        return Ok(None);
    }
    let mut page_cursor: Option<String> = None;
    for _ in 0..LOOKUP_PAGES {
        let page = cursor
            .list_agents(Some(100), page_cursor.as_deref(), None)
            .await?;
        for agent in page
            .agents
            .iter()
            .filter(|a| matches_request(a, request, adoption))
        {
            // A shared (fixed) branch: the same request also means the same
            // prompt, which only the agent's conversation shows.
            if adoption.not_before.is_none() || same_prompt(cursor, agent, request).await? {
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

async fn lookup_after_ambiguity(
    cursor: &CursorClient,
    clock: &Clock,
    cancel: &Cancel,
    request: &LaunchRequest,
    adoption: Adoption,
    began: SystemTime,
) -> Result<Option<Agent>, LaunchError> {
    let mut last_error = None;
    for wait in LOOKUP_WAITS {
        tokio::select! {
            _ = clock.sleep(wait) => {}
            _ = cancel.cancelled() => return Err(LaunchError::CancelledInFlight),
        }
        // Listing is idempotent: ride out a short outage before concluding.
        let deadline = clock.now() + Duration::from_secs(60);
        let found = retry_idempotent(clock, deadline, cancel, 4, &Backoff::default(), || {
            find_launched(cursor, request, adoption, began)
        })
        .await;
        match found {
            Ok(Some(agent)) => return Ok(Some(agent)),
            Ok(None) => last_error = None,
            Err(GaveUp::Cancelled) => return Err(LaunchError::CancelledInFlight),
            Err(GaveUp::Failed(e) | GaveUp::Deadline(Some(e))) => last_error = Some(e),
            Err(GaveUp::Deadline(None)) => {
                last_error = Some(CursorError::Timeout {
                    endpoint: cursor_api::Endpoint::ListAgents,
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
    adoption: Adoption,
    deadline: Moment,
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
            // The request may have reached Cursor: the caller looks it up.
            _ = cancel.cancelled() => return Err(LaunchError::CancelledInFlight),
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
            let wait = match delay_for(&error, safe_retries, &backoff, rng.f64()) {
                Some(wait) if safe_retries < 4 => {
                    match cursor_api::retry::launch_wait(wait, clock.now(), deadline) {
                        Ok(wait) => Some(wait),
                        Err(why) => return Err(LaunchError::WaitRefused { error, why }),
                    }
                }
                _ => None,
            };
            match wait {
                Some(wait) => {
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
        match lookup_after_ambiguity(cursor, clock, cancel, request, adoption, began).await? {
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

    fn agent(branch: &str, created: Option<&str>, git_ref: Option<&str>) -> Agent {
        serde_json::from_value(serde_json::json!({
            "id": "bc-1",
            "status": "RUNNING",
            "source": {"repository": "https://github.com/o/r", "ref": git_ref},
            "target": {"branchName": branch},
            "createdAt": created,
        }))
        .unwrap()
    }

    fn request(branch: &str, git_ref: Option<&str>) -> LaunchRequest {
        LaunchRequest {
            prompt: cursor_api::Prompt {
                text: "fix it".into(),
                images: vec![],
            },
            model: None,
            source: cursor_api::AgentSource {
                repository: Some("https://github.com/o/r".into()),
                git_ref: git_ref.map(String::from),
                pr_url: None,
            },
            target: cursor_api::LaunchTarget {
                auto_create_pr: false,
                open_as_cursor_github_app: false,
                skip_reviewer_request: false,
                branch_name: Some(branch.into()),
                auto_branch: None,
            },
            webhook: None,
        }
    }

    #[test]
    fn a_creating_agent_without_a_branch_may_be_the_requests_on_its_repository_and_ref() {
        let creating = |repo: &str, git_ref: &str| -> Agent {
            serde_json::from_value(serde_json::json!({
                "id": "bc-1", "status": "CREATING",
                "source": {"repository": repo, "ref": git_ref},
                "target": {"url": "https://cursor.com/agents?id=bc-1"},
            }))
            .unwrap()
        };
        let req = request("cursor/x", Some("main"));
        assert!(may_be_creating_for(
            &creating("https://github.com/O/R.git", "main"),
            &req
        ));
        assert!(!may_be_creating_for(
            &creating("https://github.com/o/other", "main"),
            &req
        ));
        assert!(!may_be_creating_for(
            &creating("https://github.com/o/r", "dev"),
            &req
        ));
        // Once its branch is listed (or it runs), the branch decides.
        let mut listed = creating("https://github.com/o/r", "main");
        listed.target.branch_name = Some("cursor/other".into());
        assert!(!may_be_creating_for(&listed, &req));
        assert!(!may_be_creating_for(
            &agent("cursor/x", None, Some("main")),
            &req
        ));
    }

    #[test]
    fn a_fixed_branch_adopts_only_an_agent_created_since_the_run_started() {
        let run_start = parse_rfc3339("2025-11-02T03:00:00Z").unwrap();
        let since = Adoption {
            not_before: Some(run_start),
        };
        let req = request("nightly", Some("main"));
        // Last night's agent on the same branch: never ours.
        let old = agent("nightly", Some("2025-11-01T03:00:05Z"), Some("main"));
        assert!(!matches_request(&old, &req, since));
        // Created by this run (a minute of clock skew allowed).
        let ours = agent("nightly", Some("2025-11-02T02:59:30.5Z"), Some("main"));
        assert!(matches_request(&ours, &req, since));
        // No creation time: cannot be shown to be ours.
        assert!(!matches_request(
            &agent("nightly", None, Some("main")),
            &req,
            since
        ));
        // Another ref is another request.
        let other_ref = agent("nightly", Some("2025-11-02T03:00:01Z"), Some("dev"));
        assert!(!matches_request(&other_ref, &req, since));
        // A derived branch is unique to the run: no time check needed.
        assert!(matches_request(&old, &req, Adoption::default()));
    }
}
