//! action.yml, the interface table in src/inputs/spec.rs and the README say
//! the same thing; and every workflow and the action pass the schema checks,
//! actionlint and zizmor, offline.

use crate::support::ROOT;
use cursor_agent_action::inputs::{INPUTS, OUTPUTS};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionInput {
    description: String,
    required: bool,
    #[serde(default)]
    default: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionOutput {
    description: String,
    value: String,
}

#[derive(Debug, Deserialize)]
struct Step {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    run: Option<String>,
    #[serde(default)]
    shell: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Runs {
    using: String,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Action {
    inputs: indexmap_free::Ordered<ActionInput>,
    outputs: indexmap_free::Ordered<ActionOutput>,
    runs: Runs,
}

/// Maps that keep the file's order (for the README tables).
mod indexmap_free {
    use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
    use std::marker::PhantomData;

    #[derive(Debug)]
    pub struct Ordered<T>(pub Vec<(String, T)>);

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<T>(PhantomData<T>);
            impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
                type Value = Ordered<T>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a map")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                    let mut out = Vec::new();
                    while let Some((k, v)) = m.next_entry::<String, T>()? {
                        out.push((k, v));
                    }
                    Ok(Ordered(out))
                }
            }
            d.deserialize_map(V(PhantomData))
        }
    }
}

fn action() -> Action {
    let text = std::fs::read_to_string(Path::new(ROOT).join("action.yml")).unwrap();
    serde_saphyr::from_str(&text).expect("action.yml parses")
}

#[test]
fn action_yml_declares_exactly_the_interface() {
    let a = action();
    let names: Vec<&str> = a.inputs.0.iter().map(|(n, _)| n.as_str()).collect();
    let spec: Vec<&str> = INPUTS.iter().map(|i| i.name).collect();
    assert_eq!(names, spec, "inputs, in order");
    for ((name, input), spec) in a.inputs.0.iter().zip(INPUTS) {
        assert_eq!(input.description, spec.description, "{name}: description");
        assert_eq!(input.required, spec.required, "{name}: required");
        assert_eq!(
            input.default.as_deref().unwrap_or(""),
            spec.default,
            "{name}: default"
        );
    }
    assert_eq!(
        a.inputs
            .0
            .iter()
            .find(|(n, _)| n == "github-token")
            .unwrap()
            .1
            .default
            .as_deref(),
        Some("${{ github.token }}")
    );
    let names: Vec<&str> = a.outputs.0.iter().map(|(n, _)| n.as_str()).collect();
    let spec: Vec<&str> = OUTPUTS.iter().map(|o| o.name).collect();
    assert_eq!(names, spec, "outputs, in order");
    for ((name, output), spec) in a.outputs.0.iter().zip(OUTPUTS) {
        assert_eq!(output.description, spec.description, "{name}: description");
        assert_eq!(
            output.value,
            format!("${{{{ steps.run.outputs.{name} }}}}"),
            "{name}: value"
        );
    }
}

#[test]
fn the_composite_maps_every_input_and_execs_the_binary() {
    let a = action();
    assert_eq!(a.runs.using, "composite");
    let install = &a.runs.steps[0];
    assert_eq!(install.id.as_deref(), Some("install"));
    assert_eq!(
        install.run.as_deref(),
        Some("bash \"$GITHUB_ACTION_PATH/scripts/install.sh\"")
    );
    let run = a
        .runs
        .steps
        .iter()
        .find(|s| s.id.as_deref() == Some("run"))
        .expect("a run step");
    assert_eq!(run.shell.as_deref(), Some("bash"));
    // exec, so that the runner's signals reach the binary, not a bash parent.
    assert_eq!(
        run.run.as_deref().map(str::trim),
        Some("exec \"$CURSOR_AGENT_ACTION_BIN\"")
    );
    for input in INPUTS {
        let var = format!(
            "INPUT_{}",
            input.name.to_ascii_uppercase().replace('-', "_")
        );
        assert_eq!(
            run.env.get(&var).map(String::as_str),
            Some(format!("${{{{ inputs.{} }}}}", input.name).as_str()),
            "{var}"
        );
    }
    assert_eq!(
        run.env.len(),
        INPUTS.len() + 1,
        "only the inputs and the binary's path"
    );
}

fn table(rows: &[Vec<String>], header: &[&str]) -> String {
    let mut t = format!(
        "| {} |\n|{}|\n",
        header.join(" | "),
        header.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
    for r in rows {
        t.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    t
}

/// The README tables, generated from action.yml.
fn expected_tables() -> (String, String) {
    let a = action();
    let inputs: Vec<Vec<String>> = a
        .inputs
        .0
        .iter()
        .map(|(name, i)| {
            let default = match (&i.default, i.required) {
                (_, true) => "**required**".to_string(),
                (Some(d), _) if !d.is_empty() => format!("`{d}`"),
                _ => "—".to_string(),
            };
            vec![
                format!("`{name}`"),
                default,
                i.description.replace('|', "\\|"),
            ]
        })
        .collect();
    let outputs: Vec<Vec<String>> = a
        .outputs
        .0
        .iter()
        .map(|(name, o)| vec![format!("`{name}`"), o.description.replace('|', "\\|")])
        .collect();
    (
        table(&inputs, &["input", "default", "description"]),
        table(&outputs, &["output", "description"]),
    )
}

fn section<'a>(readme: &'a str, name: &str) -> &'a str {
    let start = format!("<!-- {name}:start -->\n");
    let end = format!("<!-- {name}:end -->");
    let from = readme
        .find(&start)
        .unwrap_or_else(|| panic!("README lacks {start:?}"))
        + start.len();
    let to = readme[from..]
        .find(&end)
        .unwrap_or_else(|| panic!("README lacks {end:?}"))
        + from;
    &readme[from..to]
}

#[test]
fn the_readme_tables_match_action_yml() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let (inputs, outputs) = expected_tables();
    assert_eq!(
        section(&readme, "inputs"),
        inputs,
        "README inputs table; expected:\n{inputs}"
    );
    assert_eq!(
        section(&readme, "outputs"),
        outputs,
        "README outputs table; expected:\n{outputs}"
    );
}

// ---- offline validation ----

/// A tool scripts/test installed into .tools, else one on PATH.
pub(crate) fn tool(name: &str) -> PathBuf {
    let local = Path::new(ROOT).join(".tools/venv/bin").join(name);
    if local.exists() {
        return local;
    }
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.exists()))
        .unwrap_or_else(|| panic!("`{name}` is not installed: run the suite with scripts/test, which installs it from PyPI"))
}

fn workflows() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [".github/workflows", "examples", "tests/act"] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                files.push(p.strip_prefix(ROOT).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    files
}

pub(crate) fn check(cmd: &mut Command) -> String {
    let out = cmd.current_dir(ROOT).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn schemas_validate_the_action_and_every_workflow() {
    check(Command::new(tool("check-jsonschema")).args([
        "--builtin-schema",
        "vendor.github-actions",
        "action.yml",
    ]));
    check(
        Command::new(tool("check-jsonschema"))
            .args(["--builtin-schema", "vendor.github-workflows"])
            .args(workflows()),
    );
}

#[test]
fn actionlint_finds_nothing() {
    check(
        Command::new(tool("actionlint"))
            .args(["-no-color"])
            .args(workflows()),
    );
}

#[test]
fn zizmor_finds_nothing() {
    let out = check(
        Command::new(tool("zizmor"))
            .args(["--offline", "--no-progress", "action.yml"])
            .args(workflows()),
    );
    // zizmor skips a file it cannot parse with only a warning: treat it as a failure.
    assert!(!out.contains("failed to parse"), "{out}");
    assert!(out.contains("No findings to report"), "{out}");
    for f in workflows() {
        let name = f.to_string_lossy();
        assert!(
            out.contains(&format!("completed {name}")),
            "zizmor did not audit {name}:\n{out}"
        );
    }
}

/// The `uses: cursor-agent-action/cursor-agent-action@REF` lines of a file,
/// with what follows each (its comment).
pub(crate) fn uses_lines(text: &str) -> Vec<(String, String)> {
    let needle = "uses: cursor-agent-action/cursor-agent-action@";
    text.lines()
        .filter_map(|l| {
            let at = l.find(needle)? + needle.len();
            let rest = &l[at..];
            let end = rest.find(' ').unwrap_or(rest.len());
            Some((rest[..end].to_string(), rest[end..].to_string()))
        })
        .collect()
}

#[test]
fn the_version_the_release_tags_and_every_uses_line_agree() {
    let cargo = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    let version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("Cargo.toml has a version")
        .to_string();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let major = version.split('.').next().unwrap();
    assert_ne!(
        major, "0",
        "the docs promise @v1: Cargo.toml must not say 0.x"
    );
    let tag = format!("v{version}");

    // release.yml runs on this version's tag and moves the major tag that
    // its own shell derives from it.
    let release =
        std::fs::read_to_string(Path::new(ROOT).join(".github/workflows/release.yml")).unwrap();
    let workflow: serde_json::Value = serde_saphyr::from_str(&release).unwrap();
    let patterns = workflow["on"]["push"]["tags"]
        .as_array()
        .expect("tag filters");
    let matches_tag = |pattern: &str| {
        // GitHub's filter syntax as release.yml uses it: literal characters
        // and `[0-9]+`.
        let (mut rest, mut pat) = (tag.as_str(), pattern);
        while !pat.is_empty() {
            if let Some(p) = pat.strip_prefix("[0-9]+") {
                let digits =
                    rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                if digits == 0 {
                    return false;
                }
                (rest, pat) = (&rest[digits..], p);
            } else {
                let c = pat.chars().next().unwrap();
                match rest.strip_prefix(c) {
                    Some(r) => (rest, pat) = (r, &pat[c.len_utf8()..]),
                    None => return false,
                }
            }
        }
        rest.is_empty()
    };
    assert!(
        patterns.iter().any(|p| matches_tag(p.as_str().unwrap())),
        "release.yml does not run on {tag}: {patterns:?}"
    );
    let derive = release
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("major="))
        .expect("release.yml derives the major tag");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("TAG={tag}; {derive}; printf %s \"$major\""))
        .output()
        .unwrap();
    let moved = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        moved,
        format!("v{major}"),
        "the major tag release.yml moves"
    );
    assert!(
        release.contains("git push --force origin \"refs/tags/$TAG\" \"refs/tags/$major\""),
        "release.yml pushes both tags"
    );

    // Every `uses:` of this action in the docs and examples names that
    // major tag, or a commit whose comment names a version of it.
    let mut files = vec![PathBuf::from(ROOT).join("tests/act/cursor.yml")];
    files.extend(crate::docs::markdown_files());
    for entry in std::fs::read_dir(Path::new(ROOT).join("examples")).unwrap() {
        files.push(entry.unwrap().path());
    }
    let mut seen = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (reference, comment) in uses_lines(&text) {
            seen += 1;
            let ok = reference == moved
                || (reference == "<commit"
                    && comment.contains(&format!("# v{major}."))
                    && comment.contains("sha>"));
            assert!(
                ok,
                "{}: uses …@{reference}{comment}, but releases are tagged {moved}",
                file.display()
            );
        }
    }
    assert!(
        seen >= 6,
        "the README, the docs and the examples show how to use the action"
    );
}
