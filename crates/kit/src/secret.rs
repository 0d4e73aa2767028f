//! Secrets that cannot be printed by accident, and the redactor that scrubs
//! them (and the encodings we derive from them) from everything we write.
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

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::borrow::Cow;
use std::fmt;

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

/// Replaces every known secret, and the forms derived from it that could
/// reach a log (Basic-auth base64, URL encoding), with `***`.
#[derive(Default, Clone)]
pub struct Redactor {
    needles: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.needles.len())
    }
}

/// Shorter values are not redacted: replacing every `a` in a log would make
/// it unreadable and protects nothing. Real keys and tokens are far longer.
const MIN_SECRET_LEN: usize = 6;

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
        let mut forms = vec![
            secret.to_string(),
            BASE64.encode(format!("{secret}:")),
            BASE64.encode(secret),
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        ];
        // Base64 output without padding also appears in headers copied into logs.
        forms.extend(
            forms
                .clone()
                .into_iter()
                .map(|f| f.trim_end_matches('=').to_string()),
        );
        // Multi-line secrets: each line is masked on its own by the runner too.
        forms.extend(
            secret
                .lines()
                .map(str::trim)
                .filter(|l| l.chars().count() >= MIN_SECRET_LEN)
                .map(String::from),
        );
        let mut added = Vec::new();
        for form in forms {
            if form.chars().count() >= MIN_SECRET_LEN
                && !self.needles.contains(&form)
                && !added.contains(&form)
            {
                added.push(form);
            }
        }
        self.needles.extend(added.iter().cloned());
        // Longest first, so a secret is replaced whole before any part of it.
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        added
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
        for form in &other.needles {
            if !self.needles.contains(form) {
                self.needles.push(form.clone());
            }
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// The values the runner should mask (`::add-mask::`).
    pub fn masks(&self) -> impl Iterator<Item = &str> {
        self.needles.iter().map(String::as_str)
    }

    /// The length in bytes of the longest form redacted (0: none).
    pub fn longest(&self) -> usize {
        self.needles.first().map_or(0, String::len)
    }

    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.needles.iter().any(|n| text.contains(n.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), "***");
            }
        }
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
        let mut first = [false; 256];
        for n in &self.needles {
            first[n.as_bytes()[0] as usize] = true;
        }
        let bytes = text.as_bytes();
        let mut out: Option<String> = None;
        let mut i = 0;
        while i < stop {
            let needle = first[bytes[i] as usize]
                .then(|| {
                    self.needles
                        .iter()
                        .find(|n| bytes[i..window_end].starts_with(n.as_bytes()))
                })
                .flatten();
            let (piece, step) = match needle {
                Some(n) => ("***", n.len()),
                None => {
                    let c = text[i..].chars().next().expect("i is a char boundary");
                    (&text[i..i + c.len_utf8()], c.len_utf8())
                }
            };
            let len = out.as_ref().map_or(i, String::len);
            if len + piece.len() > max_bytes {
                return (out.map_or(Cow::Borrowed(&text[..i]), Cow::Owned), true);
            }
            match (&mut out, needle) {
                (Some(o), _) => o.push_str(piece),
                (None, Some(_)) => {
                    let mut o = String::with_capacity(max_bytes.min(text.len()));
                    o.push_str(&text[..i]);
                    o.push_str(piece);
                    out = Some(o);
                }
                (None, None) => {}
            }
            i += step;
        }
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
    /// be recognized later.
    pub fn without_partial_secret<'a>(&self, text: &'a str) -> &'a str {
        const SHORTEST_HELD_BACK: usize = 4;
        let bytes = text.as_bytes();
        let mut end = text.len();
        for needle in self.needles.iter().map(String::as_bytes) {
            let longest = needle.len().saturating_sub(1).min(bytes.len());
            if let Some(k) = (SHORTEST_HELD_BACK..=longest)
                .rev()
                .find(|&k| bytes[bytes.len() - k..] == needle[..k])
            {
                end = end.min(bytes.len() - k);
            }
        }
        // A tail equal to the start of a form starts where a character does.
        &text[..end]
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
