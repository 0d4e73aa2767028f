//! Listing an agent's artifacts through the v0 or v1 API.

use super::{ArtifactError, Listed, MAX_ARTIFACTS, RELIST_AFTER};
use cursor_api::CursorClient;
use cursor_api::v1::V1Client;
use kit::clock::Clock;
use kit::secret::Redactor;

/// Where the artifacts come from.
#[derive(Debug, Clone, Copy)]
pub enum ArtifactApi<'a> {
    V0(&'a CursorClient),
    V1(&'a V1Client),
}

impl<'a> ArtifactApi<'a> {
    /// The client's redactor (it knows the key): artifact names, paths and
    /// errors are cut with it; the sinks redact the run's other secrets.
    pub fn redactor(self) -> &'a Redactor {
        match self {
            ArtifactApi::V0(c) => c.redactor(),
            ArtifactApi::V1(c) => c.redactor(),
        }
    }
}

/// Lists the agent's artifacts (at most [`MAX_ARTIFACTS`]). A v1 list that
/// is empty is asked once more after [`RELIST_AFTER`].
pub async fn list(
    api: ArtifactApi<'_>,
    agent: &str,
    clock: Clock,
) -> Result<Vec<Listed>, ArtifactError> {
    let mut items = list_once(api, agent).await?;
    if items.is_empty() && matches!(api, ArtifactApi::V1(_)) {
        clock.sleep(RELIST_AFTER).await;
        items = list_once(api, agent).await?;
    }
    items.truncate(MAX_ARTIFACTS);
    Ok(items)
}

async fn list_once(api: ArtifactApi<'_>, agent: &str) -> Result<Vec<Listed>, ArtifactError> {
    match api {
        ArtifactApi::V0(c) => match c.artifacts(agent).await {
            Ok(a) => Ok(a
                .artifacts
                .into_iter()
                .map(|a| Listed {
                    path: a.absolute_path,
                    size_bytes: a.size_bytes,
                })
                .collect()),
            Err(e) if e.status() == Some(400) => Err(ArtifactError::TooOld),
            Err(e) => Err(ArtifactError::List(cursor_api::one_line(
                c.redactor(),
                &e.to_string(),
                300,
            ))),
        },
        ArtifactApi::V1(c) => match c.artifacts(agent).await {
            Ok(p) => Ok(p
                .items
                .into_iter()
                .map(|a| Listed {
                    path: a.path,
                    size_bytes: Some(a.size_bytes),
                })
                .collect()),
            Err(e) if e.status() == Some(400) => Err(ArtifactError::TooOld),
            Err(e) => Err(ArtifactError::List(cursor_api::one_line(
                c.redactor(),
                &e.to_string(),
                300,
            ))),
        },
    }
}

pub(super) async fn download_url(
    api: ArtifactApi<'_>,
    agent: &str,
    path: &str,
) -> Result<String, String> {
    let r = match api {
        ArtifactApi::V0(c) => c
            .artifact_download_url(agent, path)
            .await
            .map(|d| d.url)
            .map_err(|e| (e.status(), e.to_string())),
        ArtifactApi::V1(c) => c
            .artifact_download_url(agent, path)
            .await
            .map(|d| d.url)
            .map_err(|e| (e.status(), e.to_string())),
    };
    r.map_err(|(status, message)| match status {
        Some(400) => ArtifactError::TooOld.to_string(),
        _ => format!(
            "no download address: {}",
            cursor_api::one_line(api.redactor(), &message, 200)
        ),
    })
}
