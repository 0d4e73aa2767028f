//! `cursor-agent-action demo`, the README's first command: the compiled
//! binary, run as a user would (here inside a workflow step, the harder
//! case), shows the log, the outputs, the summary and the comment of a whole
//! run against its in-process simulators.

use crate::support::*;
use cursor_agent_action::marker::Marker;
use cursor_agent_action::runner::escape::is_command_like;

fn demo(scenario: &str, api: Option<&str>) -> std::thread::JoinHandle<Ran> {
    let mut t = ActionTest::new()
        .arg("demo")
        .arg("--scenario")
        .arg(scenario);
    if let Some(api) = api {
        t = t.arg("--api").arg(api);
    }
    std::thread::spawn(move || t.run())
}

/// The lines of `stdout` under the heading `title`, up to the next heading.
fn section<'a>(stdout: &'a str, title: &str) -> &'a str {
    let start = stdout
        .find(&format!("━━ {title} ━━\n"))
        .unwrap_or_else(|| panic!("no section {title:?} in:\n{stdout}"));
    let body = &stdout[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    match body.find("\n━━ ") {
        Some(end) => &body[..end],
        None => body,
    }
}

#[test]
fn the_demo_shows_a_whole_run_and_what_each_scenario_ends_with() {
    // Started together: each takes a few seconds of compressed agent time.
    let finished = demo("finished", Some("v0"));
    let error = demo("error", Some("v0"));
    let hostile = demo("hostile-summary", Some("v0"));
    let refused = demo("storage-mode", Some("v0"));

    let ran = finished.join().unwrap();
    ran.success();
    let out = &ran.stdout;
    assert!(
        section(out, "The step's log").contains("ended FINISHED"),
        "{out}"
    );
    let outputs = section(out, "Step outputs (GITHUB_OUTPUT)");
    assert!(outputs.contains("outcome: finished\n"), "{outputs}");
    assert!(
        outputs.contains("pr-url: https://github.com/Codertocat/Hello-World/pull/"),
        "{outputs}"
    );
    assert!(
        section(out, "Step summary (GITHUB_STEP_SUMMARY)")
            .starts_with("### ✅ Cursor agent finished"),
        "{out}"
    );
    let comment = section(out, "The comment on issue #1");
    assert!(
        comment.starts_with("<!-- cursor-agent-action {"),
        "{comment}"
    );
    assert!(
        comment.contains("### ✅ Cursor agent finished"),
        "{comment}"
    );
    let requests = section(out, "Requests the simulators received");
    for line in [
        "Cursor: POST /v0/agents ×1",
        "GitHub: POST /repos/Codertocat/Hello-World/issues/{id}/comments ×1",
        "Reactions on the issue: eyes, rocket",
    ] {
        assert!(requests.contains(line), "{line:?} in:\n{requests}");
    }
    // Piped, not a terminal: no colour codes. The demo's made-up key stays
    // secret like a real one, and the step's own outputs are left alone.
    assert!(!out.contains('\x1b'), "{out}");
    ran.assert_no_leak(&["crsr_demo_0000000000000000000000"]);
    assert!(ran.raw_outputs.is_empty(), "{}", ran.raw_outputs);

    let ran = error.join().unwrap();
    ran.status(1);
    assert!(
        section(&ran.stdout, "Step outputs (GITHUB_OUTPUT)").contains("outcome: error\n"),
        "{}",
        ran.stdout
    );
    assert!(
        section(&ran.stdout, "The comment on issue #1").contains("Cursor agent failed"),
        "{}",
        ran.stdout
    );

    // The agent's hostile summary reaches every section defused: no line the
    // runner would run as a command, no ping, no raw HTML in the comment.
    let ran = hostile.join().unwrap();
    ran.success();
    let out = &ran.stdout;
    assert!(out.contains("::set-output name=pwned::yes"), "{out}");
    let commands: Vec<&str> = out.lines().filter(|l| is_command_like(l)).collect();
    assert!(commands.is_empty(), "{commands:?}");
    let comment = section(out, "The comment on issue #1");
    assert!(comment.contains("@&#8203;octocat"), "{comment}");
    assert!(!comment.contains("Thanks @octocat"), "{comment}");
    assert!(!comment.contains("<img"), "{comment}");

    let ran = refused.join().unwrap();
    ran.status(1);
    assert!(
        section(&ran.stdout, "The step's log").contains("storage mode is disabled"),
        "{}",
        ran.stdout
    );
    assert!(
        section(&ran.stdout, "Requests the simulators received")
            .contains("Cursor: POST /v0/agents ×1"),
        "{}",
        ran.stdout
    );
}

#[test]
fn the_default_demo_launches_a_v1_agent_and_follows_its_stream() {
    let finished = demo("finished", None);
    let hostile = demo("hostile-summary", Some("v1"));
    let ran = finished.join().unwrap();
    ran.success();
    let out = &ran.stdout;
    let log = section(out, "The step's log");
    for line in [
        "(API v1)",
        "Agent id: bc-",
        "tool: Ran cargo test (running)",
        "agent: Fixed the failing test and opened a pull request.",
        "RUNNING → FINISHED",
    ] {
        assert!(log.contains(line), "{line:?} in:\n{log}");
    }
    let outputs = section(out, "Step outputs (GITHUB_OUTPUT)");
    for line in [
        "outcome: finished\n",
        "run-id: run-",
        "pr-url: https://github.com/Codertocat/Hello-World/pull/",
        "summary: Fixed the failing test",
    ] {
        assert!(outputs.contains(line), "{line:?} in:\n{outputs}");
    }
    // The comment changed while the agent worked: its activity, as it came.
    let changes = section(out, "The comment as it changed (each write)");
    let writes: Vec<&str> = changes.split("\n#").skip(1).collect();
    assert!(writes.len() >= 5, "{changes}");
    let first_activity = writes
        .iter()
        .position(|w| w.contains("Read `README.md`"))
        .unwrap_or_else(|| panic!("no activity in:\n{changes}"));
    let edited = writes
        .iter()
        .position(|w| w.contains("Edited `README.md`"))
        .unwrap_or_else(|| panic!("no edit in:\n{changes}"));
    assert!(first_activity < edited, "{changes}");
    assert!(
        writes[first_activity].contains("> I'll start by reading the README"),
        "{changes}"
    );
    assert!(writes[edited].contains("> Found the typo"), "{changes}");
    assert!(writes.last().unwrap().contains("finished"), "{changes}");
    let comment = section(out, "The comment on issue #1");
    assert!(
        comment.contains("### ✅ Cursor agent finished"),
        "{comment}"
    );
    // The usage line, at the end.
    assert!(comment.contains("**Usage:** "), "{comment}");
    assert!(comment.contains(" tokens (input "), "{comment}");
    assert!(!comment.contains("**Activity**"), "{comment}");
    let requests = section(out, "Requests the simulators received");
    assert!(
        requests.contains("Cursor: POST /v1/agents ×1"),
        "{requests}"
    );
    assert!(
        requests.contains("/v1/agents/{id}/runs/{id}/stream"),
        "{requests}"
    );
    assert!(!requests.contains("/v0/"), "{requests}");
    ran.assert_no_leak(&["crsr_demo_0000000000000000000000"]);

    // Hostile text in the stream reaches the log defused.
    let ran = hostile.join().unwrap();
    ran.success();
    let commands: Vec<&str> = ran.stdout.lines().filter(|l| is_command_like(l)).collect();
    assert!(commands.is_empty(), "{commands:?}");
    let comment = section(&ran.stdout, "The comment on issue #1");
    assert!(!comment.contains("Thanks @octocat"), "{comment}");
    assert!(!comment.contains("<img"), "{comment}");

    // A v0-only scenario says how to see it.
    let ran = ActionTest::new()
        .arg("demo")
        .arg("--scenario")
        .arg("storage-mode")
        .run();
    ran.status(2);
    assert!(ran.stderr.contains("add --api v0"), "{}", ran.stderr);
}

#[test]
fn an_unknown_scenario_names_the_ones_there_are() {
    let ran = ActionTest::new()
        .arg("demo")
        .arg("--scenario")
        .arg("bogus")
        .run();
    ran.status(2);
    assert!(
        ran.stderr
            .contains("unknown scenario \"bogus\"; use one of finished, error, expired"),
        "{}",
        ran.stderr
    );
    // Every scenario `demo --help` lists, the multi-step ones included.
    assert!(ran.stderr.contains(", detached, nightly"), "{}", ran.stderr);
}

#[test]
fn every_subcommand_answers_help_and_names_unknown_flags() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["demo", "--help"],
        &["demo", "-h"],
        &["simulator", "--help"],
        &["simulator", "-h"],
        &["help", "simulator"],
    ] {
        let mut t = ActionTest::new();
        for a in args {
            t = t.arg(a);
        }
        let ran = t.run();
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.stderr);
        assert!(
            ran.stdout.contains("Usage") || ran.stdout.contains("USAGE"),
            "{args:?}: {}",
            ran.stdout
        );
        assert!(ran.stderr.is_empty(), "{args:?}: {}", ran.stderr);
    }
    let sim = ActionTest::new().arg("simulator").arg("--help").run();
    for endpoint in [
        "POST /_sim/scenarios",
        "POST /_sim/faults",
        "POST /_sim/reset",
        "POST /_sim/permissions",
        "GET  /_sim/comments",
    ] {
        assert!(sim.stdout.contains(endpoint), "{endpoint}: {}", sim.stdout);
    }

    for (sub, flag) in [
        ("demo", "--scenaro"),
        ("simulator", "--prot"),
        ("simulator", "-v"),
    ] {
        let ran = ActionTest::new().arg(sub).arg(flag).arg("1").run();
        assert_eq!(ran.code, 2, "{sub} {flag}");
        assert!(
            ran.stderr.contains(&format!("unknown option \"{flag}\"")),
            "{}",
            ran.stderr
        );
        assert!(
            ran.stderr
                .contains(&format!("run `cursor-agent-action {sub} --help`")),
            "{}",
            ran.stderr
        );
    }
}

/// Each kind of bad command line a user can type ends the binary with exit
/// 2, prints nothing on stdout, and says exactly one thing on stderr: what
/// is wrong and where the usage is.
#[test]
fn a_bad_command_line_exits_2_with_exactly_its_message() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["demo", "--scenaro", "error"],
            "unknown option \"--scenaro\"",
        ),
        (&["demo", "error"], "unknown option \"error\""),
        (&["demo", "--scenario"], "--scenario needs a value"),
        (&["demo", "--api"], "--api needs a value (v1 or v0)"),
        (
            &["demo", "--api", "v2"],
            "--api: \"v2\" is not accepted; use v1 or v0",
        ),
        (
            &["simulator", "--port", "8001"],
            "unknown option \"--port\"",
        ),
        (&["simulator", "8001"], "unknown option \"8001\""),
        (&["simulator", "--key"], "--key needs a value"),
        (
            &["simulator", "--time-scale", "0"],
            "--time-scale: \"0\" is not accepted",
        ),
        (
            &["simulator", "--cursor-port", "70000"],
            "--cursor-port: \"70000\" is not accepted",
        ),
    ];
    for (args, why) in cases {
        let mut t = ActionTest::new();
        for a in *args {
            t = t.arg(a);
        }
        let ran = t.run();
        assert_eq!(ran.code, 2, "{args:?}");
        assert_eq!(ran.stdout, "", "{args:?}");
        assert_eq!(
            ran.stderr,
            format!(
                "error: {why}\nrun `cursor-agent-action {} --help` for usage\n",
                args[0]
            ),
            "{args:?}"
        );
    }
    // An unknown first argument: named, then the whole --help (and the
    // blank line it has always ended with).
    let ran = ActionTest::new().arg("frobnicate").run();
    assert_eq!(ran.code, 2);
    assert_eq!(ran.stdout, "");
    assert_eq!(
        ran.stderr,
        format!(
            "error: unknown argument \"frobnicate\"\n\n{}\n",
            cursor_agent_action::cli::help()
        )
    );
}

#[test]
fn the_nightly_demo_keeps_one_pull_request_until_it_is_merged() {
    let runs = [demo("nightly", None), demo("nightly", Some("v0"))];
    for (ran, api) in runs
        .into_iter()
        .map(|h| h.join().unwrap())
        .zip(["v1", "v0"])
    {
        ran.success();
        let out = &ran.stdout;
        let night = |n: u32| section(out, &format!("Night {n}: outputs and pull requests"));
        assert!(
            night(1).contains("pr-url: https://github.com/Codertocat/Hello-World/pull/100\n"),
            "{api}: {out}"
        );
        assert!(night(1).contains("#100 open"), "{api}: {out}");
        assert!(
            section(out, "Night 2: the step's log")
                .contains("Found the job's open pull request #100"),
            "{api}: {out}"
        );
        assert!(
            night(2).contains("pr-url: https://github.com/Codertocat/Hello-World/pull/100\n"),
            "{api}: {out}"
        );
        assert!(
            night(2).contains("2 commit(s) ahead"),
            "{api}: night 2 pushed to it: {out}"
        );
        assert!(night(3).contains("#100 merged"), "{api}: {out}");
        assert!(
            night(3).contains("pr-url: https://github.com/Codertocat/Hello-World/pull/101\n"),
            "{api}: {out}"
        );
        let agent = |n: u32| {
            night(n)
                .lines()
                .find_map(|l| l.strip_prefix("agent-id: "))
                .unwrap()
                .to_string()
        };
        assert_eq!(
            agent(1),
            agent(2),
            "{api}: night 2 continues night 1's agent"
        );
        assert_ne!(agent(2), agent(3), "{api}: a new agent after the merge");
        let tracking = section(out, "The comments on tracking issue #1");
        assert_eq!(
            tracking.matches("### ✅ Cursor agent finished").count(),
            2,
            "{api}: one comment per pull request: {tracking}"
        );
        assert!(out.lines().all(|l| !is_command_like(l)), "{api}");
    }
}

/// Runs the binary with its stdout or stderr a pipe whose reader has already
/// gone (`… | head` once head has exited): every write there fails (EPIPE).
fn with_a_closed(stream: &str, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    use std::process::{Command, Stdio};
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    if stream == "stdout" {
        cmd.stdout(writer).stderr(Stdio::piped());
    } else {
        cmd.stderr(writer).stdout(Stdio::piped());
    }
    let out = cmd.output().unwrap();
    let other = if stream == "stdout" {
        out.stderr
    } else {
        out.stdout
    };
    (
        out.status.code(),
        String::from_utf8_lossy(&other).into_owned(),
    )
}

#[test]
fn a_closed_stdout_or_stderr_ends_quietly_with_the_usual_status() {
    /// (closed stream, arguments, environment, the status the run has anyway)
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
        i32,
    );
    let cases: &[Case] = &[
        ("stdout", &["--help"], &[], 0),
        ("stdout", &["--version"], &[], 0),
        ("stdout", &["demo", "--help"], &[], 0),
        ("stdout", &["demo", "--scenario", "finished"], &[], 0),
        // The action: its log goes to the closed pipe; it still decides.
        ("stdout", &[], &[("INPUT_TIMEOUT", "forever")], 2),
        ("stderr", &["--bogus"], &[], 2),
        ("stderr", &["demo", "--scenario", "bogus"], &[], 2),
    ];
    for (stream, args, env, status) in cases {
        let (code, other) = with_a_closed(stream, args, env);
        // A panic is 101 in this build and 134 (abort) in the release build.
        assert_eq!(code, Some(*status), "{stream} closed, {args:?}: {other}");
        for panic in ["panicked", "internal error", "Broken pipe"] {
            assert!(!other.contains(panic), "{stream} closed, {args:?}: {other}");
        }
    }
}

/// The sweep (#19) as the demo shows it: a detached run, then the sweep
/// step that finalizes its comment.
#[test]
fn the_detached_demo_shows_launch_end_and_sweep() {
    for api in ["v1", "v0"] {
        let ran = demo("detached", Some(api)).join().unwrap();
        ran.success();
        let out = &ran.stdout;
        let open = section(out, "The comment while the agent works");
        assert!(open.contains("Still working"), "{api}: {out}");
        assert!(!Marker::find(open.trim_start()).unwrap().is_final());
        let outputs = section(out, "The sweep's outputs and step summary");
        assert!(outputs.contains("swept: 1\n"), "{api}: {outputs}");
        assert!(outputs.contains("pending: 0\n"), "{api}: {outputs}");
        let last = section(out, "The comment on issue #1, final");
        assert!(last.contains("✅ Cursor agent finished"), "{api}: {out}");
        assert!(Marker::find(last.trim_start()).unwrap().is_final());
        assert!(
            out.contains("Reactions on the issue: eyes, rocket"),
            "{out}"
        );
    }
}

#[test]
fn the_fix_ci_demo_fixes_resets_follows_up_and_stops_the_same_failure() {
    let runs = [demo("fix-ci", None), demo("fix-ci", Some("v0"))];
    for (ran, api) in runs
        .into_iter()
        .map(|h| h.join().unwrap())
        .zip(["v1", "v0"])
    {
        ran.success();
        let out = &ran.stdout;
        let values = |key: &str| -> Vec<&str> {
            out.lines()
                .filter_map(|l| l.strip_prefix(key))
                .map(str::trim)
                .collect()
        };
        assert_eq!(
            values("outcome:"),
            ["finished", "skipped", "finished", "skipped"],
            "{api}: {out}"
        );
        assert_eq!(
            values("reason:"),
            ["", "not-a-failure", "", "same-failure"],
            "{api}: {out}"
        );
        let comment = section(out, "The fix-CI comment on #100, in the end");
        assert_eq!(
            comment.matches("<!-- cursor-agent-action").count(),
            1,
            "{api}: one comment: {comment}"
        );
        assert!(
            comment.contains("the same failure as the last attempt"),
            "{api}: {comment}"
        );
        assert!(
            comment.contains("the count starts again"),
            "{api}: {comment}"
        );
        assert!(out.lines().all(|l| !is_command_like(l)), "{api}");
    }
}
