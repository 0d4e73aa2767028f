//! Links we write ourselves: the agent's and the pull request's, only when safe.

use super::code_inline;
use kit::secret::Redactor;

/// Whether `url` may be shown as a link: `https://`, the host `host` (or a
/// subdomain), and only characters that cannot end a Markdown link
/// destination or hide in it.
pub fn is_linkable(url: &str, host: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_ok = authority.eq_ignore_ascii_case(host)
        || authority
            .to_ascii_lowercase()
            .ends_with(&format!(".{}", host.to_ascii_lowercase()));
    host_ok
        && url.len() <= 2048
        && url
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~/?#[]!$&'*+,;=%:@".contains(c))
        && !url.contains("..")
}

/// The agent's page as a Markdown link labelled `label`, when it is on
/// `https://cursor.com/`; any other URL from the API is shown as code, not
/// linked (it could lead anywhere).
pub fn agent_link(redactor: &Redactor, label: &str, url: &str) -> String {
    if is_linkable(url, "cursor.com") {
        format!("[{label}]({url})")
    } else {
        format!(
            "{label}: {} (not a cursor.com address, so not linked)",
            code_inline(redactor, url)
        )
    }
}

/// The host of an `https://` URL we built (e.g. the workflow run's).
pub fn host_of(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?;
    rest.split(['/', '?', '#', ':'])
        .next()
        .filter(|h| !h.is_empty())
}

/// A pull request URL from the API: shown as the bare URL (GitHub links
/// it) when it has the shape `https://HOST/OWNER/REPO/pull/N` on the GitHub
/// server `host`; anything else as code.
pub fn pr_link(redactor: &Redactor, url: &str, host: &str) -> String {
    let shaped = url.strip_prefix("https://").is_some_and(|rest| {
        let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        let name = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        parts.len() == 5
            && parts[0].eq_ignore_ascii_case(host)
            && name(parts[1])
            && name(parts[2])
            && parts[3] == "pull"
            && !parts[4].is_empty()
            && parts[4].chars().all(|c| c.is_ascii_digit())
    });
    if shaped {
        url.trim_end_matches('/').to_string()
    } else {
        code_inline(redactor, url)
    }
}
