//! Untrusted text (agent summaries, API messages) made safe for a GitHub
//! comment or step summary: no raw HTML, no @mentions that ping, code kept as
//! written, and nothing that can break out of our own layout.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
use std::ops::Range;

/// The Markdown GitHub renders: CommonMark with its table, strikethrough and
/// task-list extensions.
fn github_flavor() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// A fence line: up to 3 spaces, then 3+ backticks or tildes.
fn fence_of(line: &str) -> Option<(char, usize)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let t = &line[indent..];
    let ch = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = t.chars().take_while(|c| *c == ch).count();
    (len >= 3).then_some((ch, len))
}

/// Where a parser sees code (spans and blocks) in `text`.
fn code_regions(text: &str, options: Options) -> Vec<Range<usize>> {
    let mut regions: Vec<Range<usize>> = Parser::new_ext(text, options)
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Code(_) | Event::Start(Tag::CodeBlock(_)) => Some(range),
            _ => None,
        })
        .collect();
    regions.sort_by_key(|r| r.start);
    regions
}

fn inside(regions: &[Range<usize>], i: usize) -> bool {
    regions.iter().any(|r| r.contains(&i))
}

/// The entities our escaping writes: leaving them alone makes it idempotent.
const OUR_ENTITIES: [&str; 4] = ["lt;", "gt;", "amp;", "#8203;"];

/// Escapes one character of text that is not code: `<` (no HTML), `&`
/// (so `&#64;` cannot become `@`; our own entities pass), and mentions (a
/// zero-width space after `@` stops GitHub from linking it, as Dependabot
/// does). Nothing structural is touched (`>`, `#`, `-`, backticks...): the
/// Markdown keeps its shape.
fn escape_char(c: char, prev: Option<char>, next: Option<char>, rest: &str, out: &mut String) {
    match c {
        '<' => out.push_str("&lt;"),
        '&' if OUR_ENTITIES.iter().any(|e| rest.starts_with(e)) => out.push('&'),
        '&' => out.push_str("&amp;"),
        '@' if !prev.is_some_and(|p| p.is_alphanumeric() || "_.-".contains(p))
            && next.is_some_and(|n| n.is_ascii_alphanumeric()) =>
        {
            out.push_str("@&#8203;")
        }
        _ => out.push(c),
    }
}

/// One pass: everything escaped but what both a GitHub-flavored and a plain
/// CommonMark parse see as code.
fn escape_pass(text: &str, keep_code: bool) -> String {
    let (gfm, plain) = if keep_code {
        (
            code_regions(text, github_flavor()),
            code_regions(text, Options::empty()),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let mut out = String::with_capacity(text.len() + 16);
    let mut prev = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|(_, n)| *n);
        if inside(&gfm, i) && inside(&plain, i) {
            out.push(c);
        } else {
            escape_char(c, prev, next, &text[i + c.len_utf8()..], &mut out);
        }
        prev = Some(c);
    }
    out
}

/// The fence that closes a fenced code block left open at the end of `text`
/// (it would swallow whatever follows in our comment).
fn unclosed_fence(text: &str) -> Option<String> {
    let end = text.trim_end().len();
    for (event, range) in Parser::new_ext(text, github_flavor()).into_offset_iter() {
        let Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) = event else {
            continue;
        };
        if range.end < end {
            continue;
        }
        let block = text[range].trim_end();
        let (ch, len) = block.lines().next().and_then(fence_of)?;
        let last = block.lines().last().unwrap_or_default();
        let closed = block.lines().count() > 1
            && fence_of(last).is_some_and(|(c, l)| c == ch && l >= len)
            && last.trim().chars().all(|c| c == ch);
        if !closed {
            return Some(std::iter::repeat_n(ch, len).collect());
        }
    }
    None
}

/// Makes untrusted Markdown safe to embed: no raw HTML and no mentions
/// outside code, code as written, an unclosed fence closed. Escaping text can
/// change how the rest parses (a code span may pair differently), so passes
/// repeat until the output is stable; each pass only removes dangerous
/// characters, so it ends, and if it did not, everything would be escaped.
pub fn sanitize(text: &str) -> String {
    let mut current = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut stable = false;
    for _ in 0..16 {
        let next = escape_pass(&current, true);
        if next == current {
            stable = true;
            break;
        }
        current = next;
    }
    if !stable {
        current = escape_pass(&current, false);
    }
    if let Some(fence) = unclosed_fence(&current) {
        current.push('\n');
        current.push_str(&fence);
    }
    current
}

/// Untrusted one-liner (an error message) for Markdown.
pub fn sanitize_inline(text: &str) -> String {
    let line = crate::cursor::one_line(text, 500).replace('`', "'");
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    for (i, (at, c)) in line.char_indices().enumerate() {
        escape_char(
            c,
            i.checked_sub(1).map(|p| chars[p]),
            chars.get(i + 1).copied(),
            &line[at + c.len_utf8()..],
            &mut out,
        );
    }
    out
}

/// Sanitizes and shortens `text` so the result has at most `max_bytes`
/// bytes; returns the text and whether it was cut.
pub fn sanitize_within(text: &str, max_bytes: usize) -> (String, bool) {
    let full = sanitize(text);
    if full.len() <= max_bytes {
        return (full, false);
    }
    // Cut the raw text (escaping only grows it) until the result fits.
    let chars: Vec<char> = text.chars().collect();
    let (mut lo, mut hi) = (0usize, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let candidate: String = chars[..mid].iter().collect();
        if sanitize(&candidate).len() < max_bytes {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let cut: String = chars[..lo].iter().collect();
    (format!("{}…", sanitize(&cut)), true)
}

/// Wraps long text in a collapsed `<details>` block.
pub fn fold(title: &str, body: &str, fold_over_lines: usize, fold_over_bytes: usize) -> String {
    if body.lines().count() > fold_over_lines || body.len() > fold_over_bytes {
        format!("<details><summary>{title}</summary>\n\n{body}\n\n</details>")
    } else {
        body.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_html_outside_code_only() {
        assert_eq!(
            sanitize("<img src=x onerror=y>"),
            "&lt;img src=x onerror=y>"
        );
        assert_eq!(
            sanitize("<!-- cursor-agent-action {} -->"),
            "&lt;!-- cursor-agent-action {} -->"
        );
        assert_eq!(sanitize("use `Vec<u8>` here"), "use `Vec<u8>` here");
        assert_eq!(
            sanitize("```rust\nlet x: Vec<u8>;\n```\n<b>"),
            "```rust\nlet x: Vec<u8>;\n```\n&lt;b>"
        );
        assert_eq!(sanitize("\\`<i>`"), "\\`&lt;i>`");
        // Escaping is idempotent and leaves block quotes alone.
        assert_eq!(sanitize("> quote &lt; @&#8203;x"), "> quote &lt; @&#8203;x");
    }

    #[test]
    fn neutralizes_mentions_outside_code() {
        assert_eq!(
            sanitize("thanks @octocat and @org/team"),
            "thanks @&#8203;octocat and @&#8203;org/team"
        );
        assert_eq!(sanitize("mail me@example.com"), "mail me@example.com");
        assert_eq!(sanitize("`@octocat`"), "`@octocat`");
        assert_eq!(sanitize("(@x)"), "(@&#8203;x)");
    }

    #[test]
    fn code_is_where_a_commonmark_parser_sees_it() {
        // A code span across a line break: `@a` after it is text.
        assert_eq!(sanitize("`\n`@a`"), "`\n`@&#8203;a`");
        // A fence opened in a list item ends with the item: the HTML after it is not code.
        let out = sanitize("- item\n   ```\n<img src=x>");
        assert!(out.ends_with("&lt;img src=x>"), "{out}");
        // Indented code stays as written.
        assert_eq!(sanitize("para\n\n    <b>@x</b>"), "para\n\n    <b>@x</b>");
    }

    #[test]
    fn closes_unclosed_fences() {
        assert_eq!(sanitize("````\ncode"), "````\ncode\n````");
        assert_eq!(sanitize("~~~\n<x>"), "~~~\n<x>\n~~~");
    }

    #[test]
    fn cuts_within_budget() {
        let text = "<".repeat(1000);
        let (out, cut) = sanitize_within(&text, 100);
        assert!(cut);
        assert!(out.len() <= 100, "{}", out.len());
        assert!(out.starts_with("&lt;&lt;"));
        assert!(!out.trim_end_matches('…').ends_with('&'));
    }

    #[test]
    fn folds_long_text() {
        assert_eq!(fold("S", "short", 5, 100), "short");
        assert!(fold("S", &"x\n".repeat(10), 5, 100).starts_with("<details><summary>S</summary>"));
    }

    /// What a CommonMark parser (GitHub's Markdown is CommonMark plus
    /// extensions) sees as raw HTML, or as a live @mention, in `out`.
    fn unsafe_markdown(out: &str) -> Option<String> {
        unsafe_under(out, github_flavor()).or_else(|| unsafe_under(out, Options::empty()))
    }

    fn unsafe_under(out: &str, options: Options) -> Option<String> {
        let mut text = String::new();
        let check = |text: &str| -> Option<String> {
            let chars: Vec<char> = text.chars().collect();
            (0..chars.len())
                .find(|&i| {
                    chars[i] == '@'
                        && chars.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric())
                        && !(i > 0
                            && (chars[i - 1].is_alphanumeric() || "_.-".contains(chars[i - 1])))
                })
                .map(|_| format!("a mention in {text:?}"))
        };
        let mut in_code_block = false;
        for event in Parser::new_ext(out, options) {
            match event {
                Event::Html(h) | Event::InlineHtml(h) => return Some(format!("raw HTML {h:?}")),
                Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
                Event::End(pulldown_cmark::TagEnd::CodeBlock) => in_code_block = false,
                // Code is shown as written: no mention there is linked.
                Event::Text(_) if in_code_block => {}
                // Adjacent text pieces (entities split them) read as one.
                Event::Text(t) => text.push_str(&t),
                _ => {
                    if let Some(problem) = check(&text) {
                        return Some(problem);
                    }
                    text.clear();
                }
            }
        }
        check(&text)
    }

    proptest! {
        #[test]
        fn sanitized_text_has_no_html_or_mentions_outside_code(s in "(\\PC|\n|<|>|@|&|#|`|~|\\\\|- | {1,4}|> |\\* |1\\. )*") {
            let out = sanitize(&s);
            prop_assert_eq!(unsafe_markdown(&out), None, "{:?} -> {:?}", s, out);
        }
    }
}
