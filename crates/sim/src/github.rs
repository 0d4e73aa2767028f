//! A simulator of the GitHub REST calls the action makes: issue comments
//! (list with `Link` paging, create, get, update by PATCH or POST),
//! reactions, collaborator permission, and pull requests and branches (list,
//! get, compare; pushed to and opened by the Cursor simulators when linked,
//! see [`crate::host::RepoHost`]), and workflow runs' jobs, annotations and
//! logs (`github_actions.rs`). Bodies are shaped like GitHub's,
//! full `user` objects included (octocrab rejects less). A `/api/v3` prefix
//! (GitHub Enterprise Server) is accepted.

#[path = "github_actions.rs"]
mod actions;
#[path = "github_runs.rs"]
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

    fn route(&self, state: &mut State, request: &Request, api: &str) -> Reply {
        let path = request
            .path
            .strip_prefix("/api/v3")
            .unwrap_or(&request.path);
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let method = request.method.as_str();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let write = method != "GET";
        if write && state.read_only {
            return message(
                403,
                "Resource not accessible by integration",
                "/issues/comments#create-an-issue-comment",
            );
        }
        if let Some(reply) = self.pull_route(state, request, &segments, api, path) {
            return reply;
        }
        let server = state.config.server_url.clone();
        if let Some(reply) = state.runs.route(request, &segments, api, &server) {
            return reply;
        }
        if let Some(reply) =
            state
                .actions
                .route(self.clock.now(), request, &segments, api, &server, path)
        {
            return reply;
        }
        match (method, segments.as_slice()) {
            // The repository's comments, most recently updated first
            // (`sort=updated&direction=desc`, `since`), paged by number.
            ("GET", ["repos", o, r, "issues", "comments"]) => {
                let repo = format!("{o}/{r}");
                let since = request
                    .query("since")
                    .and_then(kit::rfc3339::parse)
                    .map(|s| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s));
                let (per_page, page) = page_params(request);
                let mut all: Vec<&GhComment> = state
                    .comments
                    .iter()
                    .filter(|c| c.repo.eq_ignore_ascii_case(&repo))
                    .filter(|c| since.is_none_or(|s| c.updated >= s))
                    .collect();
                let desc = request.query("direction") != Some("asc");
                if request.query("sort") == Some("updated") {
                    all.sort_by_key(|c| (c.updated, c.id));
                } else {
                    all.sort_by_key(|c| (c.created, c.id));
                }
                if desc {
                    all.reverse();
                }
                let items: Vec<Value> = all
                    .iter()
                    .skip((page - 1) * per_page)
                    .take(per_page)
                    .map(|c| Self::comment_json(state, c, api))
                    .collect();
                Reply::json(200, &json!(items))
            }
            ("GET", ["repos", o, r, "issues", n, "comments"]) => {
                let Ok(n) = n.parse::<u64>() else {
                    return message(404, "Not Found", "");
                };
                let repo = format!("{o}/{r}");
                let (per_page, page) = page_params(request);
                let all: Vec<&GhComment> = state
                    .comments
                    .iter()
                    .filter(|c| c.repo.eq_ignore_ascii_case(&repo) && c.issue == n)
                    .collect();
                let pages = all.len().div_ceil(per_page).max(1);
                let items: Vec<Value> = all
                    .iter()
                    .skip((page - 1) * per_page)
                    .take(per_page)
                    .map(|c| Self::comment_json(state, c, api))
                    .collect();
                paged(Reply::json(200, &json!(items)), page, pages, |p: usize| {
                    format!("<{api}{path}?per_page={per_page}&page={p}>")
                })
            }
            ("POST", ["repos", o, r, "issues", n, "comments"]) => {
                let Ok(n) = n.parse::<u64>() else {
                    return message(404, "Not Found", "");
                };
                let text = match comment_body(&body) {
                    Ok(t) => t,
                    Err(reply) => return reply,
                };
                let actor = state.actor.clone();
                state.next_id += 1;
                let now = SystemTime::now();
                let c = GhComment {
                    id: state.next_id,
                    repo: format!("{o}/{r}"),
                    issue: n,
                    body: text.into(),
                    user: actor,
                    author_association: "NONE".into(),
                    created: now,
                    updated: now,
                };
                let json = Self::comment_json(state, &c, api);
                state.comments.push(c);
                Reply::json(201, &json)
            }
            (m @ ("GET" | "PATCH" | "POST"), ["repos", o, r, "issues", "comments", id]) => {
                let repo = format!("{o}/{r}");
                let Some(index) = id.parse::<u64>().ok().and_then(|id| {
                    state
                        .comments
                        .iter()
                        .position(|c| c.id == id && c.repo.eq_ignore_ascii_case(&repo))
                }) else {
                    return message(404, "Not Found", "/issues/comments#get-an-issue-comment");
                };
                if m != "GET" {
                    let text = match comment_body(&body) {
                        Ok(t) => t,
                        Err(reply) => return reply,
                    };
                    state.comments[index].body = text.into();
                    state.comments[index].updated = SystemTime::now();
                }
                Reply::json(200, &Self::comment_json(state, &state.comments[index], api))
            }
            (
                "POST",
                [
                    "repos",
                    _,
                    _,
                    kind @ ("issues" | "pulls"),
                    rest @ ..,
                    "reactions",
                ],
            ) => {
                let target = match (*kind, rest) {
                    ("issues", [n]) => n.parse().ok().map(ReactionTarget::Issue),
                    ("issues", ["comments", id]) => id.parse().ok().map(ReactionTarget::Comment),
                    ("pulls", ["comments", id]) => {
                        id.parse().ok().map(ReactionTarget::ReviewComment)
                    }
                    _ => None,
                };
                let Some(target) = target else {
                    return message(404, "Not Found", "");
                };
                let content = body["content"].as_str().unwrap_or_default().to_string();
                if !REACTIONS.contains(&content.as_str()) {
                    return message(422, "Validation Failed", "/reactions");
                }
                let existing = state
                    .reactions
                    .iter()
                    .find(|r| r.target == target && r.content == content)
                    .cloned();
                let (status, reaction) = match existing {
                    Some(r) => (200, r),
                    None => {
                        state.next_id += 1;
                        let r = GhReaction {
                            id: state.next_id,
                            target,
                            content,
                        };
                        state.reactions.push(r.clone());
                        (201, r)
                    }
                };
                Reply::json(
                    status,
                    &json!({"id": reaction.id, "node_id": format!("REA_sim{}", reaction.id), "user": state.actor.to_json(api), "content": reaction.content, "created_at": iso8601(SystemTime::now())}),
                )
            }
            ("GET", ["repos", _, _, "collaborators", user, "permission"]) => {
                let role = state
                    .permissions
                    .get(&user.to_ascii_lowercase())
                    .cloned()
                    .unwrap_or_else(|| "read".into());
                // A custom role, given as `NAME:BASE` (e.g. `reviewer:write`):
                // `role_name` is its name, `permission` its base role's.
                let (role, base) = match role.split_once(':') {
                    Some((name, base)) => (name.to_string(), base.to_string()),
                    None => (role.clone(), role),
                };
                let permission = match base.as_str() {
                    "admin" => "admin",
                    "maintain" | "write" => "write",
                    "triage" | "read" => "read",
                    _ => "none",
                };
                let u = GhUser::user(user, 1000 + user.len() as u64);
                Reply::json(
                    200,
                    &json!({"permission": permission, "role_name": role, "user": u.to_json(api)}),
                )
            }
            _ => message(404, "Not Found", ""),
        }
    }
}

// ---- pull requests and branches ----

/// `state` of a pull request listing.
fn pull_state_matches(p: &GhPull, state: &str) -> bool {
    match state {
        "all" => true,
        "closed" => !p.open,
        _ => p.open,
    }
}

fn owner_of(repo: &str) -> &str {
    repo.split_once('/').map_or(repo, |(o, _)| o)
}

impl GitHubSim {
    /// Lets linked Cursor simulators catch up (never with the state locked).
    fn sync(&self) {
        let hook = self.before.lock().unwrap().clone();
        if let Some(hook) = hook {
            hook();
        }
    }

    /// Runs `hook` before each request and each read of pulls or branches
    /// (`Simulators::link_repos` uses it to let agents push on time).
    pub fn set_sync_hook(&self, hook: impl Fn() + Send + Sync + 'static) {
        *self.before.lock().unwrap() = Some(std::sync::Arc::new(hook));
    }

    /// The number the next pull request gets (default 100; issues and pull
    /// requests share numbers, so pick one clear of the test's issues).
    pub fn set_next_pull_number(&self, number: u64) {
        self.state.lock().unwrap().next_number = number;
    }

    /// Pushes `commits` new commits to `branch` of `repo` (`owner/repo`),
    /// creating the branch (off `main`) if it is missing: its head sha
    /// changes and it is that many more commits ahead of `main`.
    pub fn push(&self, repo: &str, branch: &str, commits: u32) {
        let mut state = self.state.lock().unwrap();
        Self::push_locked(&mut state, repo, branch, commits);
    }

    fn push_locked(state: &mut State, repo: &str, branch: &str, commits: u32) {
        state.pushes += 1;
        let n = state.pushes;
        let sha = fake_sha(repo, branch, n);
        let now = SystemTime::now();
        let entry = state
            .branches
            .entry(repo.to_ascii_lowercase())
            .or_default()
            .entry(branch.to_string())
            .or_insert(GhBranch {
                sha: String::new(),
                ahead: 0,
            });
        entry.sha = sha;
        if branch != "main" {
            entry.ahead += u64::from(commits);
        }
        for p in state
            .pulls
            .iter_mut()
            .filter(|p| p.open && p.repo.eq_ignore_ascii_case(repo) && p.head == branch)
        {
            p.updated = now;
        }
    }

    fn branch_locked(state: &State, repo: &str, branch: &str) -> Option<GhBranch> {
        let stored = state
            .branches
            .get(&repo.to_ascii_lowercase())
            .and_then(|b| b.get(branch))
            .cloned();
        match stored {
            None if branch == "main" => Some(GhBranch {
                sha: fake_sha(repo, "main", 0),
                ahead: 0,
            }),
            other => other,
        }
    }

    /// A branch's head sha and how many commits it is ahead of `main`
    /// (`main` always exists, 0 ahead); `None` if it does not exist.
    pub fn branch(&self, repo: &str, branch: &str) -> Option<(String, u64)> {
        self.sync();
        let state = self.state.lock().unwrap();
        Self::branch_locked(&state, repo, branch).map(|b| (b.sha, b.ahead))
    }

    /// Opens a pull request from `head` into `base`, by `user`; returns its
    /// number. If one is already open for `head`, returns that one's number
    /// (GitHub refuses a second). A missing head branch is pushed first
    /// (one commit), so the pull request has something to show.
    pub fn open_pull(&self, repo: &str, head: &str, base: &str, title: &str, user: GhUser) -> u64 {
        let mut state = self.state.lock().unwrap();
        if let Some(p) = state
            .pulls
            .iter()
            .find(|p| p.open && p.repo.eq_ignore_ascii_case(repo) && p.head == head)
        {
            return p.number;
        }
        if Self::branch_locked(&state, repo, head).is_none() {
            Self::push_locked(&mut state, repo, head, 1);
        }
        let number = state.next_number;
        state.next_number += 1;
        let now = SystemTime::now();
        state.pulls.push(GhPull {
            number,
            repo: repo.to_string(),
            head: head.to_string(),
            base: base.to_string(),
            title: title.to_string(),
            body: String::new(),
            user,
            open: true,
            merged: false,
            created: now,
            updated: now,
            closed: None,
            head_sha: String::new(),
        });
        number
    }

    /// Closes a pull request, merged or not: its head is frozen; a merge
    /// moves `main` on and leaves the head branch 0 ahead. Returns whether
    /// an open one was found.
    fn finish_pull(&self, repo: &str, number: u64, merge: bool) -> bool {
        self.sync();
        Self::finish_locked(&mut self.state.lock().unwrap(), repo, number, merge)
    }

    fn finish_locked(state: &mut State, repo: &str, number: u64, merge: bool) -> bool {
        let Some(i) = state
            .pulls
            .iter()
            .position(|p| p.open && p.number == number && p.repo.eq_ignore_ascii_case(repo))
        else {
            return false;
        };
        let head = state.pulls[i].head.clone();
        let sha = Self::branch_locked(state, repo, &head)
            .map(|b| b.sha)
            .unwrap_or_default();
        let now = SystemTime::now();
        let p = &mut state.pulls[i];
        p.open = false;
        p.merged = merge;
        p.closed = Some(now);
        p.updated = now;
        p.head_sha = sha;
        if merge {
            Self::push_locked(state, repo, "main", 1);
            if let Some(b) = state
                .branches
                .get_mut(&repo.to_ascii_lowercase())
                .and_then(|b| b.get_mut(&head))
            {
                b.ahead = 0;
            }
        }
        true
    }

    /// Merges an open pull request (a maintainer clicked "Merge").
    pub fn merge_pull(&self, repo: &str, number: u64) -> bool {
        self.finish_pull(repo, number, true)
    }

    /// Closes an open pull request without merging it.
    pub fn close_pull(&self, repo: &str, number: u64) -> bool {
        self.finish_pull(repo, number, false)
    }

    /// Sets a pull request's body (as its author would). Returns whether it
    /// exists.
    pub fn set_pull_body(&self, repo: &str, number: u64, body: &str) -> bool {
        let mut state = self.state.lock().unwrap();
        match state
            .pulls
            .iter_mut()
            .find(|p| p.number == number && p.repo.eq_ignore_ascii_case(repo))
        {
            Some(p) => {
                p.body = body.into();
                p.updated = SystemTime::now();
                true
            }
            None => false,
        }
    }

    /// Sets when a pull request was opened (e.g. nights ago). Returns
    /// whether it exists.
    pub fn set_pull_created(&self, repo: &str, number: u64, at: SystemTime) -> bool {
        let mut state = self.state.lock().unwrap();
        match state
            .pulls
            .iter_mut()
            .find(|p| p.number == number && p.repo.eq_ignore_ascii_case(repo))
        {
            Some(p) => {
                p.created = at;
                p.updated = p.updated.max(at);
                true
            }
            None => false,
        }
    }

    /// A pull request with its head sha as it is now.
    fn current(state: &State, p: &GhPull) -> GhPull {
        let mut p = p.clone();
        if p.open {
            p.head_sha = Self::branch_locked(state, &p.repo, &p.head)
                .map(|b| b.sha)
                .unwrap_or_default();
        }
        p
    }

    /// The pull requests of a repository, oldest first.
    pub fn pulls(&self, repo: &str) -> Vec<GhPull> {
        self.sync();
        let state = self.state.lock().unwrap();
        state
            .pulls
            .iter()
            .filter(|p| p.repo.eq_ignore_ascii_case(repo))
            .map(|p| Self::current(&state, p))
            .collect()
    }

    /// The pull request for `head`: the open one, else the newest.
    pub fn pull_by_head(&self, repo: &str, head: &str) -> Option<GhPull> {
        let all: Vec<GhPull> = self
            .pulls(repo)
            .into_iter()
            .filter(|p| p.head == head)
            .collect();
        all.iter().find(|p| p.open).or(all.last()).cloned()
    }

    fn server(&self) -> String {
        self.state.lock().unwrap().config.server_url.clone()
    }

    fn pull_head_locked(&self, repo: &str, number: u64) -> Option<String> {
        let state = self.state.lock().unwrap();
        state
            .pulls
            .iter()
            .find(|p| p.number == number && p.repo.eq_ignore_ascii_case(repo))
            .map(|p| p.head.clone())
    }

    fn repo_json(&self, repo: &str, api: &str, server: &str) -> Value {
        let (owner, name) = repo.split_once('/').unwrap_or((repo, repo));
        let id = 1_296_269 + repo.len() as u64;
        json!({
            "id": id, "node_id": format!("R_kgDOSim{id}"), "name": name, "full_name": repo,
            "private": false, "owner": GhUser::user(owner, 583_231).to_json(api),
            "html_url": format!("{server}/{repo}"), "description": null, "fork": false,
            "url": format!("{api}/repos/{repo}"),
            "pulls_url": format!("{api}/repos/{repo}/pulls{{/number}}"),
            "default_branch": "main", "visibility": "public"
        })
    }

    fn ref_json(&self, state: &State, repo: &str, branch: &str, sha: &str, api: &str) -> Value {
        let server = &state.config.server_url;
        let owner = owner_of(repo);
        json!({
            "label": format!("{owner}:{branch}"), "ref": branch, "sha": sha,
            "user": GhUser::user(owner, 583_231).to_json(api),
            "repo": self.repo_json(repo, api, server)
        })
    }

    fn pull_json(&self, state: &State, p: &GhPull, api: &str, single: bool) -> Value {
        let p = Self::current(state, p);
        let server = &state.config.server_url;
        let (repo, n) = (&p.repo, p.number);
        let url = format!("{api}/repos/{repo}/pulls/{n}");
        let html = format!("{server}/{repo}/pull/{n}");
        let base_sha = Self::branch_locked(state, repo, &p.base)
            .map(|b| b.sha)
            .unwrap_or_default();
        let merged_at = p.merged.then(|| p.closed.map(iso8601)).flatten();
        let issue = format!("{api}/repos/{repo}/issues/{n}");
        let comments = format!("{issue}/comments");
        let statuses = format!("{api}/repos/{repo}/statuses/{}", p.head_sha);
        let links = json!({
            "self": {"href": url}, "html": {"href": html},
            "issue": {"href": issue}, "comments": {"href": comments},
            "review_comments": {"href": format!("{url}/comments")},
            "commits": {"href": format!("{url}/commits")},
            "statuses": {"href": statuses}
        });
        let mut v = json!({
            "url": url, "id": 1_000_000_000u64 + n, "node_id": format!("PR_kwDOSim{n}"),
            "html_url": html, "diff_url": format!("{html}.diff"), "patch_url": format!("{html}.patch"),
            "issue_url": issue, "commits_url": format!("{url}/commits"),
            "review_comments_url": format!("{url}/comments"),
            "review_comment_url": format!("{api}/repos/{repo}/pulls/comments{{/number}}"),
            "comments_url": comments, "statuses_url": statuses,
            "number": n, "state": if p.open { "open" } else { "closed" }, "locked": false,
            "title": p.title, "user": p.user.to_json(api), "body": p.body,
            "labels": [], "milestone": null, "active_lock_reason": null,
            "created_at": iso8601(p.created), "updated_at": iso8601(p.updated),
            "closed_at": p.closed.map(iso8601), "merged_at": merged_at,
            "merge_commit_sha": fake_sha(repo, &p.head, n),
            "assignee": null, "assignees": [], "requested_reviewers": [], "requested_teams": [],
            "head": self.ref_json(state, repo, &p.head, &p.head_sha, api),
            "base": self.ref_json(state, repo, &p.base, &base_sha, api),
            "_links": links,
            "author_association": if p.user.kind == "Bot" { "NONE" } else { "CONTRIBUTOR" },
            "auto_merge": null, "draft": false
        });
        if single {
            let ahead = Self::branch_locked(state, repo, &p.head).map_or(0, |b| b.ahead);
            let extra = json!({
                "merged": p.merged, "mergeable": p.open.then_some(true),
                "rebaseable": p.open.then_some(true),
                "mergeable_state": if p.open { "clean" } else { "unknown" },
                "merged_by": null, "comments": state.comments.iter()
                    .filter(|c| c.repo.eq_ignore_ascii_case(repo) && c.issue == n).count(),
                "review_comments": 0, "maintainer_can_modify": false,
                "commits": ahead, "additions": 3 * ahead, "deletions": ahead, "changed_files": ahead.min(3)
            });
            for (k, x) in extra.as_object().unwrap() {
                v[k] = x.clone();
            }
        }
        v
    }

    /// `GET /repos/{o}/{r}/pulls` (`state`, `head`, `base`, `sort`,
    /// `direction`, `per_page`, `page`; `Link` paging).
    fn list_pulls(
        &self,
        state: &State,
        request: &Request,
        repo: &str,
        api: &str,
        path: &str,
    ) -> Reply {
        let wanted = request.query("state").unwrap_or("open");
        if !matches!(wanted, "open" | "closed" | "all") {
            return message(422, "Validation Failed", "/pulls/pulls#list-pull-requests");
        }
        let (per_page, page) = page_params(request);
        let head = request.query("head").map(|h| match h.split_once(':') {
            Some((o, b)) => (Some(o.to_ascii_lowercase()), b.to_string()),
            None => (None, h.to_string()),
        });
        let mut all: Vec<&GhPull> = state
            .pulls
            .iter()
            .filter(|p| p.repo.eq_ignore_ascii_case(repo) && pull_state_matches(p, wanted))
            .filter(|p| request.query("base").is_none_or(|b| p.base == b))
            .filter(|p| {
                head.as_ref().is_none_or(|(o, b)| {
                    p.head == *b
                        && o.as_deref()
                            .is_none_or(|o| owner_of(&p.repo).eq_ignore_ascii_case(o))
                })
            })
            .collect();
        let sort = request.query("sort").unwrap_or("created");
        match sort {
            "updated" => all.sort_by_key(|p| (p.updated, p.number)),
            _ => all.sort_by_key(|p| (p.created, p.number)),
        }
        // GitHub: descending by default when sorting by creation.
        let desc = match request.query("direction") {
            Some(d) => d == "desc",
            None => sort == "created",
        };
        if desc {
            all.reverse();
        }
        let pages = all.len().div_ceil(per_page).max(1);
        let items: Vec<Value> = all
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|p| self.pull_json(state, p, api, false))
            .collect();
        let others: Vec<String> = request
            .query
            .iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                )
            })
            .collect();
        let link_to = |p: usize| {
            let mut q = others.clone();
            q.push(format!("per_page={per_page}"));
            q.push(format!("page={p}"));
            format!("<{api}{path}?{}>", q.join("&"))
        };
        paged(Reply::json(200, &json!(items)), page, pages, link_to)
    }

    /// `GET /repos/{o}/{r}/compare/{base}...{head}`: branch names
    /// percent-encoded or not; `owner:branch` heads accepted.
    fn compare_json(&self, state: &State, repo: &str, spec: &str, api: &str) -> Reply {
        let not_found = || message(404, "Not Found", "/commits/commits#compare-two-commits");
        let Some((base, head)) = spec.split_once("...") else {
            return not_found();
        };
        let name = |s: &str| {
            let s = decode_segment(s);
            match s.split_once(':') {
                Some((o, b)) if o.eq_ignore_ascii_case(owner_of(repo)) => b.to_string(),
                _ => s,
            }
        };
        let (base, head) = (name(base), name(head));
        let (Some(b), Some(h)) = (
            Self::branch_locked(state, repo, &base),
            Self::branch_locked(state, repo, &head),
        ) else {
            return not_found();
        };
        let (ahead, behind) = if base == head {
            (0, 0)
        } else {
            (
                h.ahead.saturating_sub(b.ahead),
                b.ahead.saturating_sub(h.ahead),
            )
        };
        let status = match (ahead, behind) {
            (0, 0) => "identical",
            (_, 0) => "ahead",
            (0, _) => "behind",
            _ => "diverged",
        };
        let server = &state.config.server_url;
        let commit = |sha: &str, message: &str| {
            json!({"sha": sha, "node_id": format!("C_kwDOSim{}", &sha[..8.min(sha.len())]),
                   "commit": {"message": message, "author": {"name": "Cursor Agent", "email": "cursoragent@cursor.com", "date": iso8601(SystemTime::now())}},
                   "url": format!("{api}/repos/{repo}/commits/{sha}"),
                   "html_url": format!("{server}/{repo}/commit/{sha}"), "parents": []})
        };
        let commits: Vec<Value> = (0..ahead.min(250))
            .map(|i| {
                let sha = if i + 1 == ahead {
                    h.sha.clone()
                } else {
                    fake_sha(repo, &head, 1_000_000 + i)
                };
                commit(&sha, "Update from the agent")
            })
            .collect();
        let spec = format!("{base}...{head}");
        Reply::json(
            200,
            &json!({
                "url": format!("{api}/repos/{repo}/compare/{spec}"),
                "html_url": format!("{server}/{repo}/compare/{spec}"),
                "permalink_url": format!("{server}/{repo}/compare/{}...{}", b.sha, h.sha),
                "diff_url": format!("{server}/{repo}/compare/{spec}.diff"),
                "patch_url": format!("{server}/{repo}/compare/{spec}.patch"),
                "base_commit": commit(&b.sha, "Base"),
                "merge_base_commit": commit(&b.sha, "Base"),
                "status": status, "ahead_by": ahead, "behind_by": behind,
                "total_commits": ahead, "commits": commits,
                "files": if ahead > 0 { json!([{"filename": "README.md", "status": "modified", "additions": 3 * ahead, "deletions": ahead, "changes": 4 * ahead}]) } else { json!([]) }
            }),
        )
    }

    /// The REST routes for pull requests and branches; `None`: not one.
    fn pull_route(
        &self,
        state: &mut State,
        request: &Request,
        segments: &[&str],
        api: &str,
        path: &str,
    ) -> Option<Reply> {
        match (request.method.as_str(), segments) {
            ("GET", ["repos", o, r, "pulls"]) => {
                Some(self.list_pulls(state, request, &format!("{o}/{r}"), api, path))
            }
            ("GET", ["repos", o, r, "pulls", n]) => {
                let repo = format!("{o}/{r}");
                let found = n.parse::<u64>().ok().and_then(|n| {
                    state
                        .pulls
                        .iter()
                        .find(|p| p.number == n && p.repo.eq_ignore_ascii_case(&repo))
                });
                Some(match found {
                    Some(p) => Reply::json(200, &self.pull_json(state, p, api, true)),
                    None => message(404, "Not Found", "/pulls/pulls#get-a-pull-request"),
                })
            }
            ("GET", ["repos", o, r, "compare", spec @ ..]) if !spec.is_empty() => {
                Some(self.compare_json(state, &format!("{o}/{r}"), &spec.join("/"), api))
            }
            // The token's own user: an installation token (`GITHUB_TOKEN`,
            // a bot) may not read it, as on GitHub.
            ("GET", ["user"]) => Some(if state.actor.kind == "Bot" {
                message(
                    403,
                    "Resource not accessible by integration",
                    "/users/users#get-the-authenticated-user",
                )
            } else {
                Reply::json(200, &state.actor.to_json(api))
            }),
            ("PATCH", ["repos", o, r, "pulls", n]) => {
                Some(self.update_pull(state, request, &format!("{o}/{r}"), n, api))
            }
            ("GET", ["repos", o, r, "branches", name @ ..]) if !name.is_empty() => {
                let repo = format!("{o}/{r}");
                let name = decode_segment(&name.join("/"));
                Some(match Self::branch_locked(state, &repo, &name) {
                    Some(b) => Reply::json(
                        200,
                        &json!({
                            "name": name,
                            "commit": {"sha": b.sha, "url": format!("{api}/repos/{repo}/commits/{}", b.sha)},
                            "protected": name == "main",
                            "_links": {"self": format!("{api}/repos/{repo}/branches/{name}"),
                                       "html": format!("{}/{repo}/tree/{name}", state.config.server_url)}
                        }),
                    ),
                    None => message(404, "Branch not found", "/branches/branches#get-a-branch"),
                })
            }
            _ => None,
        }
    }

    /// `PATCH /repos/{o}/{r}/pulls/{n}`: `title`, `body`, `state`
    /// (`closed`, or `open` to reopen an unmerged one).
    fn update_pull(
        &self,
        state: &mut State,
        request: &Request,
        repo: &str,
        n: &str,
        api: &str,
    ) -> Reply {
        const DOCS: &str = "/pulls/pulls#update-a-pull-request";
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let Some(i) = n.parse::<u64>().ok().and_then(|n| {
            state
                .pulls
                .iter()
                .position(|p| p.number == n && p.repo.eq_ignore_ascii_case(repo))
        }) else {
            return message(404, "Not Found", DOCS);
        };
        let number = state.pulls[i].number;
        if let Some(text) = body.get("body") {
            match text.as_str() {
                Some(t) if t.chars().count() <= 65536 => state.pulls[i].body = t.into(),
                Some(_) => {
                    return message(
                        422,
                        "Validation Failed: body is too long (maximum is 65536 characters)",
                        DOCS,
                    );
                }
                None if text.is_null() => state.pulls[i].body.clear(),
                None => return message(422, "Invalid request.", DOCS),
            }
        }
        if let Some(title) = body.get("title").and_then(Value::as_str) {
            state.pulls[i].title = title.into();
        }
        match body.get("state").and_then(Value::as_str) {
            None => {}
            Some("closed") => {
                Self::finish_locked(state, repo, number, false);
            }
            Some("open") if !state.pulls[i].open => {
                let head = state.pulls[i].head.clone();
                let taken = state
                    .pulls
                    .iter()
                    .any(|p| p.open && p.head == head && p.repo.eq_ignore_ascii_case(repo));
                if state.pulls[i].merged || taken {
                    return message(422, "Validation Failed: state cannot be changed", DOCS);
                }
                let p = &mut state.pulls[i];
                p.open = true;
                p.closed = None;
            }
            Some("open") => {}
            Some(_) => return message(422, "Validation Failed", DOCS),
        }
        state.pulls[i].updated = SystemTime::now();
        Reply::json(200, &self.pull_json(state, &state.pulls[i], api, true))
    }

    /// `POST /_sim/pulls/...`, `GET /_sim/pulls`, `POST /_sim/push`.
    fn pull_control(&self, request: &Request, body: &Value) -> Option<Reply> {
        let field = |name: &str| body.get(name).and_then(Value::as_str).map(String::from);
        let number = body.get("number").and_then(Value::as_u64);
        let bad =
            |expected: &str| Reply::json(400, &json!({"error": format!("expected {expected}")}));
        Some(match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/_sim/pulls") => {
                let repo = request.query("repo").unwrap_or_default().to_string();
                let items: Vec<Value> = self
                    .pulls(&repo)
                    .iter()
                    .map(|p| {
                        let ahead = self.branch(&repo, &p.head).map(|(_, a)| a);
                        let html = crate::host::pull_url(&self.server(), &repo, p.number);
                        json!({"number": p.number, "html_url": html, "head": p.head, "base": p.base, "title": p.title,
                               "state": if p.open { "open" } else { "closed" }, "merged": p.merged,
                               "user": p.user.login, "head_sha": p.head_sha, "ahead_by": ahead})
                    })
                    .collect();
                Reply::json(200, &json!(items))
            }
            ("POST", path @ ("/_sim/pulls/merge" | "/_sim/pulls/close")) => {
                let (Some(repo), Some(n)) = (field("repo"), number) else {
                    return Some(bad("{\"repo\": \"owner/repo\", \"number\": N}"));
                };
                let done = if path.ends_with("merge") {
                    self.merge_pull(&repo, n)
                } else {
                    self.close_pull(&repo, n)
                };
                if done {
                    Reply::json(200, &json!({"ok": true}))
                } else {
                    Reply::json(
                        404,
                        &json!({"error": format!("no open pull request #{n} in {repo}")}),
                    )
                }
            }
            ("POST", "/_sim/pulls") => {
                let (Some(repo), Some(head)) = (field("repo"), field("head")) else {
                    return Some(bad(
                        "{\"repo\", \"head\", \"base\"?, \"title\"?, \"user\"?}",
                    ));
                };
                let user = match field("user") {
                    Some(login) if login.ends_with("[bot]") => GhUser {
                        login,
                        id: 206951365,
                        kind: "Bot".into(),
                    },
                    Some(login) => GhUser::user(&login, 1000 + login.len() as u64),
                    None => GhUser::cursor_bot(),
                };
                let n = self.open_pull(
                    &repo,
                    &head,
                    field("base").as_deref().unwrap_or("main"),
                    field("title").as_deref().unwrap_or("Update"),
                    user,
                );
                Reply::json(200, &json!({"number": n}))
            }
            ("POST", "/_sim/push") => {
                let (Some(repo), Some(branch)) = (field("repo"), field("branch")) else {
                    return Some(bad("{\"repo\", \"branch\", \"commits\"?}"));
                };
                let commits = body.get("commits").and_then(Value::as_u64).unwrap_or(1);
                self.push(&repo, &branch, commits.min(u64::from(u32::MAX)) as u32);
                let (sha, ahead) = self.branch(&repo, &branch).unwrap_or_default();
                Reply::json(200, &json!({"sha": sha, "ahead_by": ahead}))
            }
            _ => return None,
        })
    }
}

impl crate::host::RepoHost for GitHubSim {
    fn push(&self, repo: &str, branch: &str, commits: u32) {
        GitHubSim::push(self, repo, branch, commits);
    }

    fn open_pull(&self, repo: &str, head: &str, base: &str, title: &str) -> Option<u64> {
        {
            // GitHub refuses a pull request with nothing to merge (422). A
            // base the simulator never saw counts as `main`.
            let state = self.state.lock().unwrap();
            let h = Self::branch_locked(&state, repo, head)?;
            let base_ahead = Self::branch_locked(&state, repo, base).map_or(0, |b| b.ahead);
            if head == base || h.ahead <= base_ahead {
                return None;
            }
        }
        Some(GitHubSim::open_pull(
            self,
            repo,
            head,
            base,
            title,
            GhUser::cursor_bot(),
        ))
    }

    fn pull_head(&self, repo: &str, number: u64) -> Option<String> {
        self.pull_head_locked(repo, number)
    }

    fn server_url(&self) -> String {
        self.server()
    }
}

impl GitHubSim {
    /// The control API (`/_sim/...`), for out-of-process tests and users.
    fn control(&self, request: &Request) -> Reply {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let field = |name: &str| body.get(name).and_then(Value::as_str).map(String::from);
        if let Some(reply) = self.pull_control(request, &body) {
            return reply;
        }
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/_sim/requests") => {
                Reply::json(200, &serde_json::to_value(self.requests()).unwrap())
            }
            ("POST", "/_sim/permissions") => match (field("login"), field("role")) {
                (Some(login), Some(role)) => {
                    self.set_permission(&login, &role);
                    Reply::json(200, &json!({"ok": true}))
                }
                _ => Reply::json(
                    400,
                    &json!({"error": "expected {\"login\": ..., \"role\": \"admin|maintain|write|triage|read|none\"}"}),
                ),
            },
            ("POST", "/_sim/read-only") => {
                self.set_read_only(
                    body.get("read_only")
                        .and_then(Value::as_bool)
                        .unwrap_or(true),
                );
                Reply::json(200, &json!({"ok": true}))
            }
            ("POST", "/_sim/faults") => crate::faults::add_from_json(body, |r| self.add_fault(r)),
            ("POST", "/_sim/actions/jobs") => self.state.lock().unwrap().actions.seed(&body),
            ("POST", "/_sim/actions/log-link-ttl") => match body["millis"].as_u64() {
                Some(ms) => {
                    self.set_log_link_ttl(std::time::Duration::from_millis(ms));
                    Reply::json(200, &json!({"ok": true}))
                }
                None => Reply::json(400, &json!({"error": "expected {\"millis\": N}"})),
            },
            ("GET", "/_sim/comments") => {
                let repo = request.query("repo").unwrap_or_default().to_string();
                let issue = request
                    .query("issue")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let comments: Vec<Value> = self
                    .comments(&repo, issue)
                    .iter()
                    .map(|c| json!({"id": c.id, "user": c.user.login, "body": c.body}))
                    .collect();
                Reply::json(200, &json!(comments))
            }
            _ => Reply::json(404, &json!({"error": "unknown control endpoint"})),
        }
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
