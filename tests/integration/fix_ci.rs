//! Fixing failing CI, the evidence part: our GitHub client against the
//! simulator's workflow runs (jobs with paging and attempts, annotations,
//! logs behind an expiring redirect), request counts exact, and every
//! failure of the new calls ending in a clear typed result.

use crate::support::*;
use cursor_agent_action::context::RepoId;
use cursor_agent_action::fix_ci::evidence::{self, Budget, JOB_CAP, SectionFound};
use cursor_agent_action::fix_ci::gather::{Evidence, gather, listing_problem};
use cursor_agent_action::fix_ci::prompt::{PROMPT_CAP, RunFacts, describe, render};
use cursor_agent_action::github::actions::{JobLogs, LogError};
use cursor_agent_action::github::policy::{Limits, MAX_ATTEMPTS};
use cursor_agent_action::github::{GitHubClient, GitHubError};
use kit::clock::Clock;
use kit::env::Env;
use kit::secret::Secret;
use sim::*;
use std::time::Duration;

const REPO: &str = "o/r";
const RUN: u64 = 7;
const STEPS_OK: &[(&str, &str)] = &[
    ("Set up job", "success"),
    ("Run actions/checkout@v4", "success"),
    ("Run cargo test", "success"),
    ("Complete job", "success"),
];
const STEPS_FAILED: &[(&str, &str)] = &[
    ("Set up job", "success"),
    ("Run actions/checkout@v4", "success"),
    ("Run cargo test", "failure"),
    ("Complete job", "success"),
];

struct World {
    sims: Simulators,
    github: GitHubClient,
    logs: JobLogs,
    limits: Limits,
}

/// The simulators on a clock 100 times faster than real time (retries
/// back off in milliseconds), log links lasting an hour unless a test
/// says otherwise.
async fn world() -> World {
    let clock = Clock::scaled(100);
    let sims = Simulators::start(clock).await.unwrap();
    sims.github.set_log_link_ttl(Duration::from_secs(3600));
    let repo = RepoId::parse(REPO).unwrap();
    let token = Secret::new(TOKEN);
    let github =
        GitHubClient::new(http(), &sims.github_url(), &token, repo.clone(), clock).unwrap();
    let no_redirects =
        kit::http::client_without_redirects(&Env::from_pairs::<&str, &str>([])).unwrap();
    let logs = JobLogs::new(no_redirects, &sims.github_url(), &token, repo, clock);
    let limits = Limits::new(clock, clock.now() + Duration::from_secs(3600), None);
    World {
        sims,
        github,
        logs,
        limits,
    }
}

/// A log shaped like the runner's (UNVERIFIED shape: see fix_ci::evidence).
fn log_with(output: &[String]) -> String {
    let stamp = "2026-12-07T10:00:00.0000000Z";
    let mut lines = vec![
        format!("\u{feff}{stamp} Current runner version: '2.330.0'"),
        format!("{stamp} ##[group]Run actions/checkout@v4"),
        format!("{stamp} ##[endgroup]"),
        format!("{stamp} Syncing repository: o/r"),
        format!("{stamp} ##[group]Run cargo test"),
        format!("{stamp} ##[endgroup]"),
    ];
    lines.extend(output.iter().map(|l| format!("{stamp} {l}")));
    lines.push(format!("{stamp} Post job cleanup."));
    lines.join("\n") + "\n"
}

fn failing_log(error: &str) -> String {
    log_with(&[
        "running 3 tests".into(),
        format!("thread 'x' panicked at src/lib.rs:3:9: {error}"),
        format!("##[error]{error}"),
        "test result: FAILED. 2 passed; 1 failed".into(),
    ])
}

fn seed_failed(w: &World, name: &str, attempt: u32, log: &str) -> u64 {
    let id = w
        .sims
        .github
        .add_job(REPO, RUN, attempt, SimJob::new(name, STEPS_FAILED));
    w.sims.github.set_job_log(id, log.to_string());
    w.sims.github.add_annotation(
        id,
        SimAnnotation {
            path: ".github".into(),
            line: 0,
            level: "failure".into(),
            message: "Process completed with exit code 101.".into(),
            title: None,
            raw_details: None,
        },
    );
    id
}

async fn evidence(w: &World, attempt: u32) -> Result<Evidence, GitHubError> {
    gather(
        &w.github,
        &w.logs,
        RUN,
        attempt,
        &w.limits,
        Budget::default(),
    )
    .await
}

#[tokio::test]
async fn one_listing_plus_pages_then_one_annotations_read_and_one_log_per_failed_job() {
    let w = world().await;
    for i in 0..147 {
        let id = w
            .sims
            .github
            .add_job(REPO, RUN, 1, SimJob::new(&format!("ok {i}"), STEPS_OK));
        w.sims.github.set_job_log(id, log_with(&["fine".into()]));
    }
    let failed: Vec<u64> = (0..3)
        .map(|i| {
            seed_failed(
                &w,
                &format!("test {i}"),
                1,
                &failing_log(&format!("boom {i}")),
            )
        })
        .collect();
    let e = evidence(&w, 1).await.unwrap();
    assert_eq!(e.jobs_listed, 150);
    assert_eq!(
        e.failed.iter().map(|j| j.job.id).collect::<Vec<_>>(),
        failed
    );
    let gh = &w.sims.github;
    assert_eq!(
        gh.count("GET", "/repos/o/r/actions/runs/7/jobs"),
        2,
        "100 + 50"
    );
    assert_eq!(gh.count("GET", "/repos/o/r/check-runs/*/annotations"), 3);
    assert_eq!(gh.count("GET", "/repos/o/r/actions/jobs/*/logs"), 3);
    assert_eq!(gh.count("GET", "/_blobs/logs/*/*"), 3);
    assert_eq!(
        gh.requests().len(),
        2 + 3 + 3 + 3,
        "nothing for passing jobs"
    );
    for (i, j) in e.failed.iter().enumerate() {
        let x = j.excerpt.as_ref().unwrap();
        assert_eq!(j.step, "Run cargo test");
        assert_eq!(x.section, SectionFound::ByName);
        assert!(x.text.contains(&format!("##[error]boom {i}")), "{}", x.text);
        assert!(!x.text.contains("2026-12-07T"), "timestamps stripped");
        assert_eq!(j.annotations.as_ref().unwrap().len(), 1);
        assert_eq!(j.log_problem, None);
    }
    assert_eq!(w.logs.request_count(), 6);
}

#[tokio::test]
async fn a_re_run_attempt_reads_its_own_jobs() {
    let w = world().await;
    seed_failed(&w, "test", 1, &failing_log("first attempt"));
    seed_failed(&w, "test", 2, &failing_log("second attempt"));
    let e = evidence(&w, 2).await.unwrap();
    assert_eq!(
        w.sims
            .github
            .count("GET", "/repos/o/r/actions/runs/7/attempts/2/jobs"),
        1
    );
    assert_eq!(
        w.sims.github.count("GET", "/repos/o/r/actions/runs/7/jobs"),
        0
    );
    let text = &e.failed[0].excerpt.as_ref().unwrap().text;
    assert!(text.contains("second attempt") && !text.contains("first attempt"));
    // One listing, one annotations read, one link and one download.
    assert_eq!(w.sims.github.requests().len(), 4);
}

#[tokio::test]
async fn the_same_failure_has_the_same_fingerprint_and_another_does_not() {
    let w = world().await;
    // Attempts of one run (each listed on its own: attempt > 1).
    seed_failed(
        &w,
        "test",
        2,
        &failing_log("expected 3, got 4 (/tmp/.tmpA1b2/x)"),
    );
    seed_failed(
        &w,
        "test",
        3,
        &failing_log("expected 8, got 9 (/tmp/.tmpQ9z8/x)"),
    );
    seed_failed(&w, "test", 4, &failing_log("file not found: Cargo.lock"));
    let one = evidence(&w, 2).await.unwrap().fingerprint("CI");
    let two = evidence(&w, 3).await.unwrap().fingerprint("CI");
    let three = evidence(&w, 4).await.unwrap().fingerprint("CI");
    assert_eq!(one, two);
    assert_ne!(one, three);
}

#[tokio::test]
async fn a_50_mb_log_with_the_error_in_its_middle_is_excerpted_in_bounded_memory() {
    let w = world().await;
    let filler = "x".repeat(90);
    let mut log = String::with_capacity(51 << 20);
    log.push_str("2026-12-07T10:00:00.0000000Z ##[group]Run cargo test\n");
    let mut n = 0u64;
    while log.len() < 25 << 20 {
        n += 1;
        log.push_str(&format!("2026-12-07T10:00:01.0000000Z line {n} {filler}\n"));
    }
    log.push_str("2026-12-07T10:00:02.0000000Z error[E0308]: mismatched types in src/main.rs\n");
    log.push_str("2026-12-07T10:00:02.0000000Z ##[error]could not compile `app`\n");
    while log.len() < 50 << 20 {
        n += 1;
        log.push_str(&format!("2026-12-07T10:00:03.0000000Z line {n} {filler}\n"));
    }
    log.push_str("2026-12-07T10:00:04.0000000Z the very last line\n");
    let size = log.len() as u64;
    let id = w
        .sims
        .github
        .add_job(REPO, RUN, 1, SimJob::new("build", STEPS_FAILED));
    w.sims.github.set_job_log(id, log);
    let e = evidence(&w, 1).await.unwrap();
    let job = &e.failed[0];
    let x = job.excerpt.as_ref().unwrap();
    assert_eq!(x.bytes_read, size, "read whole");
    assert!(x.text.len() <= JOB_CAP);
    assert!(
        x.text.contains("error[E0308]: mismatched types"),
        "context before"
    );
    assert!(x.text.contains("##[error]could not compile `app`"));
    assert!(x.text.contains("the very last line"), "the section's tail");
    assert!(
        x.cut_note().contains(&format!("of {} log lines", n + 4)),
        "{}",
        x.cut_note()
    );
    // Our own buffers: bounded by constants, not by the log's 50 MB.
    let bound = evidence::MAX_HELD;
    assert!(job.peak_held <= bound, "{} > {bound}", job.peak_held);
    assert!(job.peak_held < 1 << 20);
}

#[tokio::test]
async fn a_log_without_an_error_gives_the_sections_last_lines() {
    let w = world().await;
    let out: Vec<String> = (0..3000).map(|i| format!("step output {i}")).collect();
    let id = w
        .sims
        .github
        .add_job(REPO, RUN, 1, SimJob::new("test", STEPS_FAILED));
    w.sims.github.set_job_log(id, log_with(&out));
    let e = evidence(&w, 1).await.unwrap();
    let x = e.failed[0].excerpt.as_ref().unwrap();
    assert_eq!(x.errors_seen, 0);
    assert!(x.text.contains("step output 2999\n"));
    assert!(!x.text.contains("Post job cleanup"));
    assert!(x.text.contains("lines not shown"));
    assert!(x.text.len() <= JOB_CAP && x.text.len() > JOB_CAP / 2);
    // No `##[error]`: the fingerprint falls back on the failure annotation.
    assert_eq!(e.failed[0].error_lines(), Vec::<String>::new());
}

#[tokio::test]
async fn an_expired_log_link_is_asked_for_once_more_then_given_up() {
    let w = world().await;
    let id = seed_failed(&w, "test", 1, &failing_log("boom"));
    let read = |w: &World| {
        let logs = w.logs.clone();
        let limits = w.limits.clone();
        async move {
            let mut bytes = 0;
            let r = logs.read(id, &limits, |c| bytes += c.len()).await;
            (r, bytes)
        }
    };
    // Expired once: a fresh link, the log read.
    w.sims
        .github
        .add_fault(FaultRule::new("GET", "/_blobs/logs/*/*", Fault::Expired));
    let (r, bytes) = read(&w).await;
    let r = r.unwrap();
    assert_eq!((r.links, r.bytes), (2, bytes as u64));
    assert!(bytes > 0);
    // Expired twice: given up, typed, nothing handed over.
    w.sims.github.clear_reactions_and_log();
    w.sims
        .github
        .add_fault(FaultRule::new("GET", "/_blobs/logs/*/*", Fault::Expired).times(2));
    let (r, bytes) = read(&w).await;
    assert_eq!(r, Err(LogError::Expired));
    assert_eq!(bytes, 0);
    assert_eq!(
        w.sims.github.count("GET", "/repos/o/r/actions/jobs/*/logs"),
        2
    );
    assert_eq!(w.sims.github.count("GET", "/_blobs/logs/*/*"), 2);
    // A link that expires as it is given (the clock, not a fault): the same.
    w.sims.github.set_log_link_ttl(Duration::ZERO);
    let (r, _) = read(&w).await;
    assert_eq!(r, Err(LogError::Expired));
    assert!(LogError::Expired.describe().contains("expired"));
    // The evidence goes on without the log, and says why.
    let e = evidence(&w, 1).await.unwrap();
    assert_eq!(e.failed[0].excerpt, None);
    assert_eq!(e.failed[0].log_problem, Some(LogError::Expired));
    assert_eq!(e.failed[0].annotations.as_ref().unwrap().len(), 1);
}

#[tokio::test]
async fn failures_of_the_logs_call_end_in_a_typed_result_and_the_rest_goes_on() {
    let w = world().await;
    seed_failed(&w, "test", 1, &failing_log("boom"));
    let logs_path = "/repos/o/r/actions/jobs/*/logs";
    // 5xx every time: retried as a read, then given up.
    w.sims
        .github
        .add_fault(FaultRule::new("GET", logs_path, Fault::status(502)).times(100));
    let e = evidence(&w, 1).await.unwrap();
    match &e.failed[0].log_problem {
        Some(LogError::GitHub(err)) => assert_eq!(err.status(), Some(502)),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.sims.github.count("GET", logs_path), MAX_ATTEMPTS as usize);
    assert_eq!(e.failed[0].annotations.as_ref().unwrap().len(), 1);
    // A reset every time: the same, as a transport error.
    let w = world().await;
    seed_failed(&w, "test", 1, &failing_log("boom"));
    w.sims
        .github
        .add_fault(FaultRule::new("GET", logs_path, Fault::Reset).times(100));
    let e = evidence(&w, 1).await.unwrap();
    assert!(
        matches!(
            &e.failed[0].log_problem,
            Some(LogError::GitHub(GitHubError::Transport { .. }))
        ),
        "{:?}",
        e.failed[0].log_problem
    );
    // One reset, then an answer: retried, read whole.
    let w = world().await;
    seed_failed(&w, "test", 1, &failing_log("boom"));
    w.sims
        .github
        .add_fault(FaultRule::new("GET", logs_path, Fault::Reset));
    w.sims
        .github
        .add_fault(FaultRule::new("GET", "/_blobs/logs/*/*", Fault::Reset));
    let e = evidence(&w, 1).await.unwrap();
    assert_eq!(e.failed[0].log_problem, None);
    assert!(
        e.failed[0]
            .excerpt
            .as_ref()
            .unwrap()
            .text
            .contains("##[error]boom")
    );
    assert_eq!(
        w.sims.github.count("GET", logs_path),
        3,
        "reset, link, fresh link"
    );
}

#[tokio::test]
async fn a_missing_run_or_log_is_a_clear_404() {
    let w = world().await;
    let e = evidence(&w, 1).await;
    assert_eq!(e.as_ref().err().and_then(GitHubError::status), Some(404));
    assert_eq!(w.sims.github.requests().len(), 1, "a 404 is not retried");
    // A job without a log yet: NotFound, after one ask.
    let id = w
        .sims
        .github
        .add_job(REPO, RUN, 1, SimJob::new("test", STEPS_FAILED));
    let r = w.logs.read(id, &w.limits, |_| {}).await;
    assert_eq!(r, Err(LogError::NotFound));
    // A 404 on the jobs listing of a run that exists (a fault): the same.
    w.sims.github.add_fault(FaultRule::new(
        "GET",
        "/repos/o/r/actions/runs/7/jobs",
        Fault::status(404),
    ));
    assert_eq!(
        evidence(&w, 1).await.err().and_then(|e| e.status()),
        Some(404)
    );
}

#[tokio::test]
async fn runs_are_seeded_through_the_control_api_as_out_of_process_tests_do() {
    let w = world().await;
    let seeded: serde_json::Value = json_of(
        http()
            .post(format!("{}/_sim/actions/jobs", w.sims.github_url()))
            .json(&serde_json::json!({
                "repo": REPO, "run_id": RUN, "attempt": 1, "name": "lint",
                "conclusion": "failure",
                "steps": [{"name": "Set up job", "conclusion": "success"},
                          {"name": "Run cargo clippy", "conclusion": "failure"}],
                "log": "##[group]Run cargo clippy\n##[error]unused variable\n",
                "annotations": [{"path": "src/a.rs", "line": 3, "level": "failure", "message": "unused variable"}]
            })),
    )
    .await;
    assert!(seeded["id"].as_u64().is_some(), "{seeded}");
    let bad = http()
        .post(format!("{}/_sim/actions/jobs", w.sims.github_url()))
        .json(&serde_json::json!({"name": "no repo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let e = evidence(&w, 1).await.unwrap();
    let job = &e.failed[0];
    assert_eq!(job.step, "Run cargo clippy");
    assert_eq!(job.annotations.as_ref().unwrap()[0].path, "src/a.rs");
    assert_eq!(job.annotations.as_ref().unwrap()[0].start_line, Some(3));
    assert_eq!(job.error_lines(), vec!["unused variable"]);
}

const FACTS: RunFacts<'static> = RunFacts {
    run_url: "https://github.com/o/r/actions/runs/7",
    workflow: "CI",
    head_sha: "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed",
    head_branch: "feature",
    pr: Some(3),
    attempt: 1,
    max_attempts: 2,
    instructions: None,
};

/// What a row of the fault table must end in.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// The listing failed with this status (0: no status, a transport error).
    ListingFails(u16),
    /// Everything read whole.
    Whole,
    /// The annotations not read; the log read whole.
    NoAnnotations,
    /// No log, for this reason (as `describe` words it).
    NoLog(&'static str),
    /// The log read in part, its excerpt kept (the error, early in the
    /// log, in it; the last line not).
    Partial,
}

/// Every new GitHub call (the jobs listing and its pages, the annotations,
/// the log's link and its download) × faults × the moment they strike: each
/// ends in a described Evidence or a typed error, never a panic, a hang or
/// a silent gap.
#[tokio::test]
async fn every_fault_of_the_new_calls_at_every_moment_ends_in_a_clear_outcome() {
    // 2 MB: a download cut midway has handed over a part (the server
    // flushes what it buffered past its write buffer before it drops).
    let mut output = vec!["running 3 tests".to_string(), "##[error]boom".into()];
    output.extend((0..20_000).map(|i| format!("test output {i:06} {}", "z".repeat(80))));
    output.push("the very last line".into());
    let log = log_with(&output);
    let half = log.len() as u64 / 2;
    let full = log.len() as u64;
    let listing = "/repos/o/r/actions/runs/7/jobs";
    let annotations = "/repos/o/r/check-runs/*/annotations";
    let link = "/repos/o/r/actions/jobs/*/logs";
    let storage = "/_blobs/logs/*/*";
    let rule = |path: &str, fault: Fault| FaultRule::new("GET", path, fault);
    let rows: Vec<(&str, Vec<FaultRule>, Outcome)> = vec![
        (
            "jobs listing × 404",
            vec![rule(listing, Fault::status(404))],
            Outcome::ListingFails(404),
        ),
        (
            "jobs listing × 502 always",
            vec![rule(listing, Fault::status(502)).times(100)],
            Outcome::ListingFails(502),
        ),
        (
            "jobs listing × reset always",
            vec![rule(listing, Fault::Reset).times(100)],
            Outcome::ListingFails(0),
        ),
        (
            "jobs listing page 2 × reset once",
            vec![rule(listing, Fault::Reset).after(1)],
            Outcome::Whole,
        ),
        (
            "annotations × 502 always",
            vec![rule(annotations, Fault::status(502)).times(100)],
            Outcome::NoAnnotations,
        ),
        (
            "annotations × 403",
            vec![rule(annotations, Fault::status(403))],
            Outcome::NoAnnotations,
        ),
        (
            "log link × 502 always",
            vec![rule(link, Fault::status(502)).times(100)],
            Outcome::NoLog("answered 502"),
        ),
        (
            "log link × reset always",
            vec![rule(link, Fault::Reset).times(100)],
            Outcome::NoLog("Could not reach GitHub"),
        ),
        (
            "log link × reset once",
            vec![rule(link, Fault::Reset)],
            Outcome::Whole,
        ),
        (
            "log link × 404",
            vec![rule(link, Fault::status(404))],
            Outcome::NoLog("GitHub has no log"),
        ),
        (
            "log download × reset before the answer, once",
            vec![rule(storage, Fault::Reset)],
            Outcome::Whole,
        ),
        (
            "log download × cut after 0 bytes, once",
            vec![rule(storage, Fault::CutAfter { bytes: 0 })],
            Outcome::Whole,
        ),
        (
            "log download × cut after 0 bytes, twice",
            vec![rule(storage, Fault::CutAfter { bytes: 0 }).times(2)],
            Outcome::NoLog("Could not reach"),
        ),
        (
            "log download × cut mid-log",
            vec![rule(storage, Fault::CutAfter { bytes: half })],
            Outcome::Partial,
        ),
        (
            "log download × cut at the end",
            vec![rule(storage, Fault::CutAfter { bytes: full })],
            Outcome::Partial,
        ),
        (
            "log download × expired once",
            vec![rule(storage, Fault::Expired)],
            Outcome::Whole,
        ),
        (
            "log download × expired twice",
            vec![rule(storage, Fault::Expired).times(2)],
            Outcome::NoLog("expired twice"),
        ),
        (
            "log download × 503 twice",
            vec![rule(storage, Fault::status(503)).times(2)],
            Outcome::NoLog("503"),
        ),
    ];
    let mut table = String::from("| call × fault × moment | outcome | requests |\n|---|---|---|\n");
    for (name, rules, want) in rows {
        let w = world().await;
        for i in 0..120 {
            w.sims
                .github
                .add_job(REPO, RUN, 1, SimJob::new(&format!("ok {i}"), STEPS_OK));
        }
        seed_failed(&w, "test", 1, &log);
        for r in rules {
            w.sims.github.add_fault(r);
        }
        let got = evidence(&w, 1).await;
        let requests = w.sims.github.requests().len();
        let shown = match (&got, want) {
            (Err(e), Outcome::ListingFails(status)) => {
                assert_eq!(e.status().unwrap_or(0), status, "{name}: {e:?}");
                let words = listing_problem(RUN, e);
                assert!(words.contains("actions: read"), "{name}: {words}");
                format!("listing failed: {words}")
            }
            (Ok(e), want) => {
                let j = &e.failed[0];
                let summary = describe(e);
                let prompt = render(&FACTS, e);
                assert!(prompt.text.len() <= PROMPT_CAP, "{name}");
                let cut = prompt.cut.join("\n");
                match want {
                    Outcome::Whole => {
                        assert_eq!(j.log_problem, None, "{name}");
                        assert!(j.annotations.is_ok(), "{name}");
                        let x = j.excerpt.as_ref().expect(name);
                        assert_eq!(x.bytes_read, full, "{name}");
                        assert!(prompt.text.contains("##[error]boom"), "{name}");
                    }
                    Outcome::NoAnnotations => {
                        assert!(j.annotations.is_err(), "{name}");
                        assert!(
                            summary.contains("annotations not read"),
                            "{name}: {summary}"
                        );
                        assert!(
                            cut.contains("annotations could not be read"),
                            "{name}: {cut}"
                        );
                        assert!(prompt.text.contains("##[error]boom"), "{name}");
                    }
                    Outcome::NoLog(why) => {
                        assert_eq!(j.excerpt, None, "{name}");
                        let problem = j.log_problem.as_ref().expect(name).describe();
                        assert!(problem.contains(why), "{name}: {problem}");
                        assert!(summary.contains("log not read"), "{name}: {summary}");
                        assert!(cut.contains("no log"), "{name}: {cut}");
                        assert!(prompt.text.contains("Its log could not be read"), "{name}");
                        assert_eq!(j.annotations.as_ref().map(Vec::len), Ok(1), "{name}");
                    }
                    Outcome::Partial => {
                        match &j.log_problem {
                            Some(LogError::Interrupted { bytes, .. }) => {
                                assert!(*bytes > 0 && *bytes <= full, "{name}: {bytes}")
                            }
                            other => panic!("{name}: {other:?}"),
                        }
                        let x = j.excerpt.as_ref().expect(name);
                        assert!(x.text.contains("Run cargo test"), "{name}: {}", x.text);
                        assert!(x.text.contains("##[error]boom"), "{name}");
                        // Midway: the end is missing. At the very end all of
                        // it may have come, but the drop says nothing proves it.
                        if name.contains("mid-log") {
                            assert!(x.bytes_read < full, "{name}");
                            assert!(!x.text.contains("the very last line"), "{name}");
                        }
                        assert!(summary.contains("read in part"), "{name}: {summary}");
                        assert!(cut.contains("read in part"), "{name}: {cut}");
                    }
                    Outcome::ListingFails(_) => panic!("{name}: listed"),
                }
                summary.lines().nth(1).unwrap_or_default().to_string()
            }
            (Err(e), want) => panic!("{name}: {e:?}, wanted {want:?}"),
        };
        table.push_str(&format!(
            "| {name} | {} | {requests} |\n",
            shown.replace('|', "/")
        ));
    }
    println!("{table}");
}

/// The run's secrets (the token, the Cursor key, a `redact` value), in
/// every form the redactor knows, planted in a job's name, its log and its
/// annotations (message, title, details) and in an error GitHub's storage
/// echoes: none reaches any place evidence text goes (the prompt, what it
/// says was cut, the comment's summary, the log's debug output).
#[tokio::test]
async fn planted_secrets_reach_no_place_evidence_text_goes() {
    use base64::Engine;
    let w = world().await;
    let redact_value = "hunter2-db-password-0042";
    let run = kit::secret::Redactor::new()
        .with(KEY)
        .with(redact_value)
        .with(TOKEN);
    let logs = w.logs.clone().redacting(&run);
    let github = w.github.clone().redacting(&run);
    let forms: Vec<String> = [KEY, TOKEN, redact_value]
        .iter()
        .flat_map(|s| {
            [
                s.to_string(),
                base64::engine::general_purpose::STANDARD.encode(s),
                url::form_urlencoded::byte_serialize(s.as_bytes()).collect(),
            ]
        })
        .collect();
    // Well-known token shapes, never registered: replaced all the same.
    let shapes = [
        "ghp_0123456789abcdefghijABCDEFGHIJ012345".to_string(),
        "ghs_ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210".to_string(),
        format!("github_pat_11ABCDEFG0{}", "x1Y2z3".repeat(12)),
        "AKIAIOSFODNN7EXAMPLE".to_string(),
    ];
    let mut forms = forms;
    forms.extend(
        [KEY, TOKEN, redact_value]
            .iter()
            .map(|s| base64::engine::general_purpose::URL_SAFE.encode(format!("??>{s}"))),
    );
    let planted = forms
        .iter()
        .chain(&shapes)
        .cloned()
        .collect::<Vec<_>>()
        .join(" and ");
    forms.extend(shapes);
    // A private key block, and the redact value inside a longer blob,
    // base64-wrapped at 76 columns over several log lines (each with its
    // timestamp, as GitHub writes them).
    let key_body = "MIIEowIBAAKCAQEAzmWp1y2ZqkYwXvTqB3s9Q8r7H0kL5nJ6vWcX4aF2eD1gHi";
    let blob = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}{redact_value}{}",
        "c".repeat(50),
        "d".repeat(40)
    ));
    let wrapped: Vec<String> = blob
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    forms.push(key_body.to_string());
    let noise: Vec<String> = (0..50).map(|i| format!("noise {i}")).collect();
    let mut out = noise.clone();
    out.push("-----BEGIN RSA PRIVATE KEY-----".to_string());
    out.push(key_body.to_string());
    out.push("-----END RSA PRIVATE KEY-----".to_string());
    out.extend(wrapped.iter().cloned());
    out.push(format!("env: {planted}"));
    out.push(format!("##[error]auth failed with {planted}"));
    out.extend(noise);
    let id = w.sims.github.add_job(
        REPO,
        RUN,
        1,
        SimJob::new(&format!("test {KEY}"), STEPS_FAILED),
    );
    w.sims.github.set_job_log(id, log_with(&out));
    w.sims.github.add_annotation(
        id,
        SimAnnotation {
            path: format!("src/{redact_value}.rs"),
            line: 1,
            level: "failure".into(),
            message: format!("expected {planted}"),
            title: Some(format!("title {planted}")),
            raw_details: Some(format!("details\n{planted}\nend")),
        },
    );
    // A second failed job whose log storage answers errors echoing them.
    let other = seed_failed(&w, "other", 1, &failing_log("x"));
    let _ = other;
    w.sims.github.add_fault(
        FaultRule::new(
            "GET",
            "/_blobs/logs/*/*",
            Fault::Status {
                status: 500,
                body: Some(format!(r#"{{"message":"storage says {planted}"}}"#)),
                retry_after: None,
                headers: vec![],
            },
        )
        .after(1)
        .times(2),
    );
    let e = gather(&github, &logs, RUN, 1, &w.limits, Budget::default())
        .await
        .unwrap();
    assert_eq!(e.failed.len(), 2);
    assert!(
        e.failed[1].log_problem.is_some(),
        "the echoing errors were met"
    );
    let prompt = render(&FACTS, &e);
    let places = [
        ("prompt", prompt.text.clone()),
        ("what was cut", prompt.cut.join("\n")),
        ("comment summary", describe(&e)),
        ("log (debug output)", format!("{e:?}")),
        (
            "log problem",
            e.failed[1].log_problem.as_ref().unwrap().describe(),
        ),
    ];
    // The wrapped blob's middle, where the value sits, whichever way its
    // lines were joined.
    // (bytes 51..72 of the blob are the value's, characters 68..96 of its
    // base64; the first line break falls at 76, inside them.)
    let value_core = &blob[68..96];
    assert!(wrapped.concat().contains(value_core) && !wrapped[0].contains(value_core));
    for (place, text) in &places {
        let unwrapped: String = text.split('\n').map(|l| l.trim_end()).collect();
        assert!(
            !unwrapped.contains(value_core),
            "the wrapped base64 of a redact value reached the {place}:\n{text}"
        );
        for form in &forms {
            assert!(
                !text.contains(form.as_str()),
                "{form} reached the {place}:\n{text}"
            );
        }
    }
    // The evidence is still there, with the secrets replaced.
    assert!(
        prompt.text.contains("##[error]auth failed with ***"),
        "{}",
        prompt.text
    );
    assert!(prompt.text.contains("title ***"));
    assert!(prompt.text.contains("job: test ***"));
}
