#!/usr/bin/env bash
# The whole test suite: `npm test`. Installs what it needs on a fresh Debian machine
# (node modules, nats-server, a Docker engine for the compose tests), then runs
# unit, integration (process mode, real nats-server) and compose (real containers) tests.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n=== %s\n' "$*"; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing node modules"
  npm ci --no-audit --no-fund
fi

if ! command -v nats-server >/dev/null 2>&1; then
  log "installing nats-server (Debian package)"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server
  else
    echo "nats-server is missing: install it (apt-get install nats-server)" >&2; exit 1
  fi
fi

if [ "${MESH_SKIP_COMPOSE:-}" != "1" ]; then
  log "ensuring a Docker engine (compose tests)"
  bash compose/ensure-docker.sh
fi

log "building"
npm run build --silent

mapfile -t unit < <(find dist/test/unit -name '*.test.js' | sort)
mapfile -t integration < <(find dist/test/integration -name '*.test.js' 2>/dev/null | sort)
mapfile -t composeTests < <(find dist/test/compose -name '*.test.js' 2>/dev/null | sort)

log "unit and integration tests (${#unit[@]} + ${#integration[@]} files)"
node --test --test-concurrency=2 --test-timeout=180000 "${unit[@]}" "${integration[@]}"

if [ "${MESH_SKIP_COMPOSE:-}" = "1" ]; then
  log "compose tests skipped (MESH_SKIP_COMPOSE=1)"
elif [ ${#composeTests[@]} -gt 0 ]; then
  log "compose tests: building the images"
  # Always rebuilt, so the containers run the code under test (the base image is cached).
  npm run compose:offline --silent
  log "compose tests (${#composeTests[@]} files)"
  MESH_COMPOSE_TESTS=1 node --test --test-concurrency=1 --test-timeout=900000 "${composeTests[@]}"
fi
