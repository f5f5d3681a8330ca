#!/usr/bin/env bash
# Build the project's container image from its unchanged Dockerfile on a machine that has no
# Docker engine and no access to Docker Hub (or any container registry), then prove the image
# works: size, user, entrypoint, and a real `serve` answering /healthz and /graphql.
#
#   usage: scripts/build-image-offline.sh [REPO_DIR]        (default: the repo this script is in)
#
# What it does, idempotently (each step is skipped when its result already exists):
#   1. installs buildah, podman (only for `image inspect`), runc, debootstrap from Debian's
#      packages (needs root and apt);
#   2. makes the two base images the Dockerfile names, since they cannot be pulled:
#        docker.io/library/debian:bookworm-slim  a debootstrap --variant=minbase bookworm rootfs,
#                                                slimmed the way the official image is;
#        docker.io/library/rust:<ver>-bookworm   that image + gcc/g++/make/cmake/pkg-config/git
#                                                + THIS machine's Rust <ver> toolchain (rustup's
#                                                toolchain dir, without its HTML docs), laid out
#                                                like the official image (/usr/local/cargo,
#                                                /usr/local/rustup);
#   3. `buildah bud --pull=never` the Dockerfile, unchanged, on a clean `git archive HEAD` of
#      the repo (or the work tree as it is, where its .dockerignore applies as with docker build);
#      --layers keeps the cargo build cached, so a second run on the same commit takes seconds;
#   4. checks the image: size, Config.User, Entrypoint/Cmd, `--version`, `ldd` of the binary
#      against the image's own libraries, and a run of `serve` in a container of the image, as
#      its user, on a free loopback port, answering GET /healthz with 200 and
#      POST /graphql {"query":"{ __typename }"}, then stopping on SIGTERM.
#
# Networking: the build needs Debian's mirror (apt-get in the Dockerfile) and crates.io
# (cargo build --locked), both reached through the host's network (`--network host`).
# Nothing is fetched from a container registry.
#
# Knobs (environment):
#   PFO_IMAGE          image name                      (default: localhost/pangeo-forge-orchestrator:latest)
#   PFO_IMAGE_WORK     scratch dir: context, rootfs tar (default: /tmp/pfo-image-work)
#   DEBIAN_MIRROR      Debian mirror for debootstrap and the images' apt (default: the one this
#                      machine's apt uses for bookworm)
#   DEBIAN_SECURITY    Debian security mirror           (default: this machine's, for bookworm-security)
#   CARGO_JOBS         cargo -j inside the build        (default: 1; baked into the rust base image
#                                                        as CARGO_BUILD_JOBS, never into the final one)
#   PFO_CONTEXT        head (git archive of PFO_REF, default) | worktree (the directory as it is)
#   PFO_REF            the commit to build with PFO_CONTEXT=head (default: HEAD)
#   HOST_CA_DIR        extra CAs (*.crt) the builder must trust (default: /usr/local/share/ca-certificates)
#   REBUILD_BASES=1    remake both base images even if present
#   NICE               prefix for heavy commands        (default: "nice -n 19 ionice -c3")
#   STORAGE_DRIVER     containers/storage driver        (default: buildah's; set vfs where overlay fails)
#   BUILDAH_ISOLATION  oci (default) | chroot, where namespaces are unavailable
#   OCI_RUNTIME        crun | runc (default: runc on hybrid-cgroup hosts, where crun refuses)
set -euo pipefail

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
elapsed() { local s=$(($(date +%s) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

REPO="$(cd "${1:-$(dirname "$0")/..}" && pwd)"
[ -f "$REPO/Dockerfile" ] || die "no Dockerfile in $REPO"
IMAGE="${PFO_IMAGE:-localhost/pangeo-forge-orchestrator:latest}"
WORK="${PFO_IMAGE_WORK:-/tmp/pfo-image-work}"
# The first URI this machine's apt uses for a suite (deb822 *.sources, then one-line *.list).
apt_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$1" 'BEGIN { RS = "" } {
      u = ""; ok = 0; n = split($0, l, "\n")
      for (i = 1; i <= n; i++) {
        if (l[i] ~ /^URIs:/) { split(l[i], a, " "); u = a[2] }
        if (l[i] ~ /^Suites:/ && index(" " l[i] " ", " " s " ")) ok = 1
      }
      if (ok && u != "") print u }' "$f"
  done
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } | awk -v s="$1" '$1 == "deb" {
    i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
    if ($(i + 1) == s) print $i }'
}
DEBIAN_MIRROR="${DEBIAN_MIRROR:-$(apt_uri bookworm | head -n 1 || true)}"
DEBIAN_SECURITY="${DEBIAN_SECURITY:-$(apt_uri bookworm-security | head -n 1 || true)}"
if [ -z "$DEBIAN_MIRROR" ] || [ -z "$DEBIAN_SECURITY" ]; then
  die "set DEBIAN_MIRROR and DEBIAN_SECURITY (no bookworm sources found in /etc/apt)"
fi
CARGO_JOBS="${CARGO_JOBS:-1}"
PFO_CONTEXT="${PFO_CONTEXT:-head}"
PFO_REF="${PFO_REF:-HEAD}"
HOST_CA_DIR="${HOST_CA_DIR:-/usr/local/share/ca-certificates}"
read -r -a NICE <<<"${NICE:-nice -n 19 ionice -c3}"
[ "$(id -u)" = 0 ] || die "run as root (buildah with root storage, debootstrap, apt-get)"
mkdir -p "$WORK"
T_ALL=$(date +%s)

# ---------------------------------------------------------------------------------------------
# 1. Tools.
# ---------------------------------------------------------------------------------------------
need=()
for t in buildah podman debootstrap crun runc curl; do command -v "$t" >/dev/null || need+=("$t"); done
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]} (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    buildah podman crun runc debootstrap fuse-overlayfs uidmap ca-certificates curl >/dev/null
fi
BUILDAH=(buildah ${STORAGE_DRIVER:+--storage-driver "$STORAGE_DRIVER"})
PODMAN=(podman ${STORAGE_DRIVER:+--storage-driver "$STORAGE_DRIVER"})
# The OCI runtime for RUN steps and `buildah run`: crun (Debian's default) refuses hosts whose
# cgroups are "hybrid" with controllers on the v2 hierarchy ("cgroups in hybrid mode not
# supported, drop all controllers from cgroupv2"); runc copes. OCI_RUNTIME=crun|runc forces one.
if [ -z "${OCI_RUNTIME:-}" ]; then
  OCI_RUNTIME=crun
  if grep -qs . /sys/fs/cgroup/unified/cgroup.controllers; then
    OCI_RUNTIME=runc
  fi
fi
BUILDAH_RUN_OPTS=(--runtime "$OCI_RUNTIME")
# Working containers made here are removed on any exit (success or failure).
CTRS=()
cleanup() {
  for c in "${CTRS[@]}"; do "${BUILDAH[@]}" rm "$c" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
image_exists() { "${BUILDAH[@]}" inspect --type image "$1" >/dev/null 2>&1; }

# The base images exactly as the Dockerfile's FROM lines name them (stage names dropped).
mapfile -t FROMS < <(awk 'toupper($1) == "FROM" { print $2 }' "$REPO/Dockerfile")
RUST_REF="" SLIM_REF=""
for f in "${FROMS[@]}"; do
  case "$f" in
    rust:*-bookworm) RUST_REF="docker.io/library/$f" ;;
    debian:bookworm-slim) SLIM_REF="docker.io/library/$f" ;;
    *) die "Dockerfile uses base image '$f', which this script does not know how to make" ;;
  esac
done
if [ -z "$RUST_REF" ] || [ -z "$SLIM_REF" ]; then
  die "expected FROM rust:<ver>-bookworm and FROM debian:bookworm-slim"
fi
RUST_WANT="${RUST_REF#*rust:}"; RUST_WANT="${RUST_WANT%-bookworm}"   # e.g. 1.95

# ---------------------------------------------------------------------------------------------
# 2a. debian:bookworm-slim from debootstrap.
# ---------------------------------------------------------------------------------------------
if [ "${REBUILD_BASES:-0}" = 1 ] || ! image_exists "$SLIM_REF"; then
  T=$(date +%s)
  ROOTFS_TAR="$WORK/bookworm-minbase.tar"
  if [ "${REBUILD_BASES:-0}" = 1 ] || [ ! -s "$ROOTFS_TAR" ]; then
    log "debootstrap --variant=minbase bookworm from $DEBIAN_MIRROR"
    ROOTFS="$WORK/rootfs-bookworm"
    rm -rf "$ROOTFS"
    "${NICE[@]}" debootstrap --variant=minbase bookworm "$ROOTFS" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 \
      || { tail -20 "$WORK/debootstrap.log"; die "debootstrap failed (log: $WORK/debootstrap.log)"; }
    # Slim it the way the official image (debuerreotype --slimify) does, and keep it that way
    # for packages installed later.
    cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
EOF
    find "$ROOTFS/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$ROOTFS"/usr/share/{info,groff,linda,lintian,man}/*
    find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    cat >"$ROOTFS/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::Languages "none";' >"$ROOTFS/etc/apt/apt.conf.d/docker-no-languages"
    echo 'Acquire::GzipIndexes "true";' >"$ROOTFS/etc/apt/apt.conf.d/docker-gzip-indexes"
    echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$ROOTFS/etc/apt/apt.conf.d/docker-autoremove-suggests"
    printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d" && chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
    # The official image's sources: bookworm, bookworm-updates, bookworm-security.
    rm -f "$ROOTFS/etc/apt/sources.list"
    cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $DEBIAN_SECURITY
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/log/* "$ROOTFS"/tmp/*
    : >"$ROOTFS/etc/resolv.conf"; : >"$ROOTFS/etc/hostname"
    tar --numeric-owner --xattrs -C "$ROOTFS" -cf "$ROOTFS_TAR.tmp" .
    mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    rm -rf "$ROOTFS"
  fi
  log "committing $SLIM_REF"
  ctr=$("${BUILDAH[@]}" from scratch)
  CTRS+=("$ctr")
  "${BUILDAH[@]}" add "$ctr" "$ROOTFS_TAR" / >/dev/null
  "${BUILDAH[@]}" config --os linux --arch amd64 --cmd '["bash"]' \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  "${BUILDAH[@]}" commit --rm --quiet "$ctr" "$SLIM_REF" >/dev/null
  log "$SLIM_REF made in $(elapsed "$T")"
  FORCE_RUST=1
else
  log "$SLIM_REF present"
fi

# ---------------------------------------------------------------------------------------------
# 2b. rust:<ver>-bookworm = the slim image + a C toolchain + this machine's Rust toolchain.
# ---------------------------------------------------------------------------------------------
if [ "${REBUILD_BASES:-0}" = 1 ] || [ "${FORCE_RUST:-0}" = 1 ] || ! image_exists "$RUST_REF"; then
  T=$(date +%s)
  # The host toolchain for the wanted version: an installed rustup toolchain named like
  # 1.95.0-<host> or 1.95-<host>, else the default one if its rustc is that version.
  command -v rustc >/dev/null || die "no rustc on this machine: the Rust $RUST_WANT toolchain is copied from the host"
  SYSROOT=""
  if command -v rustup >/dev/null; then
    for tc in $(rustup toolchain list | awk '{print $1}'); do
      case "$tc" in "$RUST_WANT".*-*|"$RUST_WANT"-*) SYSROOT="$(rustc +"$tc" --print sysroot)"; break ;; esac
    done
  fi
  [ -n "$SYSROOT" ] || SYSROOT="$(rustc --print sysroot)"
  RUSTC_V="$("$SYSROOT/bin/rustc" --version | awk '{print $2}')"          # e.g. 1.95.0
  case "$RUSTC_V" in "$RUST_WANT".*|"$RUST_WANT") ;; *) die "host Rust is $RUSTC_V, the Dockerfile wants $RUST_WANT (rustup toolchain install cannot reach its server here)" ;; esac
  TRIPLE="$("$SYSROOT/bin/rustc" -vV | awk '/^host:/ {print $2}')"
  TC="$RUSTC_V-$TRIPLE"
  log "making $RUST_REF with the host toolchain $SYSROOT (rustc $RUSTC_V)"
  ctr=$("${BUILDAH[@]}" from --pull=never "$SLIM_REF")
  CTRS+=("$ctr")
  # Certificate authorities this machine adds to Debian's (e.g. a TLS-inspecting egress proxy's)
  # must be trusted by cargo inside the build to reach crates.io. They go into this builder
  # base image only, never into debian:bookworm-slim, so the final image does not carry them.
  if compgen -G "$HOST_CA_DIR/*.crt" >/dev/null; then
    log "trusting this machine's extra CAs in the builder image: $(cd "$HOST_CA_DIR" && echo *.crt)"
    "${BUILDAH[@]}" copy --quiet "$ctr" "$HOST_CA_DIR"/*.crt /usr/local/share/ca-certificates/ >/dev/null
  fi
  # What the Dockerfile's build stage needs from buildpack-deps:bookworm (the base of the
  # official rust image): a C/C++ compiler and make/cmake for -sys crates, git, certificates.
  "${NICE[@]}" "${BUILDAH[@]}" run "${BUILDAH_RUN_OPTS[@]}" --network host "$ctr" -- sh -c '
    set -e
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates curl git gcc g++ libc6-dev make cmake pkg-config libssl-dev file xz-utils >/dev/null
    update-ca-certificates >/dev/null
    rm -rf /var/lib/apt/lists/*' || die "apt-get inside the rust base image failed"
  mnt=$("${BUILDAH[@]}" mount "$ctr")
  mkdir -p "$mnt/usr/local/rustup/toolchains/$TC" "$mnt/usr/local/cargo/bin"
  # The toolchain without its 700+ MB of HTML docs (share/doc).
  tar -C "$SYSROOT" --exclude=./share/doc -cf - . | tar -C "$mnt/usr/local/rustup/toolchains/$TC" -xf -
  for b in "$mnt/usr/local/rustup/toolchains/$TC"/bin/*; do
    ln -sf "/usr/local/rustup/toolchains/$TC/bin/$(basename "$b")" "$mnt/usr/local/cargo/bin/$(basename "$b")"
  done
  printf 'default_toolchain = "%s"\nprofile = "minimal"\nversion = "12"\n' "$TC" >"$mnt/usr/local/rustup/settings.toml"
  # A cargo config the host uses (e.g. a registry mirror), if any, goes into CARGO_HOME.
  for c in "${CARGO_HOME:-$HOME/.cargo}/config.toml" "${CARGO_HOME:-$HOME/.cargo}/config"; do
    if [ -f "$c" ]; then cp "$c" "$mnt/usr/local/cargo/config.toml"; log "using the host's cargo config $c"; break; fi
  done
  "${BUILDAH[@]}" umount "$ctr" >/dev/null
  "${BUILDAH[@]}" config \
    --env RUSTUP_HOME=/usr/local/rustup --env CARGO_HOME=/usr/local/cargo \
    --env PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env RUST_VERSION="$RUSTC_V" --env CARGO_BUILD_JOBS="$CARGO_JOBS" "$ctr"
  "${BUILDAH[@]}" run "${BUILDAH_RUN_OPTS[@]}" "$ctr" -- sh -c 'cargo --version && rustc --version' \
    || die "the Rust toolchain does not run inside $RUST_REF"
  "${BUILDAH[@]}" commit --rm --quiet "$ctr" "$RUST_REF" >/dev/null
  log "$RUST_REF made in $(elapsed "$T")"
else
  log "$RUST_REF present"
fi

# ---------------------------------------------------------------------------------------------
# 3. The build context and the build itself (Dockerfile unchanged).
# ---------------------------------------------------------------------------------------------
if [ "$PFO_CONTEXT" = head ] && git -C "$REPO" rev-parse --verify -q "$PFO_REF^{commit}" >/dev/null; then
  CONTEXT="$WORK/context"
  rm -rf "$CONTEXT" && mkdir -p "$CONTEXT"
  git -C "$REPO" archive "$PFO_REF" | tar -x -C "$CONTEXT"
  # Keep file times stable between runs so that --layers can reuse the cached cargo build
  # when the commit did not change.
  find "$CONTEXT" -exec touch -h -d "@$(git -C "$REPO" log -1 --format=%ct "$PFO_REF")" {} +
  log "context: git archive $(git -C "$REPO" rev-parse --short "$PFO_REF") ($(du -sh "$CONTEXT" | cut -f1))"
else
  CONTEXT="$REPO"
  log "context: $REPO as it is (.dockerignore applies)"
fi
T=$(date +%s)
log "buildah bud --pull=never -t $IMAGE (log: $WORK/build.log)"
"${NICE[@]}" "${BUILDAH[@]}" bud "${BUILDAH_RUN_OPTS[@]}" --pull=never --layers --force-rm --network host \
  -f "$CONTEXT/Dockerfile" -t "$IMAGE" "$CONTEXT" >"$WORK/build.log" 2>&1 \
  || { tail -40 "$WORK/build.log"; die "image build failed (log: $WORK/build.log)"; }
log "image built in $(elapsed "$T")"

# ---------------------------------------------------------------------------------------------
# 4. Prove it.
# ---------------------------------------------------------------------------------------------
log "image"
"${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}}  {{.ID}}  {{.Size}}' "$IMAGE"
"${PODMAN[@]}" image inspect --format \
  'User={{.Config.User}} WorkingDir={{.Config.WorkingDir}} Entrypoint={{json .Config.Entrypoint}} Cmd={{json .Config.Cmd}} Env={{json .Config.Env}} ExposedPorts={{json .Config.ExposedPorts}}' \
  "$IMAGE"
USER_CFG="$("${BUILDAH[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")"
case "$USER_CFG" in pfo | 10001 | 10001:*) ;; *) die "image user is '$USER_CFG', expected pfo (uid 10001)" ;; esac

# Inside the image: the user's uid, the binary's libraries resolved against the image's own.
ctr=$("${BUILDAH[@]}" from --pull=never "$IMAGE")
CTRS+=("$ctr")
mnt=$("${BUILDAH[@]}" mount "$ctr")
log "in the image: user, binary, libraries"
grep '^pfo:' "$mnt/etc/passwd"
ls -l "$mnt/usr/local/bin/pangeo-forge-orchestrator"
chroot "$mnt" /lib64/ld-linux-x86-64.so.2 --list /usr/local/bin/pangeo-forge-orchestrator \
  | tee "$WORK/ldd.txt"
! grep -q 'not found' "$WORK/ldd.txt" || die "the binary misses a library in the image"
chroot --userspec=10001:10001 "$mnt" /usr/local/bin/pangeo-forge-orchestrator --version
"${BUILDAH[@]}" umount "$ctr" >/dev/null

# A real run as the image's user, with the image's Env and WorkingDir: `serve` on a free
# loopback port (host network, so nothing but 127.0.0.1 is touched), then /healthz, a GraphQL
# query, and a SIGTERM that must stop it cleanly.
# `buildah run` rather than `podman run`: podman always sets RLIMIT_NOFILE/NPROC for the
# container, which this sandboxed host refuses ("setrlimit ... Operation not permitted").
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18765)"
ctr=$("${BUILDAH[@]}" from --pull=never "$IMAGE")
CTRS+=("$ctr")
log "run: the image's entrypoint as its user"
# shellcheck disable=SC2016  # expanded inside the container, on purpose
"${BUILDAH[@]}" run "${BUILDAH_RUN_OPTS[@]}" "$ctr" -- sh -c 'echo "user: $(id)"; echo "cwd: $(pwd)"'
"${BUILDAH[@]}" run "${BUILDAH_RUN_OPTS[@]}" "$ctr" -- pangeo-forge-orchestrator --version
log "run: pangeo-forge-orchestrator serve on 127.0.0.1:$PORT"
"${BUILDAH[@]}" run "${BUILDAH_RUN_OPTS[@]}" --network host --env PFO_BIND="127.0.0.1:$PORT" "$ctr" -- \
  pangeo-forge-orchestrator serve >"$WORK/serve.log" 2>&1 &
RUN_PID=$!
ok=0
for _ in $(seq 1 60); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then ok=1; break; fi
  kill -0 "$RUN_PID" 2>/dev/null || break
  sleep 0.5
done
[ "$ok" = 1 ] || { cat "$WORK/serve.log"; kill "$RUN_PID" 2>/dev/null || true; die "/healthz never answered"; }
echo "GET /healthz -> $(curl -sS -w ' (HTTP %{http_code})' "http://127.0.0.1:$PORT/healthz")"
GQL="$(curl -sS -w ' (HTTP %{http_code})' -H 'content-type: application/json' \
  -d '{"query":"{ __typename }"}' "http://127.0.0.1:$PORT/graphql")"
echo "POST /graphql {\"query\":\"{ __typename }\"} -> $GQL"
# The server process is a descendant of `buildah run` (buildah -> runc -> server).
descendants() { local c; for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done; }
SRV=""
for c in $(descendants "$RUN_PID"); do
  [ "$(cat "/proc/$c/comm" 2>/dev/null)" = pangeo-forge-or ] && SRV=$c
done
if [ -n "$SRV" ]; then
  echo "server process: pid $SRV, uid $(awk '/^Uid:/ {print $2}' "/proc/$SRV/status"), cwd $(readlink "/proc/$SRV/cwd")"
  kill -TERM "$SRV"
else
  kill -TERM "$RUN_PID"
fi
rc=0; wait "$RUN_PID" || rc=$?
echo "after SIGTERM: the container exited with $rc"
echo "server log:"; sed 's/^/  /' "$WORK/serve.log"
case "$GQL" in *'"__typename":'*'(HTTP 200)') ;; *) die "unexpected GraphQL answer" ;; esac
[ -z "$SRV" ] || [ "$rc" = 0 ] || die "the server did not stop cleanly on SIGTERM (exit $rc)"
grep -q "listening on http://127.0.0.1:$PORT" "$WORK/serve.log" || die "no 'listening' line in the server log"
log "all checks passed; total $(elapsed "$T_ALL")"
