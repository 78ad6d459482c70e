// Every sidecar tunable, declared once (the README's settings table is generated from this).
// The MESH_* names are the mesh-wide contract the launcher and compose.yaml set.

import { declareSettings, setting, commonSettings, ports } from '#api';

export const sidecarSettings = declareSettings('sidecar', {
  ...commonSettings,
  kind: setting.oneOf('MESH_PROXY_KIND', 'sidecar', ['sidecar', 'gateway'] as const, 'what this proxy fronts: a workload or the ingress gateway'),
  proxyId: setting.str('MESH_PROXY_ID', '', 'proxy id (default `<workload>-<random5>.<namespace>`)'),
  workload: setting.str('MESH_WORKLOAD', '', 'workload name (`reviews-v1`); required'),
  namespace: setting.str('MESH_NAMESPACE', 'default', 'namespace of the workload'),
  serviceAccount: setting.str('MESH_SERVICE_ACCOUNT', 'default', 'service account the workload identity is issued for'),
  labels: setting.str('MESH_LABELS', '', 'workload labels, `app=reviews,version=v1`'),
  services: setting.str('MESH_SERVICES', '', 'services this workload backs, comma list (empty for clients and gateways)'),
  tcpUpstreams: setting.str('MESH_TCP_UPSTREAMS', '', 'TCP services the app reaches on loopback ports: `host:servicePort=localPort`, comma list (compose capture redirects the service port there)'),
  appPorts: setting.str('MESH_APP_PORTS', '', 'workload ports `name:servicePort:targetPort`, comma list; the app listens on 127.0.0.1:targetPort'),
  inboundPort: setting.int('MESH_INBOUND_PORT', ports.proxyInbound, 'mTLS inbound listener port (0: any free port)', 0, 65535),
  inboundBind: setting.str('MESH_INBOUND_BIND', '0.0.0.0', 'mTLS inbound listener address'),
  inboundAdvertise: setting.str('MESH_INBOUND_ADVERTISE', '', 'address peers use to reach the inbound listener (default: first non-internal IPv4, else 127.0.0.1)'),
  outboundPort: setting.int('MESH_OUTBOUND_PORT', ports.proxyOutbound, 'plain HTTP outbound listener port (0: any free port)', 0, 65535),
  outboundBind: setting.str('MESH_OUTBOUND_BIND', '127.0.0.1', 'outbound listener address'),
  adminPort: setting.int('MESH_ADMIN_PORT', ports.proxyAdmin, 'admin API port, bound to 127.0.0.1 only (0: any free port)', 0, 65535),
  register: setting.bool('MESH_REGISTER', true, 'ask pilot to register this workload from the announcement (process mode); false when Docker is the source of endpoints'),
  gatewayPortMap: setting.str('MESH_GATEWAY_PORT_MAP', '', 'gateway: `serverPort=boundPort` comma list (default: bind the Gateway server port itself)'),
  gatewayBind: setting.str('MESH_GATEWAY_BIND', '0.0.0.0', 'gateway: listener address'),
  gatewayCredentialDir: setting.str('MESH_GATEWAY_CREDENTIAL_DIR', '/etc/istio/gateway-credentials', 'gateway: folder where Gateway tls.credentialName is found (`<name>/tls.crt,tls.key,ca.crt` or `<name>.crt,.key`) and relative certificate paths start'),
  citadelToken: setting.str('MESH_CITADEL_TOKEN', '', 'bootstrap token for attestation at citadel (process mode)'),
  certDir: setting.str('MESH_CERT_DIR', '', 'write the cert chain and roots (never the key) here for inspection'),
  certTtlSeconds: setting.int('MESH_CERT_TTL_SECONDS', 86_400, 'requested workload certificate TTL', 60, 90 * 86_400),
  keyAlgorithm: setting.oneOf('MESH_KEY_ALGORITHM', 'ECDSA_P256', ['ECDSA_P256', 'RSA_2048'] as const, 'workload key type (Istio\'s ECC_SIGNATURE_ALGORITHM): ECDSA P-256 keys cost well under 1 ms to make, RSA-2048 ~0.2 s of CPU per start'),
  heartbeatMs: setting.int('MESH_HEARTBEAT_MS', 5000, 'heartbeat period toward pilot', 100),
  reportBatchMs: setting.int('MESH_REPORT_BATCH_MS', 200, 'telemetry flush period', 10),
  reportBuffer: setting.int('MESH_REPORT_BUFFER', 10_000, 'telemetry records buffered before dropping', 1),
  policyChecks: setting.bool('MESH_POLICY_CHECKS', true, 'ask mixer for policy decisions (deny rules, lists, quotas) on inbound requests, answered from a cache'),
  policyFailOpen: setting.bool('MESH_POLICY_FAIL_OPEN', false, 'when mixer cannot be reached: true lets requests through, false answers 503 (Istio\'s policyCheckFailOpen)'),
  policyClientSide: setting.bool('MESH_POLICY_CLIENT_CHECKS', false, 'also check on outbound routes, client side (Istio does this for gateways only when enabled)'),
  policyCheckTimeoutMs: setting.int('MESH_POLICY_CHECK_TIMEOUT_MS', 1000, 'how long a policy check waits for mixer before the fail policy decides', 10),
  policyRetryMs: setting.int('MESH_POLICY_RETRY_MS', 1000, 'after mixer failed to answer, how long the fail policy decides without asking', 0),
  policyCacheSize: setting.int('MESH_POLICY_CACHE_SIZE', 10_000, 'policy decisions cached', 1),
});

export type SidecarSettings = ReturnType<typeof sidecarSettings.load>;
