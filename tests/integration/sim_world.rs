//! The simulated world: the GitHub simulator's pull requests and branches,
//! read through the GitHub client's pull and compare calls, and the Cursor
//! simulators (v0 and v1) linked to it, so an agent's branch and pull
//! request exist on GitHub, grow with each run, and vanish from the open
//! list when merged or closed.

use crate::support::*;
use cursor_agent_action::context::RepoId;
use cursor_agent_action::github::{GitHubClient, PullState};
use cursor_api::v1::{
    CreateAgentRequest, CreateRunRequest, ModelSelection, Prompt as V1Prompt, RepoSpec, RunStatus,
    V1Client,
};
use cursor_api::*;
use kit::clock::Clock;
use kit::secret::Secret;
use serde_json::{Value, json};
use sim::*;
use std::time::Duration;

const REPO: &str = "Codertocat/Hello-World";
const REPO_URL: &str = "https://github.com/Codertocat/Hello-World";

struct World {
    sims: Simulators,
    gh: GitHubClient,
    v0: CursorClient,
    v1: V1Client,
    clock: Clock,
}

async fn world(linked: bool) -> World {
    let clock = Clock::real();
    let sims = Simulators::start(clock).await.unwrap();
    if linked {
        sims.link_repos();
    }
    let gh = GitHubClient::new(
        http(),
        &sims.github_url(),
        &Secret::new(TOKEN),
        RepoId::parse(REPO).unwrap(),
        clock,
    )
    .unwrap();
    let v0 = cursor_client(&sims.cursor_url(), KEY, clock);
    let v1 = V1Client::new(
        http(),
        &url::Url::parse(&sims.cursor_url()).unwrap(),
        &Secret::new(KEY),
        AuthScheme::Bearer,
        clock,
    );
    World {
        sims,
        gh,
        v0,
        v1,
        clock,
    }
}

fn launch(auto_pr: bool, pr_url: Option<&str>) -> LaunchRequest {
    LaunchRequest {
        prompt: Prompt {
            text: "Refresh the docs".into(),
            images: vec![],
        },
        model: None,
        source: AgentSource {
            repository: pr_url.is_none().then(|| REPO_URL.into()),
            git_ref: pr_url.is_none().then(|| "main".into()),
            pr_url: pr_url.map(String::from),
        },
        target: LaunchTarget {
            auto_create_pr: auto_pr,
            open_as_cursor_github_app: false,
            skip_reviewer_request: false,
            branch_name: None,
            auto_branch: pr_url.map(|_| false),
        },
        webhook: None,
    }
}

fn create(name: Option<&str>, pr_url: Option<&str>) -> CreateAgentRequest {
    CreateAgentRequest {
        prompt: V1Prompt::text("Refresh the docs"),
        model: Some(ModelSelection::id("claude-haiku-4-5")),
        name: name.map(String::from),
        repos: vec![RepoSpec {
            url: REPO_URL.into(),
            starting_ref: Some("main".into()),
            pr_url: pr_url.map(String::from),
        }],
        work_on_current_branch: pr_url.map(|_| true),
        auto_create_pr: Some(true),
        skip_reviewer_request: Some(true),
        mode: None,
        agent_id: None,
    }
}

fn followup(text: &str) -> CreateRunRequest {
    CreateRunRequest {
        prompt: V1Prompt::text(text),
        model: None,
    }
}

/// A pushed branch with an open pull request by someone, as a test seed.
fn seed_pull(w: &World, head: &str, commits: u32, user: GhUser) -> u64 {
    w.sims.github.push(REPO, head, commits);
    w.sims.github.open_pull(REPO, head, "main", "Seeded", user)
}

#[tokio::test(start_paused = true)]
async fn pulls_and_comparisons_parse_through_the_client() {
    let w = world(false).await;
    w.sims.github.set_next_pull_number(500);
    let first = seed_pull(&w, "cursor/docs-1a2b", 2, GhUser::cursor_bot());
    w.clock.sleep(Duration::from_secs(2)).await;
    let second = seed_pull(&w, "feature", 1, GhUser::user("octocat", 583231));
    assert_eq!(
        (first, second),
        (500, 501),
        "numbers count up from the setter"
    );
    // A second PR for a head that has one open is that one.
    assert_eq!(
        w.sims
            .github
            .open_pull(REPO, "feature", "main", "Again", GhUser::cursor_bot()),
        501
    );

    let before = w.gh.request_count();
    let open = w.gh.list_open_pulls(10).await.unwrap();
    assert_eq!(w.gh.request_count(), before + 1, "one page, one request");
    let numbers: Vec<u64> = open.iter().map(|p| p.number).collect();
    assert_eq!(numbers, vec![501, 500], "newest first");
    let bot = &open[1];
    assert_eq!(
        bot.html_url,
        "https://github.com/Codertocat/Hello-World/pull/500"
    );
    assert_eq!(bot.state, PullState::Open);
    assert!(!bot.merged);
    assert_eq!(bot.head_ref, "cursor/docs-1a2b");
    assert_eq!(bot.head_repo.as_deref(), Some(REPO));
    assert_eq!(bot.base_ref, "main");
    assert_eq!(bot.author, "cursor[bot]");
    assert!(bot.author_is_bot);
    assert!(bot.created_at.as_deref().is_some_and(|c| c.ends_with('Z')));
    let (sha, ahead) = w.sims.github.branch(REPO, "cursor/docs-1a2b").unwrap();
    assert_eq!((bot.head_sha.as_str(), ahead), (sha.as_str(), 2));
    assert!(!open[0].author_is_bot);

    let one = w.gh.get_pull(500).await.unwrap();
    assert_eq!(&one, bot, "the single read says what the listing says");
    assert_eq!(w.gh.get_pull(9).await.unwrap_err().status(), Some(404));

    // Compare: a slash in the branch name is one encoded segment.
    let c = w.gh.compare("main", "cursor/docs-1a2b").await.unwrap();
    assert_eq!(
        (c.status.as_str(), c.ahead_by, c.behind_by),
        ("ahead", 2, 0)
    );
    let same = w.gh.compare("main", "main").await.unwrap();
    assert_eq!((same.status.as_str(), same.ahead_by), ("identical", 0));
    let missing =
        w.gh.compare("main", "cursor/never-pushed")
            .await
            .unwrap_err();
    assert_eq!(missing.status(), Some(404));
    assert!(missing.to_string().contains("Not Found"), "{missing}");
    let path = w
        .sims
        .github
        .requests()
        .iter()
        .rev()
        .find(|r| r.path.contains("/compare/"))
        .unwrap()
        .path
        .clone();
    assert_eq!(
        path,
        "/repos/Codertocat/Hello-World/compare/main...cursor%2Fnever-pushed"
    );
    assert_eq!(w.sims.github.count("GET", "/repos/*/*/compare/*"), 3);

    // The raw shapes: GitHub's fields, Link paging, the state filter.
    let api = w.sims.github_url();
    let page = http()
        .get(format!("{api}/repos/{REPO}/pulls?state=open&per_page=1"))
        .send()
        .await
        .unwrap();
    let link = page.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("state=open") && link.contains("page=2>; rel=\"next\""),
        "{link}"
    );
    let items: Value = page.json().await.unwrap();
    let item = &items[0];
    for field in [
        "url",
        "id",
        "node_id",
        "diff_url",
        "issue_url",
        "labels",
        "draft",
    ] {
        assert!(item.get(field).is_some(), "{field} missing: {item}");
    }
    assert_eq!(item["merged_at"], Value::Null);
    assert_eq!(item["head"]["label"], "Codertocat:feature");
    assert_eq!(item["head"]["repo"]["full_name"], REPO);
    assert_eq!(item["user"]["login"], "octocat");
    assert!(
        item.get("merged").is_none(),
        "listings carry merged_at only"
    );
    let raw: Value = json_of(http().get(format!(
        "{api}/repos/{REPO}/compare/main...cursor/docs-1a2b"
    )))
    .await;
    assert_eq!(raw["total_commits"], 2, "unencoded slashes work too: {raw}");
    assert_eq!(raw["commits"].as_array().unwrap().len(), 2);
    assert_eq!(raw["commits"][1]["sha"], sha.as_str());
}

#[tokio::test(start_paused = true)]
async fn faults_reach_the_new_paths() {
    let w = world(false).await;
    seed_pull(&w, "cursor/x", 1, GhUser::cursor_bot());
    for (path, call) in [
        ("/repos/*/*/pulls", 0),
        ("/repos/*/*/pulls/*", 1),
        ("/repos/*/*/compare/*", 2),
    ] {
        w.sims
            .github
            .add_fault(FaultRule::new("GET", path, Fault::status(502)));
        let run = |w: &World| {
            let gh = w.gh.clone();
            async move {
                match call {
                    0 => gh.list_open_pulls(5).await.map(|_| ()),
                    1 => gh.get_pull(100).await.map(|_| ()),
                    _ => gh.compare("main", "cursor/x").await.map(|_| ()),
                }
            }
        };
        assert_eq!(run(&w).await.unwrap_err().status(), Some(502), "{path}");
        run(&w).await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_linked_v0_agent_opens_one_pull_request_and_its_followup_updates_it() {
    let w = world(true).await;
    w.sims.cursor.set_default_scenario(Scenario::lasting(5, 60));
    let agent = w.v0.launch(&launch(true, None)).await.unwrap();
    w.clock.sleep(Duration::from_secs(30)).await;
    assert!(
        w.gh.list_open_pulls(10).await.unwrap().is_empty(),
        "nothing until it finishes"
    );
    w.clock.sleep(Duration::from_secs(40)).await;
    // GitHub first, as a run that did not wait for the agent would look.
    let open = w.gh.list_open_pulls(10).await.unwrap();
    assert_eq!(open.len(), 1);
    let pr = &open[0];
    assert_eq!(pr.number, 100);
    assert!(pr.author_is_bot && pr.author == "cursor[bot]");
    let now = w.v0.agent(&agent.id).await.unwrap();
    assert_eq!(now.status, AgentStatus::Finished);
    assert_eq!(now.target.pr_url.as_deref(), Some(pr.html_url.as_str()));
    assert_eq!(
        now.target.branch_name.as_deref(),
        Some(pr.head_ref.as_str())
    );
    assert!(pr.head_ref.starts_with("cursor/refresh-the-docs-"));
    let c = w.gh.compare("main", &pr.head_ref).await.unwrap();
    assert_eq!((c.status.as_str(), c.ahead_by), ("ahead", 1));

    w.v0.followup(
        &agent.id,
        &FollowupRequest {
            prompt: Prompt {
                text: "And tonight's changes".into(),
                images: vec![],
            },
        },
    )
    .await
    .unwrap();
    w.clock.sleep(Duration::from_secs(61)).await;
    let again = w.v0.agent(&agent.id).await.unwrap();
    assert_eq!(again.status, AgentStatus::Finished);
    assert_eq!(again.target.pr_url, now.target.pr_url, "same pull request");
    let open = w.gh.list_open_pulls(10).await.unwrap();
    assert_eq!(open.len(), 1, "no second pull request");
    assert_eq!(open[0].number, pr.number);
    assert_ne!(open[0].head_sha, pr.head_sha, "a new head commit");
    assert_eq!(
        w.gh.compare("main", &pr.head_ref).await.unwrap().ahead_by,
        2
    );
    // The agent's PR is also what the v0 list filter finds.
    let listed =
        w.v0.list_agents(Some(10), None, Some(pr.html_url.as_str()))
            .await
            .unwrap();
    assert_eq!(listed.agents.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_linked_v0_agent_on_a_pull_request_branch_keeps_that_pull_request() {
    let w = world(true).await;
    w.sims.cursor.set_default_scenario(Scenario::lasting(5, 60));
    let n = seed_pull(&w, "cursor/docs-old", 3, GhUser::cursor_bot());
    let url = format!("https://github.com/{REPO}/pull/{n}");
    let agent = w.v0.launch(&launch(true, Some(&url))).await.unwrap();
    assert_eq!(agent.target.branch_name.as_deref(), Some("cursor/docs-old"));
    assert_eq!(agent.target.pr_url.as_deref(), Some(url.as_str()));
    let sha = w.sims.github.branch(REPO, "cursor/docs-old").unwrap().0;
    w.clock.sleep(Duration::from_secs(70)).await;
    let done = w.v0.agent(&agent.id).await.unwrap();
    assert_eq!(done.status, AgentStatus::Finished);
    assert_eq!(done.target.pr_url.as_deref(), Some(url.as_str()));
    let open = w.gh.list_open_pulls(10).await.unwrap();
    assert_eq!(open.len(), 1, "no new pull request");
    assert_eq!(open[0].number, n);
    assert_ne!(open[0].head_sha, sha);
    assert_eq!(
        w.gh.compare("main", "cursor/docs-old")
            .await
            .unwrap()
            .ahead_by,
        4
    );
}

#[tokio::test(start_paused = true)]
async fn a_linked_v1_agent_opens_one_pull_request_and_later_runs_update_it() {
    let w = world(true).await;
    w.sims.cursor.v1().set_scenario(V1Scenario::lasting(3, 30));
    let created = w.v1.create_agent(&create(None, None)).await.unwrap();
    let id = created.agent.id.clone();
    w.clock.sleep(Duration::from_secs(40)).await;
    let open = w.gh.list_open_pulls(10).await.unwrap();
    assert_eq!(open.len(), 1);
    let pr = open[0].clone();
    let run = w.v1.run(&id, &created.run.id).await.unwrap();
    assert_eq!(run.status, RunStatus::Finished);
    let branch = &run.git.as_ref().unwrap().branches[0];
    assert_eq!(branch.repo_url, "github.com/Codertocat/Hello-World");
    assert_eq!(branch.branch.as_deref(), Some(pr.head_ref.as_str()));
    assert_eq!(branch.pr_url.as_deref(), Some(pr.html_url.as_str()));
    assert!(pr.head_ref.starts_with("cursor/refresh-the-docs-"));

    let second = w.v1.create_run(&id, &followup("Tonight")).await.unwrap();
    let during = w.v1.run(&id, &second.id).await.unwrap();
    assert_eq!(
        during.git.unwrap().branches[0].pr_url.as_deref(),
        Some(pr.html_url.as_str()),
        "git is per agent: the PR shows on the new run at once"
    );
    w.clock.sleep(Duration::from_secs(40)).await;
    let run = w.v1.run(&id, &second.id).await.unwrap();
    assert_eq!(run.status, RunStatus::Finished);
    let open = w.gh.list_open_pulls(10).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].number, pr.number);
    assert_ne!(open[0].head_sha, pr.head_sha);
    assert_eq!(
        w.gh.compare("main", &pr.head_ref).await.unwrap().ahead_by,
        2
    );
}

#[tokio::test(start_paused = true)]
async fn a_linked_v1_agent_on_a_pull_request_branch_keeps_that_pull_request() {
    let w = world(true).await;
    w.sims.cursor.v1().set_scenario(V1Scenario::lasting(3, 30));
    let n = seed_pull(&w, "cursor/docs-old", 1, GhUser::cursor_bot());
    let url = format!("https://github.com/{REPO}/pull/{n}");
    let created = w.v1.create_agent(&create(None, Some(&url))).await.unwrap();
    w.clock.sleep(Duration::from_secs(40)).await;
    let run = w.v1.run(&created.agent.id, &created.run.id).await.unwrap();
    let branch = &run.git.unwrap().branches[0];
    assert_eq!(branch.branch.as_deref(), Some("cursor/docs-old"));
    assert_eq!(branch.pr_url.as_deref(), Some(url.as_str()));
    let open = w.gh.list_open_pulls(10).await.unwrap();
    assert_eq!(open.iter().map(|p| p.number).collect::<Vec<_>>(), vec![n]);
    assert_eq!(
        w.gh.compare("main", "cursor/docs-old")
            .await
            .unwrap()
            .ahead_by,
        2
    );
}

#[tokio::test(start_paused = true)]
async fn merged_and_closed_pull_requests_leave_the_open_list() {
    let w = world(true).await;
    let a = seed_pull(&w, "cursor/a", 1, GhUser::cursor_bot());
    let b = seed_pull(&w, "cursor/b", 1, GhUser::cursor_bot());
    let api = w.sims.github_url();
    let merged: Value = json_of(
        http()
            .post(format!("{api}/_sim/pulls/merge"))
            .json(&json!({"repo": REPO, "number": a})),
    )
    .await;
    assert_eq!(merged["ok"], true);
    assert!(w.sims.github.close_pull(REPO, b));
    assert!(!w.sims.github.close_pull(REPO, b), "already closed");
    assert!(w.gh.list_open_pulls(10).await.unwrap().is_empty());
    let a = w.gh.get_pull(a).await.unwrap();
    assert_eq!((a.state, a.merged), (PullState::Closed, true));
    let b = w.gh.get_pull(b).await.unwrap();
    assert_eq!((b.state, b.merged), (PullState::Closed, false));
    let listed: Value = json_of(http().get(format!("{api}/_sim/pulls?repo={REPO}"))).await;
    let states: Vec<(&str, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["state"].as_str().unwrap(), p["merged"].as_bool().unwrap()))
        .collect();
    assert_eq!(states, vec![("closed", true), ("closed", false)]);
    let all: Value = json_of(http().get(format!("{api}/repos/{REPO}/pulls?state=closed"))).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert!(all[0]["merged_at"].is_string() != all[1]["merged_at"].is_string());
    // The merged branch's commits are on main now.
    assert_eq!(w.gh.compare("main", "cursor/a").await.unwrap().ahead_by, 0);

    // A linked agent launched after the merge opens a new pull request.
    w.sims.cursor.set_default_scenario(Scenario::lasting(5, 60));
    let agent = w.v0.launch(&launch(true, None)).await.unwrap();
    w.clock.sleep(Duration::from_secs(70)).await;
    let open = w.gh.list_open_pulls(10).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        w.v0.agent(&agent.id)
            .await
            .unwrap()
            .target
            .pr_url
            .as_deref(),
        Some(open[0].html_url.as_str())
    );
}

#[tokio::test(start_paused = true)]
async fn runs_without_changes_push_nothing_and_open_nothing() {
    let w = world(true).await;
    w.sims
        .cursor
        .set_default_scenario(Scenario::lasting(5, 60).no_changes());
    let agent = w.v0.launch(&launch(true, None)).await.unwrap();
    w.clock.sleep(Duration::from_secs(70)).await;
    let done = w.v0.agent(&agent.id).await.unwrap();
    assert_eq!(done.status, AgentStatus::Finished);
    assert!(done.summary.is_some(), "it still says what it did");
    assert_eq!(done.target.pr_url, None);
    let branch = done.target.branch_name.expect("a branch name is reported");
    let missing = w.gh.compare("main", &branch).await.unwrap_err();
    assert_eq!(missing.status(), Some(404), "the branch was never pushed");

    // v1, set through the control endpoint.
    let set: Value = json_of(
        http()
            .post(format!("{}/_sim/v1/scenario", w.sims.cursor_url()))
            .json(&json!({"creating_secs": 3, "running_secs": 30, "no_changes": true})),
    )
    .await;
    assert_eq!(set["ok"], true);
    let created = w.v1.create_agent(&create(None, None)).await.unwrap();
    w.clock.sleep(Duration::from_secs(40)).await;
    let run = w.v1.run(&created.agent.id, &created.run.id).await.unwrap();
    assert_eq!(run.status, RunStatus::Finished);
    assert!(run.result.is_some());
    let listed = &run.git.unwrap().branches[0];
    assert_eq!(listed.pr_url, None);
    let name = listed.branch.clone().expect("the branch is listed anyway");
    assert_eq!(w.sims.github.branch(REPO, &name), None);
    assert!(w.gh.list_open_pulls(10).await.unwrap().is_empty());
    assert!(w.sims.github.pulls(REPO).is_empty());
}

#[tokio::test(start_paused = true)]
async fn v1_names_round_trip_and_are_listed_newest_first() {
    let w = world(true).await;
    let first =
        w.v1.create_agent(&create(Some("nightly docs [job 1a2b]"), None))
            .await
            .unwrap();
    let second =
        w.v1.create_agent(&create(Some("nightly docs [job 3c4d]"), None))
            .await
            .unwrap();
    assert_eq!(
        w.v1.agent(&first.agent.id).await.unwrap().name.as_deref(),
        Some("nightly docs [job 1a2b]")
    );
    let page = w.v1.list_agents(Some(10), None).await.unwrap();
    let listed: Vec<(String, Option<String>)> = page
        .items
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                second.agent.id.clone(),
                Some("nightly docs [job 3c4d]".into())
            ),
            (
                first.agent.id.clone(),
                Some("nightly docs [job 1a2b]".into())
            ),
        ]
    );
    let one = w.v1.list_agents(Some(1), None).await.unwrap();
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.next(), Some(first.agent.id.as_str()));

    let base = w.sims.cursor_url();
    let long = "n".repeat(101);
    let refused = http()
        .post(format!("{base}/v1/agents"))
        .bearer_auth(KEY)
        .json(&json!({"prompt": {"text": "x"}, "name": long}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("100"));
    let hundred = http()
        .post(format!("{base}/v1/agents"))
        .bearer_auth(KEY)
        .json(&json!({"prompt": {"text": "x"}, "name": "n".repeat(100)}))
        .send()
        .await
        .unwrap();
    assert_eq!(hundred.status().as_u16(), 201);
    // v0 still has no `name`.
    let v0 = http()
        .post(format!("{base}/v0/agents"))
        .bearer_auth(KEY)
        .json(&json!({"prompt": {"text": "x"}, "name": "n", "source": {"repository": REPO_URL}}))
        .send()
        .await
        .unwrap();
    assert_eq!(v0.status().as_u16(), 400);
    let body: Value = v0.json().await.unwrap();
    assert_eq!(body["details"][0]["code"], "unrecognized_keys");
}

#[tokio::test(start_paused = true)]
async fn unlinked_simulators_invent_pull_requests_as_before() {
    let w = world(false).await;
    w.sims.cursor.set_default_scenario(Scenario::lasting(5, 60));
    let agent = w.v0.launch(&launch(true, None)).await.unwrap();
    w.clock.sleep(Duration::from_secs(70)).await;
    let done = w.v0.agent(&agent.id).await.unwrap();
    assert_eq!(
        done.target.pr_url.as_deref(),
        Some("https://github.com/Codertocat/Hello-World/pull/101")
    );
    assert!(w.gh.list_open_pulls(10).await.unwrap().is_empty());
    assert!(w.sims.github.pulls(REPO).is_empty());
}

#[tokio::test(start_paused = true)]
async fn pull_requests_can_be_edited_and_branches_read() {
    let w = world(false).await;
    let api = w.sims.github_url();
    // Out of process: push and open through the control API.
    let pushed: Value = json_of(
        http()
            .post(format!("{api}/_sim/push"))
            .json(&json!({"repo": REPO, "branch": "cursor/x", "commits": 2})),
    )
    .await;
    assert_eq!(pushed["ahead_by"], 2);
    let opened: Value = json_of(
        http()
            .post(format!("{api}/_sim/pulls"))
            .json(&json!({"repo": REPO, "head": "cursor/x", "title": "Docs"})),
    )
    .await;
    let n = opened["number"].as_u64().unwrap();
    let pull = format!("{api}/repos/{REPO}/pulls/{n}");
    let edited: Value = json_of(
        http()
            .patch(&pull)
            .json(&json!({"body": "Marker <!-- x -->", "title": "Docs, night 2"})),
    )
    .await;
    assert_eq!(edited["body"], "Marker <!-- x -->");
    assert_eq!(edited["title"], "Docs, night 2");
    assert_eq!(edited["merged"], false);
    assert_eq!(edited["commits"], 2);
    let closed: Value = json_of(http().patch(&pull).json(&json!({"state": "closed"}))).await;
    assert_eq!(closed["state"], "closed");
    assert!(w.gh.list_open_pulls(10).await.unwrap().is_empty());
    let reopened: Value = json_of(http().patch(&pull).json(&json!({"state": "open"}))).await;
    assert_eq!(reopened["state"], "open");
    assert_eq!(w.gh.list_open_pulls(10).await.unwrap()[0].number, n);
    assert!(w.sims.github.merge_pull(REPO, n));
    let refused = http()
        .patch(&pull)
        .json(&json!({"state": "open"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 422, "a merged PR stays closed");
    w.sims.github.set_read_only(true);
    let refused = http()
        .patch(&pull)
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);

    let branch: Value =
        json_of(http().get(format!("{api}/repos/{REPO}/branches/cursor%2Fx"))).await;
    assert_eq!(branch["name"], "cursor/x");
    let sha = w.sims.github.branch(REPO, "cursor/x").unwrap().0;
    assert_eq!(branch["commit"]["sha"], sha.as_str());
    let none = http()
        .get(format!("{api}/repos/{REPO}/branches/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status().as_u16(), 404);
    // Comments on the pull request's number work as on an issue.
    w.sims.github.set_read_only(false);
    w.gh.create_comment(n, "hello").await.unwrap();
    assert_eq!(w.gh.list_comments(n).await.unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn only_finished_runs_push() {
    let w = world(true).await;
    w.sims
        .cursor
        .set_default_scenario(Scenario::lasting(5, 60).ending(EndStatus::Error));
    let failed = w.v0.launch(&launch(true, None)).await.unwrap();
    // Stopped before it finishes.
    w.sims.cursor.set_default_scenario(Scenario::lasting(5, 60));
    let stopped = w.v0.launch(&launch(true, None)).await.unwrap();
    w.clock.sleep(Duration::from_secs(10)).await;
    w.v0.stop(&stopped.id).await.unwrap();
    w.sims.cursor.v1().set_scenario(V1Scenario {
        end_error: true,
        ..V1Scenario::lasting(3, 30)
    });
    let v1_failed = w.v1.create_agent(&create(None, None)).await.unwrap();
    w.sims.cursor.v1().set_scenario(V1Scenario::lasting(3, 30));
    let cancelled = w.v1.create_agent(&create(None, None)).await.unwrap();
    w.clock.sleep(Duration::from_secs(5)).await;
    w.v1.cancel_run(&cancelled.agent.id, &cancelled.run.id)
        .await
        .unwrap();
    w.clock.sleep(Duration::from_secs(120)).await;
    for id in [&failed.id, &stopped.id] {
        let a = w.v0.agent(id).await.unwrap();
        assert_ne!(a.status, AgentStatus::Finished);
        assert_eq!(a.target.pr_url, None);
        let branch = a.target.branch_name.unwrap();
        assert_eq!(w.sims.github.branch(REPO, &branch), None, "{branch}");
    }
    for c in [&v1_failed, &cancelled] {
        let run = w.v1.run(&c.agent.id, &c.run.id).await.unwrap();
        assert!(run.status.is_terminal() && run.status != RunStatus::Finished);
        let b = &run.git.unwrap().branches[0];
        assert_eq!(b.pr_url, None);
        assert_eq!(w.sims.github.branch(REPO, b.branch.as_ref().unwrap()), None);
    }
    assert!(w.sims.github.pulls(REPO).is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_token_user_and_pull_request_ages() {
    let w = world(false).await;
    let api = w.sims.github_url();
    let bot = http().get(format!("{api}/user")).send().await.unwrap();
    assert_eq!(bot.status().as_u16(), 403, "GITHUB_TOKEN cannot read /user");
    w.sims.github.set_actor(GhUser::user("octocat", 583231));
    let me: Value = json_of(http().get(format!("{api}/user"))).await;
    assert_eq!(me["login"], "octocat");

    let old = seed_pull(&w, "cursor/old", 1, GhUser::cursor_bot());
    let new = seed_pull(&w, "cursor/new", 1, GhUser::cursor_bot());
    let day = Duration::from_secs(86_400);
    let now = std::time::SystemTime::now();
    // Opened in the other order: the listing follows creation, not numbers.
    assert!(w.sims.github.set_pull_created(REPO, old, now - day));
    assert!(w.sims.github.set_pull_created(REPO, new, now - 2 * day));
    let open = w.gh.list_open_pulls(10).await.unwrap();
    assert_eq!(
        open.iter().map(|p| p.number).collect::<Vec<_>>(),
        vec![old, new]
    );
    assert!(open[0].created_at > open[1].created_at);
    let asc: Value = json_of(http().get(format!(
        "{api}/repos/{REPO}/pulls?sort=created&direction=asc"
    )))
    .await;
    assert_eq!(asc[0]["number"], new);
    assert!(!w.sims.github.set_pull_created(REPO, 999, now));
}
