//! What detaching costs and saves (#19): the whole action, in this process
//! and in virtual time, against both simulators, for agents of 5, 30 and
//! 120 minutes: (a) a waiting run (`wait: true`), (b) a detached launch
//! (`wait: false`) finalized by a sweep (`sweep: true`), started either by
//! the agent's pull request or by an hourly schedule. Measured per agent:
//! how long each job's step took on the simulated clock, the runner minutes
//! GitHub bills for the jobs (each rounded up to a whole minute), the
//! requests each simulator logged, and the delay from the agent's end to the
//! first comment write carrying the final text (the GitHub simulator's log)
//! and to the last write (its one amendment with the usage and artifacts
//! that come after the end). Then the billed minutes per day at 1, 10 and
//! 50 agents a day.
//!
//! What is assumed, not measured (stated in the output): a job starts
//! `START_LATENCY` after its trigger, a job spends `JOB_OVERHEAD` around its
//! step, the agent's pull request appears when it ends, and the simulators
//! answer at once (real requests add tenths of a second each, which the
//! jobs here keep well within their first minute).
//!
//! `cargo bench --bench detached` prints the README's tables.

#[path = "support/seen.rs"]
mod seen;

use cursor_agent_action::app::run_action;
use cursor_agent_action::runner::{ActionsIo, Console, ConsoleMode};
use cursor_agent_action::runtime::Runtime;
use kit::cancel::Cancel;
use kit::clock::{Clock, Moment};
use kit::env::Env;
use sim::{Scenario, Simulators, V1Scenario};
use std::sync::Arc;
use std::time::Duration;

const LABELED: &str = include_str!("../tests/fixtures/github-events/issues.labeled.json");
const PULL_REQUEST: &str = include_str!("../tests/fixtures/github-events/pull_request.opened.json");
/// A `schedule` event has no payload the sweep reads: the hourly sweeps run
/// on this one.
const DISPATCH: &str = include_str!("../tests/fixtures/github-events/workflow_dispatch.json");

/// From a trigger (the pull request, the cron tick) to the job's step
/// running: queueing and starting a GitHub-hosted runner.
const START_LATENCY: Duration = Duration::from_secs(20);
/// A job's time around its step: "Set up job", fetching the action, and
/// "Complete job".
const JOB_OVERHEAD: Duration = Duration::from_secs(10);
/// Of an agent's length, its CREATING phase.
const CREATING_SECS: u64 = 20;
const LENGTHS: [u64; 3] = [5, 30, 120];
const HOUR: Duration = Duration::from_secs(3600);
/// Launch moments spread over the hour between two schedule ticks.
const PHASES: u64 = 12;
/// Waiting runs per row (odd: a median).
const WAITING_TRIALS: usize = 11;
/// Hourly schedule sweeps a day.
const DAILY_SWEEPS: u64 = 24;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Api {
    V0,
    V1,
}

impl Api {
    fn input(self) -> &'static str {
        match self {
            Api::V0 => "v0",
            Api::V1 => "v1",
        }
    }
}

/// One job's step, as the simulators saw it.
#[derive(Debug, Clone, Copy, Default)]
struct Step {
    took: Duration,
    github: usize,
    cursor: usize,
}

impl Step {
    /// The runner minutes GitHub bills for a job running this step alone.
    fn billed(&self) -> u64 {
        billed(self.took)
    }
}

fn billed(step: Duration) -> u64 {
    (step + JOB_OVERHEAD).as_secs().div_ceil(60).max(1)
}

enum Job {
    Launch { wait: bool },
    PullRequestSweep,
    ScheduledSweep,
}

struct World {
    sims: Simulators,
    clock: Clock,
    api: Api,
    minutes: u64,
}

impl World {
    async fn new(api: Api, minutes: u64) -> World {
        let clock = Clock::real();
        let sims = Simulators::start(clock).await.unwrap();
        sims.github.set_permission("Codertocat", "admin");
        let running = minutes * 60 - CREATING_SECS;
        match api {
            Api::V0 => sims
                .cursor
                .set_default_scenario(Scenario::lasting(CREATING_SECS, running)),
            Api::V1 => sims
                .cursor
                .v1()
                .set_scenario(V1Scenario::lasting(CREATING_SECS, running)),
        }
        World {
            sims,
            clock,
            api,
            minutes,
        }
    }

    fn now(&self) -> Duration {
        self.clock.now().since_start()
    }

    async fn sleep_until(&self, at: Duration) {
        self.clock.sleep_until(Moment::ZERO + at).await;
    }

    /// Runs one job's step of the action.
    async fn run(&self, job: Job) -> Step {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str| dir.path().join(name).display().to_string();
        let (event_name, payload, run_id) = match job {
            Job::Launch { .. } => ("issues", LABELED, 1),
            Job::PullRequestSweep => ("pull_request", PULL_REQUEST, 900),
            Job::ScheduledSweep => ("workflow_dispatch", DISPATCH, 901),
        };
        std::fs::write(dir.path().join("event.json"), payload).unwrap();
        let mut pairs = vec![
            ("GITHUB_REPOSITORY", "Codertocat/Hello-World".to_string()),
            ("GITHUB_EVENT_NAME", event_name.into()),
            ("GITHUB_EVENT_PATH", file("event.json")),
            ("GITHUB_REF", "refs/heads/master".into()),
            ("GITHUB_RUN_ID", run_id.to_string()),
            ("GITHUB_RUN_ATTEMPT", "1".into()),
            ("GITHUB_API_URL", self.sims.github_url()),
            ("GITHUB_OUTPUT", file("output.txt")),
            ("GITHUB_STEP_SUMMARY", file("summary.md")),
            ("GITHUB_WORKSPACE", dir.path().display().to_string()),
            (
                "INPUT_CURSOR-API-KEY",
                "crsr_bench_000000000000000000000".into(),
            ),
            ("INPUT_GITHUB-TOKEN", "ghs_bench_0000000000000000000".into()),
            ("INPUT_API-URL", self.sims.cursor_url()),
            ("INPUT_API-VERSION", self.api.input().into()),
        ];
        match job {
            Job::Launch { wait, .. } => {
                pairs.push(("INPUT_LABEL", "bug".into()));
                pairs.push(("INPUT_TIMEOUT", "3h".into()));
                pairs.push(("INPUT_WAIT", wait.to_string()));
            }
            Job::PullRequestSweep | Job::ScheduledSweep => {
                pairs.push(("INPUT_SWEEP", "true".into()));
            }
        }
        let env = Env::from_pairs(pairs);
        let (console, _captured) = Console::capture(ConsoleMode::Plain, false);
        let rt = Runtime {
            io: ActionsIo::from_env(&env, Arc::new(console)),
            env,
            clock: self.clock,
            cancel: Cancel::new(),
        };
        let (github, cursor) = (
            self.sims.github.requests().len(),
            self.sims.cursor.requests().len(),
        );
        let began = self.clock.now();
        let code = run_action(&rt).await;
        assert_eq!(code, 0, "the step succeeds");
        Step {
            took: self.clock.now().saturating_since(began),
            github: self.sims.github.requests().len() - github,
            cursor: self.sims.cursor.requests().len() - cursor,
        }
    }

    /// When the agent ends: its launch request plus its length.
    fn agent_end(&self) -> Duration {
        let launch = self
            .sims
            .cursor
            .requests()
            .into_iter()
            .find(|r| r.method == "POST" && matches!(r.path.as_str(), "/v0/agents" | "/v1/agents"))
            .expect("an agent was launched");
        Duration::from_millis(launch.at_ms) + Duration::from_secs(self.minutes * 60)
    }

    /// When the comment was first written in its final state, if it was.
    fn finalized_at(&self) -> Option<Duration> {
        seen::comment_writes(&self.sims)
            .into_iter()
            .find(|(_, is_final)| *is_final)
            .map(|(at, _)| Duration::from_millis(at))
    }

    /// When the comment was last written (its amendment, if it had one).
    fn last_write_at(&self) -> Duration {
        let writes = seen::comment_writes(&self.sims);
        Duration::from_millis(writes.last().expect("a comment").0)
    }
}

/// A waiting run: the step holds the runner until the agent ends.
/// Polling's jitter (v0) makes every waiting run different: the median
/// of `WAITING_TRIALS` by delay, and the range of the billed minutes.
struct Waiting {
    step: Step,
    delay: Duration,
    /// To the last write, of the median run by delay.
    amended: Duration,
    max_delay: Duration,
    billed: (u64, u64),
    mean_billed: f64,
}

async fn waiting(api: Api, minutes: u64) -> Waiting {
    let mut trials = Vec::new();
    for _ in 0..WAITING_TRIALS {
        let w = World::new(api, minutes).await;
        let step = w.run(Job::Launch { wait: true }).await;
        let delay = w.finalized_at().expect("final") - w.agent_end();
        let amended = w.last_write_at() - w.agent_end();
        trials.push((delay, step, amended));
    }
    trials.sort_by_key(|(d, _, _)| *d);
    let billed = trials.iter().map(|(_, s, _)| s.billed());
    let range = (billed.clone().min().unwrap(), billed.clone().max().unwrap());
    let mean_billed = billed.sum::<u64>() as f64 / trials.len() as f64;
    let (delay, step, amended) = trials[trials.len() / 2];
    Waiting {
        step,
        delay,
        amended,
        max_delay: trials.last().unwrap().0,
        billed: range,
        mean_billed,
    }
}

impl Waiting {
    fn billed(&self) -> String {
        match self.billed {
            (a, b) if a == b => a.to_string(),
            (a, b) => format!("{} ({a}–{b})", self.step.billed()),
        }
    }

    fn delay(&self) -> String {
        let first = if self.max_delay == self.delay {
            secs(self.delay)
        } else {
            format!("median {}, max {}", secs(self.delay), secs(self.max_delay))
        };
        format!("{first} (amended {})", secs(self.amended))
    }
}

/// A detached launch finalized by the sweep its pull request starts.
struct ByPullRequest {
    launch: Step,
    sweep: Step,
    delay: Duration,
    amended: Duration,
}

async fn by_pull_request(api: Api, minutes: u64) -> ByPullRequest {
    let w = World::new(api, minutes).await;
    let launch = w.run(Job::Launch { wait: false }).await;
    assert!(w.finalized_at().is_none(), "handed off");
    w.sleep_until(w.agent_end() + START_LATENCY).await;
    let sweep = w.run(Job::PullRequestSweep).await;
    let delay = w.finalized_at().expect("swept") - w.agent_end();
    ByPullRequest {
        launch,
        sweep,
        delay,
        amended: w.last_write_at() - w.agent_end(),
    }
}

/// Detached launches finalized by hourly sweeps, launched at `PHASES`
/// moments spread over the hour: the sweeps that found the agent still
/// working, the one that finalized it, and the delay.
struct BySchedule {
    launch: Step,
    /// Sweeps before the end (found it working), summed over the phases.
    pending: Vec<Step>,
    finishing: Vec<Step>,
    delays: Vec<Duration>,
    /// To the last write (the amendment), per phase.
    amended: Vec<Duration>,
    /// The longest step of any sweep.
    longest: Duration,
}

async fn by_schedule(api: Api, minutes: u64) -> BySchedule {
    let mut out = BySchedule {
        launch: Step::default(),
        pending: Vec::new(),
        finishing: Vec::new(),
        delays: Vec::new(),
        amended: Vec::new(),
        longest: Duration::ZERO,
    };
    for phase in 0..PHASES {
        let w = World::new(api, minutes).await;
        // The ticks are on the hour (plus the start latency); the launch
        // is in the middle of one of the twelve 5-minute slots of an hour.
        let origin = w.now();
        let offset = HOUR.mul_f64((phase as f64 + 0.5) / PHASES as f64);
        w.sleep_until(origin + offset).await;
        let launch = w.run(Job::Launch { wait: false }).await;
        out.launch = launch;
        let mut tick = 1u32;
        loop {
            w.sleep_until(origin + HOUR * tick + START_LATENCY).await;
            tick += 1;
            let sweep = w.run(Job::ScheduledSweep).await;
            out.longest = out.longest.max(sweep.took);
            if w.finalized_at().is_some() {
                out.finishing.push(sweep);
                break;
            }
            assert!(
                w.now() < w.agent_end() + START_LATENCY,
                "left working only while it works"
            );
            out.pending.push(sweep);
        }
        out.delays.push(w.finalized_at().unwrap() - w.agent_end());
        out.amended.push(w.last_write_at() - w.agent_end());
    }
    out
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        format!("{}m {:02}s", d.as_secs() / 60, d.as_secs() % 60)
    } else {
        format!(
            "{}h {:02}m {:02}s",
            d.as_secs() / 3600,
            d.as_secs() % 3600 / 60,
            d.as_secs() % 60
        )
    }
}

fn mean(v: &[Duration]) -> Duration {
    v.iter().sum::<Duration>() / v.len().max(1) as u32
}

fn per_phase(v: &[Step], f: fn(&Step) -> usize) -> f64 {
    v.iter().map(f).sum::<usize>() as f64 / PHASES as f64
}

/// Everything measured for one agent length on one API.
struct Measured {
    waiting: Waiting,
    pr: ByPullRequest,
    hourly: BySchedule,
}

impl Measured {
    async fn new(api: Api, minutes: u64) -> Measured {
        Measured {
            waiting: waiting(api, minutes).await,
            pr: by_pull_request(api, minutes).await,
            hourly: by_schedule(api, minutes).await,
        }
    }

    /// Mean GitHub and Cursor requests of the hourly sweeps per agent.
    fn hourly_requests(&self) -> (f64, f64) {
        let h = &self.hourly;
        (
            per_phase(&h.pending, |s| s.github) + per_phase(&h.finishing, |s| s.github),
            per_phase(&h.pending, |s| s.cursor) + per_phase(&h.finishing, |s| s.cursor),
        )
    }

    /// Billed minutes a day at `n` agents: waiting, `examples/sweep.yml`,
    /// hourly sweep only, `pull_request` sweep only.
    fn daily(&self, n: u64) -> [u64; 4] {
        let sweep_job = billed(self.hourly.longest);
        let per_agent = self.pr.launch.billed() + self.pr.sweep.billed();
        [
            (n as f64 * self.waiting.mean_billed).round() as u64,
            n * per_agent + DAILY_SWEEPS * sweep_job,
            n * self.hourly.launch.billed() + DAILY_SWEEPS * sweep_job,
            n * per_agent,
        ]
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut rows = Vec::new();
        for minutes in LENGTHS {
            rows.push((
                minutes,
                Measured::new(Api::V1, minutes).await,
                Measured::new(Api::V0, minutes).await,
            ));
        }
        println!(
            "Per agent, on v1 (the default API; v0 in the last column). Virtual time: the whole action against the simulators. \
             Assumed: a job's step starts {} after its trigger (the pull request, the cron tick), each job spends {} around its step, \
             the agent's pull request appears when it ends, the simulators answer at once; GitHub bills each job rounded up to a whole minute. \
             Waiting: the median of {WAITING_TRIALS} runs by delay (v0's polling jitter varies it; billed minutes as median (range)). \
             The hourly rows are means over {PHASES} launches spread over the hour, each alone in its sweeps.\n",
            secs(START_LATENCY),
            secs(JOB_OVERHEAD)
        );
        println!("| agent | how | job steps (simulated clock) | billed runner minutes | GitHub requests | Cursor requests | agent end → final comment (→ its amendment) | v0: billed minutes; GitHub / Cursor requests; delay |");
        println!("|---|---|---|---|---|---|---|---|");
        for (m, v1, v0) in &rows {
            let (w, w0) = (&v1.waiting, &v0.waiting);
            println!(
                "| {m} min | waiting (`wait: true`) | {} | {} | {} | {} | {} | {}; {} / {}; {} |",
                secs(w.step.took),
                w.billed(),
                w.step.github,
                w.step.cursor,
                w.delay(),
                w0.billed(),
                w0.step.github,
                w0.step.cursor,
                w0.delay(),
            );
            let (p, p0) = (&v1.pr, &v0.pr);
            println!(
                "| {m} min | detached + `pull_request` sweep | launch {} + sweep {} | {} + {} | {} + {} | {} + {} | {} (amended {}) | {} + {}; {} + {} / {} + {}; {} (amended {}) |",
                secs(p.launch.took),
                secs(p.sweep.took),
                p.launch.billed(),
                p.sweep.billed(),
                p.launch.github,
                p.sweep.github,
                p.launch.cursor,
                p.sweep.cursor,
                secs(p.delay),
                secs(p.amended),
                p0.launch.billed(),
                p0.sweep.billed(),
                p0.launch.github,
                p0.sweep.github,
                p0.launch.cursor,
                p0.sweep.cursor,
                secs(p0.delay),
                secs(p0.amended),
            );
            let (h, h0) = (&v1.hourly, &v0.hourly);
            let (hg, hc) = v1.hourly_requests();
            let (hg0, hc0) = v0.hourly_requests();
            println!(
                "| {m} min | detached + hourly `schedule` sweep | launch {} + sweeps of ≤ {} ({:.2} of them saw it working) | {} + a share of the {DAILY_SWEEPS} daily sweep jobs | {} + {hg:.2} | {} + {hc:.2} | mean {}, max {} (amended: mean {}) | {} + share; {} + {hg0:.2} / {} + {hc0:.2}; mean {} (amended: mean {}) |",
                secs(h.launch.took),
                secs(h.longest),
                h.pending.len() as f64 / PHASES as f64,
                h.launch.billed(),
                h.launch.github,
                h.launch.cursor,
                secs(mean(&h.delays)),
                secs(*h.delays.iter().max().unwrap()),
                secs(mean(&h.amended)),
                h0.launch.billed(),
                h0.launch.github,
                h0.launch.cursor,
                secs(mean(&h0.delays)),
                secs(mean(&h0.amended)),
            );
        }
        println!(
            "\nBilled runner minutes a day. Waiting: one job per agent. `examples/sweep.yml`: a launch job and a `pull_request` sweep job per agent, \
             plus {DAILY_SWEEPS} hourly sweep jobs whatever the number of agents. Hourly only: the launch jobs plus the {DAILY_SWEEPS} sweeps \
             (which finalize everything, later). `pull_request` only: no sweep for agents that end without a pull request. \
             Waiting at its mean billed minutes per agent. Bold: more than waiting. v1; v0 in parentheses where it differs.\n"
        );
        println!("| agent | agents a day | waiting | detached, `examples/sweep.yml` (`pull_request` + hourly) | detached, hourly sweep only | detached, `pull_request` sweep only |");
        println!("|---|---|---|---|---|---|");
        for (m, v1, v0) in &rows {
            for n in [1u64, 10, 50] {
                let (a, b) = (v1.daily(n), v0.daily(n));
                let cell = |i: usize| {
                    let x = if a[i] > a[0] {
                        format!("**{}**", a[i])
                    } else {
                        a[i].to_string()
                    };
                    if a[i] == b[i] {
                        x
                    } else {
                        format!("{x} (v0: {})", b[i])
                    }
                };
                println!(
                    "| {m} min | {n} | {} | {} | {} | {} |",
                    cell(0),
                    cell(1),
                    cell(2),
                    cell(3)
                );
            }
        }
    });
}
