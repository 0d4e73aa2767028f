//! A simulator of the GitHub REST calls the action makes: issue comments
//! (list with `Link` paging, create, get, update by PATCH or POST),
//! reactions, collaborator permission, and pull requests and branches (list,
//! get, compare; pushed to and opened by the Cursor simulators when linked,
//! see [`crate::host::RepoHost`]), and workflow runs' jobs, annotations and
//! logs ([`actions`]); pull requests and branches are in [`pulls`]. Bodies are shaped like GitHub's,
//! full `user` objects included (octocrab rejects less). A `/api/v3` prefix
//! (GitHub Enterprise Server) is accepted.

mod actions;
mod pull_routes;
mod pulls;
mod routes;
mod runs;

use crate::faults::{FaultRule, take};
use crate::log::{LoggedRequest, log_entry};
use crate::server::{Handler, Reply, Request};
pub use actions::{LOG_LINK_TTL, SimAnnotation, SimJob, SimStep};
use kit::clock::Clock;
use kit::rfc3339::iso8601;
pub use runs::SimRun;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GhUser {
    pub login: String,
    pub id: u64,
    /// `User` or `Bot`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl GhUser {
    pub fn user(login: &str, id: u64) -> Self {
        Self {
            login: login.into(),
            id,
            kind: "User".into(),
        }
    }

    /// What Cursor's GitHub App opens pull requests as.
    pub fn cursor_bot() -> Self {
        Self {
            login: "cursor[bot]".into(),
            id: 206951365,
            kind: "Bot".into(),
        }
    }

    /// What `GITHUB_TOKEN` comments as.
    pub fn actions_bot() -> Self {
        Self {
            login: "github-actions[bot]".into(),
            id: 41898282,
            kind: "Bot".into(),
        }
    }

    fn to_json(&self, api: &str) -> Value {
        let l = &self.login;
        let html = if self.kind == "Bot" {
            format!("https://github.com/apps/{}", l.trim_end_matches("[bot]"))
        } else {
            format!("https://github.com/{l}")
        };
        json!({
            "login": l, "id": self.id, "node_id": format!("MDQ6VXNlcj{}", self.id),
            "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", self.id),
            "gravatar_id": "", "url": format!("{api}/users/{l}"), "html_url": html,
            "followers_url": format!("{api}/users/{l}/followers"),
            "following_url": format!("{api}/users/{l}/following{{/other_user}}"),
            "gists_url": format!("{api}/users/{l}/gists{{/gist_id}}"),
            "starred_url": format!("{api}/users/{l}/starred{{/owner}}{{/repo}}"),
            "subscriptions_url": format!("{api}/users/{l}/subscriptions"),
            "organizations_url": format!("{api}/users/{l}/orgs"),
            "repos_url": format!("{api}/users/{l}/repos"),
            "events_url": format!("{api}/users/{l}/events{{/privacy}}"),
            "received_events_url": format!("{api}/users/{l}/received_events"),
            "type": self.kind, "user_view_type": "public", "site_admin": false
        })
    }
}

/// A comment as the simulator stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GhComment {
    pub id: u64,
    /// `owner/repo`.
    pub repo: String,
    pub issue: u64,
    pub body: String,
    pub user: GhUser,
    pub author_association: String,
    created: SystemTime,
    updated: SystemTime,
}

/// What a reaction was put on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ReactionTarget {
    Issue(u64),
    Comment(u64),
    ReviewComment(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GhReaction {
    pub id: u64,
    pub target: ReactionTarget,
    pub content: String,
}

#[derive(Debug, Clone)]
pub struct GitHubSimConfig {
    /// The token to require; `None` accepts any.
    pub token: Option<String>,
    /// Where `html_url`s point.
    pub server_url: String,
}

impl Default for GitHubSimConfig {
    fn default() -> Self {
        Self {
            token: None,
            server_url: "https://github.com".into(),
        }
    }
}

/// A branch: its head commit and how many commits it is ahead of `main`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GhBranch {
    sha: String,
    ahead: u64,
}

/// A pull request as the simulator stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GhPull {
    pub number: u64,
    /// `owner/repo`.
    pub repo: String,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub user: GhUser,
    pub open: bool,
    pub merged: bool,
    pub created: SystemTime,
    pub updated: SystemTime,
    pub closed: Option<SystemTime>,
    /// The head commit now (while open) or when it was closed.
    pub head_sha: String,
}

struct State {
    comments: Vec<GhComment>,
    /// Per repository (lowercase `owner/repo`): branch name → branch.
    branches: HashMap<String, std::collections::BTreeMap<String, GhBranch>>,
    pulls: Vec<GhPull>,
    /// The number the next pull request gets (issues and PRs share them).
    next_number: u64,
    /// Pushes so far (for distinct commit shas).
    pushes: u64,
    next_id: u64,
    reactions: Vec<GhReaction>,
    permissions: HashMap<String, String>,
    faults: Vec<FaultRule>,
    log: Vec<LoggedRequest>,
    actor: GhUser,
    read_only: bool,
    config: GitHubSimConfig,
    actions: actions::ActionsState,
    runs: runs::RunsState,
}

pub struct GitHubSim {
    clock: Clock,
    state: Mutex<State>,
    /// Run before each request and each read of pulls or branches (without
    /// the state locked): lets linked Cursor simulators push what their
    /// agents did by now (see `Simulators::link_repos`).
    before: Mutex<Option<SyncHook>>,
}

type SyncHook = std::sync::Arc<dyn Fn() + Send + Sync>;

/// A commit sha (40 hex digits) made from a repository, branch and counter.
fn fake_sha(repo: &str, branch: &str, n: u64) -> String {
    use std::hash::{Hash, Hasher};
    let mut out = String::new();
    for salt in 0u64..3 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (repo.to_ascii_lowercase(), branch, n, salt).hash(&mut h);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(40);
    out
}

/// Percent-decodes a path segment (`cursor%2Fx` → `cursor/x`).
fn decode_segment(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

const REACTIONS: &[&str] = &[
    "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
];

/// A comment body as GitHub validates it.
fn comment_body(body: &Value) -> Result<&str, Reply> {
    let Some(text) = body["body"].as_str() else {
        return Err(message(
            422,
            "Invalid request.\n\n\"body\" wasn't supplied.",
            "/issues/comments",
        ));
    };
    if text.chars().count() > 65536 {
        return Err(message(
            422,
            "Validation Failed: body is too long (maximum is 65536 characters)",
            "/issues/comments",
        ));
    }
    Ok(text)
}

/// A listing's `per_page` (GitHub's default 30, at most 100) and `page`
/// (from 1).
fn page_params(request: &Request) -> (usize, usize) {
    let number = |name: &str| request.query(name).and_then(|p| p.parse::<usize>().ok());
    (
        number("per_page").unwrap_or(30).clamp(1, 100),
        number("page").unwrap_or(1).max(1),
    )
}

/// `reply` with GitHub's `Link` header for page `page` of `pages`
/// (`link_to(p)`: the `<url>` of page `p`).
fn paged(reply: Reply, page: usize, pages: usize, link_to: impl Fn(usize) -> String) -> Reply {
    let mut links = Vec::new();
    if page < pages {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(pages)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
        links.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    if links.is_empty() {
        reply
    } else {
        reply.with_header("link", &links.join(", "))
    }
}

fn message(status: u16, text: &str, docs: &str) -> Reply {
    Reply::json(
        status,
        &json!({"message": text, "documentation_url": format!("https://docs.github.com/rest{docs}"), "status": status.to_string()}),
    )
}

impl GitHubSim {
    pub fn new(clock: Clock, config: GitHubSimConfig) -> Self {
        Self {
            clock,
            state: Mutex::new(State {
                comments: Vec::new(),
                branches: HashMap::new(),
                pulls: Vec::new(),
                next_number: 100,
                pushes: 0,
                next_id: 2_000_000_000,
                reactions: Vec::new(),
                permissions: HashMap::new(),
                faults: Vec::new(),
                log: Vec::new(),
                actor: GhUser::actions_bot(),
                read_only: false,
                config,
                actions: actions::ActionsState::default(),
                runs: runs::RunsState::default(),
            }),
            before: Mutex::new(None),
        }
    }

    /// A collaborator's role: admin, maintain, write, triage, read or none,
    /// or a custom role as `NAME:BASE` (`reviewer:write`).
    pub fn set_permission(&self, login: &str, role: &str) {
        self.state
            .lock()
            .unwrap()
            .permissions
            .insert(login.to_ascii_lowercase(), role.into());
    }

    /// Who comments made through the API are written by.
    pub fn set_actor(&self, actor: GhUser) {
        self.state.lock().unwrap().actor = actor;
    }

    /// A token without write access (a fork PR): writes fail with 403.
    pub fn set_read_only(&self, read_only: bool) {
        self.state.lock().unwrap().read_only = read_only;
    }

    pub fn add_fault(&self, rule: FaultRule) {
        self.state.lock().unwrap().faults.push(rule);
    }

    /// Seeds a workflow run; returns its id.
    pub fn add_run(&self, run: SimRun) -> u64 {
        self.state.lock().unwrap().runs.add(run)
    }

    /// Sets a run's conclusion (`None`: in progress again); `false` if unknown.
    pub fn set_run_conclusion(&self, id: u64, conclusion: Option<&str>) -> bool {
        self.state
            .lock()
            .unwrap()
            .runs
            .set_conclusion(id, conclusion)
    }

    /// Seeds a job of run `run_id`, attempt `attempt` (from 1), of `repo`
    /// (`owner/repo`). Returns its id (also its check run's).
    pub fn add_job(&self, repo: &str, run_id: u64, attempt: u32, job: SimJob) -> u64 {
        self.state
            .lock()
            .unwrap()
            .actions
            .add_job(repo, run_id, attempt, job)
    }

    /// Sets a job's log (served behind an expiring link once the job has a
    /// conclusion).
    pub fn set_job_log(&self, job_id: u64, log: impl Into<bytes::Bytes>) {
        self.state
            .lock()
            .unwrap()
            .actions
            .set_log(job_id, log.into());
    }

    /// Adds an annotation to a job's check run.
    pub fn add_annotation(&self, job_id: u64, annotation: SimAnnotation) {
        self.state
            .lock()
            .unwrap()
            .actions
            .add_annotation(job_id, annotation);
    }

    /// How long (simulator clock) a log link lasts before it expires
    /// (default [`LOG_LINK_TTL`]); zero: expired as soon as given.
    pub fn set_log_link_ttl(&self, ttl: std::time::Duration) {
        self.state.lock().unwrap().actions.ttl = ttl;
    }

    /// Seeds a comment (e.g. one left by an earlier run). Returns its id.
    pub fn add_comment(
        &self,
        repo: &str,
        issue: u64,
        body: &str,
        user: GhUser,
        association: &str,
    ) -> u64 {
        let mut state = self.state.lock().unwrap();
        state.next_id += 1;
        let id = state.next_id;
        let now = SystemTime::now();
        state.comments.push(GhComment {
            id,
            repo: repo.into(),
            issue,
            body: body.into(),
            user,
            author_association: association.into(),
            created: now,
            updated: now,
        });
        id
    }

    /// Sets when a comment was last updated (e.g. days ago, for the sweep's
    /// window). Returns whether it exists.
    pub fn set_comment_updated(&self, id: u64, at: SystemTime) -> bool {
        let mut state = self.state.lock().unwrap();
        match state.comments.iter_mut().find(|c| c.id == id) {
            Some(c) => {
                c.updated = at;
                c.created = c.created.min(at);
                true
            }
            None => false,
        }
    }

    /// The comments on an issue, oldest first.
    pub fn comments(&self, repo: &str, issue: u64) -> Vec<GhComment> {
        self.state
            .lock()
            .unwrap()
            .comments
            .iter()
            .filter(|c| c.repo.eq_ignore_ascii_case(repo) && c.issue == issue)
            .cloned()
            .collect()
    }

    /// Deletes a comment, as a person would in the web UI (later edits of
    /// it get 404). Returns whether it existed.
    pub fn delete_comment(&self, id: u64) -> bool {
        let mut state = self.state.lock().unwrap();
        let before = state.comments.len();
        state.comments.retain(|c| c.id != id);
        state.comments.len() != before
    }

    /// Forgets reactions and the request log (comments stay).
    pub fn clear_reactions_and_log(&self) {
        let mut state = self.state.lock().unwrap();
        state.reactions.clear();
        state.log.clear();
    }

    pub fn reactions(&self) -> Vec<GhReaction> {
        self.state.lock().unwrap().reactions.clone()
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.lock().unwrap().log.clone()
    }

    /// Requests matching `method` and a path pattern (`*` = one segment),
    /// with any `/api/v3` prefix ignored.
    pub fn count(&self, method: &str, pattern: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| {
                let path = r.path.strip_prefix("/api/v3").unwrap_or(&r.path);
                r.method == method && crate::faults::path_matches(pattern, path)
            })
            .count()
    }

    fn comment_json(state: &State, c: &GhComment, api: &str) -> Value {
        let server = &state.config.server_url;
        json!({
            "url": format!("{api}/repos/{}/issues/comments/{}", c.repo, c.id),
            "html_url": format!("{server}/{}/issues/{}#issuecomment-{}", c.repo, c.issue, c.id),
            "issue_url": format!("{api}/repos/{}/issues/{}", c.repo, c.issue),
            "id": c.id,
            "node_id": format!("IC_kwDOSim{}", c.id),
            "user": c.user.to_json(api),
            "created_at": iso8601(c.created),
            "updated_at": iso8601(c.updated),
            "author_association": c.author_association,
            "body": c.body,
            "reactions": {"url": format!("{api}/repos/{}/issues/comments/{}/reactions", c.repo, c.id),
                          "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
            "performed_via_github_app": null
        })
    }

    fn authorized(state: &State, request: &Request) -> bool {
        let Some(want) = &state.config.token else {
            return true;
        };
        let given = request.header("authorization").and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("token "))
        });
        given.map(str::trim) == Some(want.as_str())
    }
}

impl Handler for GitHubSim {
    fn handle(&self, request: Request) -> Reply {
        self.sync();
        if request.path.starts_with("/_sim/") {
            return self.control(&request);
        }
        let mut state = self.state.lock().unwrap();
        let api = match request.header("host") {
            Some(host) => format!(
                "http://{host}{}",
                if request.path.starts_with("/api/v3") {
                    "/api/v3"
                } else {
                    ""
                }
            ),
            None => "http://localhost".into(),
        };
        let path = request
            .path
            .strip_prefix("/api/v3")
            .unwrap_or(&request.path)
            .to_string();
        let fault = take(&mut state.faults, request.method.as_str(), &path, None);
        // The log storage: its URL is its credential, not the token.
        let blob = path.starts_with("/_blobs/");
        let reply = match &fault {
            Some(f) if !f.applies_request() => f.reply(None),
            _ if !blob && !Self::authorized(&state, &request) => {
                message(401, "Bad credentials", "")
            }
            fault => {
                let normal = if blob {
                    state.actions.blob(self.clock.now(), &request)
                } else {
                    self.route(&mut state, &request, &api)
                };
                match fault {
                    Some(f) => f.reply(Some(normal)),
                    None => normal,
                }
            }
        };
        let entry = log_entry(&request, &reply, fault.as_ref(), self.clock.now());
        state.log.push(entry);
        reply
    }
}
