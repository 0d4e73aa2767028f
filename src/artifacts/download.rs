//! Downloading artifacts into a directory inside the workspace, within the size limits.

use super::listing::download_url;
use super::paths::unique;
use super::{
    ArtifactApi, ArtifactError, DOWNLOAD_TIMEOUT, Downloaded, Limits, Listed, MAX_ARTIFACTS, Saved,
    Skipped, safe_relative_path,
};
use kit::clock::Clock;
use kit::secret::Redactor;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

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
pub(super) fn make_parents(root: &Path, rel: &Path) -> Result<(), String> {
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
