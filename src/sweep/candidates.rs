//! Which comments the sweep may finish: the action's own (believed by
//! [`marker::believe`]), not final, naming an agent; and what their marker
//! and footer record (the reaction target, the follow-up phrase).

use crate::github::{ReactionOn, RepoComment};
use crate::marker::{self, Marker, MarkerKey};

/// A reaction target as the marker records it.
pub fn encode_on(on: ReactionOn) -> String {
    match on {
        ReactionOn::Issue(n) => format!("issue:{n}"),
        ReactionOn::Comment(n) => format!("comment:{n}"),
        ReactionOn::ReviewComment(n) => format!("review:{n}"),
    }
}

/// The reaction target a marker records.
pub fn decode_on(on: &str) -> Option<ReactionOn> {
    let (kind, n) = on.split_once(':')?;
    let n: u64 = n.parse().ok()?;
    Some(match kind {
        "issue" => ReactionOn::Issue(n),
        "comment" => ReactionOn::Comment(n),
        "review" => ReactionOn::ReviewComment(n),
        _ => return None,
    })
}

/// A comment the sweep may finish: the action's own, signed, not final.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub comment: RepoComment,
    pub marker: Marker,
}

/// Whether a listed comment is provably the action's own (its marker is
/// believed on the issue it sits on), and its marker if so.
pub fn provably_ours(c: &RepoComment, key: &MarkerKey) -> Option<Marker> {
    marker::believe(&c.comment, c.issue, key)
}

/// The candidates among `listed`: ours, not final, naming an agent.
pub fn candidates(listed: &[RepoComment], key: &MarkerKey) -> Vec<Candidate> {
    listed
        .iter()
        .filter_map(|c| {
            let marker = provably_ours(c, key)?;
            (!marker.is_final() && marker.agent.is_some()).then(|| Candidate {
                comment: c.clone(),
                marker,
            })
        })
        .collect()
}

/// The follow-up phrase the comment's footer shows (the waiting run's
/// `trigger-phrase`), so the final body keeps it.
pub fn footer_phrase(body: &str) -> Option<String> {
    let footer = body
        .lines()
        .rev()
        .find(|l| l.starts_with("<sub>Posted by"))?;
    let start = footer.find(" · comment `")? + " · comment `".len();
    let rest = &footer[start..];
    let end = rest.find(" …` to send the agent a follow-up")?;
    Some(rest[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaction_targets_round_trip() {
        for on in [
            ReactionOn::Issue(3),
            ReactionOn::Comment(4),
            ReactionOn::ReviewComment(5),
        ] {
            assert_eq!(decode_on(&encode_on(on)), Some(on));
        }
        assert_eq!(decode_on("pull:3"), None);
        assert_eq!(decode_on("issue:x"), None);
    }

    #[test]
    fn footer_phrases_are_recovered() {
        let body = "x\n<sub>Posted by cursor-agent-action · comment `/cursor …` to send the agent a follow-up</sub>\n";
        assert_eq!(footer_phrase(body).as_deref(), Some("/cursor"));
        assert_eq!(
            footer_phrase("<sub>Posted by cursor-agent-action.</sub>\n"),
            None
        );
    }
}
