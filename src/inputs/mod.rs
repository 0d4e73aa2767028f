//! The action's inputs: read raw from the environment ([`RawInputs`]), then
//! validated into [`Inputs`]. Every problem is collected, so one run reports
//! all bad inputs at once.

pub mod image;
pub mod parse;
pub mod spec;

use crate::env::Env;
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use spec::{INPUTS, InputSpec, OUTPUTS, OutputSpec};

/// Largest prompt (text or file) we send; the API documents no maximum, and a
/// bigger prompt is almost always a mistake (a log or binary file).
pub const MAX_PROMPT_BYTES: u64 = 256 * 1024;
/// Images per prompt, as the API allows.
pub const MAX_IMAGES: usize = 5;
/// Largest image the API accepts.
pub const MAX_IMAGE_BYTES: u64 = 15 * 1024 * 1024;
/// The sweep looks back at most this far (GitHub keeps agents' comments
/// for ever; Cursor's agents do not last that long).
pub const MAX_SWEEP_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(3600);

/// Input values as the environment gave them: non-empty strings by name.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawInputs {
    values: BTreeMap<&'static str, String>,
    /// Inputs whose variable holds bytes that are not UTF-8.
    not_utf8: Vec<&'static str>,
    /// Why a secret may have arrived empty (the triggering event).
    secrets_origin: SecretsOrigin,
}

impl RawInputs {
    /// Reads every declared input from `INPUT_<NAME>` (hyphens kept), falling
    /// back to the underscore form. Empty values count as unset.
    pub fn read(env: &Env) -> Self {
        let mut values = BTreeMap::new();
        let mut not_utf8 = Vec::new();
        for spec in INPUTS {
            let [hyphen, underscore] = spec::env_names(spec.name);
            if let Some(v) = env.get(&hyphen).or_else(|| env.get(&underscore)) {
                values.insert(spec.name, v);
            } else if env.is_not_utf8(&hyphen) || env.is_not_utf8(&underscore) {
                not_utf8.push(spec.name);
            }
        }
        Self {
            values,
            not_utf8,
            secrets_origin: SecretsOrigin::read(env),
        }
    }

    /// These values, as if `env` had set them (tests).
    pub fn with_origin(mut self, origin: SecretsOrigin) -> Self {
        self.secrets_origin = origin;
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The values of secret inputs, to mask before anything is printed.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        INPUTS
            .iter()
            .filter(|s| s.secret)
            .filter_map(|s| self.get(s.name))
    }
}

impl fmt::Debug for RawInputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: BTreeMap<_, _> = self
            .values
            .iter()
            .map(|(k, v)| {
                let secret = spec::input_spec(k).is_some_and(|s| s.secret);
                (*k, if secret { "***" } else { v.as_str() })
            })
            .collect();
        shown.fmt(f)
    }
}

/// One rejected input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub input: &'static str,
    pub problem: String,
}

/// Every rejected input of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputErrors(pub Vec<InputError>);

impl InputErrors {
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|e| e.input).collect()
    }
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            1 => write!(f, "1 input is invalid:")?,
            n => write!(f, "{n} inputs are invalid:")?,
        }
        for e in &self.0 {
            write!(f, "\n  - `{}`: {}", e.input, e.problem)?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    Fail,
    Stop,
    Continue,
}

/// Where an agent working on a pull request pushes (`pr-branch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrBranch {
    /// The pull request's own head branch (v0 `target.autoBranch: false`).
    Existing,
    /// A new branch (v0 `target.autoBranch: true`, with `branchName`).
    New,
}

/// Which Cursor API the action talks to (`api-version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V0,
    V1,
}

/// v1's `mode` (`mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentMode {
    Agent,
    Plan,
}

impl AgentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentMode::Agent => "agent",
            AgentMode::Plan => "plan",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCancel {
    Leave,
    Stop,
}

/// Where the task text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptSource {
    Text(String),
    File { path: PathBuf, text: String },
}

impl PromptSource {
    pub fn text(&self) -> &str {
        match self {
            PromptSource::Text(t) | PromptSource::File { text: t, .. } => t,
        }
    }
}

/// An image read and checked at input time.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    pub path: PathBuf,
    pub info: image::ImageInfo,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// The `repository` input: a shorthand resolved against the server URL later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoSpec {
    Shorthand { owner: String, name: String },
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub secret: Option<Secret>,
}

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
    /// Inputs that work but are close to a limit, with what to change.
    pub warnings: Vec<String>,
}

/// Collects errors while each input is parsed.
struct Checker<'a> {
    raw: &'a RawInputs,
    errors: Vec<InputError>,
}

impl<'a> Checker<'a> {
    fn fail(&mut self, input: &'static str, problem: impl Into<String>) {
        self.errors.push(InputError {
            input,
            problem: problem.into(),
        });
    }

    /// Parses an input if set; records the error if it is rejected.
    fn opt<T>(
        &mut self,
        input: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.raw.get(input)?;
        match parse(value) {
            Ok(v) => Some(v),
            Err(problem) => {
                self.fail(input, problem);
                None
            }
        }
    }

    /// Parses an input, or its declared default when unset.
    fn with_default<T>(
        &mut self,
        input: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> T {
        let default = spec::input_spec(input)
            .map(|s| s.default)
            .expect("every input has a spec");
        match self.raw.get(input) {
            Some(v) => match parse(v) {
                Ok(v) => v,
                Err(problem) => {
                    self.fail(input, problem);
                    parse(default).expect("declared defaults parse")
                }
            },
            None => parse(default).expect("declared defaults parse"),
        }
    }

    fn flag(&mut self, input: &'static str) -> bool {
        self.with_default(input, parse::boolean)
    }
}

impl Inputs {
    /// Validates raw inputs; relative paths are resolved against `workspace`.
    pub fn parse(raw: &RawInputs, workspace: &Path) -> Result<Inputs, InputErrors> {
        let mut c = Checker {
            raw,
            errors: Vec::new(),
        };

        for &input in &raw.not_utf8 {
            c.fail(
                input,
                format!(
                    "is not valid UTF-8 text (the variable {} holds other bytes); write the value as UTF-8",
                    spec::env_names(input)[0]
                ),
            );
        }
        let api_key = match raw.get("cursor-api-key").map(str::trim) {
            None if raw.not_utf8.contains(&"cursor-api-key") => None,
            None => {
                c.fail("cursor-api-key", raw.secrets_origin.empty_key_problem());
                None
            }
            Some(k) if k.chars().any(char::is_whitespace) || k.len() > 1024 => {
                c.fail(
                    "cursor-api-key",
                    "does not look like an API key (it contains spaces or line breaks, or is very long); copy the key again",
                );
                None
            }
            Some(k) => Some(Secret::new(k)),
        };

        let prompt_text = c.opt("prompt", |v| {
            if v.len() as u64 > MAX_PROMPT_BYTES {
                Err(format!(
                    "is {} bytes; the limit is {MAX_PROMPT_BYTES}; {PROMPT_FILE_ADVICE}",
                    v.len()
                ))
            } else {
                Ok(v.to_string())
            }
        });
        let prompt_file = c.opt("prompt-file", |v| read_prompt_file(workspace, v));
        if raw.get("prompt").is_some() && raw.get("prompt-file").is_some() {
            c.fail(
                "prompt-file",
                "cannot be combined with `prompt`; set only one of them",
            );
        }
        let prompt = prompt_text
            .map(PromptSource::Text)
            .or(prompt_file.map(|(path, text)| PromptSource::File { path, text }));

        let include_context = c.flag("include-context");
        let images = c
            .opt("images", |v| read_images(workspace, v))
            .unwrap_or_default();
        let model = c.opt("model", |v| {
            let v = v.trim();
            if v.chars().any(char::is_whitespace) || v.len() > 200 {
                Err(format!(
                    "{} is not a model id (ids have no spaces), e.g. claude-4.5-sonnet-thinking",
                    parse::quote(v)
                ))
            } else {
                Ok(v.to_string())
            }
        });
        let repository = c.opt("repository", repo_spec);
        let git_ref = c.opt("ref", parse::git_ref);
        let pr_url = c.opt("pr-url", pr_url);
        if pr_url.is_some() {
            for other in ["repository", "ref"] {
                if raw.get(other).is_some() {
                    c.fail(other, "cannot be combined with `pr-url` (the pull request decides the repository and branch); remove one of them");
                }
            }
        }
        let branch_name = c.opt("branch-name", parse::branch_name);
        let launch_key = raw
            .get("launch-key")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let pr_branch =
            match c.with_default("pr-branch", |v| parse::choice(v, &["existing", "new"])) {
                "new" => PrBranch::New,
                _ => PrBranch::Existing,
            };
        if pr_url.is_some() && branch_name.is_some() && pr_branch == PrBranch::Existing {
            c.fail("branch-name", "is not used with `pr-url`: the agent pushes to the pull request's own branch; set `pr-branch: new` to have it create this branch, or remove `branch-name`");
        }
        let auto_create_pr = c.flag("auto-create-pr");
        let update_open_pr = c.flag("update-open-pr");
        let open_as_cursor_github_app = c.flag("open-as-cursor-github-app");
        let skip_reviewer_request = c.flag("skip-reviewer-request");
        if open_as_cursor_github_app && !auto_create_pr {
            c.fail("open-as-cursor-github-app", "needs `auto-create-pr: true` (it only applies to the pull request the agent opens)");
        }
        let api_version = match c.with_default("api-version", |v| parse::choice(v, &["v1", "v0"])) {
            "v0" => ApiVersion::V0,
            _ => ApiVersion::V1,
        };
        let work_on_current_branch = c.opt("work-on-current-branch", parse::boolean);
        let mode = c.opt("mode", |v| {
            parse::choice(v, &["agent", "plan"]).map(|m| match m {
                "plan" => AgentMode::Plan,
                _ => AgentMode::Agent,
            })
        });
        let archive_when_done = c.flag("archive-when-done");
        if archive_when_done && api_version == ApiVersion::V0 {
            c.fail(
                "archive-when-done",
                "is a v1 option (v0 cannot archive agents); remove it, or set `api-version: v1`",
            );
        }
        match api_version {
            ApiVersion::V1 => {
                // What v1 cannot honour is refused before anything is sent.
                for (input, why) in [
                    ("branch-name", "v1 chooses the branch itself"),
                    ("webhook-url", "v1 has no webhooks"),
                    ("webhook-secret", "v1 has no webhooks"),
                ] {
                    if raw.get(input).is_some() {
                        c.fail(input, format!("is not supported by Cursor's v1 API ({why}); remove it, or set `api-version: v0`"));
                    }
                }
                if open_as_cursor_github_app {
                    c.fail(
                        "open-as-cursor-github-app",
                        "is not supported by Cursor's v1 API; remove it, or set `api-version: v0`",
                    );
                }
            }
            ApiVersion::V0 => {
                for input in ["work-on-current-branch", "mode"] {
                    if raw.get(input).is_some() {
                        c.fail(input, "is a v1 option; remove it, or set `api-version: v1`");
                    }
                }
            }
        }
        if skip_reviewer_request && !open_as_cursor_github_app && api_version == ApiVersion::V0 {
            c.fail("skip-reviewer-request", "needs `open-as-cursor-github-app: true` (the reviewer request is only skipped for PRs opened as the Cursor app)");
        }

        let webhook_url = c.opt("webhook-url", |v| {
            parse::http_url(v, 2048).map(|u| u.to_string())
        });
        let webhook_secret = c.opt("webhook-secret", |v| {
            let n = v.chars().count();
            if (32..=256).contains(&n) {
                Ok(Secret::new(v))
            } else {
                Err(format!("is {n} characters long; Cursor accepts 32 to 256"))
            }
        });
        if raw.get("webhook-secret").is_some() && raw.get("webhook-url").is_none() {
            c.fail(
                "webhook-secret",
                "is set without `webhook-url`; set both or neither",
            );
        }
        let webhook = webhook_url.map(|url| Webhook {
            url,
            secret: webhook_secret,
        });

        let wait = c.flag("wait");
        let timeout = c.with_default("timeout", |v| {
            parse::bounded_duration(v, Duration::from_secs(1), MAX_TIMEOUT)
        });
        let poll_interval = c.with_default("poll-interval", |v| {
            parse::bounded_duration(v, Duration::from_secs(1), MAX_POLL_INTERVAL)
        });
        let max_poll_interval = c.with_default("max-poll-interval", |v| {
            parse::bounded_duration(v, Duration::from_secs(1), MAX_POLL_INTERVAL)
        });
        if max_poll_interval < poll_interval {
            c.fail(
                "max-poll-interval",
                format!(
                    "({}) is shorter than `poll-interval` ({}); make it at least as long",
                    parse::format_duration(max_poll_interval),
                    parse::format_duration(poll_interval)
                ),
            );
        }
        let on_timeout = match c.with_default("on-timeout", |v| {
            parse::choice(v, &["fail", "stop", "continue"])
        }) {
            "stop" => OnTimeout::Stop,
            "continue" => OnTimeout::Continue,
            _ => OnTimeout::Fail,
        };
        let on_cancel = match c.with_default("on-cancel", |v| parse::choice(v, &["leave", "stop"]))
        {
            "stop" => OnCancel::Stop,
            _ => OnCancel::Leave,
        };
        let comment = c.flag("comment");
        let issue_number = c.opt("issue-number", parse::issue_number);
        let followup = c.flag("followup");
        let trigger_phrase = c.opt("trigger-phrase", |v| {
            let v = v.trim();
            if v.contains(['\n', '\r']) || v.chars().count() > 100 {
                Err("must be one line of at most 100 characters, e.g. /cursor".into())
            } else {
                Ok(v.to_string())
            }
        });
        let label = c.opt("label", |v| {
            let v = v.trim();
            if v.chars().count() > 50 || v.contains(['\n', '\r']) {
                Err("must be one label name (GitHub allows at most 50 characters)".into())
            } else {
                Ok(v.to_string())
            }
        });
        let allowed_bots = c
            .opt("allowed-bots", |v| {
                v.split([',', '\n', ' ', '\t', '\r'])
                    .filter(|s| !s.is_empty())
                    .map(parse::login)
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap_or_default();
        let allow_unknown_events = c.flag("allow-unknown-events");
        let github_token = c.opt("github-token", |v| {
            let v = v.trim();
            if v.chars().any(char::is_whitespace) {
                Err("does not look like a token (it contains spaces or line breaks)".into())
            } else {
                Ok(Secret::new(v))
            }
        });
        let api_url = c.with_default("api-url", |v| {
            let mut url = parse::http_url(v, 2048)?;
            if url.query().is_some() || url.fragment().is_some() {
                return Err("must not have a query or fragment".into());
            }
            let path = url.path().trim_end_matches('/').to_string();
            url.set_path(&path);
            Ok(url)
        });
        let dry_run = c.flag("dry-run");
        let sweep = c.flag("sweep");
        let sweep_window = c.with_default("sweep-window", |v| {
            parse::bounded_duration(v, Duration::from_secs(60), MAX_SWEEP_WINDOW)
        });
        let download_artifacts = c.opt("download-artifacts", artifacts_dir);
        let artifacts_url = c.opt("artifacts-url", artifacts_url);
        let max_launches_per_issue = c.opt("max-launches-per-issue", |v| {
            v.trim()
                .parse::<std::num::NonZeroU32>()
                .ok()
                .filter(|n| n.get() <= 10_000)
                .ok_or_else(|| {
                    format!(
                        "{} is not a positive whole number; use e.g. 3, or leave it empty for no cap",
                        parse::quote(v)
                    )
                })
        });
        // Counted from the action's own comments: with none written, the cap
        // could never be reached, so it is refused rather than silently off.
        if max_launches_per_issue.is_some() && !comment {
            c.fail(
                "max-launches-per-issue",
                "needs `comment: true`: it counts the agents launched on an issue from the action's own comments there, and `comment: false` writes none, so the cap would never be reached; set `comment: true` or remove `max-launches-per-issue`",
            );
        }

        if !c.errors.is_empty() {
            // Report in the order of the interface table, not of checking.
            let order = |name: &str| INPUTS.iter().position(|s| s.name == name);
            c.errors.sort_by_key(|e| order(e.input));
            return Err(InputErrors(c.errors));
        }
        Ok(Inputs {
            api_version,
            api_key: api_key.expect("checked above"),
            prompt,
            include_context,
            images,
            model,
            repository,
            git_ref,
            pr_url,
            branch_name,
            launch_key,
            pr_branch,
            auto_create_pr,
            update_open_pr,
            open_as_cursor_github_app,
            skip_reviewer_request,
            webhook,
            work_on_current_branch,
            mode,
            archive_when_done,
            wait,
            timeout,
            poll_interval,
            max_poll_interval,
            on_timeout,
            on_cancel,
            comment,
            issue_number,
            followup,
            trigger_phrase,
            label,
            allowed_bots,
            allow_unknown_events,
            github_token,
            api_url,
            dry_run,
            sweep,
            sweep_window,
            download_artifacts,
            artifacts_url,
            max_launches_per_issue,
            warnings: prompt_size_warning(raw.get("prompt"))
                .into_iter()
                .chain(if sweep {
                    spec::sweep_ignored(|name| raw.get(name).map(String::from))
                } else {
                    Vec::new()
                })
                .collect(),
        })
    }
}

/// Linux limits one environment variable (`INPUT_PROMPT=...`) to
/// MAX_ARG_STRLEN, 128 KiB: a longer `prompt` input stops the runner from
/// starting the step at all ("Argument list too long"), before this binary
/// can say anything. A prompt this close to it gets a warning.
pub const PROMPT_ENV_WARN_BYTES: usize = 120 * 1024;

/// Where to go instead of a huge `prompt` input.
pub const PROMPT_FILE_ADVICE: &str = "write the text to a file in an earlier step and pass it with `prompt-file` (environment variables are limited to 128 KiB each on Linux, and a longer `prompt` stops the step from starting with \"Argument list too long\")";

/// The warning for a `prompt` input near the environment's size limit.
pub fn prompt_size_warning(prompt: Option<&str>) -> Option<String> {
    let len = prompt?.len();
    (len >= PROMPT_ENV_WARN_BYTES).then(|| {
        format!("`prompt` is {len} bytes, close to the 128 KiB limit of one environment variable; {PROMPT_FILE_ADVICE}")
    })
}

/// Where the run's secrets come from, as far as the event tells: GitHub
/// passes no secrets to workflows triggered from a fork's pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SecretsOrigin {
    /// Nothing known about the event.
    #[default]
    Unknown,
    /// A pull-request event whose head is in another repository.
    Fork {
        event: String,
        head: String,
        base: String,
    },
    /// Any other event (secrets are passed, so the secret is not set).
    Event(String),
}

/// Events on which GitHub withholds secrets when the pull request comes from a fork.
const FORK_SENSITIVE_EVENTS: [&str; 3] = [
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
];

impl SecretsOrigin {
    /// From `GITHUB_EVENT_NAME` and the payload at `GITHUB_EVENT_PATH`.
    pub fn read(env: &Env) -> Self {
        let Some(event) = env.get("GITHUB_EVENT_NAME") else {
            return Self::Unknown;
        };
        let payload = env
            .get("GITHUB_EVENT_PATH")
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null);
        Self::of(&event, &payload)
    }

    /// From an event name and its payload (pure).
    pub fn of(event: &str, payload: &serde_json::Value) -> Self {
        let name = |v: &serde_json::Value| v.as_str().map(String::from);
        let head = name(&payload["pull_request"]["head"]["repo"]["full_name"]);
        let base = name(&payload["repository"]["full_name"]);
        match (head, base) {
            (Some(head), Some(base))
                if FORK_SENSITIVE_EVENTS.contains(&event) && !head.eq_ignore_ascii_case(&base) =>
            {
                Self::Fork {
                    event: event.to_string(),
                    head,
                    base,
                }
            }
            _ => Self::Event(event.to_string()),
        }
    }

    /// What to say when `cursor-api-key` is empty.
    pub fn empty_key_problem(&self) -> String {
        const SET_IT: &str = "add a repository secret CURSOR_API_KEY with a key from https://cursor.com/dashboard/api and pass `cursor-api-key: ${{ secrets.CURSOR_API_KEY }}`";
        const SAFE: &str = "To run agents for pull requests from forks, trigger the workflow from something only maintainers can do: a label (`on: issues` or `pull_request_target` with `types: [labeled]` and the `label` input) or a comment command (`on: issue_comment` with `trigger-phrase`), which run with the base repository's secrets and check the sender's permission; see examples/label.yml and examples/pr-comment.yml";
        match self {
            Self::Fork { event, head, base } => format!(
                "is empty: this `{event}` run comes from the fork {head} (not {base}), and GitHub does not pass secrets (such as CURSOR_API_KEY) to workflows triggered from forks. {SAFE}"
            ),
            Self::Event(event) if FORK_SENSITIVE_EVENTS.contains(&event.as_str()) => format!(
                "is empty: the secret passed to it (e.g. `${{{{ secrets.CURSOR_API_KEY }}}}`) is not set in this repository, or this `{event}` run comes from a fork, where GitHub passes no secrets; {SET_IT}. {SAFE}"
            ),
            _ => format!(
                "is empty: the secret passed to it (e.g. `${{{{ secrets.CURSOR_API_KEY }}}}`) is not set in this repository or its organization (secrets are also empty on pull requests from forks); {SET_IT}"
            ),
        }
    }
}

fn resolve(workspace: &Path, value: &str) -> PathBuf {
    let p = Path::new(value.trim());
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        workspace.join(p)
    }
}

fn describe_path(value: &str, workspace: &Path) -> String {
    format!(
        "{} (paths are relative to the workspace, {})",
        parse::quote(value.trim()),
        workspace.display()
    )
}

/// `artifacts-url`: an http(s) URL on one line.
fn artifacts_url(value: &str) -> Result<String, String> {
    let v = value.trim();
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && !v.contains(['\n', '\r']) => {
            Ok(v.to_string())
        }
        _ => Err("is not an http(s) URL; use e.g. the run's artifacts page, `${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}#artifacts`".into()),
    }
}

/// `download-artifacts`: a relative directory that stays inside the
/// workspace, normalized (`./a//b/` → `a/b`). Links are checked when it is
/// created (`artifacts::prepare_dir`).
fn artifacts_dir(value: &str) -> Result<String, String> {
    let v = value.trim();
    let advice = "use a directory relative to the workspace, such as `cursor-artifacts`";
    if v.len() > 200 || v.contains(['\0', '\n', '\r']) {
        return Err(format!("must be one short path; {advice}"));
    }
    let unix = v.replace('\\', "/");
    let drive = unix.len() >= 2 && unix.as_bytes()[1] == b':';
    if unix.starts_with('/') || unix.starts_with('~') || drive {
        return Err(format!(
            "{} is absolute; {advice} (it must stay inside the workspace)",
            parse::quote(v)
        ));
    }
    let parts: Vec<&str> = unix
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(format!(
            "{} leaves the workspace (`..`); {advice}",
            parse::quote(v)
        ));
    }
    if parts.is_empty() {
        return Err(format!(
            "{} is the workspace itself; {advice}",
            parse::quote(v)
        ));
    }
    Ok(parts.join("/"))
}

/// The file an input names (relative to `workspace`), with its metadata;
/// else why not, told apart: missing, unreadable, a directory
/// (`directory_advice` says what to write instead) or something else.
fn existing_file(
    workspace: &Path,
    value: &str,
    directory_advice: &str,
) -> Result<(PathBuf, std::fs::Metadata), String> {
    let path = resolve(workspace, value);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok((path, meta)),
        Ok(meta) if meta.is_dir() => Err(format!(
            "{} is a directory, not a file; {directory_advice}",
            describe_path(value, workspace)
        )),
        Ok(_) => Err(format!(
            "{} is not a regular file (a device, socket or pipe)",
            describe_path(value, workspace)
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "{} does not exist",
            describe_path(value, workspace)
        )),
        Err(e) => Err(format!(
            "{} cannot be read: {e}",
            describe_path(value, workspace)
        )),
    }
}

fn read_prompt_file(workspace: &Path, value: &str) -> Result<(PathBuf, String), String> {
    let (path, meta) = existing_file(
        workspace,
        value,
        "name the file itself, e.g. `.github/cursor-task.md`",
    )?;
    if meta.len() > MAX_PROMPT_BYTES {
        return Err(format!(
            "{} is {} bytes; the limit is {MAX_PROMPT_BYTES} (256 KiB)",
            parse::quote(value),
            meta.len()
        ));
    }
    let bytes =
        std::fs::read(&path).map_err(|e| format!("{} cannot be read: {e}", parse::quote(value)))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{} is not UTF-8 text", parse::quote(value)))?;
    if text.trim().is_empty() {
        return Err(format!("{} is empty", parse::quote(value)));
    }
    Ok((path, text))
}

fn read_images(workspace: &Path, value: &str) -> Result<Vec<Image>, String> {
    let paths: Vec<&str> = value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if paths.len() > MAX_IMAGES {
        return Err(format!(
            "lists {} images; Cursor accepts at most {MAX_IMAGES}",
            paths.len()
        ));
    }
    let mut images = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        let (path, meta) = match existing_file(
            workspace,
            p,
            "list each image file on its own line (at most 5)",
        ) {
            Ok(found) => found,
            Err(why) => {
                problems.push(why);
                continue;
            }
        };
        if meta.len() > MAX_IMAGE_BYTES {
            problems.push(format!("{} is larger than 15 MB", parse::quote(p)));
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("{} cannot be read: {e}", parse::quote(p)));
                continue;
            }
        };
        match image::inspect(&bytes) {
            Ok(info) => images.push(Image { path, info, bytes }),
            Err(why) => problems.push(format!("{} {why}", parse::quote(p))),
        }
    }
    if problems.is_empty() {
        Ok(images)
    } else {
        Err(problems.join("; "))
    }
}

fn repo_spec(value: &str) -> Result<RepoSpec, String> {
    let v = value.trim().trim_end_matches('/');
    let v = v.strip_suffix(".git").unwrap_or(v);
    let bad = || {
        format!(
            "{} is not a repository; use owner/repo or https://github.com/owner/repo",
            parse::quote(value)
        )
    };
    let valid_part = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    if v.contains("://") {
        let url = parse::http_url(v, 2048).map_err(|_| bad())?;
        let parts: Vec<&str> = url.path().trim_matches('/').split('/').collect();
        match parts.as_slice() {
            [o, r] if valid_part(o) && valid_part(r) => Ok(RepoSpec::Url(format!(
                "{}://{}/{o}/{r}",
                url.scheme(),
                url.host_str().unwrap_or_default()
            ))),
            _ => Err(bad()),
        }
    } else {
        match v.split('/').collect::<Vec<_>>().as_slice() {
            [o, r] if valid_part(o) && valid_part(r) => Ok(RepoSpec::Shorthand {
                owner: o.to_string(),
                name: r.to_string(),
            }),
            [host, o, r] if host.contains('.') && valid_part(o) && valid_part(r) => {
                Ok(RepoSpec::Url(format!("https://{host}/{o}/{r}")))
            }
            _ => Err(bad()),
        }
    }
}

fn pr_url(value: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "{} is not a pull request URL; use e.g. https://github.com/owner/repo/pull/123",
            parse::quote(value)
        )
    };
    let url = parse::http_url(value, 2048).map_err(|_| bad())?;
    let parts: Vec<&str> = url.path().trim_matches('/').split('/').collect();
    match parts.as_slice() {
        [_, _, "pull", n] if n.parse::<u64>().is_ok_and(|n| n > 0) => Ok(format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.path().trim_end_matches('/')
        )),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> serde_json::Value {
        let path = format!(
            "{}/tests/fixtures/github-events/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn an_empty_key_says_why_it_may_be_empty() {
        // The same pull request, opened from a fork.
        let mut payload = fixture("pull_request.opened");
        payload["pull_request"]["head"]["repo"]["full_name"] = "forker/Hello-World".into();
        let fork = SecretsOrigin::of("pull_request", &payload);
        assert_eq!(
            fork,
            SecretsOrigin::Fork {
                event: "pull_request".into(),
                head: "forker/Hello-World".into(),
                base: "Codertocat/Hello-World".into()
            }
        );
        let problem = fork.empty_key_problem();
        assert!(
            problem.contains("from the fork forker/Hello-World"),
            "{problem}"
        );
        assert!(
            problem.contains("GitHub does not pass secrets"),
            "{problem}"
        );
        assert!(
            problem.contains("label") && problem.contains("trigger-phrase"),
            "{problem}"
        );
        assert!(!problem.contains("required"), "{problem}");

        // From the repository itself: the secret is not set (or, maybe, a fork).
        let same = SecretsOrigin::of("pull_request", &fixture("pull_request.opened"));
        assert_eq!(same, SecretsOrigin::Event("pull_request".into()));
        let problem = same.empty_key_problem();
        assert!(
            problem.contains("`${{ secrets.CURSOR_API_KEY }}`) is not set"),
            "{problem}"
        );
        assert!(problem.contains("from a fork"), "{problem}");

        // pull_request_target runs with the base repository's secrets.
        let mut target = payload.clone();
        target["action"] = "labeled".into();
        let problem = SecretsOrigin::of("pull_request_target", &target).empty_key_problem();
        assert!(!problem.contains("comes from the fork"), "{problem}");
        assert!(problem.contains("CURSOR_API_KEY"), "{problem}");

        // A wholly unknown event still names the secret.
        assert!(
            SecretsOrigin::Unknown
                .empty_key_problem()
                .contains("secrets.CURSOR_API_KEY")
        );
    }

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
    fn repo_specs() {
        assert_eq!(
            repo_spec("octo/hello"),
            Ok(RepoSpec::Shorthand {
                owner: "octo".into(),
                name: "hello".into()
            })
        );
        assert_eq!(
            repo_spec("https://github.com/octo/hello.git/"),
            Ok(RepoSpec::Url("https://github.com/octo/hello".into()))
        );
        assert_eq!(
            repo_spec("github.com/octo/hello"),
            Ok(RepoSpec::Url("https://github.com/octo/hello".into()))
        );
        assert!(repo_spec("octo").is_err());
        assert!(repo_spec("https://github.com/octo").is_err());
        assert!(repo_spec("a/b/c/d").is_err());
    }

    #[test]
    fn pr_urls() {
        assert_eq!(
            pr_url("https://github.com/o/r/pull/12/").as_deref(),
            Ok("https://github.com/o/r/pull/12")
        );
        assert!(pr_url("https://github.com/o/r/issues/12").is_err());
        assert!(pr_url("https://github.com/o/r/pull/0").is_err());
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
