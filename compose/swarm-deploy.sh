#!/usr/bin/env bash
# Deploys the mesh onto a Docker Swarm: compose.yaml + the swarm.yaml overlay, in one
# `docker stack deploy`. compose.yaml uses Compose features the stack loader refuses outright
# (depends_on conditions, profiles), so the base is compose.yaml with just these rewritten,
# generated on the fly (never a second copy on disk):
#   - `depends_on: {x: {condition: ...}}` -> `depends_on: [x]` (Swarm ignores the order anyway;
#     every component retries the bus);
#   - services with `profiles:` are left out (Compose starts them only on request).
# Everything else, swarm.yaml changes by merging (docs/scale.md).
#
#   bash compose/swarm-deploy.sh [stack]            # default stack name: mesh
#   bash compose/swarm-deploy.sh --config [stack]   # print the merged stack instead
#
# Needs: a Swarm manager (`docker swarm init`), the image on every node (npm run
# compose:offline), node and the repository's node_modules (the yaml package).
# Environment: as compose.yaml and swarm.yaml (MESH_*_HOST_PORT, MESH_CONFIG_HOST_DIR, ...).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
mode=deploy
if [ "${1:-}" = "--config" ]; then mode=config; shift; fi
STACK="${1:-mesh}"

base() {
  (cd "$ROOT" && node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import YAML from "yaml";
    const doc = YAML.parse(readFileSync(process.argv[1], "utf8"), { merge: true, maxAliasCount: -1 });
    for (const [name, svc] of Object.entries(doc.services ?? {})) {
      if (!svc) continue;
      if (svc.profiles) { delete doc.services[name]; continue; }
      if (svc.depends_on && !Array.isArray(svc.depends_on)) svc.depends_on = Object.keys(svc.depends_on);
      if (Array.isArray(svc.depends_on)) svc.depends_on = svc.depends_on.filter((d) => doc.services[d] && !doc.services[d].profiles);
    }
    process.stdout.write(YAML.stringify(doc, { aliasDuplicateObjects: false }));
  ' "$HERE/compose.yaml")
}

# Relative paths (./config, ./nats/cluster.conf) resolve from the working directory when the
# first file is stdin: run from compose/.
cd "$HERE"
if [ "$mode" = config ]; then
  base | docker stack config -c - -c swarm.yaml
else
  base | docker stack deploy --resolve-image never -c - -c swarm.yaml "$STACK"
fi
