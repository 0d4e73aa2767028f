//! Fix-CI's state in the marker of its one comment per pull request and
//! workflow: which workflow, how many attempts since the last reset, the
//! last attempt's failure fingerprint, and the history of what each run did.
//! Signed with the rest of the marker, so only the action can raise, lower
//! or reset the count; read only through [`super::believe`].

use serde::{Deserialize, Serialize};

/// History entries kept (the oldest are dropped).
pub const HISTORY_KEPT: usize = 12;

/// What a run did, as the history records it (one word each).
pub const WHAT: &[&str] = &[
    "launched",
    "followed-up",
    "attempt-cap",
    "same-failure",
    "busy",
    "passed",
    "fork",
    "error",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiEntry {
    /// The failed (or passing) workflow run.
    pub run: u64,
    /// The attempt it was (0: not an attempt).
    pub n: u32,
    /// One of [`WHAT`].
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiState {
    /// The workflow, hashed (hex): one comment per pull request and workflow.
    pub w: String,
    /// Attempts since the last reset (a passing run of the workflow).
    pub n: u32,
    /// The last attempt's failure fingerprint (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp: Option<String>,
    /// What each run did, oldest first.
    #[serde(default)]
    pub h: Vec<CiEntry>,
}

fn hex(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The workflow's identity in the marker: its file path (else its name),
/// hashed, so the marker holds no text of the workflow's.
pub fn workflow_id(workflow: &str) -> String {
    format!(
        "{:016x}",
        kit::text::stable_hash(&["fix-ci", workflow.trim()])
    )
}

impl CiState {
    pub fn new(workflow: &str) -> Self {
        Self {
            w: workflow_id(workflow),
            n: 0,
            fp: None,
            h: Vec::new(),
        }
    }

    /// Whether it is about `workflow` (see [`workflow_id`]).
    pub fn is_for(&self, workflow: &str) -> bool {
        self.w == workflow_id(workflow)
    }

    /// Records what run `run` did (attempt `n`, 0 for none); the history
    /// keeps the last [`HISTORY_KEPT`].
    pub fn record(&mut self, run: u64, n: u32, what: &'static str) {
        debug_assert!(WHAT.contains(&what), "{what}");
        self.h.push(CiEntry {
            run,
            n,
            what: what.into(),
        });
        if self.h.len() > HISTORY_KEPT {
            self.h.drain(..self.h.len() - HISTORY_KEPT);
        }
    }

    /// Only hex ids and known words: the JSON can never hold `-->`.
    pub(super) fn valid(&self) -> bool {
        hex(&self.w)
            && self.fp.as_deref().is_none_or(hex)
            && self.h.iter().all(|e| WHAT.contains(&e.what.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_and_only_known_words_are_valid() {
        let mut s = CiState::new(".github/workflows/ci.yml");
        for run in 0..20 {
            s.record(run, 1, "launched");
        }
        assert_eq!(s.h.len(), HISTORY_KEPT);
        assert_eq!(s.h[0].run, 8);
        assert!(s.valid());
        s.h[0].what = "--> x".into();
        assert!(!s.valid());
        assert!(CiState::new("ci.yml").is_for(" ci.yml"));
        assert!(!CiState::new("ci.yml").is_for("lint.yml"));
    }
}
