//! The action's cost on a runner, side by side with what a maintainer would
//! write instead, measured in one run on loopback against the simulators:
//! the release binary, a bash step with curl and jq, and a Node script in the
//! style of actions/github-script (bare `fetch`, and with @octokit/rest).
//!
//! Run with `bench/run` (it builds the release binary and installs the Node
//! baseline's dependencies first). Prints Markdown tables: the README's.

#[path = "support/polling.rs"]
mod polling;
#[path = "support/seen.rs"]
mod seen;

use kit::clock::Clock;
use polling::{fixed_interval, median, trial};
use sim::{Scenario, Simulators};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const RUNS: usize = 21;
/// The full run compresses a 5-minute agent this many times.
const SCALE: u32 = 300;
/// Simulated 60-minute agents behind the polling comparison: enough for a
/// median notice delay stable to a few tenths of a second.
const POLLING_TRIALS: u64 = 10_001;
/// Runs of the whole action behind our delay to the final comment.
const SEEN_TRIALS: u64 = 101;
const KEY: &str = "crsr_bench_0000000000000000000000";
const TOKEN: &str = "ghs_bench_00000000000000000000";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Contender {
    Ours,
    CurlJq,
    NodeFetch,
    NodeOctokit,
}

impl Contender {
    const ALL: [Contender; 4] = [
        Contender::Ours,
        Contender::CurlJq,
        Contender::NodeFetch,
        Contender::NodeOctokit,
    ];

    fn name(self) -> &'static str {
        match self {
            Contender::Ours => "cursor-agent-action",
            Contender::CurlJq => "bash + curl + jq",
            Contender::NodeFetch => "Node, bare fetch",
            Contender::NodeOctokit => "Node + @octokit/rest",
        }
    }
}

struct Measured {
    wall: Duration,
    peak_rss_kb: u64,
    to_launch: Duration,
}

fn release_binary() -> PathBuf {
    let bin = std::env::var_os("BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("target/release/cursor-agent-action"));
    assert!(
        bin.exists(),
        "{} is missing: run bench/run, which builds it",
        bin.display()
    );
    bin
}

/// Each run is a new workflow run (the same run id would reattach).
static RUN_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn command(c: Contender, sims: &Simulators, dir: &Path, wait: bool, scale: u32) -> Command {
    let baselines = Path::new(ROOT).join("bench/baselines");
    let output = dir.join("output.txt");
    let event = dir.join("event.json");
    let issue_event = wait;
    std::fs::copy(
        Path::new(ROOT).join(if issue_event {
            "tests/fixtures/github-events/issues.labeled.json"
        } else {
            "tests/fixtures/github-events/workflow_dispatch.json"
        }),
        &event,
    )
    .unwrap();
    let mut cmd = match c {
        Contender::Ours => Command::new(release_binary()),
        Contender::CurlJq => {
            let mut cmd = Command::new("bash");
            cmd.arg(baselines.join("curl-jq.sh"));
            cmd
        }
        Contender::NodeFetch | Contender::NodeOctokit => {
            let mut cmd = Command::new("node");
            cmd.arg(baselines.join("github-script.mjs"))
                .current_dir(&baselines);
            if c == Contender::NodeFetch {
                cmd.env("BARE", "1");
            }
            cmd
        }
    };
    let poll = format!("{}", 30.0 / scale as f64);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env(
            "GITHUB_EVENT_NAME",
            if issue_event {
                "issues"
            } else {
                "workflow_dispatch"
            },
        )
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_REF", "refs/heads/master")
        .env(
            "GITHUB_RUN_ID",
            RUN_ID
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                .to_string(),
        )
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_API_URL", sims.github_url())
        // The action's inputs...
        .env("INPUT_CURSOR-API-KEY", KEY)
        .env("INPUT_API-URL", sims.cursor_url())
        .env("INPUT_GITHUB-TOKEN", TOKEN)
        .env("INPUT_PROMPT", "Fix the spelling of commit in README.md")
        .env("INPUT_WAIT", if wait { "true" } else { "false" })
        .env(cursor_agent_action::TIME_SCALE_VAR, scale.to_string())
        // ...and the baselines' equivalents.
        .env("CURSOR_API_KEY", KEY)
        .env("CURSOR_API_URL", sims.cursor_url())
        .env("GITHUB_TOKEN", TOKEN)
        .env("PROMPT", "Fix the spelling of commit in README.md")
        .env("ISSUE", "1")
        .env("WAIT", if wait { "true" } else { "false" })
        .env("POLL_SECONDS", poll)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Runs to exit; wall time from spawn, peak RSS of the process tree
/// (`wait4`: the largest of the process and its waited-for children), and
/// the time until the launch request reached the simulator.
fn measure(mut cmd: Command, sims: &Simulators, clock: &Clock) -> Measured {
    sims.cursor.clear_log();
    let sim_start = clock.now();
    let start = Instant::now();
    // Reaped by wait4 below (for its rusage), which clippy cannot see.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.spawn().expect("the contender runs");
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
        text
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child, once.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(pid, child.id() as i32);
    let errors = errors.join().unwrap();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed with {status}:\n{errors}"
    );
    let requests = sims.cursor.requests();
    let Some(launch) = requests
        .iter()
        .find(|r| r.method == "POST" && r.path == "/v0/agents")
    else {
        panic!("{cmd:?} made no launch request; requests: {requests:?}\n{errors}");
    };
    let to_launch =
        Duration::from_micros(launch.at_us).saturating_sub(sim_start.since_start()) / clock.scale();
    Measured {
        wall,
        peak_rss_kb: usage.ru_maxrss as u64,
        to_launch,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

fn ratio(theirs: f64, ours: f64) -> String {
    format!("{:.1}×", theirs / ours)
}

fn med_duration(v: &[Duration]) -> Duration {
    Duration::from_secs_f64(median(v.iter().map(Duration::as_secs_f64).collect()))
}

fn med_u64(v: &[u64]) -> u64 {
    median(v.iter().map(|x| *x as f64).collect()) as u64
}

fn dir_size(p: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(p) else {
        return 0;
    };
    if meta.is_dir() {
        std::fs::read_dir(p)
            .unwrap()
            .map(|e| dir_size(&e.unwrap().path()))
            .sum()
    } else {
        meta.len()
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let binary_size = std::fs::metadata(release_binary()).unwrap().len();

    // Launch only: a workflow_dispatch run with a prompt, nothing to wait for.
    let (sims, clock) = rt.block_on(async {
        let clock = Clock::real();
        (Simulators::start(clock).await.unwrap(), clock)
    });
    let mut launch: Vec<(Contender, Vec<Measured>)> = Vec::new();
    for c in Contender::ALL {
        // One warm-up run (page cache), then the measured ones.
        let _ = measure(command(c, &sims, dir.path(), false, 1), &sims, &clock);
        let runs = (0..RUNS)
            .map(|_| measure(command(c, &sims, dir.path(), false, 1), &sims, &clock))
            .collect();
        launch.push((c, runs));
    }
    drop(sims);

    // A full run: a 5-minute agent, compressed SCALE times, reported on the issue.
    let (sims, clock) = rt.block_on(async {
        let clock = Clock::scaled(SCALE);
        let sims = Simulators::start(clock).await.unwrap();
        sims.github.set_permission("Codertocat", "admin");
        sims.cursor.set_default_scenario(Scenario::lasting(20, 280));
        (sims, clock)
    });
    let mut full: Vec<(Contender, Vec<Measured>, usize, usize)> = Vec::new();
    for c in Contender::ALL {
        let mut runs = Vec::new();
        let mut polls = Vec::new();
        let mut github = Vec::new();
        for _ in 0..5 {
            sims.github.clear_reactions_and_log();
            runs.push(measure(
                command(c, &sims, dir.path(), true, SCALE),
                &sims,
                &clock,
            ));
            polls.push(sims.cursor.count("GET", "/v0/agents/*") as u64);
            github.push(sims.github.requests().len() as u64);
        }
        full.push((c, runs, med_u64(&polls) as usize, med_u64(&github) as usize));
    }

    let ours_launch = &launch[0].1;
    let o_wall = med_duration(&ours_launch.iter().map(|m| m.wall).collect::<Vec<_>>());
    let o_to = med_duration(&ours_launch.iter().map(|m| m.to_launch).collect::<Vec<_>>());
    let o_rss = med_u64(
        &ours_launch
            .iter()
            .map(|m| m.peak_rss_kb)
            .collect::<Vec<_>>(),
    );
    println!("Launch only (process start to exit), median of {RUNS} runs on loopback:\n");
    println!("| | wall time | ratio | start → launch request | ratio | peak RSS | ratio |");
    println!("|---|---|---|---|---|---|---|");
    for (c, runs) in &launch {
        let wall = med_duration(&runs.iter().map(|m| m.wall).collect::<Vec<_>>());
        let to = med_duration(&runs.iter().map(|m| m.to_launch).collect::<Vec<_>>());
        let rss = med_u64(&runs.iter().map(|m| m.peak_rss_kb).collect::<Vec<_>>());
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            c.name(),
            ms(wall),
            ratio(wall.as_secs_f64(), o_wall.as_secs_f64()),
            ms(to),
            ratio(to.as_secs_f64(), o_to.as_secs_f64()),
            mb(rss),
            ratio(rss as f64, o_rss as f64)
        );
    }

    let (_, ours_full, ours_polls, _) = &full[0];
    let f_wall = med_duration(&ours_full.iter().map(|m| m.wall).collect::<Vec<_>>());
    let f_rss = med_u64(&ours_full.iter().map(|m| m.peak_rss_kb).collect::<Vec<_>>());
    println!(
        "\nFull run: launch, wait for a 5-minute agent (time compressed {SCALE}×), comment on the issue; median of 5:\n"
    );
    println!("| | wall time | ratio | peak RSS | ratio | status requests | GitHub requests |");
    println!("|---|---|---|---|---|---|---|");
    for (c, runs, polls, github) in &full {
        let wall = med_duration(&runs.iter().map(|m| m.wall).collect::<Vec<_>>());
        let rss = med_u64(&runs.iter().map(|m| m.peak_rss_kb).collect::<Vec<_>>());
        println!(
            "| {} | {} | {} | {} | {} | {polls} | {github} |",
            c.name(),
            ms(wall),
            ratio(wall.as_secs_f64(), f_wall.as_secs_f64()),
            mb(rss),
            ratio(rss as f64, f_rss as f64)
        );
    }
    let _ = ours_polls;

    // Polling per agent-hour, in virtual time (the action) and by arithmetic
    // (a fixed loop), over the same agents.
    let poll_rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    // Ours: what a person sees, from the agent's end to the first comment
    // write carrying the final text (the whole action, support/seen.rs); the
    // loops write nothing, so theirs is when they notice.
    let (ours_req, ours_delay) = poll_rt.block_on(async {
        let mut req = Vec::new();
        for seed in 0..POLLING_TRIALS {
            req.push(trial(60, seed).await.requests as f64);
        }
        let mut delay = Vec::new();
        for seed in 0..SEEN_TRIALS {
            let s = seen::v0_seen(60, seed + 60 * 100_000).await;
            delay.push(s.final_after.as_secs_f64());
        }
        (median(req), median(delay))
    });
    let fixed = |interval: Duration| {
        let trials: Vec<_> = (0..POLLING_TRIALS)
            .map(|seed| fixed_interval(60, seed, interval))
            .collect();
        (
            median(trials.iter().map(|t| t.requests as f64).collect()),
            median(
                trials
                    .iter()
                    .map(|t| t.notice_delay.as_secs_f64())
                    .collect(),
            ),
        )
    };
    let (loop_req, loop_delay) = fixed(Duration::from_secs(30));
    let equal = Duration::from_secs_f64(ours_delay * 2.0);
    let (eq_req, eq_delay) = fixed(equal);
    println!(
        "\nStatus polling for a 60-minute agent (requests per agent-hour; median delay: ours to the final comment, the loops' to noticing):\n"
    );
    println!("| | requests | ratio | median delay |");
    println!("|---|---|---|---|");
    println!("| cursor-agent-action (defaults) | {ours_req:.0} | 1.0× | {ours_delay:.1} s |");
    println!(
        "| shell loop every 30 s (both baselines) | {loop_req:.0} | {} | {loop_delay:.1} s |",
        ratio(loop_req, ours_req)
    );
    println!(
        "| fixed loop tuned to the same delay (every {:.0} s) | {eq_req:.0} | {} | {eq_delay:.1} s |",
        equal.as_secs_f64(),
        ratio(eq_req, ours_req)
    );

    let node_modules = dir_size(&Path::new(ROOT).join("bench/baselines/node_modules"));
    println!("\nWhat a run downloads or installs:\n");
    println!("| | size |");
    println!("|---|---|");
    println!(
        "| cursor-agent-action, stripped release binary | {} |",
        mb(binary_size / 1024)
    );
    println!(
        "| @octokit/rest and its dependencies (node_modules) | {} |",
        mb(node_modules / 1024)
    );
    println!("| bash, curl, jq | preinstalled on hosted runners |");
    println!(
        "\nOurs: launch-only {} wall, {} to the launch request, {} peak RSS; full run peak RSS {}; binary {}.",
        ms(o_wall),
        ms(o_to),
        mb(o_rss),
        mb(f_rss),
        mb(binary_size / 1024)
    );
}
