//! What the redactor promises, for random secrets in random text: every
//! form a program may print a secret in never survives `redact` or
//! `clean_cut`, token shapes go whether registered or not, ordinary text
//! stays, no cut shows the start of a form, and the work is linear.

use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use proptest::prelude::*;

/// A secret as the runner passes it (trimmed, printable ASCII, symbols
/// that URL encoding changes included).
fn secret() -> impl Strategy<Value = String> {
    "[!-~][ -~]{4,40}[!-~]"
}

/// Text around a planted form: words, base64 characters, line breaks,
/// percent signs, a multi-byte character.
fn around() -> impl Strategy<Value = String> {
    "([a-zA-Z0-9+/=_ -]|\n|%|é){0,80}"
}

/// `text` without its line breaks (a form wrapped by them is still one).
fn unwrapped(text: &str) -> String {
    text.replace(['\r', '\n'], "")
}

/// Panics with where it is if any 6 characters in a row of `core` are in
/// `out` (its line breaks removed).
fn assert_gone(out: &str, core: &str, what: &str) {
    let flat = unwrapped(out);
    let chars: Vec<char> = core.chars().collect();
    for w in chars.windows(MIN_SECRET_LEN) {
        let w: String = w.iter().collect();
        assert!(!flat.contains(&w), "{what}: {w:?} survives in {out:?}");
    }
}

/// The characters of `engine`'s encoding of `blob` that only the bytes at
/// `at..at + len` decide: 6 bits a character, so those wholly inside the
/// secret's bits (the definition of "inside a longer blob").
fn encoded_core(engine: &impl base64::Engine, blob: &[u8], at: usize, len: usize) -> String {
    let encoded = engine.encode(blob);
    encoded[(8 * at).div_ceil(6)..8 * (at + len) / 6].to_string()
}

/// `encoded` wrapped at 76 columns, its first line `offset` characters
/// shorter (what precedes it on the line), with `eol`.
fn wrap(encoded: &str, offset: usize, eol: &str) -> String {
    let mut out = String::new();
    for (i, c) in encoded.chars().enumerate() {
        if i > 0 && (i + offset).is_multiple_of(76) {
            out.push_str(eol);
        }
        out.push(c);
    }
    out
}

/// Every form of `secret` (registered with `r`) planted between `before`
/// and `after`, each checked through `redact` and `clean_cut`.
fn check_every_form(r: &Redactor, secret: &str, before: &str, after: &str, fill: &[u8]) {
    let check = |planted: &str, core: &str, what: &str| {
        let text = format!("{before}{planted}{after}");
        assert_gone(&r.redact(&text), core, what);
        let (out, _) = r.clean_cut(&text, text.len() + 10);
        assert_gone(&out, core, what);
        // A cut anywhere shows none of it either.
        for budget in (0..text.len()).step_by(7) {
            let (out, _) = r.clean_cut(&text, budget);
            assert_gone(&out, core, what);
        }
    };
    check(secret, secret, "plain");
    for (name, engine) in [("standard", &STANDARD), ("url-safe", &URL_SAFE)] {
        let alone = engine.encode(secret);
        check(&alone, &alone, name);
        check(
            alone.trim_end_matches('='),
            alone.trim_end_matches('='),
            name,
        );
        // Inside a longer blob, at each alignment; wrapped at 76 columns at
        // every offset, with either line break.
        for align in 0..3 {
            let mut blob = fill[..align + 3].to_vec();
            let at = blob.len();
            blob.extend_from_slice(secret.as_bytes());
            blob.extend_from_slice(&fill[..4]);
            let core = encoded_core(engine, &blob, at, secret.len());
            let encoded = engine.encode(&blob);
            check(&encoded, &core, &format!("{name} blob, alignment {at}"));
            for offset in 0..76 {
                for eol in ["\n", "\r\n"] {
                    let wrapped = wrap(&encoded, offset, eol);
                    let text = format!("{before}{wrapped}{after}");
                    let what = format!("{name} blob, alignment {at}, wrapped at offset {offset}");
                    assert_gone(&r.redact(&text), &core, &what);
                    assert_gone(&r.clean_cut(&text, text.len()).0, &core, &what);
                }
            }
        }
    }
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    check(&form, &form, "form-urlencoded");
    let lower = percent_lower(&form);
    check(&lower, &lower, "form-urlencoded, lower-case hex");
    let spaces = form.replace('+', "%20");
    check(&spaces, &spaces, "percent-encoded, %20 for space");
}

/// `encoded` with the hex digits of its escapes in lower case.
fn percent_lower(encoded: &str) -> String {
    let mut out = String::new();
    let mut left = 0;
    for c in encoded.chars() {
        if c == '%' {
            left = 2;
            out.push(c);
        } else if left > 0 {
            left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// One of the token shapes, its secret part second.
fn token() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        ("gh[pousr]_", "[a-zA-Z0-9]{36}"),
        (
            Just("github_pat_".to_string()),
            "[a-zA-Z0-9]{22}_[a-zA-Z0-9]{59}"
        ),
        ("A[KS]IA", "[A-Z0-9]{16}"),
        (
            "-----BEGIN (RSA |EC |OPENSSH |ENCRYPTED |)PRIVATE KEY-----\r?\n",
            "([A-Za-z0-9+/]{64}\r?\n){1,4}[A-Za-z0-9+/]{1,63}=*\r?\n-----END PRIVATE KEY-----",
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_form_of_a_secret_planted_anywhere_never_survives(
        secret in secret(),
        other in secret(),
        before in around(),
        after in around(),
        fill in prop::collection::vec(any::<u8>(), 8),
    ) {
        let r = Redactor::new().with(&other).with(&secret);
        check_every_form(&r, &secret, &before, &after, &fill);
    }

    #[test]
    fn token_shapes_go_whether_registered_or_not(
        (prefix, body) in token(),
        before in around(),
        after in around(),
        cut in any::<bool>(),
    ) {
        let body = if cut && body.contains("-----END") {
            // A private key block with no END: to the end of the text.
            body[..body.find("-----END").unwrap()].to_string()
        } else {
            body
        };
        let after = if cut { String::new() } else { format!(" {after}") };
        let text = format!("{before} {prefix}{body}{after}");
        for r in [Redactor::new(), Redactor::new().with("unrelated-secret")] {
            let out = r.redact(&text);
            let secret_part = body.lines().next().unwrap().trim_end();
            prop_assert!(!out.contains(secret_part), "{:?} survives in {:?}", secret_part, out);
            assert_gone(&out, &body.replace(['\r', '\n'], ""), "token");
            prop_assert!(out.ends_with(&after), "{:?} lost what follows: {:?}", text, out);
            let (out, _) = r.clean_cut(&text, text.len() / 2);
            assert_gone(&out, &body.replace(['\r', '\n'], ""), "token, cut");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone(
        secret in secret(),
        sha in "[0-9a-f]{40}",
        uuid in "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        data in prop::collection::vec(any::<u8>(), 0..300),
        words in "[a-zA-Z ,.\n]{0,200}",
    ) {
        let r = Redactor::new().with(&secret);
        let blob = STANDARD.encode(&data);
        let wrapped = wrap(&blob, 0, "\n");
        let text = format!(
            "commit {sha}\nrun {uuid}\n{blob}\n{wrapped}\n{}\nghp_short AKIA-not -----BEGIN CERTIFICATE-----\n{words}",
            URL_SAFE.encode(&data)
        );
        prop_assume!(!text.contains(&secret));
        prop_assert_eq!(r.redact(&text), text.as_str());
    }

    /// The work is linear in the text: a bounded number of steps per byte
    /// at n and 4n bytes of pieces made to keep a scanner busy (starts of
    /// forms and shapes, private key headers with no END, line breaks).
    #[test]
    fn redacting_work_is_linear_in_the_text(
        secret in secret(),
        pieces in prop::collection::vec(0usize..12, 1..12),
        n in 100usize..200,
    ) {
        let r = Redactor::new().with(&secret);
        let encoded = STANDARD.encode(&secret);
        let menu = [
            secret[..secret.len() - 1].to_string(),
            encoded[..encoded.len() - 2].to_string(),
            "ghp_".to_string(),
            "ghp_0123456789".to_string(),
            "github_pat_".to_string(),
            "AKIAABCD".to_string(),
            "-----BEGIN RSA PRIVATE KEY-----".to_string(),
            "-----END CERTIFICATE-----".to_string(),
            "-----BEGIN ".to_string(),
            "\n".to_string(),
            "\r\n".to_string(),
            "%2F".to_string(),
        ];
        let unit: String = pieces.iter().map(|&i| menu[i].as_str()).collect();
        for text in [unit.repeat(n), unit.repeat(4 * n)] {
            let before = work_done();
            let redacted = r.redact(&text).len();
            let (cut, _) = r.clean_cut(&text, text.len() / 3);
            let _ = r.without_partial_secret(&text);
            let work = work_done() - before;
            prop_assert!(redacted + cut.len() <= 3 * text.len());
            prop_assert!(
                work <= 60 * text.len() as u64 + 50_000,
                "{} steps for {} bytes of {:?}", work, text.len(), unit
            );
        }
    }
}

#[test]
fn no_cut_shows_the_start_of_an_encoded_form() {
    let key = "crsr_cut_0123456789abcdef0123456789";
    let r = Redactor::new().with(key);
    let b64 = STANDARD.encode(key);
    let blob = STANDARD.encode(format!("xy{key}zw"));
    let core = encoded_core(&STANDARD, format!("xy{key}zw").as_bytes(), 2, key.len());
    let url: String = url::form_urlencoded::byte_serialize(format!("{key}/~").as_bytes()).collect();
    let forms = [
        (b64.clone(), &b64),
        (wrap(&b64, 70, "\r\n"), &b64),
        (blob, &core),
        (wrap(&core, 3, "\n"), &core),
        (url.clone(), &url),
    ];
    for (form, secret_part) in forms {
        let start = &secret_part[..4];
        for at in 0..form.len() + 4 {
            let text = format!("{}{form} tail", "x".repeat(100));
            let budget = 100 + at;
            let (out, _) = r.cut_bytes(&text, budget);
            assert!(out.len() <= budget, "{at}: {out}");
            assert!(
                !unwrapped(&out).contains(start),
                "{form:?} cut at {at}: {out}"
            );
            // Still arriving: held back from its fourth byte on (or whole,
            // and then redacted).
            if (4..form.len()).contains(&at) {
                let arriving = &text[..100 + at];
                let held = r.redact(r.without_partial_secret(arriving));
                assert!(
                    !unwrapped(&held).contains(start),
                    "{form:?} arriving at {at}: {held:?}"
                );
            }
        }
    }
    // Token shapes still arriving are held back too; a Markdown rule is not.
    for arriving in [
        "see ghp_0123",
        "see github_pat_11AB",
        "see AKIA0123",
        "see -----BEGIN RSA PRI",
    ] {
        assert_eq!(r.without_partial_secret(arriving), "see ", "{arriving}");
    }
    assert_eq!(r.without_partial_secret("see -----"), "see -----");
    assert_eq!(r.without_partial_secret("done."), "done.");
}

#[test]
fn a_three_character_secret_blanks_out_nothing() {
    let r = Redactor::new().with("abc").with("  ab  ");
    let text = "abc abcabc YWJj %61%62%63";
    assert_eq!(r.redact(text), text);
    assert_eq!(r.masks().count(), 0);
}

/// A secret of several lines (the `redact` input's list, a key file): each
/// line is a secret of its own, in every form.
#[test]
fn each_line_of_a_secret_of_several_lines_goes_in_every_form() {
    let r = Redactor::new().with("\nfirst-value-1\np@ss w0rd/+=&x\n");
    for line in ["first-value-1", "p@ss w0rd/+=&x"] {
        let encoded = [
            STANDARD.encode(line),
            URL_SAFE.encode(format!("??>{line}")),
            url::form_urlencoded::byte_serialize(line.as_bytes()).collect::<String>(),
        ];
        for form in encoded {
            let text = format!("before {form} after");
            let out = r.redact(&text);
            assert!(
                out.starts_with("before ") && out.ends_with(" after"),
                "{out}"
            );
            assert!(!out.contains(&form), "{form} survived: {out}");
        }
    }
}
