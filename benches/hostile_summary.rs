//! A 1 MB hostile summary (code spans, mentions, HTML, references: the
//! sanitizer's worst cases, #23) costs the run how much CPU before the
//! person is told?
//!
//! 1. Each rendering of the finalize, on its own: the final comment, the
//!    step summary, the outputs, the log's copy, and `sanitize` on the whole
//!    megabyte (which no path does: each cuts to its budget first).
//! 2. The whole action, in this process against the simulators in virtual
//!    time (v1, the summary in the run's `result`): CPU of the run with the
//!    1 MB summary and with a one-line one, and whether the final comment
//!    carried it.
//!
//! `cargo bench --bench hostile_summary` prints both tables. CPU is this
//! process's user + system time (`getrusage`), so other processes on the
//! machine do not count.

#[path = "support/seen.rs"]
mod seen;
use cursor_agent_action::app::run_action;
use cursor_agent_action::markdown::sanitize;
use cursor_agent_action::marker::Marker;
use cursor_agent_action::report::comment::{CommentExtras, Phase, render};
use cursor_agent_action::report::{Outcome, RunReport, step_summary};
use cursor_agent_action::runner::{Console, ConsoleMode};
use kit::clock::Clock;
use sim::{Simulators, V1Scenario};
use std::time::Duration;

/// About `bytes` of code spans, mentions, HTML and references.
fn hostile(bytes: usize) -> String {
    const UNIT: &str = "`x` `y` @octocat <img src=x onerror=alert(1)> <b>bold</b> o/r#12 \
                        https://github.com/o/r/issues/1 ``a`b`` &lt; [l](u) *e* \n";
    UNIT.repeat(bytes / UNIT.len() + 1)
}

/// This process's CPU time (user + system).
fn cpu() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn cpu_of<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let before = cpu();
    let out = f();
    (cpu() - before, out)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn renderings(summary: &str) {
    let mut report = RunReport::new(Outcome::Finished);
    report.summary = Some(summary.to_string());
    report.run_url = Some("https://github.com/o/r/actions/runs/1".into());
    let marker = Marker::new(None, Some(1), 1);
    let extras = CommentExtras::default();
    let (console, captured) = Console::capture(ConsoleMode::Actions, false);
    let rows: Vec<(&str, Duration, usize)> = vec![
        {
            let (t, out) = cpu_of(|| render(&marker, &report, &Phase::Final, &extras));
            ("final comment (`render`)", t, out.len())
        },
        {
            let (t, out) = cpu_of(|| step_summary(&Default::default(), &report));
            ("step summary", t, out.len())
        },
        {
            let (t, out) = cpu_of(|| report.outputs());
            ("outputs", t, out.iter().map(|(_, v)| v.len()).sum())
        },
        {
            let (t, _) = cpu_of(|| console.untrusted_block(summary));
            ("the log's copy", t, captured.text().len())
        },
        {
            let (t, out) = cpu_of(|| sanitize(summary));
            ("`sanitize` on all of it (no path does)", t, out.len())
        },
    ];
    println!(
        "Rendering a {} KB hostile summary (CPU, one run each).\n",
        summary.len() / 1024
    );
    println!("| rendering | CPU | bytes out |");
    println!("|---|---|---|");
    for (what, t, bytes) in rows {
        println!("| {what} | {} | {bytes} |", ms(t));
    }
    println!();
}

/// (CPU of the whole run, the final comment's length, whether it says the
/// summary was cut).
async fn whole_run(summary: &str) -> (Duration, usize, bool) {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    sims.github.set_permission("Codertocat", "admin");
    sims.cursor.v1().set_scenario(V1Scenario {
        result_text: summary.to_string(),
        ..V1Scenario::lasting(5, 60)
    });
    let dir = tempfile::tempdir().unwrap();
    let rt = seen::labeled_step(
        &sims,
        dir.path(),
        Clock::real(),
        ConsoleMode::Actions,
        &[("INPUT_TIMEOUT", "2h")],
    );
    let before = cpu();
    let code = run_action(&rt).await;
    let spent = cpu() - before;
    assert_eq!(code, 0, "the run succeeds");
    let comments = sims.github.comments("Codertocat/Hello-World", 1);
    let last = comments.last().expect("a final comment");
    (spent, last.body.len(), last.body.contains('…'))
}

fn main() {
    let summary = hostile(1024 * 1024);
    renderings(&summary);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        println!("The whole action (v1, virtual time; CPU of the run, launch to exit).\n");
        println!("| summary | CPU | final comment | summary cut in it |");
        println!("|---|---|---|---|");
        for (label, text) in [
            ("one line", "Fixed it.".to_string()),
            ("1 MB hostile", summary.clone()),
        ] {
            let (spent, len, cut) = whole_run(&text).await;
            println!(
                "| {label} | {} | {len} bytes | {} |",
                ms(spent),
                if cut { "yes" } else { "no" }
            );
        }
    });
}
