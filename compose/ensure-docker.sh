#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io, docker-compose and
# debootstrap when missing (Debian, root, no prompts), starts dockerd in the background when
# `docker info` fails, and waits with a deadline. Idempotent; used by .ci/run, the README and
# compose/offline-build.sh.
set -euo pipefail

DEADLINE_SECONDS="${MESH_DOCKER_WAIT_SECONDS:-60}"
LOG="${MESH_DOCKERD_LOG:-/tmp/dockerd.log}"

say() { echo "ensure-docker: $*" >&2; }

need_install=()
command -v dockerd >/dev/null 2>&1 || need_install+=(docker.io)
command -v docker >/dev/null 2>&1 || need_install+=(docker.io)
# Either compose CLI will do; Debian ships v1.29 as docker-compose.
if ! command -v docker-compose >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1; then
  need_install+=(docker-compose)
fi
command -v debootstrap >/dev/null 2>&1 || need_install+=(debootstrap)

if [ "${#need_install[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "missing ${need_install[*]} and cannot install them (needs root on Debian); install them and retry"
    exit 1
  fi
  say "installing ${need_install[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_install[@]}" iptables ca-certificates >/dev/null
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  say "docker does not answer and only root can start dockerd here"
  exit 1
fi

# A dockerd may already be starting (another caller); only start one if none runs.
if ! pgrep -x dockerd >/dev/null 2>&1; then
  say "starting dockerd (log: $LOG)"
  # setsid: the daemon must outlive this script and its caller's process group.
  setsid dockerd >"$LOG" 2>&1 < /dev/null &
fi

deadline=$(( $(date +%s) + DEADLINE_SECONDS ))
until docker info >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    say "dockerd did not answer within ${DEADLINE_SECONDS}s; last log lines:"
    tail -n 20 "$LOG" >&2 || true
    exit 1
  fi
  sleep 0.5
done
say "docker is ready"
