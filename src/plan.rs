//! Resolves inputs and context into exactly what will be sent: the launch
//! request, its deterministic identity (the branch name), and where to report.

use crate::context::{Context, DefaultSource, Event};
use crate::inputs::{Inputs, PrBranch, RepoSpec};
use crate::prompt::{self, NoTask};
use base64::Engine as _;
use cursor_api::{
    AgentSource, Dimension, LaunchRequest, LaunchTarget, Prompt, PromptImage, WebhookSpec,
};
use kit::text::stable_hash;

/// Everything decided before any request is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchPlan {
    /// This launch's identity within its run, the same on every attempt:
    /// everything that makes a launch distinct (workflow file, job, step, model, repository,
    /// ref or pull request, issue, prompt, `launch-key`). The comment marker
    /// carries it and the derived branch includes it, so matrix legs keep
    /// their own agents and comments.
    pub key: String,
    pub request: LaunchRequest,
    /// The repository the agent works on, for messages (`owner/repo` or URL).
    pub repository: String,
    /// The issue or pull request to report on.
    pub issue_number: Option<u64>,
}

/// The branch a launch gets when `branch-name` is not set: unique per
/// run, issue, job and prompt, and the same on every attempt of the run, so
/// an agent whose launch answer was lost can be found again by listing.
pub fn derived_branch(ctx: &Context, issue_number: Option<u64>, key: &str) -> Option<String> {
    let run_id = ctx.run_id?;
    let subject = match (issue_number, ctx.event()) {
        (Some(n), _) if ctx.is_pull_request() && ctx.issue_number() == Some(n) => format!("pr-{n}"),
        (Some(n), _) => format!("issue-{n}"),
        (None, Event::Schedule { .. }) => "schedule".into(),
        (None, Event::WorkflowDispatch { .. }) => "dispatch".into(),
        (None, Event::RepositoryDispatch { .. }) => "repository-dispatch".into(),
        (None, Event::Push { .. }) => "push".into(),
        (None, _) => "run".into(),
    };
    Some(format!(
        "cursor/{subject}-run-{run_id}-{}",
        branch_hash(key)
    ))
}

/// The part of a derived branch that comes from the launch key: the same on
/// every run of one step, so a scheduled job's agents are recognised by it.
pub fn branch_hash(key: &str) -> String {
    format!("{:06x}", stable_hash(&[key]) & 0xff_ffff)
}

fn resolve_source(inputs: &Inputs, ctx: &Context) -> AgentSource {
    if let Some(pr_url) = &inputs.pr_url {
        return AgentSource {
            pr_url: Some(pr_url.clone()),
            ..Default::default()
        };
    }
    let current = ctx.repo_url();
    let repository = match &inputs.repository {
        Some(RepoSpec::Shorthand { owner, name }) => format!("{}/{owner}/{name}", ctx.server_url),
        Some(RepoSpec::Url(url)) => url.clone(),
        None => current.clone(),
    };
    if inputs.git_ref.is_some() || !repository.eq_ignore_ascii_case(&current) {
        // The event's branch belongs to the current repository only.
        return AgentSource {
            repository: Some(repository),
            git_ref: inputs.git_ref.clone(),
            pr_url: None,
        };
    }
    // A pull request's own events work on the pull request, as comments on
    // it do, so `pr-branch` applies (by default the agent pushes to its
    // branch). Started from its head branch instead, the agent would make a
    // new branch and a second pull request.
    if let Some(url) = event_pull_request(ctx) {
        return AgentSource {
            pr_url: Some(url),
            ..Default::default()
        };
    }
    match ctx.default_source() {
        DefaultSource::Branch(git_ref) => AgentSource {
            repository: Some(repository),
            git_ref,
            pr_url: None,
        },
        DefaultSource::PullRequest(url) => AgentSource {
            pr_url: Some(url),
            ..Default::default()
        },
    }
}

/// The pull request a `pull_request`, `pull_request_review` or review
/// comment event is about (same repository or fork).
fn event_pull_request(ctx: &Context) -> Option<String> {
    match ctx.event() {
        Event::PullRequest { pull_request, .. }
        | Event::PullRequestReviewComment { pull_request, .. }
        | Event::PullRequestReview { pull_request, .. } => pull_request.html_url.clone(),
        _ => None,
    }
}

/// The launch's identity (see [`LaunchPlan::key`]). Each part is tagged, so
/// an absent part never collides with an empty one; a v1 mode adds a part.
fn launch_key(
    inputs: &Inputs,
    ctx: &Context,
    source: &AgentSource,
    issue_number: Option<u64>,
    prompt_text: &str,
) -> String {
    let opt = |tag: &str, v: Option<&str>| match v {
        Some(v) => format!("{tag}={v}"),
        None => format!("{tag}-"),
    };
    let issue = issue_number.map(|n| n.to_string());
    let mut parts = vec![
        opt("workflow", ctx.workflow.as_deref()),
        opt("job", ctx.job.as_deref()),
        opt("step", ctx.step.as_deref()),
        opt("model", inputs.model.as_deref()),
        opt("repository", source.repository.as_deref()),
        opt("ref", source.git_ref.as_deref()),
        opt("pr", source.pr_url.as_deref()),
        opt("issue", issue.as_deref()),
        opt("launch-key", inputs.launch_key.as_deref()),
        format!("prompt={prompt_text}"),
    ];
    if let Some(mode) = inputs.mode {
        parts.push(format!("mode={}", mode.as_str()));
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    format!("{:08x}", stable_hash(&refs) & 0xffff_ffff)
}

/// The branch part of the target: `(branchName, autoBranch)`. On a pull
/// request the agent pushes to its head branch unless `pr-branch: new`
/// (v0 `autoBranch: false`, which makes the API ignore `branchName`, so
/// none is sent); elsewhere it creates `branch`.
fn branch_target(
    inputs: &Inputs,
    source: &AgentSource,
    branch: Option<String>,
) -> (Option<String>, Option<bool>) {
    match (&source.pr_url, inputs.pr_branch) {
        (None, _) => (branch, None),
        (Some(_), PrBranch::Existing) => (None, Some(false)),
        (Some(_), PrBranch::New) => (branch, Some(true)),
    }
}

/// The launch request for these inputs and this event.
pub fn plan(inputs: &Inputs, ctx: &Context) -> Result<LaunchPlan, NoTask> {
    let text = prompt::build(
        inputs.prompt.as_ref().map(|p| p.text()),
        inputs.include_context,
        ctx,
    )?;
    let issue_number = inputs.issue_number.or_else(|| ctx.issue_number());
    let source = resolve_source(inputs, ctx);
    let key = launch_key(inputs, ctx, &source, issue_number, &text);
    let branch_name = inputs
        .branch_name
        .clone()
        .or_else(|| derived_branch(ctx, issue_number, &key));
    let (branch_name, auto_branch) = branch_target(inputs, &source, branch_name);
    let images = inputs
        .images
        .iter()
        .map(|img| PromptImage {
            data: base64::engine::general_purpose::STANDARD.encode(&img.bytes),
            dimension: Some(Dimension {
                width: img.info.width,
                height: img.info.height,
            }),
        })
        .collect();
    let repository = source
        .repository
        .clone()
        .or_else(|| source.pr_url.clone())
        .unwrap_or_else(|| ctx.repo.to_string());
    Ok(LaunchPlan {
        key,
        request: LaunchRequest {
            prompt: Prompt { text, images },
            model: inputs.model.clone(),
            source,
            target: LaunchTarget {
                auto_create_pr: inputs.auto_create_pr,
                open_as_cursor_github_app: inputs.open_as_cursor_github_app,
                skip_reviewer_request: inputs.skip_reviewer_request,
                branch_name,
                auto_branch,
            },
            webhook: inputs.webhook.as_ref().map(|w| WebhookSpec {
                url: w.url.clone(),
                secret: w.secret.as_ref().map(|s| s.expose().to_string()),
            }),
        },
        repository,
        issue_number,
    })
}

/// The request as dry-run prints it: exact JSON, except that the webhook
/// secret is replaced and long image data is abbreviated (both noted).
pub fn dry_run_json(request: &LaunchRequest) -> String {
    let mut value = serde_json::to_value(request).expect("requests serialize");
    if let Some(secret) = value.pointer_mut("/webhook/secret") {
        *secret = "*** (webhook-secret, redacted)".into();
    }
    if let Some(images) = value
        .pointer_mut("/prompt/images")
        .and_then(|v| v.as_array_mut())
    {
        for image in images {
            if let Some(data) = image.get_mut("data") {
                let len = data.as_str().map(str::len).unwrap_or(0);
                if len > 80 {
                    let head: String = data.as_str().unwrap_or_default().chars().take(40).collect();
                    *data = format!("{head}… ({len} base64 characters, abbreviated)").into();
                }
            }
        }
    }
    serde_json::to_string_pretty(&value).expect("values serialize")
}
