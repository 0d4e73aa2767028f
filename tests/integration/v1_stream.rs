//! The v1 run stream: the recorded streams of `cursor-api.md` §8.5.7 (kept
//! byte for byte in `tests/fixtures/v1-streams/`) through the SSE parser, and
//! any split of their bytes yields the same events.

use cursor_api::v1::sse::{SseEvent, SseParser, parse_all};
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

// ---- the follower, against the simulator, in virtual time ----

use crate::support::cancel_after;
use crate::support::{create_request, v1_setup};
use cursor_api::v1::{RunStatus, V1Client};
use cursor_api::wait::schedule::PollSchedule;
use cursor_api::wait::stream::*;
use kit::cancel::Cancel;
use sim::{Simulators, V1Scenario};
use std::time::Duration;

const ANSWER: &str = "Fixed the failing test and opened a pull request.";

struct Followed {
    sims: Simulators,
    events: Vec<StreamEvent>,
    end: StreamEnd,
    requests: u32,
    secs: f64,
}

impl Followed {
    fn assistant(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Assistant(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    fn count(&self, f: impl Fn(&StreamEvent) -> bool) -> usize {
        self.events.iter().filter(|e| f(e)).count()
    }

    fn ended(&self) -> (&cursor_api::v1::Run, Option<&str>, bool) {
        match &self.end {
            StreamEnd::Ended {
                run,
                text,
                confirmed,
            } => (run, text.as_deref(), *confirmed),
            other => panic!("not ended: {other:?}; events {:?}", self.events),
        }
    }

    /// Requests to the run (reads and stream connects), by path suffix.
    fn logged(&self, suffix: &str) -> Vec<f64> {
        self.sims
            .cursor
            .requests()
            .iter()
            .filter(|r| r.path.contains("/runs/") && r.path.ends_with(suffix))
            .map(|r| r.at_ms as f64 / 1000.0)
            .collect()
    }

    fn reads(&self) -> Vec<f64> {
        self.sims
            .cursor
            .requests()
            .iter()
            .filter(|r| {
                r.method == "GET" && r.path.contains("/runs/run-") && !r.path.ends_with("/stream")
            })
            .map(|r| r.at_ms as f64 / 1000.0)
            .collect()
    }
}

async fn follow(scenario: V1Scenario, timeout: u64, cancel: Cancel) -> Followed {
    let (sims, client, clock): (Simulators, V1Client, _) = v1_setup(scenario).await;
    let created = client.create_agent(&create_request(None)).await.unwrap();
    let now = clock.now();
    let config = StreamConfig {
        schedule: PollSchedule::new(Duration::from_secs(10), Duration::from_secs(60)),
        started: now,
        deadline: now + Duration::from_secs(timeout),
    };
    let mut f = StreamFollower::new(
        &client,
        &created.agent.id,
        &created.run.id,
        config,
        clock,
        cancel,
    );
    let mut events = Vec::new();
    let end = loop {
        match f.next().await {
            StreamEvent::Done(end) => break end,
            e => events.push(e),
        }
    };
    let requests = f.requests();
    drop(f);
    Followed {
        secs: clock.now().saturating_since(now).as_secs_f64(),
        sims,
        events,
        end,
        requests,
    }
}

fn tool_calls(f: &Followed) -> usize {
    f.count(|e| matches!(e, StreamEvent::ToolCall { .. }))
}

#[tokio::test(start_paused = true)]
async fn a_run_is_followed_end_to_end_on_one_connection() {
    let f = follow(V1Scenario::lasting(3, 30), 3600, Cancel::new()).await;
    let (run, text, confirmed) = f.ended();
    assert_eq!(run.status, RunStatus::Finished);
    assert_eq!(text, Some(ANSWER));
    assert!(confirmed);
    assert_eq!(f.assistant(), ANSWER, "activity once, twins ignored");
    assert_eq!(tool_calls(&f), 2, "announced, then completed");
    assert_eq!(f.requests, 1);
    assert_eq!(f.sims.cursor.v1().stream_connects(), vec![None]);
    assert!(f.reads().is_empty());
    // Noticed as the result came (3 s creating + 30 s running), not later.
    assert!((33.0..34.0).contains(&f.secs), "{}", f.secs);
}

#[tokio::test(start_paused = true)]
async fn drops_resume_with_the_last_event_id_and_no_activity_twice() {
    // Drops at different moments (ms after creation; RUNNING at 3 s, the
    // first event with an id at 3.001 s, the tool at 4-6 s, the final status
    // at 28 s and the result at 33 s): before any content, after the first
    // thinking, twice during the tool, between the final status and result.
    for drops in [
        vec![2_700u64],
        vec![3_700],
        vec![4_200, 5_200],
        vec![32_700],
    ] {
        let scenario = V1Scenario {
            drops: drops.iter().map(|ms| Duration::from_millis(*ms)).collect(),
            ..V1Scenario::lasting(3, 30)
        };
        let f = follow(scenario, 3600, Cancel::new()).await;
        let (run, text, _) = f.ended();
        assert_eq!(run.status, RunStatus::Finished, "{drops:?}");
        assert_eq!(text, Some(ANSWER));
        assert_eq!(
            f.assistant(),
            ANSWER,
            "{drops:?}: no duplicated or lost text"
        );
        assert_eq!(tool_calls(&f), 2, "{drops:?}");
        let connects = f.sims.cursor.v1().stream_connects();
        assert_eq!(connects.len(), drops.len() + 1, "{drops:?}: {connects:?}");
        // A resume names the last id seen; before any content there is none.
        let expect_id = drops[0] > 3_001;
        assert!(
            connects[1..]
                .iter()
                .all(|c| c.as_deref().is_some_and(|id| id.ends_with("-0")) == expect_id),
            "{drops:?}: {connects:?}"
        );
        assert!(f.count(|e| matches!(e, StreamEvent::Retrying { .. })) == drops.len());
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_stream_is_replaced_within_the_dead_limit() {
    for stall in [5u64, 100] {
        let scenario = V1Scenario {
            stall_at: Some(Duration::from_secs(stall)),
            heartbeat: None,
            ..V1Scenario::lasting(3, 600)
        };
        let f = follow(scenario, 3600, Cancel::new()).await;
        let (run, _, _) = f.ended();
        assert_eq!(run.status, RunStatus::Finished);
        assert_eq!(f.assistant(), ANSWER);
        let connects = f.logged("/stream");
        assert_eq!(connects.len(), 2, "{connects:?}");
        let noticed = connects[1] - stall as f64;
        assert!(
            noticed <= DEAD_AFTER.as_secs_f64() + 1.0,
            "noticed after {noticed}s"
        );
        assert!(f.sims.cursor.v1().stream_connects()[1].is_some(), "resumed");
    }
}

#[tokio::test(start_paused = true)]
async fn an_expired_or_unavailable_stream_falls_back_to_spaced_reads() {
    let expired = V1Scenario {
        expired: true,
        ..V1Scenario::lasting(3, 120)
    };
    let unavailable = V1Scenario {
        unavailable_head: 100,
        ..V1Scenario::lasting(3, 120)
    };
    for scenario in [expired, unavailable] {
        let f = follow(scenario, 3600, Cancel::new()).await;
        let (run, text, confirmed) = f.ended();
        assert_eq!(run.status, RunStatus::Finished);
        assert_eq!(text, Some(ANSWER), "from the run's result");
        assert!(confirmed);
        assert_eq!(
            f.count(|e| matches!(e, StreamEvent::FallingBack { .. })),
            1,
            "said once"
        );
        let reads = f.reads();
        assert!(!reads.is_empty());
        for w in reads.windows(2) {
            assert!(
                w[1] - w[0] >= MIN_READ_INTERVAL.as_secs_f64() - 0.01,
                "{reads:?}"
            );
        }
        // Noticed within one maximum poll interval of the end.
        assert!(f.secs <= 123.0 + 60.0, "{}", f.secs);
    }
}

#[tokio::test(start_paused = true)]
async fn a_refused_head_is_retried_briefly_as_409_or_as_a_first_error_event() {
    for as_event in [false, true] {
        let scenario = V1Scenario {
            unavailable_head: 3,
            unavailable_as_event: as_event,
            ..V1Scenario::lasting(3, 30)
        };
        let f = follow(scenario, 3600, Cancel::new()).await;
        let (run, _, _) = f.ended();
        assert_eq!(run.status, RunStatus::Finished);
        assert_eq!(
            f.count(|e| matches!(e, StreamEvent::FallingBack { .. })),
            0,
            "{as_event}"
        );
        let connects = f.logged("/stream");
        assert_eq!(connects.len(), 4, "{as_event}: {connects:?}");
        assert!(connects[3] - connects[0] < 2.0, "{connects:?}");
        assert_eq!(f.assistant(), ANSWER);
    }
}

#[tokio::test(start_paused = true)]
async fn a_finished_status_without_result_is_confirmed_by_one_read_after_the_quiet() {
    let scenario = V1Scenario {
        no_result: true,
        ..V1Scenario::lasting(3, 30)
    };
    let f = follow(scenario, 3600, Cancel::new()).await;
    let (run, text, confirmed) = f.ended();
    assert_eq!(run.status, RunStatus::Finished, "from the read");
    assert!(confirmed);
    assert_eq!(text, Some(ANSWER));
    let reads = f.reads();
    assert_eq!(reads.len(), 1, "{reads:?}");
    // The stream's terminal status came 5 s before the end (28 s): the read
    // waits for the quiet, never trusts the status alone.
    assert!(
        reads[0] >= 28.0 + QUIET_CONFIRM.as_secs_f64() - 0.1,
        "{reads:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn cancellation_ends_the_follow_within_five_seconds() {
    for at in [1u64, 20, 200] {
        let scenario = V1Scenario {
            heartbeat: None,
            silent_tool: Some((Duration::from_secs(5), Duration::from_secs(900))),
            ..V1Scenario::lasting(3, 1000)
        };
        let f = follow(scenario, 3600, cancel_after(Some(at), "SIGINT")).await;
        assert!(matches!(f.end, StreamEnd::Cancelled), "{:?}", f.end);
        assert!(f.secs <= at as f64 + 5.0, "{at}: {}", f.secs);
    }
}

#[tokio::test(start_paused = true)]
async fn a_run_silent_for_ten_minutes_costs_at_most_three_requests() {
    let scenario = V1Scenario {
        heartbeat: None,
        silent_tool: Some((Duration::from_secs(30), Duration::from_secs(600))),
        ..V1Scenario::lasting(3, 700)
    };
    let f = follow(scenario, 3600, Cancel::new()).await;
    let (run, text, _) = f.ended();
    assert_eq!(run.status, RunStatus::Finished);
    assert_eq!(text, Some(ANSWER));
    let all: Vec<f64> = f.logged("/stream").into_iter().chain(f.reads()).collect();
    assert_eq!(all.len() as u32, f.requests, "every request counted");
    let silent: Vec<&f64> = all.iter().filter(|t| (33.0..633.0).contains(*t)).collect();
    assert!(silent.len() <= 3, "{all:?}");
    // One connect at the start, one replacement per DEAD_AFTER of silence.
    assert_eq!(
        f.requests,
        1 + (600 / DEAD_AFTER.as_secs()) as u32,
        "{all:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn drops_during_a_long_silent_tool_never_give_up_the_stream() {
    // Found by the streaming benchmark: no event with an id comes while a
    // tool runs silently, so connections that each held for a minute must
    // not add up to "failed repeatedly" and a fall back to polling.
    let drops: Vec<Duration> = (1..=8)
        .map(|m| Duration::from_secs(3 + 30 + m * 60))
        .collect();
    let scenario = V1Scenario {
        heartbeat: None,
        silent_tool: Some((Duration::from_secs(30), Duration::from_secs(600))),
        drops: drops.clone(),
        ..V1Scenario::lasting(3, 700)
    };
    let f = follow(scenario, 3600, Cancel::new()).await;
    let (run, text, _) = f.ended();
    assert_eq!(run.status, RunStatus::Finished);
    assert_eq!(text, Some(ANSWER));
    assert_eq!(
        f.count(|e| matches!(e, StreamEvent::FallingBack { .. })),
        0,
        "the stream was given up"
    );
    assert_eq!(f.reads().len(), 0, "no run read while the stream holds");
    assert_eq!(
        f.sims.cursor.v1().stream_connects().len(),
        drops.len() + 1,
        "one resume per drop"
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_ends_a_follow_on_time() {
    let f = follow(V1Scenario::lasting(3, 1000), 120, Cancel::new()).await;
    assert!(matches!(f.end, StreamEnd::Deadline), "{:?}", f.end);
    assert!((119.0..=121.0).contains(&f.secs), "{}", f.secs);
}

#[tokio::test(start_paused = true)]
async fn a_refused_resume_point_restarts_from_the_start_and_skips_what_was_seen() {
    use sim::{Fault, FaultRule};
    let scenario = V1Scenario {
        drops: vec![Duration::from_millis(29_000)],
        ..V1Scenario::lasting(3, 30)
    };
    let (sims, client, clock) = v1_setup(scenario).await;
    let created = client.create_agent(&create_request(None)).await.unwrap();
    let now = clock.now();
    let config = StreamConfig {
        schedule: PollSchedule::new(Duration::from_secs(10), Duration::from_secs(60)),
        started: now,
        deadline: now + Duration::from_secs(600),
    };
    // After the first connect: the resume is refused once.
    let cursor = sims.cursor.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        cursor.add_fault(FaultRule::new(
            "GET",
            "/v1/agents/*/runs/*/stream",
            Fault::Status {
                status: 400,
                body: Some(r#"{"error":{"code":"invalid_last_event_id","message":"Last-Event-ID must refer to an event within the requested run"}}"#.into()),
                retry_after: None,
                headers: vec![],
            },
        ));
    });
    let mut f = StreamFollower::new(
        &client,
        &created.agent.id,
        &created.run.id,
        config,
        clock,
        Cancel::new(),
    );
    let mut text = String::new();
    let mut tools = 0;
    let end = loop {
        match f.next().await {
            StreamEvent::Done(end) => break end,
            StreamEvent::Assistant(t) => text.push_str(&t),
            StreamEvent::ToolCall { .. } => tools += 1,
            _ => {}
        }
    };
    assert!(matches!(end, StreamEnd::Ended { .. }), "{end:?}");
    assert_eq!(text, ANSWER, "the full replay is deduplicated");
    assert_eq!(tools, 2);
    let streams: Vec<u16> = sims
        .cursor
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/stream"))
        .map(|r| r.status)
        .collect();
    assert_eq!(
        streams,
        vec![200, 400, 200],
        "drop, refused resume, restart"
    );
    // The restart asks for everything (no Last-Event-ID).
    assert_eq!(sims.cursor.v1().stream_connects(), vec![None, None]);
}

/// A follower on `client` for `agent`/`run`, run to its end.
async fn follow_with(
    client: &V1Client,
    agent: &str,
    run: &str,
    timeout: u64,
) -> (Vec<StreamEvent>, StreamEnd, u32) {
    let clock = client.clock();
    let now = clock.now();
    let config = StreamConfig {
        schedule: PollSchedule::new(Duration::from_secs(10), Duration::from_secs(60)),
        started: now,
        deadline: now + Duration::from_secs(timeout),
    };
    let mut f = StreamFollower::new(client, agent, run, config, clock, Cancel::new());
    let mut events = Vec::new();
    let end = loop {
        match f.next().await {
            StreamEvent::Done(end) => break end,
            e => events.push(e),
        }
    };
    (events, end, f.requests())
}

#[tokio::test]
async fn the_recorded_streams_pass_through_the_follower() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let agent = "bc-5012b32d-8b28-43b8-853f-da1aeba60415";
    for (name, run, status, text) in [
        (
            "no_tools.sse",
            "run-3f18821e-16c5-4408-a9a1-222812408ac7",
            RunStatus::Finished,
            Some("Paris"),
        ),
        (
            "cancelled_ending.sse",
            "run-07889397-7e96-457b-9400-cecfd02ae48e",
            RunStatus::Cancelled,
            None,
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(format!("/v1/agents/{agent}/runs/{run}/stream")))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(as_sent(name), "text/event-stream"),
            )
            .expect(1)
            .mount(&server)
            .await;
        let client = V1Client::new(
            crate::support::http(),
            &url::Url::parse(&server.uri()).unwrap(),
            &kit::secret::Secret::new(crate::support::KEY),
            cursor_api::AuthScheme::Bearer,
            kit::clock::Clock::real(),
        );
        let (events, end, requests) = follow_with(&client, agent, run, 60).await;
        let StreamEnd::Ended {
            run: r,
            text: t,
            confirmed,
        } = end
        else {
            panic!("{name}: {end:?}");
        };
        assert_eq!(
            r.status, status,
            "{name}: from result, not the last status (FINISHED)"
        );
        assert_eq!(t.as_deref(), text, "{name}");
        assert!(confirmed);
        assert_eq!(r.git.unwrap().branches.len(), 1);
        assert_eq!(requests, 1, "{name}: no read needed when result came");
        let assistant: String = events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Assistant(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            assistant,
            text.unwrap_or(""),
            "{name}: twins never double activity"
        );
        let statuses: Vec<&RunStatus> = events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Status(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(statuses.last(), Some(&&status), "{name}: {statuses:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_run_cancelled_elsewhere_ends_cancelled_though_its_last_status_says_finished() {
    let (_sims, client, clock) = v1_setup(V1Scenario::lasting(3, 300)).await;
    let created = client.create_agent(&create_request(None)).await.unwrap();
    let (agent, run) = (created.agent.id.clone(), created.run.id.clone());
    let canceller = client.clone();
    let (a, r) = (agent.clone(), run.clone());
    tokio::spawn(async move {
        clock.sleep(Duration::from_secs(20)).await;
        canceller.cancel_run(&a, &r).await.unwrap();
    });
    let (events, end, requests) = follow_with(&client, &agent, &run, 600).await;
    let StreamEnd::Ended { run: r, text, .. } = end else {
        panic!("{end:?}");
    };
    assert_eq!(r.status, RunStatus::Cancelled);
    assert_eq!(text, None);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, StreamEvent::Status(RunStatus::Finished)))
    );
    assert_eq!(requests, 1);
}

#[tokio::test(start_paused = true)]
async fn fallback_reads_honour_retry_after() {
    use sim::{Fault, FaultRule};
    let (sims, client, _) = v1_setup(V1Scenario {
        expired: true,
        ..V1Scenario::lasting(3, 300)
    })
    .await;
    let created = client.create_agent(&create_request(None)).await.unwrap();
    let mut rule = FaultRule::new("GET", "/v1/agents/*/runs/*", Fault::rate_limited(Some(45)));
    rule.times = 1;
    sims.cursor.add_fault(rule);
    let (_, end, _) = follow_with(&client, &created.agent.id, &created.run.id, 900).await;
    assert!(matches!(end, StreamEnd::Ended { .. }), "{end:?}");
    let reads: Vec<(f64, u16)> = sims
        .cursor
        .requests()
        .iter()
        .filter(|r| {
            r.method == "GET" && r.path.contains("/runs/run-") && !r.path.ends_with("/stream")
        })
        .map(|r| (r.at_ms as f64 / 1000.0, r.status))
        .collect();
    assert_eq!(reads[0].1, 429, "{reads:?}");
    assert!(reads[1].0 - reads[0].0 >= 45.0 - 0.01, "{reads:?}");
}

#[tokio::test(start_paused = true)]
async fn a_buffering_proxy_is_noticed_and_the_run_is_read_instead() {
    let scenario = V1Scenario {
        buffered: true,
        ..V1Scenario::lasting(3, 300)
    };
    let f = follow(scenario, 3600, Cancel::new()).await;
    let (run, text, _) = f.ended();
    assert_eq!(run.status, RunStatus::Finished);
    assert_eq!(text, Some(ANSWER));
    let reasons: Vec<&str> = f
        .events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::FallingBack { reason } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 1, "said once: {reasons:?}");
    assert!(reasons[0].contains("buffering"), "{reasons:?}");
    // Two byte-less connections of BUFFERED_AFTER each, then reads.
    let connects = f.logged("/stream");
    assert_eq!(connects.len(), 2, "{connects:?}");
    let reads = f.reads();
    assert!(
        reads[0] >= 2.0 * BUFFERED_AFTER.as_secs_f64() - 0.1,
        "{reads:?}"
    );
    assert!(f.secs <= 303.0 + 60.0, "{}", f.secs);
}
