//! The one place that writes the log. Inside Actions it speaks workflow
//! commands (annotations, groups, masks); outside it prints plain text. Every
//! line is redacted, cleared of terminal controls ([`log_safe`]), and
//! untrusted lines cannot become commands.

use super::escape::{escape_data, log_safe, neutralize_line, random_token, runner_lines};
use kit::secret::Redactor;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// The most of one untrusted block (an agent's summary) the log shows.
pub const UNTRUSTED_BLOCK_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleMode {
    /// Running under the Actions runner (`GITHUB_ACTIONS=true`).
    Actions,
    /// A terminal or a test.
    Plain,
}

struct State {
    out: Box<dyn Write + Send>,
    redactor: Redactor,
    group_open: bool,
}

pub struct Console {
    mode: ConsoleMode,
    debug: bool,
    state: Mutex<State>,
}

/// What a captured console wrote (tests, the demo).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Copies what it is given to two writers (the demo shows the log live and
/// keeps it).
pub struct Tee<A, B>(pub A, pub B);

impl<A: Write, B: Write> Write for Tee<A, B> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(buf)?;
        self.1.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()?;
        self.1.flush()
    }
}

impl Console {
    pub fn new(mode: ConsoleMode, debug: bool, out: Box<dyn Write + Send>) -> Self {
        Self {
            mode,
            debug,
            state: Mutex::new(State {
                out,
                redactor: Redactor::new(),
                group_open: false,
            }),
        }
    }

    /// Standard output, flushed line by line so the runner sees progress live.
    pub fn stdout(mode: ConsoleMode, debug: bool) -> Self {
        Self::new(mode, debug, Box::new(std::io::stdout()))
    }

    /// A console that records everything it writes.
    pub fn capture(mode: ConsoleMode, debug: bool) -> (Self, Captured) {
        let captured = Captured::default();
        (Self::new(mode, debug, Box::new(captured.clone())), captured)
    }

    pub fn mode(&self) -> ConsoleMode {
        self.mode
    }

    pub fn debug_enabled(&self) -> bool {
        self.debug
    }

    /// Registers a secret: masked by the runner from now on, and redacted by
    /// us everywhere we write. Call before anything else is printed.
    pub fn add_secret(&self, secret: &str) {
        let mut state = self.state.lock().unwrap();
        let new = state.redactor.add(secret);
        if self.mode == ConsoleMode::Actions {
            for mask in new {
                let _ = writeln!(state.out, "::add-mask::{}", escape_data(&mask));
            }
            let _ = state.out.flush();
        }
    }

    /// A copy of the redactor, for sinks other than the log and for every
    /// place that shortens text on its way to one (take it after the
    /// secrets are added: a copy does not see later ones).
    pub fn redactor(&self) -> Redactor {
        self.state.lock().unwrap().redactor.clone()
    }

    pub fn redact(&self, text: &str) -> String {
        self.state
            .lock()
            .unwrap()
            .redactor
            .redact(text)
            .into_owned()
    }

    fn write_lines(&self, text: &str) {
        let mut state = self.state.lock().unwrap();
        // Controls first: a secret split by an escape sequence is whole again
        // when redacted, and a command hidden behind one is seen.
        let clean = log_safe(text);
        let redacted = state.redactor.redact(&clean).into_owned();
        for line in runner_lines(&redacted) {
            let _ = writeln!(state.out, "{}", neutralize_line(line));
        }
        let _ = state.out.flush();
    }

    fn write_command(&self, command: &str, message: &str) {
        let mut state = self.state.lock().unwrap();
        let clean = log_safe(message);
        let redacted = state.redactor.redact(&clean).into_owned();
        let _ = writeln!(state.out, "::{command}::{}", escape_data(&redacted));
        let _ = state.out.flush();
    }

    /// Plain log text (may be untrusted: lines are neutralized).
    pub fn info(&self, text: &str) {
        self.write_lines(text);
    }

    pub fn debug(&self, text: &str) {
        if !self.debug {
            return;
        }
        match self.mode {
            ConsoleMode::Actions => self.write_command("debug", text),
            ConsoleMode::Plain => self.write_lines(&format!("debug: {text}")),
        }
    }

    pub fn notice(&self, text: &str) {
        self.annotation("notice", text);
    }

    pub fn warning(&self, text: &str) {
        self.annotation("warning", text);
    }

    pub fn error(&self, text: &str) {
        self.annotation("error", text);
    }

    fn annotation(&self, kind: &str, text: &str) {
        match self.mode {
            ConsoleMode::Actions => self.write_command(kind, text),
            ConsoleMode::Plain => self.write_lines(&format!("{kind}: {text}")),
        }
    }

    /// Opens a collapsible group (closing any open one: groups do not nest).
    pub fn group(&self, title: &str) {
        self.endgroup();
        match self.mode {
            ConsoleMode::Actions => self.write_command("group", title),
            ConsoleMode::Plain => self.write_lines(&format!("== {title}")),
        }
        self.state.lock().unwrap().group_open = true;
    }

    pub fn endgroup(&self) {
        let was_open = std::mem::replace(&mut self.state.lock().unwrap().group_open, false);
        if was_open && self.mode == ConsoleMode::Actions {
            self.write_command("endgroup", "");
        }
    }

    /// Prints untrusted multi-line text verbatim. Inside Actions it is wrapped
    /// in `::stop-commands::` with a fresh random token, so no line of it is
    /// processed as a command; each line is also neutralized in case the
    /// runner ignores the pause. At most [`UNTRUSTED_BLOCK_BYTES`] of it
    /// are read (redacted, then cut: see [`Redactor::cut_bytes`]).
    pub fn untrusted_block(&self, text: &str) {
        let redactor = self.redactor();
        let (bounded, cut) = redactor.cut_bytes(text, UNTRUSTED_BLOCK_BYTES);
        let text = if cut {
            format!(
                "{bounded}\n… (cut: the log shows its first {} KiB)",
                UNTRUSTED_BLOCK_BYTES / 1024
            )
        } else {
            bounded.into_owned()
        };
        let text = text.as_str();
        match self.mode {
            ConsoleMode::Actions => {
                let token = random_token();
                {
                    let mut state = self.state.lock().unwrap();
                    let _ = writeln!(state.out, "::stop-commands::{token}");
                }
                self.write_lines(text);
                let mut state = self.state.lock().unwrap();
                let _ = writeln!(state.out, "::{token}::");
                let _ = state.out.flush();
            }
            ConsoleMode::Plain => {
                let indented: String = runner_lines(text)
                    .into_iter()
                    .map(|l| {
                        if l.is_empty() {
                            "\n".to_string()
                        } else {
                            format!("    {l}\n")
                        }
                    })
                    .collect();
                self.write_lines(&indented);
            }
        }
    }
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console").field("mode", &self.mode).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_first_then_redacts() {
        let (c, out) = Console::capture(ConsoleMode::Actions, false);
        c.add_secret("crsr_abcdef123");
        c.info("the key is crsr_abcdef123");
        let text = out.text();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("::add-mask::crsr_abcdef123"));
        assert!(text.contains("the key is ***"));
        assert_eq!(text.matches("crsr_abcdef123").count(), 1, "{text}");
    }

    #[test]
    fn untrusted_lines_cannot_issue_commands() {
        let (c, out) = Console::capture(ConsoleMode::Actions, false);
        c.info("ok\n::set-output name=x::y\r::add-mask::z");
        c.error("boom\n::warning::nested");
        let text = out.text();
        for line in text.lines() {
            if line.starts_with("::") {
                assert!(
                    line.starts_with("::error::boom%0A::warning::nested"),
                    "{line}"
                );
            }
        }
    }

    #[test]
    fn the_log_gets_no_terminal_controls_from_any_writer() {
        for mode in [ConsoleMode::Actions, ConsoleMode::Plain] {
            let (c, out) = Console::capture(mode, true);
            let hostile = "Done\u{1b}[2K\r\u{1b}[1A\u{1b}]8;;https://e\u{7}link\u{1b}]8;;\u{7}\n\u{1b}[31m::set-output name=pwned::yes\u{9b}0m\u{7}";
            c.info(hostile);
            c.untrusted_block(hostile);
            c.warning(hostile);
            c.debug(hostile);
            let text = out.text();
            assert!(
                !text.chars().any(|ch| ch.is_control() && ch != '\n'),
                "{mode:?}: {text:?}"
            );
            for line in text.lines() {
                assert!(
                    !line.trim_start().starts_with("::set-output"),
                    "{mode:?}: {line:?}"
                );
            }
            // The visible text stays; the hyperlink's hidden target goes.
            assert!(text.contains("Done") && text.contains("link"), "{text:?}");
            assert!(!text.contains("https://e"), "{text:?}");
        }
    }

    #[test]
    fn a_huge_untrusted_block_is_cut() {
        let (c, out) = Console::capture(ConsoleMode::Actions, false);
        c.untrusted_block(&"a\n".repeat(UNTRUSTED_BLOCK_BYTES));
        let text = out.text();
        assert!(text.len() < UNTRUSTED_BLOCK_BYTES + 200, "{}", text.len());
        assert!(text.contains("(cut: the log shows its first 64 KiB)"));
    }

    #[test]
    fn untrusted_block_is_fenced_with_stop_commands() {
        let (c, out) = Console::capture(ConsoleMode::Actions, false);
        c.untrusted_block("line 1\n::error::pwned");
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        let token = lines[0].strip_prefix("::stop-commands::").unwrap();
        assert_eq!(token.len(), 32);
        assert_eq!(lines.last().unwrap(), &format!("::{token}::"));
        assert!(!lines[2].starts_with("::"));
    }

    #[test]
    fn groups_do_not_nest_and_plain_mode_has_no_commands() {
        let (c, out) = Console::capture(ConsoleMode::Actions, true);
        c.group("a");
        c.group("b");
        c.endgroup();
        c.endgroup();
        c.debug("dbg");
        assert_eq!(
            out.text(),
            "::group::a\n::endgroup::\n::group::b\n::endgroup::\n::debug::dbg\n"
        );
        let (p, out) = Console::capture(ConsoleMode::Plain, false);
        p.add_secret("secret-value");
        p.warning("careful");
        p.debug("hidden");
        assert_eq!(out.text(), "warning: careful\n");
    }
}
