//! What the agent is doing, from its v1 run stream: the latest assistant
//! message (first lines) and the last few tool calls as plain activity lines
//! ("Read `README.md`", "Ran `cargo test`") with a count of the rest, for the
//! live comment, the job log and the step summary's timeline.
//!
//! Fed either with the stream follower's events ([`Activity::observe`]) or
//! with raw SSE events ([`Activity::feed_sse`], which also sees tool
//! arguments). Only `status`, `assistant`, `tool_call` and `result` count:
//! `interaction_update` twins are ignored, so activity is never doubled, and
//! an event replayed after a reconnect (same id, event and data) is taken
//! once. A tool call is one call however many frames (`running`,
//! `completed`) it sends.
//!
//! Every piece is untrusted (`cursor-api.md` §8.5.6): tool names, arguments,
//! call ids (which may hold a newline) and assistant text. The Markdown goes
//! through [`crate::markdown`] (no mention, HTML, link, marker or fence
//! escapes); log lines are one line each, controls stripped, and always start
//! with our own prefix, so none can pose as a workflow command. Print them
//! with `Console::info` (which also redacts secrets). Every piece is cut
//! with the run's redactor (given when the activity is built), so no cut
//! shows the start of a secret.
//!
//! It speaks the v1 stream's own vocabulary (`cursor_api`'s `SseEvent`,
//! `StreamEvent`, `RunStatus`), not the seam's [`crate::agent::AgentRun`]:
//! only v1 tells activity ([`crate::agent::Tells`]), the recorded streams
//! are replayed through it as they came, and an agent-owned copy of the
//! stream's events would have nothing to abstract over.
//!
//! [`EditThrottle`] is the comment's edit policy: at most one edit per
//! [`EDIT_EVERY`] while running, at once on a status change, always at the end.

mod render;
mod throttle;
mod tool;

pub use throttle::EditThrottle;
pub use tool::{ToolActivity, ToolKind};

use cursor_api::v1::RunStatus;
use cursor_api::v1::sse::SseEvent;
use cursor_api::wait::stream::StreamEvent;
use kit::clock::Moment;
use kit::secret::Redactor;
use serde_json::Value;
use std::collections::{HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

/// Tool calls shown; older ones are counted.
pub const RECENT_TOOLS: usize = 5;
/// Lines of the latest assistant message shown.
pub const MESSAGE_LINES: usize = 3;
/// Characters per shown message line.
pub const MESSAGE_LINE_CHARS: usize = 200;
/// Characters of a tool's target (path, command, query) shown.
pub const TARGET_CHARS: usize = 80;
/// Characters of an unknown tool's name shown.
pub const TOOL_NAME_CHARS: usize = 40;
/// Bytes of the current assistant message kept (only its start is shown).
pub const MESSAGE_KEEP_BYTES: usize = 8 * 1024;
/// Characters per log line.
pub const LOG_LINE_CHARS: usize = 300;
/// The comment is edited at most this often while the run goes on.
pub const EDIT_EVERY: Duration = Duration::from_secs(10);

/// What an event changed, for the edit throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Nothing visible.
    None,
    /// Activity (a message, a tool call).
    Content,
    /// The run's status changed.
    Status,
}

/// One status change, for the step summary's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub at: Moment,
    pub status: RunStatus,
}

/// The accumulated picture of a run.
#[derive(Debug, Clone)]
pub struct Activity {
    /// The run's: every cut of untrusted text goes through it.
    redactor: Redactor,
    status: Option<RunStatus>,
    message: String,
    /// The next assistant delta starts a new message (a tool call came).
    message_closed: bool,
    tools: VecDeque<ToolActivity>,
    tool_calls: u64,
    calls_seen: HashSet<u64>,
    events_seen: HashSet<u64>,
    timeline: Vec<StatusChange>,
    first_activity: Option<Moment>,
    last_activity: Option<Moment>,
    /// Log text not yet handed out: a partial assistant line.
    log_partial: String,
    /// The current line was too long and its start was logged: the rest of
    /// it, up to its line break, is dropped (never logged as a fragment that
    /// could start inside a secret).
    log_skip_line: bool,
    log_ready: Vec<String>,
}

fn hash_of(parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// One line, controls and invisibles gone, secrets redacted, then at most
/// `max` characters.
fn shorten(redactor: &Redactor, text: &str, max: usize) -> String {
    cursor_api::one_line(redactor, text, max)
}

impl Activity {
    /// `redactor`: the run's (the console's), with every secret of the run.
    pub fn new(redactor: Redactor) -> Self {
        Self {
            redactor,
            status: None,
            message: String::new(),
            message_closed: false,
            tools: VecDeque::new(),
            tool_calls: 0,
            calls_seen: HashSet::new(),
            events_seen: HashSet::new(),
            timeline: Vec::new(),
            first_activity: None,
            last_activity: None,
            log_partial: String::new(),
            log_skip_line: false,
            log_ready: Vec::new(),
        }
    }

    /// The run's status as last seen.
    pub fn status(&self) -> Option<&RunStatus> {
        self.status.as_ref()
    }

    /// Tool calls seen (each once).
    pub fn tool_calls(&self) -> u64 {
        self.tool_calls
    }

    /// The last [`RECENT_TOOLS`] tool calls, oldest first.
    pub fn recent_tools(&self) -> impl Iterator<Item = &ToolActivity> {
        self.tools.iter()
    }

    /// The latest assistant message (untrusted; at most
    /// [`MESSAGE_KEEP_BYTES`]): secrets redacted, then cut, and a tail that
    /// could be the start of a secret still arriving held back.
    pub fn message(&self) -> std::borrow::Cow<'_, str> {
        let whole = self.message_closed;
        let arrived = if whole {
            self.message.as_str()
        } else {
            self.redactor.without_partial_secret(&self.message)
        };
        self.redactor.cut_bytes(arrived, MESSAGE_KEEP_BYTES).0
    }

    pub fn timeline(&self) -> &[StatusChange] {
        &self.timeline
    }

    /// When the first and the last message or tool call arrived.
    pub fn activity_span(&self) -> Option<(Moment, Moment)> {
        Some((self.first_activity?, self.last_activity?))
    }

    /// Whether there is anything to show.
    pub fn is_empty(&self) -> bool {
        self.message.trim().is_empty() && self.tools.is_empty()
    }

    /// Takes in one event of the stream follower (tool calls with their
    /// arguments, when the frame has them: "Read `README.md`").
    pub fn observe(&mut self, event: &StreamEvent, at: Moment) -> Change {
        match event {
            StreamEvent::Status(s) => self.on_status(s.clone(), at),
            StreamEvent::Assistant(text) => self.on_assistant(text, at),
            StreamEvent::ToolCall {
                call_id,
                name,
                completed,
                args,
            } => self.on_tool_call(call_id, name, *completed, args.as_ref(), at),
            _ => Change::None,
        }
    }

    /// Takes in one raw SSE event of a run stream (with tool arguments).
    /// Events with an id already seen with the same event and data (a
    /// replay after a reconnect) are skipped; `interaction_update`,
    /// `thinking`, `heartbeat`, `done` and unknown events change nothing.
    pub fn feed_sse(&mut self, event: &SseEvent, at: Moment) -> Change {
        if let Some(id) = &event.id
            && !self
                .events_seen
                .insert(hash_of(&[id, &event.event, &event.data]))
        {
            return Change::None;
        }
        let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
            return Change::None;
        };
        let str_of = |k: &str| data.get(k).and_then(Value::as_str);
        match event.event.as_str() {
            "status" | "result" => match str_of("status") {
                Some(s) => self.on_status(RunStatus::parse(s), at),
                None => Change::None,
            },
            "assistant" => match str_of("text") {
                Some(t) => self.on_assistant(t, at),
                None => Change::None,
            },
            "tool_call" => {
                let (Some(call_id), Some(name)) = (str_of("callId"), str_of("name")) else {
                    return Change::None;
                };
                let completed = str_of("status") == Some("completed");
                let mut change = self.on_tool_call(call_id, name, completed, data.get("args"), at);
                let failed = data.get("result").is_some_and(|r| r.get("error").is_some());
                if failed && let Some(t) = self.find_call(call_id) {
                    t.failed = true;
                    change = Change::Content;
                }
                change
            }
            _ => Change::None,
        }
    }

    fn find_call(&mut self, call_id: &str) -> Option<&mut ToolActivity> {
        let key = hash_of(&[call_id]);
        self.tools.iter_mut().find(|t| t.call == key)
    }

    pub fn on_status(&mut self, status: RunStatus, at: Moment) -> Change {
        // A run does not come back from an end: a non-terminal status after
        // a terminal one is a replay's sticky status (a reconnect from the
        // start), not news.
        if self.status.as_ref() == Some(&status)
            || (self.status.as_ref().is_some_and(RunStatus::is_terminal) && !status.is_terminal())
        {
            return Change::None;
        }
        self.timeline.push(StatusChange {
            at,
            status: status.clone(),
        });
        self.status = Some(status);
        Change::Status
    }

    pub fn on_assistant(&mut self, delta: &str, at: Moment) -> Change {
        if delta.is_empty() {
            return Change::None;
        }
        self.touch(at);
        if self.message_closed {
            self.message.clear();
            self.message_closed = false;
            self.flush_log_partial();
        }
        // Kept raw with room for a secret that starts before the budget:
        // shown only through `message`, which redacts, then cuts.
        let keep = MESSAGE_KEEP_BYTES + self.redactor.longest();
        if self.message.len() < keep {
            let room = keep - self.message.len();
            let mut cut = delta.len().min(room);
            while !delta.is_char_boundary(cut) {
                cut -= 1;
            }
            self.message.push_str(&delta[..cut]);
        }
        // The log gets whole lines, each once; an overlong line its start
        // only, once it holds enough to redact before the cut.
        let mut rest = delta;
        while !rest.is_empty() {
            let end = rest.find(['\n', '\r']);
            let piece = &rest[..end.unwrap_or(rest.len())];
            if !self.log_skip_line {
                self.log_partial.push_str(piece);
            }
            match end {
                Some(i) => {
                    if !std::mem::take(&mut self.log_skip_line) {
                        self.flush_log_partial();
                    }
                    rest = &rest[i + 1..];
                }
                None => rest = "",
            }
            if self.log_partial.len() >= LOG_LINE_CHARS * 4 + self.redactor.longest() {
                self.flush_log_partial();
                self.log_skip_line = true;
            }
        }
        Change::Content
    }

    /// A `tool_call` frame: the first frame of a call adds it, later frames
    /// (its completion) update it.
    pub fn on_tool_call(
        &mut self,
        call_id: &str,
        name: &str,
        completed: bool,
        args: Option<&Value>,
        at: Moment,
    ) -> Change {
        self.touch(at);
        self.message_closed = true;
        let key = hash_of(&[call_id]);
        if !self.calls_seen.insert(key) {
            let Some(t) = self.tools.iter_mut().find(|t| t.call == key) else {
                return Change::None;
            };
            if t.completed || !completed {
                return Change::None;
            }
            t.completed = true;
            return Change::Content;
        }
        let kind = match ToolKind::from_name(name) {
            ToolKind::Other(name) => {
                ToolKind::Other(shorten(&self.redactor, &name, TOOL_NAME_CHARS))
            }
            kind => kind,
        };
        let target = args.and_then(|a| {
            kind.target_keys()
                .iter()
                .find_map(|k| a.get(*k).and_then(Value::as_str))
                .filter(|t| !t.trim().is_empty())
                .map(|t| shorten(&self.redactor, t, TARGET_CHARS))
        });
        let tool = ToolActivity {
            kind,
            target,
            completed,
            failed: false,
            call: key,
        };
        self.flush_log_partial();
        self.log_ready.push(format!(
            "tool: {}",
            shorten(&self.redactor, &tool.plain(), LOG_LINE_CHARS)
        ));
        self.tools.push_back(tool);
        if self.tools.len() > RECENT_TOOLS {
            self.tools.pop_front();
        }
        self.tool_calls += 1;
        Change::Content
    }

    fn touch(&mut self, at: Moment) {
        self.first_activity.get_or_insert(at);
        self.last_activity = Some(at);
    }

    fn push_log_message(&mut self, line: &str) {
        let line = shorten(&self.redactor, line, LOG_LINE_CHARS);
        if !line.is_empty() {
            self.log_ready.push(format!("agent: {line}"));
        }
    }

    fn flush_log_partial(&mut self) {
        let rest = std::mem::take(&mut self.log_partial);
        self.log_skip_line = false;
        self.push_log_message(&rest);
    }

    /// Log lines completed since the last call: `agent: …` for each line of
    /// assistant text, `tool: …` for each new tool call. One line each,
    /// controls stripped, starting with our prefix. With `end`, a partial
    /// last line is included too.
    pub fn take_log_lines(&mut self, end: bool) -> Vec<String> {
        if end {
            self.flush_log_partial();
        }
        std::mem::take(&mut self.log_ready)
    }
}

#[cfg(test)]
mod tests;
