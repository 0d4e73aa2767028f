//! Where the Cursor simulators' agents push: a seam between them and the
//! GitHub simulator, so an agent's branch and pull request exist on the
//! GitHub side (`Simulators::link_repos`). Unlinked, the Cursor simulators
//! invent pull request URLs as they always did.

/// A repository host the Cursor simulators push to. `repo` is `owner/repo`.
pub trait RepoHost: Send + Sync {
    /// Pushes `commits` new commits to `branch` (created if missing).
    fn push(&self, repo: &str, branch: &str, commits: u32);
    /// Opens a pull request from `head` into `base` (or finds the open one
    /// for `head`); `None` when the host refuses it (no such head, nothing
    /// ahead of the base).
    fn open_pull(&self, repo: &str, head: &str, base: &str, title: &str) -> Option<u64>;
    /// The head branch of pull request `number`, if it exists.
    fn pull_head(&self, repo: &str, number: u64) -> Option<String>;
    /// Where pull requests' `html_url`s point (`https://github.com`).
    fn server_url(&self) -> String;
}

/// `owner/repo` from a repository URL (`https://github.com/o/r`,
/// `github.com/o/r.git`) or a pull request URL (`…/o/r/pull/7`).
pub fn repo_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let mut parts = rest.trim_end_matches('/').split('/').skip(1);
    let owner = parts.next().filter(|o| !o.is_empty())?;
    let name = parts.next().filter(|n| !n.is_empty())?;
    Some(format!("{owner}/{}", name.trim_end_matches(".git")))
}

/// The number in a pull request URL (`…/o/r/pull/7`).
pub fn pull_number_of(url: &str) -> Option<u64> {
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let n = parts.next()?.parse().ok()?;
    (parts.next()? == "pull").then_some(n)
}

/// A pull request's URL on `server` (`https://github.com/o/r/pull/7`).
pub fn pull_url(server: &str, repo: &str, number: u64) -> String {
    format!("{}/{repo}/pull/{number}", server.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_and_numbers_from_urls() {
        assert_eq!(repo_of("https://github.com/o/r").as_deref(), Some("o/r"));
        assert_eq!(repo_of("github.com/o/r.git").as_deref(), Some("o/r"));
        assert_eq!(
            repo_of("https://ghe.example/o/r/pull/7").as_deref(),
            Some("o/r")
        );
        assert_eq!(repo_of("https://github.com/o"), None);
        assert_eq!(pull_number_of("https://github.com/o/r/pull/7"), Some(7));
        assert_eq!(pull_number_of("https://github.com/o/r/issues/7"), None);
        assert_eq!(
            pull_url("https://github.com/", "o/r", 7),
            "https://github.com/o/r/pull/7"
        );
    }
}
