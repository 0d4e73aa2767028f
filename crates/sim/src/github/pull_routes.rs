//! Pull requests, refs and comparisons as JSON, and their REST and control routes.

use super::pulls::{owner_of, pull_state_matches};
use super::{
    GhPull, GhUser, GitHubSim, State, decode_segment, fake_sha, message, page_params, paged,
};
use crate::server::{Reply, Request};
use kit::rfc3339::iso8601;
use serde_json::{Value, json};
use std::time::SystemTime;

impl GitHubSim {
    pub(super) fn server(&self) -> String {
        self.state.lock().unwrap().config.server_url.clone()
    }

    pub(super) fn pull_head_locked(&self, repo: &str, number: u64) -> Option<String> {
        let state = self.state.lock().unwrap();
        state
            .pulls
            .iter()
            .find(|p| p.number == number && p.repo.eq_ignore_ascii_case(repo))
            .map(|p| p.head.clone())
    }

    pub(super) fn repo_json(&self, repo: &str, api: &str, server: &str) -> Value {
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

    pub(super) fn ref_json(
        &self,
        state: &State,
        repo: &str,
        branch: &str,
        sha: &str,
        api: &str,
    ) -> Value {
        let server = &state.config.server_url;
        let owner = owner_of(repo);
        json!({
            "label": format!("{owner}:{branch}"), "ref": branch, "sha": sha,
            "user": GhUser::user(owner, 583_231).to_json(api),
            "repo": self.repo_json(repo, api, server)
        })
    }

    pub(super) fn pull_json(&self, state: &State, p: &GhPull, api: &str, single: bool) -> Value {
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
    pub(super) fn list_pulls(
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
    pub(super) fn compare_json(&self, state: &State, repo: &str, spec: &str, api: &str) -> Reply {
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
    pub(super) fn pull_route(
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
    pub(super) fn update_pull(
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
    pub(super) fn pull_control(&self, request: &Request, body: &Value) -> Option<Reply> {
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
