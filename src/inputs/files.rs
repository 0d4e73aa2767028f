//! The inputs that name files: `prompt-file` and `images`, read and checked
//! at input time (relative paths are resolved against the workspace).

use super::image;
use super::parse;
use super::values::Image;
use std::path::{Path, PathBuf};

/// Largest prompt (text or file) we send; the API documents no maximum, and a
/// bigger prompt is almost always a mistake (a log or binary file).
pub(crate) const MAX_PROMPT_BYTES: u64 = 256 * 1024;
/// Images per prompt, as the API allows.
pub(crate) const MAX_IMAGES: usize = 5;
/// Largest image the API accepts.
pub(crate) const MAX_IMAGE_BYTES: u64 = 15 * 1024 * 1024;

/// Where to go instead of a huge `prompt` input.
pub(crate) const PROMPT_FILE_ADVICE: &str = "write the text to a file in an earlier step and pass it with `prompt-file` (environment variables are limited to 128 KiB each on Linux, and a longer `prompt` stops the step from starting with \"Argument list too long\")";

fn resolve(workspace: &Path, value: &str) -> PathBuf {
    let p = Path::new(value.trim());
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        workspace.join(p)
    }
}

fn describe_path(value: &str, workspace: &Path) -> String {
    format!(
        "{} (paths are relative to the workspace, {})",
        parse::quote(value.trim()),
        workspace.display()
    )
}

/// The file an input names (relative to `workspace`), with its metadata;
/// else why not, told apart: missing, unreadable, a directory
/// (`directory_advice` says what to write instead) or something else.
fn existing_file(
    workspace: &Path,
    value: &str,
    directory_advice: &str,
) -> Result<(PathBuf, std::fs::Metadata), String> {
    let path = resolve(workspace, value);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok((path, meta)),
        Ok(meta) if meta.is_dir() => Err(format!(
            "{} is a directory, not a file; {directory_advice}",
            describe_path(value, workspace)
        )),
        Ok(_) => Err(format!(
            "{} is not a regular file (a device, socket or pipe)",
            describe_path(value, workspace)
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "{} does not exist",
            describe_path(value, workspace)
        )),
        Err(e) => Err(format!(
            "{} cannot be read: {e}",
            describe_path(value, workspace)
        )),
    }
}

pub(crate) fn read_prompt_file(workspace: &Path, value: &str) -> Result<(PathBuf, String), String> {
    let (path, meta) = existing_file(
        workspace,
        value,
        "name the file itself, e.g. `.github/cursor-task.md`",
    )?;
    if meta.len() > MAX_PROMPT_BYTES {
        return Err(format!(
            "{} is {} bytes; the limit is {MAX_PROMPT_BYTES} (256 KiB)",
            parse::quote(value),
            meta.len()
        ));
    }
    let bytes =
        std::fs::read(&path).map_err(|e| format!("{} cannot be read: {e}", parse::quote(value)))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{} is not UTF-8 text", parse::quote(value)))?;
    if text.trim().is_empty() {
        return Err(format!("{} is empty", parse::quote(value)));
    }
    Ok((path, text))
}

pub(crate) fn read_images(workspace: &Path, value: &str) -> Result<Vec<Image>, String> {
    let paths: Vec<&str> = value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if paths.len() > MAX_IMAGES {
        return Err(format!(
            "lists {} images; Cursor accepts at most {MAX_IMAGES}",
            paths.len()
        ));
    }
    let mut images = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        let (path, meta) = match existing_file(
            workspace,
            p,
            "list each image file on its own line (at most 5)",
        ) {
            Ok(found) => found,
            Err(why) => {
                problems.push(why);
                continue;
            }
        };
        if meta.len() > MAX_IMAGE_BYTES {
            problems.push(format!("{} is larger than 15 MB", parse::quote(p)));
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("{} cannot be read: {e}", parse::quote(p)));
                continue;
            }
        };
        match image::inspect(&bytes) {
            Ok(info) => images.push(Image { path, info, bytes }),
            Err(why) => problems.push(format!("{} {why}", parse::quote(p))),
        }
    }
    if problems.is_empty() {
        Ok(images)
    } else {
        Err(problems.join("; "))
    }
}
