// Every citadel tunable, declared once.

import { commonSettings, declareSettings, setting } from '#api';

export const attestationKinds = ['token', 'docker', 'none'] as const;
export type AttestationKind = (typeof attestationKinds)[number];

export const citadelSettings = declareSettings('citadel', {
  ...commonSettings,
  port: setting.int('MESH_CITADEL_PORT', 8060, 'citadel HTTP API port (trust bundle, issued-cert inventory)', 0, 65535),
  bind: setting.str('MESH_CITADEL_BIND', '127.0.0.1', 'address the citadel HTTP API binds'),
  dataDir: setting.str('MESH_CITADEL_DATA_DIR', '.state/citadel', 'where the root key (mode 0600) and root cert are kept across restarts'),
  trustDomain: setting.str('MESH_TRUST_DOMAIN', 'cluster.local', 'SPIFFE trust domain written into every identity'),
  certTtlDefaultSeconds: setting.int('MESH_CERT_TTL_DEFAULT_SECONDS', 86_400, 'workload cert lifetime when the CSR asks for none', 1),
  certTtlMaxSeconds: setting.int('MESH_CERT_TTL_MAX_SECONDS', 7_776_000, 'longest workload cert lifetime citadel signs; longer requests are refused', 1),
  rootTtlDays: setting.int('MESH_ROOT_TTL_DAYS', 3650, 'lifetime of a newly created self-signed root', 1),
  attestation: setting.oneOf('MESH_CITADEL_ATTESTATION', 'token' as AttestationKind, attestationKinds, 'how citadel checks a requester is entitled to the identity it asks for'),
  bootstrapSecret: setting.str('MESH_CITADEL_BOOTSTRAP_SECRET', '', 'shared secret for token attestation (required in token mode; the launcher derives per-identity tokens from it)'),
  dockerSocket: setting.str('MESH_DOCKER_SOCKET', '/var/run/docker.sock', 'Docker engine socket for docker attestation'),
  inventorySize: setting.int('MESH_CITADEL_INVENTORY_SIZE', 10_000, 'how many issued certificates the inventory remembers', 1),
});

export type CitadelSettings = ReturnType<typeof citadelSettings.load>;
