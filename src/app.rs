//! One run of the action, from environment to exit status.

use crate::cancel::Cancel;
use crate::clock::Clock;
use crate::context::Context;
use crate::cursor::{AuthScheme, CursorClient};
use crate::env::Env;
use crate::inputs::{InputError, InputErrors, Inputs, RawInputs};
use crate::launch::{self, LaunchError};
use crate::plan::{self, LaunchPlan};
use crate::report::comment::{self, CommentExtras, Marker, Phase};
use crate::report::{Outcome, RunReport, step_summary};
use crate::runner::ActionsIo;
use std::path::PathBuf;

/// Exit status for bad inputs or configuration.
pub const EXIT_CONFIG: u8 = 2;

/// What a run needs from the outside world.
#[derive(Clone)]
pub struct Runtime {
    pub env: Env,
    pub io: ActionsIo,
    pub clock: Clock,
    pub cancel: Cancel,
}

/// A configuration problem: printed as one `::error::`, exit status 2.
fn config_error(rt: &Runtime, message: &str) -> u8 {
    rt.io.console.error(message);
    EXIT_CONFIG
}

fn workspace(env: &Env) -> PathBuf {
    env.get("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Reads and validates everything; all problems are reported together.
fn configure(rt: &Runtime) -> Result<(Inputs, Context), String> {
    let raw = RawInputs::read(&rt.env);
    // Mask before anything else can print.
    for secret in raw.secrets() {
        rt.io.console.add_secret(secret);
    }
    let inputs = Inputs::parse(&raw, &workspace(&rt.env));
    let context = Context::from_env(&rt.env);
    match (inputs, context) {
        (Ok(i), Ok(c)) => Ok((i, c)),
        (Err(errors), Ok(_)) => Err(errors.to_string()),
        (Ok(_), Err(e)) => Err(format!("The runner environment is not usable: {e}")),
        (Err(errors), Err(e)) => Err(format!(
            "{errors}\nThe runner environment is not usable: {e}"
        )),
    }
}

/// Runs the action. Returns the exit status.
pub async fn run_action(rt: &Runtime) -> u8 {
    let (inputs, ctx) = match configure(rt) {
        Ok(v) => v,
        Err(message) => return config_error(rt, &message),
    };
    let plan = match plan::plan(&inputs, &ctx) {
        Ok(p) => p,
        Err(no_task) => {
            let errors = InputErrors(vec![InputError {
                input: no_task.input,
                problem: no_task.problem,
            }]);
            return config_error(rt, &errors.to_string());
        }
    };
    if inputs.dry_run {
        return dry_run(rt, &inputs, &ctx, &plan);
    }
    let http = match crate::http::client(&rt.env) {
        Ok(h) => h,
        Err(e) => return config_error(rt, &e.to_string()),
    };
    let cursor = CursorClient::new(
        http,
        &inputs.api_url,
        &inputs.api_key,
        AuthScheme::Basic,
        rt.clock,
    );
    launch_and_report(rt, &inputs, &ctx, &plan, &cursor).await
}

fn dry_run(rt: &Runtime, inputs: &Inputs, ctx: &Context, plan: &LaunchPlan) -> u8 {
    let console = &rt.io.console;
    console.notice("Dry run: nothing is launched. This is the request a real run would send.");
    console.info(&format!(
        "POST {}/v0/agents\nAuthorization: Basic *** (cursor-api-key, redacted)",
        inputs.api_url.as_str().trim_end_matches('/')
    ));
    console.untrusted_block(&plan::dry_run_json(&plan.request));
    let mut report = RunReport::new(Outcome::DryRun);
    report.planned_branch = plan.request.target.branch_name.clone();
    report.run_url = ctx.run_url();
    match plan.issue_number.filter(|_| inputs.comment) {
        Some(n) => {
            console.info(&format!("Comment planned on #{n} in {}:", ctx.repo));
            let marker = Marker::new(None, ctx.run_id, ctx.run_attempt);
            console.untrusted_block(&comment::render(
                &marker,
                &report,
                &Phase::Working { status: None },
                &CommentExtras::default(),
            ));
        }
        None => console.info(
            "No comment planned (no issue or pull request to report on, or `comment: false`)",
        ),
    }
    finish(rt, inputs, report)
}

async fn launch_and_report(
    rt: &Runtime,
    inputs: &Inputs,
    ctx: &Context,
    plan: &LaunchPlan,
    cursor: &CursorClient,
) -> u8 {
    let console = &rt.io.console;
    let request = &plan.request;
    let mut report = RunReport::new(Outcome::Launched);
    report.run_url = ctx.run_url();
    report.planned_branch = request.target.branch_name.clone();

    console.group(&format!("Launching a Cursor agent on {}", plan.repository));
    match (&request.source.git_ref, &request.source.pr_url) {
        (_, Some(pr)) => console.info(&format!("Pull request: {pr}")),
        (Some(r), None) => console.info(&format!("Ref: {r}")),
        (None, None) => console.info("Ref: the repository's default branch"),
    }
    if let Some(branch) = &request.target.branch_name {
        console.info(&format!("Branch: {branch}"));
    }
    console.info(&format!(
        "Prompt ({} characters, {} image(s)):",
        request.prompt.text.chars().count(),
        request.prompt.images.len()
    ));
    console.untrusted_block(&request.prompt.text);
    console.endgroup();

    let (agent, launched) = match launch::launch(cursor, &rt.clock, &rt.cancel, console, request)
        .await
    {
        Ok(v) => v,
        Err(LaunchError::Cancelled) => {
            report.outcome = Outcome::Cancelled;
            report.detail = Some("The job was cancelled before the agent was launched.".into());
            return finish(rt, inputs, report);
        }
        Err(LaunchError::Failed(e)) => {
            report.outcome = Outcome::Error;
            report.detail = Some(format!(
                "Could not launch the agent. {}",
                e.actionable(&plan.repository)
            ));
            return finish(rt, inputs, report);
        }
        Err(LaunchError::Unknown(e)) => {
            report.outcome = Outcome::Error;
            report.detail = Some(format!(
                "The launch may have created an agent, but it could not be confirmed ({e}). Check https://cursor.com/agents before re-running, to avoid a duplicate."
            ));
            return finish(rt, inputs, report);
        }
    };
    let verb = if launched.adopted {
        "Adopted"
    } else {
        "Launched"
    };
    console.info(&format!(
        "{verb} agent {} ({}): {}",
        agent.id,
        agent.status,
        agent.url()
    ));
    report.agent = Some(agent);
    // Written at once, so the agent is never lost whatever happens next.
    rt.io.set_outputs(&[
        (
            "agent-id",
            report.agent_id().unwrap_or_default().to_string(),
        ),
        ("agent-url", report.agent_url().unwrap_or_default()),
    ]);
    finish(rt, inputs, report)
}

/// Writes outputs and the step summary, prints the final line, and returns
/// the exit status. Every failure prints exactly one `::error::`.
fn finish(rt: &Runtime, inputs: &Inputs, report: RunReport) -> u8 {
    let console = &rt.io.console;
    rt.io.set_outputs(&report.outputs());
    rt.io.append_summary(&step_summary(&report));
    let code = report.outcome.exit_code(inputs.on_timeout);
    let detail = report.detail.clone().unwrap_or_default();
    match (report.outcome, code) {
        (Outcome::Skipped, _) => console.notice(&detail),
        (_, 1) => console.error(if detail.is_empty() {
            report.outcome.as_str()
        } else {
            &detail
        }),
        (Outcome::Timeout, 0) => console.warning(&detail),
        _ => {}
    }
    code
}
