//! Artifacts: listed from the simulator (v0) or a loopback fake (v1),
//! downloaded through their presigned URLs into the `download-artifacts`
//! directory. Hostile paths stay inside it, oversized artifacts are refused
//! with a message and leave nothing behind, a link planted in the directory
//! is never followed, the six-month rule is said plainly, and the number of
//! requests is bounded.

use crate::support::*;
use cursor_agent_action::artifacts::{
    ArtifactApi, ArtifactError, Limits, MAX_ARTIFACT_BYTES, download_all, list, markdown_list,
    prepare_dir,
};
use cursor_api::v1::V1Client;
use cursor_api::*;
use kit::clock::Clock;
use kit::secret::Secret;
use sim::*;
use std::path::Path;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn agent_with(artifacts: Vec<SimArtifact>) -> (Simulators, CursorClient, String) {
    let sims = Simulators::start(Clock::real()).await.unwrap();
    sims.cursor.set_default_scenario(Scenario {
        artifacts,
        ..Scenario::lasting(0, 1)
    });
    let c = cursor_client(&sims.cursor_url(), KEY, Clock::real());
    let id = c
        .launch(&launch_request(
            "Take a screenshot",
            REPO_URL,
            Some("master"),
            false,
        ))
        .await
        .unwrap()
        .id;
    (sims, c, id)
}

/// Every file under `dir`, relative, `/`-separated.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(
                    p.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn the_default_screenshot_is_downloaded_through_a_loopback_url() {
    let (sims, c, id) = agent_with(Scenario::default().artifacts).await;
    let ws = tempfile::tempdir().unwrap();
    let dir = prepare_dir(ws.path(), "cursor-artifacts").unwrap();
    let listed = list(ArtifactApi::V0(&c), &id, Clock::real()).await.unwrap();
    assert_eq!(listed.len(), 1);
    let got = download_all(
        ArtifactApi::V0(&c),
        &http(),
        &id,
        &listed,
        &dir,
        Clock::real(),
    )
    .await;
    assert_eq!(got.output(), "cursor-artifacts/screenshot.png");
    assert_eq!(got.saved[0].bytes, 12345);
    let bytes = std::fs::read(ws.path().join("cursor-artifacts/screenshot.png")).unwrap();
    assert_eq!(bytes, SimArtifact::new("x", 12345).content());
    // The presigned URL got no key of ours.
    let download = sims
        .cursor
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/_artifacts/"))
        .expect("downloaded from the simulator");
    assert!(
        !format!("{download:?}").contains(KEY),
        "the key went to storage"
    );
    let md = markdown_list(&Default::default(), &listed, Some(&got), None, "github.com").unwrap();
    assert!(
        md.contains("- `screenshot.png` (12.1 KiB) → `cursor-artifacts/screenshot.png`"),
        "{md}"
    );
}

#[tokio::test]
async fn hostile_paths_are_contained_and_oversized_refused() {
    let long = format!("/opt/cursor/artifacts/{}.log", "n".repeat(4000));
    let (sims, c, id) = agent_with(vec![
        SimArtifact::new("/opt/cursor/artifacts/../../../escape.txt", 10),
        SimArtifact::new("/etc/passwd", 11),
        SimArtifact::new("C:\\Users\\evil.bat", 12),
        SimArtifact::new(&long, 13),
        SimArtifact::new("/opt/cursor/artifacts/dup.png", 14),
        SimArtifact::new("/opt/cursor/artifacts/./dup.png", 15),
        SimArtifact::new("/opt/cursor/artifacts/nul\0.png", 16),
        SimArtifact::new(
            "/opt/cursor/artifacts/big-listed.mp4",
            MAX_ARTIFACT_BYTES + 1,
        ),
        SimArtifact {
            served_bytes: 5000,
            ..SimArtifact::new("/opt/cursor/artifacts/lies-about-size.bin", 10)
        },
        SimArtifact::new("/opt/cursor/artifacts/..", 17),
    ])
    .await;
    let ws = tempfile::tempdir().unwrap();
    let dir = prepare_dir(ws.path(), "out").unwrap();
    let root = dir.root.clone();
    let listed = list(ArtifactApi::V0(&c), &id, Clock::real()).await.unwrap();
    let limits = Limits {
        per_artifact: 1000,
        total: 1_000_000,
    };
    let got = download_all(
        ArtifactApi::V0(&c),
        &http(),
        &id,
        &listed,
        &dir.clone().with_limits(limits),
        Clock::real(),
    )
    .await;
    let written = files_under(&root);
    assert_eq!(
        written,
        [
            "Users/evil.bat".to_string(),
            "dup-2.png".into(),
            "dup.png".into(),
            "escape.txt".into(),
            "etc/passwd".into(),
            format!("{}.log", "n".repeat(96)),
            "nul_.png".into(),
        ]
    );
    // Nothing outside the directory: the workspace holds only it.
    assert_eq!(files_under(ws.path()).len(), written.len());
    let skipped: Vec<(&str, &str)> = got
        .skipped
        .iter()
        .map(|s| (s.api_path.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped.iter().any(|(p, r)| p.ends_with("big-listed.mp4")
            && r.contains("over the 1000 B limit per artifact"))
    );
    assert!(
        skipped
            .iter()
            .any(|(p, r)| p.ends_with("lies-about-size.bin")
                && r.contains("over the 1000 B limit per artifact"))
    );
    assert!(
        skipped
            .iter()
            .any(|(p, r)| p.ends_with("/..") && r.contains("names no file"))
    );
    // The big one was not even asked for; the liar was cut off.
    assert_eq!(sims.cursor.count("GET", "/_artifacts/*/*"), 8);
    assert_eq!(got.requests, 8 + 8);
    let output = got.output();
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), 7);
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("out/") && !l.contains(".."))
    );
    let md = markdown_list(&Default::default(), &listed, Some(&got), None, "github.com").unwrap();
    assert!(
        md.contains("lies-about-size.bin` (10 B) — refused: "),
        "{md}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_planted_link_is_replaced_not_followed() {
    let (_sims, c, id) = agent_with(vec![
        SimArtifact::new("/opt/cursor/artifacts/a.txt", 5),
        SimArtifact::new("/opt/cursor/artifacts/sub/b.txt", 5),
    ])
    .await;
    let ws = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let dir = prepare_dir(ws.path(), "out").unwrap();
    let root = dir.root.clone();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "keep").unwrap();
    std::os::unix::fs::symlink(&victim, root.join("a.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("sub")).unwrap();
    let listed = list(ArtifactApi::V0(&c), &id, Clock::real()).await.unwrap();
    let got = download_all(
        ArtifactApi::V0(&c),
        &http(),
        &id,
        &listed,
        &dir,
        Clock::real(),
    )
    .await;
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert!(!outside.path().join("b.txt").exists());
    assert_eq!(got.output(), "out/a.txt");
    assert!(got.skipped[0].reason.contains("link"), "{:?}", got.skipped);
    // A download directory that is itself a link out of the workspace.
    std::os::unix::fs::symlink(outside.path(), ws.path().join("escape")).unwrap();
    assert!(matches!(
        prepare_dir(ws.path(), "escape"),
        Err(ArtifactError::OutsideWorkspace(_))
    ));
    for bad in ["../x", "/tmp/x", "a/../../x"] {
        assert!(
            matches!(
                prepare_dir(ws.path(), bad),
                Err(ArtifactError::OutsideWorkspace(_))
            ),
            "{bad}"
        );
    }
}

/// Every entry under `dir`, recursively (what a run may have created there).
fn tree(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        found.push(p.display().to_string());
        if p.is_dir() && !p.is_symlink() {
            found.extend(tree(&p));
        }
    }
    found.sort();
    found
}

#[cfg(unix)]
#[test]
fn a_download_directory_through_a_link_out_of_the_workspace_creates_nothing_outside() {
    use std::os::unix::fs::symlink;
    let ws = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let before = tree(outside.path());
    symlink(outside.path(), ws.path().join("escape")).unwrap();
    std::fs::create_dir(ws.path().join("real")).unwrap();
    symlink(ws.path().join("real"), ws.path().join("inside")).unwrap();
    // A link to a place that does not exist yet, outside.
    symlink(outside.path().join("later"), ws.path().join("dangling")).unwrap();
    symlink("../../..", ws.path().join("real").join("up")).unwrap();
    for dir in [
        "escape",
        "escape/sub",
        "escape/sub/deeper",
        "out/../escape",
        "dangling",
        "dangling/x",
        "inside/up/x",
        "real/up/y/z",
    ] {
        let got = prepare_dir(ws.path(), dir);
        assert!(
            matches!(got, Err(ArtifactError::OutsideWorkspace(_))),
            "{dir}: {got:?}"
        );
        assert_eq!(
            tree(outside.path()),
            before,
            "{dir} created something outside"
        );
    }
    assert!(!outside.path().join("later").exists());
    // A link that stays inside is followed, and the directory made there.
    let ok = prepare_dir(ws.path(), "inside/cursor/shots").unwrap();
    let real = ws.path().canonicalize().unwrap().join("real/cursor/shots");
    assert_eq!(ok.root, real);
    assert!(real.is_dir());
    // A file where a directory should be is named.
    std::fs::write(ws.path().join("notes"), "x").unwrap();
    let e = prepare_dir(ws.path(), "notes/a").unwrap_err().to_string();
    assert!(e.contains("notes is a file, not a directory"), "{e}");
}

#[tokio::test]
async fn an_old_agent_is_told_by_the_six_month_rule() {
    let (sims, c, id) = agent_with(Scenario::default().artifacts).await;
    sims.cursor.add_fault(FaultRule::new(
        "GET",
        "/v0/agents/*/artifacts",
        Fault::Status {
            status: 400,
            body: Some(r#"{"error":"Agent is older than 6 months"}"#.into()),
            retry_after: None,
            headers: vec![],
        },
    ));
    let err = list(ArtifactApi::V0(&c), &id, Clock::real())
        .await
        .unwrap_err();
    assert_eq!(err, ArtifactError::TooOld);
    assert!(err.to_string().contains("within the last 6 months"));
}

/// A v1 API on loopback whose presigned URLs lead to itself, and which
/// hands out a non-http URL for one artifact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_artifacts_download_and_only_http_urls_are_followed() {
    let server = MockServer::start().await;
    let id = "bc-11111111-2222-3333-4444-555555555555";
    let base = format!("/v1/agents/{id}/artifacts");
    Mock::given(method("GET"))
        .and(path(base.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"items": [
            {"path": "artifacts/report.md", "sizeBytes": 6, "updatedAt": "2026-10-01T00:00:00Z"},
            {"path": "artifacts/../../evil.sh", "sizeBytes": 4},
            {"path": "artifacts/file.txt", "sizeBytes": 4}
        ]})))
        .mount(&server)
        .await;
    for (p, url) in [
        (
            "artifacts/report.md",
            format!("{}/storage/report", server.uri()),
        ),
        (
            "artifacts/../../evil.sh",
            format!("{}/storage/evil", server.uri()),
        ),
        ("artifacts/file.txt", "file:///etc/passwd".to_string()),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("{base}/download")))
            .and(query_param("path", p))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"url": url, "expiresAt": "2026-10-01T00:15:00Z"}),
            ))
            .mount(&server)
            .await;
    }
    for (p, body) in [("/storage/report", "# Done"), ("/storage/evil", "boom")] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&server)
            .await;
    }
    let client = V1Client::new(
        http(),
        &url::Url::parse(&server.uri()).unwrap(),
        &Secret::new(KEY),
        AuthScheme::Bearer,
        Clock::real(),
    );
    let ws = tempfile::tempdir().unwrap();
    let dir = prepare_dir(ws.path(), "art").unwrap();
    let root = dir.root.clone();
    let listed = list(ArtifactApi::V1(&client), id, Clock::real())
        .await
        .unwrap();
    let got = download_all(
        ArtifactApi::V1(&client),
        &http(),
        id,
        &listed,
        &dir,
        Clock::real(),
    )
    .await;
    assert_eq!(got.output(), "art/report.md\nart/evil.sh");
    assert_eq!(
        std::fs::read_to_string(root.join("report.md")).unwrap(),
        "# Done"
    );
    assert!(got.skipped[0].reason.contains("not an http(s) URL"));
    // Storage never saw our key.
    for r in server.received_requests().await.unwrap() {
        if r.url.path().starts_with("/storage/") {
            assert!(!r.headers.contains_key("authorization"), "{r:?}");
        }
    }
}

fn parse_inputs(pairs: &[(&str, &str)]) -> Result<cursor_agent_action::inputs::Inputs, String> {
    use cursor_agent_action::inputs::{Inputs, RawInputs};
    let mut env: Vec<(String, String)> = vec![("INPUT_CURSOR-API-KEY".into(), KEY.into())];
    for (k, v) in pairs {
        env.push((k.to_string(), v.to_string()));
    }
    Inputs::parse(
        &RawInputs::read(&kit::env::Env::from_pairs(env)),
        Path::new("/nonexistent-workspace"),
    )
    .map_err(|e| e.to_string())
}

#[test]
fn the_new_inputs_are_parsed_and_bad_values_named() {
    let i = parse_inputs(&[]).unwrap();
    assert_eq!(
        (i.download_artifacts, i.max_launches_per_issue),
        (None, None)
    );
    let i = parse_inputs(&[
        ("INPUT_DOWNLOAD-ARTIFACTS", "./out//shots/"),
        ("INPUT_MAX-LAUNCHES-PER-ISSUE", " 3 "),
    ])
    .unwrap();
    assert_eq!(i.download_artifacts.as_deref(), Some("out/shots"));
    assert_eq!(i.max_launches_per_issue.map(|n| n.get()), Some(3));
    for bad in ["../x", "/tmp/x", "a/../../x", "C:\\x", ".", "~/x", "a\nb"] {
        let e = parse_inputs(&[("INPUT_DOWNLOAD-ARTIFACTS", bad)]).unwrap_err();
        assert!(e.contains("download-artifacts"), "{bad:?}: {e}");
        assert!(e.contains("relative to the workspace"), "{bad:?}: {e}");
    }
    for bad in ["0", "-1", "two", "1.5", "99999999999"] {
        let e = parse_inputs(&[("INPUT_MAX-LAUNCHES-PER-ISSUE", bad)]).unwrap_err();
        assert!(
            e.contains("max-launches-per-issue") && e.contains("positive whole number"),
            "{bad:?}: {e}"
        );
    }
}

#[tokio::test]
async fn gather_is_one_call_and_never_fails() {
    use cursor_agent_action::artifacts::gather;
    let (_sims, c, id) = agent_with(vec![
        SimArtifact::new("/opt/cursor/artifacts/shot.png", 3),
        SimArtifact::new("/opt/cursor/artifacts/huge.mp4", MAX_ARTIFACT_BYTES + 1),
    ])
    .await;
    let ws = tempfile::tempdir().unwrap();
    let api = ArtifactApi::V0(&c);
    // Listed only (no input): named in the comment, nothing written.
    let g = gather(
        api,
        &http(),
        &id,
        ws.path(),
        None,
        None,
        "github.com",
        Clock::real(),
    )
    .await;
    let shown = g.shown.unwrap();
    assert!(
        shown.markdown.contains("- `shot.png` (3 B)\n"),
        "{}",
        shown.markdown
    );
    assert_eq!(shown.output, "");
    assert!(g.warnings.is_empty());
    assert!(files_under(ws.path()).is_empty());
    // Downloaded: the big one refused with a warning naming it.
    let g = gather(
        api,
        &http(),
        &id,
        ws.path(),
        Some("art"),
        Some("https://github.com/o/r/actions/runs/1#artifacts"),
        "github.com",
        Clock::real(),
    )
    .await;
    let shown = g.shown.unwrap();
    assert_eq!(shown.output, "art/shot.png");
    assert!(
        shown
            .markdown
            .contains("[artifacts](https://github.com/o/r/actions/runs/1#artifacts)")
    );
    assert_eq!(g.warnings.len(), 1);
    assert!(g.warnings[0].contains("huge.mp4") && g.warnings[0].contains("refused"));
    // A directory outside the workspace: a warning, the list still shown.
    let g = gather(
        api,
        &http(),
        &id,
        ws.path(),
        Some("../x"),
        None,
        "github.com",
        Clock::real(),
    )
    .await;
    assert!(
        g.warnings[0].contains("download-artifacts"),
        "{:?}",
        g.warnings
    );
    assert_eq!(g.shown.unwrap().output, "");
}
