//! Typed webhook payloads for the events the action supports. Every field we
//! do not need is ignored and every field we read is optional where GitHub
//! may omit it, so real payloads (and future additions) parse.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct User {
    pub login: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

impl User {
    pub fn is_bot(&self) -> bool {
        self.kind.as_deref() == Some("Bot") || self.login.ends_with("[bot]")
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Repository {
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Label {
    pub name: String,
}

/// Present on an issue when the issue is a pull request.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct PullRequestLinks {
    #[serde(default)]
    pub html_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Issue {
    pub number: u64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub pull_request: Option<PullRequestLinks>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub author_association: Option<String>,
    /// Review comments only: the file and line commented on.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub line: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Branch {
    #[serde(rename = "ref")]
    pub name: String,
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default)]
    pub repo: Option<Repository>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
    pub head: Branch,
    pub base: Branch,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Discussion {
    pub number: u64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
}

/// The triggering event, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Issues {
        action: String,
        issue: Issue,
        label: Option<Label>,
    },
    IssueComment {
        action: String,
        issue: Issue,
        comment: Comment,
    },
    /// `pull_request` and `pull_request_target`.
    PullRequest {
        action: String,
        pull_request: PullRequest,
        label: Option<Label>,
    },
    PullRequestReviewComment {
        action: String,
        pull_request: PullRequest,
        comment: Comment,
    },
    /// A submitted (or edited, dismissed) pull-request review. The review is
    /// read as a [`Comment`]: its id, body, author and URL.
    PullRequestReview {
        action: String,
        pull_request: PullRequest,
        review: Comment,
    },
    /// `discussion`: a discussion was created, edited, labeled...
    Discussion {
        action: String,
        discussion: Discussion,
        label: Option<Label>,
    },
    /// `discussion_comment`.
    DiscussionComment {
        action: String,
        discussion: Discussion,
        comment: Comment,
    },
    /// `workflow_run`: another workflow's run was requested or completed.
    WorkflowRun {
        action: String,
        /// Who caused the original run (e.g. the author of a fork PR).
        actor: Option<User>,
        /// Who started this attempt of it (differs on a re-run).
        triggering_actor: Option<User>,
        /// The run itself, as fix-CI needs it.
        run: Box<WorkflowRunFacts>,
    },
    WorkflowDispatch {
        inputs: BTreeMap<String, Value>,
        git_ref: Option<String>,
    },
    RepositoryDispatch {
        event_type: Option<String>,
        client_payload: Value,
    },
    Schedule {
        cron: Option<String>,
    },
    Push {
        git_ref: Option<String>,
        after: Option<String>,
    },
    /// Any other event: only the plain context is used. Its name is
    /// `Context::event_name`; its sender is `Payload::sender`.
    Other {
        action: Option<String>,
        /// A top-level `label`, when the payload has one.
        label: Option<Label>,
    },
}

/// A parsed payload: the event plus the fields every payload carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    pub event: Event,
    pub sender: Option<User>,
    pub repository: Option<Repository>,
}

#[derive(Deserialize)]
struct Common {
    #[serde(default)]
    sender: Option<User>,
    #[serde(default)]
    repository: Option<Repository>,
}

#[derive(Deserialize)]
struct IssuesRaw {
    #[serde(default)]
    action: String,
    issue: Issue,
    #[serde(default)]
    label: Option<Label>,
}

#[derive(Deserialize)]
struct IssueCommentRaw {
    #[serde(default)]
    action: String,
    issue: Issue,
    comment: Comment,
}

#[derive(Deserialize)]
struct PullRequestRaw {
    #[serde(default)]
    action: String,
    pull_request: PullRequest,
    #[serde(default)]
    label: Option<Label>,
}

#[derive(Deserialize)]
struct ReviewCommentRaw {
    #[serde(default)]
    action: String,
    pull_request: PullRequest,
    comment: Comment,
}

#[derive(Deserialize)]
struct ReviewRaw {
    #[serde(default)]
    action: String,
    pull_request: PullRequest,
    review: Comment,
}

#[derive(Deserialize)]
struct DiscussionRaw {
    #[serde(default)]
    action: String,
    discussion: Discussion,
    #[serde(default)]
    label: Option<Label>,
    #[serde(default)]
    comment: Option<Comment>,
}

#[derive(Deserialize)]
struct WorkflowRunRaw {
    #[serde(default)]
    action: String,
    workflow_run: WorkflowRunBody,
}

#[derive(Deserialize)]
struct WorkflowRunBody {
    #[serde(default)]
    actor: Option<User>,
    #[serde(default)]
    triggering_actor: Option<User>,
    #[serde(flatten)]
    facts: WorkflowRunFacts,
}

/// A pull request as `workflow_run.pull_requests[]` names it (empty for
/// pull requests from forks).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct RunPullRequest {
    pub number: u64,
}

/// The completed run a `workflow_run` event is about: what fix-CI reads.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct WorkflowRunFacts {
    #[serde(default)]
    pub id: Option<u64>,
    /// The workflow's name (`CI`).
    #[serde(default)]
    pub name: Option<String>,
    /// The workflow file (`.github/workflows/ci.yml`).
    #[serde(default)]
    pub path: Option<String>,
    /// `success`, `failure`, `timed_out`, `cancelled`, … or null.
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub head_sha: Option<String>,
    #[serde(default)]
    pub head_branch: Option<String>,
    /// The event that started the run (`pull_request`, `push`, …).
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub run_attempt: Option<u32>,
    #[serde(default)]
    pub html_url: Option<String>,
    /// `null` in some payloads: read as none.
    #[serde(default)]
    pub pull_requests: Option<Vec<RunPullRequest>>,
    #[serde(default)]
    pub head_repository: Option<Repository>,
}

#[derive(Deserialize)]
struct OtherRaw {
    #[serde(default)]
    action: Option<Value>,
    #[serde(default)]
    label: Option<Value>,
}

#[derive(Deserialize)]
struct DispatchRaw {
    #[serde(default)]
    inputs: Option<BTreeMap<String, Value>>,
    #[serde(rename = "ref", default)]
    git_ref: Option<String>,
}

#[derive(Deserialize)]
struct RepositoryDispatchRaw {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    client_payload: Value,
}

#[derive(Deserialize)]
struct ScheduleRaw {
    #[serde(default)]
    schedule: Option<String>,
}

#[derive(Deserialize)]
struct PushRaw {
    #[serde(rename = "ref", default)]
    git_ref: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

/// Parses the payload of `event_name`. Unknown events become [`Event::Other`].
pub fn parse(event_name: &str, json: &Value) -> Result<Payload, serde_json::Error> {
    let common = Common::deserialize(json)?;
    let event = match event_name {
        "issues" => {
            let r = IssuesRaw::deserialize(json)?;
            Event::Issues {
                action: r.action,
                issue: r.issue,
                label: r.label,
            }
        }
        "issue_comment" => {
            let r = IssueCommentRaw::deserialize(json)?;
            Event::IssueComment {
                action: r.action,
                issue: r.issue,
                comment: r.comment,
            }
        }
        "pull_request" | "pull_request_target" => {
            let r = PullRequestRaw::deserialize(json)?;
            Event::PullRequest {
                action: r.action,
                pull_request: r.pull_request,
                label: r.label,
            }
        }
        "pull_request_review_comment" => {
            let r = ReviewCommentRaw::deserialize(json)?;
            Event::PullRequestReviewComment {
                action: r.action,
                pull_request: r.pull_request,
                comment: r.comment,
            }
        }
        "pull_request_review" => {
            let r = ReviewRaw::deserialize(json)?;
            Event::PullRequestReview {
                action: r.action,
                pull_request: r.pull_request,
                review: r.review,
            }
        }
        "discussion" => {
            let r = DiscussionRaw::deserialize(json)?;
            Event::Discussion {
                action: r.action,
                discussion: r.discussion,
                label: r.label,
            }
        }
        "discussion_comment" => {
            let r = DiscussionRaw::deserialize(json)?;
            let Some(comment) = r.comment else {
                return Err(serde::de::Error::missing_field("comment"));
            };
            Event::DiscussionComment {
                action: r.action,
                discussion: r.discussion,
                comment,
            }
        }
        "workflow_run" => {
            let r = WorkflowRunRaw::deserialize(json)?;
            Event::WorkflowRun {
                action: r.action,
                actor: r.workflow_run.actor,
                triggering_actor: r.workflow_run.triggering_actor,
                run: Box::new(r.workflow_run.facts),
            }
        }
        "workflow_dispatch" => {
            let r = DispatchRaw::deserialize(json)?;
            Event::WorkflowDispatch {
                inputs: r.inputs.unwrap_or_default(),
                git_ref: r.git_ref,
            }
        }
        "repository_dispatch" => {
            let r = RepositoryDispatchRaw::deserialize(json)?;
            Event::RepositoryDispatch {
                event_type: r.action,
                client_payload: r.client_payload,
            }
        }
        "schedule" => {
            let r = ScheduleRaw::deserialize(json)?;
            Event::Schedule { cron: r.schedule }
        }
        "push" => {
            let r = PushRaw::deserialize(json)?;
            Event::Push {
                git_ref: r.git_ref,
                after: r.after,
            }
        }
        _ => {
            // Unknown shapes: read only what is unambiguous.
            let r = OtherRaw::deserialize(json)?;
            Event::Other {
                action: r.action.and_then(|a| a.as_str().map(String::from)),
                label: r
                    .label
                    .and_then(|l| l.get("name")?.as_str().map(String::from))
                    .map(|name| Label { name }),
            }
        }
    };
    Ok(Payload {
        event,
        sender: common.sender,
        repository: common.repository,
    })
}
