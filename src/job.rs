//! Scheduled jobs: runs with no triggering issue or pull request
//! (`schedule`, `workflow_dispatch`, `repository_dispatch`, `push`) keep one
//! agent at a time and one open pull request per job, across runs. This is
//! the pure part: the job's identity, how its agents, its pull request and
//! its tracking comment are recognised, and the marker put on its pull
//! request. The flow does the I/O (`flow/job.rs`).
//!
//! State lives on GitHub and in Cursor, never on the runner: the job's pull
//! request carries a signed marker comment (job identity and agent id),
//! found by listing open pull requests newest first; its agents are found by
//! a job tag in their v1 `name`, or on v0 by the job's part of the derived
//! branch name; a tracking issue (`issue-number`) keeps one comment per
//! open pull request, found by the marker's `job` and `pr`.

use crate::context::Context;
use crate::inputs::{ApiVersion, Inputs};
use crate::marker::{Marker, MarkerKey, STATE_FINAL};
use crate::plan::LaunchPlan;

/// The events a job runs on: nothing but the schedule or a writer triggers
/// them, and they have no issue or pull request of their own.
pub const JOB_EVENTS: [&str; 4] = [
    "schedule",
    "workflow_dispatch",
    "repository_dispatch",
    "push",
];

/// Open pull requests read to find the job's own (one page, newest first,
/// GitHub's largest; the one the previous agent opened is read by number
/// when the page does not hold it).
pub const PULLS_PER_PAGE: u8 = 100;
/// Candidate pull requests whose comments are read for the job's marker.
pub const MAX_MARKED_CANDIDATES: usize = 5;
/// Agents listed to find the job's previous one (one page, newest first).
pub const AGENTS_LISTED: u32 = 100;
/// The longest v1 agent `name` Cursor accepts.
const MAX_NAME_CHARS: usize = 100;

/// One scheduled job's identity and settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The launch key ([`LaunchPlan::key`]): workflow file, job, step,
    /// model, repository, ref, tracking issue, prompt and `launch-key`, so
    /// two steps never share it and every night of one step has it.
    pub tag: String,
    /// `update-open-pr` (off with `pr-url`: the pull request is given).
    pub update_open_pr: bool,
    /// For messages: `nightly.yml / docs`.
    pub label: String,
    /// The API: v0 agents are recognised by branch, v1 agents by name.
    api: ApiVersion,
    /// The part of a derived v0 branch that is the same every night.
    branch_hash: String,
    /// `branch-name` (v0): every night's agent uses it.
    fixed_branch: Option<String>,
}

impl Job {
    /// The job this run belongs to, if its event is a job's.
    pub fn of(inputs: &Inputs, ctx: &Context, plan: &LaunchPlan) -> Option<Job> {
        // Fix-CI's failure on the default branch (no pull request to fix)
        // is continued as a job's is: one open fix pull request per
        // workflow (see `crate::fix_ci::run`).
        let fix_ci_push =
            inputs.fix_ci && ctx.event_name == "workflow_run" && inputs.pr_url.is_none();
        if !JOB_EVENTS.contains(&ctx.event_name.as_str()) && !fix_ci_push {
            return None;
        }
        let workflow = ctx
            .workflow
            .as_deref()
            .and_then(|w| w.rsplit('/').next())
            .unwrap_or("workflow");
        let label = match &ctx.job {
            Some(job) => format!("{workflow} / {job}"),
            None => workflow.to_string(),
        };
        Some(Job {
            tag: plan.key.clone(),
            update_open_pr: inputs.update_open_pr && inputs.pr_url.is_none(),
            label,
            api: inputs.api_version,
            branch_hash: crate::plan::branch_hash(&plan.key),
            fixed_branch: inputs.branch_name.clone(),
        })
    }

    /// The v1 agent `name`: the job tag first (so no cut removes it), then
    /// the prompt's first line.
    pub fn agent_name(&self, prompt: &str) -> String {
        let head = format!("[job {}] ", self.tag);
        let title: String = prompt
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("scheduled job")
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let room = MAX_NAME_CHARS - head.chars().count();
        let mut name = head;
        if title.chars().count() > room {
            name.extend(title.chars().take(room - 1));
            name.push('…');
        } else {
            name.push_str(&title);
        }
        name
    }

    /// Whether a v1 agent's `name` says it is one of this job's.
    pub fn names_job_agent(&self, name: Option<&str>) -> bool {
        name.is_some_and(|n| n.starts_with(&format!("[job {}]", self.tag)))
    }

    /// Whether a v0 agent's branch is one of this job's: the fixed
    /// `branch-name`, or a derived `cursor/<subject>-run-<id>-<hash>` (with
    /// any `-attempt-N` a re-run adds) with this job's hash.
    pub fn is_job_branch(&self, branch: &str) -> bool {
        if let Some(fixed) = &self.fixed_branch {
            return branch == fixed;
        }
        let Some(rest) = branch.strip_prefix("cursor/") else {
            return false;
        };
        let Some((_, after)) = rest.rsplit_once("-run-") else {
            return false;
        };
        let mut parts = after.splitn(3, '-');
        let run_ok = parts
            .next()
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()));
        let hash_ok = parts.next() == Some(self.branch_hash.as_str());
        let tail_ok = parts.next().is_none_or(|t| t.starts_with("attempt-"));
        run_ok && hash_ok && tail_ok
    }

    /// Whether an open pull request may be this job's, before its marker
    /// is read: from this repository (not a fork), on a branch an agent of
    /// the job could have made (v1 picks `cursor/…` names; v0 has ours).
    pub fn may_be_job_pull(&self, head_ref: &str, head_repo: Option<&str>, repo: &str) -> bool {
        if !head_repo.is_some_and(|r| r.eq_ignore_ascii_case(repo)) {
            return false;
        }
        match self.api {
            ApiVersion::V0 => self.is_job_branch(head_ref),
            ApiVersion::V1 => head_ref.starts_with("cursor/"),
        }
    }

    /// Whether a marker is this job's. Ask only of a believed marker
    /// ([`crate::marker::believe`]): its signature covers `job`.
    pub fn marks(&self, marker: &Marker) -> bool {
        marker.job.as_deref() == Some(self.tag.as_str())
    }

    /// The marker comment on the job's pull request: which job it belongs
    /// to and which agent keeps it up to date (signed, so a copy in anyone
    /// else's comment is ignored).
    pub fn pull_marker_body(
        &self,
        redactor: &kit::secret::Redactor,
        key: &MarkerKey,
        agent: &str,
        pr: u64,
        run: Option<u64>,
        attempt: u32,
    ) -> String {
        let marker = Marker::new(Some(agent), run, attempt)
            .with_key(&self.tag)
            .with_job(Some(&self.tag))
            .with_pr(Some(pr))
            .with_issue(Some(pr))
            .signed(key, STATE_FINAL);
        format!(
            "{}\n🔁 This pull request belongs to the scheduled job {} (cursor-agent-action). Its next runs send their prompt to this pull request's agent, so the changes land here instead of in a new pull request. Merge or close it to have the next run start a new one.\n",
            marker.render(),
            crate::markdown::code_inline(redactor, &self.label),
        )
    }
}

/// The number of a pull request URL on this repository
/// (`{server}/{owner}/{repo}/pull/{n}`), else `None`.
pub fn pull_number(url: &str, repo_url: &str) -> Option<u64> {
    let (base, n) = url.trim().rsplit_once("/pull/")?;
    if !base.eq_ignore_ascii_case(repo_url.trim_end_matches('/')) {
        return None;
    }
    let n = n.trim_end_matches('/');
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .then(|| n.parse().ok())
        .flatten()
}

/// Which of the job's comments on its tracking issue this run keeps up to
/// date: the newest one about the pull request it continues, else the
/// newest about no pull request (a night with no changes, or one that never got one). A
/// comment about a merged or closed pull request stays as it is: the next
/// pull request gets a comment of its own. `marked`: the job's comments
/// (ids with markers), oldest first.
pub fn live_comment(marked: &[(u64, Marker)], open_pr: Option<u64>) -> Option<u64> {
    let newest = |want: Option<u64>| {
        marked
            .iter()
            .rev()
            .find(|(_, m)| m.pr == want)
            .map(|(id, _)| *id)
    };
    open_pr
        .and_then(|n| newest(Some(n)))
        .or_else(|| newest(None))
}

/// What a finished night shows about changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// It opened a pull request that was not there before.
    NewPull,
    /// It worked on the job's open pull request: its head before and after.
    SamePull { before: String, after: String },
    /// No pull request: its branch's commits ahead of the base (`None`:
    /// the branch does not exist).
    Branch { ahead_by: Option<u64> },
    /// No pull request and no branch named.
    Nothing,
}

/// Whether the night pushed anything.
pub fn changed(evidence: &Evidence) -> bool {
    match evidence {
        Evidence::NewPull => true,
        Evidence::SamePull { before, after } => before != after,
        Evidence::Branch { ahead_by } => ahead_by.is_some_and(|n| n > 0),
        Evidence::Nothing => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(api: ApiVersion, fixed: Option<&str>) -> Job {
        Job {
            tag: "0a1b2c3d".into(),
            update_open_pr: true,
            label: "nightly.yml / docs".into(),
            api,
            branch_hash: "b2c3d4".into(),
            fixed_branch: fixed.map(String::from),
        }
    }

    #[test]
    fn a_v1_name_starts_with_the_tag_and_fits_cursors_limit() {
        let j = job(ApiVersion::V1, None);
        let name = j.agent_name("\n  Refresh the docs\nmore");
        assert_eq!(name, "[job 0a1b2c3d] Refresh the docs");
        assert!(j.names_job_agent(Some(&name)));
        let long = j.agent_name(&"x".repeat(500));
        assert_eq!(long.chars().count(), MAX_NAME_CHARS);
        assert!(j.names_job_agent(Some(&long)));
        assert!(!j.names_job_agent(Some("[job 0a1b2c3e] other")));
        assert!(!j.names_job_agent(Some("Refresh the docs [job 0a1b2c3d]")));
        assert!(!j.names_job_agent(None));
    }

    #[test]
    fn v0_branches_of_the_job_are_recognised_by_their_hash() {
        let j = job(ApiVersion::V0, None);
        assert!(j.is_job_branch("cursor/schedule-run-123-b2c3d4"));
        assert!(j.is_job_branch("cursor/dispatch-run-9-b2c3d4-attempt-2"));
        assert!(!j.is_job_branch("cursor/schedule-run-123-b2c3d5"));
        assert!(!j.is_job_branch("cursor/schedule-run-x-b2c3d4"));
        assert!(!j.is_job_branch("cursor/schedule-run-123-b2c3d4-evil"));
        assert!(!j.is_job_branch("feature/schedule-run-123-b2c3d4"));
        let fixed = job(ApiVersion::V0, Some("docs/nightly"));
        assert!(fixed.is_job_branch("docs/nightly"));
        assert!(!fixed.is_job_branch("cursor/schedule-run-123-b2c3d4"));
    }

    #[test]
    fn only_same_repository_agent_branches_are_candidates() {
        let v1 = job(ApiVersion::V1, None);
        assert!(v1.may_be_job_pull("cursor/docs-1f2e", Some("O/R"), "o/r"));
        assert!(!v1.may_be_job_pull("cursor/docs-1f2e", Some("fork/r"), "o/r"));
        assert!(!v1.may_be_job_pull("cursor/docs-1f2e", None, "o/r"));
        assert!(!v1.may_be_job_pull("main", Some("o/r"), "o/r"));
        let v0 = job(ApiVersion::V0, None);
        assert!(v0.may_be_job_pull("cursor/schedule-run-1-b2c3d4", Some("o/r"), "o/r"));
        assert!(!v0.may_be_job_pull("cursor/docs-1f2e", Some("o/r"), "o/r"));
    }

    #[test]
    fn the_pull_marker_is_signed_and_names_job_agent_and_pull() {
        let j = job(ApiVersion::V1, None);
        let key = MarkerKey::derive(&kit::secret::Secret::new("key_1"));
        let body = j.pull_marker_body(
            &kit::secret::Redactor::new(),
            &key,
            "bc-00000000-0000-0000-0000-000000000001",
            7,
            Some(5),
            1,
        );
        let m = Marker::find(&body).unwrap();
        assert!(j.marks(&m) && m.verify(&key));
        assert_eq!(m.pr, Some(7));
        // It sits on the pull request it is about, and says so.
        assert!(m.names_place(7) && !m.names_place(8));
        assert_eq!(
            m.agent.as_deref(),
            Some("bc-00000000-0000-0000-0000-000000000001")
        );
        let other = MarkerKey::derive(&kit::secret::Secret::new("key_2"));
        assert!(!m.verify(&other));
        let mut forged = m.clone();
        forged.agent = Some("bc-00000000-0000-0000-0000-000000000002".into());
        assert!(!forged.verify(&key));
        assert!(!job(ApiVersion::V1, None).marks(&Marker {
            job: Some("ffff".into()),
            ..m
        }));
    }

    #[test]
    fn pull_numbers_only_on_this_repository() {
        let repo = "https://github.com/o/r";
        assert_eq!(
            pull_number("https://github.com/o/r/pull/12", repo),
            Some(12)
        );
        assert_eq!(
            pull_number("https://github.com/O/R/pull/12/", repo),
            Some(12)
        );
        assert_eq!(
            pull_number("https://github.com/o/other/pull/12", repo),
            None
        );
        assert_eq!(pull_number("https://github.com/o/r/pull/12x", repo), None);
        assert_eq!(pull_number("https://github.com/o/r/issues/12", repo), None);
    }

    #[test]
    fn the_live_comment_is_the_open_pulls_or_one_without_a_pull() {
        let m = |pr: Option<u64>| Marker::new(None, Some(1), 1).with_pr(pr);
        let marked = vec![(1, m(Some(5))), (2, m(None)), (3, m(Some(9)))];
        assert_eq!(live_comment(&marked, Some(9)), Some(3));
        assert_eq!(live_comment(&marked, Some(5)), Some(1));
        assert_eq!(live_comment(&marked, Some(6)), Some(2));
        assert_eq!(live_comment(&marked, None), Some(2));
        assert_eq!(live_comment(&marked[..1], None), None);
        assert_eq!(live_comment(&[], Some(9)), None);
    }

    #[test]
    fn changes_need_pushed_commits() {
        assert!(changed(&Evidence::NewPull));
        let same = |a: &str, b: &str| Evidence::SamePull {
            before: a.into(),
            after: b.into(),
        };
        assert!(changed(&same("a", "b")));
        assert!(!changed(&same("a", "a")));
        assert!(changed(&Evidence::Branch { ahead_by: Some(2) }));
        assert!(!changed(&Evidence::Branch { ahead_by: Some(0) }));
        assert!(!changed(&Evidence::Branch { ahead_by: None }));
        assert!(!changed(&Evidence::Nothing));
    }
}
