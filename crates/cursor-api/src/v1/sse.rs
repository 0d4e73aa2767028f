//! An incremental `text/event-stream` parser, per the WHATWG rules
//! (<https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>):
//! lines end with CRLF, LF or CR; a leading BOM is dropped; `:` starts a
//! comment; `data` lines join with `\n`; `id` sets the last event id (not if
//! it contains NUL); `retry` takes digits only; a blank line dispatches; an
//! event cut off by the end of the stream is discarded.
//!
//! It is fed bytes as they arrive, split anywhere (inside a UTF-8 character,
//! between the CR and LF of a CRLF): lines are assembled as bytes and decoded
//! only when complete, so a split never changes what comes out.
//!
//! Hand-written on purpose: it is about 200 lines, and the crates that parse
//! SSE either own the connection (reconnecting on their own schedule, where the
//! follower must decide when and how to resume: `Last-Event-ID`, backoff, the
//! deadline, cancellation) or skip WHATWG details the recorded streams need
//! (bare CR line ends, a split CRLF, the NUL rule for `id`, a cut-off last
//! event). The tests below hold it to those cases.

/// No line or event body may grow past this: a stream that does is broken
/// (the largest recorded record is 7.7 KB; tool output is truncated server
/// side). Same bound as the client's largest JSON response.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `id:` field given in this event's own lines, if any. (Cursor's
    /// `status` and `heartbeat` events carry none.)
    pub id: Option<String>,
    /// The last event id after this event (WHATWG `lastEventId`): this
    /// event's own id, or the one before it.
    pub last_event_id: String,
    /// The `event:` field; `message` when absent.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// The stream broke the parser's bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("event stream record larger than {MAX_EVENT_BYTES} bytes")]
    TooLarge,
}

#[derive(Debug, Default, Clone)]
pub struct SseParser {
    line: Vec<u8>,
    /// The last byte seen ended a line with CR: a following LF is its pair.
    after_cr: bool,
    /// Bytes of the stream seen so far, up to 3 (for the BOM).
    started: bool,
    bom: Vec<u8>,
    data: String,
    has_data: bool,
    event: String,
    id: Option<String>,
    last_event_id: String,
    retry_ms: Option<u64>,
    event_bytes: usize,
}

const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser that starts from a known last event id (a resumed stream).
    pub fn resuming(last_event_id: &str) -> Self {
        Self {
            last_event_id: last_event_id.to_string(),
            ..Self::default()
        }
    }

    /// The last event id seen (WHATWG: persists across events).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time the stream asked for (`retry:`), if any.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// Feeds `bytes`; returns the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut out = Vec::new();
        let mut rest = bytes;
        if !self.started {
            // The BOM may itself arrive split: hold bytes until it is decided.
            while !rest.is_empty() && self.bom.len() < 3 {
                let b = rest[0];
                if b == BOM[self.bom.len()] {
                    self.bom.push(b);
                    rest = &rest[1..];
                } else {
                    break;
                }
            }
            if self.bom.len() == 3 {
                self.started = true;
                self.bom.clear();
            } else if rest.is_empty() {
                return Ok(out);
            } else {
                // Not a BOM after all: its bytes are content.
                self.started = true;
                let held = std::mem::take(&mut self.bom);
                self.bytes(&held, &mut out)?;
            }
        }
        self.bytes(rest, &mut out)?;
        Ok(out)
    }

    /// The end of the stream: a partly received event is discarded.
    pub fn finish(&mut self) {
        self.line.clear();
        self.bom.clear();
        self.reset_event();
    }

    fn bytes(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' if self.after_cr => {
                    self.after_cr = false;
                    start = i + 1;
                }
                b'\n' | b'\r' => {
                    self.push_line_part(&bytes[start..i])?;
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.line_done(&line, out)?;
                    start = i + 1;
                }
                _ => self.after_cr = false,
            }
        }
        self.push_line_part(&bytes[start..])
    }

    fn push_line_part(&mut self, part: &[u8]) -> Result<(), SseError> {
        if self.line.len() + part.len() > MAX_EVENT_BYTES {
            self.line.clear();
            self.reset_event();
            return Err(SseError::TooLarge);
        }
        self.line.extend_from_slice(part);
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.find(':') {
            Some(at) => {
                let v = &line[at + 1..];
                (&line[..at], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&line[..], ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                self.event_bytes += value.len() + 1;
                if self.event_bytes > MAX_EVENT_BYTES {
                    self.reset_event();
                    return Err(SseError::TooLarge);
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => {
                self.last_event_id = value.to_string();
                self.id = Some(value.to_string());
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data {
            let mut data = std::mem::take(&mut self.data);
            data.pop(); // the trailing '\n'
            let event = std::mem::take(&mut self.event);
            out.push(SseEvent {
                id: self.id.take(),
                last_event_id: self.last_event_id.clone(),
                event: if event.is_empty() {
                    "message".into()
                } else {
                    event
                },
                data,
            });
        }
        self.reset_event();
    }

    fn reset_event(&mut self) {
        self.data.clear();
        self.has_data = false;
        self.event.clear();
        self.id = None;
        self.event_bytes = 0;
    }
}

/// Parses a whole stream at once (tests, fuzzing): the events and whether
/// the bounds held.
pub fn parse_all(bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
    let mut p = SseParser::new();
    let events = p.feed(bytes)?;
    p.finish();
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: Option<&str>, last: &str, event: &str, data: &str) -> SseEvent {
        SseEvent {
            id: id.map(String::from),
            last_event_id: last.into(),
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn whatwg_basics() {
        let s = b"\xEF\xBB\xBFdata: a\r\ndata:b\rid: 7\n\n: comment\nevent: x\ndata\n\nretry: 1500\nretry: 1.5\n\ndata: c";
        let got = parse_all(s).unwrap();
        assert_eq!(
            got,
            vec![
                ev(Some("7"), "7", "message", "a\nb"),
                ev(None, "7", "x", "")
            ]
        );
        let mut p = SseParser::new();
        p.feed(b"retry: 1500\nretry: 1.5\n\n").unwrap();
        assert_eq!(p.retry_ms(), Some(1500));
    }

    #[test]
    fn blank_events_and_nul_ids_are_ignored() {
        let got = parse_all(b"id: 1\n\nid: a\0b\ndata: x\n\nevent: e\n\n").unwrap();
        assert_eq!(got, vec![ev(None, "1", "message", "x")]);
    }

    #[test]
    fn a_bom_only_at_the_start_and_a_near_bom_is_content() {
        let got = parse_all(b"\xEF\xBBdata: x\n\n").unwrap();
        assert_eq!(got.len(), 0, "a broken BOM makes the first field unknown");
        let got = parse_all(b"data: \xEF\xBB\xBFx\n\n").unwrap();
        assert_eq!(got[0].data, "\u{FEFF}x");
        let mut p = SseParser::new();
        assert!(p.feed(b"\xEF").unwrap().is_empty());
        assert!(p.feed(b"\xBB").unwrap().is_empty());
        assert_eq!(p.feed(b"\xBFdata: y\n\n").unwrap()[0].data, "y");
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let mut p = SseParser::new();
        assert!(p.feed(b"data: a\r").unwrap().is_empty());
        // The LF completes the CRLF, it is not a blank line.
        assert!(p.feed(b"\n").unwrap().is_empty());
        assert_eq!(p.feed(b"\r\n").unwrap()[0].data, "a");
    }

    #[test]
    fn oversized_records_are_refused() {
        let mut p = SseParser::new();
        let big = vec![b'x'; MAX_EVENT_BYTES + 1];
        assert_eq!(p.feed(&big), Err(SseError::TooLarge));
        assert_eq!(p.feed(b"\ndata: ok\n\n").unwrap()[0].data, "ok");
    }
}
