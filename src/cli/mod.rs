//! Command-line dispatch: the action itself (no arguments), `demo`,
//! `simulator`, `--help` and `--version`.
//!
//! lexopt splits the arguments (ripgrep's choice: no macros, a few kB in the
//! size-optimized release binary); each subcommand's flags are one struct,
//! parsed in its own module beside its `--help` and its tests. The messages
//! are ours, and every one a user can hit is tested word for word.

mod demo;
mod simulator;

pub use demo::DemoArgs;
pub use demo::help as demo_help;
pub use simulator::help as simulator_help;

use crate::demo::SimulatorOptions;
use crate::inputs::{INPUTS, OUTPUTS};
use lexopt::Arg::{Long, Short, Value};
use std::ffi::OsString;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run as a GitHub Actions step (inputs from `INPUT_*`).
    Action,
    /// The full flow against in-process simulators.
    Demo(DemoArgs),
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

/// What the command line asks for. Parsing prints nothing and exits
/// nothing: the caller does both.
pub fn parse(args: &[String]) -> Command {
    let mut p = lexopt::Parser::from_args(args);
    // lexopt's `next` fails only on an option's unread `=value`, and no arm
    // here reads on after an option.
    let Ok(first) = p.next() else {
        unreachable!("the first argument is read before any option")
    };
    match first {
        None => Command::Action,
        Some(Short('h') | Long("help")) => Command::Help,
        Some(Short('V') | Long("version")) => Command::Version,
        Some(Value(sub)) if sub == "help" => match p.next() {
            Ok(None) => Command::Help,
            Ok(Some(Value(sub))) if sub == demo::NAME => Command::Usage(demo::help()),
            Ok(Some(Value(sub))) if sub == simulator::NAME => Command::Usage(simulator::help()),
            Ok(Some(other)) => Command::Unknown(shown(other)),
            Err(_) => unreachable!("`help` is not an option"),
        },
        Some(Value(sub)) if sub == demo::NAME => subcommand(&mut p, demo::NAME, demo::help, |p| {
            demo::parse(p).map(Command::Demo)
        }),
        Some(Value(sub)) if sub == simulator::NAME => {
            subcommand(&mut p, simulator::NAME, simulator::help, |p| {
                simulator::parse(p).map(Command::Simulator)
            })
        }
        Some(other) => Command::Unknown(shown(other)),
    }
}

/// Why a subcommand's flags give nothing to run.
#[derive(Debug)]
enum Halt {
    Help,
    /// Bad flags, with the reason.
    Invalid(String),
}

impl Halt {
    /// An option the subcommand does not take, or a positional argument
    /// (none takes one).
    fn unknown(arg: lexopt::Arg) -> Self {
        Halt::Invalid(format!("unknown option {:?}", shown(arg)))
    }
}

/// Our words for lexopt's errors (its own wording is not ours, and its
/// `Display` would only add to the binary).
impl From<lexopt::Error> for Halt {
    fn from(e: lexopt::Error) -> Self {
        Halt::Invalid(match e {
            lexopt::Error::MissingValue { option: Some(flag) } => format!("{flag} needs a value"),
            // Only `--flag=value` on a flag that takes none, and every such
            // flag here ends the parse before lexopt could say so.
            lexopt::Error::UnexpectedValue { option, .. } => format!("{option} takes no value"),
            _ => "the command line cannot be read".to_string(),
        })
    }
}

/// Subcommand `name`'s flags, read by `parse`, or what to do instead: its
/// usage when `-h`/`--help` is anywhere after its name (even where a value
/// was expected), else the reason they are bad and where to look.
fn subcommand(
    p: &mut lexopt::Parser,
    name: &str,
    help: fn() -> String,
    parse: fn(&mut lexopt::Parser) -> Result<Command, Halt>,
) -> Command {
    let wants_help = p
        .try_raw_args()
        .is_some_and(|rest| rest.as_slice().iter().any(|a| a == "-h" || a == "--help"));
    if wants_help {
        return Command::Usage(help());
    }
    match parse(p) {
        Ok(command) => command,
        Err(Halt::Help) => Command::Usage(help()),
        Err(Halt::Invalid(why)) => Command::Invalid(format!(
            "{why}\nrun `cursor-agent-action {name} --help` for usage"
        )),
    }
}

/// An argument as the user typed it (an option without its `=value`).
fn shown(arg: lexopt::Arg) -> String {
    match arg {
        Short(c) => format!("-{c}"),
        Long(name) => format!("--{name}"),
        Value(v) => text(v),
    }
}

/// An argument's text: [`utf8_args`] let only UTF-8 through.
fn text(arg: OsString) -> String {
    arg.to_string_lossy().into_owned()
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
    use crate::demo::SCENARIOS;

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
            Command::Demo(DemoArgs {
                scenario: "error".into(),
                v0: false
            })
        );
        assert_eq!(
            parse(&args(&["demo"])),
            Command::Demo(DemoArgs {
                scenario: "finished".into(),
                v0: false
            })
        );
    }

    #[test]
    fn an_unknown_first_argument_is_named_as_typed() {
        for arg in ["frobnicate", "--bogus", "-x", "-"] {
            assert_eq!(parse(&args(&[arg])), Command::Unknown(arg.into()), "{arg}");
        }
        // `help` takes only a subcommand's name.
        assert_eq!(parse(&args(&["help"])), Command::Help);
        assert_eq!(
            parse(&args(&["help", "bogus"])),
            Command::Unknown("bogus".into())
        );
        assert_eq!(
            parse(&args(&["help", "--help"])),
            Command::Unknown("--help".into())
        );
        // What follows --help or --version is not read.
        assert_eq!(parse(&args(&["--help", "demo"])), Command::Help);
        assert_eq!(parse(&args(&["--version", "x"])), Command::Version);
    }

    /// What lexopt reads as common command-line parsers do, and the
    /// hand-written parser refused: `--flag=value`, `--` ending the
    /// options, and short options run together (an unknown one is named
    /// alone, an unknown long one without its `=value`).
    #[test]
    fn the_usual_option_syntax_is_understood() {
        let demo = |scenario: &str, v0| {
            Command::Demo(DemoArgs {
                scenario: scenario.into(),
                v0,
            })
        };
        assert_eq!(
            parse(&args(&["demo", "--scenario=error", "--api=v0"])),
            demo("error", true)
        );
        assert_eq!(parse(&args(&["demo", "--"])), demo("finished", false));
        assert_eq!(parse(&args(&["--", "demo"])), demo("finished", false));
        // Nothing after `--` is no arguments: the action, as when run by a step.
        assert_eq!(parse(&args(&["--"])), Command::Action);
        let Command::Simulator(o) = parse(&args(&["simulator", "--time-scale=5", "--key="])) else {
            panic!()
        };
        assert_eq!((o.time_scale, o.keys), (5, vec![String::new()]));
        assert_eq!(
            parse(&args(&["demo", "--scenaro=error"])),
            Command::Invalid(
                "unknown option \"--scenaro\"\nrun `cursor-agent-action demo --help` for usage"
                    .into()
            )
        );
        assert_eq!(
            parse(&args(&["simulator", "-vx"])),
            Command::Invalid(
                "unknown option \"-v\"\nrun `cursor-agent-action simulator --help` for usage"
                    .into()
            )
        );
        assert_eq!(parse(&args(&["demo", "-hx"])), Command::Usage(demo_help()));
        assert_eq!(parse(&args(&["-hV"])), Command::Help);
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
