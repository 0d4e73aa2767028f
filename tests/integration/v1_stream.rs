//! The v1 run stream: the recorded streams of `cursor-api.md` §8.5.7 (kept
//! byte for byte in `tests/fixtures/v1-streams/`) through the SSE parser, and
//! any split of their bytes yields the same events.

use cursor_agent_action::cursor::v1::sse::{SseEvent, SseParser, parse_all};
use proptest::prelude::*;

const FIXTURES: &[&str] = &[
    "no_tools.sse",
    "multi_turn_2_opening.sse",
    "multi_turn_2_ending.sse",
    "cancelled_ending.sse",
    "docs_example.sse",
];

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v1-streams")
        .join(name);
    std::fs::read(path).unwrap()
}

/// The recording as the server sent it: a Markdown code block cannot show
/// the blank line that ends the last event.
fn as_sent(name: &str) -> Vec<u8> {
    let mut b = fixture(name);
    b.push(b'\n');
    b
}

fn json(e: &SseEvent) -> serde_json::Value {
    serde_json::from_str(&e.data).unwrap_or_else(|err| panic!("{e:?}: {err}"))
}

#[test]
fn every_recorded_event_is_parsed_with_its_payload() {
    for name in FIXTURES {
        let bytes = as_sent(name);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let events = parse_all(&bytes).unwrap();
        let declared = text.lines().filter(|l| l.starts_with("event: ")).count();
        assert_eq!(events.len(), declared, "{name}");
        for e in &events {
            json(e);
            let has_id_line = text.contains(&format!(
                "id: {}\nevent: {}\ndata: {}\n",
                e.last_event_id, e.event, e.data
            ));
            assert_eq!(e.id.is_some(), has_id_line, "{name}: {e:?}");
        }
        // Cut off by the end of the stream, the last event is discarded (WHATWG).
        let cut = parse_all(&fixture(name)).unwrap();
        assert_eq!(cut.len(), declared - 1, "{name}");
        assert_eq!(&cut[..], &events[..declared - 1]);
    }
}

#[test]
fn the_no_tool_run_reads_as_recorded() {
    let events = parse_all(&as_sent("no_tools.sse")).unwrap();
    let first = &events[0];
    assert_eq!(
        (first.event.as_str(), first.id.as_deref()),
        ("status", None)
    );
    assert_eq!(json(first)["status"], "RUNNING");
    let thinking: String = events
        .iter()
        .filter(|e| e.event == "thinking")
        .map(|e| json(e)["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        thinking,
        "The user wants the capital of France in one word.\n\nThe capital of France is Paris."
    );
    // Twins share an id: each thinking/assistant event has an interaction_update
    // with the same id right behind it.
    for (i, e) in events.iter().enumerate() {
        if e.event == "thinking" || e.event == "assistant" {
            let twin = &events[i + 1];
            assert_eq!(
                (twin.event.as_str(), &twin.id),
                ("interaction_update", &e.id)
            );
        }
    }
    let n = events.len();
    let (status, result, done) = (&events[n - 3], &events[n - 2], &events[n - 1]);
    assert_eq!(
        (status.event.as_str(), status.id.as_deref()),
        ("status", None)
    );
    assert_eq!(json(status)["status"], "FINISHED");
    // An id-less event keeps the last id seen (WHATWG lastEventId).
    assert_eq!(status.last_event_id, "1787331051674-0");
    assert_eq!(result.event, "result");
    assert_eq!(json(result)["text"], "Paris");
    assert_eq!(done.event, "done");
    assert_eq!(result.id.as_deref(), Some("1787331057248-0"));
    assert_eq!(done.id, result.id);
}

#[test]
fn the_cancelled_ending_says_finished_then_cancelled_without_text() {
    let events = parse_all(&as_sent("cancelled_ending.sse")).unwrap();
    let status = events.iter().find(|e| e.event == "status").unwrap();
    assert_eq!(json(status)["status"], "FINISHED");
    let result = events.iter().find(|e| e.event == "result").unwrap();
    assert_eq!(json(result)["status"], "CANCELLED");
    assert!(json(result).get("text").is_none());
}

#[test]
fn the_follow_up_opens_creating_then_running() {
    let events = parse_all(&as_sent("multi_turn_2_opening.sse")).unwrap();
    let statuses: Vec<_> = events
        .iter()
        .filter(|e| e.event == "status")
        .map(|e| json(e)["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["CREATING", "RUNNING"]);
}

fn feed_split(bytes: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
    let mut p = SseParser::new();
    let mut out = Vec::new();
    let mut at = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    for c in cuts.into_iter().chain([bytes.len()]) {
        out.extend(p.feed(&bytes[at..c]).unwrap());
        at = c;
    }
    p.finish();
    out
}

/// The same stream with other line ends (CRLF, CR) and a BOM.
fn variant(bytes: &[u8], which: u8) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    match which % 4 {
        0 => bytes.to_vec(),
        1 => text.replace('\n', "\r\n").into_bytes(),
        2 => text.replace('\n', "\r").into_bytes(),
        _ => [b"\xEF\xBB\xBF".as_slice(), bytes].concat(),
    }
}

proptest! {
    #[test]
    fn any_split_yields_the_same_events(
        which in 0usize..FIXTURES.len(),
        ends in 0u8..4,
        cuts in proptest::collection::vec(0usize..4096, 0..40),
        hostile in "[ -~é€😀\n\r:]{0,40}",
    ) {
        let mut bytes = variant(&as_sent(FIXTURES[which]), ends);
        // A record with multi-byte characters and stray line ends, so cuts
        // land inside UTF-8 sequences and CRLF pairs.
        bytes.extend_from_slice(format!("data: {hostile}\n\n").as_bytes());
        let whole = parse_all(&bytes).unwrap();
        prop_assert!(whole.len() >= 2);
        prop_assert_eq!(feed_split(&bytes, &cuts), whole);
        // Byte by byte, the worst split.
        let every: Vec<usize> = (0..bytes.len()).collect();
        prop_assert_eq!(feed_split(&bytes, &every), parse_all(&bytes).unwrap());
    }
}
