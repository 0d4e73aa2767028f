//! Why `cursor-api-key` may have arrived empty: GitHub passes no secrets to
//! workflows triggered from a fork's pull request, and says nothing about it.

use kit::env::Env;

/// Where the run's secrets come from, as far as the event tells: GitHub
/// passes no secrets to workflows triggered from a fork's pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum SecretsOrigin {
    /// Nothing known about the event.
    #[default]
    Unknown,
    /// A pull-request event whose head is in another repository.
    Fork {
        event: String,
        head: String,
        base: String,
    },
    /// Any other event (secrets are passed, so the secret is not set).
    Event(String),
}

/// Events on which GitHub withholds secrets when the pull request comes from a fork.
const FORK_SENSITIVE_EVENTS: [&str; 3] = [
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
];

impl SecretsOrigin {
    /// From `GITHUB_EVENT_NAME` and the payload at `GITHUB_EVENT_PATH`.
    pub(crate) fn read(env: &Env) -> Self {
        let Some(event) = env.get("GITHUB_EVENT_NAME") else {
            return Self::Unknown;
        };
        let payload = env
            .get("GITHUB_EVENT_PATH")
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null);
        Self::of(&event, &payload)
    }

    /// From an event name and its payload (pure).
    pub(crate) fn of(event: &str, payload: &serde_json::Value) -> Self {
        let name = |v: &serde_json::Value| v.as_str().map(String::from);
        let head = name(&payload["pull_request"]["head"]["repo"]["full_name"]);
        let base = name(&payload["repository"]["full_name"]);
        match (head, base) {
            (Some(head), Some(base))
                if FORK_SENSITIVE_EVENTS.contains(&event) && !head.eq_ignore_ascii_case(&base) =>
            {
                Self::Fork {
                    event: event.to_string(),
                    head,
                    base,
                }
            }
            _ => Self::Event(event.to_string()),
        }
    }

    /// What to say when `cursor-api-key` is empty.
    pub(crate) fn empty_key_problem(&self) -> String {
        const SET_IT: &str = "add a repository secret CURSOR_API_KEY with a key from https://cursor.com/dashboard/api and pass `cursor-api-key: ${{ secrets.CURSOR_API_KEY }}`";
        const SAFE: &str = "To run agents for pull requests from forks, trigger the workflow from something only maintainers can do: a label (`on: issues` or `pull_request_target` with `types: [labeled]` and the `label` input) or a comment command (`on: issue_comment` with `trigger-phrase`), which run with the base repository's secrets and check the sender's permission; see examples/label.yml and examples/pr-comment.yml";
        match self {
            Self::Fork { event, head, base } => format!(
                "is empty: this `{event}` run comes from the fork {head} (not {base}), and GitHub does not pass secrets (such as CURSOR_API_KEY) to workflows triggered from forks. {SAFE}"
            ),
            Self::Event(event) if FORK_SENSITIVE_EVENTS.contains(&event.as_str()) => format!(
                "is empty: the secret passed to it (e.g. `${{{{ secrets.CURSOR_API_KEY }}}}`) is not set in this repository, or this `{event}` run comes from a fork, where GitHub passes no secrets; {SET_IT}. {SAFE}"
            ),
            _ => format!(
                "is empty: the secret passed to it (e.g. `${{{{ secrets.CURSOR_API_KEY }}}}`) is not set in this repository or its organization (secrets are also empty on pull requests from forks); {SET_IT}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> serde_json::Value {
        let path = format!(
            "{}/tests/fixtures/github-events/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn an_empty_key_says_why_it_may_be_empty() {
        // The same pull request, opened from a fork.
        let mut payload = fixture("pull_request.opened");
        payload["pull_request"]["head"]["repo"]["full_name"] = "forker/Hello-World".into();
        let fork = SecretsOrigin::of("pull_request", &payload);
        assert_eq!(
            fork,
            SecretsOrigin::Fork {
                event: "pull_request".into(),
                head: "forker/Hello-World".into(),
                base: "Codertocat/Hello-World".into()
            }
        );
        let problem = fork.empty_key_problem();
        assert!(
            problem.contains("from the fork forker/Hello-World"),
            "{problem}"
        );
        assert!(
            problem.contains("GitHub does not pass secrets"),
            "{problem}"
        );
        assert!(
            problem.contains("label") && problem.contains("trigger-phrase"),
            "{problem}"
        );
        assert!(!problem.contains("required"), "{problem}");

        // From the repository itself: the secret is not set (or, maybe, a fork).
        let same = SecretsOrigin::of("pull_request", &fixture("pull_request.opened"));
        assert_eq!(same, SecretsOrigin::Event("pull_request".into()));
        let problem = same.empty_key_problem();
        assert!(
            problem.contains("`${{ secrets.CURSOR_API_KEY }}`) is not set"),
            "{problem}"
        );
        assert!(problem.contains("from a fork"), "{problem}");

        // pull_request_target runs with the base repository's secrets.
        let mut target = payload.clone();
        target["action"] = "labeled".into();
        let problem = SecretsOrigin::of("pull_request_target", &target).empty_key_problem();
        assert!(!problem.contains("comes from the fork"), "{problem}");
        assert!(problem.contains("CURSOR_API_KEY"), "{problem}");

        // A wholly unknown event still names the secret.
        assert!(
            SecretsOrigin::Unknown
                .empty_key_problem()
                .contains("secrets.CURSOR_API_KEY")
        );
    }
}
