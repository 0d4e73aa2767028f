//! `demo`: its flags, parsed into [`DemoArgs`], and its `--help`.

use super::{Halt, text};
use crate::demo::{SCENARIOS, V1_SCENARIOS};
use lexopt::Arg::{Long, Short};

/// `demo [--scenario NAME] [--api v1|v0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoArgs {
    /// Checked against the scenarios by the demo itself, which names them.
    pub scenario: String,
    /// `--api v0`: the legacy API's flow instead of v1's.
    pub v0: bool,
}

impl Default for DemoArgs {
    fn default() -> Self {
        Self {
            scenario: "finished".to_string(),
            v0: false,
        }
    }
}

pub(super) const NAME: &str = "demo";

/// The flags after `demo`.
pub(super) fn parse(p: &mut lexopt::Parser) -> Result<DemoArgs, Halt> {
    let mut args = DemoArgs::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => return Err(Halt::Help),
            Long("scenario") => args.scenario = text(p.value()?),
            Long("api") => {
                let Ok(api) = p.value() else {
                    return Err(Halt::Invalid("--api needs a value (v1 or v0)".into()));
                };
                args.v0 = match text(api).as_str() {
                    "v0" => true,
                    "v1" => false,
                    other => {
                        return Err(Halt::Invalid(format!(
                            "--api: {other:?} is not accepted; use v1 or v0"
                        )));
                    }
                };
            }
            other => return Err(Halt::unknown(other)),
        }
    }
    Ok(args)
}

/// `demo --help`.
pub fn help() -> String {
    format!(
        "Usage: cursor-agent-action demo [--scenario NAME] [--api v1|v0]\n\n\
Runs the whole action (launch, wait, report) against in-process simulators of the Cursor and\n\
GitHub APIs: no key, no network. Prints the step's log, outputs, step summary and the comment.\n\
On v1 (the default) the agent's run is followed over its stream: its activity in the log, each\n\
write of the comment (its heading, status and activity, edited at most every 10 s) and the final\n\
comment with the run's usage.\n\n\
OPTIONS:\n    --scenario NAME   one of: {} [default: finished]\n                      (on v1: {}; the others need --api v0)\n                      or detached: launch with wait: false, the job ends, the agent finishes,\n                      and a later sweep (sweep: true) finalizes the comment (v1 or v0)\n                      or nightly: three nights of a scheduled job keeping one pull request\n                      (opened, updated, merged and a new one opened; v1 or v0)\n                      or fix-ci: CI fails on a pull request, an agent fixes it, CI passes,\n                      and a repeated failure is stopped by its fingerprint (v1 or v0)\n    --api v1|v0       the Cursor API version [default: v1]\n    -h, --help        this text\n\n\
EXIT STATUS: as the action would end: 0 for finished, no-summary and hostile-summary; 1, on purpose,\n\
for error and expired (the agent failed) and for storage-mode and not-connected (Cursor refused\n\
the launch: the output says what to fix); 2 for an unknown scenario or option.\n",
        SCENARIOS.join(", "),
        V1_SCENARIOS.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::super::{Command, parse};
    use super::*;

    fn demo(args: &[&str]) -> Command {
        let mut all = vec!["demo".to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        parse(&all)
    }

    fn invalid(why: &str) -> Command {
        Command::Invalid(format!(
            "{why}\nrun `cursor-agent-action demo --help` for usage"
        ))
    }

    #[test]
    fn flags_parse_into_demo_args() {
        let args = |scenario: &str, v0| {
            Command::Demo(DemoArgs {
                scenario: scenario.into(),
                v0,
            })
        };
        assert_eq!(demo(&[]), args("finished", false));
        assert_eq!(demo(&["--scenario", "error"]), args("error", false));
        assert_eq!(demo(&["--api", "v0"]), args("finished", true));
        assert_eq!(
            demo(&["--api", "v0", "--api", "v1"]),
            args("finished", false)
        );
        // The last one wins; a value is taken even when it looks like a flag
        // (the demo then names the scenarios there are).
        assert_eq!(
            demo(&[
                "--scenario",
                "nightly",
                "--api",
                "v0",
                "--scenario",
                "error"
            ]),
            args("error", true)
        );
        assert_eq!(demo(&["--scenario", "--api"]), args("--api", false));
    }

    #[test]
    fn every_error_a_user_can_hit_is_named_exactly() {
        let cases: &[(&[&str], &str)] = &[
            (&["--scenaro", "1"], "unknown option \"--scenaro\""),
            (&["-v"], "unknown option \"-v\""),
            // A positional argument: `demo` takes none.
            (&["error"], "unknown option \"error\""),
            (&["-"], "unknown option \"-\""),
            (&["--scenario"], "--scenario needs a value"),
            (&["--api"], "--api needs a value (v1 or v0)"),
            (
                &["--api", "v2"],
                "--api: \"v2\" is not accepted; use v1 or v0",
            ),
            (&["--api", ""], "--api: \"\" is not accepted; use v1 or v0"),
            (
                &["--api", "V0"],
                "--api: \"V0\" is not accepted; use v1 or v0",
            ),
        ];
        for (args, why) in cases {
            assert_eq!(demo(args), invalid(why), "{args:?}");
        }
    }

    #[test]
    fn help_wins_over_everything_else() {
        for args in [
            &["--help"][..],
            &["-h"],
            &["--scenario", "--help"],
            &["--api", "bogus", "--help"],
            &["--bogus", "-h"],
        ] {
            assert_eq!(demo(args), Command::Usage(help()), "{args:?}");
        }
        assert!(help().starts_with("Usage: cursor-agent-action demo "));
        for s in SCENARIOS.iter().chain(V1_SCENARIOS) {
            assert!(help().contains(s), "{s}");
        }
    }
}
