//! The release rehearsal: what a user downloads, exercised here. The
//! archive scripts/package built (the static musl release binary, exactly
//! as release.yml builds it) is served from a local release server, and
//! tests/act/cursor.yml runs action.yml through `act`: install.sh downloads
//! it, verifies it against checksums.txt and execs it, and it launches an
//! agent against the simulators. A tampered archive or checksum is refused
//! and nothing runs. The aarch64 musl archive, cross-built by the same
//! script, runs its `demo` (the whole flow against in-process simulators)
//! under qemu-user.
//!
//! Compiled only with the `rehearsal` feature, which scripts/rehearse-release
//! turns on after packaging: it sets CURSOR_AGENT_ACTION_REHEARSAL_DIST to
//! the directory holding the archive and its .sha256. Without that
//! variable, or without the archive, these tests fail; they never skip.

use crate::act::{ActRun, host_asset, host_target, run_act_with, sha256_hex, version};
use crate::support::*;
use sim::*;
use std::path::PathBuf;
use std::process::Command;

const DIST_VAR: &str = "CURSOR_AGENT_ACTION_REHEARSAL_DIST";

/// The packaged archive and the checksum line scripts/package wrote.
struct Packaged {
    archive: Vec<u8>,
    checksum_line: String,
    dir: PathBuf,
}

fn packaged() -> Packaged {
    packaged_for(&host_asset())
}

fn packaged_for(asset: &str) -> Packaged {
    let dir = PathBuf::from(std::env::var_os(DIST_VAR).unwrap_or_else(|| {
        panic!("{DIST_VAR} is not set: run the rehearsal with scripts/rehearse-release")
    }));
    let archive = std::fs::read(dir.join(asset)).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; scripts/package did not write it",
            dir.join(asset).display()
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

/// An ELF file's machine (62 x86-64, 183 aarch64).
fn elf_machine(bytes: &[u8]) -> u16 {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    u16::from_le_bytes([bytes[0x12], bytes[0x13]])
}

/// Unpacks `p`'s archive, checks its layout (one file at the root, the
/// checksum line scripts/package wrote), and returns the binary.
fn unpacked(p: &Packaged, asset: &str, into: &std::path::Path) -> PathBuf {
    assert_eq!(
        p.checksum_line.trim_end(),
        format!("{}  {asset}", sha256_hex(&p.archive))
    );
    let listed = Command::new("tar")
        .arg("-xzvf")
        .arg(p.dir.join(asset))
        .arg("-C")
        .arg(into)
        .output()
        .unwrap();
    assert!(listed.status.success());
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout).trim(),
        "cursor-agent-action"
    );
    into.join("cursor-agent-action")
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
    assert!(sims.github.comments(REPO, 1).is_empty());
    assert_eq!(run.record.get("OUTCOME").map(String::as_str), Some(""));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_packaged_release_installs_verified_and_launches_an_agent() {
    let p = packaged();
    // The archive is what release.yml publishes: its checksum line, one
    // static binary at its root, this version.
    let dir = tempfile::tempdir().unwrap();
    let bin = unpacked(&p, &host_asset(), dir.path());
    assert_eq!(host_target(), "x86_64-unknown-linux-musl");
    let elf = std::fs::read(&bin).unwrap();
    assert_eq!(elf_machine(&elf), 62);
    assert!(is_static_elf(&elf), "not static");
    let v = Command::new(&bin).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("cursor-agent-action {}", version())
    );

    let sims = scaled_sims().await;
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
    assert_eq!(sims.github.comments(REPO, 1).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_archive_is_refused_and_nothing_runs() {
    let p = packaged();
    // One byte changed, anywhere in the archive: the middle, then the end.
    for at in [p.archive.len() / 2, p.archive.len() - 1] {
        let mut tampered = p.archive.clone();
        tampered[at] ^= 0x01;
        let sims = scaled_sims().await;
        let run = run_act_with(&sims, tampered, &p.checksum_line).await;
        nothing_ran(&sims, &run);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_checksum_is_refused_and_nothing_runs() {
    let p = packaged();
    let asset = host_asset();
    let wrong = sha256_hex(b"another binary");
    let sims = scaled_sims().await;
    let run = run_act_with(&sims, p.archive, &format!("{wrong}  {asset}\n")).await;
    nothing_ran(&sims, &run);
}

/// The aarch64 archive (cross-built by scripts/package): static, this
/// version, and its `demo` runs the whole flow (launch, wait, comment)
/// against its in-process simulators under qemu-user. install.sh's choice
/// of this asset on Linux ARM64 runners is tested in install.rs.
#[test]
fn the_aarch64_archive_is_static_and_runs_its_demo_under_qemu() {
    let asset = format!(
        "cursor-agent-action-{}-aarch64-unknown-linux-musl.tar.gz",
        version()
    );
    let p = packaged_for(&asset);
    let dir = tempfile::tempdir().unwrap();
    let bin = unpacked(&p, &asset, dir.path());
    let elf = std::fs::read(&bin).unwrap();
    assert_eq!(elf_machine(&elf), 183, "not an aarch64 binary");
    assert!(is_static_elf(&elf), "not static");
    let qemu = |args: &[&str]| {
        Command::new("qemu-aarch64")
            .arg(&bin)
            .args(args)
            .env_clear()
            .env("NO_COLOR", "1")
            .output()
            .expect("qemu-aarch64 (Debian's qemu-user): scripts/rehearse-release installs it")
    };
    let v = qemu(&["--version"]);
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("cursor-agent-action {}", version())
    );
    let demo = qemu(&["demo"]);
    let out = String::from_utf8_lossy(&demo.stdout);
    assert!(demo.status.success(), "demo under qemu failed:\n{out}");
    assert!(out.contains("Launched agent bc-"), "{out}");
    assert!(
        out.contains("Reactions on the issue: eyes, rocket"),
        "{out}"
    );
}
