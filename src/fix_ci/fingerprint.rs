//! A failure's fingerprint: the workflow, and for each failed job its name,
//! its failed step and its first error lines, normalized so that what
//! changes from run to run (numbers, hashes, temporary paths, ids,
//! timestamps) does not change it. The same fingerprint right after the
//! agent's fix means the fix did not help: the loop stops.

use sha2::{Digest, Sha256};

/// Error lines of a job that count.
pub const ERROR_LINES: usize = 5;

/// One failed job, as the fingerprint sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedJob<'a> {
    pub job: &'a str,
    pub step: &'a str,
    /// Its first error lines (from `##[error]`, else from the annotations).
    pub error_lines: &'a [String],
}

/// A 16-hex-digit id for the failure of `workflow`'s `jobs` (their order
/// does not matter).
pub fn fingerprint(workflow: &str, jobs: &[FailedJob<'_>]) -> String {
    let mut parts: Vec<String> = jobs
        .iter()
        .map(|j| {
            let lines: Vec<String> = j
                .error_lines
                .iter()
                .map(|l| normalize(l))
                .filter(|l| !l.is_empty())
                .take(ERROR_LINES)
                .collect();
            format!(
                "{}\u{1f}{}\u{1f}{}",
                j.job.trim(),
                j.step.trim(),
                lines.join("\u{1e}")
            )
        })
        .collect();
    parts.sort();
    let mut h = Sha256::new();
    h.update(workflow.trim().as_bytes());
    for p in &parts {
        h.update(b"\x1d");
        h.update(p.as_bytes());
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where temporary files live on GitHub's runners (and commonly elsewhere).
const TEMP_PREFIXES: &[&str] = &[
    "/home/runner/work/_temp/",
    "/home/runner/_work/_temp/",
    "/private/var/folders/",
    "/var/folders/",
    "/tmp/",
    "d:\\a\\_temp\\",
    "c:\\users\\runneradmin\\appdata\\local\\temp\\",
];

/// `line` with timestamps, temporary paths, UUIDs, hashes and numbers
/// replaced by placeholders and spaces collapsed.
pub fn normalize(line: &str) -> String {
    let line = super::evidence::strip_timestamp(line.trim());
    let line = line.strip_prefix("##[error]").unwrap_or(line);
    let line = without_temp_paths(line);
    let mut out = String::with_capacity(line.len());
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if is_uuid(&b[i..]) && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            out.push_str("<uuid>");
            i += 36;
            continue;
        }
        if b[i].is_ascii_alphanumeric() {
            let end = (i..b.len())
                .find(|&k| !b[k].is_ascii_alphanumeric())
                .unwrap_or(b.len());
            let word = &line[i..end];
            let bare = word.strip_prefix("0x").unwrap_or(word);
            let hex = bare.bytes().all(|c| c.is_ascii_hexdigit());
            let digit = bare.bytes().any(|c| c.is_ascii_digit());
            // A letter too: a long decimal number is a number (`<n>`), so
            // 0 and 1000000 in the same place read the same.
            let letter = bare.bytes().any(|c| c.is_ascii_alphabetic());
            if hex && digit && letter && bare.len() >= 7 {
                out.push_str("<hash>");
            } else {
                let mut in_number = false;
                for c in word.chars() {
                    if c.is_ascii_digit() {
                        if !in_number {
                            out.push_str("<n>");
                        }
                        in_number = true;
                    } else {
                        in_number = false;
                        out.push(c);
                    }
                }
            }
            i = end;
            continue;
        }
        let c = line[i..].chars().next().expect("in bounds");
        if c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
        i += c.len_utf8();
    }
    out.trim().to_string()
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() >= 36
        && b[..36].iter().enumerate().all(|(k, c)| match k {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
        && b.get(36).is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// Temporary paths (up to the next space, quote, bracket, comma or colon)
/// replaced by `<tmp>`.
fn without_temp_paths(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let found = TEMP_PREFIXES
            .iter()
            .filter_map(|p| lower[i..].find(p).map(|at| i + at))
            .min();
        let Some(at) = found else { break };
        out.push_str(&line[i..at]);
        out.push_str("<tmp>");
        // Skip the prefix's drive colon (`c:\`), then the path.
        let start = at + 3;
        let end = line[start..]
            .find(|c: char| c.is_whitespace() || "'\"`()[]<>,:".contains(c))
            .map_or(line.len(), |k| start + k);
        i = end;
    }
    out.push_str(&line[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(lines: &[&str]) -> String {
        let lines: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        fingerprint(
            "CI",
            &[FailedJob {
                job: "test",
                step: "Run cargo test",
                error_lines: &lines,
            }],
        )
    }

    #[test]
    fn run_to_run_noise_is_normalized() {
        assert_eq!(
            normalize("2024-05-01T10:00:00.1Z ##[error]thread 'main' panicked at src/lib.rs:12:5"),
            "thread 'main' panicked at src/lib.rs:<n>:<n>"
        );
        assert_eq!(
            normalize("cannot open /tmp/.tmpXa81Qz/out.txt: denied"),
            "cannot open <tmp>: denied"
        );
        assert_eq!(normalize("D:\\a\\_temp\\9f2c1e.ps1 failed"), "<tmp> failed");
        assert_eq!(
            normalize("commit 1a2b3c4d5e6f run 550e8400-e29b-41d4-a716-446655440000 done"),
            "commit <hash> run <uuid> done"
        );
        assert_eq!(normalize("  a \t  b  "), "a b");
        assert_eq!(normalize("deadbeef"), "deadbeef", "a word, not a hash");
        // Found by the property test: a long number is a number, not a hash.
        assert_eq!(normalize("exit 1000000"), normalize("exit 0"));
    }

    #[test]
    fn the_same_failure_is_the_same_and_a_different_one_is_not() {
        let a = one(&[
            "##[error]expected 3 got 4 in /tmp/abc/x.rs",
            "at 0xdeadbeef1",
        ]);
        let b = one(&[
            "##[error]expected 7 got 9 in /tmp/zzz/x.rs",
            "at 0xcafe12345",
        ]);
        assert_eq!(a, b);
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, one(&["##[error]file not found: Cargo.lock"]));
        let lines = vec!["x".to_string()];
        let job = |job, step| FailedJob {
            job,
            step,
            error_lines: &lines,
        };
        assert_ne!(
            fingerprint("CI", &[job("test", "a")]),
            fingerprint("CI", &[job("test", "b")])
        );
        assert_ne!(
            fingerprint("CI", &[job("test", "a")]),
            fingerprint("Lint", &[job("test", "a")])
        );
        assert_eq!(
            fingerprint("CI", &[job("x", "a"), job("y", "b")]),
            fingerprint("CI", &[job("y", "b"), job("x", "a")]),
            "order of jobs"
        );
        // Only the first lines count.
        let many: Vec<String> = (0..10).map(|i| format!("e{i}x")).collect();
        let mut more = many.clone();
        more[ERROR_LINES + 1] = "something else".into();
        let f = |l: &[String]| {
            fingerprint(
                "CI",
                &[FailedJob {
                    job: "j",
                    step: "s",
                    error_lines: l,
                }],
            )
        };
        assert_eq!(f(&many), f(&more));
    }

    proptest! {
        #[test]
        fn noise_does_not_change_it(
            words in proptest::collection::vec("[a-z]{2,8}", 1..6),
            n1 in any::<u32>(), n2 in any::<u32>(),
            h1 in "[0-9a-f]{39}", h2 in "[0-9a-f]{39}",
            t1 in "[A-Za-z0-9]{1,12}", t2 in "[A-Za-z0-9]{1,12}",
        ) {
            let text = words.join(" ");
            let line = |n: u32, h: &str, t: &str| {
                format!("2024-01-01T00:00:00Z ##[error]{text} {n} at 1{h} in /tmp/{t}/f.txt")
            };
            prop_assert_eq!(one(&[&line(n1, &h1, &t1)]), one(&[&line(n2, &h2, &t2)]));
        }

        #[test]
        fn different_words_differ(a in "[a-z]{3,12}", b in "[a-z]{3,12}") {
            prop_assume!(a != b);
            prop_assert_ne!(one(&[&format!("error: {a}")]), one(&[&format!("error: {b}")]));
        }
    }
}
