//! The GitHub side of the world: where we run (repository, server and API
//! URLs, run id), and what triggered us (the event payload).

pub mod event;

pub use event::{Comment, Discussion, Event, Issue, Label, Payload, PullRequest, User};
use kit::env::Env;
use serde_json::Value;
use std::fmt;
use std::path::PathBuf;

/// GitHub caps webhook payloads at 25 MB; anything bigger is not a payload.
const MAX_EVENT_BYTES: u64 = 25 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoId {
    pub owner: String,
    pub name: String,
}

impl RepoId {
    pub fn parse(full_name: &str) -> Option<RepoId> {
        let (owner, name) = full_name.trim().split_once('/')?;
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        (ok(owner) && ok(name)).then(|| RepoId {
            owner: owner.into(),
            name: name.into(),
        })
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A problem with the runner's environment (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextError {
    pub variable: &'static str,
    pub problem: String,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.variable, self.problem)
    }
}

impl std::error::Error for ContextError {}

/// Where the agent should start from, when the inputs do not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultSource {
    /// A branch (or tag) of the current repository; `None`: its default branch.
    Branch(Option<String>),
    /// A pull request whose head is not a branch of this repository (a fork,
    /// or a comment on a PR, whose payload does not name the head): Cursor
    /// resolves it from the PR URL.
    PullRequest(String),
}

/// The run's context.
#[derive(Debug, Clone)]
pub struct Context {
    pub repo: RepoId,
    pub server_url: String,
    pub api_url: String,
    pub git_ref: Option<String>,
    pub sha: Option<String>,
    pub event_name: String,
    pub payload: Payload,
    pub run_id: Option<u64>,
    pub run_attempt: u32,
    pub job: Option<String>,
    /// The step's id (`GITHUB_ACTION`).
    pub step: Option<String>,
    /// The workflow file (`GITHUB_WORKFLOW_REF` without its `@ref`:
    /// `owner/repo/.github/workflows/nightly.yml`), part of a scheduled
    /// job's identity.
    pub workflow: Option<String>,
    pub workspace: PathBuf,
}

fn trim_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

impl Context {
    pub fn from_env(env: &Env) -> Result<Context, ContextError> {
        let event_name = env
            .get("GITHUB_EVENT_NAME")
            .unwrap_or_default()
            .trim()
            .to_string();
        let json = match env.get("GITHUB_EVENT_PATH") {
            Some(path) => read_event(&path)?,
            None => Value::Object(Default::default()),
        };
        let payload = event::parse(&event_name, &json).map_err(|e| ContextError {
            variable: "GITHUB_EVENT_PATH",
            problem: format!(
                "holds a payload that is not a valid `{event_name}` event ({e}); the action reads the file the runner writes"
            ),
        })?;

        let repo = match env.get("GITHUB_REPOSITORY") {
            Some(v) => RepoId::parse(&v).ok_or_else(|| ContextError {
                variable: "GITHUB_REPOSITORY",
                problem: format!(
                    "is {:?}, not owner/repo; it is set by the runner (set it yourself when running locally)",
                    v.chars().take(80).collect::<String>()
                ),
            })?,
            None => payload
                .repository
                .as_ref()
                .and_then(|r| r.full_name.as_deref())
                .and_then(RepoId::parse)
                .ok_or_else(|| ContextError {
                    variable: "GITHUB_REPOSITORY",
                    problem: "is not set; run inside GitHub Actions, or set it to owner/repo when running locally".into(),
                })?,
        };

        let server_url = env
            .get("GITHUB_SERVER_URL")
            .map(|u| trim_url(&u))
            .unwrap_or_else(|| "https://github.com".into());
        check_url("GITHUB_SERVER_URL", &server_url)?;
        let api_url = env
            .get("GITHUB_API_URL")
            .map(|u| trim_url(&u))
            .unwrap_or_else(|| "https://api.github.com".into());
        check_url("GITHUB_API_URL", &api_url)?;

        let run_id = match env.get("GITHUB_RUN_ID") {
            None => None,
            Some(v) => Some(v.trim().parse::<u64>().map_err(|_| ContextError {
                variable: "GITHUB_RUN_ID",
                problem: format!("is {v:?}, not a number"),
            })?),
        };
        let run_attempt = env
            .get("GITHUB_RUN_ATTEMPT")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(1)
            .max(1);

        let workspace = env
            .get("GITHUB_WORKSPACE")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."));

        Ok(Context {
            repo,
            server_url,
            api_url,
            git_ref: env.get("GITHUB_REF"),
            sha: env.get("GITHUB_SHA"),
            event_name,
            payload,
            run_id,
            run_attempt,
            job: env.get("GITHUB_JOB"),
            step: env.get("GITHUB_ACTION"),
            workflow: env
                .get("GITHUB_WORKFLOW_REF")
                .map(|w| w.split('@').next().unwrap_or_default().trim().to_string())
                .filter(|w| !w.is_empty()),
            workspace,
        })
    }

    pub fn event(&self) -> &Event {
        &self.payload.event
    }

    pub fn sender(&self) -> Option<&User> {
        self.payload.sender.as_ref()
    }

    /// `https://github.com/owner/repo`.
    pub fn repo_url(&self) -> String {
        format!("{}/{}", self.server_url, self.repo)
    }

    /// The workflow run's page, if the run id is known.
    pub fn run_url(&self) -> Option<String> {
        self.run_id.map(|id| {
            let mut url = format!("{}/actions/runs/{id}", self.repo_url());
            if self.run_attempt > 1 {
                url.push_str(&format!("/attempts/{}", self.run_attempt));
            }
            url
        })
    }

    /// The issue or pull request the event is about.
    pub fn issue_number(&self) -> Option<u64> {
        match self.event() {
            Event::Issues { issue, .. } | Event::IssueComment { issue, .. } => Some(issue.number),
            Event::PullRequest { pull_request, .. }
            | Event::PullRequestReviewComment { pull_request, .. }
            | Event::PullRequestReview { pull_request, .. } => Some(pull_request.number),
            _ => None,
        }
    }

    /// Whether the event's issue is a pull request.
    pub fn is_pull_request(&self) -> bool {
        match self.event() {
            Event::IssueComment { issue, .. } | Event::Issues { issue, .. } => {
                issue.pull_request.is_some()
            }
            Event::PullRequest { .. }
            | Event::PullRequestReviewComment { .. }
            | Event::PullRequestReview { .. } => true,
            _ => false,
        }
    }

    /// The triggering comment, for comment events; for a pull-request
    /// review, the review (its body is the request, as a comment's is).
    pub fn comment(&self) -> Option<&Comment> {
        match self.event() {
            Event::IssueComment { comment, .. }
            | Event::PullRequestReviewComment { comment, .. }
            | Event::DiscussionComment { comment, .. } => Some(comment),
            Event::PullRequestReview { review, .. } => Some(review),
            _ => None,
        }
    }

    /// Whether the event is a new message in an issue's or pull request's
    /// conversation (a comment, or a PR review), which continues the agent
    /// already working there as a follow-up. Review comments on a diff line
    /// and discussion comments do not.
    pub fn is_followup_trigger(&self) -> bool {
        matches!(
            self.event(),
            Event::IssueComment { .. } | Event::PullRequestReview { .. }
        )
    }

    /// The event's activity type (`labeled`, `created`, ...).
    pub fn action(&self) -> Option<&str> {
        match self.event() {
            Event::Issues { action, .. }
            | Event::IssueComment { action, .. }
            | Event::PullRequest { action, .. }
            | Event::PullRequestReviewComment { action, .. }
            | Event::PullRequestReview { action, .. }
            | Event::Discussion { action, .. }
            | Event::DiscussionComment { action, .. }
            | Event::WorkflowRun { action, .. } => Some(action),
            Event::Other { action, .. } => action.as_deref(),
            _ => None,
        }
    }

    pub fn default_branch(&self) -> Option<String> {
        self.payload
            .repository
            .as_ref()
            .and_then(|r| r.default_branch.clone())
    }

    /// PR head branch for PR events (same repository), otherwise the branch
    /// or tag of `GITHUB_REF`, otherwise the payload's default branch.
    pub fn default_source(&self) -> DefaultSource {
        match self.event() {
            Event::PullRequest { pull_request, .. }
            | Event::PullRequestReviewComment { pull_request, .. }
            | Event::PullRequestReview { pull_request, .. } => {
                let head_repo = pull_request
                    .head
                    .repo
                    .as_ref()
                    .and_then(|r| r.full_name.as_deref())
                    .and_then(RepoId::parse);
                if head_repo.as_ref() == Some(&self.repo) {
                    return DefaultSource::Branch(Some(pull_request.head.name.clone()));
                }
                if let Some(url) = &pull_request.html_url {
                    return DefaultSource::PullRequest(url.clone());
                }
            }
            Event::IssueComment { issue, .. } => {
                if let Some(url) = issue.pull_request.as_ref().and_then(|p| p.html_url.clone()) {
                    return DefaultSource::PullRequest(url);
                }
            }
            _ => {}
        }
        let from_ref = self.git_ref.as_deref().and_then(|r| {
            r.strip_prefix("refs/heads/")
                .or_else(|| r.strip_prefix("refs/tags/"))
                .map(String::from)
        });
        DefaultSource::Branch(from_ref.or_else(|| self.default_branch()))
    }
}

fn check_url(variable: &'static str, url: &str) -> Result<(), ContextError> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(ContextError {
            variable,
            problem: format!("is {url:?}, not an http(s) URL"),
        }),
    }
}

fn read_event(path: &str) -> Result<Value, ContextError> {
    let err = |problem: String| ContextError {
        variable: "GITHUB_EVENT_PATH",
        problem,
    };
    let meta = std::fs::metadata(path)
        .map_err(|e| err(format!("points to {path:?}, which cannot be read ({e})")))?;
    if meta.len() > MAX_EVENT_BYTES {
        return Err(err(format!(
            "points to {path:?}, which is larger than 25 MB"
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| err(format!("points to {path:?}, which cannot be read ({e})")))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| err(format!("points to {path:?}, which is not JSON ({e})")))?;
    if !value.is_object() {
        return Err(err(format!(
            "points to {path:?}, which is not a JSON object"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_ids() {
        assert_eq!(RepoId::parse("o/r").unwrap().to_string(), "o/r");
        assert!(RepoId::parse("o").is_none());
        assert!(RepoId::parse("o/r/x").is_none());
        assert!(RepoId::parse("o/").is_none());
    }

    #[test]
    fn plain_context_without_payload() {
        let env = Env::from_pairs([
            ("GITHUB_REPOSITORY", "octo/repo"),
            ("GITHUB_EVENT_NAME", "schedule"),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_RUN_ATTEMPT", "2"),
        ]);
        let ctx = Context::from_env(&env).unwrap();
        assert_eq!(ctx.repo_url(), "https://github.com/octo/repo");
        assert_eq!(
            ctx.run_url().unwrap(),
            "https://github.com/octo/repo/actions/runs/42/attempts/2"
        );
        assert_eq!(
            ctx.default_source(),
            DefaultSource::Branch(Some("main".into()))
        );
        assert_eq!(ctx.issue_number(), None);
    }

    #[test]
    fn bad_environment_names_the_variable() {
        let env = Env::from_pairs([("GITHUB_REPOSITORY", "not-a-repo")]);
        assert_eq!(
            Context::from_env(&env).unwrap_err().variable,
            "GITHUB_REPOSITORY"
        );
        let env = Env::from_pairs([
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_EVENT_PATH", "/nonexistent/event.json"),
        ]);
        assert_eq!(
            Context::from_env(&env).unwrap_err().variable,
            "GITHUB_EVENT_PATH"
        );
        let env = Env::from_pairs([("GITHUB_REPOSITORY", "o/r"), ("GITHUB_RUN_ID", "x")]);
        assert_eq!(
            Context::from_env(&env).unwrap_err().variable,
            "GITHUB_RUN_ID"
        );
    }
}
