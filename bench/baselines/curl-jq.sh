#!/usr/bin/env bash
# Baseline 1: what a maintainer writes in a `run:` step instead of the action.
# Launches a Cursor agent with curl and jq, polls its status every
# POLL_SECONDS (30 on a real runner; compressed in the benchmark), and
# comments the result on the issue with curl.
set -euo pipefail
auth=$(printf '%s:' "$CURSOR_API_KEY" | base64 -w0)
body=$(jq -n --arg text "$PROMPT" --arg repo "https://github.com/$GITHUB_REPOSITORY" \
  '{prompt: {text: $text}, source: {repository: $repo, ref: "master"}, target: {autoCreatePr: true}}')
agent=$(curl -fsS -X POST -H "Authorization: Basic $auth" -H 'Content-Type: application/json' \
  -d "$body" "$CURSOR_API_URL/v0/agents")
id=$(jq -r .id <<< "$agent")
echo "agent-id=$id" >> "$GITHUB_OUTPUT"
[ "$WAIT" = true ] || exit 0

while :; do
  sleep "$POLL_SECONDS"
  agent=$(curl -fsS -H "Authorization: Basic $auth" "$CURSOR_API_URL/v0/agents/$id")
  status=$(jq -r .status <<< "$agent")
  case "$status" in FINISHED | ERROR | EXPIRED | STOPPED) break ;; esac
done
echo "status=$status" >> "$GITHUB_OUTPUT"
comment=$(jq -n --arg id "$id" --arg status "$status" \
  --arg pr "$(jq -r '.target.prUrl // ""' <<< "$agent")" \
  --arg summary "$(jq -r '.summary // ""' <<< "$agent")" \
  '{body: "Cursor agent \($id): \($status) \($pr)\n\n\($summary)"}')
curl -fsS -X POST -H "Authorization: Bearer $GITHUB_TOKEN" -H 'Accept: application/vnd.github+json' \
  -d "$comment" "$GITHUB_API_URL/repos/$GITHUB_REPOSITORY/issues/$ISSUE/comments" > /dev/null
