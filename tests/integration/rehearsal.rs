//! The release rehearsal: what a user downloads, exercised here. The
//! archive scripts/package built (the static musl release binary, exactly
//! as release.yml builds it) is served from a local release server, and
//! tests/act/cursor.yml runs action.yml through `act`: install.sh downloads
//! it, verifies it against checksums.txt and execs it, and it launches an
//! agent against the simulators. A tampered archive or checksum is refused
//! and nothing runs.
//!
//! Compiled only with the `rehearsal` feature, which scripts/rehearse-release
//! turns on after packaging: it sets CURSOR_AGENT_ACTION_REHEARSAL_DIST to
//! the directory holding the archive and its .sha256. Without that
//! variable, or without the archive, these tests fail; they never skip.

use crate::act::{ActRun, host_asset, host_target, run_act_with, sha256_hex, version};
use crate::support::*;
use cursor_agent_action::clock::Clock;
use cursor_agent_action::sim::*;
use std::path::PathBuf;
use std::process::Command;

const SCALE: u32 = 600;
const DIST_VAR: &str = "CURSOR_AGENT_ACTION_REHEARSAL_DIST";

/// The packaged archive and the checksum line scripts/package wrote.
struct Packaged {
    archive: Vec<u8>,
    checksum_line: String,
    dir: PathBuf,
}

fn packaged() -> Packaged {
    let dir = PathBuf::from(std::env::var_os(DIST_VAR).unwrap_or_else(|| {
        panic!("{DIST_VAR} is not set: run the rehearsal with scripts/rehearse-release")
    }));
    let asset = host_asset();
    let archive = std::fs::read(dir.join(&asset)).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; scripts/package {} did not write it",
            dir.join(&asset).display(),
            host_target()
        )
    });
    let checksum_line = std::fs::read_to_string(dir.join(format!("{asset}.sha256")))
        .unwrap_or_else(|e| panic!("{asset}.sha256: {e}"));
    Packaged {
        archive,
        checksum_line,
        dir,
    }
}

async fn sims() -> Simulators {
    let sims = sims_on(Clock::scaled(SCALE)).await;
    sims.cursor.set_default_scenario(Scenario::lasting(20, 120));
    sims
}

/// Whether an ELF file has no program interpreter (PT_INTERP): a static
/// binary, which runs on any Linux runner and in any container.
fn is_static_elf(bytes: &[u8]) -> bool {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[4], 2, "not a 64-bit ELF file");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| {
        let p = phoff + i * phentsize;
        u32::from_le_bytes(bytes[p..p + 4].try_into().unwrap()) != 3
    })
}

fn nothing_ran(sims: &Simulators, run: &ActRun) {
    assert_ne!(run.code, 0, "act should fail:\n{}", run.log);
    assert!(
        run.log.contains("checksum mismatch") && run.log.contains("Refusing to run it"),
        "a clear refusal:\n{}",
        run.log
    );
    assert!(
        sims.cursor.requests().is_empty(),
        "no Cursor request: {:?}",
        sims.cursor.requests()
    );
    assert!(sims.github.comments("Codertocat/Hello-World", 1).is_empty());
    assert_eq!(run.record.get("OUTCOME").map(String::as_str), Some(""));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_packaged_release_installs_verified_and_launches_an_agent() {
    let p = packaged();
    // The archive is what release.yml publishes: its checksum line, one
    // static binary at its root, this version.
    let asset = host_asset();
    assert_eq!(
        p.checksum_line.trim_end(),
        format!("{}  {asset}", sha256_hex(&p.archive))
    );
    let unpacked = tempfile::tempdir().unwrap();
    let listed = Command::new("tar")
        .arg("-xzvf")
        .arg(p.dir.join(&asset))
        .arg("-C")
        .arg(unpacked.path())
        .output()
        .unwrap();
    assert!(listed.status.success());
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout).trim(),
        "cursor-agent-action"
    );
    let bin = unpacked.path().join("cursor-agent-action");
    assert!(is_static_elf(&std::fs::read(&bin).unwrap()), "not static");
    let v = Command::new(&bin).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("cursor-agent-action {}", version())
    );

    let sims = sims().await;
    let run = run_act_with(&sims, p.archive, &p.checksum_line).await;
    assert_eq!(run.code, 0, "act failed:\n{}", run.log);
    assert!(
        !run.log.contains("from source"),
        "installed the release, not a source build:\n{}",
        run.log
    );
    assert_eq!(sims.cursor.count("POST", "/v0/agents"), 1);
    assert_eq!(sims.cursor.agents_created(), 1);
    let r = &run.record;
    assert_eq!(r["OUTCOME"], "finished", "{r:?}\n{}", run.log);
    assert!(r["AGENT_ID"].starts_with("bc-"));
    assert_eq!(sims.github.comments("Codertocat/Hello-World", 1).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_archive_is_refused_and_nothing_runs() {
    let p = packaged();
    // One byte changed, anywhere in the archive: the middle, then the end.
    for at in [p.archive.len() / 2, p.archive.len() - 1] {
        let mut tampered = p.archive.clone();
        tampered[at] ^= 0x01;
        let sims = sims().await;
        let run = run_act_with(&sims, tampered, &p.checksum_line).await;
        nothing_ran(&sims, &run);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_checksum_is_refused_and_nothing_runs() {
    let p = packaged();
    let asset = host_asset();
    let wrong = sha256_hex(b"another binary");
    let sims = sims().await;
    let run = run_act_with(&sims, p.archive, &format!("{wrong}  {asset}\n")).await;
    nothing_ran(&sims, &run);
}
