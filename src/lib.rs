//! cursor-agent-action: launch a Cursor cloud agent from a GitHub Actions
//! step, wait for it, and report the outcome on the triggering issue or PR.
//!
//! The binary only dispatches; everything lives here. Configuration comes in
//! through an [`Env`] lookup, never from global state, so every part runs in
//! tests with a plain map.

// A closed pipe must not panic the binary: print through `stdio`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod agent;
pub mod app;
pub mod artifacts;
pub mod cli;
pub mod context;
pub mod demo;
pub mod fix_ci;
pub mod flow;
pub mod gate;
pub mod github;
pub mod inputs;
pub mod job;
pub mod launch;
pub mod launch_cap;
pub mod logging;
pub mod markdown;
pub mod marker;
pub mod plan;
pub mod prompt;
pub mod report;
pub mod runner;
pub mod runtime;
pub mod stdio;
pub mod sweep;

use kit::cancel::Cancel;
use kit::clock::Clock;
use kit::env::Env;
use runner::{ActionsIo, Console};
use runtime::Runtime;
use std::sync::Arc;
use stdio::{errln, out, outln};

/// Test-only: every wait lasts 1/N of its nominal time (and the simulator's
/// clock runs N times faster), so long agents run in seconds in tests.
/// Honoured only outside GitHub Actions, or when `api-url` is a loopback
/// address (our simulators): on a real runner against the real API it could
/// only cut every wait and the timeout short.
pub const TIME_SCALE_VAR: &str = "CURSOR_AGENT_ACTION_TIME_SCALE";

/// The clock the environment asks for.
pub fn clock_from_env(env: &Env) -> Clock {
    Clock::scaled(time_scale_from_env(env))
}

/// The time scale in effect: [`TIME_SCALE_VAR`] where it is allowed, else 1.
pub fn time_scale_from_env(env: &Env) -> u32 {
    let scale = env
        .get(TIME_SCALE_VAR)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    if time_scale_allowed(env) { scale } else { 1 }
}

/// Whether [`TIME_SCALE_VAR`] may act: not under a runner
/// (`GITHUB_ACTIONS=true`), unless the Cursor API is on this machine.
pub fn time_scale_allowed(env: &Env) -> bool {
    if env.get("GITHUB_ACTIONS").as_deref().map(str::trim) != Some("true") {
        return true;
    }
    let [hyphen, underscore] = inputs::spec::env_names("api-url");
    env.get(&hyphen)
        .or_else(|| env.get(&underscore))
        .is_some_and(|u| is_loopback_url(u.trim()))
}

/// `http(s)://127.x.x.x`, `[::1]` or `localhost`, with any port and path.
fn is_loopback_url(value: &str) -> bool {
    let Ok(url) = url::Url::parse(value) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Runs the process's command line (without the program name): an
/// argument that is not UTF-8 is a usage error naming it (exit 2), not a panic.
pub fn run_os(args: impl IntoIterator<Item = std::ffi::OsString>, env: Env) -> u8 {
    runner::install_panic_report(&env);
    match cli::utf8_args(args) {
        Ok(args) => run(&args, env),
        Err(why) => {
            errln!("error: {why}");
            app::EXIT_CONFIG
        }
    }
}

/// Runs the command line `args` (without the program name). Returns the exit
/// status; failures of the command line itself are printed here.
pub fn run(args: &[String], env: Env) -> u8 {
    match dispatch(args, env) {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {e:#}");
            1
        }
    }
}

fn dispatch(args: &[String], env: Env) -> anyhow::Result<u8> {
    use anyhow::Context as _;
    Ok(match cli::parse(args) {
        cli::Command::Help => {
            out!("{}", cli::help());
            0
        }
        cli::Command::Version => {
            outln!("{}", cli::version());
            0
        }
        cli::Command::Unknown(arg) => {
            errln!("error: unknown argument {arg:?}\n\n{}", cli::help());
            runtime::EXIT_CONFIG
        }
        cli::Command::Usage(text) => {
            out!("{text}");
            0
        }
        cli::Command::Invalid(why) => {
            errln!("error: {why}");
            runtime::EXIT_CONFIG
        }
        cli::Command::Demo(cli::DemoArgs { scenario, v0 }) => {
            // Bold headings only for a person at a terminal (https://no-color.org).
            use std::io::IsTerminal as _;
            let bold = std::io::stdout().is_terminal() && env.get("NO_COLOR").is_none();
            demo::demo(&scenario, v0, bold)?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_scale_acts_only_off_runners_or_against_loopback() {
        let scaled = |pairs: &[(&str, &str)]| {
            let mut all = vec![(TIME_SCALE_VAR, "100")];
            all.extend_from_slice(pairs);
            time_scale_from_env(&Env::from_pairs(all.iter().copied())) == 100
        };
        assert!(scaled(&[]));
        assert!(scaled(&[("GITHUB_ACTIONS", "false")]));
        assert!(!scaled(&[("GITHUB_ACTIONS", "true")]));
        assert!(!scaled(&[
            ("GITHUB_ACTIONS", "true"),
            ("INPUT_API-URL", "https://api.cursor.com")
        ]));
        assert!(!scaled(&[
            ("GITHUB_ACTIONS", "true"),
            ("INPUT_API-URL", "http://127.0.0.1.evil.example:80")
        ]));
        for local in [
            "http://127.0.0.1:4010",
            "http://localhost:9",
            "http://[::1]:8080/v0",
        ] {
            assert!(
                scaled(&[("GITHUB_ACTIONS", "true"), ("INPUT_API_URL", local)]),
                "{local}"
            );
        }
    }
}
