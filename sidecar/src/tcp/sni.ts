// How a TCP stream names its destination on the shared mTLS inbound port: Istio's SNI
// `outbound_.<port>_.<subset>_.<host>` (the form its AUTO_PASSTHROUGH gateways and inbound
// filter chains route by). HTTP connections carry no SNI (agents.ts sends none), so a TLS
// connection with such an SNI is a TCP stream for that service port, anything else is HTTP.

export interface TcpSni {
  port: number;
  subset: string;
  host: string;
}

export function tcpSni(port: number, subset: string, host: string): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}

export function parseTcpSni(sni: string | false | undefined | null): TcpSni | undefined {
  if (typeof sni !== 'string') return undefined;
  const m = /^outbound_\.(\d{1,5})_\.([^_]*)_\.(.+)$/.exec(sni);
  if (!m) return undefined;
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return undefined;
  return { port, subset: m[2]!, host: m[3]!.toLowerCase() };
}
