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

export interface HostPorts {
  nats: number;
  gateway: number;
  galley: number;
  pilot: number;
  citadel: number;
  mixer: number;
  mixerMetrics: number;
  console: number;
}

/**
 * Host ports of process mode. By default the well-known ones shifted by `offset`. With a
 * `base`, every port is laid out compactly from it instead, so a whole mesh fits in a
 * window outside the kernel's ephemeral range (61000-65535 on Linux), where no outgoing
 * connection can take one of its ports first (what tests beside other tests need).
 */
export function hostPorts(opts: { offset?: number; base?: number } = {}): HostPorts {
  if (opts.base) {
    const b = opts.base;
    return { nats: b, gateway: b + 1, galley: b + 2, pilot: b + 3, citadel: b + 4, mixer: b + 5, mixerMetrics: b + 6, console: b + 7 };
  }
  const off = opts.offset ?? 0;
  return {
    nats: ports.nats + off, gateway: ports.gateway + off, galley: ports.galley + off, pilot: ports.pilot + off,
    citadel: ports.citadel + off, mixer: ports.mixer + off, mixerMetrics: ports.mixerMetrics + off, console: ports.console + off,
  };
}

/** Sidecars of process mode get a block of ten ports each: admin +0, outbound +1, inbound +6. */
export function proxyHostPorts(index: number, opts: { offset?: number; base?: number } = {}): { admin: number; outbound: number; inbound: number } {
  const start = opts.base ? opts.base + 20 : 15100 + (opts.offset ?? 0);
  const b = start + index * 10;
  return { admin: b, outbound: b + 1, inbound: b + 6 };
}

/** Where process mode's demo apps listen. */
export function appHostPort(index: number, opts: { offset?: number; base?: number } = {}): number {
  return opts.base ? opts.base + 300 + index : 19000 + (opts.offset ?? 0) + index;
}
