//! The v1 create request and the launch's identity (its deterministic `agentId`).

use crate::inputs::{AgentMode, PrBranch};
use base64::Engine as _;
use cursor_api::v1::{self as api, CreateAgentRequest, ModelSelection, RepoSpec};

/// `https://github.com/o/r/pull/1` → `https://github.com/o/r`.
pub(super) fn repo_of_pr(pr_url: &str) -> String {
    match pr_url.rsplit_once("/pull/") {
        Some((repo, _)) => repo.to_string(),
        None => pr_url.to_string(),
    }
}

/// The v1 create request for a plan (pure).
pub fn create_request(
    plan: &crate::plan::LaunchPlan,
    inputs: &crate::inputs::Inputs,
    ctx: &crate::context::Context,
) -> CreateAgentRequest {
    // A pull request's own event already names the pull request (the plan).
    let source = &plan.request.source;
    let repo = match (&source.repository, &source.pr_url) {
        (Some(r), _) => r.clone(),
        (None, Some(pr)) => repo_of_pr(pr),
        (None, None) => ctx.repo_url(),
    };
    let on_pr = source.pr_url.is_some();
    let work_on_current_branch = inputs
        .work_on_current_branch
        .or(on_pr.then_some(inputs.pr_branch == PrBranch::Existing));
    CreateAgentRequest {
        prompt: api::Prompt {
            text: plan.request.prompt.text.clone(),
            images: inputs
                .images
                .iter()
                .map(|img| api::PromptImage {
                    data: base64::engine::general_purpose::STANDARD.encode(&img.bytes),
                    mime_type: img.info.format.mime().to_string(),
                })
                .collect(),
        },
        model: inputs.model.as_deref().map(ModelSelection::id),
        // A scheduled job's agents carry its tag, so the next run finds them.
        name: crate::job::Job::of(inputs, ctx, plan)
            .map(|job| job.agent_name(&plan.request.prompt.text)),
        repos: vec![RepoSpec {
            url: repo,
            starting_ref: source.git_ref.clone(),
            pr_url: source.pr_url.clone(),
        }],
        work_on_current_branch,
        auto_create_pr: Some(inputs.auto_create_pr),
        skip_reviewer_request: inputs.skip_reviewer_request.then_some(true),
        mode: inputs.mode.map(|m| match m {
            AgentMode::Agent => api::Mode::Agent,
            AgentMode::Plan => api::Mode::Plan,
        }),
        agent_id: identity(plan, ctx).map(|parts| derive(&parts)),
    }
}

/// What makes a launch this launch: the repository, the workflow run and
/// the launch key (job, step, prompt…), the same on every attempt.
pub(super) fn identity(
    plan: &crate::plan::LaunchPlan,
    ctx: &crate::context::Context,
) -> Option<Vec<String>> {
    let run = ctx.run_id?;
    Some(vec![
        ctx.repo.to_string(),
        run.to_string(),
        plan.key.clone(),
    ])
}

pub(super) fn derive(parts: &[String]) -> String {
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    api::derive_agent_id(&refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_request_url_names_its_repository() {
        assert_eq!(
            repo_of_pr("https://github.com/o/r/pull/12"),
            "https://github.com/o/r"
        );
        assert_eq!(
            repo_of_pr("https://github.com/o/r"),
            "https://github.com/o/r"
        );
    }
}
