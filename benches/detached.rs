//! What detaching costs and saves (#19): the whole action, in this process
//! and in virtual time, against both simulators, for agents of 5, 30 and
//! 120 minutes: (a) a waiting run (`wait: true`), (b) a detached launch
//! (`wait: false`) finalized by a sweep (`sweep: true`), started either by
//! the agent's pull request or by an hourly schedule. Measured per agent:
//! how long each job's step took on the simulated clock, the runner minutes
//! GitHub bills for the jobs (each rounded up to a whole minute), the
//! requests each simulator logged, and the delay from the agent's end to the
//! final comment (the GitHub simulator's log of the final edit). Then the
//! billed minutes per day at 1, 10 and 50 agents a day.
//!
//! What is assumed, not measured (stated in the output): a job starts
//! `START_LATENCY` after its trigger, a job spends `JOB_OVERHEAD` around its
//! step, the agent's pull request appears when it ends, and the simulators
//! answer at once (real requests add tenths of a second each, which the
//! jobs here keep well within their first minute).
//!
//! `cargo bench --bench detached` prints the README's tables.

use cursor_agent_action::Env;
use cursor_agent_action::app::run_action;
use cursor_agent_action::cancel::Cancel;
use cursor_agent_action::clock::{Clock, Moment};
use cursor_agent_action::report::comment::Marker;
use cursor_agent_action::runner::{ActionsIo, Console, ConsoleMode};
use cursor_agent_action::runtime::Runtime;
use cursor_agent_action::sim::{Scenario, Simulators, V1Scenario};
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
    Launch { wait: bool, run_id: u64 },
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
            Job::Launch { run_id, .. } => ("issues", LABELED, run_id),
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
        self.sims.github.requests().into_iter().find_map(|r| {
            let created = r.path.contains("/issues/") && r.path.ends_with("/comments");
            let edited = r.path.contains("/issues/comments/") && !r.path.ends_with("/reactions");
            let writes = matches!(r.method.as_str(), "POST" | "PATCH") && (created || edited);
            let body: serde_json::Value = serde_json::from_str(&r.body).ok()?;
            (writes
                && r.status < 300
                && Marker::find(body["body"].as_str()?).is_some_and(|m| m.is_final()))
            .then(|| Duration::from_millis(r.at_ms))
        })
    }
}

/// A waiting run: the step holds the runner until the agent ends.
struct Waiting {
    step: Step,
    delay: Duration,
}

async fn waiting(api: Api, minutes: u64) -> Waiting {
    let w = World::new(api, minutes).await;
    let step = w
        .run(Job::Launch {
            wait: true,
            run_id: 1,
        })
        .await;
    let delay = w.finalized_at().expect("final") - w.agent_end();
    Waiting { step, delay }
}

/// A detached launch finalized by the sweep its pull request starts.
struct ByPullRequest {
    launch: Step,
    sweep: Step,
    delay: Duration,
}

async fn by_pull_request(api: Api, minutes: u64) -> ByPullRequest {
    let w = World::new(api, minutes).await;
    let launch = w
        .run(Job::Launch {
            wait: false,
            run_id: 1,
        })
        .await;
    assert!(w.finalized_at().is_none(), "handed off");
    w.sleep_until(w.agent_end() + START_LATENCY).await;
    let sweep = w.run(Job::PullRequestSweep).await;
    let delay = w.finalized_at().expect("swept") - w.agent_end();
    ByPullRequest {
        launch,
        sweep,
        delay,
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
    /// The longest step of any sweep.
    longest: Duration,
}

async fn by_schedule(api: Api, minutes: u64) -> BySchedule {
    let mut out = BySchedule {
        launch: Step::default(),
        pending: Vec::new(),
        finishing: Vec::new(),
        delays: Vec::new(),
        longest: Duration::ZERO,
    };
    for phase in 0..PHASES {
        let w = World::new(api, minutes).await;
        // The ticks are on the hour (plus the start latency); the launch
        // is in the middle of one of the twelve 5-minute slots of an hour.
        let origin = w.now();
        let offset = HOUR.mul_f64((phase as f64 + 0.5) / PHASES as f64);
        w.sleep_until(origin + offset).await;
        let launch = w
            .run(Job::Launch {
                wait: false,
                run_id: 1,
            })
            .await;
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

struct Row {
    minutes: u64,
    waiting: Waiting,
    pr: ByPullRequest,
    hourly: BySchedule,
    v0: (Waiting, ByPullRequest, BySchedule),
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
            let v0 = (
                waiting(Api::V0, minutes).await,
                by_pull_request(Api::V0, minutes).await,
                by_schedule(Api::V0, minutes).await,
            );
            rows.push(Row {
                minutes,
                waiting: waiting(Api::V1, minutes).await,
                pr: by_pull_request(Api::V1, minutes).await,
                hourly: by_schedule(Api::V1, minutes).await,
                v0,
            });
        }
        println!(
            "Per agent (v1, the default API; v0's request counts in the last column). Virtual time, the whole action against the simulators. \
             Assumed: a job's step starts {} after its trigger (the pull request, the cron tick), each job spends {} around its step, \
             the agent's pull request appears when it ends; GitHub bills each job rounded up to a whole minute. \
             The hourly rows are means over {PHASES} launches spread over the hour.\n",
            secs(START_LATENCY),
            secs(JOB_OVERHEAD)
        );
        println!("| agent | how | job steps (simulated clock) | billed runner minutes | GitHub requests | Cursor requests | agent end → final comment | v0: GitHub / Cursor requests |");
        println!("|---|---|---|---|---|---|---|---|");
        for r in &rows {
            let m = r.minutes;
            let (w0, pr0, h0) = &r.v0;
            println!(
                "| {m} min | waiting (`wait: true`) | {} | {} | {} | {} | {} | {} / {} |",
                secs(r.waiting.step.took),
                r.waiting.step.billed(),
                r.waiting.step.github,
                r.waiting.step.cursor,
                secs(r.waiting.delay),
                w0.step.github,
                w0.step.cursor,
            );
            println!(
                "| {m} min | detached + `pull_request` sweep | launch {} + sweep {} | {} + {} | {} + {} | {} + {} | {} | {} + {} / {} + {} |",
                secs(r.pr.launch.took),
                secs(r.pr.sweep.took),
                r.pr.launch.billed(),
                r.pr.sweep.billed(),
                r.pr.launch.github,
                r.pr.sweep.github,
                r.pr.launch.cursor,
                r.pr.sweep.cursor,
                secs(r.pr.delay),
                pr0.launch.github,
                pr0.sweep.github,
                pr0.launch.cursor,
                pr0.sweep.cursor,
            );
            let h = &r.hourly;
            let hourly_requests = |h: &BySchedule| {
                (
                    per_phase(&h.pending, |s| s.github) + per_phase(&h.finishing, |s| s.github),
                    per_phase(&h.pending, |s| s.cursor) + per_phase(&h.finishing, |s| s.cursor),
                )
            };
            let (hg, hc) = hourly_requests(h);
            let (hg0, hc0) = hourly_requests(h0);
            println!(
                "| {m} min | detached + hourly `schedule` sweep | launch {} + sweeps ≤ {} ({:.1} sweeps saw it working) | {} + a share of the {DAILY_SWEEPS} daily sweeps | {} + {hg:.1} | {} + {hc:.1} | mean {}, max {} | {} + {hg0:.1} / {} + {hc0:.1} |",
                secs(h.launch.took),
                secs(h.longest),
                h.pending.len() as f64 / PHASES as f64,
                h.launch.billed(),
                h.launch.github,
                h.launch.cursor,
                secs(mean(&h.delays)),
                secs(*h.delays.iter().max().unwrap()),
                h0.launch.github,
                h0.launch.cursor,
            );
        }
        println!(
            "\nBilled runner minutes a day (v1; the same on v0: every detached job bills its first minute). \
             Waiting: one job per agent. `examples/sweep.yml`: a launch job and a `pull_request` sweep job per agent, plus {DAILY_SWEEPS} hourly sweep jobs whatever the number of agents. \
             Hourly only: the launch jobs plus the {DAILY_SWEEPS} sweeps (which finalize everything, later). \
             `pull_request` only: no sweep for agents that end without a pull request.\n"
        );
        println!("| agent | agents a day | waiting | detached, `examples/sweep.yml` (`pull_request` + hourly) | detached, hourly sweep only | detached, `pull_request` sweep only |");
        println!("|---|---|---|---|---|---|");
        for r in &rows {
            let sweep_job = billed(r.hourly.longest);
            for n in [1u64, 10, 50] {
                let waiting = n * r.waiting.step.billed();
                let per_agent = r.pr.launch.billed() + r.pr.sweep.billed();
                let shipped = n * per_agent + DAILY_SWEEPS * sweep_job;
                let hourly = n * r.hourly.launch.billed() + DAILY_SWEEPS * sweep_job;
                let pr_only = n * per_agent;
                let mark = |x: u64| {
                    if x > waiting {
                        format!("**{x}** (more than waiting)")
                    } else {
                        x.to_string()
                    }
                };
                println!(
                    "| {} min | {n} | {waiting} | {} | {} | {} |",
                    r.minutes,
                    mark(shipped),
                    mark(hourly),
                    mark(pr_only)
                );
            }
        }
    });
}
