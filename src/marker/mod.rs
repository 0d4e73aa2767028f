//! The comment marker: the hidden first line of every comment the action
//! writes (`<!-- cursor-agent-action {json} -->`), saying which agent, run
//! and launch the comment reports, where the trigger's reaction goes, which
//! issue or pull request it sits on, and its state; signed ([`sig`]) with a
//! key only holders of `cursor-api-key` have. This is the ONE place any
//! path asks whether to believe a marker ([`trust::believe`]): follow-ups,
//! re-runs, the launch cap, a scheduled job's state and the sweep.
//!
//! Rendering and parsing are pure; nothing here reads GitHub or Cursor.

pub mod ci;
pub mod sig;
pub mod trust;

pub use sig::MarkerKey;
pub use trust::{Posted, believe, has_swept};

use cursor_api::is_valid_agent_id;
use serde::{Deserialize, Serialize};

pub const MARKER_PREFIX: &str = "<!-- cursor-agent-action ";

/// What the hidden marker records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Which launch of the run it is (job, step and prompt, hashed): two
    /// steps or matrix legs of one run on one issue keep apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The v1 run the comment reports (`run-…`).
    #[serde(rename = "runId", default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// What the trigger's reaction goes on (`issue:N`, `comment:N`,
    /// `review:N`), for a sweep that finalizes the comment later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
    /// The issue or pull request the comment sits on (its number): a
    /// marker is believed only on the issue it names, so a signed marker
    /// copied to another issue steers nothing there (see [`trust`]).
    /// Markers written by 1.0.0 lack it (see [`Marker::names_place`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<u64>,
    /// The scheduled job the comment belongs to (its identity, hex; see
    /// [`crate::job`]): on a job's tracking issue and on the job's pull
    /// request, the next run finds its state by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The pull request the comment is about (its number), for a job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr: Option<u64>,
    /// `true` when a sweep finalized the comment (signed like the rest): a
    /// later run on the same issue can tell that this repository has a
    /// sweep, and its hand-off says so (see [`handoff_text`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swept: Option<bool>,
    /// When the comment's agent was taken on by the run (launched,
    /// reattached or followed up), in Unix seconds: a sweep never calls an
    /// agent gone in its first minutes (see [`crate::agent::existence`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<u64>,
    /// Fix-CI's state (see [`ci`]): attempts, fingerprint, history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<ci::CiState>,
    /// `open` (working, or handed off to a sweep) or `final`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The signature of the fields above but `state` (see [`sig`]):
    /// a sweep edits only comments whose marker verifies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

/// The marker's state while the agent works or a sweep is to finish it.
pub const STATE_OPEN: &str = "open";
/// The marker's state once the comment is final.
pub const STATE_FINAL: &str = "final";

fn is_hex_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn valid_on(on: &str) -> bool {
    on.split_once(':').is_some_and(|(kind, n)| {
        matches!(kind, "issue" | "comment" | "review")
            && !n.is_empty()
            && n.len() <= 20
            && n.bytes().all(|b| b.is_ascii_digit())
    })
}

impl Marker {
    pub fn new(agent: Option<&str>, run: Option<u64>, attempt: u32) -> Self {
        Self {
            v: 1,
            agent: agent.filter(|a| is_valid_agent_id(a)).map(String::from),
            run,
            attempt: Some(attempt),
            key: None,
            run_id: None,
            on: None,
            issue: None,
            job: None,
            pr: None,
            swept: None,
            at: None,
            ci: None,
            state: None,
            sig: None,
        }
    }

    /// Fix-CI's state (signed with the rest).
    pub fn with_ci(mut self, ci: Option<ci::CiState>) -> Self {
        self.ci = ci.filter(ci::CiState::valid);
        self
    }

    /// When the agent was taken on (Unix seconds).
    pub fn with_at(mut self, at: Option<u64>) -> Self {
        self.at = at;
        self
    }

    /// The scheduled job's identity (hex only: the JSON must never hold `-->`).
    pub fn with_job(mut self, job: Option<&str>) -> Self {
        self.job = job.filter(|j| is_hex_id(j)).map(String::from);
        self
    }

    pub fn with_pr(mut self, pr: Option<u64>) -> Self {
        self.pr = pr;
        self
    }

    /// The marker a sweep writes when it finalizes the comment.
    pub fn finalized_by_sweep(mut self) -> Self {
        self.swept = Some(true);
        self
    }

    /// Whether a sweep finalized the comment (meaningful only on a marker
    /// that verifies).
    pub fn was_swept(&self) -> bool {
        self.is_final() && self.swept == Some(true)
    }

    /// Where the trigger's reaction goes (validated: digits and a kind only).
    pub fn with_on(mut self, on: Option<&str>) -> Self {
        self.on = on.filter(|o| valid_on(o)).map(String::from);
        self
    }

    /// The issue or pull request the comment sits on.
    pub fn with_issue(mut self, issue: Option<u64>) -> Self {
        self.issue = issue;
        self
    }

    /// Whether the marker says it sits on issue or pull request `place`
    /// (signed, so only the action can say so; see [`trust::believe`]).
    /// A marker written by 1.0.0 has no `issue`: it names its place only
    /// through a reaction target on the issue itself (`on: issue:N`); one
    /// whose reaction went on a comment or a review comment (whose ids are
    /// not issue numbers) names no place and is not believed anywhere.
    pub fn names_place(&self, place: u64) -> bool {
        match self.issue {
            Some(issue) => issue == place,
            None => self.on.as_deref() == Some(format!("issue:{place}").as_str()),
        }
    }

    /// The bytes the signature covers: every field but `state` and `sig`.
    fn signed_bytes(&self) -> Vec<u8> {
        let bare = Marker {
            state: None,
            sig: None,
            ..self.clone()
        };
        serde_json::to_vec(&bare).expect("markers serialize")
    }

    /// The marker signed with `key`, in `state`.
    pub fn signed(mut self, key: &MarkerKey, state: &str) -> Self {
        self.sig = Some(key.sign(&self.signed_bytes()));
        self.state = Some(state.to_string());
        self
    }

    /// Whether the marker carries a valid signature made with `key`.
    pub fn verify(&self, key: &MarkerKey) -> bool {
        self.sig
            .as_deref()
            .is_some_and(|sig| key.verify(&self.signed_bytes(), sig))
    }

    /// Whether the comment says the run is over (a sweep leaves it alone).
    pub fn is_final(&self) -> bool {
        self.state.as_deref() == Some(STATE_FINAL)
    }

    pub fn with_run(mut self, run: Option<&str>) -> Self {
        // Validated: the JSON must never hold `-->`.
        self.run_id = run
            .filter(|r| cursor_api::v1::is_run_id(r))
            .map(String::from);
        self
    }

    pub fn with_key(mut self, key: &str) -> Self {
        // Hex only: the JSON must never hold `-->`.
        self.key = key
            .chars()
            .all(|c| c.is_ascii_hexdigit())
            .then(|| key.to_string());
        self
    }

    pub fn render(&self) -> String {
        // Ids are validated and numbers are numbers: the JSON cannot hold `-->`.
        format!(
            "{MARKER_PREFIX}{} -->",
            serde_json::to_string(self).expect("markers serialize")
        )
    }

    /// The marker at the start of a comment we wrote. Only the first line is
    /// read, so text quoted further down cannot pose as our marker.
    pub fn find(body: &str) -> Option<Marker> {
        let first = body.trim_start().lines().next()?;
        let json = first
            .strip_prefix(MARKER_PREFIX)?
            .strip_suffix("-->")?
            .trim();
        let mut marker: Marker = serde_json::from_str(json).ok()?;
        marker.run_id = marker.run_id.filter(|r| cursor_api::v1::is_run_id(r));
        // Re-rendered markers must never hold `-->`: odd values are dropped.
        marker.on = marker.on.filter(|o| valid_on(o));
        marker.job = marker.job.filter(|j| is_hex_id(j));
        marker.state = marker.state.filter(|s| s == STATE_OPEN || s == STATE_FINAL);
        marker.swept = marker.swept.filter(|s| *s);
        marker.ci = marker.ci.filter(ci::CiState::valid);
        marker.sig = marker
            .sig
            .filter(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()));
        if marker
            .agent
            .as_deref()
            .is_some_and(|a| !is_valid_agent_id(a))
        {
            return None;
        }
        Some(marker)
    }
}

/// Whether a text carries our marker anywhere (such comments never trigger).
pub fn has_marker(body: &str) -> bool {
    body.contains(MARKER_PREFIX.trim_end())
}

/// The key markers are signed with, from the Cursor API key.
pub fn sig_key(api_key: &kit::secret::Secret) -> MarkerKey {
    MarkerKey::derive(api_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trips_and_rejects_bad_ids() {
        let m = Marker::new(Some("bc-1a"), Some(42), 2)
            .with_key("00ff12ab")
            .with_issue(Some(7));
        let body = format!("{}\nrest", m.render());
        assert_eq!(Marker::find(&body), Some(m));
        assert!(
            Marker::find("<!-- cursor-agent-action {\"v\":1,\"agent\":\"../x\"} -->").is_none()
        );
        assert!(Marker::find("hello\n<!-- cursor-agent-action {\"v\":1} -->").is_none());
        assert!(
            Marker::find("<!-- cursor-agent-action {\"v\":1,\"issue\":\"7 -->\"} -->").is_none(),
            "an issue that is not a number"
        );
        assert!(has_marker("quoted: <!-- cursor-agent-action {} -->"));
        assert_eq!(Marker::new(Some("bad id"), None, 1).agent, None);
        assert_eq!(Marker::new(None, None, 1).with_key("--> x").key, None);
    }

    /// Signed by 1.0.0's hand-written HMAC (key `key_1.0.0`), before the
    /// switch to the `hmac` crate: such markers must still verify.
    const SIGNED_BY_1_0_0: &str = r#"<!-- cursor-agent-action {"v":1,"agent":"bc-11111111-2222-3333-4444-555555555555","run":42,"attempt":1,"key":"00ff12ab","on":"issue:7","state":"open","sig":"d8ac44b69eddea10b53bfb845fe80ba3"} -->"#;

    #[test]
    fn a_marker_signed_by_1_0_0_still_verifies() {
        let key = sig_key(&kit::secret::Secret::new("key_1.0.0"));
        let m = Marker::find(SIGNED_BY_1_0_0).unwrap();
        assert!(m.verify(&key));
        assert!(!m.verify(&sig_key(&kit::secret::Secret::new("key_2"))));
        // Today's code signs it the same way (the state is not signed).
        let again = m.clone().signed(&key, STATE_FINAL);
        assert_eq!(again.sig, m.sig);
        // It names its place through its reaction target, the issue itself.
        assert_eq!(m.issue, None);
        assert!(m.names_place(7) && !m.names_place(8));
    }

    #[test]
    fn the_place_is_the_issue_field_else_an_issue_reaction_target() {
        let on = |on: &str| Marker::new(None, None, 1).with_on(Some(on));
        assert!(on("issue:5").names_place(5));
        assert!(!on("issue:5").names_place(6));
        // A comment id is not an issue number.
        assert!(!on("comment:5").names_place(5));
        assert!(!on("review:5").names_place(5));
        assert!(!Marker::new(None, None, 1).names_place(5));
        // The field wins over the reaction target.
        let both = on("issue:5").with_issue(Some(9));
        assert!(both.names_place(9) && !both.names_place(5));
    }
}
