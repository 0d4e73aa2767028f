//! Dispatch only: the library does the work.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    ExitCode::from(cursor_agent_action::run(
        &args,
        cursor_agent_action::Env::process(),
    ))
}
