//! Request validation and error replies, as the real v1 API answers them.

use crate::server::Reply;
use serde_json::{Value, json};

pub(super) fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

pub(super) fn validation(message: &str) -> Reply {
    error(400, "validation_error", message)
}

pub(super) const MODELS: &[&str] = &[
    "default",
    "claude-haiku-4-5",
    "claude-4.5-sonnet-thinking",
    "gpt-5.2",
];
pub(super) const CREATE_KEYS: &[&str] = &[
    "prompt",
    "model",
    "name",
    "env",
    "repos",
    "workOnCurrentBranch",
    "autoCreatePR",
    "skipReviewerRequest",
    "envVars",
    "mcpServers",
    "customSubagents",
    "mode",
    "agentId",
];

pub(super) fn unknown_keys(v: &Value, allowed: &[&str]) -> Option<Reply> {
    let obj = v.as_object()?;
    let unknown: Vec<String> = obj
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| format!("'{k}'"))
        .collect();
    (!unknown.is_empty()).then(|| {
        validation(&format!(
            "Unrecognized key(s) in object: {}",
            unknown.join(", ")
        ))
    })
}

pub(super) fn check_prompt(v: &Value) -> Option<Reply> {
    if let Some(r) = unknown_keys(v, &["text", "images"]) {
        return Some(r);
    }
    // Images: at most 5, each `{data, mimeType}` (base64) or `{url}`.
    if let Some(images) = v.get("images") {
        let Some(images) = images.as_array() else {
            return Some(validation("prompt.images: Expected array"));
        };
        if images.len() > 5 {
            return Some(validation(
                "prompt.images: Array must contain at most 5 element(s)",
            ));
        }
        for image in images {
            if let Some(r) = unknown_keys(image, &["data", "mimeType", "url"]) {
                return Some(r);
            }
            let inline = image["data"].as_str().is_some_and(|d| !d.is_empty())
                && matches!(
                    image["mimeType"].as_str(),
                    Some("image/png" | "image/jpeg" | "image/gif" | "image/webp")
                );
            let linked = image["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://"));
            if inline == linked {
                return Some(validation(
                    "prompt.images: each image needs data and a png/jpeg/gif/webp mimeType, or a url",
                ));
            }
        }
    }
    match v["text"].as_str() {
        Some(t) if !t.is_empty() => None,
        _ => Some(validation(
            "prompt.text: String must contain at least 1 character(s)",
        )),
    }
}

pub(super) fn check_model(v: &Value) -> Option<Reply> {
    match v {
        Value::Null => None,
        Value::Object(_) => {
            if let Some(r) = unknown_keys(v, &["id", "params"]) {
                return Some(r);
            }
            match v["id"].as_str() {
                Some(id) if MODELS.contains(&id) => None,
                Some(id) => Some(validation(&format!(
                    "Model '{id}' is not available or invalid"
                ))),
                None => Some(validation("model.id: Required")),
            }
        }
        _ => Some(validation("model: Expected object, received string")),
    }
}

pub fn is_uuid_agent_id(id: &str) -> bool {
    cursor_api::v1::is_agent_id(id)
}
