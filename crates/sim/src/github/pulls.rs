//! Pull requests and branches: pushed to and opened by the linked Cursor
//! simulators ([`crate::host::RepoHost`]), listed, read, compared, updated.

use super::{GhBranch, GhPull, GhUser, GitHubSim, State, fake_sha};
use std::time::SystemTime;

/// `state` of a pull request listing.
pub(super) fn pull_state_matches(p: &GhPull, state: &str) -> bool {
    match state {
        "all" => true,
        "closed" => !p.open,
        _ => p.open,
    }
}

pub(super) fn owner_of(repo: &str) -> &str {
    repo.split_once('/').map_or(repo, |(o, _)| o)
}

impl GitHubSim {
    /// Lets linked Cursor simulators catch up (never with the state locked).
    pub(super) fn sync(&self) {
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

    pub(super) fn push_locked(state: &mut State, repo: &str, branch: &str, commits: u32) {
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

    pub(super) fn branch_locked(state: &State, repo: &str, branch: &str) -> Option<GhBranch> {
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
    pub(super) fn finish_pull(&self, repo: &str, number: u64, merge: bool) -> bool {
        self.sync();
        Self::finish_locked(&mut self.state.lock().unwrap(), repo, number, merge)
    }

    pub(super) fn finish_locked(state: &mut State, repo: &str, number: u64, merge: bool) -> bool {
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
    pub(super) fn current(state: &State, p: &GhPull) -> GhPull {
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
