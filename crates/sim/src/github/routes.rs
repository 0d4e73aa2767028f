//! The issue-comment, reaction and permission routes, and the control API (`/_sim/...`).

use super::{
    GhComment, GhReaction, GhUser, GitHubSim, REACTIONS, ReactionTarget, State, comment_body,
    message, page_params, paged,
};
use crate::server::{Reply, Request};
use kit::rfc3339::iso8601;
use serde_json::{Value, json};
use std::time::SystemTime;

impl GitHubSim {
    pub(super) fn route(&self, state: &mut State, request: &Request, api: &str) -> Reply {
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

    /// The control API (`/_sim/...`), for out-of-process tests and users.
    pub(super) fn control(&self, request: &Request) -> Reply {
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
