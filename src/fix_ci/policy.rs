//! Fix-CI's decisions, pure: which conclusions it acts on, why a run does
//! nothing (the `reason` output), the loop guard (attempt cap per pull
//! request and workflow, the same failure again), and the comment's
//! section (attempt n of N, the evidence used, the history).

use crate::markdown;
use crate::marker::ci::CiState;
use kit::secret::Redactor;

/// Why a fix-CI run did nothing or stopped (the `reason` output).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    NotAFailure,
    Stale,
    Fork,
    Bot,
    NotPermitted,
    AttemptCap,
    SameFailure,
    Busy,
    NoPullRequest,
}

impl Reason {
    pub fn word(self) -> &'static str {
        match self {
            Reason::NotAFailure => "not-a-failure",
            Reason::Stale => "stale",
            Reason::Fork => "fork",
            Reason::Bot => "bot",
            Reason::NotPermitted => "not-permitted",
            Reason::AttemptCap => "attempt-cap",
            Reason::SameFailure => "same-failure",
            Reason::Busy => "busy",
            Reason::NoPullRequest => "no-pull-request",
        }
    }
}

/// The conclusions fix-CI acts on.
pub fn acts_on(conclusion: Option<&str>) -> bool {
    matches!(conclusion, Some("failure" | "timed_out"))
}

/// What the next failure of a workflow on a pull request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Attempt n (from 1).
    Attempt(u32),
    /// The same failure as the last attempt's: the fix did not change it.
    SameFailure,
    /// `fix-ci-max-attempts` attempts made since the last reset.
    Cap,
}

/// The loop guard: the same fingerprint right after an attempt stops at
/// once, unless a person asked (`on_demand`: a comment on the pull request,
/// which still counts); past the cap nothing more is tried.
pub fn next(state: &CiState, max_attempts: u32, fingerprint: &str, on_demand: bool) -> Next {
    if !on_demand && state.n > 0 && state.fp.as_deref() == Some(fingerprint) {
        Next::SameFailure
    } else if state.n >= max_attempts {
        Next::Cap
    } else {
        Next::Attempt(state.n + 1)
    }
}

/// The attempt failed run `run` already had when the comment was last
/// written by this same run of the action (`same_action_run`): a re-run of
/// the fixing workflow, which reattaches to its agent and counts nothing
/// again.
pub fn earlier_attempt(state: &CiState, run: u64, same_action_run: bool) -> Option<u32> {
    let last = state.h.last()?;
    (same_action_run && last.run == run && last.n > 0).then_some(last.n)
}

/// A passing run of the workflow: the count starts again. `true` when
/// there was anything to reset.
pub fn reset(state: &mut CiState, run: u64) -> bool {
    if state.n == 0 && state.fp.is_none() {
        return false;
    }
    state.n = 0;
    state.fp = None;
    state.record(run, 0, "passed");
    true
}

fn what_text(what: &str) -> &'static str {
    match what {
        "launched" => "launched an agent on the pull request",
        "followed-up" => "sent the failure to the pull request's agent",
        "attempt-cap" => "did nothing: the attempt cap was reached",
        "same-failure" => "did nothing: the same failure as the last attempt's",
        "busy" => "did nothing: the agent was still working (not an attempt)",
        "passed" => "the workflow passed: the count starts again",
        "fork" => "diagnosed only: the pull request comes from a fork",
        _ => "failed to act (see the workflow run)",
    }
}

/// The comment's fix-CI section: the workflow, what this run did and why
/// (`now`, our text), the evidence (`evidence`, Markdown already
/// neutralized), and the history. Workflow names are untrusted text.
pub fn section(
    redactor: &Redactor,
    workflow: &str,
    runs_url: &str,
    now: &str,
    evidence: Option<&str>,
    state: &CiState,
    max_attempts: u32,
) -> String {
    let mut md = format!(
        "**Fixing CI** for workflow {}: {}\n\n",
        markdown::code_inline(redactor, workflow),
        markdown::sanitize_inline(redactor, now)
    );
    if let Some(evidence) = evidence.filter(|e| !e.trim().is_empty()) {
        md.push_str(evidence.trim_end());
        md.push_str("\n\n");
    }
    if !state.h.is_empty() {
        md.push_str(&format!(
            "<details><summary>Attempts ({} of at most {max_attempts} since the last passing run)</summary>\n\n",
            state.n
        ));
        for e in &state.h {
            let attempt = if e.n > 0 {
                format!("attempt {} of {max_attempts}: ", e.n)
            } else {
                String::new()
            };
            md.push_str(&format!(
                "- [run {}]({runs_url}/{}): {attempt}{}\n",
                e.run,
                e.run,
                what_text(&e.what)
            ));
        }
        md.push_str("\n</details>\n");
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(n: u32, fp: Option<&str>) -> CiState {
        CiState {
            n,
            fp: fp.map(String::from),
            ..CiState::new("ci.yml")
        }
    }

    #[test]
    fn the_loop_guard_counts_attempts_and_stops_the_same_failure() {
        assert_eq!(next(&state(0, None), 2, "aa", false), Next::Attempt(1));
        assert_eq!(
            next(&state(1, Some("aa")), 2, "bb", false),
            Next::Attempt(2)
        );
        assert_eq!(
            next(&state(1, Some("aa")), 2, "aa", false),
            Next::SameFailure
        );
        // A person's request tries again, and counts.
        assert_eq!(next(&state(1, Some("aa")), 2, "aa", true), Next::Attempt(2));
        assert_eq!(next(&state(2, Some("aa")), 2, "aa", true), Next::Cap);
        assert_eq!(next(&state(2, Some("aa")), 2, "bb", false), Next::Cap);
        // A reset forgets the fingerprint too.
        let mut s = state(2, Some("aa"));
        assert!(reset(&mut s, 9));
        assert_eq!(next(&s, 2, "aa", false), Next::Attempt(1));
        assert!(!reset(&mut s, 10), "nothing to reset twice");
    }

    #[test]
    fn a_rerun_of_the_same_action_run_counts_nothing_again() {
        let mut s = state(1, Some("aa"));
        s.record(5, 1, "launched");
        assert_eq!(earlier_attempt(&s, 5, true), Some(1));
        assert_eq!(earlier_attempt(&s, 5, false), None, "another action run");
        assert_eq!(earlier_attempt(&s, 6, true), None, "another failed run");
        s.record(5, 0, "busy");
        assert_eq!(earlier_attempt(&s, 5, true), None, "not an attempt");
    }

    #[test]
    fn only_failures_and_timeouts_are_acted_on() {
        for c in ["failure", "timed_out"] {
            assert!(acts_on(Some(c)));
        }
        for c in [
            "success",
            "cancelled",
            "neutral",
            "skipped",
            "stale",
            "action_required",
        ] {
            assert!(!acts_on(Some(c)), "{c}");
        }
        assert!(!acts_on(None));
    }

    #[test]
    fn the_section_neutralizes_the_workflow_name_and_lists_the_history() {
        let mut s = state(1, Some("aa"));
        s.record(5, 1, "launched");
        let md = section(
            &Redactor::new(),
            "CI @team <img>",
            "https://g/o/r/actions/runs",
            "attempt 1 of 2",
            None,
            &s,
            2,
        );
        assert!(
            !md.contains("@team") || md.contains("`CI @team <img>`"),
            "{md}"
        );
        assert!(
            md.contains("[run 5](https://g/o/r/actions/runs/5): attempt 1 of 2: launched"),
            "{md}"
        );
    }
}
