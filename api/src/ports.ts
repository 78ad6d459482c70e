// Well-known ports (ARCHITECTURE.md). Process mode shifts the host-side ones by an offset
// so a test mesh can run beside a developer's.

export const ports = {
  nats: 4222,
  gateway: 8080,
  galley: 9901,
  pilot: 15014,
  citadel: 8060,
  mixer: 9091,
  mixerMetrics: 42422,
  console: 20001,
  prometheus: 9090,
  // Inside a workload's network namespace (Istio's):
  proxyAdmin: 15000,
  proxyOutbound: 15001,
  proxyInbound: 15006,
  proxyHealth: 15021,
  proxyStats: 15090,
} as const;
