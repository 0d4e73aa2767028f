//! Agents and conversations as JSON, and error replies as the real API gives them.

use super::{CursorSim, SimAgent, State};
use crate::server::Reply;
use kit::clock::Moment;
use kit::rfc3339::iso8601_millis;
use serde_json::{Map, Value, json};

impl CursorSim {
    pub(super) fn error(state: &State, status: u16, message: &str, code: &str) -> Reply {
        if state.config.object_errors {
            Reply::json(
                status,
                &json!({"error": {"code": code, "message": message}}),
            )
        } else {
            Reply::json(status, &json!({"error": message}))
        }
    }

    pub(super) fn invalid(message: &str, details: Vec<Value>) -> Reply {
        Reply::json(400, &json!({"error": message, "details": details}))
    }

    pub(super) fn render(a: &SimAgent, now: Moment) -> Value {
        let actual = a.status_at(now);
        let status = match (&a.scenario.reported_status, actual) {
            (Some(s), "RUNNING") => s.as_str(),
            _ => actual,
        };
        let minimal = a.scenario.minimal_fields;
        let mut source = Map::new();
        if let Some(r) = &a.repository {
            source.insert("repository".into(), json!(r));
        }
        if let (Some(r), false) = (&a.git_ref, minimal) {
            source.insert("ref".into(), json!(r));
        }
        if let Some(p) = &a.source_pr_url {
            source.insert("prUrl".into(), json!(p));
        }
        let mut target = Map::new();
        target.insert(
            "url".into(),
            json!(format!("https://cursor.com/agents?id={}", a.id)),
        );
        if let Some(b) = a.branch(now) {
            target.insert("branchName".into(), json!(b));
        }
        if let Some(pr) = a.pr_url(now) {
            target.insert("prUrl".into(), json!(pr));
        }
        if !minimal {
            target.insert("autoCreatePr".into(), json!(a.auto_create_pr));
            target.insert("openAsCursorGithubApp".into(), json!(a.open_as_app));
            target.insert("skipReviewerRequest".into(), json!(a.skip_reviewer));
        }
        let mut agent = Map::new();
        agent.insert("id".into(), json!(a.id));
        if !minimal {
            agent.insert("name".into(), json!(a.name));
        }
        agent.insert("status".into(), json!(status));
        agent.insert("source".into(), Value::Object(source));
        agent.insert("target".into(), Value::Object(target));
        if !minimal
            && a.scenario.summary_in_status
            && status == "FINISHED"
            && let Some(s) = &a.scenario.summary
        {
            agent.insert("summary".into(), json!(s));
        }
        let created = match &a.scenario.created_at {
            Some(odd) => odd.clone(),
            None => iso8601_millis(a.created_wall),
        };
        agent.insert("createdAt".into(), json!(created));
        Value::Object(agent)
    }

    pub(super) fn conversation(a: &SimAgent, now: Moment) -> Value {
        let mut events: Vec<(Moment, &str, String)> =
            vec![(a.created, "user_message", a.prompt.clone())];
        for (t, text) in &a.followups {
            events.push((*t, "user_message", text.clone()));
        }
        for (t, status) in &a.timeline {
            if *t > now {
                continue;
            }
            let text = match *status {
                "RUNNING" => "I'll start working on this now.".to_string(),
                "FINISHED" => a
                    .scenario
                    .summary
                    .clone()
                    .unwrap_or_else(|| "I made the requested changes.".into()),
                "ERROR" => {
                    "I ran into an error I could not recover from: the test suite failed to build."
                        .into()
                }
                _ => continue,
            };
            events.push((*t, "assistant_message", text));
        }
        events.sort_by_key(|(t, _, _)| *t);
        let messages: Vec<Value> = events
            .into_iter()
            .enumerate()
            .map(|(i, (_, kind, text))| json!({"id": format!("msg_{:03}", i + 1), "type": kind, "text": text}))
            .collect();
        json!({"id": a.id, "messages": messages})
    }
}
