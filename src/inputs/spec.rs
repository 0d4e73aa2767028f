//! The action's interface in one table: names, defaults and descriptions of
//! every input and output. `--help`, `action.yml` and the README are checked
//! against it, so the three never drift.

/// One input of the action.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    pub name: &'static str,
    /// The `default:` in `action.yml` (empty: none).
    pub default: &'static str,
    pub description: &'static str,
    pub required: bool,
    pub secret: bool,
}

const fn input(name: &'static str, default: &'static str, description: &'static str) -> InputSpec {
    InputSpec {
        name,
        default,
        description,
        required: false,
        secret: false,
    }
}

pub const INPUTS: &[InputSpec] = &[
    InputSpec {
        required: true,
        secret: true,
        ..input("cursor-api-key", "", "Cursor API key; masked at once.")
    },
    input(
        "api-version",
        "v1",
        "Cursor API version: `v1` (durable agents and runs, followed live over SSE) or `v0` (the legacy API, polled). `branch-name`, `webhook-url`/`webhook-secret` and `open-as-cursor-github-app` need `v0`.",
    ),
    input(
        "prompt",
        "",
        "The task for the agent. When empty, it is built from the triggering issue, pull request or comment.",
    ),
    input(
        "prompt-file",
        "",
        "Read the task from this file (relative to the workspace) instead of `prompt`.",
    ),
    input(
        "include-context",
        "true",
        "Append the triggering issue/PR/comment as it was at trigger time, hidden content stripped, fenced as untrusted.",
    ),
    input(
        "images",
        "",
        "Newline-separated image paths (PNG, JPEG, GIF or WebP; at most 5) sent with the prompt (v1 as data with its MIME type, v0 with its dimensions).",
    ),
    input(
        "model",
        "",
        "Model id for the agent; empty uses Cursor's default.",
    ),
    input(
        "repository",
        "",
        "Repository the agent works on, as `owner/repo` or a URL; empty means this repository.",
    ),
    input(
        "ref",
        "",
        "Base branch, tag or commit (default: PR head for PR events, otherwise the event's branch, otherwise the default branch).",
    ),
    input(
        "pr-url",
        "",
        "Work on this existing pull request (its branch) instead of `repository`/`ref`.",
    ),
    input(
        "pr-branch",
        "existing",
        "On a pull request (its event, a comment on it, or `pr-url`): `existing` pushes to the pull request's own branch, `new` to a new branch.",
    ),
    input(
        "branch-name",
        "",
        "v0 only (v1 chooses the branch): the branch the agent creates (default: `cursor/<issue or run>-run-<run id>-<hash>`, so a lost launch response can be recovered); on a pull request only with `pr-branch: new`.",
    ),
    input(
        "work-on-current-branch",
        "",
        "v1 only: `true` makes the agent push to the starting branch instead of a new one (default: `true` on a pull request unless `pr-branch: new`, else Cursor's default).",
    ),
    input(
        "mode",
        "",
        "v1 only: `agent` (default) or `plan` (the agent plans without changing code); part of the launch's identity.",
    ),
    input(
        "archive-when-done",
        "false",
        "v1 only: `true` archives the agent once its run has ended and no other run is queued for it, so it stops counting against the plan's concurrent-agent limit; a later follow-up unarchives it and sends the run to it.",
    ),
    input(
        "launch-key",
        "",
        "Extra identity for this launch, for matrix legs or repeated steps that differ only in ways the action cannot see (for example a matrix value the prompt does not mention): each distinct value gets its own agent, branch and comment.",
    ),
    input(
        "update-open-pr",
        "true",
        "Scheduled jobs (schedule, workflow_dispatch, repository_dispatch, push): when the pull request of this job's previous agent is still open, send this run's prompt to that agent (or launch on that pull request's branch when the agent is gone) instead of opening another pull request; `false` launches as usual. Ignored for issue and pull request triggers. See docs/scheduled-jobs.md.",
    ),
    input(
        "auto-create-pr",
        "true",
        "Open a pull request when the agent finishes.",
    ),
    input(
        "open-as-cursor-github-app",
        "false",
        "v0 only: open the pull request as the Cursor GitHub App instead of the key's user (needs `auto-create-pr`).",
    ),
    input(
        "skip-reviewer-request",
        "false",
        "Do not request the key's user as reviewer (v1 `skipReviewerRequest`; on v0 it needs `open-as-cursor-github-app`).",
    ),
    input(
        "webhook-url",
        "",
        "v0 only: URL Cursor calls when the agent finishes or fails.",
    ),
    InputSpec {
        secret: true,
        ..input(
            "webhook-secret",
            "",
            "Secret (32 to 256 characters) Cursor signs webhook calls with; masked.",
        )
    },
    input(
        "wait",
        "true",
        "Wait for the agent to reach a final status.",
    ),
    input(
        "timeout",
        "45m",
        "Hard deadline for waiting, such as `90s`, `10m` or `1h30m`.",
    ),
    input(
        "poll-interval",
        "10s",
        "First wait between status polls (v0), or between reads of the run when its stream is unavailable (v1).",
    ),
    input(
        "max-poll-interval",
        "60s",
        "Longest wait between status polls.",
    ),
    input(
        "on-timeout",
        "fail",
        "At the deadline: `fail`, `stop` (stop the agent, then fail) or `continue` (warn, exit 0).",
    ),
    input(
        "on-cancel",
        "leave",
        "When the job is cancelled: `leave` the agent running, or `stop` it.",
    ),
    input(
        "comment",
        "true",
        "Report in one comment (and reactions) on the triggering issue or pull request.",
    ),
    input(
        "issue-number",
        "",
        "Issue or pull request to report on; empty means the event's (set it for scheduled runs to report on a tracking issue).",
    ),
    input(
        "followup",
        "true",
        "A comment on an issue that already has an agent sends a follow-up to that agent.",
    ),
    input(
        "trigger-phrase",
        "",
        "If set, only comments, reviews and bodies containing this phrase as a whole word trigger (case-insensitive). An error on events without text.",
    ),
    input(
        "label",
        "",
        "If set, only adding this label triggers issue, pull request and discussion events (comments are selected by `trigger-phrase`). An error on events without labels.",
    ),
    input(
        "allowed-bots",
        "",
        "Bot logins allowed to trigger, separated by commas or newlines (no wildcard).",
    ),
    input(
        "allow-unknown-events",
        "false",
        "Run on events cursor-agent-action has no trigger rule for (they are skipped otherwise); a sender is still permission-checked.",
    ),
    InputSpec {
        secret: true,
        ..input(
            "github-token",
            "${{ github.token }}",
            "Token for comments, reactions and permission checks.",
        )
    },
    input(
        "api-url",
        "https://api.cursor.com",
        "Cursor API base URL (a proxy, or the simulator).",
    ),
    input(
        "dry-run",
        "false",
        "Apply the trigger rules (all but the permission check), resolve everything, print the exact request (key redacted) and the planned comment, and launch nothing.",
    ),
    input(
        "sweep",
        "false",
        "Launch nothing: finalize the action's comments whose agents have ended (after `wait: false` or `on-timeout: continue`; see docs/detached-runs.md). Reads only `cursor-api-key`, `github-token`, `api-url`, `sweep-window`, `download-artifacts`, `artifacts-url`; any other input set is warned about.",
    ),
    input(
        "sweep-window",
        "3d",
        "With `sweep: true`, how far back to look for comments (by last update), such as `12h` or `3d`.",
    ),
    input(
        "download-artifacts",
        "",
        "When the run has ended, download the agent's artifacts (screenshots, recordings, logs) into this directory, relative to the workspace and inside it (size-capped, paths sanitized); empty lists them in the comment only.",
    ),
    input(
        "artifacts-url",
        "",
        "Where the workflow uploads the downloaded artifacts, named (and linked, when on this GitHub server) in the final comment: e.g. the run's artifacts page (`<server>/<owner>/<repo>/actions/runs/<run id>#artifacts`, built from `github.server_url`, `github.repository` and `github.run_id`), for a later `actions/upload-artifact` step. An http(s) URL.",
    ),
    input(
        "max-launches-per-issue",
        "",
        "Launch no new agent on an issue or pull request that already has this many agents launched by this action (counted from its comments, so it needs `comment: true`); skip with a comment and a notice instead. Empty: no cap.",
    ),
];

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
        description: "For scheduled jobs (schedule, workflow_dispatch, repository_dispatch, push) that finished: `true` when the agent pushed commits (a new or updated pull request, or a branch ahead of its base), `false` when it changed nothing; empty otherwise (also when GitHub could not tell).",
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
/// (and says so, see [`sweep_ignored`]).
pub const SWEEP_INPUTS: &[&str] = &[
    "cursor-api-key",
    "github-token",
    "api-url",
    "sweep",
    "sweep-window",
    "download-artifacts",
    "artifacts-url",
];

/// One warning for each input set (to something other than its default:
/// the runner passes every default) that a sweep ignores. A warning, not an
/// error: one step may launch on some events and sweep on others.
pub fn sweep_ignored(value: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let read: Vec<String> = SWEEP_INPUTS
        .iter()
        .filter(|n| **n != "sweep")
        .map(|n| format!("`{n}`"))
        .collect();
    let read = super::parse::or_list(&read.iter().map(String::as_str).collect::<Vec<_>>())
        .replace(" or ", " and ");
    INPUTS
        .iter()
        // The sweep serves both APIs (each marker says which), so one
        // `api-version` for every step of a workflow is no mistake.
        .filter(|spec| !SWEEP_INPUTS.contains(&spec.name) && spec.name != "api-version")
        .filter(|spec| {
            value(spec.name)
                .is_some_and(|v| !v.trim().eq_ignore_ascii_case(spec.default.trim()))
        })
        .map(|spec| {
            let why = match spec.name {
                "dry-run" => "it does not make the sweep a dry run: the sweep still finalizes the action's comments whose agents have ended",
                "comment" => "the sweep only edits the action's existing comments",
                _ => "a sweep launches nothing, so it needs no task, trigger or waiting settings",
            };
            format!(
                "`{}` is ignored with `sweep: true` ({why}); a sweep reads only {read}. Remove it from the sweep's step, or set it only for the events that launch.",
                spec.name
            )
        })
        .collect()
}

pub fn input_spec(name: &str) -> Option<&'static InputSpec> {
    INPUTS.iter().find(|s| s.name == name)
}

/// The names an input is read from: the runner keeps hyphens
/// (`INPUT_GITHUB-TOKEN`); composite wrappers usually use underscores.
pub fn env_names(input: &str) -> [String; 2] {
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
        let sweep = input_spec("sweep").unwrap().description;
        for name in SWEEP_INPUTS.iter().filter(|n| **n != "sweep") {
            assert!(sweep.contains(&format!("`{name}`")), "{name}: {sweep}");
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
