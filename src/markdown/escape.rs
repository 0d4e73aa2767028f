//! One escaping pass over untrusted text: HTML, mentions, references and links
//! outside code, with the helpers that decide what is a link.

use super::code::{RegionWalk, code_regions};
use super::{count, github_flavor};
use pulldown_cmark::Options;

/// Whether `out` ends with `www` (any case) not preceded by a letter or
/// digit: a bare `www.` link would start at the next `.`.
pub(super) fn ends_with_www(out: &str) -> bool {
    let b = out.as_bytes();
    b.len() >= 3
        && b[b.len() - 3..].eq_ignore_ascii_case(b"www")
        && !out[..b.len() - 3]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
}

/// The entities our escaping writes: leaving them alone makes it idempotent.
pub(super) const OUR_ENTITIES: [&str; 4] = ["lt;", "gt;", "amp;", "#8203;"];

/// A zero-width space, written as an entity (the text itself never holds
/// one): GitHub decodes it after finding mentions and references, so the
/// `@name`, `owner/repo#1` or URL it splits is not linked.
pub(super) const BREAK: &str = "&#8203;";

/// Whether the `:` between `before` and `rest` is that of a
/// `https://cursor.com/` URL (Cursor's pages, which one-liners may link).
pub(super) fn is_cursor_url(before: &str, rest: &str) -> bool {
    let b = before.as_bytes();
    let n = b.len();
    n >= 5
        && b[n - 5..].eq_ignore_ascii_case(b"https")
        && (n == 5 || !b[n - 6].is_ascii_alphanumeric())
        && rest.starts_with("//cursor.com/")
}

/// Whether `before` ends with `owner/repo` (GitHub's cross-repository
/// reference, which a `#N` after it would complete).
pub(super) fn ends_with_repo(before: &str) -> bool {
    let name = |s: &str| {
        s.len()
            - s.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || "-_.".contains(c))
                .len()
    };
    let repo = name(before);
    count(repo);
    if repo == 0 {
        return false;
    }
    let Some(rest) = before[..before.len() - repo].strip_suffix('/') else {
        return false;
    };
    let owner = name(rest);
    count(owner);
    owner > 0
}

/// Whether `rest` (text after `:`) starts a `//github.com/` (or
/// `//www.github.com/`) URL: GitHub autolinks it and, for an issue or pull
/// request, adds a backlink there.
pub(super) fn starts_github_url(before: &str, rest: &str) -> bool {
    // Bytes: the text before may end in any character.
    let b = before.as_bytes();
    let ends = |s: &[u8]| b.len() >= s.len() && b[b.len() - s.len()..].eq_ignore_ascii_case(s);
    let r = rest.as_bytes();
    (ends(b"http") || ends(b"https"))
        && [&b"//github.com/"[..], b"//www.github.com/"]
            .iter()
            .any(|p| r.len() >= p.len() && r[..p.len()].eq_ignore_ascii_case(p))
}

/// Escapes one character of text that is not code: `<` (no HTML), `&`
/// (so `&#64;` cannot become `@`; our own entities pass), mentions (a
/// zero-width space after `@` stops GitHub from linking it, as Dependabot
/// does), and what would leave a backlink in another repository:
/// `owner/repo#N` and `https://github.com/...` URLs, which are shown as text.
/// Nothing structural is touched (`>`, `#`, `-`, backticks...): the Markdown
/// keeps its shape. `out` holds the text already escaped.
///
/// `no_links` (one-liners, which carry API messages and no link of ours)
/// also escapes `[` and breaks every bare URL (`scheme://`, `www.`).
pub(super) fn escape_char(
    c: char,
    prev: Option<char>,
    next: Option<char>,
    rest: &str,
    out: &mut String,
    no_links: bool,
) {
    let escaped = || {
        let run = out.len() - out.trim_end_matches('\\').len();
        count(run);
        run % 2 == 1
    };
    match c {
        '[' if no_links && !escaped() => out.push_str("\\["),
        ':' if no_links && rest.starts_with("//") && !is_cursor_url(out, rest) => {
            out.push(':');
            out.push_str(BREAK);
        }
        '.' if no_links && ends_with_www(out) => {
            out.push_str(BREAK);
            out.push('.');
        }
        '<' => out.push_str("&lt;"),
        '&' if OUR_ENTITIES.iter().any(|e| rest.starts_with(e)) => out.push('&'),
        '&' => out.push_str("&amp;"),
        '@' if !prev.is_some_and(|p| p.is_alphanumeric() || "_.-".contains(p))
            && next.is_some_and(|n| n.is_ascii_alphanumeric()) =>
        {
            out.push('@');
            out.push_str(BREAK);
        }
        '#' if next.is_some_and(|n| n.is_ascii_digit()) && ends_with_repo(out) => {
            out.push('#');
            out.push_str(BREAK);
        }
        ':' if starts_github_url(out, rest) => {
            out.push(':');
            out.push_str(BREAK);
        }
        _ => out.push(c),
    }
}

/// One pass: everything escaped but what both a GitHub-flavored and a plain
/// CommonMark parse see as code.
pub(super) fn escape_pass(text: &str, keep_code: bool, no_links: bool) -> String {
    let (gfm, plain) = if keep_code {
        (
            code_regions(text, github_flavor()),
            code_regions(text, Options::empty()),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let (mut gfm, mut plain) = (RegionWalk::new(gfm), RegionWalk::new(plain));
    let mut out = String::with_capacity(text.len() + 16);
    let mut prev = None;
    let mut chars = text.char_indices().peekable();
    let mut steps = 0usize;
    while let Some((i, c)) = chars.next() {
        steps += 1;
        let next = chars.peek().map(|(_, n)| *n);
        // Both walks advance at every offset (no short-circuit), so each
        // passes its regions once.
        let (in_gfm, in_plain) = (gfm.contains(i), plain.contains(i));
        if in_gfm && in_plain {
            out.push(c);
        } else {
            escape_char(c, prev, next, &text[i + c.len_utf8()..], &mut out, no_links);
        }
        prev = Some(c);
    }
    count(steps + gfm.steps + plain.steps);
    out
}
