//! What a run needs from the outside world, the exit statuses, and how a run
//! ends (outputs, step summary, the one final line). Below both `app` and
//! `flow`, so neither depends on the other's internals.

use crate::inputs::Inputs;
use crate::report::{Outcome, RunReport, failure_line, step_summary};
use crate::runner::ActionsIo;
use kit::cancel::Cancel;
use kit::clock::Clock;
use kit::env::Env;

/// Exit status for bad inputs or configuration.
pub const EXIT_CONFIG: u8 = 2;

/// What a run needs from the outside world.
#[derive(Clone)]
pub struct Runtime {
    pub env: Env,
    pub io: ActionsIo,
    pub clock: Clock,
    pub cancel: Cancel,
}

/// Writes outputs and the step summary, prints the final line, and returns
/// the exit status. Every failure prints exactly one `::error::`.
pub fn finish(rt: &Runtime, inputs: &Inputs, report: RunReport) -> u8 {
    let console = &rt.io.console;
    rt.io.set_outputs(&report.outputs());
    rt.io
        .append_summary(&step_summary(&console.redactor(), &report));
    let code = report.outcome.exit_code(inputs.on_timeout);
    let detail = report.detail.clone().unwrap_or_default();
    match (report.outcome, code) {
        (Outcome::Skipped, _) => console.notice(&detail),
        (_, 1) => console.error(&failure_line(&console.redactor(), &report)),
        (Outcome::Timeout, 0) => console.warning(&detail),
        _ => {}
    }
    code
}
