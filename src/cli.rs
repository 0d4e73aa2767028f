//! Command-line dispatch: the action itself (no arguments), `demo`,
//! `simulator`, `--help` and `--version`.
//!
//! The parser is hand-rolled on purpose: two subcommands with a handful of
//! `--flag VALUE` options do not earn a dependency (the release binary is
//! size-optimized), and every path is unit-tested here.

use crate::demo::{SCENARIOS, SimulatorOptions};
use crate::inputs::{INPUTS, OUTPUTS};
use std::ffi::OsString;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run as a GitHub Actions step (inputs from `INPUT_*`).
    Action,
    /// The full flow against in-process simulators.
    Demo {
        scenario: String,
        /// `--api v0`: the legacy API's flow instead of v1's.
        v0: bool,
    },
    /// Both simulators as a standalone server.
    Simulator(SimulatorOptions),
    /// Bad arguments, with the reason (exit 2).
    Invalid(String),
    /// A usage text to print (exit 0).
    Usage(String),
    Help,
    Version,
    Unknown(String),
}

/// The command line as text: an argument that is not valid UTF-8 is named
/// (by position and its lossy form) instead of panicking.
pub fn utf8_args(args: impl IntoIterator<Item = OsString>) -> Result<Vec<String>, String> {
    args.into_iter()
        .enumerate()
        .map(|(i, a)| {
            a.into_string().map_err(|bad| {
                format!(
                    "argument {} ({:?}) is not valid UTF-8; pass it as UTF-8 text",
                    i + 1,
                    bad.to_string_lossy()
                )
            })
        })
        .collect()
}

fn is_help(arg: &str) -> bool {
    matches!(arg, "-h" | "--help")
}

pub fn parse(args: &[String]) -> Command {
    match args.first().map(String::as_str) {
        None => Command::Action,
        Some("-h" | "--help") => Command::Help,
        Some("help") => match args.get(1).map(String::as_str) {
            None => Command::Help,
            Some("demo") => Command::Usage(demo_help()),
            Some("simulator") => Command::Usage(simulator_help()),
            Some(other) => Command::Unknown(other.to_string()),
        },
        Some("-V" | "--version") => Command::Version,
        Some("demo") => parse_demo(&args[1..]),
        Some("simulator") => parse_simulator(&args[1..]),
        Some(other) => Command::Unknown(other.to_string()),
    }
}

/// An unknown or malformed option of `sub`: names it and points to `--help`.
fn invalid(sub: &str, why: String) -> Command {
    Command::Invalid(format!(
        "{why}\nrun `cursor-agent-action {sub} --help` for usage"
    ))
}

fn parse_demo(args: &[String]) -> Command {
    if args.iter().any(|a| is_help(a)) {
        return Command::Usage(demo_help());
    }
    let mut scenario = "finished".to_string();
    let mut v0 = false;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--scenario" => match it.next() {
                Some(name) => scenario = name.clone(),
                None => return invalid("demo", "--scenario needs a value".into()),
            },
            "--api" => match it.next().map(String::as_str) {
                Some("v0") => v0 = true,
                Some("v1") => v0 = false,
                Some(other) => {
                    return invalid(
                        "demo",
                        format!("--api: {other:?} is not accepted; use v1 or v0"),
                    );
                }
                None => return invalid("demo", "--api needs a value (v1 or v0)".into()),
            },
            _ => return invalid("demo", format!("unknown option {flag:?}")),
        }
    }
    Command::Demo { scenario, v0 }
}

fn parse_simulator(args: &[String]) -> Command {
    if args.iter().any(|a| is_help(a)) {
        return Command::Usage(simulator_help());
    }
    let mut o = SimulatorOptions::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let known = matches!(
            flag.as_str(),
            "--cursor-port" | "--github-port" | "--time-scale" | "--key" | "--token" | "--writer"
        );
        if !known {
            return invalid("simulator", format!("unknown option {flag:?}"));
        }
        let Some(value) = it.next() else {
            return invalid("simulator", format!("{flag} needs a value"));
        };
        let bad = || invalid("simulator", format!("{flag}: {value:?} is not accepted"));
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
            _ => o.writers.push(value.clone()),
        }
    }
    Command::Simulator(o)
}

/// `demo --help`.
pub fn demo_help() -> String {
    format!(
        "Usage: cursor-agent-action demo [--scenario NAME] [--api v1|v0]\n\n\
Runs the whole action (launch, wait, report) against in-process simulators of the Cursor and\n\
GitHub APIs: no key, no network. Prints the step's log, outputs, step summary and the comment.\n\
On v1 (the default) the agent's run is followed over its stream: its activity in the log, each\n\
write of the comment (its heading, status and activity, edited at most every 10 s) and the final\n\
comment with the run's usage.\n\n\
OPTIONS:\n    --scenario NAME   one of: {} [default: finished]\n                      (on v1: {}; the others need --api v0)\n                      or detached: launch with wait: false, the job ends, the agent finishes,\n                      and a later sweep (sweep: true) finalizes the comment (v1 or v0)\n                      or nightly: three nights of a scheduled job keeping one pull request\n                      (opened, updated, merged and a new one opened; v1 or v0)\n    --api v1|v0       the Cursor API version [default: v1]\n    -h, --help        this text\n\n\
EXIT STATUS: as the action would end: 0 for finished, no-summary and hostile-summary; 1, on purpose,\n\
for error and expired (the agent failed) and for storage-mode and not-connected (Cursor refused\n\
the launch: the output says what to fix); 2 for an unknown scenario or option.\n",
        SCENARIOS.join(", "),
        crate::demo::V1_SCENARIOS.join(", ")
    )
}

/// `simulator --help`, with the control endpoints.
pub fn simulator_help() -> String {
    "Usage: cursor-agent-action simulator [OPTIONS]\n\n\
Serves simulators of the Cursor API and the GitHub REST API on 127.0.0.1 until Ctrl-C, so the\n\
action (or any client) can be pointed at them: `api-url` at the Cursor port, GITHUB_API_URL at\n\
the GitHub port.\n\n\
OPTIONS:\n    \
--cursor-port N    port of the Cursor simulator [default: 0, any free port]\n    \
--github-port N    port of the GitHub simulator [default: 0, any free port]\n    \
--time-scale N     the agents' clock runs N times faster (N >= 1) [default: 1]; give the\n                       \
action CURSOR_AGENT_ACTION_TIME_SCALE=N too, so its waits shrink alike (honoured\n                       \
off runners, or on one when `api-url` is a loopback address)\n    \
--key KEY          accept only this Cursor API key (repeatable) [default: any key]\n    \
--token TOKEN      accept only this GitHub token [default: any token]\n    \
--writer LOGIN     give LOGIN write permission on every repository (repeatable)\n    \
-h, --help         this text\n\n\
CONTROL ENDPOINTS (JSON bodies):\n  \
Cursor port:\n    \
POST /_sim/scenarios   how agents behave: {\"creating_secs\": 20, \"running_secs\": 180,\n                           \
\"end\": \"finished|error|expired\", \"summary\": \"...\" or null, \"summary_in_status\": true,\n                           \
\"refuse_launch\": \"storage_mode|repository_not_accessible|...\", \"reported_status\": \"...\",\n                           \
\"minimal_fields\": false, \"followup_running_secs\": N, \"changes\": true,\n                           \
\"commits\": 1, \"repository\": \"URL\" or \"default\"}; a finished agent pushes\n                           \
`commits` commits to its branch on the GitHub port and opens its PR there\n                           \
(none with \"changes\": false)\n    \
POST /_sim/v1/scenario how v1 runs behave: {\"creating_secs\": 3, \"running_secs\": 30,\n                           \
\"no_changes\": false, \"commits\": 1, ...}\n    \
POST /_sim/faults      a rule or a list: {\"method\": \"POST\", \"path\": \"/v0/agents/*\",\n                           \
\"repository\": \"URL\", \"times\": 1, \"fault\": {\"kind\": \"status\", \"status\": 503,\n                           \
\"retry_after\": \"2\"}}; kinds: status, reset, stall, delay {\"millis\": N},\n                           \
apply_then_reset, apply_then_stall, malformed_json\n    \
POST /_sim/reset       forget every agent, fault, scenario and logged request\n    \
GET  /_sim/requests    every request received\n    \
GET  /_sim/agents      every agent\n  \
GitHub port:\n    \
POST /_sim/permissions {\"login\": \"octocat\", \"role\": \"admin|maintain|write|triage|read|none\"}\n    \
POST /_sim/read-only   {\"read_only\": true}: writes are refused as with a read-only token\n    \
POST /_sim/faults      as on the Cursor port (paths such as /repos/*/*/issues/*/comments)\n    \
GET  /_sim/requests    every request received\n    \
GET  /_sim/comments?repo=OWNER/NAME&issue=N   the comments on an issue\n    \
GET  /_sim/pulls?repo=OWNER/NAME   the pull requests the agents opened (their branches live here too)\n    \
POST /_sim/pulls/merge {\"repo\": \"OWNER/NAME\", \"number\": N}; /_sim/pulls/close the same\n    \
POST /_sim/pulls       {\"repo\", \"head\", \"base\", \"title\", \"user\"}: open one by hand\n    \
POST /_sim/push        {\"repo\", \"branch\", \"commits\"}: push commits to a branch\n\n\
EXAMPLE:\n    \
cursor-agent-action simulator --cursor-port 8001 --github-port 8002 --time-scale 60 --writer octocat\n\n\
EXIT STATUS: 0 after Ctrl-C, 1 if a port cannot be bound, 2 for bad options.\n"
        .to_string()
}

pub fn version() -> String {
    format!("cursor-agent-action {}", env!("CARGO_PKG_VERSION"))
}

/// `--help`: usage, then every input and output from the interface table.
pub fn help() -> String {
    let mut out = format!(
        "{}\nLaunch a Cursor cloud agent from a GitHub Actions step, wait for it, and report on the issue or PR.\n\n\
USAGE:\n    cursor-agent-action              run as an action step (reads INPUT_* and GITHUB_*)\n    \
cursor-agent-action demo [--scenario NAME] [--api v1|v0]\n                                     the whole flow against local simulators (no key, no network)\n    \
cursor-agent-action simulator [--cursor-port N] [--github-port N] [--time-scale N] [--key KEY] [--token TOKEN] [--writer LOGIN]\n                                     serve the Cursor and GitHub simulators until Ctrl-C\n    \
cursor-agent-action demo --help, simulator --help (or help demo, help simulator)\n                                     the options of a subcommand\n    \
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
    out.push_str("\nEXIT STATUS: 0 finished/launched/followed-up/skipped/dry-run (and timeout with on-timeout: continue),\n             1 error/expired/stopped/timeout/cancelled, 2 bad inputs or configuration.\n             With sweep: true (launches nothing; finalizes the comments of ended detached agents):\n             0 done, 1 cancelled, the comments could not be listed, or Cursor answered
             404/410 without saying the agent does not exist (check api-url), 2 bad inputs.\n");
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
    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_subcommand_answers_help() {
        for sub in ["demo", "simulator"] {
            for flag in ["--help", "-h"] {
                let Command::Usage(text) = parse(&args(&[sub, flag])) else {
                    panic!("{sub} {flag}");
                };
                assert!(text.starts_with(&format!("Usage: cursor-agent-action {sub}")));
            }
            // Even after other options, and through `help SUB`.
            assert!(matches!(
                parse(&args(&[sub, "--scenario", "--help"])),
                Command::Usage(_)
            ));
            assert!(matches!(parse(&args(&["help", sub])), Command::Usage(_)));
        }
        assert!(simulator_help().contains("POST /_sim/reset"));
        assert!(simulator_help().contains("POST /_sim/permissions"));
        for s in SCENARIOS {
            assert!(demo_help().contains(s), "{s}");
        }
    }

    #[test]
    fn unknown_flags_name_themselves_and_suggest_help() {
        for (sub, flag) in [
            ("demo", "--scenaro"),
            ("simulator", "--port"),
            ("simulator", "-x"),
        ] {
            let Command::Invalid(why) = parse(&args(&[sub, flag, "1"])) else {
                panic!("{sub} {flag}");
            };
            assert!(why.contains(&format!("{flag:?}")), "{why}");
            assert!(
                why.contains(&format!("cursor-agent-action {sub} --help")),
                "{why}"
            );
        }
        let Command::Invalid(why) = parse(&args(&["simulator", "--key"])) else {
            panic!()
        };
        assert!(why.starts_with("--key needs a value"), "{why}");
        assert_eq!(
            parse(&args(&["demo", "--scenario", "error"])),
            Command::Demo {
                scenario: "error".into(),
                v0: false
            }
        );
        assert_eq!(
            parse(&args(&["demo"])),
            Command::Demo {
                scenario: "finished".into(),
                v0: false
            }
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_arguments_are_named() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![b'd', 0xff, b'o']);
        let err = utf8_args([OsString::from("demo"), bad]).unwrap_err();
        assert!(
            err.starts_with("argument 2 (\"d\u{fffd}o\") is not valid UTF-8"),
            "{err}"
        );
        assert_eq!(
            utf8_args([OsString::from("demo")]).unwrap(),
            vec!["demo".to_string()]
        );
    }
}
