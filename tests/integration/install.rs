//! scripts/install.sh, the first step of action.yml, against a local
//! release server: the right asset for each runner, checksums enforced,
//! transient failures retried, and the source build when there is no release.

use crate::act::{action_copy, archive, sha256_hex, version};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// What one run of install.sh left behind.
struct Installed {
    code: i32,
    stdout: String,
    outputs: BTreeMap<String, String>,
}

/// A stand-in binary: a script that says which target it was built for.
fn fake_binary(dir: &Path, target: &str) -> PathBuf {
    let p = dir.join(format!("fake-{target}"));
    std::fs::write(
        &p,
        format!("#!/bin/sh\necho \"cursor-agent-action for {target}\"\n"),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    p
}

/// A PATH holding only `tools` (links to the ones on this machine's PATH),
/// so a test can take cargo away wherever this machine installed it.
fn path_with_only(dir: &Path, tools: &[&str]) -> String {
    let only = dir.join("only-these-tools");
    std::fs::create_dir_all(&only).unwrap();
    let search = std::env::var("PATH").unwrap_or_default();
    for tool in tools {
        let found = std::env::split_paths(&search)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{tool} is not on PATH"));
        #[cfg(unix)]
        std::os::unix::fs::symlink(found, only.join(tool)).unwrap();
    }
    only.display().to_string()
}

/// One run of install.sh as a runner would start it (a Linux X64 runner
/// with this machine's PATH unless told otherwise), in a clean environment.
struct Install<'a> {
    action: &'a Path,
    dir: PathBuf,
    os: &'a str,
    arch: &'a str,
    download_base: Option<String>,
    path: String,
}

impl<'a> Install<'a> {
    fn new(action: &'a Path, dir: &Path) -> Self {
        Install {
            action,
            dir: dir.to_path_buf(),
            os: "Linux",
            arch: "X64",
            download_base: None,
            path: std::env::var("PATH").unwrap_or_default(),
        }
    }

    fn runner(mut self, os: &'a str, arch: &'a str) -> Self {
        self.os = os;
        self.arch = arch;
        self
    }

    fn releases_at(mut self, base: &str) -> Self {
        self.download_base = Some(base.to_string());
        self
    }

    /// Tools found before the ones on PATH (a fake cargo).
    fn tools_first(mut self, dir: &Path) -> Self {
        self.path = format!("{}:{}", dir.display(), self.path);
        self
    }

    fn path(mut self, path: String) -> Self {
        self.path = path;
        self
    }

    fn run(self) -> Installed {
        let (os, arch) = (self.os, self.arch);
        let output = self.dir.join(format!("output-{os}-{arch}"));
        let temp = self.dir.join(format!("runner-temp-{os}-{arch}"));
        std::fs::create_dir_all(&temp).unwrap();
        let mut cmd = Command::new("bash");
        cmd.arg(self.action.join("scripts/install.sh"))
            .env_clear()
            .env("PATH", &self.path)
            .env("GITHUB_ACTION_PATH", self.action)
            .env("GITHUB_OUTPUT", &output)
            .env("RUNNER_TEMP", &temp)
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env(
                "GITHUB_ACTION_REPOSITORY",
                "cursor-agent-action/cursor-agent-action",
            )
            // Backoff without waiting (retries still happen; they are counted).
            .env("CURSOR_AGENT_ACTION_RETRY_DELAY", "0");
        if let Some(b) = &self.download_base {
            cmd.env("CURSOR_AGENT_ACTION_DOWNLOAD_BASE", b);
        }
        let out = cmd.output().unwrap();
        let outputs = std::fs::read_to_string(&output)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                l.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        Installed {
            code: out.status.code().unwrap_or(-1),
            stdout: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            outputs,
        }
    }
}

const PLATFORMS: &[(&str, &str, &str, &str)] = &[
    ("Linux", "X64", "x86_64-unknown-linux-musl", ""),
    ("Linux", "ARM64", "aarch64-unknown-linux-musl", ""),
    ("macOS", "ARM64", "aarch64-apple-darwin", ""),
    ("macOS", "X64", "x86_64-apple-darwin", ""),
    ("Windows", "X64", "x86_64-pc-windows-msvc", ".exe"),
];

/// The target of the runner `Install` stands for unless told otherwise.
const LINUX_X64: &str = "x86_64-unknown-linux-musl";

/// A release archive for `LINUX_X64`.
fn linux_x64_archive(dir: &Path) -> Vec<u8> {
    archive(dir, &fake_binary(dir, LINUX_X64), "cursor-agent-action")
}

fn asset(target: &str) -> String {
    format!("cursor-agent-action-{}-{target}.tar.gz", version())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_right_asset_for_each_runner_verified() {
    let dir = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    let mut checksums = String::new();
    for (i, (_, _, target, exe)) in PLATFORMS.iter().enumerate() {
        let d = dir.path().join(format!("a{i}"));
        std::fs::create_dir_all(&d).unwrap();
        let bytes = archive(
            &d,
            &fake_binary(&d, target),
            &format!("cursor-agent-action{exe}"),
        );
        checksums.push_str(&format!("{}  {}\n", sha256_hex(&bytes), asset(target)));
        Mock::given(method("GET"))
            .and(path(format!("/v{}/{}", version(), asset(target))))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes))
            .expect(1)
            .mount(&server)
            .await;
    }
    let action = action_copy(dir.path(), &checksums);
    for (os, arch, target, exe) in PLATFORMS {
        let r = Install::new(&action, dir.path())
            .runner(os, arch)
            .releases_at(&server.uri())
            .run();
        assert_eq!(r.code, 0, "{os}/{arch}: {}", r.stdout);
        let bin = PathBuf::from(&r.outputs["bin"]);
        assert!(
            bin.ends_with(format!("cursor-agent-action{exe}")),
            "{bin:?}"
        );
        assert!(bin.to_string_lossy().contains(target), "{bin:?}");
        let said = Command::new(&bin).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&said.stdout).trim(),
            format!("cursor-agent-action for {target}")
        );
    }
    // A second use in the same job reuses the verified binary.
    let again = Install::new(&action, dir.path())
        .releases_at(&server.uri())
        .run();
    assert_eq!(again.code, 0);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        PLATFORMS.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checksum_mismatch_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = LINUX_X64;
    let bytes = linux_x64_archive(dir.path());
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes))
        .mount(&server)
        .await;
    let wrong = "0".repeat(64);
    let action = action_copy(dir.path(), &format!("{wrong}  {}\n", asset(target)));
    let r = Install::new(&action, dir.path())
        .releases_at(&server.uri())
        .run();
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("::error title=cursor-agent-action install::checksum mismatch"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!("expected {wrong}")),
        "{}",
        r.stdout
    );
    assert!(!r.outputs.contains_key("bin"), "no binary is handed on");
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_failures_are_retried() {
    let dir = tempfile::tempdir().unwrap();
    let target = LINUX_X64;
    let bytes = linux_x64_archive(dir.path());
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes.clone()))
        .with_priority(2)
        .mount(&server)
        .await;
    let action = action_copy(
        dir.path(),
        &format!("{}  {}\n", sha256_hex(&bytes), asset(target)),
    );
    let r = Install::new(&action, dir.path())
        .releases_at(&server.uri())
        .run();
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    // A release server that keeps failing: a clear error, not a hang.
    let down = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&down)
        .await;
    let r = Install::new(&action, &dir.path().join("again"))
        .releases_at(&down.uri())
        .run();
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("could not download") && r.stdout.contains("after 4 attempts"),
        "{}",
        r.stdout
    );
}

/// A `cargo` that records how it was called and "installs" a binary.
fn fake_cargo(dir: &Path) -> (PathBuf, PathBuf) {
    let bin_dir = dir.join("fake-cargo-bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let log = dir.join("cargo-args.txt");
    let script = format!(
        "#!/bin/sh\necho \"$@\" > '{}'\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --root ]; then root=$2; fi; shift; done\nmkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho built from source\\n' > \"$root/bin/cursor-agent-action\"\nchmod +x \"$root/bin/cursor-agent-action\"\n",
        log.display()
    );
    std::fs::write(bin_dir.join("cargo"), script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            bin_dir.join("cargo"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    (bin_dir, log)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_release_builds_from_source_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (cargo_dir, log) = fake_cargo(dir.path());
    // No checksum recorded for this version (a branch or unreleased commit).
    let action = action_copy(dir.path(), "");
    let server = MockServer::start().await;
    let r = Install::new(&action, dir.path())
        .releases_at(&server.uri())
        .tools_first(&cargo_dir)
        .run();
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("::notice title=cursor-agent-action install::No released binary of"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Building cursor-agent-action") && r.stdout.contains("from source"),
        "{}",
        r.stdout
    );
    let args = std::fs::read_to_string(&log).unwrap();
    assert!(
        args.starts_with(&format!(
            "install --locked --quiet --path {} --root ",
            action.display()
        )),
        "{args}"
    );
    let said = Command::new(&r.outputs["bin"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&said.stdout).trim(),
        "built from source"
    );
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing to download"
    );

    // A checksum recorded but the asset missing (404): also from source.
    let target = LINUX_X64;
    let action = action_copy(
        &dir.path().join("b"),
        &format!("{}  {}\n", "1".repeat(64), asset(target)),
    );
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let r = Install::new(&action, &dir.path().join("b"))
        .releases_at(&server.uri())
        .tools_first(&cargo_dir)
        .run();
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("does not exist (404)"), "{}", r.stdout);

    // Unknown platforms build from source too.
    let r = Install::new(&action, &dir.path().join("c"))
        .runner("FreeBSD", "X64")
        .releases_at(&server.uri())
        .tools_first(&cargo_dir)
        .run();
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("No prebuilt binary for FreeBSD/X64"),
        "{}",
        r.stdout
    );

    // Without cargo, a source build is impossible: say what to do.
    let r = Install::new(&action, &dir.path().join("d"))
        .runner("FreeBSD", "X64")
        .releases_at(&server.uri())
        .path(path_with_only(dir.path(), &["bash", "sed", "head"]))
        .run();
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "cargo is not installed; pin a released version of the action, or install Rust first"
        ),
        "{}",
        r.stdout
    );
}
