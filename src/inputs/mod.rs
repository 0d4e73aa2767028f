//! The action's inputs: each one an entry in [`spec`] (name, default,
//! description, parse), read from the environment ([`RawInputs`]) and
//! validated into [`Inputs`]; then the rules across inputs (what cannot be
//! combined, what needs another input or another API version) are applied
//! in one place, `Inputs::check_across`. Every problem is collected, so one
//! run reports all bad inputs at once.

mod files;
pub mod image;
mod origin;
pub(crate) mod parse;
mod read;
pub mod spec;
mod values;

use kit::secret::Secret;
use parse::{format_duration, or_list};

use spec::SWEEP_INPUTS;
use std::path::Path;
use std::time::Duration;

pub use read::{InputError, InputErrors, RawInputs};
pub use spec::{INPUTS, InputSpec, OUTPUTS, OutputSpec};
pub use values::{
    AgentMode, ApiVersion, Image, OnCancel, OnTimeout, PrBranch, PromptSource, RepoSpec, Webhook,
};

/// Validated inputs.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub api_version: ApiVersion,
    pub api_key: Secret,
    pub prompt: Option<PromptSource>,
    pub include_context: bool,
    pub images: Vec<Image>,
    pub model: Option<String>,
    pub repository: Option<RepoSpec>,
    pub git_ref: Option<String>,
    pub pr_url: Option<String>,
    pub branch_name: Option<String>,
    /// `launch-key`: extra identity for legs the action cannot tell apart.
    pub launch_key: Option<String>,
    pub pr_branch: PrBranch,
    pub auto_create_pr: bool,
    /// `update-open-pr` (scheduled jobs only; see [`crate::job`]).
    pub update_open_pr: bool,
    pub open_as_cursor_github_app: bool,
    pub skip_reviewer_request: bool,
    pub webhook: Option<Webhook>,
    /// v1 `workOnCurrentBranch`, when set.
    pub work_on_current_branch: Option<bool>,
    /// v1 `mode`, when set.
    pub mode: Option<AgentMode>,
    /// v1: archive the agent once its run ended and nothing is queued.
    pub archive_when_done: bool,
    pub wait: bool,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub max_poll_interval: Duration,
    pub on_timeout: OnTimeout,
    pub on_cancel: OnCancel,
    pub comment: bool,
    pub issue_number: Option<u64>,
    pub followup: bool,
    pub trigger_phrase: Option<String>,
    pub label: Option<String>,
    pub allowed_bots: Vec<String>,
    /// Events with no trigger rule run (sender still checked).
    pub allow_unknown_events: bool,
    pub github_token: Option<Secret>,
    pub api_url: url::Url,
    pub dry_run: bool,
    /// Finalize ended agents' comments instead of launching.
    pub sweep: bool,
    /// How far back the sweep looks.
    pub sweep_window: Duration,
    /// `download-artifacts`: a directory relative to the workspace (checked
    /// to stay inside it; `/`-separated, no `.` or `..`).
    pub download_artifacts: Option<String>,
    /// `artifacts-url`: where the workflow uploads them, for the comment.
    pub artifacts_url: Option<String>,
    /// `max-launches-per-issue`: no new agent on an issue that already has
    /// this many (`None`: off).
    pub max_launches_per_issue: Option<std::num::NonZeroU32>,
    /// `fix-ci`: fix failing CI (see `crate::fix_ci`).
    pub fix_ci: bool,
    /// `fix-ci-max-attempts`: attempts per pull request and workflow.
    pub fix_ci_max_attempts: std::num::NonZeroU32,
    /// `redact`: extra values never sent nor printed.
    pub redact: Vec<Secret>,
    /// Inputs that work but are close to a limit, with what to change.
    pub warnings: Vec<String>,
}

impl Inputs {
    /// Validates raw inputs; relative paths are resolved against `workspace`.
    pub fn parse(raw: &RawInputs, workspace: &Path) -> Result<Inputs, InputErrors> {
        let mut r = read::Reader::new(raw, workspace);
        let api_key = r.required(&spec::CURSOR_API_KEY);
        // `prompt` wins; setting both is refused below.
        let prompt_text = r.opt(&spec::PROMPT).map(PromptSource::Text);
        let prompt_file = r.opt(&spec::PROMPT_FILE);
        let webhook_url = r.opt(&spec::WEBHOOK_URL);
        let webhook_secret = r.opt(&spec::WEBHOOK_SECRET);
        let inputs = Inputs {
            api_version: r.value(&spec::API_VERSION),
            // A missing key is always an error (`required` records it), so
            // this stand-in never leaves `parse`.
            api_key: api_key.unwrap_or_else(|| Secret::new("")),
            prompt: prompt_text
                .or(prompt_file.map(|(path, text)| PromptSource::File { path, text })),
            include_context: r.value(&spec::INCLUDE_CONTEXT),
            images: r.opt(&spec::IMAGES).unwrap_or_default(),
            model: r.opt(&spec::MODEL),
            repository: r.opt(&spec::REPOSITORY),
            git_ref: r.opt(&spec::REF),
            pr_url: r.opt(&spec::PR_URL),
            branch_name: r.opt(&spec::BRANCH_NAME),
            launch_key: r.opt(&spec::LAUNCH_KEY),
            pr_branch: r.value(&spec::PR_BRANCH),
            auto_create_pr: r.value(&spec::AUTO_CREATE_PR),
            update_open_pr: r.value(&spec::UPDATE_OPEN_PR),
            open_as_cursor_github_app: r.value(&spec::OPEN_AS_CURSOR_GITHUB_APP),
            skip_reviewer_request: r.value(&spec::SKIP_REVIEWER_REQUEST),
            webhook: webhook_url.map(|url| Webhook {
                url,
                secret: webhook_secret,
            }),
            work_on_current_branch: r.opt(&spec::WORK_ON_CURRENT_BRANCH),
            mode: r.opt(&spec::MODE),
            archive_when_done: r.value(&spec::ARCHIVE_WHEN_DONE),
            wait: r.value(&spec::WAIT),
            timeout: r.value(&spec::TIMEOUT),
            poll_interval: r.value(&spec::POLL_INTERVAL),
            max_poll_interval: r.value(&spec::MAX_POLL_INTERVAL),
            on_timeout: r.value(&spec::ON_TIMEOUT),
            on_cancel: r.value(&spec::ON_CANCEL),
            comment: r.value(&spec::COMMENT),
            issue_number: r.opt(&spec::ISSUE_NUMBER),
            followup: r.value(&spec::FOLLOWUP),
            trigger_phrase: r.opt(&spec::TRIGGER_PHRASE),
            label: r.opt(&spec::LABEL),
            allowed_bots: r.opt(&spec::ALLOWED_BOTS).unwrap_or_default(),
            allow_unknown_events: r.value(&spec::ALLOW_UNKNOWN_EVENTS),
            github_token: r.opt(&spec::GITHUB_TOKEN),
            api_url: r.value(&spec::API_URL),
            dry_run: r.value(&spec::DRY_RUN),
            sweep: r.value(&spec::SWEEP),
            sweep_window: r.value(&spec::SWEEP_WINDOW),
            download_artifacts: r.opt(&spec::DOWNLOAD_ARTIFACTS),
            artifacts_url: r.opt(&spec::ARTIFACTS_URL),
            max_launches_per_issue: r.opt(&spec::MAX_LAUNCHES_PER_ISSUE),
            fix_ci: r.value(&spec::FIX_CI),
            fix_ci_max_attempts: r.value(&spec::FIX_CI_MAX_ATTEMPTS),
            redact: r.opt(&spec::REDACT).unwrap_or_default(),
            warnings: Vec::new(),
        };
        for e in inputs.check_across(raw) {
            r.fail(e.input, e.problem);
        }
        let warnings = inputs.warnings(raw);
        r.finish(Inputs { warnings, ..inputs })
    }

    /// The rules across inputs, after each one is parsed on its own: what
    /// cannot be combined, what needs another input, and what the chosen API
    /// version cannot honour. Inputs rejected on their own count as unset
    /// here (or as their default, when they have one).
    fn check_across(&self, raw: &RawInputs) -> Vec<InputError> {
        let mut errors = Vec::new();
        let mut fail =
            |input: &'static str, problem: String| errors.push(InputError { input, problem });
        let set = |input: &str| raw.get(input).is_some();
        if set(spec::PROMPT.name()) && set(spec::PROMPT_FILE.name()) {
            fail(
                spec::PROMPT_FILE.name(),
                "cannot be combined with `prompt`; set only one of them".into(),
            );
        }
        if self.pr_url.is_some() {
            for other in [spec::REPOSITORY.name(), spec::REF.name()] {
                if set(other) {
                    fail(other, "cannot be combined with `pr-url` (the pull request decides the repository and branch); remove one of them".into());
                }
            }
        }
        if self.pr_url.is_some()
            && self.branch_name.is_some()
            && self.pr_branch == PrBranch::Existing
        {
            fail(spec::BRANCH_NAME.name(), "is not used with `pr-url`: the agent pushes to the pull request's own branch; set `pr-branch: new` to have it create this branch, or remove `branch-name`".into());
        }
        if self.open_as_cursor_github_app && !self.auto_create_pr {
            fail(spec::OPEN_AS_CURSOR_GITHUB_APP.name(), "needs `auto-create-pr: true` (it only applies to the pull request the agent opens)".into());
        }
        if self.archive_when_done && self.api_version == ApiVersion::V0 {
            fail(
                spec::ARCHIVE_WHEN_DONE.name(),
                "is a v1 option (v0 cannot archive agents); remove it, or set `api-version: v1`"
                    .into(),
            );
        }
        match self.api_version {
            ApiVersion::V1 => {
                // What v1 cannot honour is refused before anything is sent.
                for (input, why) in [
                    (spec::BRANCH_NAME.name(), "v1 chooses the branch itself"),
                    (spec::WEBHOOK_URL.name(), "v1 has no webhooks"),
                    (spec::WEBHOOK_SECRET.name(), "v1 has no webhooks"),
                ] {
                    if set(input) {
                        fail(
                            input,
                            format!(
                                "is not supported by Cursor's v1 API ({why}); remove it, or set `api-version: v0`"
                            ),
                        );
                    }
                }
                if self.open_as_cursor_github_app {
                    fail(
                        spec::OPEN_AS_CURSOR_GITHUB_APP.name(),
                        "is not supported by Cursor's v1 API; remove it, or set `api-version: v0`"
                            .into(),
                    );
                }
            }
            ApiVersion::V0 => {
                for input in [spec::WORK_ON_CURRENT_BRANCH.name(), spec::MODE.name()] {
                    if set(input) {
                        fail(
                            input,
                            "is a v1 option; remove it, or set `api-version: v1`".into(),
                        );
                    }
                }
            }
        }
        if self.skip_reviewer_request
            && !self.open_as_cursor_github_app
            && self.api_version == ApiVersion::V0
        {
            fail(spec::SKIP_REVIEWER_REQUEST.name(), "needs `open-as-cursor-github-app: true` (the reviewer request is only skipped for PRs opened as the Cursor app)".into());
        }
        if set(spec::WEBHOOK_SECRET.name()) && !set(spec::WEBHOOK_URL.name()) {
            fail(
                spec::WEBHOOK_SECRET.name(),
                "is set without `webhook-url`; set both or neither".into(),
            );
        }
        if self.max_poll_interval < self.poll_interval {
            fail(
                spec::MAX_POLL_INTERVAL.name(),
                format!(
                    "({}) is shorter than `poll-interval` ({}); make it at least as long",
                    format_duration(self.max_poll_interval),
                    format_duration(self.poll_interval)
                ),
            );
        }
        // Counted from the action's own comments: with none written, the cap
        // could never be reached, so it is refused rather than silently off.
        if self.max_launches_per_issue.is_some() && !self.comment {
            fail(
                spec::MAX_LAUNCHES_PER_ISSUE.name(),
                "needs `comment: true`: it counts the agents launched on an issue from the action's own comments there, and `comment: false` writes none, so the cap would never be reached; set `comment: true` or remove `max-launches-per-issue`".into(),
            );
        }
        errors
    }

    /// Inputs that work but deserve a word: a `prompt` near the environment's
    /// size limit, and inputs a sweep ignores.
    fn warnings(&self, raw: &RawInputs) -> Vec<String> {
        let mut warnings: Vec<String> = prompt_size_warning(raw.get(spec::PROMPT.name()))
            .into_iter()
            .collect();
        if self.sweep {
            warnings.extend(sweep_ignored(|name| raw.get(name)));
        }
        warnings
    }
}

/// Linux limits one environment variable (`INPUT_PROMPT=...`) to
/// MAX_ARG_STRLEN, 128 KiB: a longer `prompt` input stops the runner from
/// starting the step at all ("Argument list too long"), before this binary
/// can say anything. A prompt this close to it gets a warning.
const PROMPT_ENV_WARN_BYTES: usize = 120 * 1024;

/// The warning for a `prompt` input near the environment's size limit.
fn prompt_size_warning(prompt: Option<&str>) -> Option<String> {
    let len = prompt?.len();
    (len >= PROMPT_ENV_WARN_BYTES).then(|| {
        format!(
            "`prompt` is {len} bytes, close to the 128 KiB limit of one environment variable; {}",
            files::PROMPT_FILE_ADVICE
        )
    })
}

/// One warning for each input set (to something other than its default:
/// the runner passes every default) that a sweep ignores. A warning, not an
/// error: one step may launch on some events and sweep on others.
fn sweep_ignored<'a>(value: impl Fn(&str) -> Option<&'a str>) -> Vec<String> {
    let read: Vec<String> = SWEEP_INPUTS
        .iter()
        .filter(|n| **n != "sweep")
        .map(|n| format!("`{n}`"))
        .collect();
    let read =
        or_list(&read.iter().map(String::as_str).collect::<Vec<_>>()).replace(" or ", " and ");
    INPUTS
        .iter()
        // The sweep serves both APIs (each marker says which), so one
        // `api-version` for every step of a workflow is no mistake.
        .filter(|spec| !SWEEP_INPUTS.contains(&spec.name) && spec.name != "api-version")
        .filter(|spec| {
            value(spec.name).is_some_and(|v| !v.trim().eq_ignore_ascii_case(spec.default.trim()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use kit::env::Env;

    #[test]
    fn non_utf8_inputs_are_named_not_empty() {
        let env = Env::from_pairs([("INPUT_PROMPT", "fix it")])
            .with_not_utf8(|name| name == "INPUT_CURSOR-API-KEY" || name == "INPUT_MODEL");
        let errors = Inputs::parse(&RawInputs::read(&env), Path::new("/")).unwrap_err();
        assert_eq!(errors.names(), vec!["cursor-api-key", "model"]);
        let text = errors.to_string();
        assert!(
            text.contains(
                "`cursor-api-key`: is not valid UTF-8 text (the variable INPUT_CURSOR-API-KEY"
            ),
            "{text}"
        );
        assert!(!text.contains("is empty"), "{text}");
    }

    #[test]
    fn prompts_near_the_environment_limit_point_to_prompt_file() {
        assert_eq!(
            prompt_size_warning(Some(&"x".repeat(PROMPT_ENV_WARN_BYTES - 1))),
            None
        );
        let warning = prompt_size_warning(Some(&"x".repeat(PROMPT_ENV_WARN_BYTES))).unwrap();
        assert!(warning.contains("`prompt-file`"), "{warning}");
        let raw = RawInputs::read(&Env::from_pairs([
            ("INPUT_CURSOR-API-KEY", "crsr_x".to_string()),
            ("INPUT_PROMPT", "y".repeat(125 * 1024)),
        ]));
        let inputs = Inputs::parse(&raw, Path::new("/")).unwrap();
        assert_eq!(inputs.warnings.len(), 1);
        assert!(inputs.warnings[0].contains("prompt-file"));
    }

    #[test]
    fn an_inputs_own_problem_comes_before_the_rules_across_inputs() {
        // v1 (the default) refuses `webhook-url`, whose value is no URL either.
        let raw = RawInputs::read(&Env::from_pairs([
            ("INPUT_CURSOR-API-KEY", "crsr_x"),
            ("INPUT_WEBHOOK-URL", "notaurl"),
        ]));
        let errors = Inputs::parse(&raw, Path::new("/")).unwrap_err();
        assert_eq!(errors.names(), ["webhook-url", "webhook-url"]);
        let text = errors.to_string();
        let own = text
            .find("\"notaurl\" is not an absolute URL")
            .expect(&text);
        let across = text.find("not supported by Cursor's v1 API").expect(&text);
        assert!(own < across, "{text}");
    }

    #[test]
    fn declared_defaults_parse() {
        let raw = RawInputs::read(&Env::from_pairs([("INPUT_CURSOR_API_KEY", "crsr_x")]));
        let inputs = Inputs::parse(&raw, Path::new("/")).unwrap();
        assert_eq!(inputs.timeout, Duration::from_secs(45 * 60));
        assert_eq!(inputs.poll_interval, Duration::from_secs(10));
        assert_eq!(inputs.max_poll_interval, Duration::from_secs(60));
        assert_eq!(inputs.api_url.as_str(), "https://api.cursor.com/");
        assert!(inputs.wait && inputs.comment && inputs.followup && inputs.include_context);
        assert!(inputs.auto_create_pr && !inputs.dry_run);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let raw = RawInputs::read(&Env::from_pairs([
            ("INPUT_CURSOR-API-KEY", "crsr_topsecret"),
            ("INPUT_GITHUB-TOKEN", "ghs_topsecret"),
        ]));
        let shown = format!("{raw:?}");
        assert!(!shown.contains("topsecret"), "{shown}");
        let inputs = Inputs::parse(&raw, Path::new("/")).unwrap();
        assert!(!format!("{inputs:?}").contains("topsecret"));
    }
}
