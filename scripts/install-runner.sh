#!/usr/bin/env bash
# Installs pangeo-forge-runner (and what the tiny test recipe needs) into a virtualenv at
# ${PFO_RUNNER_VENV:-$HOME/.cache/pfo-runner-venv}, reusing it when it is already there, and
# prints the absolute path of the `pangeo-forge-runner` executable as the last line of stdout
# (everything else goes to stderr).
#
# The pins are the set known to work for `bake` with LocalDirectBakery (see
# tests/fixtures/real-feedstock/README.md): unpinned zarr 3 / new xarray break the runner,
# and apache-beam >= 2.7x tries to download a runner binary from the internet.
#
# Needs: python3 (3.11) and access to PyPI. Takes ~30 s (measured; 40-60 s on slower links)
# and ~660 MB on a fresh venv; well under 1 s when the venv already holds the pinned set
# (a marker file named after a hash of the pins records it).
#
# Usage: scripts/install-runner.sh            # install or reuse
#        PFO_RUNNER_VENV=/tmp/v scripts/install-runner.sh
#        PFO_RUNNER_REINSTALL=1 scripts/install-runner.sh   # force pip to run again
set -euo pipefail

VENV="${PFO_RUNNER_VENV:-$HOME/.cache/pfo-runner-venv}"
PYTHON="${PFO_PYTHON:-python3}"

PINS=(
  "pangeo-forge-runner==0.10.2"
  "pangeo-forge-recipes==0.10.8"
  "apache-beam==2.60.0"
  "zarr<3"
  "xarray<2025"
  "pandas<3"
  "numpy<2"
  "netCDF4"
  "h5netcdf"
  "fsspec"
)

# Changing the pins changes the marker, so an old venv is upgraded in place.
STAMP="$(printf '%s\n' "${PINS[@]}" | sha256sum | cut -c1-16)"
MARKER="$VENV/.pfo-runner-installed-$STAMP"
RUNNER="$VENV/bin/pangeo-forge-runner"

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "install-runner: creating virtualenv $VENV" >&2
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
fi

if [[ -f "$MARKER" && -x "$RUNNER" && -z "${PFO_RUNNER_REINSTALL:-}" ]]; then
  echo "install-runner: reusing $VENV" >&2
else
  echo "install-runner: installing the pinned set into $VENV (about a minute)" >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet "${PINS[@]}" >&2
  # A quick check that the runner imports and the recipe libraries load.
  "$VENV/bin/python" -c 'import pangeo_forge_runner, pangeo_forge_recipes, apache_beam, zarr, xarray, netCDF4' >&2
  rm -f "$VENV"/.pfo-runner-installed-*
  touch "$MARKER"
fi

echo "$RUNNER"
