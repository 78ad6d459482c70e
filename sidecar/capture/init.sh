#!/bin/sh
# Sidecar start in compose mode (runs as root, in the app container's network namespace):
#  1. transparent capture with iptables (nat table, nf_tables backend), like istio-init:
#     - MESH_OUTPUT: the app's outbound TCP (not to loopback, not from the proxy's own uid)
#       -> the sidecar's outbound listener; TCP services declared in MESH_TCP_UPSTREAMS
#       (host:servicePort=localPort) first: their service port -> the sidecar's loopback
#       listener for it (one rule per destination port, so the port tells the sidecar which
#       service: Node cannot read SO_ORIGINAL_DST);
#     - MESH_PREROUTING: TCP arriving for the app's ports -> the mTLS inbound listener, so
#       plaintext sent straight to the app port is refused;
#  2. run the sidecar as istio-proxy (uid 1337) with setpriv, watching the namespace.
# Idempotent (own chains, flushed first). Without NET_ADMIN it logs and carries on in
# explicit mode: the app then has to use HTTP_PROXY=http://127.0.0.1:15001.
#
# Env: MESH_CAPTURE (auto | none; default auto), MESH_CAPTURE_PORTS (comma list of
# destination ports to capture; empty = all TCP), MESH_APP_PORTS (name:port[:targetPort],...),
# MESH_TCP_UPSTREAMS (host:servicePort=localPort,...), MESH_INBOUND_PORT (15006),
# MESH_OUTBOUND_PORT (15001), MESH_PROXY_UID (1337),
# MESH_IPTABLES (iptables binary; default iptables-nft when present, else iptables),
# MESH_CERT_DIR (created and handed to the proxy user), MESH_NETNS_WATCH (true: exit when
# the app's network namespace goes away), MESH_NETNS_WATCH_SECONDS (2). Arguments: the
# command to run (default: node /mesh/dist/sidecar/src/main.js).
set -u

PROXY_UID="${MESH_PROXY_UID:-1337}"
INBOUND_PORT="${MESH_INBOUND_PORT:-15006}"
OUTBOUND_PORT="${MESH_OUTBOUND_PORT:-15001}"
CAPTURE="${MESH_CAPTURE:-auto}"

log() { echo "{\"level\":\"$1\",\"component\":\"capture\",\"msg\":\"$2\"}" >&2; }

# Istio's proxy ids are <pod>.<namespace>; here the pod is the app container, whose
# hostname (shared through network_mode service:<app>) is its 12-hex container id. Citadel's
# docker attestation finds the container by that id.
if [ -z "${MESH_PROXY_ID:-}" ] && [ -n "${MESH_WORKLOAD:-}" ]; then
  host="$(cat /etc/hostname 2>/dev/null || hostname)"
  MESH_PROXY_ID="${MESH_WORKLOAD}-${host}.${MESH_NAMESPACE:-default}"
  export MESH_PROXY_ID
fi

if [ -z "${MESH_IPTABLES:-}" ]; then
  if command -v iptables-nft >/dev/null 2>&1; then MESH_IPTABLES=iptables-nft; else MESH_IPTABLES=iptables; fi
fi
ipt() { "$MESH_IPTABLES" -w 5 -t nat "$@"; }

# Comma list -> space list of numeric ports (anything else is ignored with a warning).
ports_of() {
  for p in $(echo "$1" | tr ',' ' '); do
    case "$p" in
      ''|*[!0-9]*) log warn "ignoring port '$p'" ;;
      *) echo "$p" ;;
    esac
  done
}

# host:servicePort=localPort -> "servicePort localPort" lines (malformed entries are skipped;
# the sidecar itself refuses them at start with a clear error).
tcp_upstreams() {
  for spec in $(echo "${MESH_TCP_UPSTREAMS:-}" | tr ',' ' '); do
    echo "$spec" | awk -F'[:=]' '{ if (NF == 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/) print $2, $3 }'
  done
}

# name:servicePort[:targetPort] -> both ports, deduplicated.
app_ports() {
  for spec in $(echo "${MESH_APP_PORTS:-}" | tr ',' ' '); do
    echo "$spec" | awk -F: '{ if (NF>=2) print $2; if (NF>=3) print $3 }'
  done | sort -un
}

install_capture() {
  for chain in MESH_OUTPUT MESH_PREROUTING; do
    ipt -N "$chain" 2>/dev/null || true
    ipt -F "$chain" || return 1
  done
  ipt -C OUTPUT -p tcp -j MESH_OUTPUT 2>/dev/null || ipt -A OUTPUT -p tcp -j MESH_OUTPUT || return 1
  ipt -C PREROUTING -p tcp -j MESH_PREROUTING 2>/dev/null || ipt -A PREROUTING -p tcp -j MESH_PREROUTING || return 1

  # Outbound: never loopback (the proxy's own listeners, the app itself, Docker's DNS at
  # 127.0.0.11), never the proxy's own connections (that would loop).
  ipt -A MESH_OUTPUT -d 127.0.0.0/8 -j RETURN || return 1
  ipt -A MESH_OUTPUT -m owner --uid-owner "$PROXY_UID" -j RETURN || return 1
  # TCP services: their port goes to the sidecar's listener for that service (before the
  # catch-all to the HTTP outbound listener).
  tcp_upstreams | while read -r service_port local_port; do
    ipt -A MESH_OUTPUT -p tcp --dport "$service_port" -j REDIRECT --to-ports "$local_port" || exit 1
  done || return 1
  capture_ports="$(ports_of "${MESH_CAPTURE_PORTS:-}")"
  if [ -z "$capture_ports" ]; then
    ipt -A MESH_OUTPUT -p tcp -j REDIRECT --to-ports "$OUTBOUND_PORT" || return 1
  else
    for p in $capture_ports; do
      ipt -A MESH_OUTPUT -p tcp --dport "$p" -j REDIRECT --to-ports "$OUTBOUND_PORT" || return 1
    done
  fi

  # Inbound: plaintext to the app's ports lands on the mTLS listener instead.
  for p in $(app_ports); do
    [ "$p" = "$INBOUND_PORT" ] && continue
    ipt -A MESH_PREROUTING -p tcp --dport "$p" -j REDIRECT --to-ports "$INBOUND_PORT" || return 1
  done
  return 0
}

if [ "$CAPTURE" = none ]; then
  log info "capture disabled (MESH_CAPTURE=none): explicit mode"
elif [ "$(id -u)" != 0 ]; then
  log warn "not root: no capture, explicit mode (apps must use HTTP_PROXY=http://127.0.0.1:${OUTBOUND_PORT})"
elif install_capture 2>/tmp/mesh-capture.err; then
  log info "capture installed with $MESH_IPTABLES: TCP upstreams [$(tcp_upstreams | tr ' \n' '> ' | sed 's/ $//')], outbound ports [${MESH_CAPTURE_PORTS:-all}] -> ${OUTBOUND_PORT}, app ports [$(app_ports | tr "\n" " " | sed "s/ $//")] -> ${INBOUND_PORT}"
else
  reason="$(tr '\n"' ' ' </tmp/mesh-capture.err | cut -c1-300)"
  log warn "iptables failed (no NET_ADMIN?): explicit mode (apps must use HTTP_PROXY=http://127.0.0.1:${OUTBOUND_PORT}): ${reason}"
fi

if [ -n "${MESH_CERT_DIR:-}" ]; then
  mkdir -p "$MESH_CERT_DIR" 2>/dev/null && chown "$PROXY_UID:$PROXY_UID" "$MESH_CERT_DIR" 2>/dev/null || true
fi

cd /mesh 2>/dev/null || true
if [ "$#" -eq 0 ]; then
  set -- node /mesh/dist/sidecar/src/main.js
fi
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
  set -- setpriv --reuid="$PROXY_UID" --regid="$PROXY_UID" --clear-groups -- "$@"
fi

# Any interface besides loopback in this network namespace?
has_link() { awk -F: 'NR > 2 && $1 !~ /^ *lo$/ { found = 1 } END { exit !found }' /proc/net/dev; }

# The sidecar lives in its app's network namespace. When the app container restarts, Docker
# gives it a new namespace and this one is left with loopback only: the proxy would be
# cut off while pilot still routes to the app. So watch, and exit when the link is gone;
# the restart policy then starts the sidecar (and its capture rules) in the new namespace.
if [ "${MESH_NETNS_WATCH:-true}" != true ] || ! has_link; then
  exec "$@"
fi
"$@" &
child=$!
stopping=
trap 'stopping=1; kill -TERM "$child" 2>/dev/null' TERM INT HUP
while [ -z "$stopping" ] && kill -0 "$child" 2>/dev/null; do
  if ! has_link; then
    log warn "the network namespace lost its link (app container restarted?): stopping so the sidecar restarts in the new one"
    kill -TERM "$child" 2>/dev/null
    wait "$child"
    exit 75
  fi
  sleep "${MESH_NETNS_WATCH_SECONDS:-2}" &
  wait "$!"
done
wait "$child"
