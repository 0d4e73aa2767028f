use super::{PullJson, PullRequest, PullState, issue_of, path_segment, role_of};

#[test]
fn pull_requests_from_real_shaped_json() {
    // A listing item: `merged_at`, no `merged`; the fork is deleted.
    let item: PullJson = serde_json::from_value(json!({
        "url": "https://api.github.com/repos/o/r/pulls/1347", "id": 1, "number": 1347,
        "state": "closed", "locked": false, "title": "Docs", "body": null,
        "html_url": "https://github.com/o/r/pull/1347",
        "user": {"login": "cursor[bot]", "id": 2, "type": "Bot", "site_admin": false},
        "created_at": "2011-01-26T19:01:12Z", "closed_at": "2011-01-26T19:01:12Z",
        "merged_at": "2011-01-26T19:01:12Z", "draft": false, "labels": [], "milestone": null,
        "head": {"label": "x:cursor/docs-1a2b", "ref": "cursor/docs-1a2b", "sha": "6dcb09b", "user": null, "repo": null},
        "base": {"label": "o:main", "ref": "main", "sha": "abc", "repo": {"full_name": "o/r"}},
        "author_association": "NONE", "auto_merge": null
    }))
    .unwrap();
    let pr = PullRequest::from(item);
    assert_eq!(pr.number, 1347);
    assert_eq!(pr.state, PullState::Closed);
    assert!(pr.merged, "merged_at set: merged");
    assert_eq!(pr.head_ref, "cursor/docs-1a2b");
    assert_eq!(pr.head_sha, "6dcb09b");
    assert_eq!(pr.head_repo, None);
    assert_eq!(pr.base_ref, "main");
    assert!(pr.author_is_bot);
    assert_eq!(pr.created_at.as_deref(), Some("2011-01-26T19:01:12Z"));
    // A single read: `merged: false`, `merged_at: null`, a person.
    let open: PullJson = serde_json::from_value(json!({
        "number": 2, "state": "open", "merged": false, "merged_at": null,
        "html_url": "https://github.com/o/r/pull/2",
        "user": {"login": "octocat", "type": "User"},
        "head": {"ref": "feature", "sha": "s", "repo": {"full_name": "fork/r"}},
        "base": {"ref": "main"}
    }))
    .unwrap();
    let pr = PullRequest::from(open);
    assert_eq!(pr.state, PullState::Open);
    assert!(!pr.merged);
    assert_eq!(pr.head_repo.as_deref(), Some("fork/r"));
    assert!(!pr.author_is_bot);
    assert_eq!(pr.created_at, None);
    // Almost nothing: still a pull request, closed and unmerged.
    let bare = PullRequest::from(serde_json::from_value::<PullJson>(json!({"number": 3})).unwrap());
    assert_eq!(
        (bare.number, bare.state, bare.merged),
        (3, PullState::Closed, false)
    );
}

#[test]
fn branch_names_are_one_path_segment() {
    assert_eq!(path_segment("main"), "main");
    assert_eq!(path_segment("cursor/fix-it-1a2b"), "cursor%2Ffix-it-1a2b");
    assert_eq!(path_segment("a b#c?d%"), "a%20b%23c%3Fd%25");
    assert_eq!(path_segment("v1.2_x~y"), "v1.2_x~y");
}

#[test]
fn issue_numbers_from_comment_urls() {
    assert_eq!(
        issue_of("https://github.com/o/r/issues/12#issuecomment-5"),
        Some(12)
    );
    assert_eq!(
        issue_of("https://github.com/o/r/pull/7#issuecomment-9"),
        Some(7)
    );
    assert_eq!(issue_of("https://github.com/o/r/commit/7"), None);
}
use serde_json::json;

#[test]
fn roles_from_permission_answers() {
    let role = |v| role_of(&v);
    assert_eq!(
        role(json!({"permission": "write", "role_name": "maintain"})),
        "maintain"
    );
    assert_eq!(
        role(json!({"permission": "read", "role_name": "triage"})),
        "triage"
    );
    assert_eq!(
        role(json!({"permission": "write", "role_name": "reviewer"})),
        "write"
    );
    assert_eq!(
        role(json!({"permission": "read", "role_name": "auditor"})),
        "read"
    );
    assert_eq!(role(json!({"permission": "admin"})), "admin");
    assert_eq!(role(json!({"role_name": "weird"})), "none");
    assert_eq!(role(json!({"permission": "superuser"})), "none");
    assert_eq!(role(json!({})), "none");
}
