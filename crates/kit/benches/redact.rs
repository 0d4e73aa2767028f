//! What redacting a CI log costs: a 50 MB log (the size a failed job's log
//! normally reaches) redacted line by line, as the evidence reader does,
//! and whole, with no secret registered (the token shapes only) and with
//! three; and the same log made of the scanner's worst pieces (starts of
//! forms and shapes, private key headers, line breaks).
//!
//! `cargo bench -p kit --bench redact` prints the table: wall time, MB/s
//! and the deterministic work count per byte (`kit::secret::work_done`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kit::secret::{Redactor, work_done};
use std::time::Instant;

const SIZE: usize = 50 << 20;

/// A log like a failed job's: timestamps, compiler and test output, base64
/// blobs wrapped at 76 columns, and a few secrets in their forms.
fn ordinary_log(secrets: &[&str]) -> String {
    let blob = STANDARD.encode([7u8; 300].as_slice());
    let wrapped: Vec<&str> = blob
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let mut log = String::with_capacity(SIZE + 4096);
    let mut n = 0usize;
    while log.len() < SIZE {
        n += 1;
        log.push_str(&format!(
            "2025-01-01T00:00:{:02}.0000000Z    Compiling crate-{n} v0.1.{n} (/home/runner/work/o/r)\n",
            n % 60
        ));
        log.push_str("test tests::it_works ... ok\n");
        if n.is_multiple_of(100) {
            for line in &wrapped {
                log.push_str(line);
                log.push('\n');
            }
        }
        if n.is_multiple_of(10_000) {
            let s = secrets[n / 10_000 % secrets.len()];
            log.push_str(&format!("token={s} auth={}\n", STANDARD.encode(s)));
        }
    }
    log
}

/// The scanner's worst pieces, repeated.
fn hostile_log(secret: &str) -> String {
    let encoded = STANDARD.encode(secret);
    let unit = format!(
        "{}\n{}\r\nghp_0123456789 github_pat_ AKIAABCD -----BEGIN -----END CERTIFICATE----- %2F\n",
        &secret[..secret.len() - 1],
        &encoded[..encoded.len() - 2]
    );
    unit.repeat(SIZE / unit.len() + 1)
}

fn measure(label: &str, r: &Redactor, log: &str) {
    let mb = log.len() as f64 / (1 << 20) as f64;
    for (how, whole) in [("line by line", false), ("whole", true)] {
        let work = work_done();
        let start = Instant::now();
        let mut replaced = 0usize;
        if whole {
            replaced += r.redact(log).matches("***").count();
        } else {
            for line in log.lines() {
                let (out, _) = r.cut_bytes(line, 4096);
                replaced += out.matches("***").count();
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let steps = (work_done() - work) as f64 / log.len() as f64;
        println!(
            "| {label} | {how} | {mb:.0} MB | {:.0} ms | {:.0} MB/s | {steps:.1} | {replaced} |",
            secs * 1000.0,
            mb / secs
        );
    }
}

fn main() {
    let secrets = [
        "crsr_0123456789abcdef0123456789abcdef",
        "ghs_bench0000000000000000000000000000",
        "s3cr3t value/with+symbols~",
    ];
    let none = Redactor::new();
    let three = secrets.iter().fold(Redactor::new(), |r, s| r.with(s));
    println!("| log | registered | how | size | time | throughput | work per byte | replaced |");
    println!("|---|---|---|---|---|---|---|---|");
    let ordinary = ordinary_log(&secrets);
    measure("ordinary | none", &none, &ordinary);
    measure("ordinary | 3 secrets", &three, &ordinary);
    let hostile = hostile_log(secrets[0]);
    measure("worst pieces | 3 secrets", &three, &hostile);
}
