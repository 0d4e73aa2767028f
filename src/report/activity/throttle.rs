//! The comment's edit policy while a run goes on.

use super::{Change, EDIT_EVERY};
use kit::clock::Moment;

/// The comment's edit policy, as a pure type: the flow asks it before each
/// edit and tells it after. While running, at most one edit per
/// [`EDIT_EVERY`]; a status change is edited at once; the final state
/// always. Content held back is *pending*: [`EditThrottle::due_at`] says when
/// to edit it, even if no further event comes.
#[derive(Debug, Clone, Default)]
pub struct EditThrottle {
    last_edit: Option<Moment>,
    pending: bool,
    edits: u32,
}

impl EditThrottle {
    pub fn new() -> Self {
        Self::default()
    }

    /// `change` happened at `now`: whether to edit the comment now. When it
    /// says no, the change is pending.
    pub fn offer(&mut self, now: Moment, change: Change) -> bool {
        let edit = match change {
            Change::None => self.pending && self.is_due(now),
            Change::Status => true,
            Change::Content => self.is_due(now),
        };
        if !edit && change == Change::Content {
            self.pending = true;
        }
        edit
    }

    fn is_due(&self, now: Moment) -> bool {
        self.last_edit
            .is_none_or(|last| now.saturating_since(last) >= EDIT_EVERY)
    }

    /// When a pending change may be edited (`None`: nothing pending).
    pub fn due_at(&self) -> Option<Moment> {
        self.pending
            .then(|| self.last_edit.map_or(Moment::ZERO, |l| l + EDIT_EVERY))
    }

    /// Whether a pending change should be edited now.
    pub fn poll(&self, now: Moment) -> bool {
        self.pending && self.is_due(now)
    }

    /// The comment was edited at `now` (with everything known).
    pub fn edited(&mut self, now: Moment) {
        self.last_edit = Some(now);
        self.pending = false;
        self.edits += 1;
    }

    /// The final state: always edited.
    pub fn finish(&mut self) -> bool {
        true
    }

    /// Edits made (that the flow reported).
    pub fn edits(&self) -> u32 {
        self.edits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn t(secs: u64) -> Moment {
        Moment::ZERO + Duration::from_secs(secs)
    }

    #[test]
    fn throttle_edits_status_at_once_and_content_every_ten_seconds() {
        let mut th = EditThrottle::new();
        assert!(th.offer(t(0), Change::Status));
        th.edited(t(0));
        assert!(!th.offer(t(3), Change::Content));
        assert_eq!(th.due_at(), Some(t(10)));
        assert!(!th.poll(t(9)));
        assert!(th.poll(t(10)));
        assert!(
            th.offer(t(4), Change::Status),
            "a status change is not held back"
        );
        th.edited(t(4));
        assert_eq!(th.due_at(), None);
        assert!(!th.offer(t(13), Change::Content));
        assert!(th.offer(t(14), Change::Content));
        assert!(th.finish());
    }
}
