//! The forms one registered secret can take in text we did not write: the
//! value itself, its base64 (standard and URL-safe, padded or not, alone or
//! inside a longer blob), and its URL encodings. A log holds what programs
//! printed, and GitHub masks only the exact value.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// Every form of `secret` worth looking for, the secret itself first; may
/// repeat a form (the caller deduplicates).
pub(super) fn of(secret: &str) -> Vec<String> {
    let mut forms = encodings_of(secret);
    // Multi-line secrets (a `redact` list, a key file): each line is a
    // secret of its own, in every form too (the runner masks lines alone).
    let lines: Vec<&str> = secret.lines().map(str::trim).collect();
    if lines.len() > 1 {
        for line in lines.into_iter().filter(|l| !l.is_empty()) {
            forms.extend(encodings_of(line));
        }
    }
    forms
}

/// `secret` itself and its encodings.
fn encodings_of(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_string()];
    // Alone: the whole encoding, padded and not; and Basic auth's `user:`.
    for value in [secret.to_string(), format!("{secret}:")] {
        for engine in [&STANDARD, &URL_SAFE, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            forms.push(engine.encode(&value));
        }
    }
    forms.extend(inside_base64(secret.as_bytes()));
    forms.extend(url_encoded(secret));
    forms
}

/// The characters of `secret`'s base64 that do not depend on the bytes
/// around it, for each of the three alignments it can have inside a longer
/// blob (standard and URL-safe alphabets). Base64 encodes 3 bytes as 4
/// characters: at alignment `a` the secret's bits start at bit `8a` of the
/// stream, and the characters wholly inside its bits are the same whatever
/// the blob holds before and after it.
fn inside_base64(secret: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for align in 0..3 {
        let mut blob = vec![0u8; align];
        blob.extend_from_slice(secret);
        let first = (8 * align).div_ceil(6);
        let end = 8 * (align + secret.len()) / 6;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&blob);
            if first < end {
                forms.push(encoded[first..end].to_string());
            }
        }
    }
    forms
}

/// Which bytes an encoder leaves as they are.
#[derive(Clone, Copy)]
enum Keep {
    /// `application/x-www-form-urlencoded` (WHATWG, Python's `quote_plus`).
    Form,
    /// RFC 3986's unreserved characters (Python's `quote`, most libraries).
    Unreserved,
    /// JavaScript's `encodeURIComponent`.
    Component,
}

impl Keep {
    fn keeps(self, b: u8) -> bool {
        b.is_ascii_alphanumeric()
            || match self {
                Keep::Form => b"*-._".contains(&b),
                Keep::Unreserved => b"-._~".contains(&b),
                Keep::Component => b"-_.!~*'()".contains(&b),
            }
    }
}

/// `secret` percent-encoded as the common encoders do: each one's set of
/// bytes left as they are, space as `+` or `%20`, hex digits in either case.
fn url_encoded(secret: &str) -> Vec<String> {
    let mut forms = Vec::new();
    for keep in [Keep::Form, Keep::Unreserved, Keep::Component] {
        for space in ["+", "%20"] {
            for upper in [true, false] {
                let mut out = String::with_capacity(secret.len() * 3);
                for &b in secret.as_bytes() {
                    if b == b' ' {
                        out.push_str(space);
                    } else if keep.keeps(b) {
                        out.push(b as char);
                    } else if upper {
                        out.push_str(&format!("%{b:02X}"));
                    } else {
                        out.push_str(&format!("%{b:02x}"));
                    }
                }
                forms.push(out);
            }
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_base64_is_the_same_at_every_alignment_whatever_surrounds_it() {
        let secret = b"crsr_0123456789";
        let inner = inside_base64(secret);
        for align in 0..3 {
            for fill in [0u8, 0xff, b'x'] {
                let mut blob = vec![fill; 6 + align];
                blob.extend_from_slice(secret);
                blob.extend_from_slice(&[fill; 5]);
                let encoded = STANDARD.encode(&blob);
                // The form for this alignment (standard alphabet) is inside.
                assert!(
                    encoded.contains(&inner[2 * ((6 + align) % 3)]),
                    "{align} {fill}: {encoded}"
                );
            }
        }
    }

    #[test]
    fn url_encodings_cover_the_common_encoders() {
        let forms = url_encoded("a b/c~d");
        let form: String = url::form_urlencoded::byte_serialize(b"a b/c~d").collect();
        for expected in [form.as_str(), "a%20b%2Fc~d", "a+b%2fc%7ed", "a%20b%2fc~d"] {
            assert!(forms.iter().any(|f| f == expected), "{expected}: {forms:?}");
        }
    }
}
