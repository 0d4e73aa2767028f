//! cursor-agent-action: launch a Cursor cloud agent from a GitHub Actions
//! step, wait for it, and report the outcome on the triggering issue or PR.
//!
//! The binary only dispatches; everything lives here. Configuration comes in
//! through an [`Env`] lookup, never from global state, so every part runs in
//! tests with a plain map.

pub mod app;
pub mod cancel;
pub mod cli;
pub mod clock;
pub mod context;
pub mod cursor;
pub mod demo;
pub mod env;
pub mod flow;
pub mod gate;
pub mod github;
pub mod http;
pub mod inputs;
pub mod launch;
pub mod logging;
pub mod plan;
pub mod prompt;
pub mod report;
pub mod retry;
pub mod runner;
pub mod runtime;
pub mod secret;
pub mod sim;
pub mod wait;

pub use env::Env;

use cancel::Cancel;
use clock::Clock;
use runner::{ActionsIo, Console};
use runtime::Runtime;
use std::sync::Arc;

/// Test-only: every wait lasts 1/N of its nominal time (and the simulator's
/// clock runs N times faster), so long agents run in seconds in tests.
pub const TIME_SCALE_VAR: &str = "CURSOR_AGENT_ACTION_TIME_SCALE";

/// The clock the environment asks for.
pub fn clock_from_env(env: &Env) -> Clock {
    let scale = env
        .get(TIME_SCALE_VAR)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(1);
    Clock::scaled(scale)
}

/// Runs the command line `args` (without the program name). Returns the exit
/// status; failures of the command line itself are printed here.
pub fn run(args: &[String], env: Env) -> u8 {
    match dispatch(args, env) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

fn dispatch(args: &[String], env: Env) -> anyhow::Result<u8> {
    use anyhow::Context as _;
    Ok(match cli::parse(args) {
        cli::Command::Help => {
            print!("{}", cli::help());
            0
        }
        cli::Command::Version => {
            println!("{}", cli::version());
            0
        }
        cli::Command::Unknown(arg) => {
            eprintln!("error: unknown argument {arg:?}\n\n{}", cli::help());
            runtime::EXIT_CONFIG
        }
        cli::Command::Invalid(why) => {
            eprintln!("error: {why}");
            runtime::EXIT_CONFIG
        }
        cli::Command::Demo { scenario } => {
            // Bold headings only for a person at a terminal (https://no-color.org).
            use std::io::IsTerminal as _;
            let bold = std::io::stdout().is_terminal() && env.get("NO_COLOR").is_none();
            demo::demo(&scenario, bold)?
        }
        cli::Command::Simulator(options) => demo::simulator(options)?,
        cli::Command::Action => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let mode = ActionsIo::mode_for(&env);
            let console = Arc::new(Console::stdout(mode, env.flag("RUNNER_DEBUG")));
            let _log = tracing::subscriber::set_default(logging::subscriber(console.clone()));
            runtime.block_on(async {
                let cancel = Cancel::new();
                if let Err(e) = cancel.listen_for_signals() {
                    console.warning(&format!("cannot listen for cancellation signals: {e}"));
                }
                let rt = Runtime {
                    io: ActionsIo::from_env(&env, console.clone()),
                    clock: clock_from_env(&env),
                    env,
                    cancel,
                };
                app::run_action(&rt).await
            })
        }
    })
}
