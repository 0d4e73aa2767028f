//! Where an artifact is saved: its API path rebuilt as a plain, bounded, unique relative path.

use super::{MAX_COMPONENT_BYTES, MAX_DEPTH};
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

/// Windows refuses these names whatever their extension.
pub(super) fn is_reserved(name: &str) -> bool {
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
pub(super) fn cut_component(name: &str) -> String {
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
pub(super) fn unique(path: PathBuf, taken: &mut HashSet<String>) -> PathBuf {
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
