//! Who and what may trigger a run. Pure: the permission lookup is the only
//! I/O, and the caller makes it when [`Decision::CheckPermission`] asks.

use crate::context::{Context, Event};
use crate::inputs::Inputs;
use crate::report::comment::has_marker;

/// The outcome of the trigger rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead (events nobody types: schedule, dispatch, push...).
    Accept,
    /// Go ahead if `login` has write, maintain or admin permission.
    CheckPermission { login: String },
    /// Go ahead without a permission check: an allowed bot (apps cannot be
    /// collaborators).
    AcceptBot { login: String },
    /// Do nothing; the reason is shown as a notice.
    Skip(String),
}

/// Roles that may trigger.
pub fn role_may_trigger(role: &str) -> bool {
    matches!(role, "admin" | "maintain" | "write")
}

/// Whether `text` contains `phrase` as a whole word, case-insensitively.
/// Quoted lines (`> ...`, as in a reply) do not count.
pub fn contains_phrase(text: &str, phrase: &str) -> bool {
    let phrase: Vec<char> = phrase.chars().flat_map(char::to_lowercase).collect();
    if phrase.is_empty() {
        return true;
    }
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-' || c == '/' || c == '@';
    text.lines()
        .filter(|l| !l.trim_start().starts_with('>'))
        .any(|line| {
            let chars: Vec<char> = line.chars().flat_map(char::to_lowercase).collect();
            (0..chars.len()).any(|i| {
                chars[i..].starts_with(&phrase)
                    && (i == 0 || !word(chars[i - 1]))
                    && chars.get(i + phrase.len()).is_none_or(|c| !word(*c))
            })
        })
}

fn bot_allowed(login: &str, allowed: &[String]) -> bool {
    let base = login.strip_suffix("[bot]").unwrap_or(login);
    allowed.iter().any(|a| {
        let a = a.strip_suffix("[bot]").unwrap_or(a);
        a.eq_ignore_ascii_case(base)
    })
}

/// Applies the trigger rules to the event.
pub fn decide(inputs: &Inputs, ctx: &Context) -> Decision {
    let (action, text, label) = match ctx.event() {
        Event::Issues {
            action,
            issue,
            label,
        } => (
            action.as_str(),
            format!(
                "{}\n{}",
                issue.title.as_deref().unwrap_or(""),
                issue.body.as_deref().unwrap_or("")
            ),
            label.as_ref().map(|l| l.name.as_str()),
        ),
        Event::PullRequest {
            action,
            pull_request,
            label,
        } => (
            action.as_str(),
            format!(
                "{}\n{}",
                pull_request.title.as_deref().unwrap_or(""),
                pull_request.body.as_deref().unwrap_or("")
            ),
            label.as_ref().map(|l| l.name.as_str()),
        ),
        Event::IssueComment {
            action, comment, ..
        }
        | Event::PullRequestReviewComment {
            action, comment, ..
        } => (
            action.as_str(),
            comment.body.clone().unwrap_or_default(),
            None,
        ),
        _ => return Decision::Accept,
    };
    let is_comment = ctx.comment().is_some();

    if is_comment && action != "created" {
        return Decision::Skip(format!(
            "Comment {action}: only new comments trigger the agent."
        ));
    }
    if is_comment && has_marker(&text) {
        return Decision::Skip(
            "The comment was written by cursor-agent-action; its own comments never trigger it."
                .into(),
        );
    }
    let Some(sender) = ctx.sender() else {
        return Decision::Skip(
            "The event has no sender, so its permission cannot be checked.".into(),
        );
    };
    let author_is_bot = ctx
        .comment()
        .and_then(|c| c.user.as_ref())
        .is_some_and(|u| u.is_bot());
    if let Some(wanted) = &inputs.label {
        if !is_comment && action != "labeled" {
            return Decision::Skip(format!(
                "`label` is {wanted:?}, so only adding that label triggers the agent (this was `{action}`)."
            ));
        }
        if action == "labeled" && !label.is_some_and(|l| l.eq_ignore_ascii_case(wanted)) {
            return Decision::Skip(format!(
                "The label added was {:?}, not {wanted:?}.",
                label.unwrap_or("")
            ));
        }
    }
    if let Some(phrase) = &inputs.trigger_phrase {
        let applies = is_comment || matches!(action, "opened" | "edited" | "reopened");
        if applies && !contains_phrase(&text, phrase) {
            return Decision::Skip(format!(
                "The {} does not contain the trigger phrase {phrase:?}.",
                if is_comment {
                    "comment"
                } else {
                    "title or body"
                }
            ));
        }
    }
    if sender.is_bot() || author_is_bot {
        let login = if sender.is_bot() {
            sender.login.clone()
        } else {
            ctx.comment()
                .and_then(|c| c.user.as_ref())
                .map(|u| u.login.clone())
                .unwrap_or_default()
        };
        return if bot_allowed(&login, &inputs.allowed_bots) {
            Decision::AcceptBot { login }
        } else {
            Decision::Skip(format!(
                "{login} is a bot and is not listed in `allowed-bots`."
            ))
        };
    }
    Decision::CheckPermission {
        login: sender.login.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_match_whole_words_only() {
        assert!(contains_phrase("/cursor add tests", "/cursor"));
        assert!(contains_phrase("Please, /Cursor: add tests", "/cursor"));
        assert!(contains_phrase("hey @cursor!", "@cursor"));
        assert!(!contains_phrase("/cursors add tests", "/cursor"));
        assert!(!contains_phrase("see https://x.dev/cursor", "/cursor"));
        assert!(!contains_phrase("x@cursor", "@cursor"));
        assert!(!contains_phrase("> /cursor do it\nthanks", "/cursor"));
        assert!(contains_phrase("> quoted\n/cursor again", "/cursor"));
        assert!(contains_phrase("run the agent now", "agent"));
        assert!(!contains_phrase("agents", "agent"));
    }

    #[test]
    fn bots() {
        let allowed = vec!["renovate[bot]".to_string(), "dependabot".to_string()];
        assert!(bot_allowed("renovate[bot]", &allowed));
        assert!(bot_allowed("dependabot[bot]", &allowed));
        assert!(bot_allowed("Renovate", &allowed));
        assert!(!bot_allowed("evil[bot]", &allowed));
    }

    #[test]
    fn roles() {
        for r in ["admin", "maintain", "write"] {
            assert!(role_may_trigger(r));
        }
        for r in ["triage", "read", "none", ""] {
            assert!(!role_may_trigger(r));
        }
    }
}
