//! Untrusted text (agent summaries, API messages) made safe for a GitHub
//! comment or step summary: no raw HTML, no @mentions that ping, code kept as
//! written, and nothing that can break out of our own layout.

mod code;
mod escape;
mod links;

pub use links::{agent_link, host_of, is_linkable, pr_link};

use code::{fence_of, unclosed_fence};
use escape::{BREAK, ends_with_www, escape_pass};
use kit::secret::Redactor;
use pulldown_cmark::{Event, Options, Parser};
use std::cell::Cell;

thread_local! {
    static WORK: Cell<u64> = const { Cell::new(0) };
}

/// Adds `steps` to this thread's work count (see [`work_done`]).
fn count(steps: usize) {
    WORK.with(|w| w.set(w.get().saturating_add(steps as u64)));
}

/// The sanitizing work done on this thread so far, as a deterministic count
/// of steps: bytes handed to the Markdown parser, characters escaped, code
/// regions passed and bytes looked back at. Linear in the input by design;
/// the property tests bound it (wall-clock figures are the benchmark's).
pub fn work_done() -> u64 {
    WORK.with(Cell::get)
}

/// The Markdown GitHub renders: CommonMark with its table, strikethrough and
/// task-list extensions.
fn github_flavor() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// The raw HTML a CommonMark parser finds in `markdown` (as GitHub, with its
/// extensions, or plain), if any: the invariant every sanitizer here keeps
/// (a `<` inside a code span is text, not HTML).
pub fn raw_html_in(markdown: &str) -> Option<String> {
    [github_flavor(), Options::empty()]
        .into_iter()
        .find_map(|options| {
            Parser::new_ext(markdown, options).find_map(|event| match event {
                Event::Html(h) | Event::InlineHtml(h) => Some(h.into_string()),
                _ => None,
            })
        })
}

/// Our marker's opening, which only our first line may hold.
const MARKER_OPENING: &str = "<!-- cursor-agent-action";

/// Escapes until stable (see [`sanitize`]); code is kept as written, except
/// that a copy of our marker's opening gets a second space (invisible in
/// code, and no longer our marker).
fn escape_stable(text: &str, no_links: bool) -> String {
    let mut current = text.to_string();
    let mut stable = false;
    for _ in 0..16 {
        let next = escape_pass(&current, true, no_links);
        if next == current {
            stable = true;
            break;
        }
        current = next;
    }
    if !stable {
        current = escape_pass(&current, false, no_links);
    }
    current.replace(MARKER_OPENING, "<!--  cursor-agent-action")
}

/// Makes untrusted Markdown safe to embed: no raw HTML, mentions or
/// cross-repository references outside code, no invisible or control
/// characters, code as written, an unclosed fence closed. Escaping text can
/// change how the rest parses (a code span may pair differently), so passes
/// repeat until the output is stable; each pass only removes dangerous
/// characters, so it ends, and if it did not, everything would be escaped.
pub fn sanitize(text: &str) -> String {
    let text = kit::text::strip_controls(&text.replace("\r\n", "\n").replace('\r', "\n"));
    let mut current = escape_stable(&text, false);
    if let Some(fence) = unclosed_fence(&current) {
        current.push('\n');
        current.push_str(&fence);
    }
    current
}

/// Untrusted one-liner (an error message, or our own text around one) for
/// Markdown: one line, escaped as [`sanitize`] does, its code spans (ours
/// included) kept, and no link (`[` escaped, bare URLs broken). A line
/// that would open a fence starts escaped.
pub fn sanitize_inline(redactor: &Redactor, text: &str) -> String {
    let line = cursor_api::one_line(redactor, text, 500);
    let line = if fence_of(&line).is_some() {
        format!("\\{line}")
    } else {
        line
    };
    escape_stable(&line, true)
}

/// An API string (a branch name, a status, an id) as inline text that is
/// only text: one line, every ASCII punctuation backslash-escaped (no
/// emphasis, link, table cell or code span can start), `<` and `&` as
/// entities, and mentions, references and URLs broken as in [`sanitize`].
pub fn text_inline(redactor: &Redactor, text: &str) -> String {
    let line = cursor_api::one_line(redactor, text, 300);
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        match c {
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '@' => {
                out.push('@');
                out.push_str(BREAK);
            }
            '#' | ':' if next.is_some_and(|n| n.is_ascii_digit() || n == '/') => {
                out.push('\\');
                out.push(c);
                out.push_str(BREAK);
            }
            '.' if ends_with_www(&out) => {
                out.push_str(BREAK);
                out.push_str("\\.");
            }
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// An API string shown as code: a plain code span when nothing in it needs
/// care, else `<code>` around [`text_inline`] (a backtick, `<`, `|` or `\\`
/// could end the span, break a table or pose as our marker).
pub fn code_inline(redactor: &Redactor, text: &str) -> String {
    let line = cursor_api::one_line(redactor, text, 300);
    if !line.is_empty() && !line.contains(['`', '<', '|', '\\', '&']) {
        format!("`{line}`")
    } else {
        format!("<code>{}</code>", text_inline(redactor, &line))
    }
}

/// Sanitizes and shortens `text` so the result has at most `max_bytes`
/// bytes; returns the text and whether it was cut. The text is first
/// cleaned, redacted and cut to `max_bytes` ([`Redactor::clean_cut`]:
/// escaping only grows it), so the work is bounded by the budget, not by
/// the text, and a secret split by an invisible character is redacted whole.
pub fn sanitize_within(redactor: &Redactor, text: &str, max_bytes: usize) -> (String, bool) {
    let (bounded, window_cut) = redactor.clean_cut(text, max_bytes);
    if !window_cut {
        let full = sanitize(&bounded);
        if full.len() <= max_bytes {
            return (full, false);
        }
    }
    // The longest prefix (to within 1/64 of the budget: each try costs a
    // sanitize) whose sanitized form and the ellipsis fit.
    let fits = |end: usize| {
        let out = sanitize(&bounded[..end]);
        (out.len() + '…'.len_utf8() <= max_bytes).then_some(out)
    };
    let boundary = |mut i: usize| {
        while !bounded.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let tolerance = (max_bytes / 64).max(16);
    let (mut lo, mut hi) = (0usize, bounded.len());
    let mut best = String::new();
    if let Some(out) = fits(hi) {
        best = out;
        lo = hi;
    }
    while hi - lo > tolerance {
        let mid = boundary(lo + (hi - lo) / 2);
        if mid <= lo {
            break;
        }
        match fits(mid) {
            Some(out) => {
                best = out;
                lo = mid;
            }
            None => hi = mid,
        }
    }
    (format!("{best}…"), true)
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
    use pulldown_cmark::Tag;

    #[test]
    fn an_api_message_with_code_and_angle_brackets_has_no_raw_html() {
        // Found by the error_body fuzz target: a `<` is kept inside a code
        // span (text there), and one outside is escaped.
        let md = sanitize_inline(&Redactor::new(), "`_<`_\u{fffd}_<");
        assert_eq!(raw_html_in(&md), None, "{md:?}");
        assert_eq!(raw_html_in("a <b>bold</b>"), Some("<b>".into()));
        assert_eq!(raw_html_in("`<b>`"), None);
    }

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

    /// Found by review: cleaning after the cut let a secret split by an
    /// invisible character leave its prefix in the comment and one-liners.
    #[test]
    fn a_secret_split_by_an_invisible_character_leaves_no_prefix_when_cut() {
        let key = "crsr_split_0123456789abcdef0123456789";
        let redactor = Redactor::default().with(key);
        let (head, tail) = key.split_at(15);
        for budget in 100..100 + key.len() + 8 {
            let text = format!("{}{head}\u{200B}{tail} tail", "x".repeat(100));
            let (out, _) = sanitize_within(&redactor, &text, budget);
            assert!(!out.contains("crsr_split_"), "budget {budget}: {out}");
        }
        for max in 20..70 {
            let padded = format!("{}{head}\u{200B}{tail}", "\u{200B}".repeat(max * 4 / 3));
            for line in [
                cursor_api::one_line(&redactor, &padded, max),
                sanitize_inline(&redactor, &padded),
                text_inline(&redactor, &padded),
                code_inline(&redactor, &padded),
            ] {
                assert!(!line.contains("crsr_split"), "max {max}: {line}");
            }
        }
    }

    #[test]
    fn strips_invisible_and_terminal_controls() {
        assert_eq!(
            kit::text::strip_controls(
                "a\u{202E}b\u{200B}c\u{0}d\u{1b}[31;1me\u{1b}[0m\u{1b}]0;title\u{7}f\u{9b}2Jg\tok\n"
            ),
            "abcdefg\tok\n"
        );
        assert_eq!(
            kit::text::strip_controls("x\u{1b}]8;;https://e\u{1b}\\y"),
            "xy"
        );
        assert_eq!(sanitize("\u{2066}hi\u{2069}\u{7f}"), "hi");
    }

    #[test]
    fn cross_repository_references_and_github_urls_are_not_linked() {
        assert_eq!(sanitize("see octo/hello#12"), "see octo/hello#&#8203;12");
        assert_eq!(sanitize("fixes #12 and a#1"), "fixes #12 and a#1");
        assert_eq!(
            sanitize("https://github.com/o/r/issues/3"),
            "https:&#8203;//github.com/o/r/issues/3"
        );
        assert_eq!(sanitize("https://example.com/x"), "https://example.com/x");
        assert_eq!(
            sanitize("é:ü: ÿhttps://github.com/"),
            "é:ü: ÿhttps:&#8203;//github.com/"
        );
        assert_eq!(sanitize("`octo/hello#12`"), "`octo/hello#12`");
        // Idempotent.
        let once = sanitize("octo/hello#12 https://github.com/o/r/pull/1 @x");
        assert_eq!(sanitize(&once), once);
    }

    #[test]
    fn our_backticks_stay_and_a_marker_in_code_is_not_ours() {
        assert_eq!(
            sanitize_inline(&Redactor::new(), "set `wait: true` (was <b>)"),
            "set `wait: true` (was &lt;b>)"
        );
        assert_eq!(
            sanitize_inline(&Redactor::new(), "```rust evil"),
            "\\```rust evil"
        );
        assert_eq!(
            sanitize_inline(
                &Redactor::new(),
                "[x](https://e.example) www.e.example `[k](v)`"
            ),
            "\\[x](https:&#8203;//e.example) www&#8203;.e.example `[k](v)`"
        );
        assert_eq!(
            sanitize_inline(
                &Redactor::new(),
                "see https://cursor.com/dashboard/api, not https://cursor.com.evil.example/"
            ),
            "see https://cursor.com/dashboard/api, not https:&#8203;//cursor.com.evil.example/"
        );
        let once = sanitize_inline(&Redactor::new(), "\\[a] [b] http://x");
        assert_eq!(sanitize_inline(&Redactor::new(), &once), once);
        let out = sanitize("`<!-- cursor-agent-action {} -->`");
        assert!(!out.contains(MARKER_OPENING), "{out}");
    }

    #[test]
    fn api_strings_are_only_text() {
        assert_eq!(
            code_inline(&Redactor::new(), "cursor/issue-1"),
            "`cursor/issue-1`"
        );
        assert_eq!(
            code_inline(&Redactor::new(), "a`b|<!--c"),
            "<code>a\\`b\\|&lt;\\!\\-\\-c</code>"
        );
        assert_eq!(
            text_inline(&Redactor::new(), "[x](https://e) @y o/r#1"),
            "\\[x\\]\\(https\\:&#8203;\\/\\/e\\) @&#8203;y o\\/r\\#&#8203;1"
        );
        assert!(!text_inline(&Redactor::new(), "www.evil.com").contains("www."));
    }

    #[test]
    fn only_cursor_links_are_links() {
        let ok = "https://cursor.com/agents?id=bc-1";
        assert_eq!(
            agent_link(&Redactor::new(), "Open", ok),
            format!("[Open]({ok})")
        );
        for bad in [
            "https://evil.example/agents",
            "http://cursor.com/agents",
            "https://cursor.com.evil.example/x",
            "https://cursor.com/a) [x](https://evil",
            "https://cursor.com/a b",
        ] {
            let out = agent_link(&Redactor::new(), "Open", bad);
            assert!(!out.starts_with("[Open]("), "{bad}: {out}");
            assert!(out.contains("not linked"), "{out}");
        }
        assert_eq!(
            pr_link(
                &Redactor::new(),
                "https://github.com/o/r/pull/9",
                "github.com"
            ),
            "https://github.com/o/r/pull/9"
        );
        assert!(
            pr_link(
                &Redactor::new(),
                "https://evil.example/o/r/pull/1",
                "github.com"
            )
            .starts_with('`')
        );
        assert!(
            pr_link(
                &Redactor::new(),
                "https://github.com/o/r/pull/9) [x](y",
                "github.com"
            )
            .starts_with('`')
        );
    }

    #[test]
    fn closes_unclosed_fences() {
        assert_eq!(sanitize("````\ncode"), "````\ncode\n````");
        assert_eq!(sanitize("~~~\n<x>"), "~~~\n<x>\n~~~");
    }

    #[test]
    fn cuts_within_budget() {
        let text = "<".repeat(1000);
        let (out, cut) = sanitize_within(&Redactor::new(), &text, 100);
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

    /// The work (see [`work_done`]) `f` does on this thread.
    fn work_of(f: impl FnOnce()) -> u64 {
        let before = work_done();
        f();
        work_done() - before
    }

    /// Pieces of hostile summaries: code spans (the quadratic case of #23),
    /// mentions, HTML, references, entities, fences, emphasis.
    fn hostile_unit() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                "`x` ",
                "``a`b`` ",
                "@octocat ",
                "<img src=x> ",
                "<!-- c -->",
                "o/r#1 ",
                "https://github.com/o/r ",
                "&amp; ",
                "\\`",
                "\n",
                "\n```\n",
                "*a* ",
                "[l](u) ",
                "é",
                "`",
                "<",
                "@",
                "#",
            ]),
            1..12,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Sanitizing is linear: each byte costs a bounded number of steps
        /// (a deterministic count, not time) at every size, where a
        /// quadratic scan's steps per byte grow with the text. (Not a ratio
        /// of n to 2n: escaping repeats until stable, at most 17 passes, and
        /// the number of passes may differ between two sizes.)
        #[test]
        fn sanitizing_work_is_linear_in_the_input(unit in hostile_unit(), n in 200usize..400) {
            for text in [unit.repeat(n), unit.repeat(4 * n)] {
                let work = work_of(|| { sanitize(&text); });
                prop_assert!(work <= 400 * text.len() as u64 + 1_000, "{} for {} bytes of {:?}", work, text.len(), unit);
            }
        }

        /// Cutting to a budget reads the budget, not the text: the work and
        /// the output are bounded by the budget whatever the text's size.
        #[test]
        fn sanitize_within_work_and_size_are_bounded_by_the_budget(unit in hostile_unit(), budget in 500usize..4_000) {
            let small = unit.repeat(budget / unit.len() * 4 + 1);
            let huge = unit.repeat(budget / unit.len() * 64 + 1);
            let mut outs = Vec::new();
            let works: Vec<u64> = [&small, &huge]
                .iter()
                .map(|t| work_of(|| outs.push(sanitize_within(&Redactor::new(), t, budget))))
                .collect();
            for (out, cut) in &outs {
                prop_assert!(out.len() <= budget, "{} > {}", out.len(), budget);
                prop_assert!(*cut);
            }
            prop_assert!(works[1] <= works[0] * 3 / 2 + 1_000, "{:?}", works);
            // A bounded number of sanitizes of at most the budget.
            prop_assert!(works[1] <= 400 * 12 * budget as u64, "{:?}", works);
        }
    }

    proptest! {
        #[test]
        fn escaping_never_panics_and_leaves_no_invisible_characters(s in "(\\PC|:|/|#|@|\\[|https://github.com/|é|ÿ|\u{1b}|\u{202E}|\u{200B}|\u{0}|`|\n)*") {
            for out in [sanitize(&s), sanitize_inline(&Redactor::new(), &s), text_inline(&Redactor::new(), &s), code_inline(&Redactor::new(), &s)] {
                prop_assert!(
                    !out.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || kit::text::is_invisible(c)),
                    "{:?} -> {:?}", s, out
                );
            }
            let once = sanitize_inline(&Redactor::new(), &s);
            prop_assert_eq!(sanitize_inline(&Redactor::new(), &once), once.clone());
        }

        #[test]
        fn sanitized_text_has_no_html_or_mentions_outside_code(s in "(\\PC|\n|<|>|@|&|#|`|~|\\\\|- | {1,4}|> |\\* |1\\. )*") {
            let out = sanitize(&s);
            prop_assert_eq!(unsafe_markdown(&out), None, "{:?} -> {:?}", s, out);
        }
    }
}
