//! What a waiting run and a sweep both read after a run ended: usage and artifacts.

use super::AgentApi;
use kit::cancel::Cancel;
use std::time::Duration;

/// Usage is read within this (its own reads take at most ~10 s).
const USAGE_BUDGET: Duration = Duration::from_secs(20);
/// Listing and downloading the artifacts may take at most this long.
const ARTIFACTS_BUDGET: Duration = Duration::from_secs(120);
/// [`ARTIFACTS_BUDGET`] as the report writes durations (a test holds them
/// together; the seam does not import the renderers).
const ARTIFACTS_BUDGET_TEXT: &str = "2m 0s";

/// What [`AgentApi::after_run`] found.
#[derive(Debug, Default)]
pub struct AfterRun {
    pub usage: Option<super::RunUsage>,
    pub artifacts: Option<crate::artifacts::ArtifactsShown>,
    /// For the log.
    pub warnings: Vec<String>,
    /// What was still to come when a cancel or its budget cut it short
    /// (`"usage"`, `"artifacts"`); an answer of "none" is not missing.
    pub missing: Vec<&'static str>,
}

impl AfterRun {
    /// The line a final comment shows when something is missing, saying
    /// why (`cancelled`: the workflow run was cancelled, else a budget ran out).
    pub fn missing_line(&self, cancelled: bool) -> Option<String> {
        let what = match self.missing.as_slice() {
            [] => return None,
            [one] => format!("its {one}"),
            _ => format!("its {}", self.missing.join(" and ")),
        };
        let why = if cancelled {
            "the workflow run was cancelled before Cursor reported it"
        } else {
            "Cursor did not report it in time"
        };
        Some(format!(
            "_Not reported: {what} ({why}); the agent's page in Cursor has it._"
        ))
    }
}

impl AgentApi {
    /// What a waiting run and a sweep both report after a run ended: its
    /// usage and its artifacts, each within a small budget and given up at
    /// once on `cancel`. Problems are warnings; the outcome stays the run's.
    pub async fn after_run(
        &self,
        id: &str,
        workspace: &std::path::Path,
        download_dir: Option<&str>,
        upload_url: Option<&str>,
        github_host: &str,
        cancel: &Cancel,
    ) -> AfterRun {
        let clock = match self {
            AgentApi::V0(a) => a.clock(),
            AgentApi::V1(a) => a.clock(),
        };
        let mut missing = Vec::new();
        // `None`: cut short (a cancel or the budget), not an answer.
        let usage = tokio::select! {
            // Biased: v0's answer ("none") is ready at once, even after a cancel.
            biased;
            u = clock.timeout(USAGE_BUDGET, self.usage(id)) => u.ok(),
            _ = cancel.cancelled() => None,
        };
        if usage.is_none() {
            missing.push("usage");
        }
        let usage = usage.flatten();
        let mut warnings = Vec::new();
        let gathered = if cancel.is_cancelled() {
            None
        } else {
            tokio::select! {
                g = clock.timeout(
                    ARTIFACTS_BUDGET,
                    self.artifacts(id, workspace, download_dir, upload_url, github_host),
                ) => g.ok(),
                _ = cancel.cancelled() => None,
            }
        };
        let artifacts = match gathered {
            Some(g) => {
                warnings.extend(g.warnings);
                g.shown
            }
            None => {
                missing.push("artifacts");
                if !cancel.is_cancelled() {
                    warnings.push(format!(
                        "Gathering the agent's artifacts took longer than {ARTIFACTS_BUDGET_TEXT}; they are not reported."
                    ));
                }
                None
            }
        };
        AfterRun {
            usage,
            artifacts,
            warnings,
            missing,
        }
    }

    /// The run's token usage (and cost, when told), read after it ended;
    /// `None` when unknown (v0 has none). Never longer than
    /// [`super::usage::USAGE_BUDGET`] plus one read.
    pub async fn usage(&self, id: &str) -> Option<super::RunUsage> {
        match self {
            AgentApi::V0(_) => None,
            AgentApi::V1(a) => a.usage(id).await,
        }
    }

    /// Lists agent `id`'s artifacts and, with `download_dir`, downloads
    /// them under `workspace` (see [`crate::artifacts::gather`]).
    pub async fn artifacts(
        &self,
        id: &str,
        workspace: &std::path::Path,
        download_dir: Option<&str>,
        upload_url: Option<&str>,
        github_host: &str,
    ) -> crate::artifacts::Gathered {
        let (api, http, clock) = match self {
            AgentApi::V0(a) => (a.artifact_api(), a.http(), a.clock()),
            AgentApi::V1(a) => (a.artifact_api(), a.http(), a.clock()),
        };
        crate::artifacts::gather(
            api,
            http,
            id,
            workspace,
            download_dir,
            upload_url,
            github_host,
            clock,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_artifacts_budget_is_told_as_the_report_tells_durations() {
        assert_eq!(
            crate::report::human_duration(ARTIFACTS_BUDGET),
            ARTIFACTS_BUDGET_TEXT
        );
    }
}
