//! Request and response bodies of the Cursor v1 API (`cursor-api.md` §8).
//! Responses tolerate missing optional fields and ignore unknown ones; enums
//! are open (agent `IDLE` arrived without notice); requests serialize exactly
//! the documented keys (v1 rejects unknown keys with 400).

use crate::models::{next_cursor, open_enum, path_safe_id};
use serde::{Deserialize, Deserializer, Serialize};

open_enum!(
    /// An agent's lifecycle (not its execution: ask the run for that).
    AgentStatus { Active = "ACTIVE", Idle = "IDLE", Archived = "ARCHIVED", Expired = "EXPIRED" }
);

open_enum!(
    /// A run's status.
    RunStatus {
        Creating = "CREATING",
        Running = "RUNNING",
        Finished = "FINISHED",
        Error = "ERROR",
        Cancelled = "CANCELLED",
        Expired = "EXPIRED",
    }
);

impl RunStatus {
    /// A status the run will not leave. Unknown statuses are not terminal:
    /// the follower keeps reading rather than invent an end.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Finished | Self::Error | Self::Cancelled | Self::Expired
        )
    }

    /// CREATING or RUNNING: the agent is busy.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Creating | Self::Running)
    }
}

/// `model` as v1 wants it: an object (a string is rejected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSelection {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ModelParam>,
}

impl ModelSelection {
    pub fn id(id: &str) -> Self {
        Self {
            id: id.to_string(),
            params: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelParam {
    pub id: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub text: String,
    /// At most 5; v1 takes `{data, mimeType}` (base64), not v0's dimensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<PromptImage>,
}

impl Prompt {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            images: Vec::new(),
        }
    }
}

/// An image of a v1 prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptImage {
    /// Base64.
    pub data: String,
    pub mime_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoSpec {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Agent,
    Plan,
}

/// `POST /v1/agents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAgentRequest {
    pub prompt: Prompt,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelSelection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repos: Vec<RepoSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_on_current_branch: Option<bool>,
    #[serde(rename = "autoCreatePR", skip_serializing_if = "Option::is_none")]
    pub auto_create_pr: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reviewer_request: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Client-chosen `bc-<uuid>`: the create is idempotent on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// `POST /v1/agents/{id}/runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateRunRequest {
    pub prompt: Prompt,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelSelection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRepo {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: AgentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default)]
    pub repos: Vec<AgentRepo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_on_current_branch: Option<bool>,
    #[serde(
        rename = "autoCreatePR",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub auto_create_pr: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_run_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitBranch {
    /// Scheme-less: `github.com/org/repo`.
    pub repo_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Git {
    #[serde(default)]
    pub branches: Vec<GitBranch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub id: String,
    pub agent_id: String,
    pub status: RunStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The final assistant text (terminal runs; absent when CANCELLED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<Git>,
}

impl Run {
    /// A run with nothing known but its ids and status: what a stream's
    /// `result` event or a test fills in with `..Run::new(…)`, so that a new
    /// field of the wire model touches only the places that read it.
    pub fn new(id: impl Into<String>, agent_id: impl Into<String>, status: RunStatus) -> Self {
        Self {
            id: id.into(),
            agent_id: agent_id.into(),
            status,
            created_at: None,
            updated_at: None,
            duration_ms: None,
            result: None,
            git: None,
        }
    }
}

/// `201` of `POST /v1/agents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub agent: Agent,
    pub run: Run,
}

/// `POST …/runs` answers `{"run": {…}}` per the docs and a bare run in
/// practice: both are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum RunEnvelope {
    Wrapped { run: Run },
    Bare(Run),
}

impl RunEnvelope {
    pub(crate) fn into_run(self) -> Run {
        match self {
            RunEnvelope::Wrapped { run } | RunEnvelope::Bare(run) => run,
        }
    }
}

/// A page of a v1 list. `nextCursor` absent, `null` or `""` all mean the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn next(&self) -> Option<&str> {
        next_cursor(&self.next_cursor)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdOnly {
    pub id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub cache_write_tokens: u64,
    #[serde(default)]
    pub cache_read_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

/// Float cents; absent = "not reported yet", never zero (§8.6).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    #[serde(default)]
    pub raw_cost_cents: f64,
    /// What was charged; absent when the API does not say (not "included
    /// in your plan", which is an explicit 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charged_cents: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunUsage {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_uuid: Option<String>,
    #[serde(default)]
    pub usage: Tokens,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    #[serde(default)]
    pub total_usage: Tokens,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    #[serde(default)]
    pub runs: Vec<RunUsage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Relative: `artifacts/…`.
    pub path: String,
    #[serde(default)]
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// An artifact's download link: the same answer as v0's.
pub use crate::models::DownloadUrl;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    #[serde(default)]
    pub api_key_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_email: Option<String>,
}

/// One model; the April-2026 shape (a bare id string) is accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl<'de> Deserialize<'de> for ModelInfo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Id(String),
            #[serde(rename_all = "camelCase")]
            Object {
                id: String,
                #[serde(default)]
                display_name: Option<String>,
            },
        }
        Ok(match Shape::deserialize(d)? {
            Shape::Id(id) => ModelInfo {
                id,
                display_name: None,
            },
            Shape::Object { id, display_name } => ModelInfo { id, display_name },
        })
    }
}

/// Whether `id` is a well-formed `bc-<uuid>` (the format v1 requires of a
/// client-chosen `agentId`).
pub fn is_agent_id(id: &str) -> bool {
    id.strip_prefix("bc-").is_some_and(is_uuid)
}

/// Whether `id` is a `run-<uuid>`, or at least safe in a URL path (runs are
/// `run-<uuid>` in practice; docs examples are shorter).
pub fn is_run_id(id: &str) -> bool {
    path_safe_id(id, "run", 5)
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The `agentId` for a launch: `bc-<uuid>` derived from the launch's identity
/// (repository, workflow run id, job, step key…), the same on every attempt
/// of the run, so a retried or re-run create can only ever name one agent.
/// The UUID is v8-shaped (RFC 9562 "custom"): 122 bits of two stable hashes,
/// version 8, variant `10`.
pub fn derive_agent_id(identity: &[&str]) -> String {
    let hi = kit::text::stable_hash(&[&["cursor-agent-action/v1/agent-id"], identity].concat());
    let lo = kit::text::stable_hash(&[identity, &["cursor-agent-action/v1/agent-id"]].concat());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "bc-{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_enums_keep_unknown_values() {
        let a: Agent = serde_json::from_str(r#"{"id":"bc-1","status":"IDLE"}"#).unwrap();
        assert_eq!(a.status, AgentStatus::Idle);
        let a: Agent = serde_json::from_str(r#"{"id":"bc-1","status":"PAUSED"}"#).unwrap();
        assert_eq!(a.status, AgentStatus::Unknown("PAUSED".into()));
        assert_eq!(serde_json::to_string(&a.status).unwrap(), r#""PAUSED""#);
        let r: Run =
            serde_json::from_str(r#"{"id":"run-1","agentId":"bc-1","status":"QUEUED"}"#).unwrap();
        assert!(!r.status.is_terminal() && !r.status.is_active());
    }

    #[test]
    fn follow_up_answers_in_both_shapes() {
        let run = r#"{"id":"run-1","agentId":"bc-1","status":"CREATING"}"#;
        for body in [format!(r#"{{"run":{run}}}"#), run.to_string()] {
            let e: RunEnvelope = serde_json::from_str(&body).unwrap();
            assert_eq!(e.into_run().id, "run-1");
        }
    }

    #[test]
    fn pages_end_on_absent_null_or_empty_cursors() {
        for body in [
            r#"{"items":[]}"#,
            r#"{"items":[],"nextCursor":null}"#,
            r#"{"items":[],"nextCursor":""}"#,
        ] {
            let p: Page<IdOnly> = serde_json::from_str(body).unwrap();
            assert_eq!(p.next(), None, "{body}");
        }
    }

    #[test]
    fn derived_agent_ids_are_stable_distinct_and_valid() {
        let a = derive_agent_id(&["o/r", "123", "job", "step"]);
        assert_eq!(a, derive_agent_id(&["o/r", "123", "job", "step"]));
        assert!(is_agent_id(&a), "{a}");
        assert_eq!(&a[17..18], "8", "version nibble: {a}");
        assert!("89ab".contains(&a[22..23]), "variant: {a}");
        let others = [
            derive_agent_id(&["o/r", "124", "job", "step"]),
            derive_agent_id(&["o/r", "123", "jobstep"]),
            derive_agent_id(&["o/r", "123", "job", "step", ""]),
        ];
        assert!(others.iter().all(|o| *o != a && is_agent_id(o)));
        assert!(!is_agent_id("bc-xyz") && !is_agent_id("bc_00000000-0000-0000-0000-000000000001"));
    }

    #[test]
    fn models_list_in_both_shapes() {
        let a: Page<ModelInfo> =
            serde_json::from_str(r#"{"items":["default",{"id":"x","displayName":"X"}]}"#).unwrap();
        assert_eq!(a.items[0].id, "default");
        assert_eq!(a.items[1].display_name.as_deref(), Some("X"));
    }
}
