//! The pictures of the comment in docs/images/: which comments of
//! `cargo run -- demo` they show, their HTML as GitHub renders a comment, and
//! the fingerprint kept beside each picture. Shared by the test that checks
//! the pictures (tests/integration/docs.rs) and by the renderer
//! (scripts/render-comment.rs, run by scripts/render-comment), so both see
//! the same HTML.

use sha2::{Digest, Sha256};

/// The pictures: (file stem in docs/images/, the demo section it shows).
pub const PICTURES: [(&str, &str); 2] = [
    (
        "comment-working",
        "A working comment, in full (the first with the most activity)",
    ),
    ("comment-final", "The comment on issue #1"),
];

/// The command that regenerates the pictures and their fingerprints.
pub const REGENERATE: &str = "scripts/render-comment";

/// The text under the demo's heading `━━ title ━━`, up to the next heading.
pub fn section(stdout: &str, title: &str) -> Option<String> {
    let start = stdout.find(&format!("━━ {title} ━━\n"))?;
    let body = &stdout[start..];
    let body = &body[body.find('\n')? + 1..];
    let body = match body.find("\n━━ ") {
        Some(end) => &body[..end],
        None => body,
    };
    Some(body.trim_end().to_string() + "\n")
}

/// A comment's Markdown as GitHub renders it in an issue comment: GitHub
/// Flavored Markdown (tables, autolinks, task lists, strikethrough,
/// alerts), a line break for every newline, and the HTML GitHub allows.
pub fn to_html(markdown: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options.extension.alerts = true;
    options.extension.footnotes = true;
    options.render.hardbreaks = true;
    options.render.r#unsafe = true;
    options.render.github_pre_lang = true;
    comrak::markdown_to_html(markdown, &options)
}

/// The comment with what differs between two demo runs made equal: the
/// hidden marker (invisible on GitHub; it holds the run's random id), the
/// run id, the random suffix of the agent's branch, and durations (the demo
/// runs in scaled real time, so they vary by a second).
pub fn stable(markdown: &str) -> String {
    let rules = [
        (r"(?s)<!--.*?-->\n?", ""),
        (r"run-[0-9a-f]{8}-[0-9a-f-]{27}", "run-ID"),
        (r"(cursor/[a-z0-9-]+)-[0-9a-f]{4}\b", "$1-XXXX"),
        (r"\b(\d+h )?(\d+m )?\d+s\b", "DURATION"),
    ];
    let mut text = markdown.to_string();
    for (pattern, with) in rules {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, with)
            .into_owned();
    }
    text
}

/// The fingerprint kept beside a picture: the sha256 of the HTML of the
/// comment's stable form.
pub fn fingerprint(markdown: &str) -> String {
    let digest = Sha256::digest(to_html(&stable(markdown)).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
