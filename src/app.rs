//! One run of the action, from environment to exit status.

use crate::agent::{AgentApi, Setup};
use crate::context::Context;
use crate::flow::Flow;
use crate::gate::{self, Decision};
use crate::github::GitHubClient;
use crate::inputs::{InputError, InputErrors, Inputs, RawInputs};
use crate::marker::Marker;
use crate::plan::{self, LaunchPlan};
use crate::report::comment::{self, CommentExtras, Phase};
use crate::report::{Outcome, RunReport};
pub use crate::runtime::{EXIT_CONFIG, Runtime, finish};
use kit::env::Env;
use std::path::PathBuf;

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
    if let Ok(inputs) = &inputs {
        for warning in &inputs.warnings {
            rt.io.console.warning(warning);
        }
    }
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
    if inputs.sweep {
        // Launches nothing, so it needs no trigger and no prompt.
        let http = match kit::http::client(&rt.env) {
            Ok(h) => h,
            Err(e) => return config_error(rt, &e.to_string()),
        };
        let github = match &inputs.github_token {
            Some(token) => {
                match GitHubClient::new(
                    http.clone(),
                    &ctx.api_url,
                    token,
                    ctx.repo.clone(),
                    rt.clock,
                ) {
                    Ok(g) => Some(g.redacting(&rt.io.console.redactor())),
                    Err(e) => return config_error(rt, &e),
                }
            }
            None => None,
        };
        // Boxed: the sweep's and the flow's futures are large, and on the heap
        // they cannot overflow a small (2 MiB) thread stack.
        return Box::pin(crate::sweep::run(rt, &inputs, &ctx, http, github)).await;
    }
    if crate::fix_ci::run::applies(&inputs, &ctx) {
        if inputs.dry_run {
            rt.io.console.notice("Dry run: nothing is read or launched. A real run would read the failed run's pull request, the people involved, its fix-CI comment and the failed jobs' evidence, then launch an agent, follow up the pull request's agent, or skip with a reason (see docs/fix-ci.md).");
            let mut report = RunReport::new(Outcome::DryRun);
            report.run_url = ctx.run_url();
            return finish(rt, &inputs, report);
        }
        return Box::pin(crate::fix_ci::run::run(rt, &inputs, &ctx)).await;
    }
    if let Some(warning) = crate::fix_ci::run::ignored_warning(&inputs, &ctx) {
        rt.io.console.warning(&warning);
    }
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
    let http = match kit::http::client(&rt.env) {
        Ok(h) => h,
        Err(e) => return config_error(rt, &e.to_string()),
    };
    let api = AgentApi::new(Setup {
        http: http.clone(),
        inputs: &inputs,
        ctx: &ctx,
        plan: &plan,
        clock: rt.clock,
        cancel: rt.cancel.clone(),
        redactor: rt.io.console.redactor(),
    });
    let github = match &inputs.github_token {
        Some(token) => {
            match GitHubClient::new(http, &ctx.api_url, token, ctx.repo.clone(), rt.clock) {
                Ok(g) => Some(g.redacting(&rt.io.console.redactor())),
                Err(e) => return config_error(rt, &e),
            }
        }
        None => match gate::decide(&inputs, &ctx) {
            // Refused before any warning: the run cannot go ahead at all.
            Decision::Check { people, .. } if !people.is_empty() => {
                let errors = InputErrors(vec![InputError {
                    input: "github-token",
                    problem: gate::empty_token_problem(&ctx.event_name, &people),
                }]);
                return config_error(rt, &errors.to_string());
            }
            Decision::Accept | Decision::Check { .. }
                if inputs.comment && plan.issue_number.is_some() =>
            {
                rt.io.console.warning("`github-token` is empty, so no comment is posted; the outcome goes to the outputs and the step summary only.");
                None
            }
            _ => None,
        },
    };
    Box::pin(Flow::new(rt, &inputs, &ctx, &plan, api, github).run()).await
}

/// What a real run would do, as far as the payload tells without a token:
/// the gate's verdict, then launch, follow up or reattach.
fn dry_run(rt: &Runtime, inputs: &Inputs, ctx: &Context, plan: &LaunchPlan) -> u8 {
    let console = &rt.io.console;
    let check = match gate::decide(inputs, ctx) {
        Decision::Invalid { input, problem } => {
            return config_error(
                rt,
                &format!("1 input is invalid:\n  - `{input}`: {problem}"),
            );
        }
        Decision::Skip(reason) => {
            let mut report = RunReport::new(Outcome::Skipped);
            report.run_url = ctx.run_url();
            report.detail = Some(format!(
                "Dry run: nothing is launched, and a real run would skip this event too. {reason}"
            ));
            return finish(rt, inputs, report);
        }
        Decision::Accept => {
            "no permission check is needed (GitHub lets only writers cause this event)".to_string()
        }
        Decision::Check { people, bots } => {
            let mut parts: Vec<String> = bots
                .iter()
                .map(|b| format!("{b} is listed in `allowed-bots`"))
                .collect();
            if !people.is_empty() {
                parts.push(format!(
                    "a real run would first check that {} has write, maintain or admin permission (the permission check is not made in a dry run)",
                    people.join(" and ")
                ));
            }
            parts.join("; ")
        }
    };
    let job = crate::job::Job::of(inputs, ctx, plan);
    let next = match plan.issue_number.filter(|_| inputs.comment) {
        Some(n) if ctx.run_attempt > 1 => format!(
            "reattach to the agent of an earlier attempt if this run's comment on #{n} names one, else launch (the comments are not read in a dry run)"
        ),
        Some(n) if inputs.followup && ctx.is_followup_trigger() => format!(
            "follow up the agent named in the comments of #{n} if there is one, else launch a new agent (the comments are not read in a dry run)"
        ),
        _ if ctx.run_attempt > 1 => match inputs.api_version {
            crate::inputs::ApiVersion::V0 => {
                "reattach to the agent of an earlier attempt if one is found by its branch, else launch"
                    .to_string()
            }
            crate::inputs::ApiVersion::V1 => {
                "reattach to the agent of an earlier attempt if one exists under this launch's agent id, else launch"
                    .to_string()
            }
        },
        _ => match &job {
            Some(job) => format!(
                "skip if an agent of the scheduled job {} is still working, {}else launch a new agent (Cursor and GitHub are not read in a dry run)",
                job.label,
                if job.update_open_pr {
                    "send the prompt to the agent of the job's open pull request if there is one (or launch on its branch when that agent is gone), "
                } else {
                    ""
                }
            ),
            None => "launch a new agent".to_string(),
        },
    };
    console.notice(&format!(
        "Dry run: nothing is launched. The trigger rules pass: {check}. A real run would then {next}."
    ));
    console.info("This is the request a real run would send:");
    let (path, json) = crate::agent::dry_run_request(inputs, ctx, plan);
    console.info(&format!(
        "POST {}{path}\nAuthorization: Basic *** (cursor-api-key, redacted)",
        inputs.api_url.as_str().trim_end_matches('/')
    ));
    console.untrusted_block(&json);
    let mut report = RunReport::new(Outcome::DryRun);
    if inputs.api_version == crate::inputs::ApiVersion::V0 {
        report.planned_branch = plan.request.target.branch_name.clone();
    }
    report.run_url = ctx.run_url();
    match plan.issue_number.filter(|_| inputs.comment) {
        Some(n) => {
            console.info(&format!("Comment planned on #{n} in {}:", ctx.repo));
            let marker = Marker::new(None, ctx.run_id, ctx.run_attempt).with_key(&plan.key);
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
