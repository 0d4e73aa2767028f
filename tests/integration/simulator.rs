//! The GitHub simulator behaves as GitHub does, as seen through our own
//! client: octocrab, in particular, rejects bodies less complete than
//! GitHub's. (The Cursor simulators' own tests are in crates/sim/tests.)

use crate::support::*;
use cursor_agent_action::context::RepoId;
use cursor_agent_action::github::{GitHubClient, GitHubError, ReactionOn};
use kit::clock::Clock;
use kit::secret::Secret;
use sim::*;

fn github_client(api: &str) -> GitHubClient {
    GitHubClient::new(
        http(),
        api,
        &Secret::new(TOKEN),
        RepoId::parse("Codertocat/Hello-World").unwrap(),
        Clock::real(),
    )
    .unwrap()
}

#[tokio::test]
async fn github_comments_round_trip_through_octocrab() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    let g = github_client(&sims.github_url());
    for i in 0..130 {
        sims.github.add_comment(
            "Codertocat/Hello-World",
            1,
            &format!("comment {i}"),
            GhUser::user("someone", 7),
            "NONE",
        );
    }
    let created = g
        .create_comment(1, "<!-- cursor-agent-action {\"v\":1} -->\nhello")
        .await
        .unwrap();
    assert!(created.author_is_bot && created.author == "github-actions[bot]");
    assert!(
        created
            .html_url
            .starts_with("https://github.com/Codertocat/Hello-World/issues/1#issuecomment-")
    );
    let all = g.list_comments(1).await.unwrap();
    assert_eq!(all.len(), 131, "paged through Link headers");
    assert_eq!(all.last().unwrap().id, created.id);
    assert_eq!(all[0].association.as_deref(), Some("NONE"));
    assert_eq!(
        sims.github
            .count("GET", "/repos/Codertocat/Hello-World/issues/1/comments"),
        2
    );
    let updated = g.update_comment(created.id, "edited").await.unwrap();
    assert_eq!(updated.body, "edited");
    assert_eq!(
        sims.github
            .comments("Codertocat/Hello-World", 1)
            .last()
            .unwrap()
            .body,
        "edited"
    );
    g.react(ReactionOn::Issue(1), "eyes").await.unwrap();
    g.react(ReactionOn::Comment(created.id), "rocket")
        .await
        .unwrap();
    g.react(ReactionOn::ReviewComment(5), "confused")
        .await
        .unwrap();
    let targets: Vec<ReactionTarget> = sims
        .github
        .reactions()
        .into_iter()
        .map(|r| r.target)
        .collect();
    assert_eq!(
        targets,
        vec![
            ReactionTarget::Issue(1),
            ReactionTarget::Comment(created.id),
            ReactionTarget::ReviewComment(5)
        ]
    );
    sims.github.set_permission("maint", "maintain");
    assert_eq!(g.permission("maint").await.unwrap(), "maintain");
    assert_eq!(g.permission("stranger").await.unwrap(), "read");
}

#[tokio::test]
async fn github_enterprise_prefix_and_errors() {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    let g = github_client(&format!("{}/api/v3", sims.github_url()));
    let c = g.create_comment(3, "on GHES").await.unwrap();
    assert!(sims.github.requests()[0].path.starts_with("/api/v3/repos/"));
    assert_eq!(g.list_comments(3).await.unwrap()[0].id, c.id);

    sims.github.set_read_only(true);
    match g.create_comment(3, "x").await.unwrap_err() {
        GitHubError::Status {
            status: 403,
            message,
            ..
        } => assert_eq!(message, "Resource not accessible by integration"),
        other => panic!("{other:?}"),
    }
    sims.github.set_read_only(false);
    sims.github.add_fault(FaultRule::new(
        "POST",
        "/repos/*/*/issues/*/comments",
        Fault::Status {
            status: 403,
            body: Some(r#"{"message":"API rate limit exceeded"}"#.into()),
            retry_after: None,
            headers: vec![
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-reset".into(), "1999999999".into()),
            ],
        },
    ));
    match g.create_comment(3, "x").await.unwrap_err() {
        GitHubError::Status {
            status: 403,
            ratelimit_remaining: Some(0),
            ratelimit_reset: Some(1999999999),
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(sims.github.comments("Codertocat/Hello-World", 3).len(), 1);
}
