//! A log's bytes as lines ready to excerpt: split in bounded memory
//! ([`LineSplitter`]), timestamps stripped ([`strip_timestamp`]), and
//! redacted over the text adjacent lines form together
//! ([`RedactingLines`]), so that a secret printed across lines (base64
//! wrapped at 76 columns, a private key block) is seen whole before any
//! line is kept, cut or dropped.

use kit::secret::Redactor;
use std::collections::VecDeque;

/// Bytes of one line kept as read; the rest of a longer line is dropped
/// unread. Larger than [`super::evidence::MAX_SHOWN_LINE`] so that
/// redaction sees a whole secret before the line is cut.
pub const MAX_RAW_LINE: usize = 8 * 1024;

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

/// The largest index `<= at` on a char boundary of `s`.
pub(super) fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    (0..=at).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}

/// Lines released at once when the held text passes this (plus the window).
pub const REDACTION_BLOCK: usize = 32 * 1024;
/// Text held after a released line, at least: a secret form (with the line
/// breaks of its wrapping) that starts in a released line ends within it.
pub const REDACTION_WINDOW_MIN: usize = 16 * 1024;
/// The window at most, whatever the longest secret (a form longer than
/// about half of it is found only when it does not cross a release).
pub const REDACTION_WINDOW_MAX: usize = 64 * 1024;
/// The most bytes [`RedactingLines`] holds: a block, the window and a line.
pub const REDACTION_HELD_MAX: usize = REDACTION_BLOCK + REDACTION_WINDOW_MAX + MAX_RAW_LINE + 1;

/// Redacts a stream of lines over the text they form together (joined by
/// `\n`), not line by line, holding a bounded window: lines are released,
/// redacted, in blocks, each time the held text passes
/// [`REDACTION_BLOCK`] plus the window, and only up to a boundary no secret
/// form crosses (the block's redaction equals its parts' redactions); the
/// window after it lets a form that starts before the boundary end inside
/// the text redacted. A form replaced across lines joins them (`a***b`).
#[derive(Debug, Default)]
pub struct RedactingLines {
    redactor: Redactor,
    pending: VecDeque<String>,
    /// Bytes of `pending`, a newline counted after each line.
    bytes: usize,
    window: usize,
}

impl RedactingLines {
    pub fn new(redactor: Redactor) -> Self {
        let window = redactor
            .longest()
            .saturating_mul(2)
            .saturating_add(1024)
            .clamp(REDACTION_WINDOW_MIN, REDACTION_WINDOW_MAX);
        Self {
            redactor,
            pending: VecDeque::new(),
            bytes: 0,
            window,
        }
    }

    /// Bytes held now (at most [`REDACTION_HELD_MAX`]).
    pub fn held(&self) -> usize {
        self.bytes
    }

    /// Adds a line; `out` gets the lines released, redacted.
    pub fn push(&mut self, line: &str, out: impl FnMut(&str)) {
        self.bytes += line.len() + 1;
        self.pending.push_back(line.to_string());
        if self.bytes >= REDACTION_BLOCK + self.window {
            self.release(false, out);
        }
    }

    /// Releases every line held.
    pub fn finish(&mut self, out: impl FnMut(&str)) {
        self.release(true, out);
    }

    fn joined(lines: impl Iterator<Item = impl AsRef<str>>) -> String {
        let mut s = String::new();
        for (i, l) in lines.enumerate() {
            if i > 0 {
                s.push('\n');
            }
            s.push_str(l.as_ref());
        }
        s
    }

    fn release(&mut self, all: bool, mut out: impl FnMut(&str)) {
        if self.pending.is_empty() {
            return;
        }
        let text = Self::joined(self.pending.iter());
        let whole = self.redactor.redact(&text);
        if all {
            whole.split('\n').for_each(&mut out);
            self.pending.clear();
            self.bytes = 0;
            return;
        }
        // The last line whose following text is at least the window.
        let mut k = self.pending.len();
        let mut after = 0;
        while k > 0 && after < self.window {
            k -= 1;
            after += self.pending[k].len() + 1;
        }
        let released: Vec<String> = match whole {
            // Nothing to redact with the window as context: released as read.
            std::borrow::Cow::Borrowed(_) => self.pending.drain(..k).collect(),
            std::borrow::Cow::Owned(whole) => {
                // Step back (1, 2, 4... lines) until no form crosses.
                let mut step = 1;
                let clean = loop {
                    if k == 0 {
                        break None;
                    }
                    let head = Self::joined(self.pending.range(..k));
                    let rest = Self::joined(self.pending.range(k..));
                    let head = self.redactor.redact(&head);
                    let rest = self.redactor.redact(&rest);
                    if whole.len() == head.len() + 1 + rest.len()
                        && whole.as_bytes()[head.len()] == b'\n'
                        && whole.starts_with(head.as_ref())
                        && whole.ends_with(rest.as_ref())
                    {
                        break Some(head.into_owned());
                    }
                    k = k.saturating_sub(step);
                    step *= 2;
                };
                match clean {
                    Some(head) => {
                        self.pending.drain(..k);
                        head.split('\n').map(String::from).collect()
                    }
                    // One form spans the whole block: released whole.
                    None => {
                        self.pending.clear();
                        whole.split('\n').map(String::from).collect()
                    }
                }
            }
        };
        for l in &released {
            out(l);
        }
        self.bytes = self.pending.iter().map(|l| l.len() + 1).sum();
    }
}
