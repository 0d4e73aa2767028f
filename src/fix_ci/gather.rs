//! The evidence of a failed run, read from GitHub: its jobs (all pages),
//! and for each failed or timed-out job its annotations and an excerpt of
//! its log, within the [`Budget`]. Passing jobs cost nothing more than
//! their place in the listing. A job whose log cannot be read keeps its
//! annotations and says why ([`LogError::describe`]); only a failed listing
//! fails the whole.

use super::evidence::{Budget, JobExcerpt, LogExcerpter, StepTarget};
use super::fingerprint::{FailedJob, fingerprint};
use crate::github::actions::{Annotation, JobLogs, LogError, RunJob};
use crate::github::policy::{Limits, idempotent};
use crate::github::{GitHubClient, GitHubError};
use kit::secret::Redactor;

/// Bytes of a name (job, step, annotation path) kept.
pub const MAX_NAME: usize = 512;
/// Bytes of an annotation's text (title, message, details) kept.
pub const MAX_ANNOTATION_TEXT: usize = 2048;

/// The one way a text of the run from GitHub (but the log's lines, which
/// [`super::evidence`] redacts across lines) becomes evidence: cleaned
/// (controls, invisible characters), redacted whole with the run's secrets
/// (line breaks kept, so a form wrapped across lines is seen), then cut.
pub fn evidence_text(redactor: &Redactor, text: &str, max_bytes: usize) -> String {
    redactor.clean_cut(text, max_bytes).0
}

/// `job` with its names redacted ([`evidence_text`]).
fn redacted_job(redactor: &Redactor, job: &RunJob) -> RunJob {
    let mut job = job.clone();
    job.name = evidence_text(redactor, &job.name, MAX_NAME);
    for step in &mut job.steps {
        step.name = evidence_text(redactor, &step.name, MAX_NAME);
    }
    job
}

/// `a` with its texts redacted, then cut ([`evidence_text`]).
fn redacted_annotation(redactor: &Redactor, a: Annotation) -> Annotation {
    let text = |t: &str| evidence_text(redactor, t, MAX_ANNOTATION_TEXT);
    Annotation {
        path: evidence_text(redactor, &a.path, MAX_NAME),
        level: evidence_text(redactor, &a.level, MAX_NAME),
        title: a.title.as_deref().map(text),
        message: text(&a.message),
        raw_details: a.raw_details.as_deref().map(text),
        ..a
    }
}

/// One failed job's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEvidence {
    pub job: RunJob,
    /// The step whose section was excerpted (empty when none is known).
    pub step: String,
    pub annotations: Result<Vec<Annotation>, GitHubError>,
    /// What of the log could be read (also after an interruption).
    pub excerpt: Option<JobExcerpt>,
    /// Why the log was not read whole.
    pub log_problem: Option<LogError>,
    /// The most bytes the excerpt held at once while reading.
    pub peak_held: usize,
}

impl JobEvidence {
    /// The error lines the fingerprint uses: the log's first `##[error]`
    /// lines, else the failure annotations' messages.
    pub fn error_lines(&self) -> Vec<String> {
        let from_log = self
            .excerpt
            .as_ref()
            .map(|x| x.first_errors.clone())
            .unwrap_or_default();
        if !from_log.is_empty() {
            return from_log;
        }
        self.annotations
            .as_ref()
            .map(|a| {
                a.iter()
                    .filter(|a| a.level == "failure")
                    .map(|a| a.message.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Failed jobs whose annotations and logs are read, at most: past them an
/// excerpt would be a few hundred bytes (48 KB shared), and each costs two
/// or three requests of the repository's 1,000 an hour.
pub const MAX_JOBS_READ: usize = 20;

/// A failed run's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Jobs listed (all of them, passing ones included).
    pub jobs_listed: usize,
    /// More jobs than the listing reads ([`crate::github::actions::MAX_JOB_PAGES`]).
    pub listing_truncated: bool,
    /// The failed jobs read (at most [`MAX_JOBS_READ`]), in listing order.
    pub failed: Vec<JobEvidence>,
    /// Failed jobs past [`MAX_JOBS_READ`]: named, not read.
    pub not_read: Vec<RunJob>,
}

impl Evidence {
    /// Bytes of excerpts in all (at most the budget's total).
    pub fn excerpt_bytes(&self) -> usize {
        self.failed
            .iter()
            .filter_map(|j| j.excerpt.as_ref())
            .map(|x| x.text.len())
            .sum()
    }

    /// The failure's fingerprint (see [`super::fingerprint`]).
    pub fn fingerprint(&self, workflow: &str) -> String {
        let lines: Vec<Vec<String>> = self.failed.iter().map(JobEvidence::error_lines).collect();
        let jobs: Vec<FailedJob<'_>> = self
            .failed
            .iter()
            .zip(&lines)
            .map(|(j, l)| FailedJob {
                job: &j.job.name,
                step: &j.step,
                error_lines: l,
            })
            .collect();
        fingerprint(workflow, &jobs)
    }
}

/// Why the jobs listing of run `run_id` failed, in words for the comment
/// and the log (a 404 here is the run's, not an issue's).
pub fn listing_problem(run_id: u64, e: &GitHubError) -> String {
    match e.status() {
        Some(404) => format!(
            "GitHub has no jobs for workflow run {run_id} (404: the run was deleted, or the token cannot see it: it needs `actions: read`)"
        ),
        _ => e.actionable(&format!(
            "list the jobs of workflow run {run_id} (needs `actions: read`)"
        )),
    }
}

/// Reads the evidence of run `run_id`, attempt `attempt`: one listing
/// (plus its pages), then per failed job one annotations read and one log
/// (each retried as a read under `limits`).
pub async fn gather(
    github: &GitHubClient,
    logs: &JobLogs,
    run_id: u64,
    attempt: u32,
    limits: &Limits,
    budget: Budget,
) -> Result<Evidence, GitHubError> {
    let listing = idempotent(limits, || github.list_run_jobs(run_id, attempt)).await?;
    let mut failed: Vec<&RunJob> = listing.failed().collect();
    let redactor = logs.redactor();
    let not_read: Vec<RunJob> = failed
        .split_off(failed.len().min(MAX_JOBS_READ))
        .into_iter()
        .map(|j| redacted_job(redactor, j))
        .collect();
    let mut out = Vec::with_capacity(failed.len());
    let mut used = 0;
    for (i, job) in failed.iter().enumerate() {
        let annotations = idempotent(limits, || github.check_run_annotations(job.check_run_id))
            .await
            .map(|list| {
                list.into_iter()
                    .map(|a| redacted_annotation(redactor, a))
                    .collect::<Vec<_>>()
            });
        // Named as the log is read: redacted (a step's header in the log is
        // redacted too, so the two still match).
        let job = &redacted_job(redactor, job);
        let names: Vec<&str> = job.steps.iter().map(|s| s.name.as_str()).collect();
        let step_index = job.failed_step_index();
        let target = match step_index {
            Some(k) => StepTarget::locate(&names, k),
            None => StepTarget {
                name: String::new(),
                ordinal: usize::MAX,
            },
        };
        let mut excerpter = LogExcerpter::new(target, redactor.clone());
        let read = logs
            .read(job.id, limits, |chunk| excerpter.push(chunk))
            .await;
        let peak_held = excerpter.peak_held();
        // The job's annotations and facts share its cap with the excerpt.
        let reserve = match &annotations {
            Ok(a) => super::caps::evidence_reserve(a),
            Err(_) => super::caps::FACTS_CAP,
        };
        let cap = budget
            .next_cap(used, failed.len() - i)
            .saturating_sub(reserve);
        let (excerpt, log_problem) = match read {
            Ok(_) => (Some(excerpter.finish(cap)), None),
            Err(e @ LogError::Interrupted { bytes, .. }) if bytes > 0 => {
                (Some(excerpter.finish(cap)), Some(e))
            }
            Err(e) => (None, Some(e)),
        };
        used += reserve + excerpt.as_ref().map_or(0, |x| x.text.len());
        out.push(JobEvidence {
            job: job.clone(),
            step: step_index
                .map(|k| job.steps[k].name.clone())
                .unwrap_or_default(),
            annotations,
            excerpt,
            log_problem,
            peak_held,
        });
    }
    Ok(Evidence {
        jobs_listed: listing.jobs.len(),
        listing_truncated: listing.truncated,
        failed: out,
        not_read,
    })
}
