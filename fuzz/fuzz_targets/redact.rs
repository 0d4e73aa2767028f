//! Any text, any secret: redacting never panics, the secret (6 characters
//! or more) and its base64 never survive, a cut stays within its budget and
//! on a character boundary, and what is held back is a prefix of the text.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kit::secret::{MIN_SECRET_LEN, Redactor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (secret, text) = text.split_once('\u{0}').unwrap_or(("", &text));
    let secret = secret.trim();
    let r = Redactor::new().with(secret);
    let redacted = r.redact(text);
    // A secret with `*` in it could be spelled by `***` and its neighbours.
    if secret.chars().count() >= MIN_SECRET_LEN && !secret.contains(['\n', '\r', '*']) {
        assert!(!redacted.contains(secret), "{redacted:?}");
        let planted = format!("{text}{}{text}", STANDARD.encode(secret));
        assert!(!r.redact(&planted).contains(&STANDARD.encode(secret)));
    }
    for budget in [0, 1, 7, 64, text.len() / 2, text.len()] {
        let (out, _) = r.cut_bytes(text, budget);
        assert!(out.len() <= budget);
        let (out, _) = r.clean_cut(text, budget);
        assert!(out.len() <= budget);
    }
    assert!(text.starts_with(r.without_partial_secret(text)));
});
