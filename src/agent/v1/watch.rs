//! Following a v1 run's stream, in the flow's terms.

use super::super::AgentRun;
use super::{V1, status_of, view};
use crate::agent::{ApiError, Progress, WatchEnd, WatchEvent};
use cursor_api::v1::V1Client;
use cursor_api::wait::stream::{StreamConfig, StreamEnd, StreamEvent, StreamFollower};
use kit::clock::{Clock, Moment};
use std::time::Duration;

impl V1 {
    pub fn watch(&self, agent: &AgentRun, started: Moment, deadline: Moment) -> V1Watch<'_> {
        let id = agent.id.as_str();
        let run = self.run.clone().unwrap_or_default();
        let config = StreamConfig {
            schedule: self.schedule,
            started,
            deadline,
        };
        V1Watch {
            client: &self.client,
            clock: self.clock,
            follower: StreamFollower::new(
                &self.client,
                id,
                &run,
                config,
                self.clock,
                self.cancel.clone(),
            ),
            last: agent.clone(),
            pending: std::collections::VecDeque::new(),
        }
    }
}

/// Following a run's stream, in the flow's terms.
pub struct V1Watch<'a> {
    follower: StreamFollower<'a>,
    client: &'a V1Client,
    clock: Clock,
    last: AgentRun,
    pending: std::collections::VecDeque<WatchEvent>,
}

impl V1Watch<'_> {
    pub async fn next(&mut self) -> WatchEvent {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return e;
            }
            match self.follower.next().await {
                StreamEvent::Status(s) => {
                    self.last.status = status_of(&s);
                    self.pending
                        .push_back(WatchEvent::Progress(Progress::Status(s)));
                    self.pending
                        .push_back(WatchEvent::Status(self.last.clone()));
                }
                StreamEvent::Assistant(t) => {
                    return WatchEvent::Progress(Progress::Said(t));
                }
                StreamEvent::ToolCall {
                    call_id,
                    name,
                    completed,
                    args,
                } => {
                    return WatchEvent::Progress(Progress::Tool {
                        call_id,
                        name,
                        completed,
                        args,
                    });
                }
                StreamEvent::Heartbeat { elapsed, status } => {
                    return WatchEvent::Heartbeat {
                        elapsed,
                        status: status
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| self.last.status.to_string()),
                    };
                }
                StreamEvent::Retrying { error, wait } => {
                    return WatchEvent::Retrying {
                        error: format!("The run's stream failed ({error})"),
                        wait,
                    };
                }
                StreamEvent::FallingBack { reason } => {
                    return WatchEvent::FallingBack(format!(
                        "Following the run by reading it instead of its stream: {reason}."
                    ));
                }
                StreamEvent::Done(end) => {
                    let end = match end {
                        StreamEnd::Ended {
                            mut run,
                            text,
                            confirmed,
                        } => {
                            // `result` may carry no `git`: one read of the
                            // run gives the branch and pull request.
                            if run.git.is_none()
                                && let Ok(Ok(read)) = self
                                    .clock
                                    .timeout(
                                        Duration::from_secs(10),
                                        self.client.run(&self.last.id, &run.id),
                                    )
                                    .await
                            {
                                run.git = read.git;
                            }
                            let agent = view(
                                &self.last.id,
                                Some(self.last.url.as_str()),
                                Some(&run),
                                text.as_deref(),
                            );
                            self.last = agent.clone();
                            WatchEnd::Ended {
                                agent,
                                note: (!confirmed).then(|| {
                                    "The run's stream said it ended, but its record kept saying otherwise; it is reported as ended.".to_string()
                                }),
                            }
                        }
                        StreamEnd::Deadline => WatchEnd::Deadline,
                        StreamEnd::Cancelled => WatchEnd::Cancelled,
                        StreamEnd::Failed(e) => WatchEnd::Failed(ApiError::V1(e)),
                    };
                    self.pending.push_back(WatchEvent::Done(end));
                }
            }
        }
    }

    pub fn last(&self) -> Option<&AgentRun> {
        Some(&self.last)
    }
}
