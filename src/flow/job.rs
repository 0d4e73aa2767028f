//! A scheduled job's continuity (see [`crate::job`]): before launching, the
//! job's previous agent (one at a time) and its open pull request (kept
//! instead of opening another); once a run has finished, the marker on that
//! pull request and whether anything changed.

use super::*;
use crate::agent::Probe;
use crate::github::PullRequest;
use crate::job::{self, Evidence, Job};

/// Time for the GitHub calls that find the job's pull request.
const JOB_LOOKUP_BUDGET: Duration = Duration::from_secs(120);

/// The job's open pull request, as this run found it.
#[derive(Debug, Clone)]
pub(super) struct JobPull {
    pub pull: PullRequest,
    /// The agent its marker names (or, not marked yet, the job's previous
    /// agent that opened it).
    pub agent: Option<String>,
    /// Our marker comment on it, and the agent that comment names.
    pub marker: Option<(u64, Option<String>)>,
}

/// What the job's state means for this run.
pub(super) enum JobStart {
    /// Nothing of the job's is open: launch as usual.
    Fresh,
    /// Launch on the job's open pull request's branch (its agent is gone).
    OnPull,
    /// The prompt went to the agent of the job's open pull request.
    Continued(Box<AgentRun>),
    /// The run ends here (the previous agent is still working, or a
    /// failure or cancel while finding out).
    End(Box<RunReport>),
}

impl Flow<'_> {
    /// The job's comments on its tracking issue: `marked` holds only
    /// believed markers ([`marker::believe`]); those of this job, oldest
    /// first.
    fn job_comments(&self, job: &Job, marked: &[(&IssueComment, Marker)]) -> Vec<(u64, Marker)> {
        marked
            .iter()
            .filter(|(_, m)| job.marks(m))
            .map(|(c, m)| (c.id, m.clone()))
            .collect()
    }

    /// One agent at a time per job, and one open pull request: decides
    /// whether this run launches, continues the open pull request (its
    /// agent, or a new agent on its branch) or ends here. Makes no Cursor
    /// write unless it continues.
    pub(super) async fn start_job(
        &mut self,
        job: &Job,
        marked: &[(&IssueComment, Marker)],
    ) -> JobStart {
        let console = self.rt.io.console.clone();
        let tracked = self.job_comments(job, marked);
        // The job's previous agents: the newest in Cursor, and the one the
        // tracking issue's latest comment names.
        let mut previous: Vec<String> = Vec::new();
        match self.api.job_agent(job).await {
            Ok(Some(id)) => previous.push(id),
            Ok(None) => {}
            Err(Failure::Cancelled) => {
                return JobStart::End(Box::new(self.cancelled_before_launch()));
            }
            Err(e) => return JobStart::End(Box::new(self.job_unreadable(job, &e))),
        }
        if let Some(id) = tracked.iter().rev().find_map(|(_, m)| m.agent.clone())
            && !previous.contains(&id)
        {
            previous.push(id);
        }
        let mut probes: Vec<(String, Probe)> = Vec::new();
        for id in &previous {
            match self.api.probe(id).await {
                Ok(p) => probes.push((id.clone(), p)),
                Err(Failure::Cancelled) => {
                    return JobStart::End(Box::new(self.cancelled_before_launch()));
                }
                Err(e) => return JobStart::End(Box::new(self.job_unreadable(job, &e))),
            }
        }
        if let Some(end) = self.busy(job, &probes) {
            return end;
        }

        let found = if job.update_open_pr {
            // The pull request the newest agent opened, if it is not marked yet.
            let opened = probes.iter().find_map(|(id, p)| {
                let url = p.agent.as_ref()?.pr_url.as_deref()?;
                Some((id.clone(), job::pull_number(url, &self.ctx.repo_url())?))
            });
            self.find_job_pull(job, opened).await
        } else {
            console.info(&format!(
                "`update-open-pr` is off for the job {}: launching as usual.",
                job.label
            ));
            None
        };
        // The tracking issue keeps one comment per open pull request.
        if self.live.is_none()
            && let Some(id) = job::live_comment(&tracked, found.as_ref().map(|f| f.pull.number))
            && let Some((c, _)) = marked.iter().find(|(c, _)| c.id == id)
        {
            self.live = Some(Live {
                id: c.id,
                url: c.html_url.clone(),
                body: c.body.clone(),
            });
            self.report.comment_url = Some(c.html_url.clone());
        }
        let Some(found) = found else {
            return JobStart::Fresh;
        };
        let number = found.pull.number;
        self.job_pull = Some(found.clone());
        // Its agent: probed already when it is the previous one.
        let probe = match &found.agent {
            None => None,
            Some(id) => match probes.iter().find(|(p, _)| p == id) {
                Some((_, p)) => Some(p.clone()),
                None => match self.api.probe(id).await {
                    Ok(p) => Some(p),
                    Err(Failure::Cancelled) => {
                        return JobStart::End(Box::new(self.cancelled_before_launch()));
                    }
                    Err(e) => return JobStart::End(Box::new(self.job_unreadable(job, &e))),
                },
            },
        };
        if let Some(p) = &probe
            && let Some(id) = &found.agent
            && let Some(end) = self.busy(job, &[(id.clone(), p.clone())])
        {
            return end;
        }
        // Found through its agent, not (or not yet) by a marker naming it:
        // marked now, as the job's state, since a run that does not wait
        // never gets to mark it at its end.
        if let Some(agent) = &found.agent
            && found
                .marker
                .as_ref()
                .is_none_or(|(_, named)| named.as_ref() != Some(agent))
            && Some(number) != self.plan.issue_number
            && let Some(github) = self.github.clone()
        {
            let limits = self.limits(JOB_LOOKUP_BUDGET);
            self.mark_job_pull(job, &github, &limits, number, agent, found.marker.clone())
                .await;
        }
        match (&found.agent, &probe) {
            (Some(id), Some(p)) if p.unavailable.is_none() && p.agent.is_some() => {
                console.info(&format!(
                    "The job's pull request #{number} is open; sending this run's prompt to its agent {id}, so the changes land there."
                ));
                let text = self.plan.request.prompt.text.clone();
                match self.followup(id, text).await {
                    Ok(agent) => {
                        self.extras.note = Some(format!(
                            "This run sent its prompt to agent {id}, which keeps the job's open pull request #{number} up to date."
                        ));
                        JobStart::Continued(Box::new(agent))
                    }
                    Err(Some(_)) => self.launch_on_job_pull(
                        number,
                        &format!("agent {id} could not take it"),
                        &found,
                    ),
                    Err(None) => JobStart::End(Box::new(self.report.clone())),
                }
            }
            (id, p) => {
                let why = p
                    .as_ref()
                    .and_then(|p| p.unavailable.clone())
                    .or_else(|| id.as_ref().map(|id| format!("agent {id} is gone")))
                    .unwrap_or_else(|| "its agent is not known".into());
                self.launch_on_job_pull(number, &why, &found)
            }
        }
    }

    fn launch_on_job_pull(&mut self, number: u64, why: &str, found: &JobPull) -> JobStart {
        let note = format!(
            "The job's pull request #{number} is open but {why}, so a new agent was launched on its branch."
        );
        self.console().info(&note);
        self.extras.note = Some(note);
        self.api.launch_on_pull(&found.pull.html_url);
        JobStart::OnPull
    }

    /// Ends the run when one of the job's agents is still working: no
    /// comment (the working agent's own comment stays live), no Cursor write.
    fn busy(&mut self, job: &Job, probes: &[(String, Probe)]) -> Option<JobStart> {
        let (id, agent) = probes
            .iter()
            .find(|(_, p)| p.is_working())
            .and_then(|(id, p)| Some((id, p.agent.as_ref()?)))?;
        let detail = format!(
            "The previous agent {id} of the scheduled job {} is still working ({}): {}. One agent at a time per job, so this run launched nothing; the next run continues from where that agent ends. If it is stuck, stop or archive it in Cursor so the next run can go on.",
            job.label, agent.status, agent.url
        );
        self.issue = None;
        Some(JobStart::End(Box::new(
            self.end(Outcome::Skipped, Some(detail)),
        )))
    }

    fn job_unreadable(&mut self, job: &Job, e: &Failure) -> RunReport {
        let why = match e {
            Failure::Failed(e) | Failure::Deadline(Some(e)) => self.cursor_failure(e),
            other => format!("Cursor {}.", other.describe()),
        };
        self.end(
            Outcome::Error,
            Some(format!(
                "Could not read the agents of the scheduled job {} to check that none is still working, so nothing was launched. {why}",
                job.label,
            )),
        )
    }

    /// The job's open pull request: the newest open one from this
    /// repository whose comments hold the job's signed marker (at most
    /// [`job::MAX_MARKED_CANDIDATES`] read), else the one the job's previous
    /// agent opened (`opened`: its id and number) when it is open.
    async fn find_job_pull(&mut self, job: &Job, opened: Option<(String, u64)>) -> Option<JobPull> {
        let github = self.github.clone()?;
        let limits = self.limits(JOB_LOOKUP_BUDGET);
        let open = match policy::idempotent(&limits, || github.list_open_pulls(job::PULLS_PER_PAGE))
            .await
        {
            Ok(p) => p,
            Err(GitHubError::Cancelled) => return None,
            Err(e) => {
                self.console().warning(&format!(
                    "{} Launching as usual: this run may open a second pull request for the job.",
                    self.github_failure(&e, "list the open pull requests")
                ));
                return None;
            }
        };
        let repo = self.ctx.repo.to_string();
        let key = self.marker_key();
        let mut open = open;
        // The pull request the previous agent opened, read by number when
        // the page does not hold it (a repository with many newer ones).
        if let Some((id, n)) = &opened
            && !open.iter().any(|p| p.number == *n)
        {
            match policy::idempotent(&limits, || github.get_pull(*n)).await {
                Ok(p) if p.state == crate::github::PullState::Open => open.insert(0, p),
                Ok(p) => self.console().info(&format!(
                    "The job's pull request #{n} (opened by its previous agent {id}) was {}: this run starts a new one.",
                    if p.merged { "merged" } else { "closed" }
                )),
                Err(GitHubError::Cancelled) => return None,
                Err(e) => self
                    .console()
                    .warning(&self.github_failure(&e, &format!("read pull request #{n}"))),
            }
        }
        let mut candidates: Vec<&PullRequest> = open
            .iter()
            .filter(|p| job.may_be_job_pull(&p.head_ref, p.head_repo.as_deref(), &repo))
            .collect();
        // The one the previous agent opened first: usually the job's.
        if let Some((_, n)) = &opened
            && let Some(at) = candidates.iter().position(|p| p.number == *n)
        {
            let first = candidates.remove(at);
            candidates.insert(0, first);
        }
        candidates.truncate(job::MAX_MARKED_CANDIDATES);
        for pull in &candidates {
            let comments = match policy::idempotent(&limits, || github.list_comments(pull.number))
                .await
            {
                Ok(c) => c,
                Err(GitHubError::Cancelled) => return None,
                Err(e) => {
                    self.console().warning(
                        &self.github_failure(&e, &format!("read the comments of #{}", pull.number)),
                    );
                    continue;
                }
            };
            if let Some((c, m)) = job_marker(job, &key, &comments, pull.number) {
                self.console().info(&format!(
                    "Found the job's open pull request #{} (branch {}), marked for agent {}.",
                    pull.number,
                    pull.head_ref,
                    m.agent.as_deref().unwrap_or("(none)")
                ));
                // The job's newest agent worked on it after the marker was
                // written (a run that did not wait): that agent keeps it.
                let agent = match &opened {
                    Some((id, n)) if *n == pull.number && m.agent.as_ref() != Some(id) => {
                        self.console().info(&format!(
                            "The job's newest agent {id} worked on #{n} since: it keeps it."
                        ));
                        Some(id.clone())
                    }
                    _ => m.agent.clone(),
                };
                return Some(JobPull {
                    pull: (*pull).clone(),
                    agent,
                    marker: Some((c.id, m.agent.clone())),
                });
            }
        }
        // Opened by the job's previous agent but not marked yet (a run that
        // did not wait for it): the job's all the same.
        if let Some((id, number)) = opened
            && let Some(pull) = candidates.iter().find(|p| p.number == number)
        {
            self.console().info(&format!(
                "Found the job's open pull request #{number}, opened by its previous agent {id} (not marked yet)."
            ));
            return Some(JobPull {
                pull: (*pull).clone(),
                agent: Some(id),
                marker: None,
            });
        }
        self.console().info(&format!(
            "No open pull request of the job {} was found ({} open, {} read for its marker): launching as usual.",
            job.label,
            open.len(),
            candidates.len()
        ));
        None
    }

    /// After a finished run of a job: whether it changed anything, and the
    /// marker on its pull request (so the next run finds it).
    pub(super) async fn settle_job(&mut self, limits: &Limits) {
        let (Some(job), Some(github)) = (self.job.clone(), self.github.clone()) else {
            return;
        };
        let repo_url = self.ctx.repo_url();
        let pr = self
            .report
            .pr_url()
            .and_then(|u| job::pull_number(u, &repo_url));
        // A re-run that reattached did not look the job's pull request up:
        // marked already (by an earlier run, or by an earlier attempt of
        // this one, which may have found it open), it may be older than
        // this run, and what this run pushed to it is not known.
        let mut existing = self
            .job_pull
            .as_ref()
            .filter(|jp| Some(jp.pull.number) == pr)
            .and_then(|jp| jp.marker.clone());
        let mut older = false;
        if self.reattached
            && existing.is_none()
            && let Some(n) = pr
        {
            let key = self.marker_key();
            match policy::idempotent(limits, || github.list_comments(n)).await {
                Ok(comments) => {
                    if let Some((c, m)) = job_marker(&job, &key, &comments, n) {
                        older = true;
                        existing = Some((c.id, m.agent));
                    }
                }
                Err(GitHubError::Cancelled) => return,
                Err(e) => {
                    // Whether it is new is not known: no guess either way.
                    self.console()
                        .warning(&self.github_failure(&e, &format!("read the comments of #{n}")));
                    older = true;
                }
            }
        }
        // Another repository's pull request and branch are not this one's
        // to read: a pull request there is new (only this repository's are
        // continued); without one, nothing is known.
        let source = &self.plan.request.source;
        let elsewhere = match (&source.repository, &source.pr_url) {
            (Some(r), _) => !same_repository(r, &repo_url),
            (None, Some(u)) => job::pull_number(u, &repo_url).is_none(),
            (None, None) => false,
        };
        let evidence = match (pr, &self.job_pull) {
            _ if elsewhere => {
                let opened = self.report.pr_url().is_some();
                if !opened {
                    self.console().info(
                        "The job's agent works on another repository, whose branch this run does not read: `changes` is left empty.",
                    );
                }
                opened.then_some(Evidence::NewPull)
            }
            (Some(n), _) if older => {
                self.console().info(&format!(
                    "Pull request #{n} was marked as the job's before this attempt (a re-run reattached to its agent), so whether this run pushed to it is not known: `changes` is left empty."
                ));
                None
            }
            (Some(n), Some(jp)) if jp.pull.number == n => {
                match policy::idempotent(limits, || github.get_pull(n)).await {
                    Ok(now) => Some(Evidence::SamePull {
                        before: jp.pull.head_sha.clone(),
                        after: now.head_sha,
                    }),
                    Err(GitHubError::Cancelled) => None,
                    Err(e) => {
                        self.console()
                            .warning(&self.github_failure(&e, &format!("read pull request #{n}")));
                        None
                    }
                }
            }
            (Some(_), _) => Some(Evidence::NewPull),
            (None, _) => match (self.report.branch(), &self.plan.request.source.git_ref) {
                (None, _) => Some(Evidence::Nothing),
                (Some(branch), Some(base)) => {
                    let branch = branch.to_string();
                    match policy::idempotent(limits, || github.compare(base, &branch)).await {
                        Ok(c) => Some(Evidence::Branch {
                            ahead_by: Some(c.ahead_by),
                        }),
                        Err(e) if e.status() == Some(404) => {
                            Some(Evidence::Branch { ahead_by: None })
                        }
                        Err(GitHubError::Cancelled) => None,
                        Err(e) => {
                            self.console().warning(&self.github_failure(
                                &e,
                                &format!("compare the agent's branch with {base}"),
                            ));
                            None
                        }
                    }
                }
                (Some(_), None) => None,
            },
        };
        self.report.changes = evidence.as_ref().map(job::changed);
        if self.report.changes == Some(false) {
            self.console().info(&format!(
                "The job {} finished with no changes: nothing was pushed.",
                job.label
            ));
        }
        // The tracking issue's own comment already says it all when the
        // agent worked on that very pull request (`issue-number` a PR).
        if let (Some(n), Some(agent)) = (pr, self.report.agent_id().map(String::from))
            && Some(n) != self.plan.issue_number
        {
            self.mark_job_pull(&job, &github, limits, n, &agent, existing)
                .await;
        }
    }

    /// Puts (or moves) the job's signed marker on pull request `n`, naming
    /// `agent`; nothing when it already names it. `existing`: the job's
    /// marker comment on it and the agent it names. Kept in `job_pull`, so
    /// a later call moves this marker instead of adding another.
    async fn mark_job_pull(
        &mut self,
        job: &Job,
        github: &GitHubClient,
        limits: &Limits,
        n: u64,
        agent: &str,
        existing: Option<(u64, Option<String>)>,
    ) {
        if let Some((_, Some(named))) = &existing
            && named == agent
        {
            return;
        }
        let body = job.pull_marker_body(
            &self.console().redactor(),
            &self.marker_key(),
            agent,
            n,
            self.ctx.run_id,
            self.ctx.run_attempt,
        );
        let result = match existing {
            Some((id, _)) => policy::idempotent(limits, || github.update_comment(id, &body))
                .await
                .map(|_| id),
            None => {
                let key = self.marker_key();
                policy::create_comment(github, limits, n, &body, |c| {
                    marker::believe(c, n, &key)
                        .is_some_and(|m| job.marks(&m) && m.agent.as_deref() == Some(agent))
                })
                .await
                .map(|c| c.id)
            }
        };
        match result {
            Ok(id) => {
                if let Some(jp) = self.job_pull.as_mut().filter(|jp| jp.pull.number == n) {
                    jp.marker = Some((id, Some(agent.to_string())));
                }
                self.console().info(&format!(
                    "Marked pull request #{n} as the job's, kept up to date by agent {agent}."
                ))
            }
            Err(GitHubError::Cancelled) => {}
            Err(e) => self.console().warning(&format!(
                "{} The next run will not find this pull request by its marker.",
                self.github_failure(&e, &format!("mark pull request #{n} as the job's"))
            )),
        }
    }
}

/// The job's marker among pull request `n`'s comments, newest first: only a
/// believed one ([`marker::believe`] on `n`) about pull request `n`.
fn job_marker<'c>(
    job: &Job,
    key: &MarkerKey,
    comments: &'c [IssueComment],
    n: u64,
) -> Option<(&'c IssueComment, Marker)> {
    comments
        .iter()
        .rev()
        .filter_map(|c| marker::believe(c, n, key).map(|m| (c, m)))
        .find(|(_, m)| job.marks(m) && m.pr == Some(n))
}

/// Whether a repository URL (as `repository` gives it) is this one's.
fn same_repository(url: &str, repo_url: &str) -> bool {
    let url = url.trim().trim_end_matches('/');
    let url = url.strip_suffix(".git").unwrap_or(url);
    url.eq_ignore_ascii_case(repo_url.trim_end_matches('/'))
}
