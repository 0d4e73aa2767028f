//! A simulator of the GitHub REST calls the action makes: issue comments
//! (list with `Link` paging, create, get, update by PATCH or POST),
//! reactions, and collaborator permission. Bodies are shaped like GitHub's,
//! full `user` objects included (octocrab rejects less). A `/api/v3` prefix
//! (GitHub Enterprise Server) is accepted.

use super::faults::{FaultRule, take};
use super::server::{Handler, Reply, Request};
use super::time::iso8601;
use super::{LoggedRequest, log_entry};
use crate::clock::Clock;
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

struct State {
    comments: Vec<GhComment>,
    next_id: u64,
    reactions: Vec<GhReaction>,
    permissions: HashMap<String, String>,
    faults: Vec<FaultRule>,
    log: Vec<LoggedRequest>,
    actor: GhUser,
    read_only: bool,
    config: GitHubSimConfig,
}

pub struct GitHubSim {
    clock: Clock,
    state: Mutex<State>,
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
                next_id: 2_000_000_000,
                reactions: Vec::new(),
                permissions: HashMap::new(),
                faults: Vec::new(),
                log: Vec::new(),
                actor: GhUser::actions_bot(),
                read_only: false,
                config,
            }),
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
                r.method == method && super::faults::path_matches(pattern, path)
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
        match (method, segments.as_slice()) {
            // The repository's comments, most recently updated first
            // (`sort=updated&direction=desc`, `since`), paged by number.
            ("GET", ["repos", o, r, "issues", "comments"]) => {
                let repo = format!("{o}/{r}");
                let since = request
                    .query("since")
                    .and_then(crate::launch::parse_rfc3339)
                    .map(|s| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s));
                let per_page = request
                    .query("per_page")
                    .and_then(|p| p.parse::<usize>().ok())
                    .unwrap_or(30)
                    .clamp(1, 100);
                let page = request
                    .query("page")
                    .and_then(|p| p.parse::<usize>().ok())
                    .unwrap_or(1)
                    .max(1);
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
                let per_page = request
                    .query("per_page")
                    .and_then(|p| p.parse::<usize>().ok())
                    .unwrap_or(30)
                    .clamp(1, 100);
                let page = request
                    .query("page")
                    .and_then(|p| p.parse::<usize>().ok())
                    .unwrap_or(1)
                    .max(1);
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
                let link_to = |p: usize| format!("<{api}{path}?per_page={per_page}&page={p}>");
                let mut links = Vec::new();
                if page < pages {
                    links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
                    links.push(format!("{}; rel=\"last\"", link_to(pages)));
                }
                if page > 1 {
                    links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
                    links.push(format!("{}; rel=\"first\"", link_to(1)));
                }
                let reply = Reply::json(200, &json!(items));
                if links.is_empty() {
                    reply
                } else {
                    reply.with_header("link", &links.join(", "))
                }
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

impl GitHubSim {
    /// The control API (`/_sim/...`), for out-of-process tests and users.
    fn control(&self, request: &Request) -> Reply {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let field = |name: &str| body.get(name).and_then(Value::as_str).map(String::from);
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
            ("POST", "/_sim/faults") => super::faults::add_from_json(body, |r| self.add_fault(r)),
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
        let reply = match &fault {
            Some(f) if !f.applies_request() => f.reply(None),
            _ if !Self::authorized(&state, &request) => message(401, "Bad credentials", ""),
            fault => {
                let normal = self.route(&mut state, &request, &api);
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
