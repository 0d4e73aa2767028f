//! Input parsing: names, defaults, every rejection, and the one error that
//! reports them all.

use crate::support::*;
use cursor_agent_action::inputs::image::samples;
use cursor_agent_action::inputs::{
    InputErrors, Inputs, OnCancel, OnTimeout, PromptSource, RawInputs, RepoSpec,
};
use kit::env::Env;
use std::path::Path;
use std::time::Duration;

fn parse_in(dir: &Path, pairs: &[(&str, &str)]) -> Result<Inputs, InputErrors> {
    // v0 unless a test sets `api-version` (the v1 rules have tests of their own).
    let mut env: Vec<(String, String)> = vec![
        ("INPUT_CURSOR-API-KEY".into(), KEY.into()),
        ("INPUT_API-VERSION".into(), "v0".into()),
    ];
    for (k, v) in pairs {
        env.push((k.to_string(), v.to_string()));
    }
    Inputs::parse(&RawInputs::read(&Env::from_pairs(env)), dir)
}

fn parse(pairs: &[(&str, &str)]) -> Result<Inputs, InputErrors> {
    parse_in(Path::new("/nonexistent-workspace"), pairs)
}

fn rejection(pairs: &[(&str, &str)]) -> String {
    parse(pairs).expect_err("should be rejected").to_string()
}

#[test]
fn hyphenated_names_win_and_underscores_are_the_fallback() {
    let i = parse(&[
        ("INPUT_ON-TIMEOUT", "stop"),
        ("INPUT_ON_TIMEOUT", "continue"),
    ])
    .unwrap();
    assert_eq!(i.on_timeout, OnTimeout::Stop);
    let i = parse(&[
        ("INPUT_ON_TIMEOUT", "continue"),
        ("INPUT_ON_CANCEL", "stop"),
    ])
    .unwrap();
    assert_eq!(i.on_timeout, OnTimeout::Continue);
    assert_eq!(i.on_cancel, OnCancel::Stop);
    // An empty hyphenated value (the runner's "omitted") falls through.
    let i = parse(&[("INPUT_ON-TIMEOUT", ""), ("INPUT_ON_TIMEOUT", "continue")]).unwrap();
    assert_eq!(i.on_timeout, OnTimeout::Continue);
}

#[test]
fn empty_means_unset() {
    let i = parse(&[
        ("INPUT_TIMEOUT", ""),
        ("INPUT_WAIT", "  "),
        ("INPUT_PROMPT", ""),
    ])
    .unwrap();
    assert_eq!(i.timeout, Duration::from_secs(2700));
    assert!(i.wait);
    assert_eq!(i.prompt, None);
}

#[test]
fn every_value_kind_parses() {
    let i = parse(&[
        ("INPUT_PROMPT", "Fix the bug"),
        ("INPUT_INCLUDE-CONTEXT", "FALSE"),
        ("INPUT_MODEL", "claude-4.5-sonnet-thinking"),
        ("INPUT_REPOSITORY", "octo-org/octo-repo"),
        ("INPUT_REF", "refs/heads/develop"),
        ("INPUT_BRANCH-NAME", "cursor/fix-bug"),
        ("INPUT_AUTO-CREATE-PR", "True"),
        ("INPUT_OPEN-AS-CURSOR-GITHUB-APP", "true"),
        ("INPUT_SKIP-REVIEWER-REQUEST", "true"),
        ("INPUT_WEBHOOK-URL", "https://hooks.example.com/cursor"),
        ("INPUT_WEBHOOK-SECRET", &"s".repeat(32)),
        ("INPUT_WAIT", "false"),
        ("INPUT_TIMEOUT", "1h30m"),
        ("INPUT_POLL-INTERVAL", "5s"),
        ("INPUT_MAX-POLL-INTERVAL", "2m"),
        ("INPUT_ON-TIMEOUT", "Continue"),
        ("INPUT_ON-CANCEL", "STOP"),
        ("INPUT_COMMENT", "false"),
        ("INPUT_ISSUE-NUMBER", "#42"),
        ("INPUT_FOLLOWUP", "false"),
        ("INPUT_TRIGGER-PHRASE", " /cursor "),
        ("INPUT_LABEL", "cursor"),
        (
            "INPUT_ALLOWED-BOTS",
            "dependabot[bot], renovate\nmy-app[bot]",
        ),
        ("INPUT_GITHUB-TOKEN", TOKEN),
        ("INPUT_API-URL", "http://127.0.0.1:9/prefix/"),
        ("INPUT_DRY-RUN", "true"),
    ])
    .unwrap();
    assert_eq!(i.prompt, Some(PromptSource::Text("Fix the bug".into())));
    assert!(!i.include_context);
    assert_eq!(
        i.repository,
        Some(RepoSpec::Shorthand {
            owner: "octo-org".into(),
            name: "octo-repo".into()
        })
    );
    assert_eq!(i.git_ref.as_deref(), Some("develop"));
    assert_eq!(i.timeout, Duration::from_secs(5400));
    assert_eq!(i.poll_interval, Duration::from_secs(5));
    assert_eq!(i.max_poll_interval, Duration::from_secs(120));
    assert_eq!(i.on_timeout, OnTimeout::Continue);
    assert_eq!(i.on_cancel, OnCancel::Stop);
    assert_eq!(i.issue_number, Some(42));
    assert_eq!(i.trigger_phrase.as_deref(), Some("/cursor"));
    assert_eq!(
        i.allowed_bots,
        vec!["dependabot[bot]", "renovate", "my-app[bot]"]
    );
    assert_eq!(i.api_url.as_str(), "http://127.0.0.1:9/prefix");
    assert!(i.dry_run && !i.wait && !i.comment && !i.followup);
    assert_eq!(
        i.webhook.as_ref().unwrap().url,
        "https://hooks.example.com/cursor"
    );
}

#[test]
fn each_bad_value_is_rejected_with_what_is_accepted() {
    let cases: &[(&str, &str, &str)] = &[
        ("INPUT_INCLUDE-CONTEXT", "yes", "use true or false"),
        ("INPUT_WAIT", "1", "use true or false"),
        ("INPUT_DRY-RUN", "on", "use true or false"),
        // `@actions/core`'s getBooleanInput refuses mixed case too.
        (
            "INPUT_SWEEP",
            "tRuE",
            "accepted spellings: true, True, TRUE, false, False or FALSE",
        ),
        ("INPUT_FOLLOWUP", "fALSE", "use true or false"),
        ("INPUT_TIMEOUT", "45", "has no unit"),
        ("INPUT_TIMEOUT", "forever", "e.g. 90s, 10m or 1h30m"),
        ("INPUT_TIMEOUT", "0s", "out of range"),
        (
            "INPUT_TIMEOUT",
            "48h",
            "out of range; use a value from 1s to 24h",
        ),
        ("INPUT_TIMEOUT", "99999999999999999999s", "too large"),
        ("INPUT_POLL-INTERVAL", "2h", "out of range"),
        ("INPUT_ON-TIMEOUT", "explode", "use fail, stop or continue"),
        ("INPUT_ON-CANCEL", "kill", "use leave or stop"),
        ("INPUT_ISSUE-NUMBER", "abc", "positive whole number"),
        ("INPUT_ISSUE-NUMBER", "-3", "positive whole number"),
        ("INPUT_MODEL", "gpt 5", "no spaces"),
        ("INPUT_REPOSITORY", "just-a-name", "owner/repo"),
        ("INPUT_REF", "bad ref", "branch, tag or commit"),
        ("INPUT_REF", "refs/pull/4/merge", "pr-url"),
        (
            "INPUT_PR-URL",
            "https://github.com/o/r/issues/4",
            "pull request URL",
        ),
        ("INPUT_BRANCH-NAME", "feature..x", "not a valid branch name"),
        ("INPUT_WEBHOOK-URL", "not a url", "absolute URL"),
        (
            "INPUT_TRIGGER-PHRASE",
            &"x".repeat(101),
            "at most 100 characters",
        ),
        ("INPUT_LABEL", &"l".repeat(51), "at most 50"),
        ("INPUT_ALLOWED-BOTS", "*", "wildcard"),
        (
            "INPUT_ALLOWED-BOTS",
            "good-bot, bad bot!",
            "not a GitHub login",
        ),
        ("INPUT_API-URL", "api.cursor.com", "absolute URL"),
        (
            "INPUT_API-URL",
            "https://key:secret@api.cursor.com",
            "credentials",
        ),
        (
            "INPUT_GITHUB-TOKEN",
            "two words",
            "does not look like a token",
        ),
    ];
    for (var, value, expected) in cases {
        let message = rejection(&[(var, value)]);
        let input = var.trim_start_matches("INPUT_").to_ascii_lowercase();
        assert!(
            message.contains(&format!("`{input}`")),
            "{var}={value:?}: {message}"
        );
        assert!(message.contains(expected), "{var}={value:?}: {message}");
    }
}

#[test]
fn the_key_is_required_and_checked() {
    let e = Inputs::parse(
        &RawInputs::read(&Env::from_pairs([("INPUT_PROMPT", "x")])),
        Path::new("/"),
    )
    .unwrap_err();
    assert_eq!(e.names(), vec!["cursor-api-key"]);
    assert!(e.to_string().contains("secrets.CURSOR_API_KEY"));
    let e = Inputs::parse(
        &RawInputs::read(&Env::from_pairs([("INPUT_CURSOR-API-KEY", "crsr_a b")])),
        Path::new("/"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("does not look like an API key"));
    assert!(
        !e.to_string().contains("crsr_a b"),
        "the key value is never echoed"
    );
}

#[test]
fn combinations_that_cannot_work_are_rejected() {
    let m = rejection(&[("INPUT_PROMPT", "a"), ("INPUT_PROMPT-FILE", "b.md")]);
    assert!(
        m.contains("`prompt-file`: cannot be combined with `prompt`"),
        "{m}"
    );
    let m = rejection(&[
        ("INPUT_PR-URL", "https://github.com/o/r/pull/1"),
        ("INPUT_REF", "main"),
        ("INPUT_REPOSITORY", "o/r"),
    ]);
    assert!(
        m.contains("`repository`: cannot be combined with `pr-url`")
            && m.contains("`ref`: cannot be combined"),
        "{m}"
    );
    let m = rejection(&[
        ("INPUT_AUTO-CREATE-PR", "false"),
        ("INPUT_OPEN-AS-CURSOR-GITHUB-APP", "true"),
    ]);
    assert!(m.contains("needs `auto-create-pr: true`"), "{m}");
    let m = rejection(&[("INPUT_SKIP-REVIEWER-REQUEST", "true")]);
    assert!(m.contains("needs `open-as-cursor-github-app: true`"), "{m}");
    let m = rejection(&[("INPUT_WEBHOOK-SECRET", &"s".repeat(40))]);
    assert!(m.contains("without `webhook-url`"), "{m}");
    let m = rejection(&[
        ("INPUT_WEBHOOK-URL", "https://x.example"),
        ("INPUT_WEBHOOK-SECRET", "short"),
    ]);
    assert!(m.contains("32 to 256"), "{m}");
    let m = rejection(&[
        ("INPUT_POLL-INTERVAL", "2m"),
        ("INPUT_MAX-POLL-INTERVAL", "1m"),
    ]);
    assert!(
        m.contains("`max-poll-interval`: (1m) is shorter than `poll-interval` (2m)"),
        "{m}"
    );
}

#[test]
fn all_problems_are_reported_together_in_table_order() {
    let e = parse(&[
        ("INPUT_DRY-RUN", "maybe"),
        ("INPUT_TIMEOUT", "soon"),
        ("INPUT_WAIT", "yes"),
        ("INPUT_ON-TIMEOUT", "x"),
    ])
    .unwrap_err();
    assert_eq!(e.names(), vec!["wait", "timeout", "on-timeout", "dry-run"]);
    assert!(
        e.to_string()
            .starts_with("4 inputs are invalid:\n  - `wait`:"),
        "{e}"
    );
}

#[test]
fn prompt_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("task.md"), "Refresh the docs").unwrap();
    let i = parse_in(dir.path(), &[("INPUT_PROMPT-FILE", "task.md")]).unwrap();
    assert_eq!(i.prompt.unwrap().text(), "Refresh the docs");

    let big = dir.path().join("big.txt");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(10 * 1024 * 1024).unwrap();
    let m = parse_in(dir.path(), &[("INPUT_PROMPT-FILE", "big.txt")])
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("`prompt-file`: \"big.txt\" is 10485760 bytes; the limit is 262144"),
        "{m}"
    );

    std::fs::write(dir.path().join("bin.dat"), [0xff, 0xfe, 0x00]).unwrap();
    let m = parse_in(dir.path(), &[("INPUT_PROMPT-FILE", "bin.dat")])
        .unwrap_err()
        .to_string();
    assert!(m.contains("not UTF-8"), "{m}");
    std::fs::write(dir.path().join("empty.md"), "  \n").unwrap();
    let m = parse_in(dir.path(), &[("INPUT_PROMPT-FILE", "empty.md")])
        .unwrap_err()
        .to_string();
    assert!(m.contains("is empty"), "{m}");
    let m = parse_in(dir.path(), &[("INPUT_PROMPT-FILE", "missing.md")])
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("\"missing.md\" (paths are relative to the workspace"),
        "{m}"
    );
    let m = parse_in(dir.path(), &[("INPUT_PROMPT", &"x".repeat(300_000))])
        .unwrap_err()
        .to_string();
    assert!(m.contains("`prompt`: is 300000 bytes"), "{m}");
}

#[test]
fn images() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.png"), samples::png(1024, 768)).unwrap();
    std::fs::write(dir.path().join("b.jpg"), samples::jpeg(640, 480)).unwrap();
    std::fs::write(dir.path().join("c.gif"), samples::gif(10, 20)).unwrap();
    std::fs::write(dir.path().join("d.webp"), samples::webp(30, 40)).unwrap();
    std::fs::write(dir.path().join("notes.png"), b"just text").unwrap();
    let i = parse_in(
        dir.path(),
        &[("INPUT_IMAGES", "a.png\n\n b.jpg \nc.gif\nd.webp\n")],
    )
    .unwrap();
    let dims: Vec<(u32, u32)> = i
        .images
        .iter()
        .map(|im| (im.info.width, im.info.height))
        .collect();
    assert_eq!(dims, vec![(1024, 768), (640, 480), (10, 20), (30, 40)]);

    let m = parse_in(
        dir.path(),
        &[("INPUT_IMAGES", "a.png\na.png\na.png\na.png\na.png\na.png")],
    )
    .unwrap_err()
    .to_string();
    assert!(
        m.contains("lists 6 images; Cursor accepts at most 5"),
        "{m}"
    );
    let m = parse_in(dir.path(), &[("INPUT_IMAGES", "notes.png\nnope.png")])
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("\"notes.png\" is not a PNG, JPEG, GIF or WebP image"),
        "{m}"
    );
    assert!(
        m.contains("\"nope.png\" (paths are relative to the workspace"),
        "{m}"
    );
}

#[test]
fn a_directory_named_as_an_image_or_prompt_file_is_called_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("screenshots")).unwrap();
    let m = parse_in(dir.path(), &[("INPUT_IMAGES", "screenshots")])
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("`images`: \"screenshots\" (paths are relative to the workspace")
            && m.contains("is a directory, not a file; list each image file on its own line"),
        "{m}"
    );
    assert!(!m.contains("does not exist"), "{m}");
    let m = parse_in(dir.path(), &[("INPUT_PROMPT-FILE", "screenshots")])
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("`prompt-file`: \"screenshots\"")
            && m.contains("is a directory, not a file; name the file itself"),
        "{m}"
    );
    assert!(!m.contains("does not exist"), "{m}");
}

#[test]
fn bad_inputs_exit_2_with_one_error_and_no_request() {
    // A port nothing listens on: any request would fail loudly, not hang.
    let ran = ActionTest::new()
        .event("issues.labeled", "issues.labeled.json")
        .input("cursor-api-key", KEY)
        .input("api-url", "http://127.0.0.1:9")
        .input("timeout", "10 minutes")
        .input("on-cancel", "abandon")
        .input("images", "missing.png")
        .run();
    ran.status(2);
    let errors = ran.commands("error");
    assert_eq!(errors.len(), 1, "{}", ran.stdout);
    for name in ["`images`", "`timeout`", "`on-cancel`"] {
        assert!(errors[0].contains(name), "{}", errors[0]);
    }
    assert!(
        ran.outputs.is_empty(),
        "no outputs for a configuration error"
    );
    ran.stdout_lacks("Launching");
}

#[test]
fn a_malformed_environment_exits_2_naming_the_variable() {
    let ran = ActionTest::new()
        .input("cursor-api-key", KEY)
        .input("prompt", "x")
        .env("GITHUB_REPOSITORY", "no-slash")
        .run();
    ran.status(2);
    assert!(
        ran.commands("error")[0].contains("GITHUB_REPOSITORY"),
        "{}",
        ran.stdout
    );

    let ran = ActionTest::new()
        .input("cursor-api-key", KEY)
        .input("prompt", "x")
        .env("GITHUB_EVENT_NAME", "issues")
        .env("GITHUB_EVENT_PATH", "/nonexistent/event.json")
        .run();
    ran.status(2);
    assert!(
        ran.commands("error")[0].contains("GITHUB_EVENT_PATH"),
        "{}",
        ran.stdout
    );

    let t = ActionTest::new()
        .input("cursor-api-key", KEY)
        .input("prompt", "x");
    let bad = t.dir.path().join("bad.json");
    std::fs::write(&bad, b"{not json").unwrap();
    let ran = t
        .env("GITHUB_EVENT_NAME", "issues")
        .env("GITHUB_EVENT_PATH", &bad.display().to_string())
        .run();
    ran.status(2);
    assert!(
        ran.commands("error")[0].contains("not JSON"),
        "{}",
        ran.stdout
    );

    // Valid JSON, wrong shape for the event.
    let ran = ActionTest::new()
        .input("cursor-api-key", KEY)
        .event_json("issues", &serde_json::json!({"issue": "nope"}))
        .run();
    ran.status(2);
    assert!(
        ran.commands("error")[0].contains("not a valid `issues` event"),
        "{}",
        ran.stdout
    );
}

/// The binary with `t`'s environment plus one variable, or one argument,
/// holding bytes that are not UTF-8 (the runner passes bytes through).
#[cfg(unix)]
fn run_with_bytes(t: ActionTest, var: Option<&str>, arg: bool) -> std::process::Output {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"crsr_\xff\xfe");
    let mut cmd = std::process::Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(&t.env)
        .stdin(std::process::Stdio::null());
    if let Some(var) = var {
        cmd.env(var, bad);
    }
    if arg {
        cmd.arg("demo").arg("--scenario").arg(bad);
    }
    cmd.output().unwrap()
}

#[cfg(unix)]
#[test]
fn non_utf8_values_and_arguments_are_named_not_a_panic_or_empty() {
    let t = ActionTest::new().input("prompt", "Fix the typo");
    let out = run_with_bytes(t, Some("INPUT_CURSOR-API-KEY"), false);
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{log}");
    assert!(
        log.contains(
            "`cursor-api-key`: is not valid UTF-8 text (the variable INPUT_CURSOR-API-KEY"
        ),
        "{log}"
    );
    assert!(
        !log.contains("is empty") && !log.contains("panicked"),
        "{log}"
    );

    let out = run_with_bytes(ActionTest::new(), None, true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("argument 3 (\"crsr_\u{fffd}\u{fffd}\") is not valid UTF-8"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_empty_key_on_a_fork_pull_request_says_secrets_are_withheld() {
    let mut payload = fixture("pull_request.opened.json");
    payload["pull_request"]["head"]["repo"]["full_name"] = "forker/Hello-World".into();
    let ran = ActionTest::new()
        .event_json("pull_request", &payload)
        .input("prompt", "Review this")
        .input("cursor-api-key", "")
        .run();
    assert_eq!(ran.code, 2, "{}", ran.stdout);
    let log = &ran.stdout;
    assert!(log.contains("::error"), "{log}");
    assert!(log.contains("`cursor-api-key`: is empty: this `pull_request` run comes from the fork forker/Hello-World"), "{log}");
    assert!(log.contains("GitHub does not pass secrets"), "{log}");
    assert!(
        log.contains("trigger-phrase") && log.contains("label"),
        "{log}"
    );

    // Not a fork: the secret is simply not set, and the message says which.
    let ran = ActionTest::new()
        .event("issues", "issues.labeled.json")
        .input("prompt", "Fix it")
        .run();
    assert_eq!(ran.code, 2, "{}", ran.stdout);
    assert!(ran.stdout.contains("`cursor-api-key`: is empty: the secret passed to it (e.g. `${{ secrets.CURSOR_API_KEY }}`) is not set"), "{}", ran.stdout);
    assert!(
        !ran.stdout.contains("comes from the fork"),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_prompt_near_the_environment_limit_is_pointed_to_prompt_file() {
    let ran = ActionTest::new()
        .input("cursor-api-key", KEY)
        .input("prompt", &"fix the typo ".repeat(121 * 1024 / 13 + 1))
        .input("dry-run", "true")
        .run();
    ran.success();
    assert!(
        ran.stdout.contains("::warning"),
        "{}",
        &ran.stdout[..2000.min(ran.stdout.len())]
    );
    assert!(ran.stdout.contains("pass it with `prompt-file`"));
    // Well below the limit: no warning.
    let ran = ActionTest::new()
        .input("cursor-api-key", KEY)
        .input("prompt", "fix the typo")
        .input("dry-run", "true")
        .run();
    ran.success();
    assert!(!ran.stdout.contains("prompt-file"), "{}", ran.stdout);
}

#[test]
fn a_file_that_only_starts_like_a_gif_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut fake = b"GIF89a\x40\x00\x40\x00\x00\x00\x00".to_vec();
    fake.extend_from_slice(b"#!/bin/sh\necho not an image\n");
    std::fs::write(dir.path().join("fake.gif"), fake).unwrap();
    let whole = samples::gif(64, 64);
    std::fs::write(dir.path().join("cut.gif"), &whole[..whole.len() - 1]).unwrap();
    std::fs::write(dir.path().join("ok.gif"), &whole).unwrap();
    for name in ["fake.gif", "cut.gif"] {
        let m = parse_in(dir.path(), &[("INPUT_IMAGES", name)])
            .unwrap_err()
            .to_string();
        assert!(m.contains("`images`") && m.contains(name), "{m}");
        assert!(m.contains("truncated or corrupt"), "{m}");
    }
    let i = parse_in(dir.path(), &[("INPUT_IMAGES", "ok.gif")]).unwrap();
    assert_eq!((i.images[0].info.width, i.images[0].info.height), (64, 64));
}
