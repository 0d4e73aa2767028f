//! The example workflows, installed together as the README suggests, never
//! both answer one event: two jobs that could run for the same event launch
//! two agents (and post two comments).

use crate::support::ROOT;
use serde_json::Value;
use std::path::Path;

/// Events GitHub sends to a single workflow (the one dispatched, scheduled
/// or called), never to every workflow listening.
const PER_WORKFLOW: [&str; 3] = ["workflow_dispatch", "schedule", "workflow_call"];

/// Whether two restrictions exclude each other (both set, different).
fn apart<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x != y)
}

/// What part of an event a job's `if:` restricts it to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Handles {
    file: String,
    event: String,
    /// Activity types (`None`: all).
    types: Option<Vec<String>>,
    /// `Some(true)`: pull requests only; `Some(false)`: issues only.
    pull_request: Option<bool>,
    /// A required `github.event.label.name`.
    label: Option<String>,
}

impl Handles {
    /// Whether one event could start both jobs. A `workflow_dispatch`,
    /// `schedule` or `workflow_call` event belongs to one workflow only.
    fn overlaps(&self, other: &Handles) -> bool {
        if PER_WORKFLOW.contains(&self.event.as_str()) {
            return self.file == other.file && self.event == other.event;
        }
        let types = match (&self.types, &other.types) {
            (Some(a), Some(b)) => a.iter().any(|t| b.contains(t)),
            _ => true,
        };

        self.event == other.event
            && types
            && !apart(&self.pull_request, &other.pull_request)
            && !apart(&self.label, &other.label)
    }
}

/// The restriction an `if:` expression states (conjunctions of the
/// conditions the examples use; anything else restricts nothing).
fn restriction(condition: &str) -> (Option<bool>, Option<String>) {
    let c = condition.replace(' ', "");
    let pull_request = if c.contains("!github.event.issue.pull_request") {
        Some(false)
    } else if c.contains("github.event.issue.pull_request") {
        Some(true)
    } else {
        None
    };
    let label = c
        .split("github.event.label.name=='")
        .nth(1)
        .and_then(|rest| rest.split('\'').next().map(String::from));
    (pull_request, label)
}

fn handled(file: &str, workflow: &Value) -> Vec<Handles> {
    let on = &workflow["on"];
    let events: Vec<(String, Option<Vec<String>>)> = match on {
        Value::String(e) => vec![(e.clone(), None)],
        Value::Array(list) => list
            .iter()
            .filter_map(|e| e.as_str().map(|e| (e.to_string(), None)))
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(event, config)| {
                let types = config["types"].as_array().map(|t| {
                    t.iter()
                        .filter_map(|t| t.as_str().map(String::from))
                        .collect()
                });
                (event.clone(), types)
            })
            .collect(),
        _ => panic!("{file}: no `on:`"),
    };
    let jobs = workflow["jobs"].as_object().expect("jobs");
    let mut out = Vec::new();
    for job in jobs.values() {
        let runs_action = job["steps"].as_array().is_some_and(|steps| {
            steps.iter().any(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("cursor-agent-action/cursor-agent-action"))
            })
        });
        if !runs_action {
            continue;
        }
        let (pull_request, label) = restriction(job["if"].as_str().unwrap_or_default());
        for (event, types) in &events {
            out.push(Handles {
                file: file.to_string(),
                event: event.clone(),
                types: types.clone(),
                pull_request,
                label: label.clone(),
            });
        }
    }
    out
}

fn examples() -> Vec<Handles> {
    let mut all = Vec::new();
    let dir = Path::new(ROOT).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let workflow: Value = serde_saphyr::from_str(&text).expect("example parses");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        all.extend(handled(&name, &workflow));
    }
    all
}

#[test]
fn no_two_examples_answer_the_same_event() {
    let all = examples();
    assert!(
        all.iter().any(|h| h.event == "issue_comment"),
        "the examples have a comment trigger: {all:?}"
    );
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert!(
                !a.overlaps(b),
                "{} and {} both answer `{}` ({a:?}, {b:?}): one event would launch two agents",
                a.file,
                b.file,
                a.event
            );
        }
    }
}

#[test]
fn the_overlap_check_sees_a_pull_request_comment_answered_twice() {
    // The examples as they were: comment-command.yml answered every comment.
    let both: Value = serde_saphyr::from_str(
        "on:\n  issue_comment:\n    types: [created]\njobs:\n  agent:\n    if: contains(github.event.comment.body, '/cursor')\n    steps:\n      - uses: cursor-agent-action/cursor-agent-action@v1\n",
    )
    .unwrap();
    let pr: Value = serde_saphyr::from_str(
        "on:\n  issue_comment:\n    types: [created]\njobs:\n  agent:\n    if: github.event.issue.pull_request && contains(github.event.comment.body, '/cursor')\n    steps:\n      - uses: cursor-agent-action/cursor-agent-action@v1\n",
    )
    .unwrap();
    let issues: Value = serde_saphyr::from_str(
        "on:\n  issue_comment:\n    types: [created]\njobs:\n  agent:\n    if: ${{ !github.event.issue.pull_request }}\n    steps:\n      - uses: cursor-agent-action/cursor-agent-action@v1\n",
    )
    .unwrap();
    let (both, pr, issues) = (
        &handled("a", &both)[0],
        &handled("b", &pr)[0],
        &handled("c", &issues)[0],
    );
    assert!(both.overlaps(pr));
    assert!(!issues.overlaps(pr));
    let labeled = |label: &str| Handles {
        file: "l".into(),
        event: "issues".into(),
        types: Some(vec!["labeled".into()]),
        pull_request: None,
        label: Some(label.into()),
    };
    assert!(!labeled("cursor").overlaps(&labeled("docs")));
    assert!(labeled("cursor").overlaps(&labeled("cursor")));
}
