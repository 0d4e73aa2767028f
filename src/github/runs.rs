//! Workflow runs as fix-CI needs them (permission `actions: read`): a run
//! by id, the runs of a head commit, the latest failed one, and the open
//! pull requests whose head is a commit (how a fork's pull request is
//! found: `workflow_run.pull_requests` is empty for it).

use super::{GitHubClient, GitHubError, PullRequest, RepoJson, UserJson};

/// Runs read per head commit (one page, newest first).
pub const RUNS_PER_PAGE: u8 = 100;
/// Open pull requests read to find those at a head commit (one page).
pub const PULLS_PER_PAGE: u8 = 100;

/// A workflow run, as read from GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRun {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub head_sha: String,
    pub head_branch: String,
    /// `owner/repo` of the head commit (a fork's for a fork's pull request).
    pub head_repo: Option<String>,
    pub event: String,
    pub conclusion: Option<String>,
    pub run_attempt: u32,
    pub html_url: String,
    /// Who started this attempt (`triggering_actor`, else `actor`).
    pub actor: Option<String>,
    pub actor_is_bot: bool,
}

impl WorkflowRun {
    /// Concluded `failure` or `timed_out`: worth fixing.
    pub fn failed(&self) -> bool {
        matches!(self.conclusion.as_deref(), Some("failure" | "timed_out"))
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct RunJson {
    id: u64,
    name: Option<String>,
    path: Option<String>,
    head_sha: Option<String>,
    head_branch: Option<String>,
    head_repository: Option<RepoJson>,
    event: Option<String>,
    conclusion: Option<String>,
    run_attempt: Option<u32>,
    html_url: Option<String>,
    actor: Option<UserJson>,
    triggering_actor: Option<UserJson>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct RunsJson {
    workflow_runs: Vec<RunJson>,
}

impl From<RunJson> for WorkflowRun {
    fn from(r: RunJson) -> Self {
        let who = r.triggering_actor.or(r.actor).unwrap_or_default();
        let actor_is_bot = who.kind.as_deref() == Some("Bot")
            || who.login.as_deref().is_some_and(|l| l.ends_with("[bot]"));
        WorkflowRun {
            id: r.id,
            name: r.name.unwrap_or_default(),
            path: r.path.unwrap_or_default(),
            head_sha: r.head_sha.unwrap_or_default(),
            head_branch: r.head_branch.unwrap_or_default(),
            head_repo: r.head_repository.and_then(|h| h.full_name),
            event: r.event.unwrap_or_default(),
            conclusion: r.conclusion,
            run_attempt: r.run_attempt.unwrap_or(1).max(1),
            html_url: r.html_url.unwrap_or_default(),
            actor: who.login,
            actor_is_bot,
        }
    }
}

/// Whether pull request `p` is the one run `run` tested, when the run
/// names none (a fork's run never does): the same head commit and branch.
/// The commit alone is not enough: a pull request of another branch whose
/// head is a commit of `main` must not take `main`'s failures. (The head
/// repository should match too, so that a fork's pull request from a
/// branch named `main` cannot either: that needs fork pull requests in
/// the simulator to test, see the review's report.)
pub fn tested_by(p: &PullRequest, run: &WorkflowRun) -> bool {
    p.head_sha.eq_ignore_ascii_case(&run.head_sha) && p.head_ref == run.head_branch
}

/// Of runs listed newest first: the newest failed one that is still its
/// workflow's latest (a failure a later run of the same workflow replaced,
/// passing or not, is not "the latest failed run").
pub fn latest_failed(runs: &[WorkflowRun]) -> Option<&WorkflowRun> {
    let mut seen: Vec<&str> = Vec::new();
    for run in runs {
        let workflow = if run.path.is_empty() {
            run.name.as_str()
        } else {
            run.path.as_str()
        };
        if seen.contains(&workflow) {
            continue;
        }
        seen.push(workflow);
        if run.failed() {
            return Some(run);
        }
    }
    None
}

impl GitHubClient {
    /// One page, newest first: GET /repos/{o}/{r}/actions/runs?head_sha={sha}&status=completed
    pub async fn completed_runs_at(&self, sha: &str) -> Result<Vec<WorkflowRun>, GitHubError> {
        let sha: String = sha.chars().filter(char::is_ascii_hexdigit).collect();
        let route = format!(
            "/repos/{}/actions/runs?head_sha={sha}&status=completed&per_page={RUNS_PER_PAGE}",
            self.repo
        );
        let r: RunsJson = self.timed(self.octo.get(route, None::<&()>)).await?;
        let mut runs: Vec<WorkflowRun> = r.workflow_runs.into_iter().map(Into::into).collect();
        runs.sort_by_key(|r| std::cmp::Reverse(r.id));
        Ok(runs)
    }

    /// The open pull requests of this repository that `run` tested
    /// ([`tested_by`]; one page of open pull requests, newest first).
    pub async fn open_pulls_of(&self, run: &WorkflowRun) -> Result<Vec<PullRequest>, GitHubError> {
        Ok(self
            .list_open_pulls(PULLS_PER_PAGE)
            .await?
            .into_iter()
            .filter(|p| tested_by(p, run))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: u64, path: &str, conclusion: &str) -> WorkflowRun {
        WorkflowRun {
            id,
            name: path.into(),
            path: path.into(),
            head_sha: "a".into(),
            head_branch: "b".into(),
            head_repo: None,
            event: "pull_request".into(),
            conclusion: Some(conclusion.into()),
            run_attempt: 1,
            html_url: String::new(),
            actor: None,
            actor_is_bot: false,
        }
    }

    fn pull(head_ref: &str, sha: &str, head_repo: Option<&str>) -> PullRequest {
        PullRequest {
            number: 5,
            html_url: String::new(),
            state: crate::github::PullState::Open,
            merged: false,
            head_ref: head_ref.into(),
            head_sha: sha.into(),
            head_repo: head_repo.map(String::from),
            base_ref: "main".into(),
            author: "someone".into(),
            author_is_bot: false,
            created_at: None,
        }
    }

    #[test]
    fn a_run_without_pull_requests_is_matched_by_commit_and_branch() {
        let mut r = run(1, "ci.yml", "failure");
        assert!(tested_by(&pull("b", "A", Some("o/r")), &r));
        // The same commit on another branch is not the run's.
        r.head_branch = "main".into();
        assert!(!tested_by(&pull("b", "a", Some("o/r")), &r));
        // Another commit.
        assert!(!tested_by(&pull("main", "b", Some("o/r")), &r));
    }

    #[test]
    fn the_latest_failed_run_is_still_its_workflows_latest() {
        let runs = [
            run(9, "ci.yml", "success"),
            run(8, "lint.yml", "failure"),
            run(7, "ci.yml", "failure"),
        ];
        assert_eq!(latest_failed(&runs).map(|r| r.id), Some(8));
        let runs = [run(9, "ci.yml", "success"), run(7, "ci.yml", "failure")];
        assert_eq!(latest_failed(&runs), None);
        let runs = [run(9, "ci.yml", "timed_out")];
        assert_eq!(latest_failed(&runs).map(|r| r.id), Some(9));
    }
}
