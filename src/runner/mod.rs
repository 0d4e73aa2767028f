//! The runner contract: the log (workflow commands), step outputs and the
//! step summary. Degrades to plain text outside Actions.

mod console;
pub mod escape;
mod files;

pub use console::{Captured, Console, ConsoleMode, Tee};
pub use files::{OutputFile, SUMMARY_LIMIT_BYTES, SummaryFile, format_outputs, parse_outputs};

use kit::env::Env;
use std::sync::Arc;

/// What a panic prints instead of Rust's default message, which quotes
/// whatever text was being handled (an API string, say) raw on stderr, where
/// the runner reads workflow commands too: one `::error::` line, escaped,
/// under Actions; neutralized lines elsewhere.
pub fn panic_report(mode: ConsoleMode, message: &str, location: Option<String>) -> String {
    let at = location.map(|l| format!(" at {l}")).unwrap_or_default();
    let text = format!(
        "cursor-agent-action stopped on an internal error{at} (a bug: please report it): {message}"
    );
    match mode {
        ConsoleMode::Actions => format!("::error::{}", escape::escape_data(&text)),
        ConsoleMode::Plain => escape::runner_lines(&text)
            .into_iter()
            .map(escape::neutralize_line)
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// Replaces the process's panic message with [`panic_report`] (for the
/// binary only: tests keep Rust's own).
pub fn install_panic_report(env: &Env) {
    let mode = ActionsIo::mode_for(env);
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        crate::stdio::errln!("{}", panic_report(mode, message, location));
    }));
}

/// Everything the action writes for the runner.
#[derive(Clone)]
pub struct ActionsIo {
    pub console: Arc<Console>,
    pub outputs: OutputFile,
    pub summary: SummaryFile,
}

impl ActionsIo {
    /// From the runner's variables, logging to `console`.
    pub fn from_env(env: &Env, console: Arc<Console>) -> Self {
        Self {
            console,
            outputs: OutputFile {
                path: env.get("GITHUB_OUTPUT").map(Into::into),
            },
            summary: SummaryFile {
                path: env.get("GITHUB_STEP_SUMMARY").map(Into::into),
            },
        }
    }

    /// The console mode the environment asks for.
    pub fn mode_for(env: &Env) -> ConsoleMode {
        if env.get("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
            ConsoleMode::Actions
        } else {
            ConsoleMode::Plain
        }
    }

    /// Writes step outputs; without an outputs file, prints them.
    pub fn set_outputs(&self, pairs: &[(&str, String)]) {
        if self.outputs.path.is_none() {
            let mut text = String::from("outputs:");
            for (name, value) in pairs {
                if value.contains('\n') {
                    text.push_str(&format!("\n  {name}: |"));
                    for line in value.lines() {
                        text.push_str(&format!("\n    {line}"));
                    }
                } else {
                    text.push_str(&format!("\n  {name}: {value}"));
                }
            }
            self.console.untrusted_block(&text);
            return;
        }
        if let Err(e) = self.outputs.write(&self.console.redactor(), pairs) {
            self.console.warning(&format!(
                "could not write step outputs to GITHUB_OUTPUT: {e}"
            ));
        }
    }

    pub fn append_summary(&self, markdown: &str) {
        if let Err(e) = self.summary.append(&self.console.redactor(), markdown) {
            self.console.warning(&format!(
                "could not write the step summary to GITHUB_STEP_SUMMARY: {e}"
            ));
        }
    }
}

#[cfg(test)]
mod panic_tests {
    use super::*;

    #[test]
    fn a_panic_message_cannot_issue_commands() {
        let hostile = "index 19 inside 'é' of `2025\n::set-output name=x::1\r::add-mask::y`";
        let line = panic_report(ConsoleMode::Actions, hostile, Some("src/x.rs:1".into()));
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(
            line.starts_with("::error::cursor-agent-action stopped"),
            "{line}"
        );
        let plain = panic_report(ConsoleMode::Plain, hostile, None);
        for l in plain.lines() {
            assert!(!escape::is_command_like(l), "{l}");
        }
    }
}
