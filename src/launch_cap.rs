//! The budget guardrail `max-launches-per-issue`: before launching a new
//! agent on an issue, count the agents this action already launched there,
//! from its own comments; at the cap, skip (with a comment and a notice)
//! instead of launching. A cheap, exact guard against label flapping and
//! comment loops.
//!
//! A launch is told by our marker ([`Marker`]) on a comment we can believe
//! ([`IssueComment::is_trusted`]) that names an agent; each agent counts
//! once (a follow-up's comment names the agent it followed up, and a re-run
//! edits its own comment), and markers that name no agent (skips, dry runs,
//! refused launches) do not count. Quoted or forged markers from readers are
//! not believed. Only a new launch is capped: reattaching to this run's
//! agent and follow-ups are not.

use crate::github::IssueComment;
use crate::report::comment::Marker;
use std::collections::HashSet;
use std::num::NonZeroU32;

/// The agents launched on the issue, by the markers of trusted comments.
pub fn count_launches(comments: &[IssueComment]) -> usize {
    comments
        .iter()
        .filter(|c| c.is_trusted())
        .filter_map(|c| Marker::find(&c.body)?.agent)
        .collect::<HashSet<String>>()
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

/// The policy: `cap` is the input (`None`: off).
pub fn decide(cap: Option<NonZeroU32>, comments: &[IssueComment]) -> CapDecision {
    let launches = count_launches(comments);
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

    /// `can_write`: the author's permission, as the listing looked it up.
    fn comment(body: &str, bot: bool, can_write: bool) -> IssueComment {
        IssueComment {
            id: 1,
            body: body.into(),
            html_url: String::new(),
            author: if bot {
                "github-actions[bot]"
            } else {
                "someone"
            }
            .into(),
            author_is_bot: bot,
            association: Some(if can_write { "MEMBER" } else { "NONE" }.into()),
            author_can_write: can_write,
        }
    }

    fn ours(agent: Option<&str>, run: u64) -> IssueComment {
        let body = format!(
            "{}\n### Cursor agent\n",
            Marker::new(agent, Some(run), 1).render()
        );
        comment(&body, true, false)
    }

    const A: &str = "bc-00000000-0000-0000-0000-000000000001";
    const B: &str = "bc-00000000-0000-0000-0000-000000000002";
    const C: &str = "bc-00000000-0000-0000-0000-000000000003";

    #[test]
    fn only_trusted_markers_naming_an_agent_count_each_agent_once() {
        let forged = Marker::new(Some(C), Some(9), 1).render();
        let comments = vec![
            ours(Some(A), 1),
            ours(Some(A), 2), // a follow-up of A
            ours(None, 3),    // a skip
            ours(Some(B), 4),
            comment(&forged, false, false), // a reader's forgery
            comment(&format!("> {forged}"), true, false), // quoted, not first line
            comment("hello", true, false),
        ];
        assert_eq!(count_launches(&comments), 2);
        // A writer's marker is believed (as the flow believes it); a
        // member's without write permission is not.
        let mut more = comments.clone();
        more.push(comment(&forged, false, false));
        assert_eq!(count_launches(&more), 2);
        more.push(comment(&forged, false, true));
        assert_eq!(count_launches(&more), 3);
    }

    #[test]
    fn skips_exactly_at_the_cap() {
        let cap = NonZeroU32::new(2);
        let mut comments = vec![ours(Some(A), 1)];
        assert_eq!(decide(cap, &comments), CapDecision::Launch { launches: 1 });
        comments.push(ours(Some(B), 2));
        let d = decide(cap, &comments);
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
        comments.push(ours(Some(C), 3));
        assert!(decide(cap, &comments).is_skip(), "over the cap too");
        assert_eq!(decide(None, &comments), CapDecision::Launch { launches: 3 });
        assert_eq!(decide(None, &comments).message(7), None);
    }
}
