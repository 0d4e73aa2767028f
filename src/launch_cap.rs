//! The budget guardrail `max-launches-per-issue`: before launching a new
//! agent on an issue, count the agents this action already launched there,
//! from its own comments; at the cap, skip (with a comment and a notice)
//! instead of launching. A cheap, exact guard against label flapping and
//! comment loops.
//!
//! A launch is told by a believed marker ([`crate::marker::believe`]: an
//! author who may speak for the action, a valid signature, this issue named)
//! that names an agent; each agent counts once (a follow-up's comment names
//! the agent it followed up, and a re-run edits its own comment), and
//! markers that name no agent (skips, dry runs, refused launches) do not
//! count. Quoted, hand-written, copied or forged markers (a reader's, or
//! another app's) are not believed, so they cannot use up the cap. Only a
//! new launch is capped: reattaching to this run's agent and follow-ups are
//! not.
//!
//! The count comes from the action's comments, so the cap needs them:
//! `comment: false` with the cap set is refused (exit 2) when the inputs
//! are read.

use crate::marker::Marker;
use std::collections::HashSet;
use std::num::NonZeroU32;

/// The agents launched on the issue, by its believed markers.
pub fn count_launches<'m>(believed: impl IntoIterator<Item = &'m Marker>) -> usize {
    believed
        .into_iter()
        .filter_map(|m| m.agent.as_deref())
        .collect::<HashSet<&str>>()
        .len()
}

/// What the cap says about a new launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapDecision {
    /// No cap set, or below it.
    Launch { launches: usize },
    /// At (or over) the cap: do not launch.
    Skip { launches: usize, cap: NonZeroU32 },
}

/// The policy: `cap` is the input (`None`: off); `believed`: the issue's
/// believed markers.
pub fn decide<'m>(
    cap: Option<NonZeroU32>,
    believed: impl IntoIterator<Item = &'m Marker>,
) -> CapDecision {
    let launches = count_launches(believed);
    match cap {
        Some(cap) if launches >= cap.get() as usize => CapDecision::Skip { launches, cap },
        _ => CapDecision::Launch { launches },
    }
}

impl CapDecision {
    pub fn is_skip(&self) -> bool {
        matches!(self, Self::Skip { .. })
    }

    /// For a skip: the comment's detail and the notice (one text, it says
    /// what happened and what to do).
    pub fn message(&self, issue: u64) -> Option<String> {
        let Self::Skip { launches, cap } = self else {
            return None;
        };
        Some(format!(
            "Not launching: #{issue} already has {launches} Cursor agent{} launched by this action, and `max-launches-per-issue` is {cap}. Continue with an existing agent (a follow-up comment), or raise or remove `max-launches-per-issue` in the workflow.",
            if *launches == 1 { "" } else { "s" },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(agent: Option<&str>, run: u64) -> Marker {
        Marker::new(agent, Some(run), 1)
    }

    const A: &str = "bc-00000000-0000-0000-0000-000000000001";
    const B: &str = "bc-00000000-0000-0000-0000-000000000002";
    const C: &str = "bc-00000000-0000-0000-0000-000000000003";

    #[test]
    fn markers_naming_an_agent_count_each_agent_once() {
        let believed = [
            launch(Some(A), 1),
            launch(Some(A), 2), // a follow-up of A
            launch(None, 3),    // a skip
            launch(Some(B), 4),
        ];
        assert_eq!(count_launches(&believed), 2);
    }

    #[test]
    fn skips_exactly_at_the_cap() {
        let cap = NonZeroU32::new(2);
        let mut believed = vec![launch(Some(A), 1)];
        assert_eq!(decide(cap, &believed), CapDecision::Launch { launches: 1 });
        believed.push(launch(Some(B), 2));
        let d = decide(cap, &believed);
        assert_eq!(
            d,
            CapDecision::Skip {
                launches: 2,
                cap: cap.unwrap()
            }
        );
        let msg = d.message(7).unwrap();
        assert!(
            msg.contains("#7 already has 2 Cursor agents")
                && msg.contains("`max-launches-per-issue` is 2"),
            "{msg}"
        );
        believed.push(launch(Some(C), 3));
        assert!(decide(cap, &believed).is_skip(), "over the cap too");
        assert_eq!(decide(None, &believed), CapDecision::Launch { launches: 3 });
        assert_eq!(decide(None, &believed).message(7), None);
    }
}
