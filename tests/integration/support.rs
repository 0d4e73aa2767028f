//! Test harness: a fluent builder for runs of the action, in a process of
//! its own (`run`) or in this one (`run_in_process`, for virtual time).

use cursor_agent_action::app::{Runtime, run_action};
use cursor_agent_action::logging;
use cursor_agent_action::runner::{ActionsIo, Console, parse_outputs};
use cursor_api::{AgentSource, LaunchRequest, LaunchTarget, Prompt};
use kit::cancel::Cancel;
use kit::clock::Clock;
use kit::env::Env;
use serde_json::Value;
use sim::{Scenario, Simulators, V1Scenario};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

pub const BIN: &str = env!("CARGO_BIN_EXE_cursor-agent-action");
pub const KEY: &str = "crsr_0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "ghs_TestToken0123456789abcdefABCDEF";
/// The repository every fixture event comes from, and its web address.
pub const REPO: &str = "Codertocat/Hello-World";
pub const REPO_URL: &str = "https://github.com/Codertocat/Hello-World";
/// The working comment's line while the agent works.
pub const WORKING: &str = "This comment is updated when the status changes";
/// The checkout, for tests that read the project's own files.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// How much faster than real time the compiled binary and the simulators
/// run when a test drives the binary as a separate process: a 20 s start
/// and a 2 min run take a quarter of a second.
pub const SCALE: u32 = 120;

/// The Cursor API a run talks to, for tests that check one promise on both.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Api {
    V0,
    V1,
}

pub const APIS: [Api; 2] = [Api::V0, Api::V1];

/// Both simulators on `clock`, with Codertocat (the fixtures' sender) an
/// admin of Codertocat/Hello-World.
pub async fn sims_on(clock: Clock) -> Simulators {
    let sims = Simulators::start(clock).await.unwrap();
    sims.github.set_permission("Codertocat", "admin");
    sims
}

/// Both simulators in real time, every agent working 10 s to a minute.
pub async fn sims() -> Simulators {
    sims_v0(Scenario::lasting(10, 60)).await
}

/// Both simulators `SCALE` times faster than real time (for the compiled
/// binary, run with `.time_scale(SCALE)`), every agent working 20 s to 2 min.
pub async fn scaled_sims() -> Simulators {
    let s = sims_on(Clock::scaled(SCALE)).await;
    s.cursor.set_default_scenario(Scenario::lasting(20, 120));
    s
}

/// Both simulators in real time, every v0 agent following `scenario`.
pub async fn sims_v0(scenario: Scenario) -> Simulators {
    let s = sims_on(Clock::real()).await;
    s.cursor.set_default_scenario(scenario);
    s
}

/// Both simulators in real time, every v1 run following `scenario`.
pub async fn sims_v1(scenario: V1Scenario) -> Simulators {
    let s = sims_on(Clock::real()).await;
    s.cursor.v1().set_scenario(scenario);
    s
}

/// A run of the action on `event` with `payload`, against both simulators.
pub fn test(s: &Simulators, event: &str, payload: &Value) -> ActionTest {
    ActionTest::new()
        .event_json(event, payload)
        .against(&s.cursor_url(), Some(&s.github_url()))
}

/// A run of the compiled binary (`.run_beside()`) on `event` with `payload`,
/// as fast as `scaled_sims()`.
pub fn binary_test(s: &Simulators, event: &str, payload: &Value) -> ActionTest {
    test(s, event, payload).time_scale(SCALE)
}

/// The usual trigger: the fixture's issue labeled.
pub fn labeled(s: &Simulators) -> ActionTest {
    test(s, "issues", &fixture("issues.labeled.json"))
}

/// A trigger comment on the labeled issue, in the run after the labeled one
/// (so a follow-up to its agent).
pub fn comment_trigger(s: &Simulators) -> ActionTest {
    test(s, "issue_comment", &fixture("issue_comment.created.json"))
        .env("GITHUB_RUN_ID", "1234567891")
}

/// The bodies of the v1 requests with `method` whose path ends with
/// `suffix`, in order (null where a body is not JSON).
pub fn v1_bodies(s: &Simulators, method: &str, suffix: &str) -> Vec<Value> {
    s.cursor
        .requests()
        .into_iter()
        .filter(|r| r.method == method && r.path.starts_with("/v1/") && r.path.ends_with(suffix))
        .map(|r| serde_json::from_str(&r.body).unwrap_or(Value::Null))
        .collect()
}

/// The agents created on `api`.
pub fn agents_created(s: &Simulators, api: Api) -> usize {
    match api {
        Api::V0 => s.cursor.agents_created(),
        Api::V1 => s.cursor.v1().agents_created(),
    }
}

/// A v0 launch of `text` on `repository` at `git_ref`: no model, images,
/// branch or webhook.
pub fn launch_request(
    text: &str,
    repository: &str,
    git_ref: Option<&str>,
    auto_create_pr: bool,
) -> LaunchRequest {
    LaunchRequest {
        prompt: Prompt {
            text: text.into(),
            images: vec![],
        },
        model: None,
        source: AgentSource {
            repository: Some(repository.into()),
            git_ref: git_ref.map(Into::into),
            pr_url: None,
        },
        target: LaunchTarget {
            auto_create_pr,
            open_as_cursor_github_app: false,
            skip_reviewer_request: false,
            branch_name: None,
            auto_branch: None,
        },
        webhook: None,
    }
}

/// The prompt text of the first v0 follow-up sent.
pub fn first_followup_text(s: &Simulators) -> String {
    let followup = s
        .cursor
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/followup"))
        .expect("a follow-up");
    let body: Value = serde_json::from_str(&followup.body).unwrap();
    body["prompt"]["text"].as_str().unwrap().to_string()
}

/// The v0 agents launched.
pub fn launches(s: &Simulators) -> usize {
    s.cursor.count("POST", "/v0/agents")
}

/// A cancellation that `signal` trips `after` seconds from now (tokio time,
/// so virtual under a paused clock); never, with `None`.
pub fn cancel_after(after: Option<u64>, signal: &'static str) -> Cancel {
    let cancel = Cancel::new();
    if let Some(secs) = after {
        let c = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
            c.cancel(signal);
        });
    }
    cancel
}

/// A GitHub (and Cursor) simulator in real time.
pub async fn github() -> Simulators {
    sims_on(Clock::real()).await
}

/// The action's HTTP client, with no proxies.
pub fn http() -> reqwest::Client {
    kit::http::client(&Env::from_pairs::<&str, &str>([])).unwrap()
}

/// Sends `request` and reads its JSON answer (for the simulators' control
/// and inspection endpoints).
pub async fn json_of<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> T {
    request.send().await.unwrap().json().await.unwrap()
}

/// A Cursor client for `url` with `key`, on `clock`.
pub fn cursor_client(url: &str, key: &str, clock: Clock) -> cursor_api::CursorClient {
    cursor_api::CursorClient::new(
        http(),
        &url::Url::parse(url).unwrap(),
        &kit::secret::Secret::new(key),
        cursor_api::AuthScheme::Basic,
        clock,
    )
}

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github-events")
        .join(name)
}

pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture_path(name)).unwrap()).unwrap()
}

/// The `issue_comment.created` fixture as GitHub sends it for a comment on a
/// pull request: the same payload with `issue.pull_request` present.
pub fn comment_on_pr_payload() -> Value {
    let mut v = fixture("issue_comment.created.json");
    v["issue"]["pull_request"] = serde_json::json!({
        "url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1",
        "html_url": "https://github.com/Codertocat/Hello-World/pull/1",
        "diff_url": "https://github.com/Codertocat/Hello-World/pull/1.diff",
        "patch_url": "https://github.com/Codertocat/Hello-World/pull/1.patch"
    });
    v
}

pub struct ActionTest {
    pub env: BTreeMap<String, String>,
    pub dir: tempfile::TempDir,
    pub args: Vec<String>,
}

impl ActionTest {
    /// A run inside Actions on Codertocat/Hello-World with no event yet.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("workspace")).unwrap();
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("GITHUB_ACTIONS", "true"),
            ("CI", "true"),
            ("GITHUB_REPOSITORY", "Codertocat/Hello-World"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_API_URL", "https://api.github.com"),
            ("GITHUB_RUN_ID", "1234567890"),
            ("GITHUB_RUN_ATTEMPT", "1"),
            ("GITHUB_JOB", "agent"),
            ("GITHUB_REF", "refs/heads/master"),
            ("GITHUB_SHA", "6113728f27ae82c7b1a177c8d03f9e96e0adf246"),
            // The suites written for v0 assert v0 requests: v0 unless a test
            // asks for v1 (`.v1()`) or the default (`.default_api()`).
            ("INPUT_API-VERSION", "v0"),
        ] {
            env.insert(k.to_string(), v.to_string());
        }
        for (k, f) in [
            ("GITHUB_OUTPUT", "output.txt"),
            ("GITHUB_STEP_SUMMARY", "summary.md"),
        ] {
            env.insert(k.into(), dir.path().join(f).display().to_string());
        }
        env.insert(
            "GITHUB_WORKSPACE".into(),
            dir.path().join("workspace").display().to_string(),
        );
        Self {
            env,
            dir,
            args: Vec::new(),
        }
    }

    pub fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    /// Sets the event from a fixture file, as the runner does.
    pub fn event(self, name: &str, fixture_file: &str) -> Self {
        let json = fixture(fixture_file);
        self.event_json(name, &json)
    }

    pub fn event_json(mut self, name: &str, payload: &Value) -> Self {
        let path = self.dir.path().join("event.json");
        std::fs::write(&path, serde_json::to_vec_pretty(payload).unwrap()).unwrap();
        self.env.insert("GITHUB_EVENT_NAME".into(), name.into());
        self.env
            .insert("GITHUB_EVENT_PATH".into(), path.display().to_string());
        self
    }

    /// Sets an input the way the runner does (`INPUT_` + upper case, hyphens kept).
    pub fn input(mut self, name: &str, value: &str) -> Self {
        self.env
            .insert(format!("INPUT_{}", name.to_ascii_uppercase()), value.into());
        self
    }

    /// Talks to Cursor's v1 API, as the action does by default.
    pub fn v1(self) -> Self {
        self.input("api-version", "v1")
    }

    /// Talks to Cursor's `api`.
    pub fn api(self, api: Api) -> Self {
        match api {
            Api::V0 => self,
            Api::V1 => self.v1(),
        }
    }

    /// Runs the binary and simulators `scale` times faster than real time.
    pub fn time_scale(self, scale: u32) -> Self {
        self.env(cursor_agent_action::TIME_SCALE_VAR, &scale.to_string())
    }

    /// Leaves `api-version` unset: the action's default.
    pub fn default_api(self) -> Self {
        self.without("INPUT_API-VERSION")
    }

    /// Sets an input the way a composite wrapper does (underscores).
    pub fn input_underscore(mut self, name: &str, value: &str) -> Self {
        self.env.insert(
            format!("INPUT_{}", name.to_ascii_uppercase().replace('-', "_")),
            value.into(),
        );
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    pub fn without(mut self, key: &str) -> Self {
        self.env.remove(key);
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Writes a file in the workspace.
    pub fn file(self, rel: &str, contents: &[u8]) -> Self {
        let p = self.workspace().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
        self
    }

    /// The usual inputs for a run against `cursor` (and GitHub at `github`).
    pub fn against(self, cursor: &str, github: Option<&str>) -> Self {
        let t = self.input("cursor-api-key", KEY).input("api-url", cursor);
        match github {
            Some(g) => t.env("GITHUB_API_URL", g).input("github-token", TOKEN),
            None => t,
        }
    }

    /// A `Ran` for a process the test drove itself.
    pub fn finish_with(self, code: i32, stdout: String, stderr: String) -> Ran {
        self.collect(code, stdout, stderr)
    }

    fn collect(self, code: i32, stdout: String, stderr: String) -> Ran {
        let read = |var: &str| {
            self.env
                .get(var)
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default()
        };
        let raw_outputs = read("GITHUB_OUTPUT");
        let outputs = parse_outputs(&raw_outputs)
            .unwrap_or_else(|e| panic!("outputs file is malformed: {e}\n{raw_outputs}"))
            .into_iter()
            .collect();
        Ran {
            code,
            stdout,
            stderr,
            raw_outputs,
            outputs,
            summary: read("GITHUB_STEP_SUMMARY"),
            _dir: self.dir,
        }
    }

    /// Runs the binary in a clean environment (only these variables and PATH).
    pub fn run(self) -> Ran {
        let out = Command::new(BIN)
            .args(&self.args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&self.env)
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs");
        let code = out.status.code().unwrap_or(-1);
        self.collect(
            code,
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs the binary on a blocking thread, so the simulators on this
    /// test's runtime keep answering it.
    pub async fn run_beside(self) -> Ran {
        tokio::task::spawn_blocking(move || self.run())
            .await
            .unwrap()
    }

    /// Runs the action in this process (works with paused tokio time).
    pub async fn run_in_process(self) -> Ran {
        self.run_in_process_with(Cancel::new()).await
    }

    pub async fn run_in_process_with(self, cancel: Cancel) -> Ran {
        let env = Env::from_pairs(self.env.clone());
        let mode = ActionsIo::mode_for(&env);
        let (console, captured) = Console::capture(mode, env.flag("RUNNER_DEBUG"));
        let console = Arc::new(console);
        let _log = tracing::subscriber::set_default(logging::subscriber(console.clone()));
        let rt = Runtime {
            io: ActionsIo::from_env(&env, console),
            clock: Clock::real(),
            env,
            cancel,
        };
        let code = run_action(&rt).await;
        self.collect(code as i32, captured.text(), String::new())
    }
}

pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub raw_outputs: String,
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
    _dir: tempfile::TempDir,
}

impl Ran {
    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| {
                panic!(
                    "no output {name}; outputs: {:?}\nstdout:\n{}",
                    self.outputs, self.stdout
                )
            })
    }

    pub fn status(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn success(&self) -> &Self {
        self.status(0)
    }

    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }

    pub fn stdout_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout has {needle:?}:\n{}",
            self.stdout
        );
        self
    }

    /// Lines the runner would read as workflow commands of kind `cmd`.
    pub fn commands(&self, cmd: &str) -> Vec<&str> {
        let prefix = format!("::{cmd}::");
        self.stdout
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .collect()
    }

    /// Everything the run wrote anywhere, for leak checks.
    pub fn everything(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.stdout, self.stderr, self.raw_outputs, self.summary
        )
    }

    /// Everything but the `::add-mask::` lines (which must name the secret).
    pub fn everything_unmasked(&self) -> String {
        self.everything()
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Fails if any of `secrets` appears anywhere but in a mask command.
    pub fn assert_no_leak(&self, secrets: &[&str]) -> &Self {
        let all = self.everything_unmasked();
        for s in secrets {
            assert!(!all.contains(s), "secret {s:?} leaked:\n{all}");
        }
        self
    }
}

/// GitHub writes other than a scheduled job's marker comment on its agent's
/// pull request (#18): a run without an issue writes nothing else.
pub fn github_writes_besides_job_markers(gh: &sim::GitHubSim) -> Vec<String> {
    gh.requests()
        .iter()
        .filter(|r| r.method != "GET")
        .filter(|r| {
            !(r.path.ends_with("/comments") && r.body.contains("belongs to the scheduled job"))
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// Another GitHub App's bot on the repository (it can comment, but holds
/// no key of ours).
pub fn other_app_bot() -> sim::GhUser {
    sim::GhUser {
        login: "other-app[bot]".into(),
        id: 777,
        kind: "Bot".into(),
    }
}

/// The bodies of the comments on `issue`, oldest first.
pub fn comment_bodies(s: &Simulators, issue: u64) -> Vec<String> {
    s.github
        .comments(REPO, issue)
        .into_iter()
        .map(|c| c.body)
        .collect()
}

/// Every body the action's comments had, in order (each create, then each
/// edit), with when it was written (ms of the simulator's clock).
pub fn comment_writes(s: &Simulators) -> Vec<(u64, String)> {
    s.github
        .requests()
        .into_iter()
        .filter(|r| {
            let create =
                r.method == "POST" && r.path.contains("/issues/") && r.path.ends_with("/comments");
            let edit = matches!(r.method.as_str(), "PATCH" | "POST")
                && r.path.contains("/issues/comments/")
                && !r.path.ends_with("/reactions");
            create || edit
        })
        .filter(|r| r.status / 100 == 2)
        .map(|r| {
            let v: Value = serde_json::from_str(&r.body).unwrap();
            (r.at_ms, v["body"].as_str().unwrap().to_string())
        })
        .collect()
}

/// Whether a comment body is final (its marker says so).
pub fn is_final_body(body: &str) -> bool {
    cursor_agent_action::marker::Marker::find(body).is_some_and(|m| m.is_final())
}

/// The v1 simulator in `scenario` and a v1 client for it, in real time.
pub async fn v1_setup(scenario: sim::V1Scenario) -> (Simulators, cursor_api::v1::V1Client, Clock) {
    let clock = Clock::real();
    let sims = Simulators::start(clock).await.unwrap();
    sims.cursor.v1().set_scenario(scenario);
    let client = cursor_api::v1::V1Client::new(
        http(),
        &url::Url::parse(&sims.cursor_url()).unwrap(),
        &kit::secret::Secret::new(KEY),
        cursor_api::AuthScheme::Bearer,
        clock,
    );
    (sims, client, clock)
}

/// A v1 create request on Codertocat/Hello-World's `main`, with a PR.
pub fn create_request(agent_id: Option<String>) -> cursor_api::v1::CreateAgentRequest {
    use cursor_api::v1::{CreateAgentRequest, ModelSelection, Prompt, RepoSpec};
    CreateAgentRequest {
        prompt: Prompt::text("Fix the failing test"),
        model: Some(ModelSelection::id("claude-haiku-4-5")),
        name: None,
        repos: vec![RepoSpec {
            url: "https://github.com/Codertocat/Hello-World".into(),
            starting_ref: Some("main".into()),
            pr_url: None,
        }],
        work_on_current_branch: None,
        auto_create_pr: Some(true),
        skip_reviewer_request: Some(true),
        mode: None,
        agent_id,
    }
}
