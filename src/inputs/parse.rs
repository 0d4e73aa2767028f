//! Parsers for single input values. Each returns the reason a value is not
//! accepted, phrased to follow "`input`: ".

use super::values::RepoSpec;
use std::time::Duration;

/// The spellings `@actions/core`'s `getBooleanInput` accepts (YAML 1.2's
/// core schema), so an input means the same here as in any other action.
pub(crate) const BOOLEAN_SPELLINGS: [&str; 6] = ["true", "True", "TRUE", "false", "False", "FALSE"];

/// A boolean exactly as `getBooleanInput` reads it: surrounding whitespace
/// trimmed, then one of [`BOOLEAN_SPELLINGS`] (not `tRuE`, `yes` or `1`).
pub(crate) fn boolean(value: &str) -> Result<bool, String> {
    match value.trim() {
        "true" | "True" | "TRUE" => Ok(true),
        "false" | "False" | "FALSE" => Ok(false),
        _ => Err(format!(
            "{} is not a boolean; use true or false (accepted spellings: {}, as in every action)",
            quote(value),
            or_list(&BOOLEAN_SPELLINGS)
        )),
    }
}

/// Durations such as `90s`, `10m`, `1h30m` or `1h30m15s`: each unit once, in
/// the order h, m, s.
pub(crate) fn duration(value: &str) -> Result<Duration, String> {
    let text = value.trim();
    let bad = || {
        format!(
            "{} is not a duration; use a number with a unit, e.g. 90s, 10m or 1h30m",
            quote(value)
        )
    };
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut last_unit_rank = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let (rank, seconds) = match c.to_ascii_lowercase() {
            'd' => (1, 86_400),
            'h' => (2, 3600),
            'm' => (3, 60),
            's' => (4, 1),
            _ => return Err(bad()),
        };
        if number.is_empty() || rank <= last_unit_rank {
            return Err(bad());
        }
        last_unit_rank = rank;
        let n: u64 = number.parse().map_err(|_| too_large(value))?;
        total = n
            .checked_mul(seconds)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| too_large(value))?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(format!(
            "{} has no unit; write e.g. {number}s or {number}m",
            quote(value)
        ));
    }
    Ok(Duration::from_secs(total))
}

fn too_large(value: &str) -> String {
    format!("{} is too large", quote(value))
}

/// A duration within `[min, max]`.
pub(crate) fn bounded_duration(
    value: &str,
    min: Duration,
    max: Duration,
) -> Result<Duration, String> {
    let d = duration(value)?;
    if d < min || d > max {
        return Err(format!(
            "{} is out of range; use a value from {} to {}",
            quote(value),
            format_duration(min),
            format_duration(max)
        ));
    }
    Ok(d)
}

/// `1h30m`, `90s` style (the inverse of [`duration`]).
pub(crate) fn format_duration(d: Duration) -> String {
    let total = d.as_secs();
    if total == 0 {
        return "0s".into();
    }
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// One of a fixed set of words (any case).
pub(crate) fn choice<'a>(value: &str, choices: &[&'a str]) -> Result<&'a str, String> {
    let v = value.trim().to_ascii_lowercase();
    choices
        .iter()
        .copied()
        .find(|c| *c == v)
        .ok_or_else(|| format!("{} is not accepted; use {}", quote(value), or_list(choices)))
}

/// A positive issue or pull request number (`42` or `#42`).
pub(crate) fn issue_number(value: &str) -> Result<u64, String> {
    let v = value.trim();
    let digits = v.strip_prefix('#').unwrap_or(v);
    match digits.parse::<u64>() {
        Ok(n) if n >= 1 && n <= u32::MAX as u64 => Ok(n),
        _ => Err(format!(
            "{} is not an issue or pull request number; use a positive whole number such as 42",
            quote(value)
        )),
    }
}

/// An absolute http(s) URL without query or fragment; trailing `/` removed.
pub(crate) fn http_url(value: &str, max_len: usize) -> Result<url::Url, String> {
    let v = value.trim();
    if v.len() > max_len {
        return Err(format!("is longer than {max_len} characters"));
    }
    let url = url::Url::parse(v).map_err(|_| {
        format!(
            "{} is not an absolute URL; use e.g. https://host/path",
            quote(value)
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{} must be an http or https URL", quote(value)));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials; pass secrets through their own inputs".into());
    }
    Ok(url)
}

/// Whether `name` is a valid git branch name (`git check-ref-format --branch`).
pub(crate) fn branch_name(value: &str) -> Result<String, String> {
    let v = value.trim();
    let bad = |why: &str| format!("{} is not a valid branch name: {why}", quote(value));
    if v.is_empty() {
        return Err(bad("it is empty"));
    }
    if v.len() > 200 {
        return Err(bad("it is longer than 200 characters"));
    }
    if v.starts_with('-') || v.starts_with('/') || v.ends_with('/') || v.ends_with('.') {
        return Err(bad("it cannot start with - or /, nor end with / or ."));
    }
    if v.contains("..") || v.contains("//") || v.contains("@{") || v == "@" {
        return Err(bad("it cannot contain .., // or @{"));
    }
    if v.split('/')
        .any(|part| part.starts_with('.') || part.ends_with(".lock"))
    {
        return Err(bad("no part may start with . or end with .lock"));
    }
    if v.chars()
        .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
    {
        return Err(bad("it cannot contain spaces or any of ~ ^ : ? * [ \\"));
    }
    Ok(v.to_string())
}

/// A git ref for `source.ref`: branch, tag or commit. `refs/heads/` and
/// `refs/tags/` prefixes are removed (Cursor wants the short name).
pub(crate) fn git_ref(value: &str) -> Result<String, String> {
    let v = value.trim();
    let short = v
        .strip_prefix("refs/heads/")
        .or_else(|| v.strip_prefix("refs/tags/"))
        .unwrap_or(v);
    if short.starts_with("refs/pull/") {
        return Err(format!(
            "{} is a pull request merge ref; use the PR's head branch, or `pr-url`",
            quote(value)
        ));
    }
    branch_name(short).map_err(|_| format!("{} is not a branch, tag or commit name", quote(value)))
}

/// A GitHub login (user or bot) as GitHub allows it, `[bot]` suffix optional.
pub(crate) fn login(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.contains('*') {
        return Err(format!(
            "{} contains a wildcard; list each bot login explicitly",
            quote(value)
        ));
    }
    let base = v.strip_suffix("[bot]").unwrap_or(v);
    let ok = !base.is_empty()
        && base.len() <= 39
        && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !base.starts_with('-')
        && !base.ends_with('-')
        && !base.contains("--");
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!("{} is not a GitHub login", quote(value)))
    }
}

/// A value shown in an error message: quoted, one line, shortened.
pub(crate) fn quote(value: &str) -> String {
    let one_line: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let shown: String = one_line.chars().take(60).collect();
    if one_line.chars().count() > 60 {
        format!("\"{shown}…\"")
    } else {
        format!("\"{shown}\"")
    }
}

pub(crate) fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// `artifacts-url`: an http(s) URL on one line.
pub(crate) fn artifacts_url(value: &str) -> Result<String, String> {
    let v = value.trim();
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && !v.contains(['\n', '\r']) => {
            Ok(v.to_string())
        }
        _ => Err("is not an http(s) URL; use e.g. the run's artifacts page, `${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}#artifacts`".into()),
    }
}

/// `download-artifacts`: a relative directory that stays inside the
/// workspace, normalized (`./a//b/` → `a/b`). Links are checked when it is
/// created (`artifacts::prepare_dir`).
pub(crate) fn artifacts_dir(value: &str) -> Result<String, String> {
    let v = value.trim();
    let advice = "use a directory relative to the workspace, such as `cursor-artifacts`";
    if v.len() > 200 || v.contains(['\0', '\n', '\r']) {
        return Err(format!("must be one short path; {advice}"));
    }
    let unix = v.replace('\\', "/");
    let drive = unix.len() >= 2 && unix.as_bytes()[1] == b':';
    if unix.starts_with('/') || unix.starts_with('~') || drive {
        return Err(format!(
            "{} is absolute; {advice} (it must stay inside the workspace)",
            quote(v)
        ));
    }
    let parts: Vec<&str> = unix
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(format!(
            "{} leaves the workspace (`..`); {advice}",
            quote(v)
        ));
    }
    if parts.is_empty() {
        return Err(format!("{} is the workspace itself; {advice}", quote(v)));
    }
    Ok(parts.join("/"))
}

pub(crate) fn repo_spec(value: &str) -> Result<RepoSpec, String> {
    let v = value.trim().trim_end_matches('/');
    let v = v.strip_suffix(".git").unwrap_or(v);
    let bad = || {
        format!(
            "{} is not a repository; use owner/repo or https://github.com/owner/repo",
            quote(value)
        )
    };
    let valid_part = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    if v.contains("://") {
        let url = http_url(v, 2048).map_err(|_| bad())?;
        let parts: Vec<&str> = url.path().trim_matches('/').split('/').collect();
        match parts.as_slice() {
            [o, r] if valid_part(o) && valid_part(r) => Ok(RepoSpec::Url(format!(
                "{}://{}/{o}/{r}",
                url.scheme(),
                url.host_str().unwrap_or_default()
            ))),
            _ => Err(bad()),
        }
    } else {
        match v.split('/').collect::<Vec<_>>().as_slice() {
            [o, r] if valid_part(o) && valid_part(r) => Ok(RepoSpec::Shorthand {
                owner: o.to_string(),
                name: r.to_string(),
            }),
            [host, o, r] if host.contains('.') && valid_part(o) && valid_part(r) => {
                Ok(RepoSpec::Url(format!("https://{host}/{o}/{r}")))
            }
            _ => Err(bad()),
        }
    }
}

pub(crate) fn pr_url(value: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "{} is not a pull request URL; use e.g. https://github.com/owner/repo/pull/123",
            quote(value)
        )
    };
    let url = http_url(value, 2048).map_err(|_| bad())?;
    let parts: Vec<&str> = url.path().trim_matches('/').split('/').collect();
    match parts.as_slice() {
        [_, _, "pull", n] if n.parse::<u64>().is_ok_and(|n| n > 0) => Ok(format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.path().trim_end_matches('/')
        )),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn booleans_are_read_as_actions_core_reads_them() {
        for (v, want) in [
            ("true", true),
            ("True", true),
            ("TRUE", true),
            ("false", false),
            ("False", false),
            ("FALSE", false),
            (" false\n", false),
        ] {
            assert_eq!(boolean(v), Ok(want), "{v:?}");
        }
        for v in ["tRuE", "fALSE", "tRUE", "FaLsE", "yes", "1", "on", ""] {
            let e = boolean(v).unwrap_err();
            assert!(
                e.contains("use true or false")
                    && e.contains("true, True, TRUE, false, False or FALSE"),
                "{v:?}: {e}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("1H2M3S"), Ok(Duration::from_secs(3723)));
        assert!(duration("600").unwrap_err().contains("has no unit"));
        assert!(duration("10m1h").is_err());
        assert!(duration("1h1h").is_err());
        assert!(duration("5x").unwrap_err().contains("e.g. 90s"));
        assert!(duration("").is_err());
        assert!(duration("m").is_err());
        assert!(duration("-5s").is_err());
        assert!(
            duration("99999999999999999999h")
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            duration("9999999999999999h")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn bounded() {
        let r = bounded_duration("2h", Duration::from_secs(1), Duration::from_secs(3600));
        assert_eq!(
            r.unwrap_err(),
            "\"2h\" is out of range; use a value from 1s to 1h"
        );
    }

    #[test]
    fn choices_and_numbers() {
        assert_eq!(choice("STOP", &["fail", "stop"]), Ok("stop"));
        assert_eq!(
            choice("x", &["fail", "stop", "continue"]).unwrap_err(),
            "\"x\" is not accepted; use fail, stop or continue"
        );
        assert_eq!(issue_number("#42"), Ok(42));
        assert!(issue_number("0").is_err());
        assert!(issue_number("4.2").is_err());
    }

    #[test]
    fn urls() {
        assert!(http_url("https://api.cursor.com", 100).is_ok());
        assert!(http_url("ftp://x", 100).is_err());
        assert!(http_url("api.cursor.com", 100).is_err());
        assert!(
            http_url("https://u:p@x", 100)
                .unwrap_err()
                .contains("credentials")
        );
    }

    #[test]
    fn branches_and_refs() {
        assert!(branch_name("cursor/fix-42").is_ok());
        for bad in [
            "a b", "a..b", "-x", "x/", "x.lock", "a~1", "a:b", ".x", "a//b",
        ] {
            assert!(branch_name(bad).is_err(), "{bad}");
        }
        assert_eq!(git_ref("refs/heads/main"), Ok("main".into()));
        assert_eq!(git_ref("v1.2.3"), Ok("v1.2.3".into()));
        assert!(git_ref("refs/pull/1/merge").unwrap_err().contains("pr-url"));
    }

    #[test]
    fn logins() {
        assert_eq!(login("dependabot[bot]"), Ok("dependabot[bot]".into()));
        assert!(login("*").unwrap_err().contains("wildcard"));
        assert!(login("bad login").is_err());
    }

    #[test]
    fn repo_specs() {
        assert_eq!(
            repo_spec("octo/hello"),
            Ok(RepoSpec::Shorthand {
                owner: "octo".into(),
                name: "hello".into()
            })
        );
        assert_eq!(
            repo_spec("https://github.com/octo/hello.git/"),
            Ok(RepoSpec::Url("https://github.com/octo/hello".into()))
        );
        assert_eq!(
            repo_spec("github.com/octo/hello"),
            Ok(RepoSpec::Url("https://github.com/octo/hello".into()))
        );
        assert!(repo_spec("octo").is_err());
        assert!(repo_spec("https://github.com/octo").is_err());
        assert!(repo_spec("a/b/c/d").is_err());
    }

    #[test]
    fn pr_urls() {
        assert_eq!(
            pr_url("https://github.com/o/r/pull/12/").as_deref(),
            Ok("https://github.com/o/r/pull/12")
        );
        assert!(pr_url("https://github.com/o/r/issues/12").is_err());
        assert!(pr_url("https://github.com/o/r/pull/0").is_err());
    }

    proptest! {
        #[test]
        fn durations_round_trip(secs in 1u64..10_000_000) {
            let d = Duration::from_secs(secs);
            prop_assert_eq!(duration(&format_duration(d)), Ok(d));
        }

        #[test]
        fn duration_parser_never_panics(s in "\\PC*") {
            let _ = duration(&s);
        }
    }
}
