//! Untrusted text (agent summaries, API messages) made safe for a GitHub
//! comment or step summary: no raw HTML, no @mentions that ping, code kept as
//! written, and nothing that can break out of our own layout.

/// How a line-level scan sees the text: inside a fenced code block or not.
#[derive(Clone, Copy)]
struct Fence {
    ch: char,
    len: usize,
}

/// A fence line: up to 3 spaces, then 3+ backticks or tildes.
fn fence_of(line: &str) -> Option<Fence> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let t = &line[indent..];
    let ch = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = t.chars().take_while(|c| *c == ch).count();
    if len < 3 {
        return None;
    }
    // A backtick fence's info string cannot contain backticks.
    if ch == '`' && t[len..].contains('`') {
        return None;
    }
    Some(Fence { ch, len })
}

fn closes(open: Fence, line: &str) -> bool {
    fence_of(line).is_some_and(|f| {
        f.ch == open.ch && f.len >= open.len && {
            let t = line.trim();
            t.chars().all(|c| c == open.ch)
        }
    })
}

/// Escapes HTML, entities and mentions in text that is not code.
fn escape_prose(text: &str, out: &mut String) {
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Entities such as `&#64;` would render as `@` and ping.
            '&' => out.push_str("&amp;"),
            '@' if !prev
                .is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '.' || p == '-')
                && chars.peek().is_some_and(|n| n.is_ascii_alphanumeric()) =>
            {
                // What Dependabot does: a zero-width space stops the mention.
                out.push_str("@&#8203;");
            }
            _ => out.push(c),
        }
        prev = Some(c);
    }
}

/// One line outside fenced blocks: inline code spans kept, the rest escaped.
fn escape_line(line: &str, out: &mut String) {
    let bytes: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut prose = String::new();
    while i < bytes.len() {
        let c = bytes[i];
        if c == '\\' && i + 1 < bytes.len() {
            // A backslash escape is literal: never a code span delimiter.
            prose.push(c);
            prose.push(bytes[i + 1]);
            i += 2;
            continue;
        }
        if c == '`' {
            let run = bytes[i..].iter().take_while(|c| **c == '`').count();
            // Find a closing run of exactly the same length.
            let mut j = i + run;
            let mut close = None;
            while j < bytes.len() {
                if bytes[j] == '`' {
                    let r = bytes[j..].iter().take_while(|c| **c == '`').count();
                    if r == run {
                        close = Some(j);
                        break;
                    }
                    j += r;
                } else {
                    j += 1;
                }
            }
            if let Some(end) = close {
                escape_prose(&prose, out);
                prose.clear();
                out.extend(&bytes[i..end + run]);
                i = end + run;
                continue;
            }
            prose.extend(&bytes[i..i + run]);
            i += run;
            continue;
        }
        prose.push(c);
        i += 1;
    }
    escape_prose(&prose, out);
}

/// Makes untrusted Markdown safe to embed: HTML and mentions neutralized
/// outside code, and an unclosed code fence closed so it cannot swallow what
/// follows.
pub fn sanitize(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len() + 16);
    let mut open: Option<Fence> = None;
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        match open {
            Some(f) => {
                out.push_str(line);
                if closes(f, line) {
                    open = None;
                }
            }
            None => {
                if let Some(f) = fence_of(line) {
                    open = Some(f);
                    // The info string is prose-like but shown as a label only.
                    out.push_str(line);
                } else {
                    escape_line(line, &mut out);
                }
            }
        }
    }
    if let Some(f) = open {
        out.push('\n');
        out.extend(std::iter::repeat_n(f.ch, f.len));
    }
    out
}

/// Untrusted one-liner (an error message) for Markdown.
pub fn sanitize_inline(text: &str) -> String {
    let mut out = String::new();
    escape_prose(&crate::cursor::one_line(text, 500), &mut out);
    out.replace('`', "'")
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
            "&lt;img src=x onerror=y&gt;"
        );
        assert_eq!(
            sanitize("<!-- cursor-agent-action {} -->"),
            "&lt;!-- cursor-agent-action {} --&gt;"
        );
        assert_eq!(sanitize("use `Vec<u8>` here"), "use `Vec<u8>` here");
        assert_eq!(
            sanitize("```rust\nlet x: Vec<u8>;\n```\n<b>"),
            "```rust\nlet x: Vec<u8>;\n```\n&lt;b&gt;"
        );
        assert_eq!(sanitize("\\`<i>`"), "\\`&lt;i&gt;`");
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

    /// What GitHub would treat as raw HTML or a mention outside code.
    fn unsafe_outside_code(out: &str) -> bool {
        let mut open: Option<Fence> = None;
        for line in out.split('\n') {
            if let Some(f) = open {
                if closes(f, line) {
                    open = None;
                }
                continue;
            }
            if let Some(f) = fence_of(line) {
                open = Some(f);
                continue;
            }
            // Drop inline code spans, then look for '<' and live mentions.
            let mut stripped = String::new();
            escape_line_strip_code(line, &mut stripped);
            if stripped.contains('<') {
                return true;
            }
            let entity_ok = ["&amp;", "&lt;", "&gt;", "&#8203;"];
            for (i, _) in stripped.match_indices('&') {
                if !entity_ok.iter().any(|e| stripped[i..].starts_with(e)) {
                    return true;
                }
            }
            let b: Vec<char> = stripped.chars().collect();
            for i in 0..b.len() {
                if b[i] == '@'
                    && b.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric())
                    && !(i > 0 && (b[i - 1].is_alphanumeric() || "_.-".contains(b[i - 1])))
                {
                    return true;
                }
            }
        }
        open.is_some()
    }

    fn escape_line_strip_code(line: &str, out: &mut String) {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '\\' && i + 1 < chars.len() {
                out.push(chars[i]);
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            if chars[i] == '`' {
                let run = chars[i..].iter().take_while(|c| **c == '`').count();
                let mut j = i + run;
                let mut close = None;
                while j < chars.len() {
                    if chars[j] == '`' {
                        let r = chars[j..].iter().take_while(|c| **c == '`').count();
                        if r == run {
                            close = Some(j);
                            break;
                        }
                        j += r;
                    } else {
                        j += 1;
                    }
                }
                match close {
                    // A code span separates the text around it.
                    Some(end) => {
                        out.push(' ');
                        i = end + run;
                    }
                    // An unmatched backtick run is literal text.
                    None => {
                        out.extend(&chars[i..i + run]);
                        i += run;
                    }
                }
                continue;
            }
            out.push(chars[i]);
            i += 1;
        }
    }

    proptest! {
        #[test]
        fn sanitized_text_has_no_html_or_mentions_outside_code(s in "(\\PC|\n|<|>|@|&|#|`|~|\\\\)*") {
            let out = sanitize(&s);
            prop_assert!(!unsafe_outside_code(&out), "{:?} -> {:?}", s, out);
        }
    }
}
