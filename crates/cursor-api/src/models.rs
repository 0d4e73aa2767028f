//! Request and response bodies of the Cursor v0 API. Responses tolerate
//! missing optional fields and ignore unknown ones; requests serialize
//! exactly the documented keys (the API rejects unknown keys with 400).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An enum of the API whose values we do not all know: one we do not know
/// is kept (`Unknown`), not rejected, and serializes back as it came.
macro_rules! open_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $variant,)*
            /// A value this version does not know: kept, not rejected.
            Unknown(String),
        }

        impl $name {
            pub fn parse(s: &str) -> Self {
                match s {
                    $($text => Self::$variant,)*
                    other => Self::Unknown(other.to_string()),
                }
            }

            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Unknown(s) => s,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Self::parse(&<String as serde::Deserialize>::deserialize(d)?))
            }
        }
    };
}
pub(crate) use open_enum;

open_enum!(
    /// An agent's status.
    AgentStatus {
        Creating = "CREATING",
        Running = "RUNNING",
        Finished = "FINISHED",
        Error = "ERROR",
        Expired = "EXPIRED",
        /// After `POST /stop` (not in the docs; reported by several clients).
        Stopped = "STOPPED",
        /// Seen in v1 runs and modelled by some v0 clients.
        Cancelled = "CANCELLED",
    }
);

impl AgentStatus {
    /// A status the agent will not leave on its own.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Finished | Self::Error | Self::Expired | Self::Stopped | Self::Cancelled
        )
    }

    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown(_))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentTarget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_create_pr: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_as_cursor_github_app: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reviewer_request: Option<bool>,
}

/// An agent as `GET /v0/agents/{id}`, the list and the launch return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: AgentStatus,
    #[serde(default)]
    pub source: AgentSource,
    #[serde(default)]
    pub target: AgentTarget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl Agent {
    /// The agent's page in Cursor (built from the id if the API omitted it).
    pub fn url(&self) -> String {
        self.target
            .url
            .clone()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .unwrap_or_else(|| agent_url(&self.id))
    }

    pub fn summary(&self) -> Option<&str> {
        self.summary.as_deref().filter(|s| !s.trim().is_empty())
    }
}

/// Cursor's page for an agent id.
pub fn agent_url(id: &str) -> String {
    format!("https://cursor.com/agents?id={id}")
}

/// Whether `id` looks like an agent id we may put in a URL path. Ids are
/// `bc-<uuid>` in practice (`bc_abc123` in the docs); anything else (say, from
/// an edited comment marker) is refused.
pub fn is_valid_agent_id(id: &str) -> bool {
    path_safe_id(id, "bc", 3)
}

/// Whether `id` starts with `prefix`, has `min_len` to 100 characters, and
/// only letters, digits, `-` and `_`: safe in a URL path.
pub(crate) fn path_safe_id(id: &str, prefix: &str, min_len: usize) -> bool {
    (min_len..=100).contains(&id.len())
        && id.starts_with(prefix)
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentList {
    pub agents: Vec<Agent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl AgentList {
    /// The next page's cursor; absent, null and "" all mean the end.
    pub fn next(&self) -> Option<&str> {
        next_cursor(&self.next_cursor)
    }
}

/// A list's next page, from its `nextCursor` (v0 and v1 alike): absent,
/// `null` and `""` all mean the end.
pub(crate) fn next_cursor(cursor: &Option<String>) -> Option<&str> {
    cursor.as_deref().filter(|c| !c.is_empty())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    #[serde(default)]
    pub api_key_name: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Models {
    pub models: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub repository: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repositories {
    pub repositories: Vec<Repository>,
}

/// `{ "id": ... }`, returned by follow-up, stop and delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdResponse {
    #[serde(default)]
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKind {
    User,
    Assistant,
    Other(String),
}

impl<'de> Deserialize<'de> for MessageKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match String::deserialize(d)?.as_str() {
            "user_message" => Self::User,
            "assistant_message" => Self::Assistant,
            other => Self::Other(other.to_string()),
        })
    }
}

impl Serialize for MessageKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Self::User => "user_message",
            Self::Assistant => "assistant_message",
            Self::Other(o) => o,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: MessageKind,
    #[serde(default)]
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub messages: Vec<Message>,
}

impl Conversation {
    /// The last non-empty assistant message (a fallback for `summary`).
    pub fn last_assistant_text(&self) -> Option<&str> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.kind == MessageKind::Assistant && !m.text.trim().is_empty())
            .map(|m| m.text.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    pub absolute_path: String,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifacts {
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
}

/// `GET …/artifacts/download` of v0 and v1: a presigned URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadUrl {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

// ---- requests ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dimension {
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptImage {
    /// Base64 of the file.
    pub data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension: Option<Dimension>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prompt {
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<PromptImage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchTarget {
    pub auto_create_pr: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub open_as_cursor_github_app: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip_reviewer_request: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_name: Option<String>,
    /// Only with `source.prUrl`: `false` pushes to the pull request's head
    /// branch (and the API ignores `branchName`), `true` creates a branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_branch: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookSpec {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `POST /v0/agents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LaunchRequest {
    pub prompt: Prompt,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub source: AgentSource,
    pub target: LaunchTarget,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookSpec>,
}

/// `POST /v0/agents/{id}/followup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowupRequest {
    pub prompt: Prompt,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_are_open() {
        let a: Agent =
            serde_json::from_value(json!({"id": "bc-1", "status": "PAUSED_FOR_REVIEW"})).unwrap();
        assert_eq!(a.status, AgentStatus::Unknown("PAUSED_FOR_REVIEW".into()));
        assert_eq!(
            serde_json::to_value(&a.status).unwrap(),
            json!("PAUSED_FOR_REVIEW")
        );
        assert!(!a.status.is_terminal());
        assert_eq!(a.url(), "https://cursor.com/agents?id=bc-1");
    }

    #[test]
    fn minimal_and_extended_agents_parse() {
        // Port's recorded minimal create response.
        let a: Agent = serde_json::from_value(json!({
            "id":"bc-1","status":"CREATING","source":{"repository":"https://github.com/org/repo","ref":"main"},
            "target":{"url":"https://cursor.com/agents?id=bc-1"},"createdAt":"2026-07-16T11:11:03.025Z"
        })).unwrap();
        assert_eq!(a.status, AgentStatus::Creating);
        assert_eq!(a.target.branch_name, None);
        let b: Agent = serde_json::from_value(json!({
            "id":"bc-2","name":"x","status":"FINISHED","source":{"repository":"github.com/o/r"},
            "target":{"url":"https://cursor.com/agents?id=bc-2","prUrl":"https://github.com/o/r/pull/1","branchName":"cursor/x"},
            "summary":"done","createdAt":"2026-01-01T00:00:00Z","filesChanged":3,"linesAdded":10
        })).unwrap();
        assert_eq!(b.summary(), Some("done"));
        assert_eq!(
            b.target.pr_url.as_deref(),
            Some("https://github.com/o/r/pull/1")
        );
    }

    #[test]
    fn list_end_markers() {
        for next in [json!(null), json!(""), json!("bc-9")] {
            let l: AgentList =
                serde_json::from_value(json!({"agents": [], "nextCursor": next})).unwrap();
            assert_eq!(l.next().is_some(), next == json!("bc-9"));
        }
        let l: AgentList = serde_json::from_value(json!({"agents": []})).unwrap();
        assert_eq!(l.next(), None);
    }

    #[test]
    fn agent_ids() {
        assert!(is_valid_agent_id("bc-5012b32d-8b28-43b8-853f-da1aeba60415"));
        assert!(is_valid_agent_id("bc_abc123"));
        for bad in ["", "../v0/me", "bc-1/stop", "x-123", "bc-1?x=1"] {
            assert!(!is_valid_agent_id(bad), "{bad}");
        }
    }

    #[test]
    fn conversation_fallback() {
        let c: Conversation = serde_json::from_value(json!({"id":"bc-1","messages":[
            {"id":"1","type":"user_message","text":"do it"},
            {"id":"2","type":"assistant_message","text":"done: fixed"},
            {"id":"3","type":"assistant_message","text":"  "},
            {"id":"4","type":"tool_call","text":"x"}
        ]}))
        .unwrap();
        assert_eq!(c.last_assistant_text(), Some("done: fixed"));
    }
}
