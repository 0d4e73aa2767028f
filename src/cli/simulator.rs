//! `simulator`: its flags, parsed into [`SimulatorOptions`], and its `--help`.

use super::{Halt, text};
use crate::demo::SimulatorOptions;
use lexopt::Arg::{Long, Short};

pub(super) const NAME: &str = "simulator";

/// The flags after `simulator`.
pub(super) fn parse(p: &mut lexopt::Parser) -> Result<SimulatorOptions, Halt> {
    let mut o = SimulatorOptions::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Err(Halt::Help),
            Long("cursor-port") => o.cursor_port = value(p, "--cursor-port", port)?,
            Long("github-port") => o.github_port = value(p, "--github-port", port)?,
            Long("time-scale") => o.time_scale = value(p, "--time-scale", time_scale)?,
            Long("key") => o.keys.push(text(p.value()?)),
            Long("token") => o.token = Some(text(p.value()?)),
            Long("writer") => o.writers.push(text(p.value()?)),
            other => return Err(Halt::unknown(other)),
        }
    }
    Ok(o)
}

/// The value of `flag`, read by `read`; one it refuses is named.
fn value<T>(p: &mut lexopt::Parser, flag: &str, read: fn(&str) -> Option<T>) -> Result<T, Halt> {
    let value = text(p.value()?);
    read(&value).ok_or_else(|| Halt::Invalid(format!("{flag}: {value:?} is not accepted")))
}

/// 0 (any free port) to 65535.
fn port(value: &str) -> Option<u16> {
    value.parse().ok()
}

/// A whole factor of at least 1: the clock never runs slower than real time.
fn time_scale(value: &str) -> Option<u32> {
    value.parse().ok().filter(|n| *n >= 1)
}

/// `simulator --help`, with the control endpoints.
pub fn help() -> String {
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

#[cfg(test)]
mod tests {
    use super::super::{Command, parse};
    use super::*;

    fn simulator(args: &[&str]) -> Command {
        let mut all = vec!["simulator".to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        parse(&all)
    }

    fn invalid(why: &str) -> Command {
        Command::Invalid(format!(
            "{why}\nrun `cursor-agent-action simulator --help` for usage"
        ))
    }

    #[test]
    fn flags_parse_into_simulator_options() {
        assert_eq!(
            simulator(&[]),
            Command::Simulator(SimulatorOptions::default())
        );
        let Command::Simulator(o) = simulator(&[
            "--cursor-port",
            "8001",
            "--github-port",
            "8002",
            "--time-scale",
            "60",
            "--key",
            "k1",
            "--key",
            "-k2",
            "--token",
            "t",
            "--writer",
            "a",
            "--writer",
            "b",
        ]) else {
            panic!()
        };
        assert_eq!(
            o,
            SimulatorOptions {
                cursor_port: 8001,
                github_port: 8002,
                time_scale: 60,
                keys: vec!["k1".into(), "-k2".into()],
                token: Some("t".into()),
                writers: vec!["a".into(), "b".into()],
            }
        );
    }

    #[test]
    fn every_error_a_user_can_hit_is_named_exactly() {
        let cases: &[(&[&str], &str)] = &[
            (&["--port", "1"], "unknown option \"--port\""),
            (&["-x", "1"], "unknown option \"-x\""),
            // A positional argument: `simulator` takes none.
            (&["8001"], "unknown option \"8001\""),
            (&["--key"], "--key needs a value"),
            (&["--token"], "--token needs a value"),
            (&["--writer"], "--writer needs a value"),
            (&["--cursor-port"], "--cursor-port needs a value"),
            (&["--github-port"], "--github-port needs a value"),
            (&["--time-scale"], "--time-scale needs a value"),
            (
                &["--cursor-port", "x"],
                "--cursor-port: \"x\" is not accepted",
            ),
            (
                &["--cursor-port", "70000"],
                "--cursor-port: \"70000\" is not accepted",
            ),
            (
                &["--github-port", "-1"],
                "--github-port: \"-1\" is not accepted",
            ),
            (
                &["--time-scale", "0"],
                "--time-scale: \"0\" is not accepted",
            ),
            (
                &["--time-scale", "1.5"],
                "--time-scale: \"1.5\" is not accepted",
            ),
        ];
        for (args, why) in cases {
            assert_eq!(simulator(args), invalid(why), "{args:?}");
        }
    }

    #[test]
    fn help_wins_and_documents_the_control_endpoints() {
        for args in [
            &["--help"][..],
            &["-h"],
            &["--key", "--help"],
            &["--port", "-h"],
        ] {
            assert_eq!(simulator(args), Command::Usage(help()), "{args:?}");
        }
        assert!(help().starts_with("Usage: cursor-agent-action simulator "));
        assert!(help().contains("POST /_sim/reset"));
        assert!(help().contains("POST /_sim/permissions"));
    }
}
