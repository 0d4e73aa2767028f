// Baseline 2: the same job in the style of actions/github-script: Node,
// `fetch` for Cursor, @octokit/rest for GitHub (github-script loads it before
// the script runs). Set BARE=1 to skip loading Octokit (a bare `fetch`).
const env = process.env;
const { Octokit } = env.BARE === "1" ? {} : await import("@octokit/rest");
const auth = "Basic " + Buffer.from(`${env.CURSOR_API_KEY}:`).toString("base64");
const headers = { authorization: auth, "content-type": "application/json" };

const launched = await fetch(`${env.CURSOR_API_URL}/v0/agents`, {
  method: "POST",
  headers,
  body: JSON.stringify({
    prompt: { text: env.PROMPT },
    source: { repository: `https://github.com/${env.GITHUB_REPOSITORY}`, ref: "master" },
    target: { autoCreatePr: true },
  }),
});
if (!launched.ok) throw new Error(`launch failed: ${launched.status}`);
let agent = await launched.json();
const fs = await import("node:fs");
fs.appendFileSync(env.GITHUB_OUTPUT, `agent-id=${agent.id}\n`);
if (env.WAIT !== "true") process.exit(0);

const terminal = new Set(["FINISHED", "ERROR", "EXPIRED", "STOPPED"]);
while (!terminal.has(agent.status)) {
  await new Promise((r) => setTimeout(r, Number(env.POLL_SECONDS) * 1000));
  const res = await fetch(`${env.CURSOR_API_URL}/v0/agents/${agent.id}`, { headers });
  if (!res.ok) throw new Error(`status failed: ${res.status}`);
  agent = await res.json();
}
fs.appendFileSync(env.GITHUB_OUTPUT, `status=${agent.status}\n`);
const [owner, repo] = env.GITHUB_REPOSITORY.split("/");
const github = new Octokit({ auth: env.GITHUB_TOKEN, baseUrl: env.GITHUB_API_URL });
await github.rest.issues.createComment({
  owner,
  repo,
  issue_number: Number(env.ISSUE),
  body: `Cursor agent ${agent.id}: ${agent.status} ${agent.target?.prUrl ?? ""}\n\n${agent.summary ?? ""}`,
});
