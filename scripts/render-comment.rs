//! Reads `cargo run -- demo`'s output on stdin and writes, for each picture
//! of docs/images/, `<dir>/<name>.html` (the comment as GitHub renders it,
//! for scripts/render-comment to screenshot) and `<dir>/<name>.sha256` (its
//! fingerprint, which tests/integration/docs.rs checks against the current
//! demo). Usage: `cargo run --example render-comment -- <dir> < demo.txt`.

#[path = "../tests/integration/pictures.rs"]
mod pictures;

use std::io::Read;
use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!(
            "usage: render-comment <dir> < demo-output (run by {})",
            pictures::REGENERATE
        );
        return std::process::ExitCode::from(2);
    };
    let mut demo = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut demo) {
        eprintln!("render-comment: cannot read the demo's output: {e}");
        return std::process::ExitCode::FAILURE;
    }
    for (name, title) in pictures::PICTURES {
        let Some(markdown) = pictures::section(&demo, title) else {
            eprintln!("render-comment: the demo's output has no section {title:?}");
            return std::process::ExitCode::FAILURE;
        };
        let html = pictures::to_html(&markdown);
        let hash = pictures::fingerprint(&markdown) + "\n";
        for (file, text) in [
            (format!("{name}.html"), html),
            (format!("{name}.sha256"), hash),
        ] {
            if let Err(e) = std::fs::write(dir.join(&file), text) {
                eprintln!("render-comment: cannot write {file}: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    std::process::ExitCode::SUCCESS
}
