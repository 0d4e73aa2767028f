//! One tool call as the activity shows it: its kind by name and its line.

use crate::markdown;
use kit::secret::Redactor;

/// What a tool call did, by its §8.5.6 name (the set is open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolKind {
    Terminal,
    Read,
    Edit,
    Delete,
    FileSearch,
    Grep,
    Todo,
    Task,
    Mcp,
    McpTools,
    WebFetch,
    WebSearch,
    /// Any other name (untrusted, kept as sent).
    Other(String),
}

impl ToolKind {
    pub fn from_name(name: &str) -> Self {
        match name {
            "run_terminal_cmd" => Self::Terminal,
            "read_file" => Self::Read,
            "edit_file" => Self::Edit,
            "delete_file" => Self::Delete,
            "file_search" => Self::FileSearch,
            "grep_search" => Self::Grep,
            "todo_write" => Self::Todo,
            "task" => Self::Task,
            "mcp" => Self::Mcp,
            "get_mcp_tools" => Self::McpTools,
            "web_fetch" => Self::WebFetch,
            "web_search" => Self::WebSearch,
            other => Self::Other(other.to_string()),
        }
    }

    /// The argument keys that name what the tool worked on, most likely
    /// first (the argument shapes are not documented: tried in order).
    pub(super) fn target_keys(&self) -> &'static [&'static str] {
        match self {
            Self::Terminal => &["command", "cmd"],
            Self::Read | Self::Edit | Self::Delete => {
                &["target_file", "path", "file_path", "targetFile", "filePath"]
            }
            Self::FileSearch => &["query", "glob_pattern", "pattern", "globPattern"],
            Self::Grep => &["query", "pattern", "regex"],
            Self::Task => &["description", "title"],
            Self::Mcp => &["toolName", "tool_name", "name", "server"],
            Self::WebFetch => &["url"],
            Self::WebSearch => &["search_term", "query", "searchTerm"],
            Self::Todo | Self::McpTools | Self::Other(_) => &[],
        }
    }

    /// "Read", "Ran"…: the words before the target.
    fn verb(&self, target: bool) -> String {
        match self {
            Self::Terminal => (if target { "Ran" } else { "Ran a command" }).into(),
            Self::Read => (if target { "Read" } else { "Read a file" }).into(),
            Self::Edit => (if target { "Edited" } else { "Edited a file" }).into(),
            Self::Delete => (if target { "Deleted" } else { "Deleted a file" }).into(),
            Self::FileSearch => (if target {
                "Searched files for"
            } else {
                "Searched files"
            })
            .into(),
            Self::Grep => (if target {
                "Searched for"
            } else {
                "Searched the code"
            })
            .into(),
            Self::Todo => "Updated the to-do list".into(),
            Self::Task => (if target {
                "Started a subtask:"
            } else {
                "Started a subtask"
            })
            .into(),
            Self::Mcp => (if target {
                "Called MCP tool"
            } else {
                "Called an MCP tool"
            })
            .into(),
            Self::McpTools => "Listed MCP tools".into(),
            Self::WebFetch => (if target {
                "Fetched"
            } else {
                "Fetched a web page"
            })
            .into(),
            Self::WebSearch => (if target {
                "Searched the web for"
            } else {
                "Searched the web"
            })
            .into(),
            Self::Other(_) => "Used tool".into(),
        }
    }
}

/// One tool call as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolActivity {
    pub kind: ToolKind,
    /// What it worked on: untrusted, so one line, redacted, then cut to
    /// [`TARGET_CHARS`](super::TARGET_CHARS) (an unknown tool's name too, to [`TOOL_NAME_CHARS`](super::TOOL_NAME_CHARS)).
    pub target: Option<String>,
    pub completed: bool,
    /// Its result envelope carried an error (the status word never says).
    pub failed: bool,
    pub(super) call: u64,
}

impl ToolActivity {
    /// "Read `README.md`", Markdown-safe (`redactor`: the run's).
    pub fn markdown(&self, redactor: &Redactor) -> String {
        let mut line = match (&self.kind, &self.target) {
            (ToolKind::Other(name), _) if name.is_empty() => "Used a tool".into(),
            (ToolKind::Other(name), _) => {
                format!("Used tool {}", markdown::code_inline(redactor, name))
            }
            (kind, Some(t)) => {
                format!("{} {}", kind.verb(true), markdown::code_inline(redactor, t))
            }
            (kind, None) => kind.verb(false),
        };
        line.push_str(self.state_suffix());
        line
    }

    /// The same as plain text for the log: one line, no controls.
    pub fn plain(&self) -> String {
        let mut line = match (&self.kind, &self.target) {
            (ToolKind::Other(name), _) if name.is_empty() => "Used a tool".into(),
            (ToolKind::Other(name), _) => format!("Used tool {name}"),
            (kind, Some(t)) => format!("{} {t}", kind.verb(true)),
            (kind, None) => kind.verb(false),
        };
        line.push_str(self.state_suffix());
        line
    }

    fn state_suffix(&self) -> &'static str {
        match (self.completed, self.failed) {
            (_, true) => " (failed)",
            (false, false) => " (running)",
            (true, false) => "",
        }
    }
}
