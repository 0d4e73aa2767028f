#!/usr/bin/env bash
# Installs the cursor-agent-action binary for this runner, for action.yml.
#
# 1. The version is the one in this checkout's Cargo.toml; the expected
#    sha256 of each release archive is in release/checksums.txt, committed
#    next to action.yml, so pinning the action's commit pins the binary.
# 2. The archive for RUNNER_OS/RUNNER_ARCH is downloaded from the release
#    (with retries) and refused unless its sha256 matches.
# 3. With no checksum for this version and platform (a branch, an unreleased
#    commit) or no such release asset, it builds from source with
#    `cargo install --locked --path`, and says so.
#
# Writes `bin=<path>` to GITHUB_OUTPUT. Test and mirror hooks:
# CURSOR_AGENT_ACTION_DOWNLOAD_BASE replaces the release download URL base;
# CURSOR_AGENT_ACTION_RETRY_DELAY (seconds, default 1) scales the backoff.
set -euo pipefail

action_path="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
temp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
# Windows runners run this in Git Bash, where GNU tar would read the drive
# letter of D:\a\_temp as a remote host: use the POSIX form of paths.
if command -v cygpath > /dev/null; then
  action_path=$(cygpath -u "$action_path")
  temp=$(cygpath -u "$temp")
fi

error() { echo "::error title=cursor-agent-action install::$*"; exit 1; }
notice() { echo "::notice title=cursor-agent-action install::$*"; }

version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$action_path/Cargo.toml" | head -n 1)
[ -n "$version" ] || error "cannot read the version from $action_path/Cargo.toml"

os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
exe=""
case "$os/$arch" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-musl ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  # Windows on Arm runs x64 binaries.
  Windows/X64 | Windows/ARM64) target=x86_64-pc-windows-msvc; exe=.exe ;;
  *) target="" ;;
esac

dest="$temp/cursor-agent-action-$version${target:+-$target}"
bin="$dest/cursor-agent-action$exe"

publish() {
  echo "bin=$1" >> "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
}

build_from_source() {
  notice "$1 Building cursor-agent-action $version from source with cargo; this takes a few minutes. Pin a released version to start in about a second."
  command -v cargo > /dev/null || error "no prebuilt binary ($1) and cargo is not installed; pin a released version of the action, or install Rust first (e.g. dtolnay/rust-toolchain)."
  local root="$temp/cursor-agent-action-$version-source"
  cargo install --locked --quiet --path "$action_path" --root "$root"
  publish "$root/bin/cursor-agent-action$exe"
  exit 0
}

sha256() {
  if command -v sha256sum > /dev/null; then sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum > /dev/null; then shasum -a 256 "$1" | cut -d ' ' -f 1
  else openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
  fi
}

if [ -x "$bin" ] && [ -f "$dest/.verified" ]; then
  publish "$bin"
  exit 0
fi

[ -n "$target" ] || build_from_source "No prebuilt binary for $os/$arch."

asset="cursor-agent-action-$version-$target.tar.gz"
expected=$(awk -v a="$asset" '$2 == a { print $1 }' "$action_path/release/checksums.txt" 2> /dev/null || true)
[ -n "$expected" ] || build_from_source "No released binary of $version for $target is recorded in release/checksums.txt."

base="${CURSOR_AGENT_ACTION_DOWNLOAD_BASE:-}"
protocols="=https"
if [ -n "$base" ]; then
  protocols="=http,https"
else
  [ -n "${GITHUB_ACTION_REPOSITORY:-}" ] || build_from_source "The action was not used from a repository (uses: ./), so there is no release to download from."
  base="${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_ACTION_REPOSITORY/releases/download"
fi
url="$base/v$version/$asset"
delay="${CURSOR_AGENT_ACTION_RETRY_DELAY:-1}"
# curl retries transient HTTP errors itself; with no delay (tests), only the
# loop below retries (curl reads --retry-delay 0 as its own backoff).
curl_retries=3
[ "$delay" = "0" ] && curl_retries=0

mkdir -p "$dest"
archive="$dest/$asset"
status=""
for attempt in 1 2 3 4; do
  status=$(curl --proto "$protocols" --tlsv1.2 --silent --show-error --location \
    --connect-timeout 10 --max-time 120 --retry "$curl_retries" --retry-delay "$delay" \
    --output "$archive" --write-out '%{http_code}' "$url" || true)
  [ "$status" = "200" ] && break
  [ "$status" = "404" ] && build_from_source "The release asset $url does not exist (404)."
  echo "Download of $url failed (HTTP ${status:-none}); attempt $attempt of 4."
  sleep $((attempt * delay))
done
[ "$status" = "200" ] || error "could not download $url (HTTP ${status:-none}) after 4 attempts; re-run the job, or check that the runner can reach ${base%%/releases*}."

actual=$(sha256 "$archive")
if [ "$actual" != "$expected" ]; then
  rm -f "$archive"
  error "checksum mismatch for $asset: expected $expected (release/checksums.txt), got $actual. Refusing to run it."
fi
tar -xzf "$archive" -C "$dest"
rm -f "$archive"
[ -x "$bin" ] || error "$asset does not contain cursor-agent-action$exe"
touch "$dest/.verified"
publish "$bin"
