#!/usr/bin/env bash
# `npm start`: on a fresh clone, installs the node modules, builds, then runs the whole mesh
# with its demo as local processes (local/src/main.ts installs nats-server if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
exec node dist/local/src/main.js
