//! The runner contract: the log (workflow commands), step outputs and the
//! step summary. Degrades to plain text outside Actions.

mod console;
pub mod escape;
mod files;

pub use console::{Captured, Console, ConsoleMode, Tee};
pub use files::{OutputFile, SUMMARY_LIMIT_BYTES, SummaryFile, format_outputs, parse_outputs};

use crate::env::Env;
use std::sync::Arc;

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
