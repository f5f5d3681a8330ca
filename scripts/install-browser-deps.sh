#!/usr/bin/env bash
# Installs what the Node end-to-end tests (tests/it/browser.rs) need, so they run instead of
# being skipped: web-playground/node_modules (`npm ci`: graphql-ws, ws, playwright-core, …)
# and Chromium at /usr/bin/chromium (Debian's `chromium` package) when it is missing.
# Idempotent. Needs node >= 20 and npm; exits non-zero if something could not be installed.
#
#   bash scripts/install-browser-deps.sh        (from CI: before `cargo test`)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "install-browser-deps: node and npm are needed (Node.js >= 20)" >&2
  exit 1
fi
echo "install-browser-deps: npm ci in web-playground/ (node $(node --version))"
npm ci --prefix web-playground --no-audit --no-fund --loglevel=error

chromium="${PFO_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "install-browser-deps: installing Chromium (apt-get)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
echo "install-browser-deps: $("$chromium" --version 2>/dev/null || echo "$chromium")"
