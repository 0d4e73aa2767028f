use super::*;
use serde_json::json;

#[test]
fn jobs_from_real_shaped_json() {
    // GitHub's example job (docs: "List jobs for a workflow run").
    let j: JobJson = serde_json::from_value(json!({
        "id": 399444496, "run_id": 29679449, "run_attempt": 1,
        "status": "completed", "conclusion": "failure", "name": "build",
        "html_url": "https://github.com/o/r/runs/399444496",
        "check_run_url": "https://api.github.com/repos/o/r/check-runs/399444496",
        "steps": [
            {"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1},
            {"name": "Run tests", "status": "completed", "conclusion": "failure", "number": 2},
            {"name": "Complete job", "status": "completed", "conclusion": "success", "number": 3}
        ],
        "labels": ["ubuntu-latest"], "runner_id": 1, "workflow_name": "CI"
    }))
    .unwrap();
    let job = RunJob::from(j);
    assert!(job.failed());
    assert_eq!(job.check_run_id, 399444496);
    assert_eq!(
        job.failed_steps()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["Run tests"]
    );
    assert_eq!(job.failed_step_index(), Some(1));
    // A timed-out job whose step was cancelled: that step, not "Complete job".
    let timed_out = RunJob::from(
        serde_json::from_value::<JobJson>(json!({
            "id": 7, "conclusion": "timed_out",
            "steps": [
                {"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1},
                {"name": "Slow", "status": "completed", "conclusion": "cancelled", "number": 2},
                {"name": "Later", "status": "completed", "conclusion": "skipped", "number": 3}
            ]
        }))
        .unwrap(),
    );
    assert!(timed_out.failed());
    assert_eq!(timed_out.check_run_id, 7, "no check_run_url: the job's id");
    assert_eq!(timed_out.failed_step_index(), Some(1));
    for c in ["success", "cancelled", "skipped", "neutral"] {
        let j = RunJob::from(
            serde_json::from_value::<JobJson>(json!({"id": 1, "conclusion": c})).unwrap(),
        );
        assert!(!j.failed(), "{c}");
    }
}

#[test]
fn re_run_attempts_list_their_own_jobs() {
    let repo = RepoId::parse("o/r").unwrap();
    assert_eq!(
        jobs_route(&repo, 5, 1),
        "/repos/o/r/actions/runs/5/jobs?per_page=100"
    );
    assert_eq!(
        jobs_route(&repo, 5, 3),
        "/repos/o/r/actions/runs/5/attempts/3/jobs?per_page=100"
    );
}
