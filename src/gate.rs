//! Who and what may trigger a run. Pure: the permission lookup is the only
//! I/O, and the caller makes it when [`Decision::Check`] asks.
//!
//! Every event has a rule ([`class_of`]): an event GitHub lets only writers
//! cause is accepted; an event a reader can cause has its sender (and the
//! author of its text, and for `workflow_run` the run's actors) checked; an
//! event with no rule here is refused unless `allow-unknown-events` is on.

use crate::context::{Context, Event};
use crate::inputs::Inputs;
use crate::marker::has_marker;

/// The outcome of the trigger rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead: an event only someone with write access can cause (or a
    /// run outside GitHub Actions, with no event).
    Accept,
    /// Go ahead if every one of `people` has write, maintain or admin
    /// permission; `bots` are listed in `allowed-bots` (apps cannot be
    /// collaborators, so they have no permission to look up).
    Check {
        people: Vec<String>,
        bots: Vec<String>,
    },
    /// Do nothing; the reason is shown as a notice (exit 0, `skipped`).
    Skip(String),
    /// A configuration error (exit 2): `input` cannot apply to this event.
    Invalid {
        input: &'static str,
        problem: String,
    },
}

/// How an event is gated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventClass {
    /// GitHub requires write access (or no user at all) to cause it.
    GatedByGitHub,
    /// Someone with read access (or none, on a public repository) can
    /// cause it: the sender is checked.
    SenderChecked,
    /// The action has no rule for it.
    Unknown,
}

/// Events GitHub itself lets only writers cause, and why.
pub const GATED_BY_GITHUB: &[(&str, &str)] = &[
    (
        "schedule",
        "no user: the cron is in a workflow file on the default branch, which only writers change",
    ),
    (
        "workflow_dispatch",
        "running a workflow by hand or through the API needs write access",
    ),
    (
        "repository_dispatch",
        "the dispatch API needs a token with write access to the repository's contents",
    ),
    (
        "push",
        "pushing to the repository needs write access (a fork's pushes run in the fork)",
    ),
    ("create", "creating a branch or tag is a push"),
    ("delete", "deleting a branch or tag is a push"),
    (
        "release",
        "creating or editing a release needs write access",
    ),
];

/// Events whose sender GitHub does not require to have write access.
pub const SENDER_CHECKED: &[&str] = &[
    "issues",
    "issue_comment",
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "pull_request_review_comment",
    "discussion",
    "discussion_comment",
    "workflow_run",
    "watch",
    "fork",
    "gollum",
    "label",
    "milestone",
    "check_run",
    "check_suite",
    "status",
    "deployment",
    "deployment_status",
    "page_build",
    "merge_group",
    "registry_package",
    "branch_protection_rule",
    "public",
];

/// Events that give the agent a task of their own (used when `prompt` is
/// empty).
pub const TASK_EVENTS: &str = "issues, issue_comment, pull_request, pull_request_target, pull_request_review (submitted) and pull_request_review_comment";

/// The rule class of `event_name`. An empty name (no event: a run outside
/// GitHub Actions, where the runner always sets `GITHUB_EVENT_NAME`) is
/// accepted like `workflow_dispatch`.
pub fn class_of(event_name: &str) -> EventClass {
    if event_name.is_empty() || GATED_BY_GITHUB.iter().any(|(e, _)| *e == event_name) {
        EventClass::GatedByGitHub
    } else if SENDER_CHECKED.contains(&event_name) {
        EventClass::SenderChecked
    } else {
        EventClass::Unknown
    }
}

/// Why `event_name` needs no permission check, for the log.
pub fn gated_reason(event_name: &str) -> Option<&'static str> {
    if event_name.is_empty() {
        return Some("no event: a run outside GitHub Actions");
    }
    GATED_BY_GITHUB
        .iter()
        .find(|(e, _)| *e == event_name)
        .map(|(_, why)| *why)
}

/// What the filters (`label`, `trigger-phrase`) can see of an event.
struct Facts<'a> {
    action: Option<&'a str>,
    /// An issue, PR or discussion event: `label` selects its `labeled`
    /// activity, `trigger-phrase` (without `label`) its title or body.
    labelable: bool,
    /// The label added or removed, on `labeled` / `unlabeled`.
    label: Option<&'a str>,
    /// Who wrote the issue, PR or discussion (its title and body are the
    /// request unless `label` selected the event).
    author: Option<&'a crate::context::User>,
    /// The text `trigger-phrase` is looked for in.
    text: Option<String>,
    /// A comment or review: its text is the request.
    message: Option<Message>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Message {
    /// Only `created` triggers.
    Comment,
    /// Only `submitted` triggers.
    Review,
}

impl Message {
    fn noun(self) -> &'static str {
        match self {
            Message::Comment => "comment",
            Message::Review => "review",
        }
    }
}

fn title_body(title: &Option<String>, body: &Option<String>) -> String {
    format!(
        "{}\n{}",
        title.as_deref().unwrap_or(""),
        body.as_deref().unwrap_or("")
    )
}

fn facts(ctx: &Context) -> Facts<'_> {
    let none = Facts {
        action: ctx.action(),
        labelable: false,
        label: None,
        author: None,
        text: None,
        message: None,
    };
    match ctx.event() {
        Event::Issues { issue, label, .. } => Facts {
            labelable: true,
            label: label.as_ref().map(|l| l.name.as_str()),
            author: issue.user.as_ref(),
            text: Some(title_body(&issue.title, &issue.body)),
            ..none
        },
        Event::PullRequest {
            pull_request: pr,
            label,
            ..
        } => Facts {
            labelable: true,
            label: label.as_ref().map(|l| l.name.as_str()),
            author: pr.user.as_ref(),
            text: Some(title_body(&pr.title, &pr.body)),
            ..none
        },
        Event::Discussion {
            discussion, label, ..
        } => Facts {
            labelable: true,
            label: label.as_ref().map(|l| l.name.as_str()),
            author: discussion.user.as_ref(),
            text: Some(title_body(&discussion.title, &discussion.body)),
            ..none
        },
        Event::IssueComment { comment, .. }
        | Event::PullRequestReviewComment { comment, .. }
        | Event::DiscussionComment { comment, .. } => Facts {
            text: Some(comment.body.clone().unwrap_or_default()),
            message: Some(Message::Comment),
            ..none
        },
        Event::PullRequestReview { review, .. } => Facts {
            text: Some(review.body.clone().unwrap_or_default()),
            message: Some(Message::Review),
            ..none
        },
        Event::Other { label, .. } => Facts {
            labelable: label.is_some(),
            label: label.as_ref().map(|l| l.name.as_str()),
            ..none
        },
        _ => none,
    }
}

/// Applies the trigger rules to the event.
pub fn decide(inputs: &Inputs, ctx: &Context) -> Decision {
    let name = if ctx.event_name.is_empty() {
        "(none)"
    } else {
        ctx.event_name.as_str()
    };
    let facts = facts(ctx);
    let class = class_of(&ctx.event_name);

    // Filters that cannot apply are configuration errors, never ignored.
    if let Some(label) = &inputs.label
        && !facts.labelable
        && facts.message.is_none()
    {
        return Decision::Invalid {
            input: "label",
            problem: format!(
                "is {label:?}, but a `{name}` event has no label to match; remove `label` from this workflow (or its step), or run the step only on events with labels (issues, pull_request, discussion: `labeled`)"
            ),
        };
    }
    if let Some(phrase) = &inputs.trigger_phrase
        && facts.text.is_none()
    {
        return Decision::Invalid {
            input: "trigger-phrase",
            problem: format!(
                "is {phrase:?}, but a `{name}` event has no text to look for it in; remove `trigger-phrase` from this workflow (or its step), or run the step only on events with text (issues, pull requests, comments, reviews, discussions)"
            ),
        };
    }

    match class {
        EventClass::GatedByGitHub => return Decision::Accept,
        EventClass::Unknown if !inputs.allow_unknown_events => {
            return Decision::Skip(format!(
                "cursor-agent-action has no trigger rule for `{name}` events, so nothing was launched. Set `allow-unknown-events: true` to run on them anyway (the sender's permission is still checked)."
            ));
        }
        EventClass::Unknown | EventClass::SenderChecked => {}
    }

    let action = facts.action.unwrap_or("");
    if let Some(kind) = facts.message {
        let wanted = match kind {
            Message::Comment => "created",
            Message::Review => "submitted",
        };
        if action != wanted {
            return Decision::Skip(format!(
                "{} {action}: only {} {}s trigger the agent.",
                capitalize(kind.noun()),
                if kind == Message::Review {
                    "submitted"
                } else {
                    "new"
                },
                kind.noun()
            ));
        }
        let text = facts.text.as_deref().unwrap_or("");
        if has_marker(text) {
            return Decision::Skip(format!(
                "The {} was written by cursor-agent-action; its own {}s never trigger it.",
                kind.noun(),
                kind.noun()
            ));
        }
        if kind == Message::Review && text.trim().is_empty() {
            return Decision::Skip(
                "The review has no text, so there is no request to take from it.".into(),
            );
        }
    }

    // `label`: on issue, PR and discussion events, only adding that label
    // triggers (and `trigger-phrase` is then for comments and reviews). On
    // comments and reviews it selects nothing: they are selected by
    // `trigger-phrase`, so one workflow can take both.
    let mut phrase_applies = true;
    if let Some(wanted) = &inputs.label
        && facts.labelable
    {
        if action != "labeled" {
            return Decision::Skip(format!(
                "`label` is {wanted:?}, so only adding that label triggers the agent (this was `{action}`)."
            ));
        }
        if !facts.label.is_some_and(|l| l.eq_ignore_ascii_case(wanted)) {
            return Decision::Skip(format!(
                "The label added was {:?}, not {wanted:?}.",
                facts.label.unwrap_or("")
            ));
        }
        phrase_applies = false;
    }
    let selected_by_phrase =
        inputs.trigger_phrase.is_some() && phrase_applies && facts.message.is_none();
    if let Some(phrase) = &inputs.trigger_phrase
        && phrase_applies
        && !contains_phrase(facts.text.as_deref().unwrap_or(""), phrase)
    {
        return Decision::Skip(format!(
            "The {} does not contain the trigger phrase {phrase:?}.",
            match facts.message {
                Some(kind) => kind.noun(),
                None => "title or body",
            }
        ));
    }

    // Who: the sender, the author of the text, and a workflow run's actors.
    let mut who: Vec<&crate::context::User> = Vec::new();
    match ctx.sender() {
        Some(s) => who.push(s),
        None if class == EventClass::Unknown => {}
        None => {
            return Decision::Skip(
                "The event has no sender, so its permission cannot be checked.".into(),
            );
        }
    }
    if let Some(author) = ctx.comment().and_then(|c| c.user.as_ref()) {
        who.push(author);
    }
    // An issue, PR or discussion selected by `trigger-phrase`: the phrase is
    // in its title or body, so their author asks too, not only whoever
    // closed, edited, labeled or reopened it. (Selected by `label`, or by no
    // filter, the sender's act is the decision: a writer labeling anyone's
    // issue hands it to the agent.)
    if selected_by_phrase && let Some(author) = facts.author {
        who.push(author);
    }
    if let Event::WorkflowRun {
        actor,
        triggering_actor,
        ..
    } = ctx.event()
    {
        match (actor, triggering_actor) {
            (None, None) => {
                return Decision::Skip(
                    "The workflow run names no actor, so who caused it cannot be checked.".into(),
                );
            }
            _ => who.extend(actor.iter().chain(triggering_actor.iter())),
        }
    }
    let (mut people, mut bots) = (Vec::<String>::new(), Vec::<String>::new());
    for user in who {
        let login = user.login.clone();
        if people
            .iter()
            .chain(&bots)
            .any(|l| l.eq_ignore_ascii_case(&login))
        {
            continue;
        }
        if user.is_bot() {
            if !bot_allowed(&login, &inputs.allowed_bots) {
                return Decision::Skip(format!(
                    "{login} is a bot and is not listed in `allowed-bots`."
                ));
            }
            bots.push(login);
        } else {
            people.push(login);
        }
    }
    // A bot's comment is judged as the bot's, not as the sender's (the
    // sender of a bot's comment is the bot itself).
    if !bots.is_empty() && ctx.comment().is_some() {
        people.clear();
    }
    if people.is_empty() && bots.is_empty() {
        return Decision::Accept;
    }
    Decision::Check { people, bots }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Why an empty `github-token` cannot run `event`: the gate must look up
/// `people`'s permission. One message for every place that finds it empty.
pub fn empty_token_problem(event: &str, people: &[String]) -> String {
    format!(
        "is empty, but this `{event}` event needs it to check that {} may trigger the agent (write, maintain or admin permission); remove the override to use the default `${{{{ github.token }}}}`, or pass a token that can read the repository's collaborators",
        people.join(" and ")
    )
}

/// The follow-up phrase the comments invite people to use, only where such
/// a comment would reach the agent: `followup` on, a `trigger-phrase`, and a
/// run started by an issue or pull request comment, the one proof that this
/// workflow runs on comments (a label-only workflow never sees one, and the
/// action cannot read the workflow's `on:`).
pub fn followup_invitation(inputs: &Inputs, ctx: &Context) -> Option<String> {
    let comments_trigger = matches!(ctx.event(), Event::IssueComment { .. });
    inputs
        .trigger_phrase
        .clone()
        .filter(|_| inputs.followup && comments_trigger)
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

pub fn bot_allowed(login: &str, allowed: &[String]) -> bool {
    let base = login.strip_suffix("[bot]").unwrap_or(login);
    allowed.iter().any(|a| {
        let a = a.strip_suffix("[bot]").unwrap_or(a);
        a.eq_ignore_ascii_case(base)
    })
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
    fn every_event_is_in_one_class_only() {
        for (e, why) in GATED_BY_GITHUB {
            assert!(!SENDER_CHECKED.contains(e), "{e}");
            assert!(!why.is_empty());
            assert_eq!(class_of(e), EventClass::GatedByGitHub);
        }
        for e in SENDER_CHECKED {
            assert_eq!(class_of(e), EventClass::SenderChecked);
        }
        assert_eq!(class_of(""), EventClass::GatedByGitHub);
        for e in ["project_card", "image_version", "Issues", "issues "] {
            assert_eq!(class_of(e), EventClass::Unknown, "{e:?}");
        }
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
