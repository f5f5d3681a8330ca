#!/usr/bin/env bash
# The test command README.md gives: sets up on a fresh machine everything the tests need,
# one line per step (each cached: a second run takes seconds before cargo starts), then runs
# every test, on SQLite and PostgreSQL, with none skipped (PFO_REQUIRE_ALL_TESTS=1 turns a
# skip into a failure). .ci/run calls it, so CI runs exactly this.
#
#   PostgreSQL   running on 127.0.0.1:5432 with trust auth for user postgres (or
#                PFO_TEST_POSTGRES_URL): installed from Debian and started when missing
#   Chromium     /usr/bin/chromium (or PFO_CHROMIUM), from Debian when missing
#   npm packages web-playground/node_modules from package-lock.json (`npm ci`, only when the
#                lockfile changed); needs node >= 20 and npm
#   the runner   pangeo-forge-runner in a virtualenv (scripts/install-runner.sh; needs python3
#                and PyPI the first time)
#
# Where it may not install (not root, no passwordless sudo), it stops and prints the command
# that would. Extra arguments go to `cargo test`, e.g. `bash scripts/test.sh -- queue`.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pfo-target}"
export PFO_TEST_POSTGRES_URL="${PFO_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

say() { echo "test.sh: $*"; }

# Runs a root command, or stops saying which command would have set things up.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo "$@"
  else
    say "cannot install without root; run this, then run the tests again:"
    echo "  sudo $*"
    exit 1
  fi
}

apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL: reachable as the tests connect, else started (and installed) locally.
postgres_answers() {
  psql "$PFO_TEST_POSTGRES_URL" -Atqc 'SELECT 1' >/dev/null 2>&1
}
if postgres_answers; then
  say "PostgreSQL: answering at $PFO_TEST_POSTGRES_URL"
else
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "PostgreSQL: installing (Debian's postgresql)"
    apt_install postgresql postgresql-client
    # The tests connect over TCP as postgres without a password, as CI does.
    hba="$(ls /etc/postgresql/*/main/pg_hba.conf | head -n 1)"
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  fi
  cluster="$(ls /etc/postgresql | head -n 1)"
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    say "PostgreSQL: starting cluster $cluster"
    as_root pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
  fi
  for _ in $(seq 1 30); do postgres_answers && break; sleep 1; done
  if ! postgres_answers; then
    say "PostgreSQL does not answer at $PFO_TEST_POSTGRES_URL (trust auth for user postgres is needed)"
    exit 1
  fi
  say "PostgreSQL: answering at $PFO_TEST_POSTGRES_URL"
fi

# Chromium for the dashboard and GraphiQL browser test.
chromium="${PFO_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  say "Chromium: installing (Debian's chromium)"
  apt_install chromium
fi
say "Chromium: $("$chromium" --version 2>/dev/null || echo "$chromium")"

# The npm packages the Node tests import, installed again only when the lockfile changes.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "node and npm are needed (Node.js >= 20): install them, e.g. from https://nodejs.org or"
  echo "  sudo apt-get install -y nodejs npm    # Debian 13; Debian 12's nodejs is 18, too old"
  exit 1
fi
lock_sha="$(sha256sum web-playground/package-lock.json | cut -c1-16)"
stamp="web-playground/node_modules/.pfo-installed-$lock_sha"
if [ -f "$stamp" ]; then
  say "npm packages: up to date with package-lock.json"
else
  say "npm packages: npm ci in web-playground/ (node $(node --version))"
  npm ci --prefix web-playground --no-audit --no-fund --loglevel=error >/dev/null
  touch "$stamp"
fi

# The real pangeo-forge-runner for the end-to-end bake.
runner="$(bash scripts/install-runner.sh 2>/dev/null | tail -n 1)" || {
  say "pangeo-forge-runner could not be installed: run scripts/install-runner.sh to see why (python3 and PyPI are needed)"
  exit 1
}
say "pangeo-forge-runner: $runner"

say "cargo test --workspace (every test; none may be skipped)"
PFO_REQUIRE_ALL_TESTS=1 PFO_CHROMIUM="$chromium" PFO_REAL_RUNNER="$runner" \
  exec cargo test --workspace "$@"
