//! The documentation cannot rot: every relative link and `#anchor` in the
//! README, docs/, SECURITY.md, CONTRIBUTING.md and CHANGELOG.md resolves
//! (GitHub's heading slugs); every workflow and `uses:` step in them passes
//! the validators the examples pass and names only real inputs; the README
//! stays short with Quick start on its first screen; each page says whom it
//! is for; and the pictures of the comment are drawn from the current demo.

use crate::action::{check, tool};
use crate::pictures;
use crate::support::ROOT;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every Markdown file a user or contributor reads.
pub(crate) fn markdown_files() -> Vec<PathBuf> {
    let root = Path::new(ROOT);
    let mut files: Vec<PathBuf> = [
        "README.md",
        "SECURITY.md",
        "CONTRIBUTING.md",
        "CHANGELOG.md",
    ]
    .iter()
    .map(|f| root.join(f))
    .collect();
    let mut pages = docs_pages();
    files.append(&mut pages);
    files
}

/// The pages in docs/.
fn docs_pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parser(text: &str) -> Parser<'_> {
    Parser::new_ext(
        text,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS,
    )
}

/// GitHub's anchor for a heading: lower case, punctuation and symbols
/// (emoji included) dropped, each space a hyphen.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown text's headings, with GitHub's `-1`, `-2`
/// suffixes for repeated headings.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut heading: Option<String> = None;
    for event in parser(text) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let base = slug(&heading.take().unwrap_or_default());
                let mut candidate = base.clone();
                let mut n = 0;
                while out.contains(&candidate) {
                    n += 1;
                    candidate = format!("{base}-{n}");
                }
                out.insert(candidate);
            }
            _ => {}
        }
    }
    out
}

/// Every link and image target of a Markdown text, HTML `src`/`href`
/// included.
fn targets(text: &str) -> Vec<String> {
    let attribute = regex::Regex::new(r#"(?:src|href)="([^"]+)""#).unwrap();
    let mut out = Vec::new();
    for event in parser(text) {
        match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                out.push(dest_url.to_string())
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                out.extend(attribute.captures_iter(&html).map(|c| c[1].to_string()))
            }
            _ => {}
        }
    }
    out
}

/// The links of `file` (whose text is `text`) that lead nowhere: a missing
/// file, or an anchor no heading of the target has.
fn broken_links(file: &Path, text: &str) -> Vec<String> {
    let mut broken = Vec::new();
    for target in targets(text) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = match target.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (target.as_str(), None),
        };
        let resolved = if path.is_empty() {
            file.to_path_buf()
        } else {
            file.parent().unwrap().join(path)
        };
        if !resolved.exists() {
            broken.push(format!("{target}: no file {}", resolved.display()));
            continue;
        }
        if let Some(anchor) = anchor {
            let heads = if resolved == file {
                anchors(text)
            } else {
                anchors(&read(&resolved))
            };
            if !heads.contains(anchor) {
                broken.push(format!("{target}: no heading #{anchor} (has {heads:?})"));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut broken = Vec::new();
    let files = markdown_files();
    assert!(files.len() >= 12, "{files:?}");
    for file in &files {
        for b in broken_links(file, &read(file)) {
            broken.push(format!("{}: {b}", file.display()));
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_check_follows_githubs_anchor_rules_and_sees_a_broken_link() {
    assert_eq!(
        slug("Following a v1 run: the stated policies"),
        "following-a-v1-run-the-stated-policies"
    );
    assert_eq!(
        slug("What is untrusted, and what is done about it"),
        "what-is-untrusted-and-what-is-done-about-it"
    );
    assert_eq!(slug("⚙️ `sweep: true` & more"), "-sweep-true--more");
    let text = "# A\n\n## Notes\n\n## Notes\n\n[ok](#notes-1) [bad](#notes-2) [gone](nowhere.md) [img](<docs/images/comment-final.png>)\n<img src=\"docs/images/missing.png\">\n";
    let broken = broken_links(&Path::new(ROOT).join("README.md"), text);
    assert_eq!(broken.len(), 3, "{broken:?}");
    assert!(broken[0].starts_with("#notes-2"), "{broken:?}");
    assert!(broken[1].starts_with("nowhere.md"), "{broken:?}");
    assert!(
        broken[2].starts_with("docs/images/missing.png"),
        "{broken:?}"
    );
}

/// The ```yaml blocks of a Markdown text.
fn yaml_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for event in parser(text) {
        match event {
            Event::Start(Tag::CodeBlock(pulldown_cmark::CodeBlockKind::Fenced(lang)))
                if &*lang == "yaml" || &*lang == "yml" =>
            {
                current = Some(String::new())
            }
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(current.take()),
            _ => {}
        }
    }
    out
}

/// The `with:` keys of every step in `value` that uses this action.
fn action_with_keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map
                .get("uses")
                .and_then(Value::as_str)
                .is_some_and(|u| u.starts_with("cursor-agent-action/cursor-agent-action@"))
                && let Some(with) = map.get("with").and_then(Value::as_object)
            {
                out.extend(with.keys().cloned());
            }
            map.values().for_each(|v| action_with_keys(v, out));
        }
        Value::Array(list) => list.iter().for_each(|v| action_with_keys(v, out)),
        _ => {}
    }
}

#[test]
fn the_docs_workflows_pass_the_examples_validators_and_name_real_inputs() {
    let action: Value = serde_saphyr::from_str(&read(&Path::new(ROOT).join("action.yml"))).unwrap();
    let inputs: BTreeSet<&str> = action["inputs"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut workflows = Vec::new();
    let mut steps_seen = 0;
    for file in markdown_files() {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        for (n, block) in yaml_blocks(&read(&file)).into_iter().enumerate() {
            let value: Value = serde_saphyr::from_str(&block).unwrap_or_else(|e| {
                panic!(
                    "{}: a yaml block does not parse: {e}\n{block}",
                    file.display()
                )
            });
            let mut keys = Vec::new();
            action_with_keys(&value, &mut keys);
            for key in &keys {
                assert!(
                    inputs.contains(key.as_str()),
                    "{}: `{key}:` is not an input of action.yml",
                    file.display()
                );
            }
            steps_seen += usize::from(!keys.is_empty());
            if value.get("jobs").is_some() && value.get("on").is_some() {
                let path = dir.path().join(format!("{name}-{n}.yml"));
                std::fs::write(&path, &block).unwrap();
                workflows.push(path);
            }
        }
    }
    assert!(steps_seen >= 2, "the docs show the action's steps");
    assert!(!workflows.is_empty(), "the README's workflow is checked");
    check(
        Command::new(tool("check-jsonschema"))
            .args(["--builtin-schema", "vendor.github-workflows"])
            .args(&workflows),
    );
    check(
        Command::new(tool("actionlint"))
            .args(["-no-color"])
            .args(&workflows),
    );
    let out = check(
        Command::new(tool("zizmor"))
            .args(["--offline", "--no-progress"])
            .args(&workflows),
    );
    assert!(!out.contains("failed to parse"), "{out}");
    assert!(out.contains("No findings to report"), "{out}");
}

#[test]
fn the_readme_is_short_with_quick_start_on_its_first_screen() {
    let readme = read(&Path::new(ROOT).join("README.md"));
    assert!(
        readme.len() <= 12 * 1024,
        "README.md is {} bytes, over 12 KiB: move detail to a page in docs/",
        readme.len()
    );
    let line_of = |needle: &str| {
        readme
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("README.md lacks {needle:?}"))
    };
    assert!(
        line_of("## Quick start") < 15,
        "Quick start is not near the top"
    );
    let uses = line_of("uses: cursor-agent-action/cursor-agent-action@v1");
    assert!(uses < 50, "the workflow is not on the first screen");
    // The note that `@v1` exists only after the first release sits right
    // under the first snippet.
    let note = line_of("The `v1` tag exists once the first release");
    assert!(
        note > uses && note < uses + 8,
        "the @v1 note is not under the snippet"
    );
    for command in ["cargo run -- demo", "scripts/test"] {
        line_of(command);
    }
}

#[test]
fn every_docs_page_says_whom_it_is_for_and_the_readme_lists_it() {
    let readme = read(&Path::new(ROOT).join("README.md"));
    let pages = docs_pages();
    assert!(pages.len() >= 9, "{pages:?}");
    for page in pages {
        let text = read(&page);
        let opening: String = text.split("\n\n").nth(1).unwrap_or_default().to_string();
        assert!(
            opening.starts_with("**For**") && opening.contains("**Answers:**"),
            "{}: the first paragraph says whom the page is for and what it answers, not {opening:?}",
            page.display()
        );
        let name = page.file_name().unwrap().to_string_lossy();
        assert!(
            readme.contains(&format!("](docs/{name})")),
            "README.md does not list docs/{name}"
        );
    }
}

/// The demo as a user runs it: outside any workflow.
fn demo_output() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cursor-agent-action"))
        .arg("demo")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_pictures_show_the_current_demo_comments() {
    let demo = demo_output();
    let readme = read(&Path::new(ROOT).join("README.md"));
    for (name, title) in pictures::PICTURES {
        let markdown = pictures::section(&demo, title)
            .unwrap_or_else(|| panic!("the demo prints no {title:?}:\n{demo}"));
        let images = Path::new(ROOT).join("docs/images");
        let png = std::fs::read(images.join(format!("{name}.png"))).unwrap_or_default();
        assert!(
            png.starts_with(b"\x89PNG"),
            "docs/images/{name}.png is missing: run {}",
            pictures::REGENERATE
        );
        let kept = read(&images.join(format!("{name}.sha256")));
        assert_eq!(
            kept.trim(),
            pictures::fingerprint(&markdown),
            "docs/images/{name}.png was drawn from another comment than the demo's current one:\n{markdown}\nrun {} to redraw it",
            pictures::REGENERATE
        );
        assert!(
            readme.contains(&format!("docs/images/{name}.png")),
            "README.md does not show docs/images/{name}.png"
        );
    }
}

#[test]
fn the_picture_fingerprint_ignores_run_noise_but_not_content() {
    let a = "<!-- cursor-agent-action {\"runId\":\"run-7e184d34-8234-41c5-8bcc-e8abd7eda795\"} -->\n### ✅ Cursor agent finished\n\n**Branch:** `cursor/resolve-github-issue-1-79ef`  \n**Duration:** 2m 49s\n";
    let b = a
        .replace(
            "7e184d34-8234-41c5-8bcc-e8abd7eda795",
            "cba1a514-ed83-4d09-80b2-a7e7b312ab65",
        )
        .replace("-79ef`", "-a6dc`")
        .replace("2m 49s", "2m 50s");
    assert_eq!(pictures::fingerprint(a), pictures::fingerprint(&b));
    let edited = a.replace("finished", "done");
    assert_ne!(pictures::fingerprint(a), pictures::fingerprint(&edited));
    // GitHub renders a bare URL as a link, and a newline as a line break.
    let html = pictures::to_html("See https://github.com/o/r/pull/1\nnext");
    assert!(
        html.contains("<a href=\"https://github.com/o/r/pull/1\">"),
        "{html}"
    );
    assert!(html.contains("<br />"), "{html}");
}
