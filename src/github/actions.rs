//! GitHub Actions runs (permission `actions: read`): a run's jobs (all
//! pages, the attempt's when it was re-run), a check run's annotations, and
//! a job's log.
//!
//! Jobs and annotations go through octocrab like every other call. The log
//! does not: `GET /repos/{o}/{r}/actions/jobs/{id}/logs` answers a redirect
//! to a storage URL that expires within a minute, and octocrab's client (the
//! shared reqwest client) follows redirects on its own, which hides whether
//! a 403/404 came from GitHub (no access, no log) or from the storage (the
//! link expired: ask again), and octocrab's `download` reads the whole body
//! into memory (a 50 MB log is normal). So [`JobLogs`] uses the kit's client
//! built without redirects (`http::client_without_redirects`: the same TLS,
//! proxies and user agent), sends the token to GitHub only (never to the
//! storage host), and hands the body over chunk by chunk.

use super::policy::{Limits, idempotent};
use super::{GitHubClient, GitHubError};
use crate::context::RepoId;
use kit::clock::Clock;
use kit::secret::{Redactor, Secret};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Job pages read at most (100 jobs each; a matrix has at most 256 jobs).
pub const MAX_JOB_PAGES: u32 = 10;
/// Annotations read per check run: one page (Actions allows 10 warnings
/// and 10 errors per step).
pub const ANNOTATIONS_PER_PAGE: u32 = 100;
/// A log longer than this is not read further (the excerpt keeps what it
/// has, and says so).
pub const MAX_LOG_BYTES: u64 = 1 << 30;
/// A chunk of the log must arrive within this (clock) time.
const CHUNK_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes of an error answer read (for its message).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A job of a workflow run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunJob {
    pub id: u64,
    pub name: String,
    /// `queued`, `in_progress`, `completed`...
    pub status: String,
    /// `success`, `failure`, `timed_out`, `cancelled`, `skipped`... or none
    /// while running.
    pub conclusion: Option<String>,
    /// The check run behind it (for its annotations): from `check_run_url`,
    /// else the job's id (GitHub gives both the same id).
    pub check_run_id: u64,
    pub html_url: Option<String>,
    pub run_attempt: Option<u32>,
    pub steps: Vec<JobStep>,
}

/// A step of a job, in the jobs API's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStep {
    pub name: String,
    pub number: u64,
    pub status: String,
    pub conclusion: Option<String>,
}

fn failed(conclusion: Option<&str>) -> bool {
    matches!(conclusion, Some("failure" | "timed_out"))
}

impl RunJob {
    /// Concluded `failure` or `timed_out`: the jobs worth evidence.
    pub fn failed(&self) -> bool {
        failed(self.conclusion.as_deref())
    }

    /// The steps that failed or timed out.
    pub fn failed_steps(&self) -> impl Iterator<Item = &JobStep> {
        self.steps
            .iter()
            .filter(|s| failed(s.conclusion.as_deref()))
    }

    /// The index (in [`Self::steps`]) of the step whose section to
    /// excerpt: the first failed one; else (a job that timed out or was
    /// cut short) the last that started and did not succeed or get skipped.
    pub fn failed_step_index(&self) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| failed(s.conclusion.as_deref()))
            .or_else(|| {
                self.steps.iter().rposition(|s| {
                    s.status != "queued"
                        && !matches!(s.conclusion.as_deref(), Some("success" | "skipped"))
                })
            })
    }
}

/// A run's jobs, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunJobs {
    pub jobs: Vec<RunJob>,
    /// GitHub's `total_count`.
    pub total_count: Option<u64>,
    /// Pages read.
    pub pages: u32,
    /// More pages were left unread ([`MAX_JOB_PAGES`]).
    pub truncated: bool,
}

impl RunJobs {
    pub fn failed(&self) -> impl Iterator<Item = &RunJob> {
        self.jobs.iter().filter(|j| j.failed())
    }
}

/// A check-run annotation, its texts as GitHub sent them (they quote the
/// log): redact them with the run's redactor before any use or cut, as
/// `fix_ci::gather` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub path: String,
    pub start_line: Option<u64>,
    pub end_line: Option<u64>,
    /// `notice`, `warning` or `failure`.
    pub level: String,
    pub title: Option<String>,
    pub message: String,
    pub raw_details: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct JobJson {
    id: u64,
    name: Option<String>,
    status: Option<String>,
    conclusion: Option<String>,
    check_run_url: Option<String>,
    html_url: Option<String>,
    run_attempt: Option<u32>,
    steps: Option<Vec<StepJson>>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct StepJson {
    name: Option<String>,
    number: u64,
    status: Option<String>,
    conclusion: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct AnnotationJson {
    path: Option<String>,
    start_line: Option<u64>,
    end_line: Option<u64>,
    annotation_level: Option<String>,
    title: Option<String>,
    message: Option<String>,
    raw_details: Option<String>,
}

impl From<JobJson> for RunJob {
    fn from(j: JobJson) -> Self {
        let check_run_id = j
            .check_run_url
            .as_deref()
            .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
            .and_then(|id| id.parse().ok())
            .unwrap_or(j.id);
        RunJob {
            id: j.id,
            name: j.name.unwrap_or_default(),
            status: j.status.unwrap_or_default(),
            conclusion: j.conclusion,
            check_run_id,
            html_url: j.html_url,
            run_attempt: j.run_attempt,
            steps: j
                .steps
                .unwrap_or_default()
                .into_iter()
                .map(|s| JobStep {
                    name: s.name.unwrap_or_default(),
                    number: s.number,
                    status: s.status.unwrap_or_default(),
                    conclusion: s.conclusion,
                })
                .collect(),
        }
    }
}

impl From<AnnotationJson> for Annotation {
    fn from(a: AnnotationJson) -> Self {
        Annotation {
            path: a.path.unwrap_or_default(),
            start_line: a.start_line,
            end_line: a.end_line,
            level: a.annotation_level.unwrap_or_default(),
            title: a.title,
            message: a.message.unwrap_or_default(),
            raw_details: a.raw_details,
        }
    }
}

/// The jobs listing of a run: the attempt's own when `attempt > 1` (the
/// run-level listing's `filter=latest` would mix in jobs not re-run).
fn jobs_route(repo: &RepoId, run_id: u64, attempt: u32) -> String {
    if attempt > 1 {
        format!("/repos/{repo}/actions/runs/{run_id}/attempts/{attempt}/jobs?per_page=100")
    } else {
        format!("/repos/{repo}/actions/runs/{run_id}/jobs?per_page=100")
    }
}

impl GitHubClient {
    /// Every job of run `run_id` (attempt `attempt`), following `Link`
    /// pages up to [`MAX_JOB_PAGES`]. One request per page; a failing page
    /// fails the listing (wrap it in [`idempotent`] to retry: it is a read).
    pub async fn list_run_jobs(&self, run_id: u64, attempt: u32) -> Result<RunJobs, GitHubError> {
        let route = jobs_route(&self.repo, run_id, attempt);
        let mut page: octocrab::Page<JobJson> =
            self.timed(self.octo.get(route, None::<&()>)).await?;
        let total_count = page.total_count;
        let mut jobs: Vec<RunJob> = page.take_items().into_iter().map(RunJob::from).collect();
        let mut pages = 1;
        while let Some(next) = page.next.clone() {
            if pages >= MAX_JOB_PAGES {
                return Ok(RunJobs {
                    jobs,
                    total_count,
                    pages,
                    truncated: true,
                });
            }
            match self
                .timed(self.octo.get_page::<JobJson>(&Some(next)))
                .await?
            {
                Some(mut p) => {
                    jobs.extend(p.take_items().into_iter().map(RunJob::from));
                    page = p;
                    pages += 1;
                }
                None => break,
            }
        }
        Ok(RunJobs {
            jobs,
            total_count,
            pages,
            truncated: false,
        })
    }

    /// The annotations of check run `check_run_id` (a job's
    /// [`RunJob::check_run_id`]): one page of [`ANNOTATIONS_PER_PAGE`].
    pub async fn check_run_annotations(
        &self,
        check_run_id: u64,
    ) -> Result<Vec<Annotation>, GitHubError> {
        let route = format!(
            "/repos/{}/check-runs/{check_run_id}/annotations?per_page={ANNOTATIONS_PER_PAGE}",
            self.repo
        );
        let items: Vec<AnnotationJson> = self.timed(self.octo.get(route, None::<&()>)).await?;
        Ok(items.into_iter().map(Annotation::from).collect())
    }
}

/// Why a job's log could not be read (whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogError {
    /// The download link had expired (or was refused by the storage) both
    /// times it was asked for.
    Expired,
    /// GitHub has no log for the job (404: still running, or deleted).
    NotFound,
    /// GitHub refused or failed to give the link, after retries.
    GitHub(GitHubError),
    /// The download broke off after `bytes` (those were handed over).
    Interrupted { bytes: u64, error: GitHubError },
}

impl LogError {
    /// What happened, in words, for the comment and the prompt.
    pub fn describe(&self) -> String {
        match self {
            LogError::Expired => "its download link had expired twice; the log was not read".into(),
            LogError::NotFound => {
                "GitHub has no log for it (404: the job is still running, or its logs were deleted)"
                    .into()
            }
            LogError::GitHub(e) => e.actionable("read the job's log (needs `actions: read`)"),
            LogError::Interrupted { bytes, error } => {
                format!("the download broke off after {bytes} bytes ({error})")
            }
        }
    }
}

/// A log read whole (or up to [`MAX_LOG_BYTES`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRead {
    pub bytes: u64,
    /// The largest chunk handed over at once (the transport's, not ours).
    pub largest_chunk: usize,
    /// Download links asked for (2 when the first had expired).
    pub links: u32,
    /// Stopped at [`MAX_LOG_BYTES`].
    pub capped: bool,
}

/// Reads job logs (see the module comment for why not through octocrab).
#[derive(Clone)]
pub struct JobLogs {
    http: reqwest::Client,
    api: String,
    token: Secret,
    repo: RepoId,
    clock: Clock,
    requests: Arc<AtomicU64>,
    /// Redacts the token (and, with [`JobLogs::redacting`], the run's
    /// secrets) in what it reads before anything is cut.
    redactor: Redactor,
}

impl std::fmt::Debug for JobLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobLogs").field("repo", &self.repo).finish()
    }
}

/// A transport failure as a [`GitHubError`].
fn transport(e: &reqwest::Error) -> GitHubError {
    if e.is_timeout() {
        return GitHubError::Timeout;
    }
    let message = kit::http::error_chain(e);
    match kit::http::certificate_problem(&message) {
        Some(tls) => GitHubError::Tls(tls),
        None => GitHubError::Transport {
            maybe_sent: !e.is_connect(),
            message,
        },
    }
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)?
        .to_str()
        .ok()
        .map(|v| v.trim().to_string())
}

/// The answer `resp` as a [`GitHubError`] (its body read up to
/// [`MAX_ERROR_BODY`] for the message).
async fn status_error(redactor: &Redactor, mut resp: reqwest::Response) -> GitHubError {
    let status = resp.status().as_u16();
    let retry_after = header(&resp, "retry-after")
        .and_then(|v| cursor_api::parse_retry_after(&v, std::time::SystemTime::now()));
    let ratelimit_remaining = header(&resp, "x-ratelimit-remaining").and_then(|v| v.parse().ok());
    let ratelimit_reset = header(&resp, "x-ratelimit-reset").and_then(|v| v.parse().ok());
    let mut body = Vec::new();
    while body.len() < MAX_ERROR_BODY {
        match resp.chunk().await {
            Ok(Some(c)) => body.extend_from_slice(&c[..c.len().min(MAX_ERROR_BODY - body.len())]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&body);
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["message"].as_str().map(String::from))
        .unwrap_or_else(|| text.trim().to_string());
    GitHubError::Status {
        status,
        message: redactor.cut_bytes(&message, 500).0.into_owned(),
        retry_after,
        ratelimit_remaining,
        ratelimit_reset,
    }
}

/// Where the log is: a link to follow, or (UNVERIFIED, defensively) the
/// log itself when GitHub answers it directly.
enum Link {
    Redirect(url::Url),
    Direct(reqwest::Response),
}

impl JobLogs {
    /// `http` must not follow redirects (`http::client_without_redirects`);
    /// `api_url` is `GITHUB_API_URL`.
    pub fn new(
        http: reqwest::Client,
        api_url: &str,
        token: &Secret,
        repo: RepoId,
        clock: Clock,
    ) -> Self {
        Self {
            http,
            api: api_url.trim_end_matches('/').to_string(),
            token: token.clone(),
            repo,
            clock,
            requests: Arc::default(),
            redactor: Redactor::of(token),
        }
    }

    /// Also redacts `secrets` (the run's) in what it reads.
    pub fn redacting(mut self, secrets: &Redactor) -> Self {
        self.redactor.absorb(secrets);
        self
    }

    /// What the log's text is redacted with.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Requests made (link asks and downloads).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Asks GitHub where job `job_id`'s log is.
    async fn ask_link(&self, job_id: u64) -> Result<Link, GitHubError> {
        let url = format!(
            "{}/repos/{}/actions/jobs/{job_id}/logs",
            self.api, self.repo
        );
        self.requests.fetch_add(1, Ordering::Relaxed);
        let send = self
            .http
            .get(&url)
            .bearer_auth(self.token.expose())
            .header(http::header::ACCEPT, "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .send();
        let resp = match self.clock.timeout(CHUNK_TIMEOUT, send).await {
            Err(_) => return Err(GitHubError::Timeout),
            Ok(Err(e)) => return Err(transport(&e)),
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        if status.is_redirection() {
            let location = header(&resp, "location").unwrap_or_default();
            return url::Url::parse(&url)
                .and_then(|base| base.join(&location))
                .map(Link::Redirect)
                .map_err(|_| GitHubError::Decode(format!("{status} without a usable Location")));
        }
        if status.is_success() {
            return Ok(Link::Direct(resp));
        }
        Err(status_error(&self.redactor, resp).await)
    }

    /// Opens the storage link, without our token.
    async fn open(&self, link: &url::Url) -> Result<reqwest::Response, GitHubError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let send = self.http.get(link.clone()).send();
        let resp = match self.clock.timeout(CHUNK_TIMEOUT, send).await {
            Err(_) => return Err(GitHubError::Timeout),
            Ok(Err(e)) => return Err(transport(&e)),
            Ok(Ok(r)) => r,
        };
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(status_error(&self.redactor, resp).await)
        }
    }

    /// Reads job `job_id`'s log whole, handing each chunk to `sink` as it
    /// arrives (nothing is kept here). The link is asked for (retried as a
    /// read under `limits`) and followed at once; when the storage refuses
    /// it (403/404: expired), fails, or breaks off before the first byte, a
    /// fresh link is asked for once. A download that breaks off later is
    /// not read again (`sink` has what came): [`LogError::Interrupted`].
    pub async fn read(
        &self,
        job_id: u64,
        limits: &Limits,
        mut sink: impl FnMut(&[u8]),
    ) -> Result<LogRead, LogError> {
        let mut links = 0;
        let mut last: Option<LogError> = None;
        loop {
            if links == 2 {
                return Err(last.unwrap_or(LogError::Expired));
            }
            links += 1;
            let link = idempotent(limits, || self.ask_link(job_id))
                .await
                .map_err(|e| match e.status() {
                    Some(404 | 410) => LogError::NotFound,
                    _ => LogError::GitHub(e),
                })?;
            let resp = match link {
                Link::Direct(resp) => resp,
                Link::Redirect(url) => match limits.bounded(self.open(&url)).await {
                    Ok(resp) => resp,
                    Err(e @ (GitHubError::Cancelled | GitHubError::Tls(_))) => {
                        return Err(LogError::GitHub(e));
                    }
                    Err(e) => {
                        tracing::debug!("the log link failed ({e}); asking for a fresh one");
                        last = Some(match e.status() {
                            Some(400 | 403 | 404) => LogError::Expired,
                            _ => LogError::GitHub(e),
                        });
                        continue;
                    }
                },
            };
            match self.stream(resp, limits, links, &mut sink).await {
                Err(LogError::Interrupted { bytes: 0, error })
                    if !matches!(error, GitHubError::Cancelled) =>
                {
                    tracing::debug!("the log broke off at once ({error}); asking for a fresh link");
                    last = Some(LogError::Interrupted { bytes: 0, error });
                }
                done => return done,
            }
        }
    }

    async fn stream(
        &self,
        mut resp: reqwest::Response,
        limits: &Limits,
        links: u32,
        sink: &mut impl FnMut(&[u8]),
    ) -> Result<LogRead, LogError> {
        let mut read = LogRead {
            bytes: 0,
            largest_chunk: 0,
            links,
            capped: false,
        };
        loop {
            let next = limits.bounded(async {
                match self.clock.timeout(CHUNK_TIMEOUT, resp.chunk()).await {
                    Err(_) => Err(GitHubError::Timeout),
                    Ok(r) => r.map_err(|e| transport(&e)),
                }
            });
            match next.await {
                Ok(Some(chunk)) => {
                    let room = (MAX_LOG_BYTES - read.bytes) as usize;
                    let chunk = &chunk[..chunk.len().min(room)];
                    read.largest_chunk = read.largest_chunk.max(chunk.len());
                    read.bytes += chunk.len() as u64;
                    sink(chunk);
                    if read.bytes >= MAX_LOG_BYTES {
                        read.capped = true;
                        return Ok(read);
                    }
                }
                Ok(None) => return Ok(read),
                Err(error) => {
                    return Err(LogError::Interrupted {
                        bytes: read.bytes,
                        error,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "actions_tests.rs"]
mod tests;
