#!/usr/bin/env bash
# Builds the container image with podman (no Docker engine or registry needed) and smoke-tests
# it on this machine: api_server's /api/health, a quick scan of 127.0.0.1 on a port this script
# opens, a stealth (SYN) scan as the non-root user, daily_scan with --metrics-file inside the
# container, and `podman healthcheck run`. Prints how long each step took.
#
#   bash scripts/container-smoke.sh            # set up podman if needed, build, smoke-test
#   SMOKE_SKIP_BUILD=1 bash scripts/container-smoke.sh   # reuse the image built last time
#   SMOKE_SETUP_ONLY=1 bash scripts/container-smoke.sh   # only podman and the base image
#
# Set-up (done once, idempotent), as checked on Debian bookworm: podman, buildah, runc and
# debootstrap from apt; runc as runtime (crun fails on this cgroup setup); the base image
# `docker.io/library/debian:bookworm-slim` made with `debootstrap --variant=minbase bookworm`
# from the mirror apt uses and `podman import`ed under that name, so every build runs with
# --pull=never. The host's extra CA certificates are mounted into the build, as cargo fetches
# crates over HTTPS.
#
# Not part of .ci/run: the first build compiles the release binaries inside the image (minutes
# on 2 cores, see docs/OPERATIONS.md for the measured figures) and needs root, podman and
# network access to the Debian mirror and crates.io; CI runs the test suite only.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${SMOKE_IMAGE:-localhost/security-scanner:smoke}
BASE=docker.io/library/debian:bookworm-slim
NAME=scanner-smoke-$$
LISTEN_ADDR=127.0.0.1
SCAN_PORT=${SMOKE_SCAN_PORT:-18743}
API_PORT=${SMOKE_API_PORT:-18744}
VOLUME=scanner-smoke-results-$$
WORK=$(mktemp -d)
listener=""

started=$SECONDS
step() { printf '\n==> [%4ss] %s\n' "$((SECONDS - started))" "$*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

cleanup() {
  podman rm -f "$NAME" "$NAME-pub" >/dev/null 2>&1 || true
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  [ -n "$listener" ] && kill "$listener" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || die "run as root (podman import and debootstrap need it here)"

step "set-up: podman, buildah, runc, debootstrap"
need=()
for tool in podman:podman buildah:buildah runc:runc debootstrap:debootstrap; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if ! grep -qs '^runtime *= *"runc"' /etc/containers/containers.conf; then
  mkdir -p /etc/containers
  cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000","nproc=32768:32768"]

[engine]
runtime = "runc"
CONF
fi

if ! podman image exists "$BASE"; then
  step "base image: debootstrap --variant=minbase bookworm, imported as $BASE"
  # The mirror apt uses on this host (deb822 sources or a classic sources.list).
  mirror=$( { grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' \
      /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null || true; } | awk '{print $2; exit}')
  mirror=${mirror:-http://deb.debian.org/debian}
  root=$WORK/rootfs
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; die "debootstrap failed"; }
  # As in the official image: the main suite, updates and security (cargo-web lives there).
  rm -f "$root/etc/apt/sources.list"
  cat > "$root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
  tar -C "$root" -c . | podman import - "$BASE" >/dev/null
  rm -rf "$root"
fi

[ -n "${SMOKE_SETUP_ONLY:-}" ] && { step "set-up done"; exit 0; }

if [ -z "${SMOKE_SKIP_BUILD:-}" ]; then
  step "podman build (multi-stage: compile, then the slim runtime)"
  podman build --pull=never --format docker \
    -v /usr/local/share/ca-certificates:/usr/local/share/ca-certificates:ro \
    -t "$IMAGE" . 2>&1 | tail -n 5
fi
podman image exists "$IMAGE" || die "image $IMAGE missing"
podman image inspect "$IMAGE" --format 'image size: {{.Size}} bytes, user {{.Config.User}}, exposed {{.Config.ExposedPorts}}'
podman image inspect "$IMAGE" --format '{{json .Config.Healthcheck}}' | grep -q api/health \
  || die "the image has no HEALTHCHECK on /api/health (built without --format docker?)"

step "listener on $LISTEN_ADDR:$SCAN_PORT (the port the scans must find open)"
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64)
while True:
    c, _ = s.accept(); c.close()
' "$LISTEN_ADDR" "$SCAN_PORT" &
listener=$!

step "podman run api_server (--network host, --cap-add NET_RAW, bind 127.0.0.1:$API_PORT)"
podman volume create "$VOLUME" >/dev/null
podman run -d --name "$NAME" --network host --cap-add NET_RAW \
  -e SCANNER_BIND="127.0.0.1:$API_PORT" \
  -v "$VOLUME":/data/scan_results "$IMAGE" >/dev/null
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$API_PORT/api/health" >/dev/null 2>&1 && break
  sleep 0.2
done

step "GET /api/health"
curl -fsS "http://127.0.0.1:$API_PORT/api/health" | tee "$WORK/health.json"; echo
grep -q '"status"' "$WORK/health.json" || die "health answer lacks a status"

step "POST /api/scan quick $LISTEN_ADDR port $SCAN_PORT"
curl -fsS -X POST "http://127.0.0.1:$API_PORT/api/scan" -H 'Content-Type: application/json' \
  -d "{\"target\": \"$LISTEN_ADDR\", \"scan_type\": \"quick\", \"ports\": \"$SCAN_PORT\"}" \
  > "$WORK/scan.json"
head -c 600 "$WORK/scan.json"; echo
port_open() { # FILE: does the JSON hold {"port": SCAN_PORT, "state": "open"} anywhere?
  python3 - "$1" "$SCAN_PORT" <<'PY'
import json, sys
port = int(sys.argv[2])
def walk(v):
    if isinstance(v, dict):
        if v.get("port") == port and v.get("state") == "open":
            return True
        return any(walk(x) for x in v.values())
    return isinstance(v, list) and any(walk(x) for x in v)
sys.exit(0 if walk(json.load(open(sys.argv[1]))) else 1)
PY
}
port_open "$WORK/scan.json" || die "the API scan did not report port $SCAN_PORT open"
step "POST /api/scan stealth (SYN scan as uid 10001 through nmap's file capabilities)"
curl -sS -X POST "http://127.0.0.1:$API_PORT/api/scan" -H 'Content-Type: application/json' \
  -d "{\"target\": \"$LISTEN_ADDR\", \"scan_type\": \"stealth\", \"ports\": \"$SCAN_PORT\"}" \
  > "$WORK/stealth.json"
head -c 600 "$WORK/stealth.json"; echo
port_open "$WORK/stealth.json" || die "the stealth scan did not report the port open"

step "podman healthcheck run"
podman healthcheck run "$NAME" || die "podman healthcheck run reported unhealthy"
echo healthy

step "daily_scan inside the container (targets file mounted, --metrics-file on the volume)"
printf '%s\n' "$LISTEN_ADDR" > "$WORK/targets.txt"
chmod 0644 "$WORK/targets.txt"
podman run --rm --network host --cap-add NET_RAW \
  -v "$VOLUME":/data/scan_results -v "$WORK/targets.txt":/data/targets.txt:ro \
  "$IMAGE" daily_scan -f /data/targets.txt --profile quick --ports "$SCAN_PORT" \
  --metrics-file /data/scan_results/daily_scan.prom | tee "$WORK/daily.txt"
grep -q "$SCAN_PORT" "$WORK/daily.txt" || die "daily_scan did not report port $SCAN_PORT"
podman run --rm -v "$VOLUME":/data/scan_results "$IMAGE" \
  sh -c 'ls /data/scan_results && grep -E "^daily_scan_(hosts_up|open_ports|last_run)" /data/scan_results/daily_scan.prom'
podman run --rm -v "$VOLUME":/data/scan_results "$IMAGE" daily_scan history

step "without NET_RAW the capability-carrying nmap cannot start: targets fail, never 'closed'"
set +e
podman run --rm --network host -v "$WORK/targets.txt":/data/targets.txt:ro "$IMAGE" \
  daily_scan -f /data/targets.txt --profile quick --ports "$SCAN_PORT" > "$WORK/nocap.txt" 2>&1
code=$?
set -e
grep -m1 "cannot be executed" "$WORK/nocap.txt" || die "no 'cannot be executed' in the log"
grep "Targets:" "$WORK/nocap.txt"
[ "$code" = 1 ] || die "expected exit 1 (every target failed) without NET_RAW, got $code"

PUB_PORT=${SMOKE_PUBLISH_PORT:-18745}
step "published port: -p 127.0.0.1:$PUB_PORT:5000 (the image's own bind 0.0.0.0:5000), with and without NET_RAW"
for caps in "--cap-add NET_RAW" ""; do
  # shellcheck disable=SC2086 # $caps is zero or two words
  podman run -d --name "$NAME-pub" $caps -p "127.0.0.1:$PUB_PORT:5000" "$IMAGE" >/dev/null
  for _ in $(seq 1 50); do
    curl -sS "http://127.0.0.1:$PUB_PORT/api/health" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -sS "http://127.0.0.1:$PUB_PORT/api/health"; echo
  set +e; podman healthcheck run "$NAME-pub"; hc=$?; set -e
  podman rm -f "$NAME-pub" >/dev/null 2>&1
  if [ -n "$caps" ]; then
    [ "$hc" = 0 ] || die "published container with NET_RAW is not healthy"
  else
    [ "$hc" != 0 ] || die "without NET_RAW nmap cannot start: the healthcheck must say unhealthy"
  fi
done

step "container logs (api_server)"
podman logs "$NAME" 2>&1 | tail -n 5

step "all container checks passed in $((SECONDS - started)) s"
