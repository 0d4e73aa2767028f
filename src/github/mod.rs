//! GitHub behind a small interface: comments, reactions and the permission
//! check, over octocrab with its own retry layer compiled out (it re-POSTs at
//! once, which duplicates comments). Our policy, in [`policy`], decides what
//! is retried.

pub mod actions;
mod error;
pub mod policy;
pub mod runs;

use crate::context::RepoId;
use cursor_api::parse_retry_after;
pub use error::{GitHubClass, GitHubError};
use kit::clock::Clock;
use kit::secret::Secret;
use octocrab::Octocrab;
use octocrab::models::CommentId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A call that takes longer is abandoned.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Comment pages read at most (100 comments each).
const MAX_COMMENT_PAGES: u32 = 30;

/// An issue or pull request comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueComment {
    pub id: u64,
    pub body: String,
    pub html_url: String,
    pub author: String,
    pub author_is_bot: bool,
    /// OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE...
    pub association: Option<String>,
    /// The author has write, maintain or admin permission (as a trigger
    /// needs): the repository's owner, an author the listing looked up
    /// (see [`GitHubClient::list_comments`]), or the action itself.
    pub author_can_write: bool,
}

impl IssueComment {
    /// Written by a bot (the action's token) or by someone who may trigger
    /// the action: only such comments' markers are believed. An association
    /// alone is not enough: COLLABORATOR and MEMBER include people with read
    /// or triage access, who could otherwise copy a marker to steer a
    /// follow-up to another agent or make a re-run edit their comment.
    pub fn is_trusted(&self) -> bool {
        self.author_is_bot || self.author_can_write
    }

    /// A comment whose author's permission decides whether its marker is
    /// believed: a person (not a bot, not the owner) whose association may
    /// come with write access, on a comment carrying our marker.
    fn needs_permission_check(&self) -> bool {
        !self.is_trusted()
            && matches!(self.association.as_deref(), Some("MEMBER" | "COLLABORATOR"))
            && crate::marker::has_marker(&self.body)
    }
}

impl crate::marker::Posted for IssueComment {
    fn body(&self) -> &str {
        &self.body
    }

    fn author_may_speak_for_the_action(&self) -> bool {
        self.is_trusted()
    }
}

/// A comment found by listing the repository's comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoComment {
    pub comment: IssueComment,
    /// The issue or pull request it is on.
    pub issue: u64,
}

/// The issue or PR number in a comment's `issue_url` or `html_url`.
fn issue_of(url: &str) -> Option<u64> {
    let path = url.split('#').next()?;
    let mut parts = path.rsplit('/');
    let n = parts.next()?;
    matches!(parts.next()?, "issues" | "pull").then_some(())?;
    n.parse().ok()
}

/// What a reaction goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactionOn {
    Issue(u64),
    Comment(u64),
    ReviewComment(u64),
}

#[derive(Clone)]
pub struct GitHubClient {
    octo: Octocrab,
    repo: RepoId,
    clock: Clock,
    /// Comment authors whose permission was looked up: may they write?
    writers: Arc<Mutex<HashMap<String, bool>>>,
    /// Requests made (for the sweep's log).
    requests: Arc<std::sync::atomic::AtomicU64>,
    /// Knows the token: error text from GitHub is made printable with it
    /// where the error is built (see [`error`]).
    redactor: kit::secret::Redactor,
}

impl std::fmt::Debug for GitHubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubClient")
            .field("repo", &self.repo)
            .finish()
    }
}

fn header_str(headers: Option<&http::HeaderMap>, name: &str) -> Option<String> {
    headers?.get(name)?.to_str().ok().map(String::from)
}

/// `e` in our terms, its text printable (redacted with `redactor`, the
/// client's, then cut; URL credentials hidden).
fn map_error(redactor: &kit::secret::Redactor, e: octocrab::Error) -> GitHubError {
    let printable = |text: &str| error::printable(redactor, text);
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let headers = source.headers.as_ref();
            GitHubError::Status {
                status: source.status_code.as_u16(),
                message: printable(&source.message),
                retry_after: header_str(headers, "retry-after")
                    .and_then(|v| parse_retry_after(&v, std::time::SystemTime::now())),
                ratelimit_remaining: header_str(headers, "x-ratelimit-remaining")
                    .and_then(|v| v.trim().parse().ok()),
                ratelimit_reset: source.rate_limit_reset,
            }
        }
        octocrab::Error::Reqwest { source, .. } => {
            let message = kit::http::error_chain(&source);
            match kit::http::certificate_problem(&message) {
                Some(tls) => GitHubError::Tls(printable(&tls)),
                None => GitHubError::Transport {
                    maybe_sent: !source.is_connect(),
                    message: printable(&message),
                },
            }
        }
        octocrab::Error::Serde { source, .. } => {
            GitHubError::Decode(printable(&source.to_string()))
        }
        octocrab::Error::Json { source, .. } => GitHubError::Decode(printable(&source.to_string())),
        octocrab::Error::Service { source, .. } => {
            // The client's transport error, boxed: a failed connect (to
            // GitHub or to a proxy) sent nothing.
            let message = kit::http::error_chain(source.as_ref());
            let mut connect = false;
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
            while let Some(e) = cause {
                if let Some(r) = e.downcast_ref::<reqwest::Error>() {
                    connect |= r.is_connect();
                }
                cause = e.source();
            }
            match kit::http::certificate_problem(&message) {
                Some(tls) => GitHubError::Tls(printable(&tls)),
                None => GitHubError::Transport {
                    maybe_sent: !connect,
                    message: printable(&message),
                },
            }
        }
        other => GitHubError::Transport {
            maybe_sent: true,
            message: printable(&other.to_string()),
        },
    }
}

/// The role in a permission answer: `role_name` when it is a base role,
/// else (a custom role, or none given) the legacy `permission`.
fn role_of(v: &serde_json::Value) -> String {
    const BASE: &[&str] = &["admin", "maintain", "write", "triage", "read", "none"];
    let lower = |k: &str| v[k].as_str().map(str::to_ascii_lowercase);
    match (lower("role_name"), lower("permission")) {
        (Some(role), _) if BASE.contains(&role.as_str()) => role,
        (_, Some(permission)) if BASE.contains(&permission.as_str()) => permission,
        _ => "none".into(),
    }
}

fn convert(c: octocrab::models::issues::Comment) -> IssueComment {
    let association = c
        .author_association
        .and_then(|a| serde_json::to_value(a).ok())
        .and_then(|v| v.as_str().map(String::from));
    IssueComment {
        id: c.id.into_inner(),
        body: c.body.unwrap_or_default(),
        html_url: c.html_url.to_string(),
        author_is_bot: c.user.r#type == "Bot" || c.user.login.ends_with("[bot]"),
        author: c.user.login,
        // The owner of a personal repository is its admin.
        author_can_write: association.as_deref() == Some("OWNER"),
        association,
    }
}

/// A comment this run's token wrote (created or edited): ours.
fn ours(c: octocrab::models::issues::Comment) -> IssueComment {
    IssueComment {
        author_can_write: true,
        ..convert(c)
    }
}

impl GitHubClient {
    /// `api_url` is `GITHUB_API_URL` (a GHES `/api/v3` prefix works).
    pub fn new(
        http: reqwest::Client,
        api_url: &str,
        token: &Secret,
        repo: RepoId,
        clock: Clock,
    ) -> Result<Self, String> {
        let octo = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| format!("GITHUB_API_URL {api_url:?} is not usable: {e}"))?
            .personal_token(token.expose().to_string())
            .add_header(http::header::ACCEPT, "application/vnd.github+json".into())
            .add_header(
                http::HeaderName::from_static("x-github-api-version"),
                "2022-11-28".into(),
            )
            .build_with_reqwest(http)
            .map_err(|e| format!("cannot set up the GitHub client: {e}"))?;
        Ok(Self {
            octo,
            repo,
            clock,
            writers: Arc::default(),
            requests: Arc::default(),
            redactor: kit::secret::Redactor::of(token),
        })
    }

    /// Also redacts `secrets` (the run's) in the errors it builds.
    pub fn redacting(mut self, secrets: &kit::secret::Redactor) -> Self {
        self.redactor.absorb(secrets);
        self
    }

    pub fn repo(&self) -> &RepoId {
        &self.repo
    }

    async fn timed<T>(
        &self,
        fut: impl std::future::Future<Output = octocrab::Result<T>>,
    ) -> Result<T, GitHubError> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.clock.timeout(CALL_TIMEOUT, fut).await {
            Ok(r) => r.map_err(|e| map_error(&self.redactor, e)),
            Err(_) => Err(GitHubError::Timeout),
        }
    }

    /// Every comment on an issue or PR, oldest first.
    pub async fn list_comments(&self, issue: u64) -> Result<Vec<IssueComment>, GitHubError> {
        let issues = self.octo.issues(&self.repo.owner, &self.repo.name);
        let mut page = self
            .timed(issues.list_comments(issue).per_page(100).page(1u32).send())
            .await?;
        let mut out: Vec<IssueComment> = page.take_items().into_iter().map(convert).collect();
        for _ in 1..MAX_COMMENT_PAGES {
            let Some(next) = page.next.clone() else { break };
            match self
                .timed(
                    self.octo
                        .get_page::<octocrab::models::issues::Comment>(&Some(next)),
                )
                .await?
            {
                Some(mut p) => {
                    out.extend(p.take_items().into_iter().map(convert));
                    page = p;
                }
                None => break,
            }
        }
        self.resolve_trust(&mut out).await?;
        Ok(out)
    }

    /// How many requests this client has made.
    pub fn request_count(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The repository's issue and PR comments updated since `since`
    /// (RFC 3339), most recently updated first, at most `max_pages` pages of
    /// 100. `true` with them: more were left unread.
    pub async fn list_repo_comments(
        &self,
        since: &str,
        max_pages: u32,
    ) -> Result<(Vec<RepoComment>, bool), GitHubError> {
        let mut out = Vec::new();
        for page in 1..=max_pages {
            let route = format!(
                "/repos/{}/issues/comments?sort=updated&direction=desc&since={since}&per_page=100&page={page}",
                self.repo
            );
            let items: Vec<octocrab::models::issues::Comment> =
                self.timed(self.octo.get(route, None::<&()>)).await?;
            let full = items.len() == 100;
            out.extend(items.into_iter().filter_map(|c| {
                let issue = issue_of(c.html_url.as_str())?;
                Some(RepoComment {
                    comment: convert(c),
                    issue,
                })
            }));
            if !full {
                return Ok((out, false));
            }
        }
        Ok((out, true))
    }

    /// One comment, as it is now.
    pub async fn get_comment(&self, id: u64) -> Result<IssueComment, GitHubError> {
        let route = format!("/repos/{}/issues/comments/{id}", self.repo);
        self.timed(self.octo.get(route, None::<&()>))
            .await
            .map(convert)
    }

    /// Looks up the permission of each person whose marker-carrying comment
    /// may be trusted only with write access (a MEMBER or COLLABORATOR;
    /// bots and the owner need no lookup). With `GITHUB_TOKEN` every marker
    /// is the bot's, so this makes no request; with a personal token, one
    /// per author, remembered for the run. A 404 means "not a collaborator".
    async fn resolve_trust(&self, comments: &mut [IssueComment]) -> Result<(), GitHubError> {
        for c in comments.iter_mut().filter(|c| c.needs_permission_check()) {
            let key = c.author.to_ascii_lowercase();
            let known = self.writers.lock().unwrap().get(&key).copied();
            let can_write = match known {
                Some(v) => v,
                None => {
                    let v = match self.permission(&c.author).await {
                        Ok(role) => crate::gate::role_may_trigger(&role),
                        Err(e) if e.status() == Some(404) => false,
                        Err(e) => return Err(e),
                    };
                    self.writers.lock().unwrap().insert(key, v);
                    v
                }
            };
            c.author_can_write = can_write;
        }
        Ok(())
    }

    /// One `POST`: never repeat it blindly (see `policy::create_comment`).
    pub async fn create_comment(
        &self,
        issue: u64,
        body: &str,
    ) -> Result<IssueComment, GitHubError> {
        let issues = self.octo.issues(&self.repo.owner, &self.repo.name);
        self.timed(issues.create_comment(issue, body))
            .await
            .map(ours)
    }

    pub async fn update_comment(&self, id: u64, body: &str) -> Result<IssueComment, GitHubError> {
        let issues = self.octo.issues(&self.repo.owner, &self.repo.name);
        self.timed(issues.update_comment(CommentId(id), body))
            .await
            .map(ours)
    }

    /// Adds a reaction (GitHub answers 200 if it is already there).
    pub async fn react(&self, on: ReactionOn, content: &str) -> Result<(), GitHubError> {
        let route = match on {
            ReactionOn::Issue(n) => format!("/repos/{}/issues/{n}/reactions", self.repo),
            ReactionOn::Comment(id) => {
                format!("/repos/{}/issues/comments/{id}/reactions", self.repo)
            }
            ReactionOn::ReviewComment(id) => {
                format!("/repos/{}/pulls/comments/{id}/reactions", self.repo)
            }
        };
        let body = serde_json::json!({ "content": content });
        self.timed(self.octo.post::<_, serde_json::Value>(route, Some(&body)))
            .await
            .map(|_| ())
    }

    /// A user's role on the repository: admin, maintain, write, triage,
    /// read or none. An organization's custom role (`role_name` is its own
    /// name) counts as the base role it extends, which `permission` gives
    /// (admin, write, read or none).
    pub async fn permission(&self, login: &str) -> Result<String, GitHubError> {
        let route = format!("/repos/{}/collaborators/{login}/permission", self.repo);
        let v: serde_json::Value = self.timed(self.octo.get(route, None::<&()>)).await?;
        Ok(role_of(&v))
    }
}

// ---- pull requests and branches ----

/// Whether a pull request is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullState {
    Open,
    Closed,
}

/// A pull request, as the listing and the single read give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub html_url: String,
    pub state: PullState,
    pub merged: bool,
    pub head_ref: String,
    pub head_sha: String,
    /// `owner/repo` of the head (None when the fork is deleted).
    pub head_repo: Option<String>,
    pub base_ref: String,
    pub author: String,
    pub author_is_bot: bool,
    pub created_at: Option<String>,
}

/// How a head compares with a base (GitHub's compare API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// `ahead`, `behind`, `diverged` or `identical`.
    pub status: String,
    pub ahead_by: u64,
    pub behind_by: u64,
}

/// The fields of a pull request we read; every one may be missing (a
/// proxy or an older GHES), and nothing else is looked at.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct PullJson {
    number: u64,
    html_url: Option<String>,
    state: Option<String>,
    /// In single reads only.
    merged: Option<bool>,
    /// In listings too.
    merged_at: Option<String>,
    head: Option<RefJson>,
    base: Option<RefJson>,
    user: Option<UserJson>,
    created_at: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct RefJson {
    #[serde(rename = "ref")]
    name: Option<String>,
    sha: Option<String>,
    repo: Option<RepoJson>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(super) struct RepoJson {
    pub(super) full_name: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(super) struct UserJson {
    pub(super) login: Option<String>,
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ComparisonJson {
    status: Option<String>,
    ahead_by: Option<u64>,
    behind_by: Option<u64>,
}

impl From<PullJson> for PullRequest {
    fn from(p: PullJson) -> Self {
        let head = p.head.unwrap_or_default();
        let base = p.base.unwrap_or_default();
        let user = p.user.unwrap_or_default();
        let author = user.login.unwrap_or_default();
        PullRequest {
            number: p.number,
            html_url: p.html_url.unwrap_or_default(),
            state: match p.state.as_deref() {
                Some("open") => PullState::Open,
                _ => PullState::Closed,
            },
            merged: p.merged.unwrap_or(false) || p.merged_at.is_some(),
            head_ref: head.name.unwrap_or_default(),
            head_sha: head.sha.unwrap_or_default(),
            head_repo: head.repo.and_then(|r| r.full_name),
            base_ref: base.name.unwrap_or_default(),
            author_is_bot: user.kind.as_deref() == Some("Bot") || author.ends_with("[bot]"),
            author,
            created_at: p.created_at,
        }
    }
}

/// A branch name as one path segment: everything but unreserved characters
/// percent-encoded (`cursor/x` → `cursor%2Fx`), as GitHub's clients send it.
fn path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl GitHubClient {
    /// One page: GET /repos/{o}/{r}/pulls?state=open&sort=created&direction=desc&per_page={per_page}
    pub async fn list_open_pulls(&self, per_page: u8) -> Result<Vec<PullRequest>, GitHubError> {
        let route = format!(
            "/repos/{}/pulls?state=open&sort=created&direction=desc&per_page={}",
            self.repo,
            per_page.clamp(1, 100)
        );
        let items: Vec<PullJson> = self.timed(self.octo.get(route, None::<&()>)).await?;
        Ok(items.into_iter().map(PullRequest::from).collect())
    }

    /// GET /repos/{o}/{r}/pulls/{n}
    pub async fn get_pull(&self, number: u64) -> Result<PullRequest, GitHubError> {
        let route = format!("/repos/{}/pulls/{number}", self.repo);
        let p: PullJson = self.timed(self.octo.get(route, None::<&()>)).await?;
        Ok(p.into())
    }

    /// GET /repos/{o}/{r}/compare/{base}...{head} (branch names URL-encoded
    /// as GitHub expects; a missing branch is a 404 error)
    pub async fn compare(&self, base: &str, head: &str) -> Result<Comparison, GitHubError> {
        let route = format!(
            "/repos/{}/compare/{}...{}",
            self.repo,
            path_segment(base),
            path_segment(head)
        );
        let c: ComparisonJson = self.timed(self.octo.get(route, None::<&()>)).await?;
        Ok(Comparison {
            status: c.status.unwrap_or_default(),
            ahead_by: c.ahead_by.unwrap_or(0),
            behind_by: c.behind_by.unwrap_or(0),
        })
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
