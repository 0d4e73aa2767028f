//! A run's SSE stream: replay what is due, then each event at its time.

use super::validate::error;
use super::{V1Sim, V1State};
use crate::server::{Reply, Request};
use bytes::Bytes;
use kit::clock::Moment;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

impl V1Sim {
    pub(super) fn stream(
        &self,
        state: &mut V1State,
        index: usize,
        r: usize,
        request: &Request,
        now: Moment,
    ) -> Reply {
        let last = request.header("last-event-id").map(String::from);
        state.connects.push(last);
        let run = &mut state.agents[index].runs[r];
        if run.scenario.expired {
            return error(
                410,
                "stream_expired",
                "Stream has expired; read the run instead",
            );
        }
        let unavailable = run.unavailable_left > 0;
        if unavailable {
            run.unavailable_left -= 1;
            if !run.scenario.unavailable_as_event {
                return error(409, "stream_unavailable", "Stream is not available yet");
            }
        }
        let start = match request.header("last-event-id").filter(|l| !l.is_empty()) {
            None => 0,
            Some(last) => match run
                .events
                .iter()
                .rposition(|e| e.id.as_deref() == Some(last))
            {
                Some(i) => i + 1,
                None => {
                    return error(
                        400,
                        "invalid_last_event_id",
                        "Last-Event-ID must refer to an event within the requested run",
                    );
                }
            },
        };
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, ()>>(64);
        let headers = vec![
            ("content-type".to_string(), "text/event-stream".to_string()),
            ("cache-control".to_string(), "no-cache".to_string()),
            (
                "x-cursor-stream-retention-seconds".to_string(),
                "86400".to_string(),
            ),
        ];
        let body = Arc::new(Mutex::new(Some(rx)));
        let sticky = json!({"runId": run.id, "status": run.status(now)});
        let buffered_by_proxy = run.scenario.buffered;
        let agent_id = state.agents[index].id.clone();
        let run_id = state.agents[index].runs[r].id.clone();
        let this = self.clone();
        let buffered = buffered_by_proxy;
        tokio::spawn(async move {
            if unavailable {
                let e = format!(
                    "event: error\ndata: {}\n\n",
                    json!({"code": "stream_unavailable", "message": "Stream is not available yet"})
                );
                let _ = tx.send(Ok(Bytes::from(e))).await;
                return;
            }
            let sticky = format!("event: status\ndata: {sticky}\n\n");
            if buffered {
                // Everything is held back until the stream ends.
                let (inner, mut held) = tokio::sync::mpsc::channel(64);
                let pump = this.pump(inner, &agent_id, &run_id, start, now);
                let mut all = sticky.into_bytes();
                let collect = async {
                    while let Some(Ok(b)) = held.recv().await {
                        all.extend_from_slice(&b);
                    }
                };
                tokio::select! {
                    _ = async { tokio::join!(pump, collect) } => {}
                    _ = tx.closed() => return,
                }
                let _ = tx.send(Ok(Bytes::from(all))).await;
                return;
            }
            if tx.send(Ok(Bytes::from(sticky))).await.is_err() {
                return;
            }
            this.pump(tx, &agent_id, &run_id, start, now).await;
        });
        Reply::Stream {
            status: 200,
            headers,
            body,
        }
    }

    /// Sends the run's events from `next` on, each at its time.
    pub(super) async fn pump(
        &self,
        tx: tokio::sync::mpsc::Sender<Result<Bytes, ()>>,
        agent: &str,
        run: &str,
        mut next: usize,
        connected: Moment,
    ) {
        enum Step {
            Send(String, bool),
            Wait(Option<Moment>),
            Drop,
            Stall,
        }
        loop {
            let now = self.clock.now();
            let step = {
                let mut s = self.state.lock().unwrap();
                let Some(r) = s
                    .agents
                    .iter_mut()
                    .find(|a| a.id == agent)
                    .and_then(|a| a.runs.iter_mut().find(|r| r.id == run))
                else {
                    return;
                };
                let rel = |m: Moment| m.saturating_since(r.created);
                let since = rel(now);
                if let Some(i) = r
                    .drops_left
                    .iter()
                    .position(|d| *d <= since && r.created + *d > connected)
                {
                    r.drops_left.remove(i);
                    Step::Drop
                } else if r
                    .stall_left
                    .is_some_and(|d| d <= since && r.created + d > connected)
                {
                    r.stall_left = None;
                    Step::Stall
                } else if next < r.events.len() && r.events[next].at <= now {
                    let mut out = String::new();
                    let mut last = false;
                    while next < r.events.len() && r.events[next].at <= now {
                        out.push_str(&r.events[next].bytes());
                        last = r.events[next].event == "done";
                        next += 1;
                    }
                    Step::Send(out, last)
                } else {
                    let mut wake: Option<Moment> = r.events.get(next).map(|e| e.at);
                    for d in r.drops_left.iter().chain(r.stall_left.iter()) {
                        let at = r.created + *d;
                        if at > connected {
                            wake = Some(wake.map_or(at, |w| w.min(at)));
                        }
                    }
                    Step::Wait(wake)
                }
            };
            match step {
                Step::Send(bytes, last) => {
                    if tx.send(Ok(Bytes::from(bytes))).await.is_err() || last {
                        return;
                    }
                }
                Step::Drop => {
                    let _ = tx.send(Err(())).await;
                    return;
                }
                Step::Stall => {
                    tx.closed().await;
                    return;
                }
                Step::Wait(wake) => {
                    // Cancel may change the timeline: look again at least every second.
                    let wake = wake.map_or(now + Duration::from_secs(1), |w| {
                        w.min(now + Duration::from_secs(1))
                    });
                    tokio::select! {
                        _ = self.clock.sleep_until(wake) => {}
                        _ = tx.closed() => return,
                    }
                }
            }
        }
    }
}
