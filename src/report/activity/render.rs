//! The activity rendered: the comment's activity section and the step
//! summary's timeline.

use super::{Activity, MESSAGE_LINE_CHARS, MESSAGE_LINES, shorten};
use crate::markdown;
use kit::clock::Moment;

impl Activity {
    /// The comment's activity section, or `None` when nothing happened yet.
    pub fn markdown(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut md = String::from("**Activity**\n\n");
        let lines: Vec<String> = kit::text::strip_controls(&self.message())
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .take(MESSAGE_LINES + 1)
            .map(String::from)
            .collect();
        if !lines.is_empty() {
            // One paragraph per line: each is sanitized on its own, so no
            // code span may pair across lines.
            let shown: Vec<String> = lines
                .iter()
                .enumerate()
                .take(MESSAGE_LINES)
                .map(|(i, line)| {
                    let mut line = shorten(&self.redactor, line, MESSAGE_LINE_CHARS);
                    if i + 1 == MESSAGE_LINES && lines.len() > MESSAGE_LINES {
                        line.push('…');
                    }
                    format!("> {}\n", markdown::sanitize_inline(&self.redactor, &line))
                })
                .collect();
            md.push_str(&shown.join(">\n"));
            md.push('\n');
        }
        let earlier = self.tool_calls.saturating_sub(self.tools.len() as u64);
        if earlier > 0 {
            md.push_str(&format!(
                "- _…and {earlier} earlier tool call{}_\n",
                if earlier == 1 { "" } else { "s" }
            ));
        }
        for t in &self.tools {
            md.push_str(&format!("- {}\n", t.markdown(&self.redactor)));
        }
        Some(md.trim_end().to_string() + "\n")
    }

    /// The step summary's timeline: status changes, first and last activity,
    /// duration (from `started`, the launch), as a Markdown table.
    pub fn timeline_markdown(&self, started: Moment, ended: Option<Moment>) -> Option<String> {
        if self.timeline.is_empty() && self.first_activity.is_none() {
            return None;
        }
        let at = |m: Moment| {
            format!(
                "+{}",
                crate::report::human_duration(m.saturating_since(started))
            )
        };
        let mut rows: Vec<(Moment, String)> = self
            .timeline
            .iter()
            .map(|c| {
                (
                    c.at,
                    format!(
                        "Status {}",
                        markdown::code_inline(&self.redactor, c.status.as_str())
                    ),
                )
            })
            .collect();
        if let Some((first, last)) = self.activity_span() {
            rows.push((first, "First activity".into()));
            if last != first {
                rows.push((last, "Last activity".into()));
            }
        }
        rows.sort_by_key(|(m, _)| *m);
        let mut md = String::from("**Timeline**\n\n| When | What |\n|---|---|\n");
        for (m, what) in rows {
            md.push_str(&format!("| {} | {what} |\n", at(m)));
        }
        if let Some(end) = ended {
            md.push_str(&format!(
                "| {} | Ended ({} tool call{}) |\n",
                at(end),
                self.tool_calls,
                if self.tool_calls == 1 { "" } else { "s" }
            ));
        }
        Some(md)
    }
}
