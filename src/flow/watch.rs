//! Waiting for the agent, and what the deadline and a cancel do to it.

use super::*;
use crate::agent::{Progress, Stop};
use crate::report::activity::{Activity, Change, EditThrottle};

async fn sleep_until_some(clock: kit::clock::Clock, at: Option<Moment>) {
    match at {
        Some(at) => clock.sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Flow<'_> {
    // ---- waiting ----

    /// Edits the working comment with the activity so far.
    async fn post_activity(
        &mut self,
        act: &Activity,
        throttle: &mut EditThrottle,
        status: &Status,
        deadline: Moment,
    ) {
        let clock = self.rt.clock;
        self.report.activity = act.markdown();
        let limits = Limits::new(
            clock,
            (clock.now() + GITHUB_CALL_BUDGET).min(deadline),
            Some(self.rt.cancel.clone()),
        );
        self.post_comment(
            Phase::Working {
                status: Some(status.clone()),
            },
            limits,
        )
        .await;
        throttle.edited(clock.now());
    }

    pub(super) async fn wait(&mut self, agent: &AgentRun, started: Moment) -> RunReport {
        let clock = self.rt.clock;
        let deadline = started + self.inputs.timeout;
        let console = self.rt.io.console.clone();
        console.group(&format!(
            "Waiting for agent {} (at most {})",
            agent.id,
            format_duration(self.inputs.timeout)
        ));
        // The watch borrows its own handle, so the comment can be updated meanwhile.
        let api = self.api.clone();
        let mut watch = api.watch(agent, started, deadline);
        let mut last_status = agent.status.clone();
        // The live activity (v1's stream): accumulated here, edited into the
        // comment at most every `EDIT_EVERY` (at once on a status change).
        let mut act = Activity::new(console.redactor());
        let mut throttle = EditThrottle::new();
        let end = loop {
            // The watch's future is never dropped unfinished: a held-back
            // edit falls due while it waits, and is made meanwhile.
            let event = {
                // Boxed: the flow's future stays small (tests run it on small stacks).
                let mut next = Box::pin(watch.next());
                loop {
                    let due = throttle.due_at();
                    tokio::select! {
                        biased;
                        e = &mut next => break e,
                        _ = sleep_until_some(clock, due) => {
                            if throttle.poll(clock.now()) {
                                Box::pin(self.post_activity(&act, &mut throttle, &last_status, deadline))
                                    .await;
                            }
                        }
                    }
                }
            };
            let elapsed = human_duration(clock.now().saturating_since(started));
            match event {
                WatchEvent::Status(a) => {
                    // What the agent said before the change is told before it.
                    for line in act.take_log_lines(true) {
                        console.info(&format!("[{elapsed}] {line}"));
                    }
                    if !a.status.is_known() {
                        console.warning(&format!(
                            "The agent reports a status this action does not know ({}); waiting on as if it were running.",
                            a.status
                        ));
                    }
                    if a.status != last_status {
                        console.info(&format!("[{elapsed}] {last_status} → {}", a.status));
                        last_status = a.status.clone();
                    } else {
                        console.info(&format!("[{elapsed}] {}", a.status));
                    }
                    self.report.agent = Some(a.clone());
                    // A status change is edited at once, with the activity so far.
                    Box::pin(self.post_activity(&act, &mut throttle, &last_status, deadline)).await;
                }
                // The agent's words and tools are untrusted: the accumulator
                // neutralizes them (one line each, our own prefix first).
                WatchEvent::Progress(p) => {
                    let now = clock.now();
                    let change = match p {
                        Progress::Status(s) => act.on_status(s, now),
                        Progress::Said(t) => act.on_assistant(&t, now),
                        Progress::Tool {
                            call_id,
                            name,
                            completed,
                            args,
                        } => act.on_tool_call(&call_id, &name, completed, args.as_ref(), now),
                    };
                    for line in act.take_log_lines(false) {
                        console.info(&format!("[{elapsed}] {line}"));
                    }
                    // A status change is edited by the `Status` that follows.
                    if change != Change::Status && throttle.offer(now, change) {
                        Box::pin(self.post_activity(&act, &mut throttle, &last_status, deadline))
                            .await;
                    }
                }
                WatchEvent::Heartbeat { elapsed, status } => {
                    console.info(&format!("[{}] still {status}", human_duration(elapsed)));
                }
                WatchEvent::Retrying { error, wait } => {
                    console.info(&format!("{error}; retrying in {}s", wait.as_secs().max(1)));
                }
                // The follower says it once in the log itself.
                WatchEvent::FallingBack(why) => tracing::debug!("{why}"),
                WatchEvent::Done(end) => break end,
            }
        };
        let elapsed = human_duration(clock.now().saturating_since(started));
        for line in act.take_log_lines(true) {
            console.info(&format!("[{elapsed}] {line}"));
        }
        console.endgroup();
        if let Some(a) = watch.last() {
            self.report.agent = Some(a.clone());
        }
        drop(watch);
        // At the deadline, what Cursor says now wins over `timeout`.
        let (end, stop) = match end {
            WatchEnd::Deadline => self.past_deadline().await,
            end => (end, None),
        };
        let now = clock.now();
        self.report.duration = Some(now.saturating_since(started));
        self.report.timeline = act.timeline_markdown(started, Some(now));
        match end {
            WatchEnd::Ended { agent, note } => {
                let outcome = match agent.status {
                    Status::Finished => Outcome::Finished,
                    Status::Expired => Outcome::Expired,
                    Status::Stopped | Status::Cancelled => Outcome::Stopped,
                    _ => Outcome::Error,
                };
                console.info(&format!(
                    "Agent {} ended {} after {}.",
                    agent.id,
                    agent.status,
                    human_duration(now.saturating_since(started))
                ));
                if let Some(note) = note {
                    console.warning(&note);
                    self.extras.note = Some(note);
                }
                self.report.summary = match agent.summary() {
                    Some(s) => Some(s.to_string()),
                    None => self.api.fallback_summary(&agent.id, deadline).await,
                };
                if let Some(summary) = &self.report.summary {
                    console.info("Summary:");
                    console.untrusted_block(summary);
                }
                // Final first: usage and artifacts amend the comment after.
                self.details_due = Some(agent.id.clone());
                self.report.agent = Some(agent);
                self.end(outcome, None)
            }
            WatchEnd::Deadline => self.timed_out(stop).await,
            WatchEnd::Cancelled => self.cancelled().await,
            WatchEnd::Failed(e) => {
                let detail = format!("Lost track of the agent: {}", self.cursor_failure(&e));
                self.end(Outcome::Error, Some(detail))
            }
        }
    }

    /// The deadline came: the agent is read once more (a run can end
    /// unseen, e.g. behind a stream of heartbeats), and a terminal status
    /// read back wins over `timeout`. Otherwise `on-timeout: stop` stops it
    /// here, and a stop that finds it ended reports it as it ended. `Some`:
    /// the stop's outcome, for the timeout's report.
    async fn past_deadline(&mut self) -> (WatchEnd, Option<Stop>) {
        const READ_BACK: Duration = Duration::from_secs(10);
        if let Some(id) = self.report.agent_id().map(String::from) {
            let clock = self.rt.clock;
            let cancel = self.rt.cancel.clone();
            let mut api = self.api.clone();
            let read = tokio::select! {
                r = clock.timeout(READ_BACK, api.read_uncancelled(&id)) => r.ok(),
                _ = cancel.cancelled() => None,
            };
            match read {
                Some(Ok(agent)) if agent.status.is_terminal() => {
                    return (WatchEnd::Ended { agent, note: None }, None);
                }
                // The report names the status as read, not as last streamed.
                Some(Ok(agent)) => self.report.agent = Some(agent),
                _ => {}
            }
        }
        if self.inputs.on_timeout != OnTimeout::Stop {
            return (WatchEnd::Deadline, None);
        }
        match self.stop_agent(Duration::from_secs(15)).await {
            Stop::Ended { agent, refused } => {
                let note = format!(
                    "At the deadline the agent was to be stopped (`on-timeout: stop`), but it had already ended {}{}.",
                    agent.status,
                    refused
                        .map(|why| format!("; the cancel was refused ({why})"))
                        .unwrap_or_default()
                );
                (
                    WatchEnd::Ended {
                        agent,
                        note: Some(note),
                    },
                    None,
                )
            }
            stop => (WatchEnd::Deadline, Some(stop)),
        }
    }

    /// Stops the agent within `budget` (recording the status a stop or a
    /// read back found); never says "stopped" for a refused cancel.
    pub(super) async fn stop_agent(&mut self, budget: Duration) -> Stop {
        let Some(id) = self.report.agent_id().map(String::from) else {
            return Stop::NotStopped("no agent".into());
        };
        let clock = self.rt.clock;
        // The run may already be cancelled, so this waits on its budget
        // only. A cancel arriving meanwhile shortens it to the cancel budget.
        let run_cancel = self.rt.cancel.clone();
        let raced = if run_cancel.is_cancelled() {
            Some(self.api.stop(&id, clock.now() + budget).await)
        } else {
            let mut api = self.api.clone();
            tokio::select! {
                r = api.stop(&id, clock.now() + budget) => Some(r),
                _ = run_cancel.cancelled() => None,
            }
        };
        let stop = match raced {
            Some(r) => r,
            None => {
                let left = self.cancel_budget(CANCEL_STOP);
                self.api.stop(&id, clock.now() + left).await
            }
        };
        match &stop {
            Stop::Stopped(status) => {
                if let Some(a) = self.report.agent.as_mut() {
                    a.status = status.clone();
                }
            }
            Stop::Ended { agent, .. } => self.report.agent = Some(agent.clone()),
            Stop::NotStopped(_) => {}
        }
        stop
    }

    /// What the timeout's report says; `stop`: what `on-timeout: stop` did.
    pub(super) async fn timed_out(&mut self, stop: Option<Stop>) -> RunReport {
        let limit = format_duration(self.inputs.timeout);
        let url = self.report.agent_url().unwrap_or_default();
        let detail = match (self.inputs.on_timeout, stop) {
            (OnTimeout::Fail, _) => format!(
                "The agent did not finish within {limit} (`timeout`) and is still running in Cursor: {url}. Follow it there, or raise `timeout`."
            ),
            (OnTimeout::Continue, _) => format!(
                "The agent did not finish within {limit} (`timeout`); it is still running in Cursor: {url}. `on-timeout: continue`, so this step succeeds."
            ),
            (OnTimeout::Stop, Some(Stop::Stopped(_))) => format!(
                "The agent did not finish within {limit} (`timeout`), so it was stopped (`on-timeout: stop`).{}",
                if self.extras.followup_phrase.is_some() {
                    " A follow-up comment resumes it."
                } else {
                    ""
                }
            ),
            (OnTimeout::Stop, Some(Stop::NotStopped(why))) => format!(
                "The agent did not finish within {limit} (`timeout`); stopping it failed ({why}), so it may still be running: {url}."
            ),
            // Reported as ended by `past_deadline`; nothing known otherwise.
            (OnTimeout::Stop, Some(Stop::Ended { .. }) | None) => format!(
                "The agent did not finish within {limit} (`timeout`); it was not stopped, so it may still be running: {url}."
            ),
        };
        // A signal during the stop: the step ends cancelled (the detail says
        // what became of the agent), within the cancel budget.
        if let Some(signal) = self.rt.cancel.reason() {
            return self.end(
                Outcome::Cancelled,
                Some(format!(
                    "The workflow run was cancelled ({signal}) after the deadline. {detail}"
                )),
            );
        }
        self.end(Outcome::Timeout, Some(detail))
    }

    pub(super) async fn stop_within_cancel_budget(&mut self) -> Stop {
        let budget = self.cancel_budget(CANCEL_STOP);
        self.stop_agent(budget).await
    }

    pub(super) async fn cancelled(&mut self) -> RunReport {
        let signal = self.rt.cancel.reason().unwrap_or("cancellation");
        let detail = match self.inputs.on_cancel {
            OnCancel::Leave => format!(
                "The workflow run was cancelled ({signal}); the agent keeps running in Cursor (`on-cancel: leave`): {}",
                self.report.agent_url().unwrap_or_default()
            ),
            OnCancel::Stop => match self.stop_within_cancel_budget().await {
                Stop::Stopped(_) => format!(
                    "The workflow run was cancelled ({signal}), so the agent was stopped (`on-cancel: stop`)."
                ),
                Stop::Ended { agent, refused } => format!(
                    "The workflow run was cancelled ({signal}); the agent had already ended {} (`on-cancel: stop` had nothing to stop{}).",
                    agent.status,
                    refused
                        .map(|why| format!("; the cancel was refused: {why}"))
                        .unwrap_or_default()
                ),
                Stop::NotStopped(why) => format!(
                    "The workflow run was cancelled ({signal}); stopping the agent failed ({why}), so it may still be running: stop it in Cursor at {}.",
                    self.report.agent_url().unwrap_or_default()
                ),
            },
        };
        self.end(Outcome::Cancelled, Some(detail))
    }
}
