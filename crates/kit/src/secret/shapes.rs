//! Well-known token shapes, redacted whether or not the run registered
//! them: a log may print a credential the action never saw (another step's
//! token, a cloud key, a deploy key). Each shape starts with a fixed prefix
//! (found in one linear pass) and has a body checked in bounded steps; a
//! private key block runs to its END line, or to the end of the text.

use super::count;
use aho_corasick::{AhoCorasick, Input, MatchKind};
use std::ops::Range;
use std::sync::LazyLock;

/// The prefixes, in the order [`Shape`] lists them.
const PREFIXES: [&str; 9] = [
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "AKIA",
    "ASIA",
    PEM_BEGIN,
];

const PEM_BEGIN: &str = "-----BEGIN ";
const PEM_END: &[u8] = b"-----END ";
const PRIVATE_KEY: &[u8] = b"PRIVATE KEY";
/// Characters between `-----BEGIN ` and `-----` at most (`OPENSSH PRIVATE
/// KEY`, `PGP PRIVATE KEY BLOCK`, `ENCRYPTED PRIVATE KEY` are far shorter).
const PEM_LABEL_MAX: usize = 64;

/// GitHub tokens: `ghp_` and its kin, then 36 letters and digits.
const GITHUB_TOKEN_BODY: usize = 36;
/// A fine-grained token's body (`github_pat_`, 22 characters, `_`, 59),
/// taken from 22 characters on, so a shortened one is redacted too.
const GITHUB_PAT_BODY: Range<usize> = 22..83;
/// An AWS access key id: `AKIA` or `ASIA`, then 16 uppercase letters and digits.
const AWS_KEY_BODY: usize = 16;

/// The longest a fixed shape is (a whole `github_pat_`), in bytes; a
/// private key's header (`-----BEGIN`, its label, `-----`) is shorter.
pub(super) const LONGEST: usize = 11 + GITHUB_PAT_BODY.end - 1;

static TRIGGERS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build(PREFIXES)
        .expect("fixed prefixes build")
});

/// Appends to `found` every token shape in `hay`, in order, not
/// overlapping. Work: each byte is passed once by the prefix search, and a
/// prefix whose body does not follow costs at most its body's length.
pub(super) fn find(hay: &[u8], found: &mut Vec<Range<usize>>) {
    let mut at = 0;
    while at < hay.len() {
        let Some(m) = TRIGGERS.find(Input::new(hay).span(at..hay.len())) else {
            count(hay.len() - at);
            return;
        };
        count(m.end() - at);
        match body_end(hay, m.start(), m.pattern().as_usize()) {
            Some(end) => {
                found.push(m.start()..end);
                at = end;
            }
            None => at = m.start() + 1,
        }
    }
}

/// Where the shape whose prefix (`PREFIXES[which]`) starts at `start` ends,
/// if its body follows.
fn body_end(hay: &[u8], start: usize, which: usize) -> Option<usize> {
    let body = start + PREFIXES[which].len();
    let run = |ok: fn(&u8) -> bool, max: usize| {
        let n = hay[body..].iter().take(max).take_while(|b| ok(b)).count();
        count(n);
        n
    };
    match which {
        0..=4 => (run(u8::is_ascii_alphanumeric, GITHUB_TOKEN_BODY) == GITHUB_TOKEN_BODY)
            .then_some(body + GITHUB_TOKEN_BODY),
        5 => {
            let n = run(
                |b| b.is_ascii_alphanumeric() || *b == b'_',
                GITHUB_PAT_BODY.end - 1,
            );
            (n >= GITHUB_PAT_BODY.start).then_some(body + n)
        }
        6 | 7 => (run(
            |b| b.is_ascii_uppercase() || b.is_ascii_digit(),
            AWS_KEY_BODY,
        ) == AWS_KEY_BODY)
            .then_some(body + AWS_KEY_BODY),
        _ => {
            let header = private_key_label(hay, body)?;
            Some(private_key_end(hay, header))
        }
    }
}

/// After `-----BEGIN ` or `-----END ` at `from`: where the label ends (past
/// its closing dashes, when there are any), if it names a private key.
fn private_key_label(hay: &[u8], from: usize) -> Option<usize> {
    let label = hay[from..]
        .iter()
        .take(PEM_LABEL_MAX)
        .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b' ')
        .count();
    count(label);
    let end = from + label;
    hay[from..end]
        .windows(PRIVATE_KEY.len())
        .any(|w| w == PRIVATE_KEY)
        .then(|| {
            end + hay[end..]
                .iter()
                .take(5)
                .take_while(|b| **b == b'-')
                .count()
        })
}

/// The end of the private key block whose header ends at `from`: past its
/// `-----END … PRIVATE KEY-----`, or the end of `hay` when there is none
/// (a key cut short is still a key).
fn private_key_end(hay: &[u8], from: usize) -> usize {
    next_key_end(hay, from).unwrap_or(hay.len())
}

/// The end of the first `-----END … PRIVATE KEY-----` at or after `from`.
fn next_key_end(hay: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = hay[at..].windows(PEM_END.len()).position(|w| w == PEM_END) {
        count(i + PEM_END.len());
        let label = at + i + PEM_END.len();
        if let Some(end) = private_key_label(hay, label) {
            return Some(end);
        }
        at = label;
    }
    count(hay.len() - at);
    None
}

/// Where a tail of `hay` that could be the start of a token shape begins
/// (the earliest, so the most is held back), if one does: at least 4 bytes
/// of a prefix (6 of `-----BEGIN `, so a Markdown rule `-----` is not held
/// back), or a whole prefix and a body shorter than the shape's.
pub(super) fn partial_start(hay: &[u8]) -> Option<usize> {
    let from = hay.len().saturating_sub(LONGEST);
    (from..hay.len().saturating_sub(3))
        .find(|&p| matches!(hay[p], b'g' | b'A' | b'-') && is_partial(&hay[p..]))
}

fn is_partial(tail: &[u8]) -> bool {
    PREFIXES.iter().enumerate().any(|(which, prefix)| {
        let prefix = prefix.as_bytes();
        let shortest = if which == 8 { 6 } else { 4 };
        if tail.len() < prefix.len() {
            return tail.len() >= shortest && prefix.starts_with(tail);
        }
        if !tail.starts_with(prefix) {
            return false;
        }
        let body = &tail[prefix.len()..];
        let all = |ok: fn(&u8) -> bool| body.iter().all(ok);
        match which {
            0..=4 => body.len() < GITHUB_TOKEN_BODY && all(u8::is_ascii_alphanumeric),
            5 => {
                body.len() < GITHUB_PAT_BODY.end - 1
                    && all(|b| b.is_ascii_alphanumeric() || *b == b'_')
            }
            6 | 7 => {
                body.len() < AWS_KEY_BODY && all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            }
            _ => {
                body.len() <= PEM_LABEL_MAX
                    && all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b' ')
            }
        }
    })
}
