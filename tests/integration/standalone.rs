//! The simulators as a user runs them (`cursor-agent-action simulator`),
//! driven over their control APIs, with the action pointed at them; and
//! proxies from the environment.

use crate::support::*;
use cursor_agent_action::TIME_SCALE_VAR;
use kit::clock::Clock;
use serde_json::{Value, json};
use sim::Scenario;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

struct Server {
    child: std::process::Child,
    cursor: String,
    github: String,
    /// Kept open: the simulator keeps writing to it.
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .arg("simulator")
        .args(args)
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url_after = |prefix: &str| -> String {
        let line = lines
            .next()
            .expect("the simulator prints its URLs")
            .unwrap();
        assert!(line.starts_with(prefix), "{line}");
        line.split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_string()
    };
    let cursor = url_after("Cursor API simulator:");
    let github = url_after("GitHub API simulator:");
    Server {
        child,
        cursor,
        github,
        _stdout: lines,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_points_the_action_at_the_standalone_simulators() {
    let server = start(&[
        "--time-scale",
        "600",
        "--writer",
        "Codertocat",
        "--key",
        KEY,
    ]);
    let h = http();
    let r = h
        .post(format!("{}/_sim/scenarios", server.cursor))
        .json(&json!({"creating_secs": 10, "running_secs": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let label_added = || {
        let t = ActionTest::new()
            .event("issues", "issues.labeled.json")
            .against(&server.cursor, Some(&server.github))
            .env(TIME_SCALE_VAR, "600");
        tokio::task::spawn_blocking(move || t.run())
    };
    let ran = label_added().await.unwrap();
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    // The agent's pull request exists on the GitHub port (linked).
    let pulls: Value = json_of(h.get(format!(
        "{}/_sim/pulls?repo=Codertocat/Hello-World",
        server.github
    )))
    .await;
    assert_eq!(pulls.as_array().unwrap().len(), 1, "{pulls}");
    assert_eq!(pulls[0]["html_url"], ran.output("pr-url"));
    assert_eq!(pulls[0]["user"], "cursor[bot]");
    assert_eq!(pulls[0]["ahead_by"], 1);

    let comments: Value = json_of(h.get(format!(
        "{}/_sim/comments?repo=Codertocat/Hello-World&issue=1",
        server.github
    )))
    .await;
    assert_eq!(comments.as_array().unwrap().len(), 1);
    assert!(
        comments[0]["body"]
            .as_str()
            .unwrap()
            .contains("Cursor agent finished")
    );
    let requests: Value = json_of(h.get(format!("{}/_sim/requests", server.cursor))).await;
    assert_eq!(
        requests
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["method"] == "POST" && r["path"] == "/v0/agents")
            .count(),
        1
    );

    // Take write access away: the next trigger is refused.
    let r = h
        .post(format!("{}/_sim/permissions", server.github))
        .json(&json!({"login": "Codertocat", "role": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ran = label_added().await.unwrap();
    ran.success();
    assert_eq!(ran.output("outcome"), "skipped");

    // A key the server was not started with is refused.
    let r = h
        .get(format!("{}/v0/me", server.cursor))
        .bearer_auth("crsr_other_key_0000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_simulator_stops_on_ctrl_c() {
    let mut server = start(&[]);
    // SAFETY: signalling our own child.
    #[cfg(unix)]
    unsafe {
        libc::kill(server.child.id() as i32, libc::SIGINT);
    }
    #[cfg(unix)]
    {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                assert!(status.success());
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(5));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn proxies_come_from_the_environment() {
    let s = sims_on(Clock::real()).await;
    s.cursor.set_default_scenario(Scenario::lasting(5, 30));
    // Cursor is reachable only through the proxy (here the simulator itself,
    // which accepts absolute-form requests); GitHub is exempted by NO_PROXY.
    let ran = ActionTest::new()
        .event("issues", "issues.labeled.json")
        .against("http://cursor.invalid", Some(&s.github_url()))
        .env("HTTP_PROXY", &s.cursor_url())
        .env("NO_PROXY", "localhost,127.0.0.1")
        .run_in_process()
        .await;
    ran.success();
    assert_eq!(ran.output("outcome"), "finished");
    assert_eq!(s.cursor.count("POST", "/v0/agents"), 1);
    assert_eq!(s.github.comments(REPO, 1).len(), 1);

    // A malformed proxy is a configuration error that does not echo the URL.
    let ran = ActionTest::new()
        .event("issues", "issues.labeled.json")
        .against(&s.cursor_url(), Some(&s.github_url()))
        .env("HTTPS_PROXY", "::not a url with secret-password::")
        .run_in_process()
        .await;
    ran.status(2);
    assert!(
        ran.commands("error")[0].contains("HTTPS_PROXY is not a usable proxy URL"),
        "{}",
        ran.stdout
    );
    ran.stdout_lacks("secret-password");
}

/// Every control endpoint `simulator --help` documents answers on the port
/// it is documented for (none is the "unknown control endpoint" 404), and
/// the table in docs/local-use.md lists the same ones.
#[tokio::test(flavor = "multi_thread")]
async fn every_documented_control_endpoint_exists() {
    let help = cursor_agent_action::cli::simulator_help();
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/local-use.md")).unwrap();
    let server = start(&[]);
    let h = http();
    let mut port = None;
    let mut seen = 0;
    for line in help.lines() {
        let t = line.trim();
        if t.starts_with("Cursor port:") {
            port = Some(server.cursor.clone());
        } else if t.starts_with("GitHub port:") {
            port = Some(server.github.clone());
        }
        let mut words = t.split_whitespace();
        let (Some(method @ ("GET" | "POST")), Some(path)) = (words.next(), words.next()) else {
            continue;
        };
        assert!(path.starts_with("/_sim/"), "{line}");
        let base = port.clone().expect("a port heading before the endpoints");
        let path = path.replace("OWNER/NAME", "o/r").replace("=N", "=1");
        let r = match method {
            "GET" => h.get(format!("{base}{path}")).send().await.unwrap(),
            _ => {
                let body = if path.ends_with("/faults") {
                    json!([])
                } else {
                    json!({})
                };
                h.post(format!("{base}{path}"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        assert_ne!(r.status(), 404, "{method} {path} on {base}");
        let bare = path.split('?').next().unwrap();
        assert!(
            page.contains(&format!("`{method} {bare}")),
            "docs/local-use.md lacks {method} {bare}"
        );
        seen += 1;
    }
    assert!(seen >= 10, "{seen} endpoints in:\n{help}");
}
