//! Fixing failing CI (#26), the evidence: for 1, 5 and 20 failed jobs (each
//! a 1 MB log with its error in the middle, among 30 passing jobs) and one
//! 50 MB log, against the GitHub simulator, the GitHub requests made, the
//! excerpter's peak held bytes (its own buffers, an exact count), the
//! process's peak RSS (VmHWM; each scenario runs in its own process, and the
//! in-process simulator holds the logs too), the prompt's size and the time.
//!
//! `cargo bench --bench fix_ci` prints the table in docs/performance.md.

use cursor_agent_action::context::RepoId;
use cursor_agent_action::fix_ci::evidence::Budget;
use cursor_agent_action::fix_ci::gather::gather;
use cursor_agent_action::fix_ci::prompt::{RunFacts, render};
use cursor_agent_action::github::GitHubClient;
use cursor_agent_action::github::actions::JobLogs;
use cursor_agent_action::github::policy::Limits;
use kit::clock::Clock;
use kit::env::Env;
use kit::secret::Secret;
use sim::{SimJob, Simulators};
use std::time::{Duration, Instant};

const REPO: &str = "o/r";
const RUN: u64 = 7;

/// A log of about `bytes` with its error in the middle.
fn log(bytes: usize, job: usize) -> String {
    let stamp = "2026-12-07T10:00:01.0000000Z";
    let mut log = format!("{stamp} ##[group]Run cargo test\n{stamp} ##[endgroup]\n");
    let mut n = 0;
    let line = |n: usize| {
        format!(
            "{stamp} test module_{job}::case_{n} ... ok {}\n",
            "-".repeat(40)
        )
    };
    while log.len() < bytes / 2 {
        n += 1;
        log.push_str(&line(n));
    }
    log.push_str(&format!(
        "{stamp} thread 'case' panicked at src/lib.rs:{job}:5\n{stamp} ##[error]assertion failed in job {job}\n"
    ));
    while log.len() < bytes {
        n += 1;
        log.push_str(&line(n));
    }
    log.push_str(&format!("{stamp} test result: FAILED\n"));
    log
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// One scenario: prints its table row.
async fn scenario(failed: usize, log_bytes: usize) {
    let clock = Clock::real();
    let sims = Simulators::start(clock).await.unwrap();
    sims.github.set_log_link_ttl(Duration::from_secs(3600));
    let steps: &[(&str, &str)] = &[
        ("Set up job", "success"),
        ("Run actions/checkout@v4", "success"),
        ("Run cargo test", "failure"),
        ("Complete job", "success"),
    ];
    let ok: &[(&str, &str)] = &[("Set up job", "success"), ("Run cargo test", "success")];
    for i in 0..30 {
        sims.github
            .add_job(REPO, RUN, 1, SimJob::new(&format!("ok {i}"), ok));
    }
    let mut log_total = 0;
    for i in 0..failed {
        let id = sims
            .github
            .add_job(REPO, RUN, 1, SimJob::new(&format!("test {i}"), steps));
        let text = log(log_bytes, i);
        log_total += text.len();
        sims.github.set_job_log(id, text);
    }
    let repo = RepoId::parse(REPO).unwrap();
    let token = Secret::new("ghs_BenchToken0123456789abcdefABCDEF");
    let env = Env::from_pairs::<&str, &str>([]);
    let http = kit::http::client(&env).unwrap();
    let github = GitHubClient::new(http, &sims.github_url(), &token, repo.clone(), clock).unwrap();
    let logs = JobLogs::new(
        kit::http::client_without_redirects(&env).unwrap(),
        &sims.github_url(),
        &token,
        repo,
        clock,
    );
    let limits = Limits::new(clock, clock.now() + Duration::from_secs(3600), None);
    let rss_before = vm_hwm_kib().unwrap_or(0);
    let started = Instant::now();
    let evidence = gather(&github, &logs, RUN, 1, &limits, Budget::default())
        .await
        .unwrap();
    let facts = RunFacts {
        run_url: "https://github.com/o/r/actions/runs/7",
        workflow: "CI",
        head_sha: "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed",
        head_branch: "feature",
        pr: Some(1),
        attempt: 1,
        max_attempts: 2,
        instructions: None,
    };
    let prompt = render(&facts, &evidence);
    let took = started.elapsed();
    let peak_held = evidence
        .failed
        .iter()
        .map(|j| j.peak_held)
        .max()
        .unwrap_or(0);
    let rss_after = vm_hwm_kib().unwrap_or(0);
    println!(
        "| {failed} | {:.1} MB | {} | {:.1} KiB | {:.1} MiB (+{:.1} MiB while gathering) | {:.1} KiB | {:.1} KiB | {} ms |",
        log_total as f64 / 1e6,
        sims.github.requests().len(),
        peak_held as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        rss_after.saturating_sub(rss_before) as f64 / 1024.0,
        evidence.excerpt_bytes() as f64 / 1024.0,
        prompt.text.len() as f64 / 1024.0,
        took.as_millis(),
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A child runs one scenario, so that its peak RSS is its own.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--scenario") {
        let failed: usize = args[i + 1].parse().unwrap();
        let bytes: usize = args[i + 2].parse().unwrap();
        rt.block_on(scenario(failed, bytes));
        return;
    }
    println!(
        "Fix-CI evidence against the GitHub simulator (30 passing jobs besides the failed ones; each log's error in its middle).\n"
    );
    println!(
        "| failed jobs | logs in all | GitHub requests | excerpter peak held (largest job) | process peak RSS | excerpts | prompt | time |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let me = std::env::current_exe().unwrap();
    for (failed, bytes) in [(1, 1 << 20), (5, 1 << 20), (20, 1 << 20), (1, 50 << 20)] {
        let out = std::process::Command::new(&me)
            .args(["--scenario", &failed.to_string(), &bytes.to_string()])
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
