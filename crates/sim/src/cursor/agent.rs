//! One v0 agent on the simulator's clock: its timeline, branch, PR and settling.

use super::scenario::Scenario;
use crate::host::{RepoHost, pull_url};
use kit::clock::Moment;
use std::time::SystemTime;

#[derive(Debug, Clone)]
pub(super) struct SimAgent {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) created: Moment,
    pub(super) created_wall: SystemTime,
    pub(super) repository: Option<String>,
    pub(super) git_ref: Option<String>,
    pub(super) source_pr_url: Option<String>,
    pub(super) requested_branch: Option<String>,
    /// `source.prUrl` with `target.autoBranch: false`: the agent pushes to
    /// the pull request's head branch and `branchName` is ignored.
    pub(super) on_pr_branch: bool,
    pub(super) auto_branch: String,
    pub(super) auto_create_pr: bool,
    pub(super) open_as_app: bool,
    pub(super) skip_reviewer: bool,
    pub(super) prompt: String,
    pub(super) scenario: Scenario,
    /// Status changes, in time order.
    pub(super) timeline: Vec<(Moment, &'static str)>,
    pub(super) followups: Vec<(Moment, String)>,
    pub(super) deleted: bool,
    pub(super) pr_number: u64,
    pub(super) key: String,
    /// Created with a repository host: pushes and pull requests are real
    /// (on the host) instead of invented.
    pub(super) linked: bool,
    /// `owner/repo` on the host.
    pub(super) host_repo: Option<String>,
    /// On a PR's branch (linked): that PR's head, as the host knows it.
    pub(super) pr_head: Option<String>,
    /// The pull request this agent opened on the host.
    pub(super) host_pr_url: Option<String>,
    /// FINISHED runs already pushed to the host.
    pub(super) settled_runs: usize,
}

impl SimAgent {
    pub(super) fn status_at(&self, now: Moment) -> &'static str {
        self.timeline
            .iter()
            .take_while(|(t, _)| *t <= now)
            .last()
            .map(|(_, s)| *s)
            .unwrap_or("CREATING")
    }

    pub(super) fn is_active(&self, now: Moment) -> bool {
        matches!(self.status_at(now), "CREATING" | "RUNNING")
    }

    pub(super) fn has_finished(&self, now: Moment) -> bool {
        self.timeline
            .iter()
            .any(|(t, s)| *t <= now && *s == "FINISHED")
    }

    /// Replaces what has not happened yet with `events`.
    pub(super) fn reschedule(&mut self, now: Moment, events: Vec<(Moment, &'static str)>) {
        self.timeline.retain(|(t, _)| *t <= now);
        self.timeline.extend(events);
    }

    pub(super) fn branch(&self, now: Moment) -> Option<String> {
        if self.scenario.branch_hidden_while_creating && self.status_at(now) == "CREATING" {
            return None;
        }
        if self.on_pr_branch {
            return self.pr_head.clone();
        }
        match &self.requested_branch {
            Some(b) => Some(b.clone()),
            None if self.status_at(now) != "CREATING" => Some(self.auto_branch.clone()),
            None => None,
        }
    }

    pub(super) fn pr_url(&self, now: Moment) -> Option<String> {
        if self.linked {
            if self.on_pr_branch {
                // Created from that pull request, and pushing to it.
                return self.source_pr_url.clone();
            }
            if let Some(url) = &self.host_pr_url {
                return Some(url.clone());
            }
        }
        if !(self.auto_create_pr && self.has_finished(now) && self.scenario.changes) {
            return None;
        }
        if let Some(pr) = &self.source_pr_url {
            return Some(pr.clone());
        }
        if self.linked {
            // The host refused the pull request (nothing to merge).
            return None;
        }
        let repo = self.repository.as_deref()?;
        let path = repo.split_once("://").map(|(_, r)| r).unwrap_or(repo);
        Some(format!("https://{path}/pull/{}", self.pr_number))
    }

    /// Pushes what the agent's finished runs did by `now` to the host.
    pub(super) fn settle(&mut self, now: Moment, host: &dyn RepoHost) {
        if !self.linked || self.deleted {
            return;
        }
        let finished = self
            .timeline
            .iter()
            .filter(|(t, s)| *t <= now && *s == "FINISHED")
            .count();
        while self.settled_runs < finished {
            self.settled_runs += 1;
            let (Some(repo), true) = (self.host_repo.clone(), self.scenario.changes) else {
                continue;
            };
            let branch = if self.on_pr_branch {
                match &self.pr_head {
                    Some(h) => h.clone(),
                    None => continue,
                }
            } else {
                self.requested_branch
                    .clone()
                    .unwrap_or_else(|| self.auto_branch.clone())
            };
            host.push(&repo, &branch, self.scenario.commits.max(1));
            if self.auto_create_pr && self.host_pr_url.is_none() && self.source_pr_url.is_none() {
                let base = self.git_ref.as_deref().unwrap_or("main");
                if let Some(n) = host.open_pull(&repo, &branch, base, &self.name) {
                    self.host_pr_url = Some(pull_url(&host.server_url(), &repo, n));
                }
            }
        }
    }
}
