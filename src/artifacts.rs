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

use crate::report::markdown;
use cursor_api::CursorClient;
use cursor_api::v1::V1Client;
use kit::clock::Clock;
use kit::secret::Redactor;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
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

/// Where the artifacts come from.
#[derive(Debug, Clone, Copy)]
pub enum ArtifactApi<'a> {
    V0(&'a CursorClient),
    V1(&'a V1Client),
}

impl<'a> ArtifactApi<'a> {
    /// The client's redactor (it knows the key): artifact names, paths and
    /// errors are cut with it; the sinks redact the run's other secrets.
    pub fn redactor(self) -> &'a Redactor {
        match self {
            ArtifactApi::V0(c) => c.redactor(),
            ArtifactApi::V1(c) => c.redactor(),
        }
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

/// Lists the agent's artifacts (at most [`MAX_ARTIFACTS`]). A v1 list that
/// is empty is asked once more after [`RELIST_AFTER`].
pub async fn list(
    api: ArtifactApi<'_>,
    agent: &str,
    clock: Clock,
) -> Result<Vec<Listed>, ArtifactError> {
    let mut items = list_once(api, agent).await?;
    if items.is_empty() && matches!(api, ArtifactApi::V1(_)) {
        clock.sleep(RELIST_AFTER).await;
        items = list_once(api, agent).await?;
    }
    items.truncate(MAX_ARTIFACTS);
    Ok(items)
}

async fn list_once(api: ArtifactApi<'_>, agent: &str) -> Result<Vec<Listed>, ArtifactError> {
    match api {
        ArtifactApi::V0(c) => match c.artifacts(agent).await {
            Ok(a) => Ok(a
                .artifacts
                .into_iter()
                .map(|a| Listed {
                    path: a.absolute_path,
                    size_bytes: a.size_bytes,
                })
                .collect()),
            Err(e) if e.status() == Some(400) => Err(ArtifactError::TooOld),
            Err(e) => Err(ArtifactError::List(cursor_api::one_line(
                c.redactor(),
                &e.to_string(),
                300,
            ))),
        },
        ArtifactApi::V1(c) => match c.artifacts(agent).await {
            Ok(p) => Ok(p
                .items
                .into_iter()
                .map(|a| Listed {
                    path: a.path,
                    size_bytes: Some(a.size_bytes),
                })
                .collect()),
            Err(e) if e.status() == Some(400) => Err(ArtifactError::TooOld),
            Err(e) => Err(ArtifactError::List(cursor_api::one_line(
                c.redactor(),
                &e.to_string(),
                300,
            ))),
        },
    }
}

async fn download_url(api: ArtifactApi<'_>, agent: &str, path: &str) -> Result<String, String> {
    let r = match api {
        ArtifactApi::V0(c) => c
            .artifact_download_url(agent, path)
            .await
            .map(|d| d.url)
            .map_err(|e| (e.status(), e.to_string())),
        ArtifactApi::V1(c) => c
            .artifact_download_url(agent, path)
            .await
            .map(|d| d.url)
            .map_err(|e| (e.status(), e.to_string())),
    };
    r.map_err(|(status, message)| match status {
        Some(400) => ArtifactError::TooOld.to_string(),
        _ => format!(
            "no download address: {}",
            cursor_api::one_line(api.redactor(), &message, 200)
        ),
    })
}

/// Windows refuses these names whatever their extension.
fn is_reserved(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit())
}

/// Cuts `name` to [`MAX_COMPONENT_BYTES`], keeping a short extension.
fn cut_component(name: &str) -> String {
    if name.len() <= MAX_COMPONENT_BYTES {
        return name.to_string();
    }
    let ext = name
        .rfind('.')
        .map(|i| &name[i..])
        .filter(|e| e.len() <= 16 && e.len() < name.len());
    let ext = ext.unwrap_or("");
    let mut cut = MAX_COMPONENT_BYTES - ext.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", &name[..cut])
}

/// The artifact's path below the download directory, rebuilt from its plain
/// components: the API's `/opt/cursor/artifacts/` or `artifacts/` prefix
/// dropped, `\` taken as a separator, `.`, `..`, empty parts and drive
/// letters dropped (never resolved), NUL, controls and `<>:"|?*` replaced
/// by `_`, trailing dots and spaces trimmed, reserved names prefixed, each
/// part at most [`MAX_COMPONENT_BYTES`], at most [`MAX_DEPTH`] levels.
/// `None` when nothing is left.
pub fn safe_relative_path(api_path: &str) -> Option<PathBuf> {
    let p = api_path.replace('\\', "/");
    let p = p
        .strip_prefix("/opt/cursor/artifacts/")
        .or_else(|| p.strip_prefix("artifacts/"))
        .unwrap_or(&p);
    let mut parts: Vec<String> = Vec::new();
    for raw in p.split('/') {
        let raw = if raw.len() == 2 && raw.ends_with(':') {
            "" // a drive letter
        } else {
            raw
        };
        let clean: String = raw
            .chars()
            .map(|c| {
                if c.is_control() || kit::text::is_invisible(c) || "<>:\"|?*".contains(c) {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let clean = clean.trim().trim_end_matches(['.', ' ']).to_string();
        if clean.is_empty() || clean.chars().all(|c| c == '.') {
            continue;
        }
        let clean = if is_reserved(&clean) {
            format!("_{clean}")
        } else {
            clean
        };
        parts.push(cut_component(&clean));
    }
    if parts.is_empty() {
        return None;
    }
    if parts.len() > MAX_DEPTH {
        let tail = parts.split_off(MAX_DEPTH - 1).join("_");
        parts.push(cut_component(&tail));
    }
    let path: PathBuf = parts.iter().collect();
    // Belt and braces: only plain components.
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(path)
}

/// `path`, or `name-2.ext`, `name-3.ext`… when it is taken (compared
/// without case: some file systems ignore it).
fn unique(path: PathBuf, taken: &mut HashSet<String>) -> PathBuf {
    let key = |p: &Path| p.to_string_lossy().to_lowercase();
    if taken.insert(key(&path)) {
        return path;
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    for n in 2.. {
        let candidate = path.with_file_name(format!("{stem}-{n}{ext}"));
        if taken.insert(key(&candidate)) {
            return candidate;
        }
    }
    unreachable!("some suffix is free")
}

/// Where artifacts are written: a directory inside the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadDir {
    /// Absolute, links resolved.
    pub root: PathBuf,
    /// As the user wrote it (the `artifacts` output's prefix).
    pub display: String,
    pub limits: Limits,
}

impl DownloadDir {
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// Creates `dir` (relative to `workspace`) one level at a time, and only
/// inside the workspace: each level that exists is resolved first, and a link
/// leading out of the workspace (or nowhere) is refused before anything is
/// created under it. Nothing is ever created outside the workspace.
pub fn prepare_dir(workspace: &Path, dir: &str) -> Result<DownloadDir, ArtifactError> {
    let outside = || ArtifactError::OutsideWorkspace(dir.to_string());
    let rel = Path::new(dir);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(outside());
    }
    let cannot = |message: String| ArtifactError::Directory {
        path: dir.to_string(),
        message,
    };
    let root = workspace
        .canonicalize()
        .map_err(|e| cannot(format!("the workspace cannot be read: {e}")))?;
    // `real` is always a directory inside `root`, links resolved.
    let mut real = root.clone();
    for part in rel.components() {
        let Component::Normal(part) = part else {
            continue;
        };
        let next = real.join(part);
        match std::fs::symlink_metadata(&next) {
            Ok(m) if m.file_type().is_symlink() => {
                // Followed only when it ends at a directory inside the workspace.
                match next.canonicalize() {
                    Ok(target) if target.starts_with(&root) && target.is_dir() => real = target,
                    _ => return Err(outside()),
                }
            }
            Ok(m) if m.is_dir() => real = next,
            Ok(_) => {
                return Err(cannot(format!(
                    "{} is a file, not a directory",
                    next.strip_prefix(&root).unwrap_or(&next).display()
                )));
            }
            Err(_) => {
                std::fs::create_dir(&next).map_err(|e| cannot(e.to_string()))?;
                real = next;
            }
        }
    }
    if real == root {
        return Err(outside());
    }
    Ok(DownloadDir {
        root: real,
        display: dir.trim_end_matches('/').to_string(),
        limits: Limits::default(),
    })
}

/// Creates the parents of `rel` under `root`, refusing any that is a link.
fn make_parents(root: &Path, rel: &Path) -> Result<(), String> {
    let mut at = root.to_path_buf();
    if let Some(parent) = rel.parent() {
        for c in parent.components() {
            at.push(c);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err("a link stands where a directory should be".into());
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err("a file stands where a directory should be".into()),
                Err(_) => std::fs::create_dir(&at).map_err(|e| e.to_string())?,
            }
        }
    }
    Ok(())
}

fn human_bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// Downloads `listed` into `dir` (from [`prepare_dir`]). `http` must
/// carry no credential of ours (the URLs lead to storage, not to Cursor).
pub async fn download_all(
    api: ArtifactApi<'_>,
    http: &reqwest::Client,
    agent: &str,
    listed: &[Listed],
    dir: &DownloadDir,
    clock: Clock,
) -> Downloaded {
    let (root, limits) = (dir.root.as_path(), dir.limits);
    let mut out = Downloaded::default();
    let mut taken = HashSet::new();
    let mut total = 0u64;
    for item in listed.iter().take(MAX_ARTIFACTS) {
        let skip = |reason: String| Skipped {
            api_path: item.path.clone(),
            reason,
        };
        let Some(rel) = safe_relative_path(&item.path) else {
            out.skipped.push(skip("its path names no file".into()));
            continue;
        };
        if let Some(size) = item.size_bytes
            && let Some(reason) = limits.refuse(size, total)
        {
            out.skipped.push(skip(reason));
            continue;
        }
        out.requests += 1;
        let url = match download_url(api, agent, &item.path).await {
            Ok(u) => u,
            Err(reason) => {
                out.skipped.push(skip(reason));
                continue;
            }
        };
        let parsed = match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => {
                out.skipped
                    .push(skip("its download address is not an http(s) URL".into()));
                continue;
            }
        };
        let rel = unique(rel, &mut taken);
        if let Err(e) = make_parents(root, &rel) {
            out.skipped.push(skip(format!("not written: {e}")));
            continue;
        }
        let file = root.join(&rel);
        out.requests += 1;
        match clock
            .timeout(
                DOWNLOAD_TIMEOUT,
                fetch(http, api.redactor(), parsed, &file, limits, total),
            )
            .await
        {
            Ok(Ok(bytes)) => {
                total += bytes;
                let display = Path::new(&dir.display)
                    .join(&rel)
                    .to_string_lossy()
                    .replace('\\', "/");
                out.saved.push(Saved {
                    api_path: item.path.clone(),
                    file,
                    display,
                    bytes,
                });
            }
            Ok(Err(reason)) => {
                let _ = std::fs::remove_file(&file);
                out.skipped.push(skip(reason));
            }
            Err(_) => {
                let _ = std::fs::remove_file(&file);
                out.skipped.push(skip(format!(
                    "the download took longer than {} s",
                    DOWNLOAD_TIMEOUT.as_secs()
                )));
            }
        }
    }
    out
}

/// Streams `url` into a new `file`, at most `limit` bytes.
async fn fetch(
    http: &reqwest::Client,
    redactor: &Redactor,
    url: url::Url,
    file: &Path,
    limits: Limits,
    total: u64,
) -> Result<u64, String> {
    let mut response = http.get(url).send().await.map_err(|e| {
        format!(
            "download failed: {}",
            cursor_api::one_line(redactor, &kit::http::error_chain(&e), 200)
        )
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("download failed: HTTP {}", status.as_u16()));
    }
    if let Some(len) = response.content_length()
        && let Some(reason) = limits.refuse(len, total)
    {
        return Err(reason);
    }
    // A link (or anything) already there is replaced, never followed.
    if std::fs::symlink_metadata(file).is_ok() {
        std::fs::remove_file(file).map_err(|e| format!("not written: {e}"))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .map_err(|e| format!("not written: {e}"))?;
    let mut written = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        format!(
            "download failed: {}",
            cursor_api::one_line(redactor, &kit::http::error_chain(&e), 200)
        )
    })? {
        written += chunk.len() as u64;
        if let Some(reason) = limits.refuse(written, total) {
            return Err(reason);
        }
        f.write_all(&chunk)
            .map_err(|e| format!("not written: {e}"))?;
    }
    f.flush().map_err(|e| format!("not written: {e}"))?;
    Ok(written)
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

/// What the flow shows and says about artifacts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gathered {
    /// For `RunReport::artifacts`; `None` when the agent has none.
    pub shown: Option<crate::report::ArtifactsShown>,
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
    .map(|markdown| crate::report::ArtifactsShown {
        markdown,
        output: downloaded
            .as_ref()
            .map(Downloaded::output)
            .unwrap_or_default(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rel(p: &str) -> Option<String> {
        safe_relative_path(p).map(|p| p.to_string_lossy().replace('\\', "/"))
    }

    #[test]
    fn hostile_paths_stay_inside() {
        let cases = [
            (
                "/opt/cursor/artifacts/screenshot.png",
                Some("screenshot.png"),
            ),
            ("artifacts/logs/run.txt", Some("logs/run.txt")),
            ("../x", Some("x")),
            ("../../../etc/passwd", Some("etc/passwd")),
            ("/etc/passwd", Some("etc/passwd")),
            (
                "C:\\Windows\\system32\\evil.dll",
                Some("Windows/system32/evil.dll"),
            ),
            ("a/./b/../c", Some("a/b/c")),
            ("nul\0byte.txt", Some("nul_byte.txt")),
            ("CON.txt", Some("_CON.txt")),
            ("what?<>|.png", Some("what____.png")),
            ("dots...", Some("dots")),
            ("..", None),
            ("/", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(rel(input).as_deref(), want, "{input:?}");
        }
        let long = format!("{}.png", "a".repeat(5000));
        let got = rel(&long).unwrap();
        assert!(
            got.len() <= MAX_COMPONENT_BYTES && got.ends_with(".png"),
            "{got}"
        );
        let deep = "d/".repeat(50) + "f.txt";
        assert_eq!(
            safe_relative_path(&deep).unwrap().components().count(),
            MAX_DEPTH
        );
    }

    #[test]
    fn duplicates_get_numbers() {
        let mut taken = HashSet::new();
        let a = unique(PathBuf::from("x/a.png"), &mut taken);
        let b = unique(PathBuf::from("x/A.png"), &mut taken);
        let c = unique(PathBuf::from("x/a.png"), &mut taken);
        assert_eq!(a, PathBuf::from("x/a.png"));
        assert_eq!(b, PathBuf::from("x/A-2.png"));
        assert_eq!(c, PathBuf::from("x/a-3.png"));
    }

    proptest! {
        #[test]
        fn any_path_is_plain_and_bounded(p in "(\\.\\.|/|\\\\|[a-zA-Z]:|\\x00|[a-z]{1,300}|\\.|~|%2e|\\s){0,40}") {
            if let Some(path) = safe_relative_path(&p) {
                prop_assert!(path.components().all(|c| matches!(c, Component::Normal(_))));
                prop_assert!(path.components().count() <= MAX_DEPTH);
                for c in path.components() {
                    let s = c.as_os_str().to_string_lossy();
                    prop_assert!(s.len() <= MAX_COMPONENT_BYTES);
                    prop_assert!(!s.contains(['\0', ':', '\\']));
                    prop_assert!(s != ".." && s != ".");
                }
            }
        }
    }
}
