#!/usr/bin/env bash
# Bakes the fixture tests/fixtures/real-feedstock with the real pangeo-forge-runner exactly as
# the orchestrator calls it (LocalDirectBakery, --prune, encoded job name, JSON config with
# `{subpath}` filled), without Rust: a check of the Python side alone. It copies the fixture
# to a temporary directory, writes the NetCDF inputs there, bakes, checks the exit code, that
# no `submitted` line was printed, and that the Zarr store opens with the expected contents.
# Prints the `status` lines and the timings. Takes ~40 s (plus the install when there is no
# runner venv yet). Keeps the work directory when PFO_KEEP=1 (its path is printed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FIXTURE="$ROOT/tests/fixtures/real-feedstock"
RUNNER="${PFO_REAL_RUNNER:-$("$ROOT/scripts/install-runner.sh" | tail -n 1)}"
PY="$(dirname "$RUNNER")/python"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pfo-real-smoke.XXXXXX")"
if [[ -z "${PFO_KEEP:-}" ]]; then trap 'rm -rf "$WORK"' EXIT; fi
echo "work directory: $WORK"

REPO="$WORK/repo"
OUT="$WORK/out"
SUBPATH="pfo/test/o/staged-recipes/recipe-run-1/tiny.zarr"
JOB_NAME="a6c6f63616c686f73742533313030"
cp -r "$FIXTURE" "$REPO"
"$PY" "$REPO/make_inputs.py" "$REPO/recipes/tiny/inputs" >/dev/null
URL="$("$PY" "$REPO/render_config.py" "$REPO/local-test.yaml" "$OUT" "$SUBPATH" "$WORK/config.json")"
echo "dataset URL the orchestrator derives: $URL"

start=$(date +%s.%N)
set +e
"$RUNNER" bake --repo="$REPO" --ref=0123456789abcdef0123456789abcdef01234567 --json --prune \
  --Bake.recipe_id=tiny --Bake.job_name="$JOB_NAME" -f="$WORK/config.json" \
  --feedstock-subdir=recipes/tiny >"$WORK/stdout" 2>"$WORK/stderr"
rc=$?
set -e
end=$(date +%s.%N)
echo "bake exit code: $rc, wall time: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s"

echo "status lines:"
"$PY" - "$WORK/stdout" <<'PY'
import json, sys
plain = other = 0
for line in open(sys.argv[1]):
    try:
        obj = json.loads(line)
    except ValueError:
        plain += 1
        continue
    if isinstance(obj, dict) and "status" in obj:
        print("  " + line.rstrip()[:300])
    else:
        other += 1
print(f"  ({other} JSON lines without status, {plain} non-JSON lines)")
PY

fail=0
if [[ $rc -ne 0 ]]; then echo "FAIL: exit code $rc"; tail -n 20 "$WORK/stdout" "$WORK/stderr"; fail=1; fi
if grep -q '"status": "submitted"' "$WORK/stdout"; then echo "FAIL: a submitted line"; fail=1; fi
STORE="$OUT/target/$SUBPATH/tiny.zarr"
if "$PY" -W ignore "$FIXTURE/check_output.py" "$STORE" >"$WORK/check.txt" 2>&1; then
  echo "store $STORE: $(tail -n 1 "$WORK/check.txt")"
else
  echo "FAIL: store check"; cat "$WORK/check.txt"; fail=1
fi
exit $fail
