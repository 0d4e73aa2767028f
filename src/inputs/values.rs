//! The types of the validated inputs' fields: choices, the task's source,
//! images, the repository and the webhook.

use super::image::ImageInfo;
use kit::secret::Secret;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    Fail,
    Stop,
    Continue,
}

/// Where an agent working on a pull request pushes (`pr-branch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrBranch {
    /// The pull request's own head branch (v0 `target.autoBranch: false`).
    Existing,
    /// A new branch (v0 `target.autoBranch: true`, with `branchName`).
    New,
}

/// Which Cursor API the action talks to (`api-version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V0,
    V1,
}

/// v1's `mode` (`mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentMode {
    Agent,
    Plan,
}

impl AgentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentMode::Agent => "agent",
            AgentMode::Plan => "plan",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCancel {
    Leave,
    Stop,
}

/// Where the task text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptSource {
    Text(String),
    File { path: PathBuf, text: String },
}

impl PromptSource {
    pub fn text(&self) -> &str {
        match self {
            PromptSource::Text(t) | PromptSource::File { text: t, .. } => t,
        }
    }
}

/// An image read and checked at input time.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    pub path: PathBuf,
    pub info: ImageInfo,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// The `repository` input: a shorthand resolved against the server URL later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoSpec {
    Shorthand { owner: String, name: String },
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub secret: Option<Secret>,
}
