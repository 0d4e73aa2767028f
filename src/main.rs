//! Dispatch only: the library does the work.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(cursor_agent_action::run_os(
        std::env::args_os().skip(1),
        kit::env::Env::process(),
    ))
}
