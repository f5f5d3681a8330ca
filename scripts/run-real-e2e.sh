#!/usr/bin/env bash
# Runs the real-runner end-to-end test: installs (or reuses) pangeo-forge-runner with
# scripts/install-runner.sh, then runs the `real_runner` tests of the `it` test binary with
# PFO_REAL_RUNNER set to the runner executable (the venv's python is next to it, in the same
# bin/ directory). Extra arguments go to cargo test after `--`, e.g. `--test-threads=1`.
#
# Needs python3 (3.11), PyPI access, and Rust. Takes ~30-60 s for a fresh runner venv
# (~1 s when reused), plus the cargo build, plus ~40 s per bake (each bake pip-installs the
# recipe's requirements.txt into a temporary venv, ~28 s of that).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNNER="$(scripts/install-runner.sh | tail -n 1)"
if [[ ! -x "$RUNNER" ]]; then
  echo "run-real-e2e: install-runner.sh did not produce an executable runner ($RUNNER)" >&2
  exit 1
fi
echo "run-real-e2e: PFO_REAL_RUNNER=$RUNNER" >&2

PFO_REAL_RUNNER="$RUNNER" exec cargo test --workspace --test it real_runner -- --nocapture "$@"
