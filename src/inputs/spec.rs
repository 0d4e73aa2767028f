//! The action's interface, one entry per input and output: name, default,
//! description, and how a value is parsed and checked. `--help`, `action.yml`
//! and the README are generated or checked from this file, so they never
//! drift; [`super::Inputs::parse`] reads every entry into its field, then
//! applies the rules across inputs.
//!
//! Adding an input: an entry below, its line in [`INPUTS`] (the order of
//! `action.yml`, `--help` and of reported errors), a field of `Inputs` read
//! in `Inputs::parse`, then `action.yml` and `scripts/readme-tables.py`.

use super::files::{self, MAX_PROMPT_BYTES, PROMPT_FILE_ADVICE};
use super::parse;
use super::values::{AgentMode, ApiVersion, Image, OnCancel, OnTimeout, PrBranch, RepoSpec};
use kit::secret::Secret;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// What `action.yml`, `--help` and the README say about one input.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    pub name: &'static str,
    /// The `default:` in `action.yml` (empty: none). An input whose field
    /// always has a value is parsed from it when unset or rejected.
    pub default: &'static str,
    pub description: &'static str,
    pub required: bool,
    /// Masked at once, never shown in `Debug`.
    pub secret: bool,
}

/// One input: its spec, and how a value becomes its field's value.
pub(crate) struct Input<T> {
    pub(crate) spec: InputSpec,
    /// Parses a value (as the environment gave it; never empty) or says why
    /// not, phrased to follow "`name`: ". Relative paths resolve against the
    /// workspace, the second argument.
    pub(crate) parse: fn(&str, &Path) -> Result<T, String>,
}

impl<T> Input<T> {
    /// The input `name`, its `action.yml` default and description, and how
    /// its value is parsed.
    const fn new(
        name: &'static str,
        default: &'static str,
        description: &'static str,
        parse: fn(&str, &Path) -> Result<T, String>,
    ) -> Self {
        Input {
            spec: InputSpec {
                name,
                default,
                description,
                required: false,
                secret: false,
            },
            parse,
        }
    }

    pub(crate) const fn name(&self) -> &'static str {
        self.spec.name
    }

    const fn required(mut self) -> Self {
        self.spec.required = true;
        self
    }

    const fn secret(mut self) -> Self {
        self.spec.secret = true;
        self
    }
}

/// A boolean input, read as `@actions/core` reads booleans.
const fn flag(name: &'static str, default: &'static str, description: &'static str) -> Input<bool> {
    Input::new(name, default, description, |v, _| parse::boolean(v))
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const LONGEST_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
const LONGEST_POLL_INTERVAL: Duration = Duration::from_secs(3600);
/// The sweep looks back at most this far (GitHub keeps agents' comments
/// for ever; Cursor's agents do not last that long).
const LONGEST_SWEEP_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);

/// Every input, in the order of `action.yml`, `--help` and reported errors.
pub const INPUTS: &[InputSpec] = &[
    CURSOR_API_KEY.spec,
    API_VERSION.spec,
    PROMPT.spec,
    PROMPT_FILE.spec,
    INCLUDE_CONTEXT.spec,
    IMAGES.spec,
    MODEL.spec,
    REPOSITORY.spec,
    REF.spec,
    PR_URL.spec,
    PR_BRANCH.spec,
    BRANCH_NAME.spec,
    WORK_ON_CURRENT_BRANCH.spec,
    MODE.spec,
    ARCHIVE_WHEN_DONE.spec,
    LAUNCH_KEY.spec,
    UPDATE_OPEN_PR.spec,
    AUTO_CREATE_PR.spec,
    OPEN_AS_CURSOR_GITHUB_APP.spec,
    SKIP_REVIEWER_REQUEST.spec,
    WEBHOOK_URL.spec,
    WEBHOOK_SECRET.spec,
    WAIT.spec,
    TIMEOUT.spec,
    POLL_INTERVAL.spec,
    MAX_POLL_INTERVAL.spec,
    ON_TIMEOUT.spec,
    ON_CANCEL.spec,
    COMMENT.spec,
    ISSUE_NUMBER.spec,
    FOLLOWUP.spec,
    TRIGGER_PHRASE.spec,
    LABEL.spec,
    ALLOWED_BOTS.spec,
    ALLOW_UNKNOWN_EVENTS.spec,
    GITHUB_TOKEN.spec,
    API_URL.spec,
    DRY_RUN.spec,
    SWEEP.spec,
    SWEEP_WINDOW.spec,
    DOWNLOAD_ARTIFACTS.spec,
    ARTIFACTS_URL.spec,
    MAX_LAUNCHES_PER_ISSUE.spec,
    FIX_CI.spec,
    FIX_CI_MAX_ATTEMPTS.spec,
    REDACT.spec,
];

pub(crate) const CURSOR_API_KEY: Input<Secret> = Input::new(
    "cursor-api-key",
    "",
    "Cursor API key; masked at once.",
    |v, _| {
        let key = v.trim();
        if key.chars().any(char::is_whitespace) || key.len() > 1024 {
            Err("does not look like an API key (it contains spaces or line breaks, or is very long); copy the key again".into())
        } else {
            Ok(Secret::new(key))
        }
    },
)
.required()
.secret();

pub(crate) const API_VERSION: Input<ApiVersion> = Input::new(
    "api-version",
    "v1",
    "Cursor API version: `v1` (durable agents and runs, followed live over SSE) or `v0` (the legacy API, polled). `branch-name`, `webhook-url`/`webhook-secret` and `open-as-cursor-github-app` need `v0`.",
    |v, _| {
        Ok(match parse::choice(v, &["v1", "v0"])? {
            "v0" => ApiVersion::V0,
            _ => ApiVersion::V1,
        })
    },
);

pub(crate) const PROMPT: Input<String> = Input::new(
    "prompt",
    "",
    "The task for the agent. When empty, it is built from the triggering issue, pull request or comment.",
    |v, _| {
        if v.len() as u64 > MAX_PROMPT_BYTES {
            Err(format!(
                "is {} bytes; the limit is {MAX_PROMPT_BYTES}; {PROMPT_FILE_ADVICE}",
                v.len()
            ))
        } else {
            Ok(v.to_string())
        }
    },
);

pub(crate) const PROMPT_FILE: Input<(PathBuf, String)> = Input::new(
    "prompt-file",
    "",
    "Read the task from this file (relative to the workspace) instead of `prompt`.",
    |v, workspace| files::read_prompt_file(workspace, v),
);

pub(crate) const INCLUDE_CONTEXT: Input<bool> = flag(
    "include-context",
    "true",
    "Append the triggering issue/PR/comment as it was at trigger time, hidden content stripped, fenced as untrusted.",
);

pub(crate) const IMAGES: Input<Vec<Image>> = Input::new(
    "images",
    "",
    "Newline-separated image paths (PNG, JPEG, GIF or WebP; at most 5) sent with the prompt (v1 as data with its MIME type, v0 with its dimensions).",
    |v, workspace| files::read_images(workspace, v),
);

pub(crate) const MODEL: Input<String> = Input::new(
    "model",
    "",
    "Model id for the agent; empty uses Cursor's default.",
    |v, _| {
        let v = v.trim();
        if v.chars().any(char::is_whitespace) || v.len() > 200 {
            Err(format!(
                "{} is not a model id (ids have no spaces), e.g. claude-4.5-sonnet-thinking",
                parse::quote(v)
            ))
        } else {
            Ok(v.to_string())
        }
    },
);

pub(crate) const REPOSITORY: Input<RepoSpec> = Input::new(
    "repository",
    "",
    "Repository the agent works on, as `owner/repo` or a URL; empty means this repository.",
    |v, _| parse::repo_spec(v),
);

pub(crate) const REF: Input<String> = Input::new(
    "ref",
    "",
    "Base branch, tag or commit (default: PR head for PR events, otherwise the event's branch, otherwise the default branch).",
    |v, _| parse::git_ref(v),
);

pub(crate) const PR_URL: Input<String> = Input::new(
    "pr-url",
    "",
    "Work on this existing pull request (its branch) instead of `repository`/`ref`.",
    |v, _| parse::pr_url(v),
);

pub(crate) const PR_BRANCH: Input<PrBranch> = Input::new(
    "pr-branch",
    "existing",
    "On a pull request (its event, a comment on it, or `pr-url`): `existing` pushes to the pull request's own branch, `new` to a new branch.",
    |v, _| {
        Ok(match parse::choice(v, &["existing", "new"])? {
            "new" => PrBranch::New,
            _ => PrBranch::Existing,
        })
    },
);

pub(crate) const BRANCH_NAME: Input<String> = Input::new(
    "branch-name",
    "",
    "v0 only: the branch the agent creates (default: `cursor/<issue or run>-run-<run id>-<hash>`, so a lost launch can be found); on a pull request only with `pr-branch: new`.",
    |v, _| parse::branch_name(v),
);

pub(crate) const WORK_ON_CURRENT_BRANCH: Input<bool> = flag(
    "work-on-current-branch",
    "",
    "v1 only: `true` makes the agent push to the starting branch instead of a new one (default: `true` on a pull request unless `pr-branch: new`, else Cursor's default).",
);

pub(crate) const MODE: Input<AgentMode> = Input::new(
    "mode",
    "",
    "v1 only: `agent` (default) or `plan` (the agent plans without changing code); part of the launch's identity.",
    |v, _| {
        Ok(match parse::choice(v, &["agent", "plan"])? {
            "plan" => AgentMode::Plan,
            _ => AgentMode::Agent,
        })
    },
);

pub(crate) const ARCHIVE_WHEN_DONE: Input<bool> = flag(
    "archive-when-done",
    "false",
    "v1 only: `true` archives the agent once its run has ended and none is queued, so it stops counting against the plan's concurrent-agent limit; a later follow-up unarchives it.",
);

pub(crate) const LAUNCH_KEY: Input<String> = Input::new(
    "launch-key",
    "",
    "Extra identity for this launch (e.g. a matrix value the prompt does not mention): each distinct value gets its own agent, branch and comment.",
    |v, _| Ok(v.trim().to_string()),
);

pub(crate) const UPDATE_OPEN_PR: Input<bool> = flag(
    "update-open-pr",
    "true",
    "Scheduled jobs: while the pull request of the job's previous agent is open, send this run's prompt to that agent (or launch on its branch when the agent is gone) instead of opening another; `false` launches as usual. See docs/scheduled-jobs.md.",
);

pub(crate) const AUTO_CREATE_PR: Input<bool> = flag(
    "auto-create-pr",
    "true",
    "Open a pull request when the agent finishes.",
);

pub(crate) const OPEN_AS_CURSOR_GITHUB_APP: Input<bool> = flag(
    "open-as-cursor-github-app",
    "false",
    "v0 only: open the pull request as the Cursor GitHub App instead of the key's user (needs `auto-create-pr`).",
);

pub(crate) const SKIP_REVIEWER_REQUEST: Input<bool> = flag(
    "skip-reviewer-request",
    "false",
    "Do not request the key's user as reviewer (v1 `skipReviewerRequest`; on v0 it needs `open-as-cursor-github-app`).",
);

pub(crate) const WEBHOOK_URL: Input<String> = Input::new(
    "webhook-url",
    "",
    "v0 only: URL Cursor calls when the agent finishes or fails.",
    |v, _| parse::http_url(v, 2048).map(|u| u.to_string()),
);

pub(crate) const WEBHOOK_SECRET: Input<Secret> = Input::new(
    "webhook-secret",
    "",
    "Secret (32 to 256 characters) Cursor signs webhook calls with; masked.",
    |v, _| {
        let n = v.chars().count();
        if (32..=256).contains(&n) {
            Ok(Secret::new(v))
        } else {
            Err(format!("is {n} characters long; Cursor accepts 32 to 256"))
        }
    },
)
.secret();

pub(crate) const WAIT: Input<bool> = flag(
    "wait",
    "true",
    "Wait for the agent to reach a final status.",
);

pub(crate) const TIMEOUT: Input<Duration> = Input::new(
    "timeout",
    "45m",
    "Hard deadline for waiting, such as `90s`, `10m` or `1h30m`.",
    |v, _| parse::bounded_duration(v, SECOND, LONGEST_TIMEOUT),
);

pub(crate) const POLL_INTERVAL: Input<Duration> = Input::new(
    "poll-interval",
    "10s",
    "First wait between status polls (v0), or between reads of the run when its stream is unavailable (v1).",
    |v, _| parse::bounded_duration(v, SECOND, LONGEST_POLL_INTERVAL),
);

pub(crate) const MAX_POLL_INTERVAL: Input<Duration> = Input::new(
    "max-poll-interval",
    "60s",
    "Longest wait between status polls.",
    |v, _| parse::bounded_duration(v, SECOND, LONGEST_POLL_INTERVAL),
);

pub(crate) const ON_TIMEOUT: Input<OnTimeout> = Input::new(
    "on-timeout",
    "fail",
    "At the deadline: `fail`, `stop` (stop the agent, then fail) or `continue` (warn, exit 0).",
    |v, _| {
        Ok(match parse::choice(v, &["fail", "stop", "continue"])? {
            "stop" => OnTimeout::Stop,
            "continue" => OnTimeout::Continue,
            _ => OnTimeout::Fail,
        })
    },
);

pub(crate) const ON_CANCEL: Input<OnCancel> = Input::new(
    "on-cancel",
    "leave",
    "When the job is cancelled: `leave` the agent running, or `stop` it.",
    |v, _| {
        Ok(match parse::choice(v, &["leave", "stop"])? {
            "stop" => OnCancel::Stop,
            _ => OnCancel::Leave,
        })
    },
);

pub(crate) const COMMENT: Input<bool> = flag(
    "comment",
    "true",
    "Report in one comment (and reactions) on the triggering issue or pull request.",
);

pub(crate) const ISSUE_NUMBER: Input<u64> = Input::new(
    "issue-number",
    "",
    "Issue or pull request to report on; empty means the event's (set it for scheduled runs to report on a tracking issue).",
    |v, _| parse::issue_number(v),
);

pub(crate) const FOLLOWUP: Input<bool> = flag(
    "followup",
    "true",
    "A comment on an issue that already has an agent sends a follow-up to that agent.",
);

pub(crate) const TRIGGER_PHRASE: Input<String> = Input::new(
    "trigger-phrase",
    "",
    "If set, only comments, reviews and bodies containing this phrase as a whole word trigger (case-insensitive). An error on events without text.",
    |v, _| {
        let v = v.trim();
        if v.contains(['\n', '\r']) || v.chars().count() > 100 {
            Err("must be one line of at most 100 characters, e.g. /cursor".into())
        } else {
            Ok(v.to_string())
        }
    },
);

pub(crate) const LABEL: Input<String> = Input::new(
    "label",
    "",
    "If set, only adding this label triggers issue, pull request and discussion events (comments are selected by `trigger-phrase`). An error on events without labels.",
    |v, _| {
        let v = v.trim();
        if v.chars().count() > 50 || v.contains(['\n', '\r']) {
            Err("must be one label name (GitHub allows at most 50 characters)".into())
        } else {
            Ok(v.to_string())
        }
    },
);

pub(crate) const ALLOWED_BOTS: Input<Vec<String>> = Input::new(
    "allowed-bots",
    "",
    "Bot logins allowed to trigger, separated by commas or newlines (no wildcard).",
    |v, _| {
        v.split([',', '\n', ' ', '\t', '\r'])
            .filter(|s| !s.is_empty())
            .map(parse::login)
            .collect()
    },
);

pub(crate) const ALLOW_UNKNOWN_EVENTS: Input<bool> = flag(
    "allow-unknown-events",
    "false",
    "Run on events cursor-agent-action has no trigger rule for (they are skipped otherwise); a sender is still permission-checked.",
);

pub(crate) const GITHUB_TOKEN: Input<Secret> = Input::new(
    "github-token",
    "${{ github.token }}",
    "Token for comments, reactions and permission checks.",
    |v, _| {
        let v = v.trim();
        if v.chars().any(char::is_whitespace) {
            Err("does not look like a token (it contains spaces or line breaks)".into())
        } else {
            Ok(Secret::new(v))
        }
    },
)
.secret();

pub(crate) const API_URL: Input<Url> = Input::new(
    "api-url",
    "https://api.cursor.com",
    "Cursor API base URL (a proxy, or the simulator).",
    |v, _| {
        let mut url = parse::http_url(v, 2048)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err("must not have a query or fragment".into());
        }
        let path = url.path().trim_end_matches('/').to_string();
        url.set_path(&path);
        Ok(url)
    },
);

pub(crate) const DRY_RUN: Input<bool> = flag(
    "dry-run",
    "false",
    "Apply the trigger rules (all but the permission check), resolve everything, print the exact request (key redacted) and the planned comment, and launch nothing.",
);

pub(crate) const SWEEP: Input<bool> = flag(
    "sweep",
    "false",
    "Launch nothing: finalize the action's comments whose agents have ended (after `wait: false` or `on-timeout: continue`; see docs/detached-runs.md). Reads only `cursor-api-key`, `github-token`, `api-url`, `sweep-window`, `download-artifacts`, `artifacts-url`; any other input set is warned about.",
);

pub(crate) const SWEEP_WINDOW: Input<Duration> = Input::new(
    "sweep-window",
    "3d",
    "With `sweep: true`, how far back to look for comments (by last update), such as `12h` or `3d`.",
    |v, _| parse::bounded_duration(v, MINUTE, LONGEST_SWEEP_WINDOW),
);

pub(crate) const DOWNLOAD_ARTIFACTS: Input<String> = Input::new(
    "download-artifacts",
    "",
    "When the run has ended, download the agent's artifacts into this directory (inside the workspace; size-capped, paths sanitized); empty lists them in the comment only.",
    |v, _| parse::artifacts_dir(v),
);

pub(crate) const ARTIFACTS_URL: Input<String> = Input::new(
    "artifacts-url",
    "",
    "Where a later step uploads the downloaded artifacts (an http(s) URL, e.g. the run's `#artifacts` page), named and linked in the final comment.",
    |v, _| parse::artifacts_url(v),
);

pub(crate) const MAX_LAUNCHES_PER_ISSUE: Input<NonZeroU32> = Input::new(
    "max-launches-per-issue",
    "",
    "Launch no new agent on an issue or pull request that already has this many agents launched by this action (counted from its comments, so it needs `comment: true`); skip with a comment and a notice instead. Empty: no cap.",
    |v, _| {
        v.trim()
            .parse::<NonZeroU32>()
            .ok()
            .filter(|n| n.get() <= 10_000)
            .ok_or_else(|| {
                format!(
                    "{} is not a positive whole number; use e.g. 3, or leave it empty for no cap",
                    parse::quote(v)
                )
            })
    },
);

pub(crate) const FIX_CI: Input<bool> = flag(
    "fix-ci",
    "false",
    "Fix failing CI from a failed `workflow_run` or a comment on a pull request; ignored, with a warning, on other events. See docs/fix-ci.md.",
);

/// The most attempts `fix-ci-max-attempts` allows.
const MOST_FIX_ATTEMPTS: u32 = 10;

pub(crate) const FIX_CI_MAX_ATTEMPTS: Input<NonZeroU32> = Input::new(
    "fix-ci-max-attempts",
    "2",
    "With `fix-ci`: attempts per pull request and workflow (1 to 10) until a run passes; then skipped, reason `attempt-cap`.",
    |v, _| {
        v.trim()
            .parse::<NonZeroU32>()
            .ok()
            .filter(|n| n.get() <= MOST_FIX_ATTEMPTS)
            .ok_or_else(|| {
                format!(
                    "{} is not a whole number from 1 to {MOST_FIX_ATTEMPTS}; use e.g. 2",
                    parse::quote(v)
                )
            })
    },
);

/// The shortest `redact` value: shorter ones would replace ordinary text
/// (and the Redactor ignores them). The input is secret, so its value is
/// masked (each line on its own) before anything is printed.
pub const SHORTEST_REDACTED: usize = 6;

pub(crate) const REDACT: Input<Vec<Secret>> = Input::new(
    "redact",
    "",
    "Values never sent to Cursor nor printed, one per line (their encoded forms too).",
    |v, _| {
        let mut values = Vec::new();
        for (n, line) in v.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if line.chars().count() < SHORTEST_REDACTED {
                return Err(format!(
                    "line {} is shorter than {SHORTEST_REDACTED} characters, so replacing it would garble ordinary text; remove it or give the whole value",
                    n + 1
                ));
            }
            values.push(Secret::new(line));
        }
        Ok(values)
    },
)
.secret();

/// One output of the action.
#[derive(Debug, Clone, Copy)]
pub struct OutputSpec {
    pub name: &'static str,
    pub description: &'static str,
}

pub const OUTPUTS: &[OutputSpec] = &[
    OutputSpec {
        name: "outcome",
        description: "finished, launched, followed-up, error, expired, stopped, timeout, cancelled, skipped or dry-run.",
    },
    OutputSpec {
        name: "agent-id",
        description: "Id of the Cursor agent (`bc-...`).",
    },
    OutputSpec {
        name: "agent-url",
        description: "Link to the agent in Cursor.",
    },
    OutputSpec {
        name: "status",
        description: "The agent's last status as the API reported it (e.g. FINISHED).",
    },
    OutputSpec {
        name: "branch-name",
        description: "Branch the agent works on.",
    },
    OutputSpec {
        name: "pr-url",
        description: "Pull request the agent opened, if any.",
    },
    OutputSpec {
        name: "run-id",
        description: "Id of the v1 run the step followed (`run-...`); empty on v0.",
    },
    OutputSpec {
        name: "summary",
        description: "The agent's summary (multi-line).",
    },
    OutputSpec {
        name: "comment-url",
        description: "The comment the action posted or updated.",
    },
    OutputSpec {
        name: "duration-seconds",
        description: "Seconds from launch (or follow-up) to the final status.",
    },
    OutputSpec {
        name: "usage",
        description: "The run's token usage as JSON (v1 `totalUsage`), when Cursor reports it.",
    },
    OutputSpec {
        name: "total-tokens",
        description: "The run's total tokens, when Cursor reports usage.",
    },
    OutputSpec {
        name: "cost-cents",
        description: "What the run was charged, in cents (fractions kept; 0 when included in the plan), when Cursor reports it.",
    },
    OutputSpec {
        name: "artifacts",
        description: "The artifact files written by `download-artifacts`, one path per line.",
    },
    OutputSpec {
        name: "changes",
        description: "For scheduled jobs that finished: `true` when the agent pushed commits (a new or updated pull request, or a branch ahead of its base), `false` when it changed nothing; empty otherwise.",
    },
    OutputSpec {
        name: "reason",
        description: "Why the run did nothing: `not-a-failure`, `stale`, `fork`, `bot`, `not-permitted`, `attempt-cap`, `same-failure`, `busy`, `no-pull-request`; else empty.",
    },
    OutputSpec {
        name: "swept",
        description: "With `sweep: true`: how many comments the sweep finalized.",
    },
    OutputSpec {
        name: "pending",
        description: "With `sweep: true`: how many comments' agents are still working.",
    },
];

/// The outputs only a sweep (`sweep: true`) writes; a run writes the others.
pub const SWEEP_OUTPUTS: &[&str] = &["swept", "pending"];

/// The inputs a sweep (`sweep: true`) reads; it ignores every other one
/// (and says so: `Inputs::parse` warns about any other one set).
pub(crate) const SWEEP_INPUTS: &[&str] = &[
    "cursor-api-key",
    "github-token",
    "api-url",
    "sweep",
    "sweep-window",
    "download-artifacts",
    "artifacts-url",
];

/// The spec of the input called `name`.
pub(crate) fn input_spec(name: &str) -> Option<&'static InputSpec> {
    INPUTS.iter().find(|s| s.name == name)
}

/// The names an input is read from: the runner keeps hyphens
/// (`INPUT_GITHUB-TOKEN`); composite wrappers usually use underscores.
pub(crate) fn env_names(input: &str) -> [String; 2] {
    let upper = input.to_ascii_uppercase();
    [
        format!("INPUT_{upper}"),
        format!("INPUT_{}", upper.replace('-', "_")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case() {
        let mut names: Vec<&str> = INPUTS.iter().map(|i| i.name).collect();
        names.extend(OUTPUTS.iter().map(|o| o.name));
        for n in &names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{n}");
        }
        let inputs: std::collections::HashSet<_> = INPUTS.iter().map(|i| i.name).collect();
        assert_eq!(inputs.len(), INPUTS.len());
    }

    #[test]
    fn the_sweep_input_names_what_a_sweep_reads() {
        let sweep = SWEEP.spec.description;
        for name in SWEEP_INPUTS.iter().filter(|n| **n != "sweep") {
            assert!(sweep.contains(&format!("`{name}`")), "{name}: {sweep}");
        }
    }

    #[test]
    fn redact_takes_lines_the_redactor_replaces_and_refuses_shorter_ones() {
        let parse = |v: &str| (REDACT.parse)(v, Path::new("."));
        let shortest = "x".repeat(SHORTEST_REDACTED);
        let values = parse(&format!("\n  {shortest}  \n\nsecond-value\n")).unwrap();
        assert_eq!(values.len(), 2);
        let mut r = kit::secret::Redactor::new();
        for v in &values {
            r.add(v.expose());
        }
        let text = format!("a {shortest} b second-value c");
        assert!(!r.redact(&text).contains(&shortest), "{}", r.redact(&text));
        let short = parse("ok-value\nabcde").unwrap_err();
        assert!(short.contains("line 2"), "{short}");
    }

    #[test]
    fn fix_ci_max_attempts_is_1_to_10() {
        let parse = |v: &str| (FIX_CI_MAX_ATTEMPTS.parse)(v, Path::new("."));
        assert_eq!(parse("2").unwrap().get(), 2);
        assert_eq!(parse(" 10 ").unwrap().get(), 10);
        for bad in ["0", "11", "two", "-1"] {
            assert!(parse(bad).unwrap_err().contains("1 to 10"), "{bad}");
        }
    }

    #[test]
    fn env_names_keep_and_replace_hyphens() {
        assert_eq!(
            env_names("github-token"),
            [
                "INPUT_GITHUB-TOKEN".to_string(),
                "INPUT_GITHUB_TOKEN".to_string()
            ]
        );
    }
}
