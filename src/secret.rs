//! Secrets that cannot be printed by accident, and the redactor that scrubs
//! them (and the encodings we derive from them) from everything we write.

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
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    needles: Vec<String>,
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

    pub fn with(mut self, secret: &str) -> Self {
        self.add(secret);
        self
    }

    /// The values the runner should mask (`::add-mask::`).
    pub fn masks(&self) -> impl Iterator<Item = &str> {
        self.needles.iter().map(String::as_str)
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
}
