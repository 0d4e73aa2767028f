//! Request validation, Zod style, as the real v0 API answers it.

use serde_json::{Value, json};

/// A Zod-style validation issue.
pub(super) fn issue(code: &str, message: &str, path: &[&str]) -> Value {
    json!({"code": code, "message": message, "path": path})
}

/// A string of at least one character.
pub(super) fn nonempty(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.is_empty())
}

pub(super) fn check_keys(value: &Value, allowed: &[&str], path: &[&str], issues: &mut Vec<Value>) {
    if let Some(obj) = value.as_object() {
        let unknown: Vec<&String> = obj
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        if !unknown.is_empty() {
            let list = unknown
                .iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(", ");
            issues.push(json!({"code": "unrecognized_keys", "message": format!("Unrecognized key(s) in object: {list}"), "path": path, "keys": unknown}));
        }
    }
}

pub(super) fn check_prompt(prompt: &Value, issues: &mut Vec<Value>) {
    if !prompt.is_object() {
        issues.push(issue("invalid_type", "Required", &["prompt"]));
        return;
    }
    check_keys(prompt, &["text", "images"], &["prompt"], issues);
    match prompt["text"].as_str() {
        Some(t) if !t.is_empty() => {}
        Some(_) => issues.push(issue(
            "too_small",
            "String must contain at least 1 character(s)",
            &["prompt", "text"],
        )),
        None => issues.push(issue("invalid_type", "Required", &["prompt", "text"])),
    }
    if let Some(images) = prompt.get("images") {
        let Some(list) = images.as_array() else {
            issues.push(issue(
                "invalid_type",
                "Expected array",
                &["prompt", "images"],
            ));
            return;
        };
        if list.len() > 5 {
            issues.push(issue(
                "too_big",
                "Array must contain at most 5 element(s)",
                &["prompt", "images"],
            ));
        }
        for image in list {
            check_keys(image, &["data", "dimension"], &["prompt", "images"], issues);
            if !nonempty(&image["data"]) {
                issues.push(issue(
                    "too_small",
                    "String must contain at least 1 character(s)",
                    &["prompt", "images", "data"],
                ));
            }
            if let Some(dim) = image.get("dimension") {
                check_keys(
                    dim,
                    &["width", "height"],
                    &["prompt", "images", "dimension"],
                    issues,
                );
                for side in ["width", "height"] {
                    if dim[side].as_u64().is_none_or(|n| n < 1) {
                        issues.push(issue(
                            "too_small",
                            "Number must be greater than or equal to 1",
                            &["prompt", "images", "dimension", side],
                        ));
                    }
                }
            }
        }
    }
}

pub(super) fn is_http_url(s: &str, max: usize) -> bool {
    s.len() <= max && url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

pub(super) fn validate_create(body: &Value) -> Vec<Value> {
    let mut issues = Vec::new();
    check_keys(
        body,
        &["prompt", "model", "source", "target", "webhook"],
        &[],
        &mut issues,
    );
    check_prompt(&body["prompt"], &mut issues);
    if let Some(model) = body.get("model")
        && !nonempty(model)
    {
        issues.push(issue(
            "too_small",
            "String must contain at least 1 character(s)",
            &["model"],
        ));
    }
    let source = &body["source"];
    if !source.is_object() {
        issues.push(issue("invalid_type", "Required", &["source"]));
    } else {
        check_keys(
            source,
            &["repository", "ref", "prUrl"],
            &["source"],
            &mut issues,
        );
        let has_repo = source["repository"].as_str().is_some_and(|r| !r.is_empty());
        let has_pr = source["prUrl"]
            .as_str()
            .is_some_and(|p| is_http_url(p, 2048));
        if !has_repo && !has_pr {
            issues.push(issue(
                "custom",
                "Either repository or prUrl is required",
                &["source"],
            ));
        }
        if source.get("ref").is_some_and(|r| !nonempty(r)) {
            issues.push(issue(
                "too_small",
                "String must contain at least 1 character(s)",
                &["source", "ref"],
            ));
        }
    }
    if let Some(target) = body.get("target") {
        check_keys(
            target,
            &[
                "autoCreatePr",
                "openAsCursorGithubApp",
                "skipReviewerRequest",
                "branchName",
                "autoBranch",
            ],
            &["target"],
            &mut issues,
        );
        for flag in [
            "autoCreatePr",
            "openAsCursorGithubApp",
            "skipReviewerRequest",
            "autoBranch",
        ] {
            if target.get(flag).is_some_and(|v| !v.is_boolean()) {
                issues.push(issue("invalid_type", "Expected boolean", &["target", flag]));
            }
        }
        // autoBranch chooses between the PR's head branch and a new one: it
        // means nothing without a pull request.
        if target.get("autoBranch").is_some() && !body["source"]["prUrl"].is_string() {
            issues.push(issue(
                "custom",
                "autoBranch is only valid with source.prUrl",
                &["target", "autoBranch"],
            ));
        }
        if target.get("branchName").is_some_and(|b| !nonempty(b)) {
            issues.push(issue(
                "too_small",
                "String must contain at least 1 character(s)",
                &["target", "branchName"],
            ));
        }
    }
    if let Some(webhook) = body.get("webhook") {
        check_keys(webhook, &["url", "secret"], &["webhook"], &mut issues);
        if !webhook["url"]
            .as_str()
            .is_some_and(|u| is_http_url(u, 2048))
        {
            issues.push(issue("invalid_string", "Invalid url", &["webhook", "url"]));
        }
        if let Some(secret) = webhook.get("secret") {
            let n = secret.as_str().map(|s| s.chars().count()).unwrap_or(0);
            if !(32..=256).contains(&n) {
                issues.push(issue(
                    if n < 32 { "too_small" } else { "too_big" },
                    "String must contain between 32 and 256 character(s)",
                    &["webhook", "secret"],
                ));
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_matches_the_real_api() {
        let ok =
            json!({"prompt": {"text": "x"}, "source": {"repository": "https://github.com/o/r"}});
        assert!(validate_create(&ok).is_empty());
        let bad = json!({"name": "x", "prompt": {"text": ""}, "source": {}, "target": {"branchName": ""},
                         "webhook": {"url": "x", "secret": "short"}});
        let codes: Vec<String> = validate_create(&bad)
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            codes,
            vec![
                "unrecognized_keys",
                "too_small",
                "custom",
                "too_small",
                "invalid_string",
                "too_small"
            ]
        );
        let six = json!({"prompt": {"text": "x", "images": vec![json!({"data": "a"}); 6]}, "source": {"repository": "r"}});
        assert_eq!(validate_create(&six)[0]["code"], "too_big");
    }
}
