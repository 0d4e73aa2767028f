//! Whether to believe a marker: the ONE rule every path that lets a marker
//! steer anything goes through (follow-up routing, a re-run's reattach and
//! its comment, `max-launches-per-issue`, hence `archive-when-done`, a
//! scheduled job's tracking comments and pull request marker, the sweep,
//! and the hand-off's "a sweep runs here").
//!
//! A marker is believed only when all three hold:
//! - **its author may speak for the action**: a bot account (the action
//!   posts as `github-actions[bot]` or an app's bot) or an author with write
//!   access (a personal token posts as its person); a reader's copy is
//!   never believed, even with a valid signature;
//! - **its signature verifies** under the key derived from `cursor-api-key`:
//!   a hand-written marker, one signed with another key, or a signed one
//!   with any field changed is not ours;
//! - **it names the issue or pull request it sits on**
//!   ([`Marker::names_place`]): a valid marker copied (by another app, or
//!   another workflow's `github-actions[bot]`) from one issue to another
//!   steers nothing there.

use super::{Marker, MarkerKey};

/// A comment as the trust rule needs it: its text and whether its author
/// may speak for the action. Implemented by `github::IssueComment`.
pub trait Posted {
    fn body(&self) -> &str;
    /// A bot account, or an author with write access (as listed).
    fn author_may_speak_for_the_action(&self) -> bool;
}

/// The marker of `comment`, sitting on issue or pull request `place`, when
/// it is to be believed (see the module's rule); else `None`.
pub fn believe(comment: &impl Posted, place: u64, key: &MarkerKey) -> Option<Marker> {
    if !comment.author_may_speak_for_the_action() {
        return None;
    }
    let marker = Marker::find(comment.body())?;
    (marker.verify(key) && marker.names_place(place)).then_some(marker)
}

/// Whether a sweep has run on this repository, as far as `comments` (issue
/// `place`'s, as the flow lists them anyway) tell: a believed marker there
/// was finalized by a sweep. No such comment proves nothing either way.
pub fn has_swept<C: Posted>(comments: &[C], place: u64, key: &MarkerKey) -> bool {
    comments
        .iter()
        .any(|c| believe(c, place, key).is_some_and(|m| m.was_swept()))
}
