//! The comment (created once, kept up to date, always left final) and the end of the run: reactions, outputs, summary.

use super::*;

impl Flow<'_> {
    // ---- the comment ----

    pub(super) fn marker(&self) -> Marker {
        let marker = Marker::new(
            self.report.agent_id(),
            self.ctx.run_id,
            self.ctx.run_attempt,
        )
        .with_key(&self.plan.key)
        .with_run(self.report.run_id.as_deref())
        .with_issue(self.issue)
        .with_at(self.agent_at.filter(|_| self.report.agent.is_some()))
        .with_ci(self.seed.as_ref().map(|s| s.ci.clone()));
        match &self.job {
            // A job's comment says which pull request it is about, so the
            // next run keeps one comment per open pull request.
            Some(job) => {
                let pr = self
                    .report
                    .pr_url()
                    .and_then(|u| crate::job::pull_number(u, &self.ctx.repo_url()))
                    .or(self.job_pull.as_ref().map(|jp| jp.pull.number));
                marker.with_job(Some(&job.tag)).with_pr(pr)
            }
            None => marker,
        }
    }

    /// Creates or updates the comment; failures are warned about, never
    /// fatal, and never stop later updates: a rejected edit is tried again
    /// with the next body, a deleted comment (404) is replaced by a new one,
    /// and only a 403 on creating it (no permission to comment) stops
    /// commenting for the run.
    pub(super) async fn post_comment(&mut self, phase: Phase, limits: Limits) {
        let (Some(issue), Some(github)) = (self.issue, self.github.clone()) else {
            return;
        };
        if self.comments_broken {
            return;
        }
        // Summaries and API errors can echo a secret: the comment is public.
        let body = self.console().redact(&comment::render(
            &self.marker(),
            &self.report,
            &phase,
            &self.extras,
        ));
        let mine = self.marker();
        let key = self.marker_key();
        let is_ours = |c: &IssueComment| {
            marker::believe(c, issue, &key).is_some_and(|m| {
                m.run == mine.run && m.attempt == mine.attempt && m.key == mine.key
            })
        };
        if self.live.is_none() && self.comment_maybe_posted {
            // An earlier create may have landed: edit it rather than duplicate it.
            if let Ok(comments) = policy::idempotent(&limits, || github.list_comments(issue)).await
                && let Some(c) = comments.into_iter().rev().find(|c| is_ours(c))
            {
                self.live = Some(Live {
                    id: c.id,
                    url: c.html_url,
                    body: c.body,
                });
                self.comment_maybe_posted = false;
            }
        }
        let final_phase = matches!(phase, Phase::Final);
        let mut attempt = 0u32;
        let result = loop {
            attempt += 1;
            let result = match &self.live {
                Some(live) if live.body == body => return,
                Some(live) => {
                    let id = live.id;
                    match policy::idempotent(&limits, || github.update_comment(id, &body)).await {
                        Err(e @ GitHubError::Status { status: 404, .. }) => {
                            // Deleted, or a passing 404: the list tells which.
                            let listed =
                                policy::idempotent(&limits, || github.list_comments(issue)).await;
                            match listed {
                                Ok(comments) if !comments.iter().any(|c| c.id == id) => {
                                    self.console().warning(&format!(
                                        "The comment on #{issue} was deleted; posting a new one."
                                    ));
                                    self.live = None;
                                    policy::create_comment(&github, &limits, issue, &body, is_ours)
                                        .await
                                }
                                _ => Err(e),
                            }
                        }
                        other => other,
                    }
                }
                None => policy::create_comment(&github, &limits, issue, &body, is_ours).await,
            };
            match result {
                // The final state must land: transient failures are retried
                // for as long as the budget allows.
                Err(ref e)
                    if final_phase
                        && attempt < 8
                        && !matches!(e, GitHubError::Cancelled)
                        && e.class(0, 0) != crate::github::GitHubClass::Fatal =>
                {
                    let wait = Backoff::default().delay(attempt, 0.5);
                    let clock = self.rt.clock;
                    if clock.now() + wait >= limits.deadline {
                        break result;
                    }
                    clock.sleep(wait).await;
                }
                other => break other,
            }
        };
        match result {
            Ok(c) => {
                self.report.comment_url = Some(c.html_url.clone());
                self.comment_maybe_posted = false;
                self.live = Some(Live {
                    id: c.id,
                    url: c.html_url,
                    body,
                });
            }
            // Cancelled mid-call: the final edit follows within the cancel budget.
            Err(e) => {
                let creating = self.live.is_none();
                if creating && e.maybe_applied() {
                    self.comment_maybe_posted = true;
                }
                if !matches!(e, GitHubError::Cancelled) {
                    let what = if creating {
                        format!("comment on #{issue}")
                    } else {
                        format!("update its comment on #{issue}")
                    };
                    self.console().warning(&e.actionable(&what));
                }
                if creating && e.status() == Some(403) {
                    self.comments_broken = true;
                }
            }
        }
        if let Some(live) = &self.live {
            self.report.comment_url = Some(live.url.clone());
        }
    }

    // ---- the end ----

    /// Reads the ended run's usage and artifacts (see
    /// [`crate::agent::AgentApi::after_run`]) into the report, with what a
    /// cancel or a budget cut short.
    async fn gather_details(&mut self, id: &str) {
        let host = self.report.github_host().to_string();
        let after = self
            .api
            .clone()
            .after_run(
                id,
                &self.ctx.workspace,
                self.inputs.download_artifacts.as_deref(),
                self.inputs.artifacts_url.as_deref(),
                &host,
                &self.rt.cancel,
            )
            .await;
        if let Some(u) = &after.usage {
            self.console()
                .info(&format!("Usage: {}", crate::report::usage::line(u)));
        }
        for w in &after.warnings {
            self.console().warning(w);
        }
        self.report.missing = after.missing_line(self.rt.cancel.is_cancelled());
        self.report.usage = after.usage;
        self.report.artifacts = after.artifacts;
    }

    /// After the final write: the details that came later amend the
    /// comment with one edit (none when they add nothing); a cancel
    /// meanwhile leaves it saying what is missing, within the cancel budget.
    async fn amend_details(&mut self, id: &str) {
        Box::pin(self.gather_details(id)).await;
        let clock = self.rt.clock;
        let limits = if self.rt.cancel.is_cancelled() {
            let left = self.cancel_budget(CANCEL_BUDGET);
            Limits::new(clock, clock.now() + left, None)
        } else {
            Limits::new(clock, clock.now() + FINALIZE_GRACE, None)
        };
        Box::pin(self.post_comment(Phase::Final, limits)).await;
    }

    /// Finalizes the comment (never left saying "working"), reacts, and
    /// writes outputs and the summary.
    pub(super) async fn finalize(mut self, report: RunReport) -> u8 {
        self.report = report;
        let clock = self.rt.clock;
        let cancelled = self.rt.cancel.is_cancelled();
        let limits = if cancelled {
            let left = self.cancel_budget(CANCEL_BUDGET);
            Limits::new(clock, clock.now() + left, None)
        } else {
            Limits::new(clock, clock.now() + FINALIZE_GRACE, None)
        };
        // After a cancel, a comment is finalized where one exists (or may),
        // or created when there is an agent to link; never started for a
        // run that launched nothing.
        let worth_a_comment = !cancelled
            || self.live.is_some()
            || self.comment_maybe_posted
            || self.report.agent.is_some();
        // The job's reads and marker get a share of the time, raced with a
        // cancel: a hanging GitHub never leaves the comment unfinalized.
        let mut limits = limits;
        if !cancelled && self.report.outcome == Outcome::Finished && self.job.is_some() {
            let share = Limits::new(
                clock,
                clock.now() + SETTLE_BUDGET,
                Some(self.rt.cancel.clone()),
            );
            self.settle_job(&share).await;
            if self.rt.cancel.is_cancelled() {
                let left = self.cancel_budget(CANCEL_BUDGET);
                limits = Limits::new(clock, clock.now() + left, None);
            }
        }
        // Final first: the outcome is written at once; usage and artifacts,
        // which lag the run's end, amend it after (one more edit, when they
        // add anything). A cancel before this write: the comment says what
        // it lacks instead.
        let details_due = self.details_due.take();
        if cancelled && let Some(id) = &details_due {
            Box::pin(self.gather_details(id)).await;
        }
        if worth_a_comment {
            Box::pin(self.post_comment(Phase::Final, limits.clone())).await;
        }
        if !cancelled && let Some(target) = self.ack_target() {
            let outcome = self.report.outcome;
            let content = match outcome {
                Outcome::Finished | Outcome::Launched | Outcome::FollowedUp => Some("rocket"),
                Outcome::Timeout if self.inputs.on_timeout == OnTimeout::Continue => None,
                Outcome::Error | Outcome::Expired | Outcome::Stopped | Outcome::Timeout => {
                    Some("confused")
                }
                _ => None,
            };
            if let Some(content) = content {
                self.react(target, content, limits).await;
            }
        }
        if !cancelled && let Some(id) = &details_due {
            Box::pin(self.amend_details(id)).await;
        }
        // `archive-when-done` (the seam decides; v0 does nothing), once
        // the usage and artifacts are read.
        if !self.rt.cancel.is_cancelled()
            && matches!(
                self.report.outcome,
                Outcome::Finished | Outcome::Error | Outcome::Expired | Outcome::Stopped
            )
            && let Some(id) = self.report.agent.as_ref().map(|a| a.id.clone())
            && let Some(said) = self.api.release(&id, clock.now() + FINALIZE_GRACE).await
        {
            self.console().info(&said);
        }
        finish(self.rt, self.inputs, self.report)
    }
}
