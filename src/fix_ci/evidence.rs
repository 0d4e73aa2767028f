//! A failed job's log, excerpted in one pass and bounded memory: the failed
//! step's section, the lines around each `##[error]`, and the section's last
//! lines (all of the budget when it has no `##[error]`), timestamps
//! stripped, every line redacted then cut (`secret::cut_bytes`), within a
//! byte budget (about 16 KB a job, 48 KB in all), saying what was cut.
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

use kit::secret::Redactor;
use std::collections::{BTreeMap, VecDeque};

/// About this much evidence per job, in bytes.
pub const JOB_CAP: usize = 16 * 1024;
/// About this much evidence in all, in bytes.
pub const TOTAL_CAP: usize = 48 * 1024;
/// Bytes of one line kept as read; the rest of a longer line is dropped
/// unread. Larger than [`MAX_SHOWN_LINE`] so that redaction sees a whole
/// secret before the line is cut (see `secret::cut_bytes`).
pub const MAX_RAW_LINE: usize = 8 * 1024;
/// Bytes of one line shown, after redaction.
pub const MAX_SHOWN_LINE: usize = 1024;
/// Lines shown before and after each `##[error]`.
pub const ERROR_CONTEXT_BEFORE: usize = 10;
pub const ERROR_CONTEXT_AFTER: usize = 10;
/// Error lines remembered for the fingerprint.
pub const FIRST_ERRORS: usize = 5;
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

/// Splits a byte stream into lines, holding at most one partial line of
/// [`MAX_RAW_LINE`] bytes: a chunk of any size is scanned, not copied.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
    /// The current line passed [`MAX_RAW_LINE`]: the rest of it is skipped.
    skipping: bool,
    long_lines: u64,
}

impl LineSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk; `line` gets each complete line (without `\n`/`\r\n`,
    /// at most [`MAX_RAW_LINE`] bytes).
    pub fn push(&mut self, mut chunk: &[u8], mut line: impl FnMut(&[u8])) {
        while !chunk.is_empty() {
            let end = chunk.iter().position(|&b| b == b'\n');
            let (piece, rest) = match end {
                Some(i) => (&chunk[..i], &chunk[i + 1..]),
                None => (chunk, &chunk[chunk.len()..]),
            };
            if !self.skipping {
                let room = MAX_RAW_LINE - self.partial.len();
                if piece.len() > room {
                    self.skipping = true;
                    self.long_lines += 1;
                }
                let take = &piece[..piece.len().min(room)];
                if end.is_some() && self.partial.is_empty() {
                    // The common case: a whole line inside the chunk.
                    line(trim_cr(take));
                } else {
                    self.partial.extend_from_slice(take);
                    if end.is_some() {
                        line(trim_cr(&self.partial));
                        self.partial.clear();
                    }
                }
            } else if end.is_some() && !self.partial.is_empty() {
                line(trim_cr(&self.partial));
                self.partial.clear();
            }
            if end.is_some() {
                self.skipping = false;
            }
            chunk = rest;
        }
    }

    /// The last line, when the stream does not end with a newline.
    pub fn finish(&mut self, mut line: impl FnMut(&[u8])) {
        if !self.partial.is_empty() {
            line(trim_cr(&self.partial));
            self.partial.clear();
        }
        self.skipping = false;
    }

    /// Lines longer than [`MAX_RAW_LINE`] so far.
    pub fn long_lines(&self) -> u64 {
        self.long_lines
    }

    /// Bytes held now (at most [`MAX_RAW_LINE`]).
    pub fn held(&self) -> usize {
        self.partial.len()
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `line` without a leading BOM and RFC 3339 timestamp
/// (`2024-01-02T03:04:05.1234567Z `).
pub fn strip_timestamp(line: &str) -> &str {
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    let b = line.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let shaped = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19);
    if !shaped {
        return line;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if b.get(i) == Some(&b'Z') {
        i += 1;
    } else {
        return line;
    }
    let rest = &line[i..];
    rest.strip_prefix(' ').unwrap_or(rest)
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
    /// `redactor` replaces secrets in each kept line before it is cut.
    pub fn new(target: StepTarget, redactor: Redactor) -> Self {
        Self {
            target,
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
        splitter.push(chunk, |l| self.line(l));
        self.peak = self.peak.max(self.held() + splitter.held());
        self.splitter = splitter;
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
    }

    fn line(&mut self, raw: &[u8]) {
        self.line_no += 1;
        let n = self.line_no;
        let text = String::from_utf8_lossy(raw);
        // Invalid bytes grow when replaced: bound the line again.
        let text = &text[..floor_char_boundary(&text, MAX_RAW_LINE)];
        let line = strip_timestamp(text);
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
        splitter.finish(|l| self.line(l));
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

/// The largest index `<= at` on a char boundary of `s`.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    (0..=at).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}

/// Excerpts a whole log held in memory (tests and small logs).
pub fn excerpt(log: &[u8], target: StepTarget, cap: usize, redactor: &Redactor) -> JobExcerpt {
    let mut x = LogExcerpter::new(target, redactor.clone());
    x.push(log);
    x.finish(cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STEPS: &[&str] = &[
        "Set up job",
        "Run actions/checkout@v4",
        "Build",
        "Run cargo test --all",
        "Post Run actions/checkout@v4",
        "Complete job",
    ];

    /// A log shaped like a real one (UNVERIFIED shape, see the module doc).
    fn log(test_output: &[&str]) -> String {
        let mut lines = vec![
            "\u{feff}2024-05-01T10:00:00.0000000Z Current runner version: '2.316.0'".to_string(),
            "2024-05-01T10:00:00.1000000Z ##[group]Operating System".into(),
            "2024-05-01T10:00:00.1000000Z Ubuntu".into(),
            "2024-05-01T10:00:00.1000000Z ##[endgroup]".into(),
            "2024-05-01T10:00:01.0000000Z ##[group]Run actions/checkout@v4".into(),
            "2024-05-01T10:00:01.0000000Z with:".into(),
            "2024-05-01T10:00:01.0000000Z ##[endgroup]".into(),
            "2024-05-01T10:00:02.0000000Z Syncing repository: o/r".into(),
            "2024-05-01T10:00:03.0000000Z ##[group]Run cargo build".into(),
            "2024-05-01T10:00:03.0000000Z cargo build".into(),
            "2024-05-01T10:00:03.0000000Z ##[endgroup]".into(),
            "2024-05-01T10:00:09.0000000Z    Compiling x v0.1.0".into(),
            "2024-05-01T10:00:10.0000000Z ##[group]Run cargo test --all".into(),
            "2024-05-01T10:00:10.0000000Z ##[endgroup]".into(),
        ];
        lines.extend(
            test_output
                .iter()
                .map(|l| format!("2024-05-01T10:00:11.0000000Z {l}")),
        );
        lines.push("2024-05-01T10:00:20.0000000Z Post job cleanup.".into());
        lines.push("2024-05-01T10:00:20.0000000Z Cleaning up orphan processes".into());
        lines.join("\n") + "\n"
    }

    #[test]
    fn timestamps_and_the_bom_are_stripped_and_nothing_else() {
        assert_eq!(
            strip_timestamp("2024-05-01T10:00:00.1234567Z hello"),
            "hello"
        );
        assert_eq!(strip_timestamp("\u{feff}2024-05-01T10:00:00Z x"), "x");
        assert_eq!(
            strip_timestamp("2024-05-01 not a stamp"),
            "2024-05-01 not a stamp"
        );
        assert_eq!(strip_timestamp("plain"), "plain");
    }

    #[test]
    fn the_failed_steps_section_is_found_by_name_then_by_order() {
        let text = log(&[
            "running 2 tests",
            "test a ... ok",
            "##[error]Process completed with exit code 101.",
        ]);
        let by_name = excerpt(
            text.as_bytes(),
            StepTarget::locate(STEPS, 3),
            JOB_CAP,
            &Redactor::default(),
        );
        assert_eq!(by_name.section, SectionFound::ByName);
        assert_eq!(
            by_name.section_header.as_deref(),
            Some("Run cargo test --all")
        );
        // "Build" is named, its header is "Run cargo build": found by order.
        let by_order = excerpt(
            text.as_bytes(),
            StepTarget::locate(STEPS, 2),
            JOB_CAP,
            &Redactor::default(),
        );
        assert_eq!(by_order.section, SectionFound::ByOrder);
        assert_eq!(by_order.section_header.as_deref(), Some("Run cargo build"));
        assert!(by_order.text.contains("Compiling x"), "{}", by_order.text);
        assert!(
            !by_order.text.contains("2024-05-01T"),
            "timestamps stripped"
        );
        // A log without sections: its last lines, and the excerpt says so.
        let bare = excerpt(
            b"a\nb\nlast words\n",
            StepTarget::locate(STEPS, 3),
            JOB_CAP,
            &Redactor::default(),
        );
        assert_eq!(bare.section, SectionFound::NotFound);
        assert!(bare.text.ends_with("last words\n"));
        assert!(bare.cut_note().contains("not found"), "{}", bare.cut_note());
    }

    #[test]
    fn errors_come_with_their_context_and_the_section_tail() {
        let mut out: Vec<String> = (0..200).map(|i| format!("noise {i}")).collect();
        out.push("thread 'a' panicked at src/lib.rs:12:5".into());
        out.push("##[error]assertion failed: left == right".into());
        out.extend((0..200).map(|i| format!("more {i}")));
        out.push("test result: FAILED. 1 passed; 1 failed".into());
        let refs: Vec<&str> = out.iter().map(String::as_str).collect();
        let x = excerpt(
            log(&refs).as_bytes(),
            StepTarget::locate(STEPS, 3),
            2048,
            &Redactor::default(),
        );
        assert_eq!((x.errors_seen, x.errors_shown), (1, 1));
        assert_eq!(x.first_errors, vec!["assertion failed: left == right"]);
        let t = &x.text;
        let at = |s: &str| {
            t.find(s)
                .unwrap_or_else(|| panic!("{s:?} missing from {t}"))
        };
        assert!(at("panicked at") < at("##[error]assertion failed"));
        assert!(at("##[error]assertion failed") < at("more 9\n"));
        assert!(
            t.contains("test result: FAILED"),
            "the section's last lines"
        );
        assert!(!t.contains("noise 100\n"), "far from the error and the end");
        assert!(t.contains("lines not shown"), "{t}");
    }

    #[test]
    fn without_errors_the_whole_budget_goes_to_the_sections_last_lines() {
        let out: Vec<String> = (0..5000).map(|i| format!("line {i}")).collect();
        let refs: Vec<&str> = out.iter().map(String::as_str).collect();
        let x = excerpt(
            log(&refs).as_bytes(),
            StepTarget::locate(STEPS, 3),
            4096,
            &Redactor::default(),
        );
        assert_eq!(x.errors_seen, 0);
        assert!(x.text.len() <= 4096);
        assert!(
            x.text.contains("line 4999\n") && x.text.len() > 3000,
            "{}",
            x.text.len()
        );
        assert!(
            !x.text.contains("Post job cleanup"),
            "the section ends there"
        );
    }

    #[test]
    fn long_lines_are_cut_and_counted() {
        let long = "x".repeat(100_000);
        let x = excerpt(
            format!("##[error]{long}\nshort\n").as_bytes(),
            StepTarget::locate(STEPS, 3),
            JOB_CAP,
            &Redactor::default(),
        );
        assert!(x.text.len() < 3 * MAX_SHOWN_LINE, "{}", x.text.len());
        assert!(x.long_lines_cut >= 1);
        assert!(x.text.contains("short"));
    }

    #[test]
    fn the_budget_is_shared_and_never_passed() {
        let b = Budget::default();
        assert_eq!(b.next_cap(0, 1), JOB_CAP);
        assert_eq!(b.next_cap(0, 20), TOTAL_CAP / 20);
        assert_eq!(b.next_cap(TOTAL_CAP, 1), 0);
        assert_eq!(b.next_cap(2 * JOB_CAP + 100, 1), JOB_CAP - 100);
    }

    fn arb_log() -> impl Strategy<Value = Vec<u8>> {
        let line = prop_oneof![
            "[a-z ]{0,40}".prop_map(|s| s.into_bytes()),
            Just(b"##[error]boom".to_vec()),
            Just(b"##[group]Run cargo test --all".to_vec()),
            Just(b"##[endgroup]".to_vec()),
            (0usize..20_000).prop_map(|n| vec![b'y'; n]),
            proptest::collection::vec(any::<u8>(), 0..64),
        ];
        proptest::collection::vec(line, 0..300).prop_map(|lines| lines.join(&b'\n'))
    }

    proptest! {
        #[test]
        fn excerpts_stay_within_their_cap_and_memory_bound(
            log in arb_log(),
            cap in 0usize..JOB_CAP,
            chunk in 1usize..5000,
        ) {
            let mut x = LogExcerpter::new(StepTarget::locate(STEPS, 3), Redactor::default());
            for c in log.chunks(chunk) {
                x.push(c);
            }
            // Tails (3 × cap), error context (cap + a line), recent lines
            // and the partial line: a constant, whatever the input's size.
            let bound = 4 * JOB_CAP + (ERROR_CONTEXT_BEFORE + 2) * MAX_RAW_LINE;
            prop_assert!(x.peak_held() <= bound, "{} > {bound}", x.peak_held());
            let e = x.finish(cap);
            prop_assert!(e.text.len() <= cap, "{} > {cap}", e.text.len());
            prop_assert_eq!(e.bytes_read, log.len() as u64);
        }

        #[test]
        fn chunking_does_not_change_the_excerpt(log in arb_log(), chunk in 1usize..300) {
            let whole = excerpt(&log, StepTarget::locate(STEPS, 3), 2048, &Redactor::default());
            let mut x = LogExcerpter::new(StepTarget::locate(STEPS, 3), Redactor::default());
            for c in log.chunks(chunk) {
                x.push(c);
            }
            prop_assert_eq!(x.finish(2048), whole);
        }
    }
}
