//! A failed job's log, excerpted in one pass and bounded memory: the failed
//! step's section, the lines around each `##[error]`, and the section's last
//! lines (all of the budget when it has no `##[error]`), timestamps
//! stripped and controls dropped, the text redacted across lines
//! ([`RedactingLines`]: before any line is kept or dropped) and each line
//! kept redacted again then cut (`secret::cut_bytes`), within a byte budget
//! (about 16 KB a job, 48 KB in all), saying what was cut.
//!
//! The log format is UNVERIFIED (docs/spec fix-ci.md §2: no authoritative
//! source). What we rely on, and how we cope when it is not so:
//! - lines may start with an RFC 3339 timestamp and a space, and the log
//!   with a UTF-8 BOM: both stripped when present, the line kept as is
//!   otherwise;
//! - a step's output starts with a `##[group]Run …` line (its command or
//!   action): the failed step's section is found by its name
//!   (`Run <command>` for unnamed steps), else by its position among the
//!   steps, else the log's last lines stand in for it (and the excerpt says
//!   so). A composite action's inner steps also print `##[group]Run`, which
//!   can end a section early: the error context does not depend on it;
//! - `##[error]` starts an error line (the runner's rendering of `::error::`).
//!   Without any, the section's tail is what the agent gets.

use super::lines::floor_char_boundary;
pub use super::lines::{
    LineSplitter, MAX_RAW_LINE, REDACTION_HELD_MAX, RedactingLines, strip_timestamp,
};
use kit::secret::Redactor;
use std::collections::{BTreeMap, VecDeque};

/// About this much evidence per job, in bytes.
pub const JOB_CAP: usize = 16 * 1024;
/// About this much evidence in all, in bytes.
pub const TOTAL_CAP: usize = 48 * 1024;
/// Bytes of one line shown, after redaction.
pub const MAX_SHOWN_LINE: usize = 1024;
/// Lines shown before and after each `##[error]`.
pub const ERROR_CONTEXT_BEFORE: usize = 10;
pub const ERROR_CONTEXT_AFTER: usize = 10;
/// Error lines remembered for the fingerprint.
pub const FIRST_ERRORS: usize = 5;
/// The most bytes a [`LogExcerpter`] holds at once, whatever the log's
/// size: three tails of [`JOB_CAP`] (the section by name, by order, the
/// log's end), the errors' context (a cap and a line), the recent lines, the
/// partial line and the redaction window.
pub const MAX_HELD: usize =
    4 * JOB_CAP + (ERROR_CONTEXT_BEFORE + 2) * MAX_RAW_LINE + REDACTION_HELD_MAX;
/// The longest [`omission`] marker with its newline (a 20-digit count).
const OMISSION_MAX: usize = 48;

fn omission(lines: u64) -> String {
    format!("[… {lines} lines not shown …]")
}

/// How the evidence budget is shared: each job gets at most `per_job`, and
/// what earlier jobs left unused goes to later ones, never past `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub per_job: usize,
    pub total: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            per_job: JOB_CAP,
            total: TOTAL_CAP,
        }
    }
}

impl Budget {
    /// The cap of the next job, when `used` bytes went to earlier jobs and
    /// `jobs_left` (this one included) remain.
    pub fn next_cap(&self, used: usize, jobs_left: usize) -> usize {
        let left = self.total.saturating_sub(used);
        self.per_job.min(left / jobs_left.max(1))
    }
}

/// Which step's section to excerpt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepTarget {
    /// The step's name as the jobs API gives it.
    pub name: String,
    /// Its position (1-based) among the job's sections that start with
    /// `##[group]Run`: the steps before it, "Set up job" not counted.
    pub ordinal: usize,
}

impl StepTarget {
    /// The target for step `failed` (an index into `step_names`, in the
    /// jobs API's order).
    pub fn locate(step_names: &[&str], failed: usize) -> Self {
        let ordinal = step_names
            .iter()
            .take(failed)
            .filter(|n| !n.eq_ignore_ascii_case("Set up job"))
            .count()
            + 1;
        Self {
            name: step_names.get(failed).copied().unwrap_or_default().into(),
            ordinal,
        }
    }

    /// Whether a section header (`##[group]` stripped) is this step's.
    fn named_by(&self, header: &str) -> bool {
        let (name, header) = (self.name.trim(), header.trim());
        !name.is_empty()
            && (header == name
                || header.strip_prefix("Run ") == Some(name)
                // The jobs API shortens long commands in unnamed steps' names.
                || (name.starts_with("Run ") && name.len() > 12 && header.starts_with(name)))
    }
}

/// How the failed step's section was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionFound {
    /// A `##[group]Run` header matched the step's name.
    ByName,
    /// The n-th `##[group]Run` section, n from the step order.
    ByOrder,
    /// No section: the log's last lines stand in for it.
    NotFound,
}

/// The last lines of something, at most `cap` bytes of them.
#[derive(Debug, Default)]
struct Tail {
    lines: VecDeque<(u64, String)>,
    bytes: usize,
    cap: usize,
    header: Option<(u64, String)>,
    errors: u64,
}

impl Tail {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            ..Self::default()
        }
    }

    fn push(&mut self, n: u64, line: &str) {
        self.bytes += line.len();
        self.lines.push_back((n, line.to_string()));
        while self.bytes > self.cap {
            match self.lines.pop_front() {
                Some((_, l)) => self.bytes -= l.len(),
                None => break,
            }
        }
    }
}

/// A section being read: the one named like the step, or at its position.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Reading {
    #[default]
    No,
    Yes,
    Done,
}

/// Reads one job's log, line by line, keeping only what an excerpt can use.
#[derive(Debug)]
pub struct LogExcerpter {
    redactor: Redactor,
    target: StepTarget,
    splitter: LineSplitter,
    window: RedactingLines,
    line_no: u64,
    bytes_read: u64,
    sections: usize,
    by_name: Tail,
    by_order: Tail,
    name_state: Reading,
    order_state: Reading,
    whole: Tail,
    /// The last lines before the current one, for an error's context.
    recent: VecDeque<(u64, String)>,
    /// Lines kept for errors' context, ascending.
    error_lines: Vec<(u64, String)>,
    error_bytes: usize,
    after_until: u64,
    errors_seen: u64,
    errors_kept: u64,
    first_errors: Vec<String>,
    peak: usize,
}

/// A job's excerpt, and what was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobExcerpt {
    /// The excerpt: redacted lines, with `[… n lines not shown …]` where
    /// lines were left out. At most the cap given to [`LogExcerpter::finish`].
    pub text: String,
    pub section: SectionFound,
    /// The section's header (`Run …`), when found.
    pub section_header: Option<String>,
    pub bytes_read: u64,
    pub lines_read: u64,
    pub lines_shown: u64,
    pub errors_seen: u64,
    pub errors_shown: u64,
    /// Lines longer than [`MAX_RAW_LINE`] (their ends were not read) or
    /// [`MAX_SHOWN_LINE`] (cut when shown).
    pub long_lines_cut: u64,
    /// The first `##[error]` lines (marker stripped, redacted, cut), for
    /// the fingerprint.
    pub first_errors: Vec<String>,
}

impl JobExcerpt {
    /// What was cut, in words (for the prompt and the comment).
    pub fn cut_note(&self) -> String {
        let mut parts = vec![format!(
            "{} of {} log lines shown ({} of {} bytes)",
            self.lines_shown,
            self.lines_read,
            self.text.len(),
            self.bytes_read
        )];
        if self.errors_shown < self.errors_seen {
            parts.push(format!(
                "{} of {} `##[error]` lines with their context",
                self.errors_shown, self.errors_seen
            ));
        }
        if self.long_lines_cut > 0 {
            parts.push(format!("{} long lines cut", self.long_lines_cut));
        }
        match self.section {
            SectionFound::NotFound => parts.push(
                "the failed step's section was not found: the log's last lines instead".into(),
            ),
            SectionFound::ByOrder => {
                parts.push("the failed step's section found by the step order".into())
            }
            SectionFound::ByName => {}
        }
        parts.join("; ")
    }
}

/// The text after `##[group]` when `line` opens a step's section.
fn section_header(line: &str) -> Option<&str> {
    line.strip_prefix("##[group]")
        .filter(|h| h.starts_with("Run "))
}

/// Lines the runner prints once the steps are over (UNVERIFIED: end the
/// section early when seen, harmless when not).
fn ends_steps(line: &str) -> bool {
    line == "Post job cleanup." || line.starts_with("Cleaning up orphan processes")
}

impl LogExcerpter {
    /// `redactor` replaces secrets in the text of adjacent lines before
    /// any is kept, and in each kept line again before it is cut.
    pub fn new(target: StepTarget, redactor: Redactor) -> Self {
        Self {
            target,
            window: RedactingLines::new(redactor.clone()),
            redactor,
            splitter: LineSplitter::new(),
            line_no: 0,
            bytes_read: 0,
            sections: 0,
            by_name: Tail::new(JOB_CAP),
            by_order: Tail::new(JOB_CAP),
            name_state: Reading::No,
            order_state: Reading::No,
            whole: Tail::new(JOB_CAP),
            recent: VecDeque::with_capacity(ERROR_CONTEXT_BEFORE + 1),
            error_lines: Vec::new(),
            error_bytes: 0,
            after_until: 0,
            errors_seen: 0,
            errors_kept: 0,
            first_errors: Vec::new(),
            peak: 0,
        }
    }

    /// Feeds the next bytes of the log.
    pub fn push(&mut self, chunk: &[u8]) {
        self.bytes_read += chunk.len() as u64;
        let mut splitter = std::mem::take(&mut self.splitter);
        splitter.push(chunk, |l| self.raw_line(l));
        self.peak = self.peak.max(self.held() + splitter.held());
        self.splitter = splitter;
    }

    /// A line as read: bounded, timestamp stripped, controls dropped, then
    /// into the redaction window, which hands lines on redacted.
    fn raw_line(&mut self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        // Invalid bytes grow when replaced: bound the line again.
        let text = &text[..floor_char_boundary(&text, MAX_RAW_LINE)];
        // Before redaction: a secret split by an invisible character or a
        // colour code is whole again.
        let line = kit::text::strip_controls(strip_timestamp(text));
        let mut window = std::mem::take(&mut self.window);
        window.push(&line, |l| self.line(l));
        self.window = window;
    }

    /// The most bytes this excerpter held at once (its partial line, tails
    /// and error context): bounded whatever the log's size.
    pub fn peak_held(&self) -> usize {
        self.peak
    }

    fn held(&self) -> usize {
        self.by_name.bytes
            + self.by_order.bytes
            + self.whole.bytes
            + self.error_bytes
            + self.recent.iter().map(|(_, l)| l.len()).sum::<usize>()
            + self.window.held()
    }

    /// A line redacted with its neighbours (see [`RedactingLines`]).
    fn line(&mut self, line: &str) {
        self.line_no += 1;
        let n = self.line_no;
        if let Some(header) = section_header(line) {
            self.sections += 1;
            for state in [&mut self.name_state, &mut self.order_state] {
                if *state == Reading::Yes {
                    *state = Reading::Done;
                }
            }
            if self.name_state == Reading::No && self.target.named_by(header) {
                self.name_state = Reading::Yes;
                self.by_name.header = Some((n, line.to_string()));
            }
            if self.order_state == Reading::No && self.sections == self.target.ordinal {
                self.order_state = Reading::Yes;
                self.by_order.header = Some((n, line.to_string()));
            }
        } else if ends_steps(line) {
            for state in [&mut self.name_state, &mut self.order_state] {
                if *state == Reading::Yes {
                    *state = Reading::Done;
                }
            }
        }
        if line == "##[endgroup]" {
            return;
        }
        let is_error = line.starts_with("##[error]");
        if self.name_state == Reading::Yes {
            self.by_name.push(n, line);
            self.by_name.errors += u64::from(is_error);
        }
        if self.order_state == Reading::Yes {
            self.by_order.push(n, line);
            self.by_order.errors += u64::from(is_error);
        }
        self.whole.push(n, line);
        self.whole.errors += u64::from(is_error);
        if is_error {
            self.errors_seen += 1;
            if self.first_errors.len() < FIRST_ERRORS {
                let message = line.trim_start_matches("##[error]");
                let (shown, _) = self.redactor.cut_bytes(message, MAX_SHOWN_LINE);
                self.first_errors.push(shown.into_owned());
            }
            if self.error_bytes < JOB_CAP {
                self.errors_kept += 1;
                let last = self.error_lines.last().map_or(0, |(k, _)| *k);
                let before: Vec<(u64, String)> =
                    self.recent.drain(..).filter(|(k, _)| *k > last).collect();
                for (k, l) in before {
                    self.keep_for_error(k, l);
                }
                self.keep_for_error(n, line.to_string());
                self.after_until = n + ERROR_CONTEXT_AFTER as u64;
            }
        } else if n <= self.after_until && self.error_bytes < JOB_CAP {
            self.keep_for_error(n, line.to_string());
        }
        if self.recent.len() == ERROR_CONTEXT_BEFORE {
            self.recent.pop_front();
        }
        self.recent.push_back((n, line.to_string()));
    }

    fn keep_for_error(&mut self, n: u64, line: String) {
        if self.error_lines.last().is_some_and(|(k, _)| *k >= n) {
            return;
        }
        self.error_bytes += line.len();
        self.error_lines.push((n, line));
    }

    /// The excerpt, at most `cap` bytes: the errors' context first (up to
    /// three quarters of the cap when the section has errors), then the
    /// section's last lines. Each line is redacted, then cut, once.
    pub fn finish(mut self, cap: usize) -> JobExcerpt {
        let mut splitter = std::mem::take(&mut self.splitter);
        splitter.finish(|l| self.raw_line(l));
        let mut window = std::mem::take(&mut self.window);
        window.finish(|l| self.line(l));
        let long_raw = splitter.long_lines();
        let (section, tail) = if self.name_state != Reading::No {
            (SectionFound::ByName, &self.by_name)
        } else if self.order_state != Reading::No {
            (SectionFound::ByOrder, &self.by_order)
        } else {
            (SectionFound::NotFound, &self.whole)
        };
        let mut shown: BTreeMap<u64, String> = BTreeMap::new();
        // Room for the marker after the last line shown.
        let mut used = OMISSION_MAX;
        let last_line = self.line_no;
        let mut long_shown = 0u64;
        let mut show = |n: u64, line: &str, limit: usize, shown: &mut BTreeMap<u64, String>| {
            if shown.contains_key(&n) {
                return true;
            }
            let (text, cut) = self.redactor.cut_bytes(line, MAX_SHOWN_LINE);
            // A line with hidden lines on both sides adds one marker; any
            // other insertion adds none (it moves or removes one).
            let hidden = |k: u64| k >= 1 && k <= last_line && !shown.contains_key(&k);
            let marker = if hidden(n - 1) && hidden(n + 1) {
                OMISSION_MAX
            } else {
                0
            };
            let cost = text.len() + 1 + marker;
            if used + cost > limit {
                return false;
            }
            used += cost;
            long_shown += u64::from(cut);
            shown.insert(n, text.into_owned());
            true
        };
        if let Some((n, h)) = &tail.header {
            show(*n, h, cap, &mut shown);
        }
        let error_share = if tail.errors > 0 || self.errors_seen > 0 {
            cap / 4 * 3
        } else {
            0
        };
        let mut errors_shown = 0;
        for (n, line) in &self.error_lines {
            if !show(*n, line, error_share, &mut shown) {
                break;
            }
            if line.starts_with("##[error]") {
                errors_shown += 1;
            }
        }
        for (n, line) in tail.lines.iter().rev() {
            if !show(*n, line, cap, &mut shown) {
                break;
            }
        }
        let mut text = String::new();
        let mut next = 1u64;
        for (n, line) in &shown {
            if *n > next {
                text.push_str(&omission(n - next));
                text.push('\n');
            }
            text.push_str(line);
            text.push('\n');
            next = n + 1;
        }
        if self.line_no >= next && !shown.is_empty() {
            text.push_str(&omission(self.line_no + 1 - next));
            text.push('\n');
        }
        JobExcerpt {
            text,
            section,
            section_header: tail.header.as_ref().map(|(_, h)| {
                let h = h.trim_start_matches("##[group]");
                self.redactor.cut_bytes(h, MAX_SHOWN_LINE).0.into_owned()
            }),
            bytes_read: self.bytes_read,
            lines_read: self.line_no,
            lines_shown: shown.len() as u64,
            errors_seen: self.errors_seen,
            errors_shown,
            long_lines_cut: long_raw + long_shown,
            first_errors: self.first_errors,
        }
    }
}

/// Excerpts a whole log held in memory (tests and small logs).
pub fn excerpt(log: &[u8], target: StepTarget, cap: usize, redactor: &Redactor) -> JobExcerpt {
    let mut x = LogExcerpter::new(target, redactor.clone());
    x.push(log);
    x.finish(cap)
}

#[cfg(test)]
#[path = "evidence_tests.rs"]
mod tests;
