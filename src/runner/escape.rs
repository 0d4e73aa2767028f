//! Escaping for workflow commands, as `@actions/core` does it, plus the
//! neutralizing of untrusted lines that the runner would parse as commands.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Escapes a command's message (data) part.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value (`title=...`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Prefix given to an untrusted line that the runner would otherwise parse as
/// a workflow command. Visible on purpose: the reader sees it was defused.
pub const NEUTRALIZED_PREFIX: &str = "\u{bb} ";

/// Whether the runner would treat `line` as a workflow command: it trims
/// leading whitespace and accepts both `::cmd::` and the older `##[cmd]`.
pub fn is_command_like(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("::") || t.starts_with("##[") || t.starts_with("##vso[")
}

/// Makes one line safe to print on stdout.
pub fn neutralize_line(line: &str) -> Cow<'_, str> {
    if is_command_like(line) {
        Cow::Owned(format!("{NEUTRALIZED_PREFIX}{line}"))
    } else {
        Cow::Borrowed(line)
    }
}

/// Untrusted text made safe for a log line: line breaks the runner's way
/// (`\r\n` and a lone `\r`, which would rewrite the line on a terminal,
/// become `\n`), then terminal escape sequences (colours, cursor moves,
/// titles, hyperlinks), BEL and every other control character but tab and
/// line feed removed, with invisible and bidirectional characters. What is
/// left cannot move the cursor, hide text, or start a workflow command
/// unseen (see [`neutralize_line`], applied after it).
pub fn log_safe(text: &str) -> String {
    let lines: Vec<&str> = runner_lines(text);
    let mut out = kit::text::strip_controls(&lines.join("\n"));
    if text.ends_with(['\n', '\r']) {
        out.push('\n');
    }
    out
}

/// Splits text into lines the way the runner does (`\n`, `\r\n` and lone `\r`
/// all end a line) so that no fragment escapes neutralizing. Blank lines are
/// kept; one final line break does not make an extra line.
pub fn runner_lines(text: &str) -> Vec<&str> {
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['\n', '\r']) {
        lines.push(&rest[..i]);
        let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[i + skip..];
    }
    lines.push(rest);
    lines
}

/// 128 bits from the OS-seeded hasher keys, as hex: unpredictable enough for
/// delimiters and stop-commands tokens (and every use also checks collisions).
pub fn random_token() -> String {
    let a = RandomState::new().build_hasher().finish();
    let mut h = RandomState::new().build_hasher();
    h.write_u64(a);
    format!("{a:016x}{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_like_the_toolkit() {
        assert_eq!(escape_data("a%b\r\nc"), "a%25b%0D%0Ac");
        assert_eq!(escape_property("a:b,c\n"), "a%3Ab%2Cc%0A");
    }

    #[test]
    fn neutralizes_commands_even_indented() {
        assert!(is_command_like("::set-output name=a::b"));
        assert!(is_command_like("   ::add-mask::x"));
        assert!(is_command_like("##[error]x"));
        assert!(!is_command_like("text :: not a command"));
        assert_eq!(
            neutralize_line("  ::stop-commands::x"),
            format!("{NEUTRALIZED_PREFIX}  ::stop-commands::x")
        );
        assert_eq!(neutralize_line("plain"), "plain");
    }

    #[test]
    fn lines_like_the_runner() {
        assert_eq!(
            runner_lines("a\r\nb\rc\n\nd\n"),
            vec!["a", "b", "c", "", "d"]
        );
        assert_eq!(runner_lines(""), vec![""]);
    }

    #[test]
    fn the_log_gets_no_terminal_controls() {
        let hostile = "ok\u{1b}[2J\u{1b}[1;1H\u{1b}]0;pwned\u{7}\r\u{1b}[31m::set-output name=x::y\u{1b}[0m\u{7}\n\u{202e}tab\tkept\n";
        let safe = log_safe(hostile);
        assert_eq!(safe, "ok\n::set-output name=x::y\ntab\tkept\n");
        // The command is visible once controls are gone, so it is neutralized.
        let lines = runner_lines(&safe);
        assert!(lines.iter().any(|l| is_command_like(l)));
        assert!(lines.iter().all(|l| !is_command_like(&neutralize_line(l))));
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 32);
    }

    fn unescape(s: &str) -> String {
        s.replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    }

    proptest! {
        #[test]
        fn escaped_data_is_one_line_and_round_trips(s in ".*") {
            let e = escape_data(&s);
            prop_assert!(!e.contains('\n') && !e.contains('\r'));
            prop_assert_eq!(unescape(&e), s);
        }

        #[test]
        fn escaped_property_has_no_separators(s in ".*") {
            let e = escape_property(&s);
            prop_assert!(!e.contains(':') && !e.contains(',') && !e.contains('\n'));
            prop_assert_eq!(unescape(&e), s);
        }

        #[test]
        fn no_neutralized_line_is_a_command(s in "(\\PC|\n|\r|:|#)*") {
            for line in runner_lines(&s) {
                prop_assert!(!is_command_like(&neutralize_line(line)));
            }
        }
    }
}
