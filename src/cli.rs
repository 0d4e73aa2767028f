//! Command-line dispatch: the action itself (no arguments), `demo`,
//! `simulator`, `--help` and `--version`.

use crate::demo::SimulatorOptions;
use crate::inputs::{INPUTS, OUTPUTS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run as a GitHub Actions step (inputs from `INPUT_*`).
    Action,
    /// The full flow against in-process simulators.
    Demo {
        scenario: String,
    },
    /// Both simulators as a standalone server.
    Simulator(SimulatorOptions),
    /// Bad arguments, with the reason.
    Invalid(String),
    Help,
    Version,
    Unknown(String),
}

pub fn parse(args: &[String]) -> Command {
    match args.first().map(String::as_str) {
        None => Command::Action,
        Some("-h" | "--help" | "help") => Command::Help,
        Some("-V" | "--version") => Command::Version,
        Some("demo") => parse_demo(&args[1..]),
        Some("simulator") => parse_simulator(&args[1..]),
        Some(other) => Command::Unknown(other.to_string()),
    }
}

fn parse_demo(args: &[String]) -> Command {
    match args {
        [] => Command::Demo {
            scenario: "finished".into(),
        },
        [flag, name] if flag == "--scenario" => Command::Demo {
            scenario: name.clone(),
        },
        _ => Command::Invalid("usage: cursor-agent-action demo [--scenario NAME]".into()),
    }
}

fn parse_simulator(args: &[String]) -> Command {
    let mut o = SimulatorOptions::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let Some(value) = it.next() else {
            return Command::Invalid(format!("{flag} needs a value"));
        };
        let bad = || Command::Invalid(format!("{flag}: {value:?} is not accepted"));
        match flag.as_str() {
            "--cursor-port" => match value.parse() {
                Ok(p) => o.cursor_port = p,
                Err(_) => return bad(),
            },
            "--github-port" => match value.parse() {
                Ok(p) => o.github_port = p,
                Err(_) => return bad(),
            },
            "--time-scale" => match value.parse::<u32>() {
                Ok(n) if n >= 1 => o.time_scale = n,
                _ => return bad(),
            },
            "--key" => o.keys.push(value.clone()),
            "--token" => o.token = Some(value.clone()),
            "--writer" => o.writers.push(value.clone()),
            _ => return Command::Invalid(format!("unknown option {flag}")),
        }
    }
    Command::Simulator(o)
}

pub fn version() -> String {
    format!("cursor-agent-action {}", env!("CARGO_PKG_VERSION"))
}

/// `--help`: usage, then every input and output from the interface table.
pub fn help() -> String {
    let mut out = format!(
        "{}\nLaunch a Cursor cloud agent from a GitHub Actions step, wait for it, and report on the issue or PR.\n\n\
USAGE:\n    cursor-agent-action              run as an action step (reads INPUT_* and GITHUB_*)\n    \
cursor-agent-action demo [--scenario NAME]\n                                     the whole flow against local simulators (no key, no network)\n    \
cursor-agent-action simulator [--cursor-port N] [--github-port N] [--time-scale N] [--key KEY] [--token TOKEN] [--writer LOGIN]\n                                     serve the Cursor and GitHub simulators until Ctrl-C\n    \
cursor-agent-action --help       this text\n    cursor-agent-action --version\n\n\
INPUTS (environment INPUT_<NAME>, hyphens kept, or with underscores):\n",
        version()
    );
    let width = INPUTS.iter().map(|i| i.name.len()).max().unwrap_or(0);
    for input in INPUTS {
        let default = if input.required {
            "required".to_string()
        } else if input.default.is_empty() {
            "default: none".to_string()
        } else {
            format!("default: {}", input.default)
        };
        out.push_str(&format!(
            "    {:width$}  {} [{default}]\n",
            input.name, input.description
        ));
    }
    out.push_str("\nOUTPUTS (written to GITHUB_OUTPUT; printed when it is not set):\n");
    let width = OUTPUTS.iter().map(|o| o.name.len()).max().unwrap_or(0);
    for output in OUTPUTS {
        out.push_str(&format!(
            "    {:width$}  {}\n",
            output.name, output.description
        ));
    }
    out.push_str("\nEXIT STATUS: 0 finished/launched/followed-up/skipped/dry-run (and timeout with on-timeout: continue),\n             1 error/expired/stopped/timeout/cancelled, 2 bad inputs or configuration.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch() {
        assert_eq!(parse(&[]), Command::Action);
        assert_eq!(parse(&["--help".into()]), Command::Help);
        assert_eq!(parse(&["-V".into()]), Command::Version);
        assert_eq!(
            parse(&["frobnicate".into()]),
            Command::Unknown("frobnicate".into())
        );
    }

    #[test]
    fn help_lists_every_input_and_output() {
        let h = help();
        for i in INPUTS {
            assert!(h.contains(i.name), "{}", i.name);
        }
        for o in OUTPUTS {
            assert!(h.contains(o.name), "{}", o.name);
        }
    }
}
