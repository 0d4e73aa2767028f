//! Secrets that cannot be printed by accident, and the redactor that scrubs
//! them (and the encodings we derive from them, and well-known token
//! shapes) from everything we write.
//!
//! A [`Redactor`] is a value, never process state: whoever holds secrets
//! holds the redactor that knows them, and every path that shortens text
//! calls its [`Redactor::cut_bytes`] (or [`Redactor::cut_chars`]), the one
//! rule "redact, then cut". Two places hold one:
//!
//! - The console (the run's sink) knows every secret of the run; the log,
//!   the outputs, the step summary, the comment's renderers and the live
//!   activity cut with a copy of it ([`crate::runner::Console::redactor`]).
//! - An API client knows its own credential, and the run's secrets when the
//!   run hands them over (`redacting`, as the action does for every client
//!   it builds): it makes the text of the errors it builds printable at the
//!   source (redacted, then cut), so an error's `Display` never shows a
//!   prefix of a secret the server echoed. Text that later reaches a sink
//!   is cut again there with the sink's redactor.
//!
//! Two runs in one process (the tests, the demo) therefore never redact
//! with each other's secrets.

mod forms;
#[cfg(test)]
mod properties;
mod scan;
mod shapes;

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

thread_local! {
    static WORK: Cell<u64> = const { Cell::new(0) };
}

/// Adds `steps` to this thread's work count (see [`work_done`]).
fn count(steps: usize) {
    WORK.with(|w| w.set(w.get().saturating_add(steps as u64)));
}

/// The redacting work done on this thread so far, as a deterministic count
/// of steps: bytes folded, searched, checked against a token shape's body
/// and walked back to the text. Linear in the input by design; the property
/// tests bound it (wall-clock figures are a benchmark's).
pub fn work_done() -> u64 {
    WORK.with(Cell::get)
}

/// A secret string. `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Replaces with `***` every secret it was given, in every form a program
/// may print it, and well-known token shapes whether given or not:
///
/// - **Registered secrets** ([`Self::add`]), each at least
///   [`MIN_SECRET_LEN`] characters once trimmed (shorter values are
///   ignored: a 3-character "secret" would blank out ordinary words), in
///   these forms: the value; each of its lines (of the minimum length);
///   its base64, standard and URL-safe, padded or not, and of `value:`
///   (Basic auth); the characters of its base64 that are the same
///   whatever surrounds it, at each of the 3 byte alignments it can have
///   inside a longer base64 blob (the 1 or 2 characters at each end that
///   share bits with the neighbours stay); and its URL encodings
///   (form-urlencoded, RFC 3986, `encodeURIComponent`; space as `+` or
///   `%20`; hex digits upper or lower case).
/// - **Token shapes**: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + 36 letters
///   or digits; `github_pat_` + its body (22 to 82 of letters, digits,
///   `_`); AWS key ids `AKIA`/`ASIA` + 16 uppercase letters or digits; and
///   `-----BEGIN … PRIVATE KEY` blocks through their `-----END … PRIVATE
///   KEY-----` line, or to the end of the text when there is none.
/// - **Line breaks**: every form and shape is also found with a single
///   line break (`\n` or `\r\n`) between any two of its characters, as
///   base64 wrapped at 76 columns has; a blank line separates.
///
/// Work is linear in the text's length (one folding pass, one
/// Aho-Corasick pass for the registered forms, one for the shapes'
/// prefixes, bounded checks of their bodies): see [`work_done`].
#[derive(Default, Clone)]
pub struct Redactor {
    /// The forms registered, as they are (for the runner's masks).
    needles: Vec<String>,
    /// The same, compiled; shared by every copy.
    forms: Arc<scan::Forms>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.needles.len())
    }
}

/// Shorter values are not redacted: replacing every `a` in a log would make
/// it unreadable and protects nothing. Real keys and tokens are far longer.
/// The rule holds for each derived form too (a form shorter than this is
/// not looked for).
pub const MIN_SECRET_LEN: usize = 6;

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret and its derived encodings; returns the forms that
    /// were new, the secret itself first.
    pub fn add(&mut self, secret: &str) -> Vec<String> {
        let secret = secret.trim();
        if secret.chars().count() < MIN_SECRET_LEN {
            return Vec::new();
        }
        let mut added: Vec<String> = Vec::new();
        for form in forms::of(secret) {
            if form.chars().count() >= MIN_SECRET_LEN
                && !self.needles.contains(&form)
                && !added.contains(&form)
            {
                added.push(form);
            }
        }
        if !added.is_empty() {
            self.needles.extend(added.iter().cloned());
            self.compile();
        }
        added
    }

    fn compile(&mut self) {
        // Longest first: `masks` and `longest` read them in this order.
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        self.forms = Arc::new(scan::Forms::new(self.needles.iter().map(String::as_str)));
    }

    /// A redactor that knows one credential (an API client's own).
    pub fn of(secret: &Secret) -> Self {
        Self::new().with(secret.expose())
    }

    pub fn with(mut self, secret: &str) -> Self {
        self.add(secret);
        self
    }

    /// Also redacts every form `other` redacts (a client given the run's
    /// secrets besides its own credential).
    pub fn absorb(&mut self, other: &Redactor) {
        let before = self.needles.len();
        for form in &other.needles {
            if !self.needles.contains(form) {
                self.needles.push(form.clone());
            }
        }
        if self.needles.len() > before {
            self.compile();
        }
    }

    /// The values the runner should mask (`::add-mask::`).
    pub fn masks(&self) -> impl Iterator<Item = &str> {
        self.needles.iter().map(String::as_str)
    }

    /// The most bytes one redacted form can span in text: the longest
    /// registered form or token shape (a private key block aside, which
    /// runs to the end of what is read), with a line break between any two
    /// of its characters. Text holding this much past a point holds whole
    /// every form that starts before it.
    pub fn longest(&self) -> usize {
        self.forms.longest_span
    }

    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let found = self.forms.find(text);
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for r in found {
            out.push_str(&text[at..r.start]);
            out.push_str("***");
            at = r.end;
        }
        out.push_str(&text[at..]);
        count(text.len());
        Cow::Owned(out)
    }
}

impl Redactor {
    /// `text` redacted, then cut to at most `max_bytes`, in one pass from
    /// the start: a form is replaced whole when it starts before the cut,
    /// and the pass stops before any position where a form could start
    /// without ending inside the text it reads (the first `max_bytes` plus
    /// the longest form), so no cut lands inside a secret.
    fn redact_within<'a>(&self, text: &'a str, max_bytes: usize) -> (Cow<'a, str>, bool) {
        let longest = self.longest();
        let mut window_end = max_bytes.saturating_add(longest).min(text.len());
        while !text.is_char_boundary(window_end) {
            window_end -= 1;
        }
        // Where a form that starts could run past what is read.
        let stop = if window_end < text.len() {
            window_end.saturating_sub(longest)
        } else {
            text.len()
        };
        let mut found = self.forms.find(&text[..window_end]).into_iter();
        // The output is `text[..i]` until a form is replaced.
        let mut out: Option<String> = None;
        let mut i = 0;
        while i < stop {
            let form = found.next().filter(|r| r.start < stop);
            let mut gap_end = form.as_ref().map_or(stop, |r| r.start);
            while !text.is_char_boundary(gap_end) {
                gap_end += 1;
            }
            let len = out.as_ref().map_or(i, String::len);
            let room = max_bytes.saturating_sub(len);
            if gap_end - i > room {
                let mut end = i + room;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                let shown = match out {
                    Some(mut o) => {
                        o.push_str(&text[i..end]);
                        Cow::Owned(o)
                    }
                    None => Cow::Borrowed(&text[..end]),
                };
                return (shown, true);
            }
            if let Some(o) = &mut out {
                o.push_str(&text[i..gap_end]);
            }
            i = gap_end;
            let Some(form) = form else { break };
            let len = out.as_ref().map_or(i, String::len);
            if len + "***".len() > max_bytes {
                return (out.map_or(Cow::Borrowed(&text[..i]), Cow::Owned), true);
            }
            let o = out.get_or_insert_with(|| {
                let mut o = String::with_capacity(max_bytes.min(text.len()));
                o.push_str(&text[..i]);
                o
            });
            o.push_str("***");
            i = form.end;
        }
        count(i);
        let cut = i < text.len();
        (out.map_or(Cow::Borrowed(&text[..i]), Cow::Owned), cut)
    }
}

impl Redactor {
    /// The one way text is shortened: every secret this redactor knows
    /// (plain and derived forms) is replaced first, then the text is cut at
    /// a char boundary to at most `max_bytes`, so no cut can land inside a
    /// secret and leave a prefix that redaction downstream would no longer
    /// recognize. Reads only the first `max_bytes` plus the longest secret
    /// form: untrusted text of any size costs work bounded by the budget.
    /// Returns the text and whether it was cut.
    ///
    /// For text still arriving (a stream), call it only once the text is
    /// whole or holds `max_bytes + longest()` bytes: a secret still
    /// incomplete at the end is not recognized.
    pub fn cut_bytes<'a>(&self, text: &'a str, max_bytes: usize) -> (Cow<'a, str>, bool) {
        self.redact_within(text, max_bytes)
    }

    /// The one way untrusted text that must also be cleaned is shortened:
    /// bounded, cleaned ([`crate::text::strip_controls`]: invisible
    /// characters, controls and terminal sequences dropped), redacted, then
    /// cut to at most `max_bytes`. Cleaning comes before redaction, so a
    /// secret split by an invisible character is whole again when it is
    /// looked for; only the first `4 × (max_bytes + the longest form)` bytes
    /// are read (what cleaning may drop is at most that much), and a secret
    /// that runs past them is held back ([`Self::without_partial_secret`]).
    /// Returns the text and whether it was cut.
    pub fn clean_cut(&self, text: &str, max_bytes: usize) -> (String, bool) {
        let mut end = max_bytes
            .saturating_add(self.longest())
            .saturating_mul(4)
            .min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let read_cut = end < text.len();
        let cleaned = crate::text::strip_controls(&text[..end]);
        let whole = if read_cut {
            self.without_partial_secret(&cleaned)
        } else {
            &cleaned
        };
        let (out, cut) = self.cut_bytes(whole, max_bytes);
        (out.into_owned(), cut || read_cut)
    }

    /// [`Self::cut_bytes`] counted in characters: at most `max_chars` of them.
    pub fn cut_chars<'a>(&self, text: &'a str, max_chars: usize) -> (Cow<'a, str>, bool) {
        let (bounded, cut) = self.cut_bytes(text, max_chars.saturating_mul(4));
        match bounded.char_indices().nth(max_chars) {
            None => (bounded, cut),
            Some((end, _)) => (
                match bounded {
                    Cow::Borrowed(b) => Cow::Borrowed(&b[..end]),
                    Cow::Owned(mut o) => {
                        o.truncate(end);
                        Cow::Owned(o)
                    }
                },
                true,
            ),
        }
    }

    /// `text` without a tail that is the start (4 bytes or more) of a
    /// secret form: text still arriving (a stream's message) may end inside
    /// a secret the next piece completes, and a prefix shown now could not
    /// be recognized later. Covers every registered form (the encoded ones
    /// too: a prefix of a base64 or URL-encoded form is held back like one
    /// of the value), with single line breaks in it, and the token shapes
    /// (a tail that could still become one: `ghp_` and its first letters,
    /// `AKIA…`, `github_pat_…`, a private key's `-----BEGIN` header
    /// from its sixth byte). A base64 blob cut anywhere can end with the
    /// first characters of an encoded secret at any alignment; those are
    /// held back only from the fourth character of a form on.
    pub fn without_partial_secret<'a>(&self, text: &'a str) -> &'a str {
        let mut from = text.len().saturating_sub(self.longest());
        while !text.is_char_boundary(from) {
            from += 1;
        }
        match self.forms.partial_start(&text[from..]) {
            // A tail equal to the start of a form starts where a character does.
            Some(start) => &text[..from + start],
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("crsr_supersecret");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "crsr_supersecret");
    }

    #[test]
    fn redacts_plain_and_derived_forms() {
        use base64::Engine as _;
        use base64::engine::general_purpose::STANDARD as BASE64;
        let r = Redactor::new().with("crsr_supersecret");
        let basic = BASE64.encode("crsr_supersecret:");
        let text = format!("key=crsr_supersecret auth=Basic {basic} enc=crsr_supersecret");
        let out = r.redact(&text);
        assert!(!out.contains("crsr_supersecret"), "{out}");
        assert!(!out.contains(&basic), "{out}");
        assert_eq!(out, "key=*** auth=Basic *** enc=***");
    }

    #[test]
    fn short_values_are_ignored() {
        let r = Redactor::new().with("abc");
        assert_eq!(r.redact("abc abc"), "abc abc");
        assert_eq!(r.masks().count(), 0);
    }

    #[test]
    fn a_secret_split_by_an_invisible_character_is_redacted_whole_before_the_cut() {
        let key = "crsr_split_0123456789abcdef0123456789";
        let r = Redactor::default().with(key);
        let (head, tail) = key.split_at(15);
        for pad in [0, 100, 1000] {
            for budget in 90..90 + key.len() + 8 {
                let text = format!(
                    "{}{}{head}\u{200B}{tail} tail",
                    "x".repeat(100),
                    "\u{200B}".repeat(pad)
                );
                let (out, _) = r.clean_cut(&text, budget);
                assert!(out.len() <= budget, "budget {budget}: {out}");
                assert!(
                    !out.contains(&key[..4]),
                    "pad {pad}, budget {budget}: {out}"
                );
            }
        }
    }

    #[test]
    fn cuts_never_leave_a_prefix_of_a_secret() {
        let key = "crsr_cut_0123456789abcdef0123456789";
        let r = Redactor::new().with(key);
        for at in 0..key.len() + 4 {
            let text = format!("{}{key} tail", "x".repeat(100));
            let budget = 100 + at;
            let (out, cut) = r.cut_bytes(&text, budget);
            assert!(out.len() <= budget, "{at}: {out}");
            assert!(!out.contains("crsr_cut"), "{at}: {out}");
            // Redacted, the text is 108 bytes: only a smaller budget loses any.
            assert_eq!(cut, budget < 108, "{at}");
            let (out, _) = r.cut_chars(&text, budget);
            assert!(!out.contains("crsr_cut"), "{at}: {out}");
        }
        // Multi-byte text is cut at a char boundary.
        let (out, cut) = r.cut_chars("ééé", 2);
        assert_eq!((out.as_ref(), cut), ("éé", true));
        let (out, cut) = r.cut_bytes("ééé", 3);
        assert_eq!((out.as_ref(), cut), ("é", true));
        // Only the window is read: a secret far past the budget is not
        // looked for, and is not shown either.
        let far = format!("{}{key}", "y".repeat(10_000));
        assert_eq!(r.cut_bytes(&far, 10).0, "y".repeat(10));
        // Copies of the key up to the budget and past it: the cut lands
        // where a copy is still being read, and shows none of it.
        for shift in 0..key.len() {
            let dense = format!("{}{}", "y".repeat(shift), format!("{key} ").repeat(100));
            for budget in [50, 200, 1000] {
                let (out, cut) = r.cut_bytes(&dense, budget);
                assert!(cut && out.len() <= budget, "{shift} {budget}: {out}");
                assert!(!out.contains("crsr"), "{shift} {budget}: {out}");
            }
        }
        // A secret still arriving is held back from its fourth byte on.
        assert_eq!(r.without_partial_secret("key: crsr_cut_01"), "key: ");
        assert_eq!(r.without_partial_secret("key: crs"), "key: crs");
        assert_eq!(r.without_partial_secret("done."), "done.");
    }
}
