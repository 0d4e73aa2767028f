//! v1 errors: the `{"error":{"code","message","helpUrl"?,"provider"?}}` body
//! (and, defensively, the v0 string shapes, made printable the same way:
//! see [`crate::error::one_line`]), a message per code that says
//! what to do, and the same retry classification as v0 (it is computed by
//! the v0 rules, through [`V1Error::as_v0`], so both versions retry alike).

use crate::error::{
    ApiEndpoint, ApiError, CursorError, DescribeBody, Endpoint, ErrorBody, ErrorClass, one_line,
};
use kit::secret::Redactor;
use serde_json::Value;

/// Which v1 call failed, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V1Endpoint {
    Me,
    Models,
    ListAgents,
    CreateAgent,
    Agent,
    Archive,
    Unarchive,
    CreateRun,
    ListRuns,
    Run,
    Stream,
    Cancel,
    Usage,
    Artifacts,
    ArtifactDownload,
}

impl V1Endpoint {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Me => "GET /v1/me",
            Self::Models => "GET /v1/models",
            Self::ListAgents => "GET /v1/agents",
            Self::CreateAgent => "POST /v1/agents",
            Self::Agent => "GET /v1/agents/{id}",
            Self::Archive => "POST /v1/agents/{id}/archive",
            Self::Unarchive => "POST /v1/agents/{id}/unarchive",
            Self::CreateRun => "POST /v1/agents/{id}/runs",
            Self::ListRuns => "GET /v1/agents/{id}/runs",
            Self::Run => "GET /v1/agents/{id}/runs/{runId}",
            Self::Stream => "GET /v1/agents/{id}/runs/{runId}/stream",
            Self::Cancel => "POST /v1/agents/{id}/runs/{runId}/cancel",
            Self::Usage => "GET /v1/agents/{id}/usage",
            Self::Artifacts => "GET /v1/agents/{id}/artifacts",
            Self::ArtifactDownload => "GET /v1/agents/{id}/artifacts/download",
        }
    }

    /// The v0 call with the same retry semantics (creates are not idempotent
    /// by themselves; with an `agentId` the caller may repeat them).
    fn v0(self) -> Endpoint {
        match self {
            Self::Me => Endpoint::Me,
            Self::Models => Endpoint::Models,
            Self::ListAgents => Endpoint::ListAgents,
            Self::CreateAgent => Endpoint::Launch,
            Self::CreateRun => Endpoint::Followup,
            Self::Cancel => Endpoint::Stop,
            Self::Artifacts => Endpoint::Artifacts,
            Self::ArtifactDownload => Endpoint::ArtifactDownload,
            _ => Endpoint::Agent,
        }
    }
}

/// A v1 error body, whichever shape it came in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct V1Body {
    /// Everything the v0 parser reads: message, code, Zod details.
    pub base: ErrorBody,
    /// `error.helpUrl`, kept only when it is an https URL.
    pub help_url: Option<String>,
    /// `error.provider` (e.g. `github`).
    pub provider: Option<String>,
}

impl V1Body {
    /// `redactor`: the client's (see [`crate::error`]).
    pub fn parse(redactor: &Redactor, bytes: &[u8]) -> V1Body {
        let base = ErrorBody::parse(redactor, bytes);
        let json = serde_json::from_slice::<Value>(bytes).ok();
        let error = json.as_ref().and_then(|j| j.get("error"));
        let field = |name: &str| {
            error
                .and_then(|e| e.get(name))
                .and_then(Value::as_str)
                .map(|s| one_line(redactor, s, 200))
        };
        V1Body {
            help_url: field("helpUrl").filter(|u| {
                u.starts_with("https://") && !u.contains(' ') && url::Url::parse(u).is_ok()
            }),
            provider: field("provider").filter(|p| !p.is_empty()),
            base,
        }
    }

    pub fn code(&self) -> Option<&str> {
        self.base.code.as_deref()
    }

    fn mentions(&self, needle: &str) -> bool {
        self.base.mentions(needle)
    }
}

/// A failed v1 call: the shared error shape with v1's endpoints and body
/// (boxed: errors travel in every `Result` of the client).
pub type V1Error = ApiError<V1Endpoint, Box<V1Body>>;

impl ApiEndpoint for V1Endpoint {
    fn describe(self) -> &'static str {
        V1Endpoint::describe(self)
    }
    const ID_NOUN: &'static str = "id";
}

impl DescribeBody for Box<V1Body> {
    fn describe_body(&self) -> String {
        self.base.describe()
    }
}

impl V1Error {
    /// The v1 `error.code`, if the server gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Status { body, .. } => body.code(),
            _ => None,
        }
    }

    /// The same failure in v0 terms, for the shared retry policy
    /// (`retry::delay_for`, `CursorError::class`).
    pub fn as_v0(&self) -> CursorError {
        self.map(V1Endpoint::v0, |body| body.base.clone())
    }

    /// What to do about it: the v0 classification, plus v1 codes that say
    /// "not now" (`agent_busy` and `stream_unavailable` are worth waiting
    /// for; the caller decides how long).
    pub fn class(&self) -> ErrorClass {
        match self.code() {
            Some("rate_limit_exceeded") => ErrorClass::RateLimited {
                retry_after: self.retry_after(),
            },
            Some("usage_limit_exceeded" | "plan_required") => ErrorClass::Fatal,
            Some("upstream_error" | "internal_error" | "stream_unavailable") => {
                ErrorClass::Transient
            }
            _ => self.as_v0().class(),
        }
    }

    /// The plan's concurrent-agent limit. Its error is not documented, so
    /// this matches defensively on what such a message would say.
    pub(crate) fn is_agent_limit(&self) -> bool {
        let Self::Status { body, .. } = self else {
            return false;
        };
        // A specific code says what happened; only a vague body is matched.
        if matches!(
            body.code(),
            Some(
                "agent_busy"
                    | "agent_archived"
                    | "agent_id_conflict"
                    | "run_not_cancellable"
                    | "stream_unavailable"
                    | "stream_expired"
                    | "invalid_last_event_id"
            )
        ) {
            return false;
        }
        [
            "concurrent",
            "too many agents",
            "too many active",
            "active agents",
            "agent limit",
            "agents limit",
            "maximum number of agents",
        ]
        .iter()
        .any(|n| body.mentions(n))
    }

    /// A message that says what happened and what to change. `repository`
    /// names the repository for access problems.
    pub fn actionable(&self, repository: &str) -> String {
        let endpoint = self
            .endpoint()
            .map(V1Endpoint::describe)
            .unwrap_or("Cursor API");
        let Self::Status { status, body, .. } = self else {
            // Transport-level failures read the same as on v0.
            let v0 = self.as_v0().actionable(repository);
            let v0_endpoint = self.as_v0().endpoint().map(Endpoint::describe);
            return match v0_endpoint {
                Some(e) => v0.replacen(e, endpoint, 1),
                None => v0,
            };
        };
        let hint = self.hint(*status, body, repository);
        let said = body.base.describe();
        let mut out = format!("{endpoint}: {hint}");
        if !said.is_empty() {
            out.push_str(&format!(" Cursor said: {said}"));
        }
        if let Some(p) = &body.provider {
            out.push_str(&format!(" (provider: {p})"));
        }
        if let Some(url) = &body.help_url {
            out.push_str(&format!(" Help: {url}"));
        }
        // Every piece is printable already (one line, bounded).
        out
    }

    fn hint(&self, status: u16, body: &V1Body, repository: &str) -> String {
        const KEY: &str = "Check the `cursor-api-key` secret: create a User API key at https://cursor.com/dashboard/api (not an Admin API key) and store it as a repository secret.";
        const PLAN: &str = "Cloud agents need a paid plan with usage-based pricing and budget left (see https://cursor.com/dashboard → Settings / Spending).";
        const APP: &str = "Install the Cursor GitHub App on it and grant access (https://cursor.com/dashboard → Integrations → GitHub). This is Cursor's own GitHub access, not the workflow's token.";
        const BUG: &str =
            "This is a bug in cursor-agent-action: please report it with this message.";
        const TEMPORARY: &str = "This is usually temporary: re-run the job.";
        if self.is_agent_limit() {
            return "Cursor refused because the plan's limit of agents running at once is reached. Old agents count until archived: archive finished agents at https://cursor.com/agents (or set `archive-when-done`), wait for running ones, or raise the plan.".into();
        }
        let code = body.code().unwrap_or("");
        match code {
            "unauthorized" | "api_key_not_found" => format!("Cursor rejected the API key ({code}). {KEY}"),
            "plan_required" => format!("The Cursor account behind the key has no plan that includes the API (plan_required). {PLAN}"),
            "usage_limit_exceeded" => format!("Cursor refused because of the account's usage limit (usage_limit_exceeded); retrying will not help. Raise the hard limit or add budget. {PLAN}"),
            "role_forbidden" => "The key's role may not do this (role_forbidden): ask a Cursor team admin for the permission, or use a key of a member who has it.".into(),
            "feature_unavailable" => "This Cursor feature is not enabled for the account (feature_unavailable, often early access); the action carries on without it.".into(),
            "integration_not_connected" => format!("An integration Cursor needs is not connected (integration_not_connected): connect the Cursor GitHub App for {repository} (https://cursor.com/dashboard → Integrations), then re-run."),
            "repository_access" => format!("Cursor cannot access {repository} (repository_access). {APP}"),
            "repository_required" => format!("Cursor needs a repository (repository_required): check the `repository` input (got {repository})."),
            "pr_resolution_failed" => "Cursor could not resolve the pull request URL it was given (pr_resolution_failed): check that the pull request exists and the Cursor GitHub App can see it.".into(),
            "invalid_model" => "Cursor does not accept the model (invalid_model): set `model` to an id listed by Cursor (GET /v1/models, or the model picker at cursor.com), or leave it empty for Cursor's default.".into(),
            "validation_error" if body.mentions("model") => "Cursor does not accept the model (validation_error): set `model` to an id listed by Cursor (GET /v1/models), with one of its listed variants, or leave it empty.".into(),
            "validation_error" if body.mentions("default branch") || body.mentions("verify existence of branch") || body.mentions("startingref") => format!("Cursor could not resolve the branch to start from in {repository} (validation_error). Set `ref` to an existing branch name (a bare commit SHA is only accepted on the default branch), and check that the Cursor GitHub App can access the repository."),
            "validation_error" if body.mentions("unrecognized") => format!("Cursor rejected the request format (validation_error). {BUG}"),
            "validation_error" => "Cursor rejected the request (validation_error): check the inputs it names below.".into(),
            "missing_body" => format!("Cursor received no request body (missing_body). {BUG}"),
            "invalid_branch_name" => format!("Cursor rejected the branch name it chose (invalid_branch_name); v1 picks branches itself. {BUG}"),
            "artifact_not_found" => "The artifact is not there (artifact_not_found): it may not be uploaded yet; list the artifacts again.".into(),
            "service_account_required" => "This call needs a Cursor service-account key (service_account_required): use one, or drop the option that needs it.".into(),
            "agent_not_found" => "Cursor does not know this agent (agent_not_found): it was deleted, or belongs to another API key.".into(),
            "run_not_found" => "Cursor does not know this run (run_not_found): it belongs to another agent or key.".into(),
            "agent_busy" => "The agent is already running a prompt (agent_busy), perhaps one started on cursor.com: wait for that run to end (or cancel it at the agent's page), then send again.".into(),
            "agent_archived" => "The agent is archived (agent_archived): it takes no new prompts. Unarchive it at https://cursor.com/agents, or launch a new agent.".into(),
            "agent_id_conflict" => "An agent with this id already exists (agent_id_conflict): an earlier attempt of this launch created it, and the action follows that agent instead of launching another.".into(),
            "run_not_cancellable" => "The run cannot be cancelled (run_not_cancellable): it has already ended or never started.".into(),
            "rate_limit_exceeded" => "Cursor is rate limiting this API key (rate_limit_exceeded); every job using the key shares the limit: run fewer agents at once or retry later.".into(),
            "stream_expired" => "The run's event stream has expired (stream_expired, kept 24 h); the run's state is read instead.".into(),
            "stream_unavailable" => "The run's event stream is not available (stream_unavailable), usually just after a run is created; the action retries, then reads the run instead.".into(),
            "invalid_last_event_id" => "Cursor did not accept the stream resume point (invalid_last_event_id); the stream is read again from the start.".into(),
            "client_cancelled" => "The request was cancelled (client_cancelled).".into(),
            "not_implemented" => "Cursor does not implement this call (not_implemented) for this key or agent.".into(),
            "upstream_error" => format!("A service behind Cursor failed (upstream_error). {TEMPORARY}"),
            "internal_error" => format!("The Cursor API failed (internal_error). {TEMPORARY}"),
            _ if body.mentions("storage mode") => "Cursor refused because storage mode is disabled for the key's account. Turn on storage in Cursor (Settings → General → Privacy: disable Privacy Mode (Legacy)); cloud agents need it.".into(),
            _ if body.mentions("do not have access to repository") || body.mentions("repository does not exist") || body.mentions("github app") => format!("Cursor cannot access {repository}. {APP}"),
            _ if body.mentions("usage-based pricing") || body.mentions("hard limit") => format!("Cursor refused because of the account's plan or usage limit. {PLAN}"),
            _ if body.mentions("unrecognized") => format!("Cursor rejected the request format. {BUG}"),
            _ => match status {
                401 => format!("Cursor rejected the API key (401). {KEY}"),
                403 => "Cursor refused the request (403: insufficient permissions for the key or plan).".into(),
                404 => "Cursor does not know this agent or run (404): it was deleted, or belongs to another API key.".into(),
                409 => "Cursor refused because of the agent's state (409).".into(),
                410 => "The run's event stream has expired (410); the run's state is read instead.".into(),
                429 => "Cursor is rate limiting this API key (429); try again later or run fewer agents at once.".into(),
                s if s >= 500 => format!("The Cursor API failed ({s}). {TEMPORARY}"),
                s => format!("The Cursor API rejected the request ({s})."),
            },
        }
    }
}

/// Every code of the Sept-2026 list (§8.7) plus the observed extras.
pub const KNOWN_CODES: &[&str] = &[
    "unauthorized",
    "api_key_not_found",
    "plan_required",
    "role_forbidden",
    "feature_unavailable",
    "integration_not_connected",
    "validation_error",
    "missing_body",
    "invalid_model",
    "invalid_branch_name",
    "repository_required",
    "repository_access",
    "pr_resolution_failed",
    "artifact_not_found",
    "service_account_required",
    "agent_not_found",
    "run_not_found",
    "agent_busy",
    "agent_archived",
    "agent_id_conflict",
    "run_not_cancellable",
    "rate_limit_exceeded",
    "usage_limit_exceeded",
    "stream_expired",
    "stream_unavailable",
    "invalid_last_event_id",
    "client_cancelled",
    "not_implemented",
    "upstream_error",
    "internal_error",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, body: &str) -> V1Error {
        V1Error::Status {
            endpoint: V1Endpoint::CreateAgent,
            status: code,
            body: Box::new(V1Body::parse(&Redactor::new(), body.as_bytes())),
            retry_after: None,
        }
    }

    #[test]
    fn help_url_and_provider_are_shown_only_when_safe() {
        let e = status(
            400,
            r#"{"error":{"code":"integration_not_connected","message":"GitHub not connected","helpUrl":"https://cursor.com/dashboard?tab=integrations","provider":"github"}}"#,
        );
        let m = e.actionable("o/r");
        assert!(
            m.contains("Help: https://cursor.com/dashboard?tab=integrations"),
            "{m}"
        );
        assert!(
            m.contains("(provider: github)") && m.contains("Cursor GitHub App for o/r"),
            "{m}"
        );
        let e = status(
            400,
            r#"{"error":{"code":"x","message":"m","helpUrl":"javascript:alert(1)"}}"#,
        );
        assert!(!e.actionable("o/r").contains("javascript"));
    }

    #[test]
    fn the_agent_limit_is_matched_only_on_vague_bodies() {
        let limit = status(
            403,
            r#"{"error":{"code":"plan_required","message":"Maximum number of agents running at once reached"}}"#,
        );
        assert!(limit.is_agent_limit());
        assert!(limit.actionable("o/r").contains("archive finished agents"));
        let busy = status(
            409,
            r#"{"error":{"code":"agent_busy","message":"a concurrent run is active"}}"#,
        );
        assert!(!busy.is_agent_limit());
        assert!(busy.actionable("o/r").contains("agent_busy"));
    }

    #[test]
    fn classification_follows_v0_plus_v1_codes() {
        assert_eq!(status(500, "{}").class(), ErrorClass::Transient);
        assert_eq!(status(401, "{}").class(), ErrorClass::Fatal);
        assert_eq!(
            status(
                429,
                r#"{"error":{"code":"usage_limit_exceeded","message":"x"}}"#
            )
            .class(),
            ErrorClass::Fatal
        );
        assert_eq!(
            status(
                400,
                r#"{"error":{"code":"rate_limit_exceeded","message":"x"}}"#
            )
            .class(),
            ErrorClass::RateLimited { retry_after: None }
        );
        assert_eq!(
            status(
                409,
                r#"{"error":{"code":"stream_unavailable","message":"x"}}"#
            )
            .class(),
            ErrorClass::Transient
        );
        assert!(status(502, "").maybe_applied());
        assert!(!status(409, "{}").maybe_applied());
    }
}
