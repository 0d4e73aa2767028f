//! A run's timeline: every event it will send, fixed at creation.

use super::{HEARTBEATS_ONLY_FOR, SimRun, TimedEvent, V1Sim, V1State};
use kit::clock::Moment;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

impl V1Sim {
    pub(super) fn new_run(&self, state: &mut V1State, prompt: &str, step0: u64) -> SimRun {
        let now = self.clock.now();
        let scenario = state.scenario.clone();
        let id = format!("run-{}", Self::uuid(state));
        let base = state.epoch_ms;
        let stamp = |at: Moment| format!("{}-0", base + at.since_start().as_millis() as u64);
        let mut events = Vec::new();
        let push =
            |events: &mut Vec<TimedEvent>, at: Moment, with_id: bool, event: &str, data: Value| {
                events.push(TimedEvent {
                    at,
                    id: with_id.then(|| stamp(at)),
                    event: event.into(),
                    data,
                });
            };
        let running = now + scenario.creating;
        let end = running + scenario.running;
        let ending = end
            .saturating_since(Moment::ZERO)
            .saturating_sub(scenario.status_lead);
        let ending = Moment::ZERO + ending.max(running.since_start());
        push(
            &mut events,
            running,
            false,
            "status",
            json!({"runId": id, "status": "RUNNING"}),
        );
        let ms = Duration::from_millis(1);
        push(
            &mut events,
            running + ms,
            true,
            "interaction_update",
            json!({"type": "step-started", "stepId": step0}),
        );
        push(
            &mut events,
            running + ms * 2,
            true,
            "interaction_update",
            json!({"type": "user-message-appended", "userMessage": {"type": "user_message", "session_id": id, "text": prompt}}),
        );
        // Thinking first, a tool call (silent for a while if asked), then the answer.
        let think = running + Duration::from_millis(500);
        push(
            &mut events,
            think,
            true,
            "thinking",
            json!({"text": "Looking at the task."}),
        );
        push(
            &mut events,
            think,
            true,
            "interaction_update",
            json!({"type": "thinking-delta", "text": "Looking at the task."}),
        );
        let tool_start = match scenario.silent_tool {
            Some((after, _)) => running + after,
            None => running + Duration::from_secs(1),
        };
        let tool_len = scenario
            .silent_tool
            .map_or(Duration::from_secs(2), |(_, l)| l);
        let call = format!("call-{}", Self::uuid(state));
        if tool_start < ending {
            push(
                &mut events,
                tool_start,
                true,
                "tool_call",
                json!({"callId": call, "name": "run_terminal_cmd", "status": "running", "args": {"command": "cargo test"}}),
            );
            let done_at = (tool_start + tool_len).min(ending);
            push(
                &mut events,
                done_at,
                true,
                "tool_call",
                json!({"callId": call, "name": "run_terminal_cmd", "status": "completed", "result": {"success": {"stdout": "ok"}}}),
            );
        }
        // The answer, word by word, just before the end.
        let words: Vec<String> = scenario
            .result_text
            .split_inclusive(' ')
            .map(String::from)
            .collect();
        let mut at = ending.max(tool_start + tool_len).min(ending);
        at = Moment::ZERO
            + at.since_start()
                .saturating_sub(Duration::from_millis(10 * (words.len() as u64 + 2)));
        at = at.max(running + ms * 3);
        for w in &words {
            at = at + Duration::from_millis(10);
            push(&mut events, at, true, "assistant", json!({"text": w}));
            push(
                &mut events,
                at,
                true,
                "interaction_update",
                json!({"type": "text-delta", "text": w}),
            );
        }
        push(
            &mut events,
            at + ms,
            true,
            "interaction_update",
            json!({"type": "turn-ended"}),
        );
        for (after, event, data) in &scenario.script {
            let at = (running + *after).min(ending);
            push(&mut events, at, true, event, data.clone());
        }
        // Heartbeats, except while the silent tool runs.
        if let Some(every) = scenario.heartbeat {
            let mut t = now + every;
            while t < end {
                let silent = scenario
                    .silent_tool
                    .is_some_and(|(a, l)| t >= running + a && t < running + a + l);
                if !silent {
                    push(&mut events, t, false, "heartbeat", json!({}));
                }
                t = t + every;
            }
        }
        let end_status = if scenario.end_error {
            "ERROR"
        } else {
            "FINISHED"
        };
        push(
            &mut events,
            ending.max(at + ms * 2),
            false,
            "status",
            json!({"runId": id, "status": "FINISHED"}),
        );
        let text = (!scenario.end_error).then(|| scenario.result_text.clone());
        if !scenario.no_result {
            let mut result = json!({"runId": id, "status": end_status, "durationMs": (end - now).as_millis() as u64});
            if let Some(t) = &text {
                result["text"] = json!(t);
            }
            push(&mut events, end, true, "result", result);
            push(&mut events, end, true, "done", json!({}));
        }
        if let Some(after) = scenario.heartbeats_only_after {
            let from = now + after;
            events.retain(|e| e.at < from || e.event == "heartbeat");
            let every = scenario.heartbeat.unwrap_or(Duration::from_secs(15));
            let mut t = events
                .iter()
                .filter(|e| e.event == "heartbeat")
                .map(|e| e.at + every)
                .max()
                .unwrap_or(from)
                .max(from);
            while t < end + HEARTBEATS_ONLY_FOR {
                push(&mut events, t, false, "heartbeat", json!({}));
                t = t + every;
            }
        }
        events.sort_by_key(|e| e.at);
        SimRun {
            id,
            created: now,
            created_wall: SystemTime::now(),
            drops_left: scenario.drops.clone(),
            stall_left: scenario.stall_at,
            unavailable_left: scenario.unavailable_head,
            settled: false,
            scenario,
            prompt: prompt.to_string(),
            events,
            end,
            end_status,
            text,
        }
    }
}
