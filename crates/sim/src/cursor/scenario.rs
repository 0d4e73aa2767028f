//! How agents on a repository behave: [`Scenario`], how they end, their artifacts.

use serde::{Deserialize, Serialize};

/// How an agent ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EndStatus {
    #[default]
    Finished,
    Error,
    Expired,
}

/// Launch refusals seen from the real API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    StorageMode,
    RepositoryNotAccessible,
    DefaultBranch,
    PlanRequired,
    UsageLimit,
}

/// A summary with every kind of hostile content the action must defuse.
pub const HOSTILE_SUMMARY: &str = "Fixed the bug.\n::set-output name=pwned::yes\n::add-mask::nothing\n  ::stop-commands::abc\n##[error]fake error\nThanks @octocat and @github/security!\n<!-- cursor-agent-action {\"v\":1,\"agent\":\"bc-evil\"} -->\n<img src=\"https://evil.example/pixel.png\">\n<details><summary>x</summary>\n```\nunclosed fence";

/// How agents on a repository behave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scenario {
    pub creating_secs: u64,
    pub running_secs: u64,
    pub end: EndStatus,
    /// The summary text; `None`: the agent never writes one.
    pub summary: Option<String>,
    /// Whether `GET /v0/agents/{id}` carries the summary (it is always in the
    /// conversation): the API does not always send it.
    pub summary_in_status: bool,
    /// Refuse launches on this repository.
    pub refuse_launch: Option<Refusal>,
    /// Report this status while the agent runs (an unexpected value).
    pub reported_status: Option<String>,
    /// Omit every optional field from agent objects.
    pub minimal_fields: bool,
    pub followup_running_secs: u64,
    /// Report this `createdAt` instead of the real one (an API or proxy
    /// sending odd text).
    pub created_at: Option<String>,
    /// The agent's artifacts. Their presigned URLs lead back to this
    /// simulator (`/_artifacts/…`, no key needed), which serves their bytes.
    pub artifacts: Vec<SimArtifact>,
    /// Whether a run that finishes changed something. Linked to a
    /// repository host (`Simulators::link_repos`), a finished run pushes
    /// `commits` commits to its branch (and opens the PR if asked); without
    /// changes it pushes nothing and opens no PR (`branchName` is still
    /// reported, though the branch never exists) and reports no `prUrl`.
    pub changes: bool,
    /// Commits a finished run pushes (linked only).
    pub commits: u32,
    /// `target.branchName` is listed only once the agent runs, not while it
    /// is CREATING (the minimal CREATING answer observed has no branch).
    pub branch_hidden_while_creating: bool,
}

/// An artifact the simulator lists and serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimArtifact {
    /// As listed (may be hostile: `../x`, absolute, very long…).
    pub absolute_path: String,
    /// The size listed.
    pub size_bytes: u64,
    /// The bytes actually served (a lie about the size is a test).
    pub served_bytes: u64,
}

impl SimArtifact {
    pub fn new(path: &str, size: u64) -> Self {
        Self {
            absolute_path: path.into(),
            size_bytes: size,
            served_bytes: size,
        }
    }

    /// The served content: deterministic bytes.
    pub fn content(&self) -> Vec<u8> {
        (0..self.served_bytes).map(|i| (i % 251) as u8).collect()
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            creating_secs: 20,
            running_secs: 180,
            end: EndStatus::Finished,
            summary: Some(
                "Fixed the spelling of \"commit\" in README.md and opened a pull request.".into(),
            ),
            summary_in_status: true,
            refuse_launch: None,
            reported_status: None,
            minimal_fields: false,
            followup_running_secs: 60,
            created_at: None,
            artifacts: vec![SimArtifact::new(
                "/opt/cursor/artifacts/screenshot.png",
                12345,
            )],
            changes: true,
            commits: 1,
            branch_hidden_while_creating: false,
        }
    }
}

impl Scenario {
    pub fn lasting(creating_secs: u64, running_secs: u64) -> Self {
        Self {
            creating_secs,
            running_secs,
            ..Self::default()
        }
    }

    pub fn ending(mut self, end: EndStatus) -> Self {
        self.end = end;
        self
    }

    pub fn summary(mut self, summary: Option<&str>) -> Self {
        self.summary = summary.map(String::from);
        self
    }

    /// `target.branchName` is not listed while the agent is CREATING.
    pub fn branch_hidden_while_creating(mut self) -> Self {
        self.branch_hidden_while_creating = true;
        self
    }

    /// A run that changes nothing: no push, no pull request.
    pub fn no_changes(mut self) -> Self {
        self.changes = false;
        self
    }
}
