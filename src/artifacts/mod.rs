//! An agent's artifacts (screenshots, recordings, logs): listed through the
//! Cursor API (v0 `GET /v0/agents/{id}/artifacts`, v1
//! `GET /v1/agents/{id}/artifacts`; `cursor-api.md` §5.11–5.12, §8.2) and,
//! when the `download-artifacts` input names a directory, downloaded through
//! their presigned URLs into it, for `actions/upload-artifact`.
//!
//! Everything the API sends is untrusted:
//! * paths are rebuilt from their plain components ([`safe_relative_path`]):
//!   no `..`, no absolute path or drive letter, no NUL or control
//!   character, no Windows-reserved name, components and depth bounded,
//!   duplicates renamed; files are created new (an existing link is
//!   replaced, never followed) under a directory checked to lie inside the
//!   workspace;
//! * presigned URLs must be `http(s)`; they get no credential of ours;
//! * sizes are capped per file ([`MAX_ARTIFACT_BYTES`]) and in total
//!   ([`MAX_TOTAL_BYTES`]), checked against the listed size, the
//!   `Content-Length` and the bytes actually received; an oversized artifact
//!   is refused with a message and nothing of it is left on disk;
//! * requests are bounded: one list (plus one re-list when a v1 list is
//!   still empty), then at most [`MAX_ARTIFACTS`] URL requests and as many
//!   downloads, one attempt each (the v0 limit is 300/min).
//!
//! Agents older than six months cannot list artifacts (`400`): that is
//! [`ArtifactError::TooOld`], said plainly.

mod download;
mod listing;
mod paths;

pub use download::{DownloadDir, download_all, prepare_dir};
pub use listing::{ArtifactApi, list};
pub use paths::safe_relative_path;

use crate::markdown;
use kit::clock::Clock;
use kit::secret::Redactor;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One artifact at most this large (bytes).
pub const MAX_ARTIFACT_BYTES: u64 = 100 * 1024 * 1024;
/// All artifacts of a run together at most this large (bytes).
pub const MAX_TOTAL_BYTES: u64 = 500 * 1024 * 1024;
/// Artifacts handled at most (the API returns at most 100).
pub const MAX_ARTIFACTS: usize = 100;
/// Bytes per path component, after sanitizing.
pub const MAX_COMPONENT_BYTES: usize = 100;
/// Directory levels kept (deeper ones are folded into the last name).
pub const MAX_DEPTH: usize = 8;
/// One download may take this long (clock time).
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(300);
/// A v1 list that is still empty right after the run is asked again once,
/// this much later (artifacts are uploaded as the run finishes).
pub const RELIST_AFTER: Duration = Duration::from_secs(5);

/// The size caps ([`MAX_ARTIFACT_BYTES`], [`MAX_TOTAL_BYTES`] by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_artifact: u64,
    pub total: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_artifact: MAX_ARTIFACT_BYTES,
            total: MAX_TOTAL_BYTES,
        }
    }
}

impl Limits {
    /// Why `size` bytes cannot be taken with `total` already written.
    fn refuse(&self, size: u64, total: u64) -> Option<String> {
        if size > self.per_artifact {
            Some(format!(
                "refused: {} is over the {} limit per artifact",
                human_bytes(size),
                human_bytes(self.per_artifact)
            ))
        } else if total.saturating_add(size) > self.total {
            Some(format!(
                "refused: it would take the artifacts over the {} limit in total",
                human_bytes(self.total)
            ))
        } else {
            None
        }
    }
}

pub(crate) fn human_bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// An artifact as listed (untrusted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The path as the API sent it (v0 absolute, v1 `artifacts/…`).
    pub path: String,
    pub size_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArtifactError {
    #[error(
        "Cursor lists artifacts only for agents created within the last 6 months; this agent is older (the API answered 400), so its artifacts were not downloaded."
    )]
    TooOld,
    #[error("Could not list the agent's artifacts: {0}")]
    List(String),
    #[error(
        "The input `download-artifacts` names `{0}`, which is not a directory inside the workspace (a link may lead out of it). Use a relative path such as `cursor-artifacts`."
    )]
    OutsideWorkspace(String),
    #[error("Could not create the artifacts directory `{path}`: {message}")]
    Directory { path: String, message: String },
}

/// One artifact written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub api_path: String,
    /// The file written (absolute).
    pub file: PathBuf,
    /// The same, as the workflow names it: the input's directory joined
    /// with the sanitized path, `/`-separated.
    pub display: String,
    pub bytes: u64,
}

/// One artifact not written, and why (for the comment and the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub api_path: String,
    pub reason: String,
}

/// What [`download_all`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Downloaded {
    pub saved: Vec<Saved>,
    pub skipped: Vec<Skipped>,
    /// Cursor and download requests made.
    pub requests: u32,
}

impl Downloaded {
    /// The `artifacts` output: the paths written, one per line.
    pub fn output(&self) -> String {
        self.saved
            .iter()
            .map(|s| s.display.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The comment's list: each artifact by name (and size), with where it was
/// written or why not. `upload_url`, when the workflow passes one (its
/// artifacts page), is linked if it is on `github_host`.
pub fn markdown_list(
    redactor: &Redactor,
    listed: &[Listed],
    downloaded: Option<&Downloaded>,
    upload_url: Option<&str>,
    github_host: &str,
) -> Option<String> {
    if listed.is_empty() {
        return None;
    }
    let mut md = String::from("**Artifacts**\n\n");
    for item in listed.iter().take(MAX_ARTIFACTS) {
        let name = safe_relative_path(&item.path)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|| "(unnamed)".into());
        let mut line = format!("- {}", markdown::code_inline(redactor, &name));
        if let Some(size) = item.size_bytes {
            line.push_str(&format!(" ({})", human_bytes(size)));
        }
        if let Some(d) = downloaded {
            if let Some(s) = d.saved.iter().find(|s| s.api_path == item.path) {
                line.push_str(&format!(
                    " → {}",
                    markdown::code_inline(redactor, &s.display)
                ));
            } else if let Some(s) = d.skipped.iter().find(|s| s.api_path == item.path) {
                line.push_str(&format!(
                    " — {}",
                    markdown::sanitize_inline(redactor, &s.reason)
                ));
            }
        }
        md.push_str(&line);
        md.push('\n');
    }
    if listed.len() > MAX_ARTIFACTS {
        md.push_str(&format!("- _…and {} more_\n", listed.len() - MAX_ARTIFACTS));
    }
    if let Some(url) = upload_url {
        if markdown::is_linkable(url, github_host) {
            md.push_str(&format!(
                "\nUploaded with the workflow run: [artifacts]({url})\n"
            ));
        } else {
            md.push_str(&format!(
                "\nUploaded with the workflow run: {}\n",
                markdown::code_inline(redactor, url)
            ));
        }
    }
    Some(md)
}

/// Artifacts as told: the comment's list and the `artifacts` output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArtifactsShown {
    /// [`markdown_list`].
    pub markdown: String,
    /// [`Downloaded::output`] (empty when nothing was written).
    pub output: String,
}

/// What the flow shows and says about artifacts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gathered {
    /// For `RunReport::artifacts`; `None` when the agent has none.
    pub shown: Option<ArtifactsShown>,
    /// Warnings for the log (listing failed, the directory was refused,
    /// artifacts skipped), each one line, untrusted parts included: print
    /// with `Console::warning`.
    pub warnings: Vec<String>,
}

/// Everything after a run ends, in one call: list the agent's artifacts;
/// with `download_dir` (the `download-artifacts` input) download them into
/// it under `workspace`; build the comment's list and the `artifacts`
/// output. Never fails: problems become warnings.
#[allow(clippy::too_many_arguments)]
pub async fn gather(
    api: ArtifactApi<'_>,
    http: &reqwest::Client,
    agent: &str,
    workspace: &Path,
    download_dir: Option<&str>,
    upload_url: Option<&str>,
    github_host: &str,
    clock: Clock,
) -> Gathered {
    let mut out = Gathered::default();
    let listed = match list(api, agent, clock).await {
        Ok(l) => l,
        Err(e) => {
            out.warnings.push(e.to_string());
            return out;
        }
    };
    if listed.is_empty() {
        return out;
    }
    let downloaded = match download_dir.map(|d| prepare_dir(workspace, d)) {
        None => None,
        Some(Err(e)) => {
            out.warnings.push(e.to_string());
            None
        }
        Some(Ok(dir)) => Some(download_all(api, http, agent, &listed, &dir, clock).await),
    };
    if let Some(d) = &downloaded {
        for s in &d.skipped {
            out.warnings.push(format!(
                "Artifact {}: {}",
                cursor_api::one_line(api.redactor(), &s.api_path, 200),
                s.reason
            ));
        }
    }
    out.shown = markdown_list(
        api.redactor(),
        &listed,
        downloaded.as_ref(),
        upload_url,
        github_host,
    )
    .map(|markdown| ArtifactsShown {
        markdown,
        output: downloaded
            .as_ref()
            .map(Downloaded::output)
            .unwrap_or_default(),
    });
    out
}
