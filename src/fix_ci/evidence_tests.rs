use super::super::lines::{REDACTION_BLOCK, REDACTION_WINDOW_MIN};
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
        // Tails (3 × cap), error context (cap + a line), recent lines, the
        // partial line and the redaction window (its lines counted with
        // their newlines): MAX_HELD, a constant whatever the input's size.
        // (A bound without the window failed by one byte once the window
        // held lines too.)
        prop_assert!(x.peak_held() <= MAX_HELD, "{} > {MAX_HELD}", x.peak_held());
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

/// A redactor that also knows a secret's form wrapped across lines, as
/// h-redact's base64 matching will: here a plain two-line form stands for
/// it, so the test checks that the excerpter hands the redactor the text
/// of adjacent lines together, whatever forms it knows.
fn wrapped_redactor(first: &str, second: &str) -> Redactor {
    Redactor::new().with(&format!("{first}\n{second}"))
}

#[test]
fn a_secret_across_lines_is_redacted_before_any_line_is_kept() {
    let (a, b) = ("c2VjcmV0LXBhcnQtb25l", "c2VjcmV0LXBhcnQtdHdv");
    let redactor = wrapped_redactor(a, b);
    // Either half alone is no secret to the redactor: only the two lines
    // together are. Around it, enough output to cross several releases.
    for at in [0usize, 1, 500, 3000, 5999] {
        let mut out: Vec<String> = (0..6000).map(|i| format!("filler line {i:05}")).collect();
        out.insert(at, format!("2024-05-01T10:00:11.0000000Z {b}"));
        out.insert(at, format!("2024-05-01T10:00:11.0000000Z key: {a}"));
        // An error right after: the secret's lines are its context.
        out.insert(at + 2, "##[error]failed".into());
        let refs: Vec<&str> = out.iter().map(String::as_str).collect();
        let text = log(&refs);
        for chunk in [7usize, 4096, text.len()] {
            let mut x = LogExcerpter::new(StepTarget::locate(STEPS, 3), redactor.clone());
            for c in text.as_bytes().chunks(chunk) {
                x.push(c);
            }
            // A cap large enough to show every line near the secret.
            let e = x.finish(1 << 20);
            assert!(
                !e.text.contains(a) && !e.text.contains(b),
                "at {at}, chunk {chunk}"
            );
            assert!(
                e.text.contains("key: ***\n"),
                "at {at}: the lines joined, redacted"
            );
        }
    }
}

#[test]
fn the_window_releases_lines_only_at_a_boundary_no_secret_crosses() {
    let secret_lines: Vec<String> = (0..40)
        .map(|i| format!("{i:02}{}", "Q".repeat(74)))
        .collect();
    let redactor = Redactor::new().with(&secret_lines.join("\n"));
    // The secret's 40 lines (3 KB) placed across each release boundary.
    for offset in (0..60).step_by(7) {
        let mut w = RedactingLines::new(redactor.clone());
        let mut out = Vec::new();
        let filler = (REDACTION_BLOCK + REDACTION_WINDOW_MIN) / 20 - offset;
        for i in 0..filler {
            w.push(&format!("f{i:017}"), |l| out.push(l.to_string()));
        }
        for l in &secret_lines {
            w.push(l, |l| out.push(l.to_string()));
        }
        for i in 0..5000 {
            w.push(&format!("g{i:017}"), |l| out.push(l.to_string()));
            assert!(w.held() <= REDACTION_HELD_MAX);
        }
        w.finish(|l| out.push(l.to_string()));
        let all = out.join("\n");
        assert!(!all.contains(&"Q".repeat(74)), "offset {offset}");
        assert_eq!(out.iter().filter(|l| l.as_str() == "***").count(), 1);
        assert_eq!(out.len(), filler + 1 + 5000, "nothing lost");
    }
}
