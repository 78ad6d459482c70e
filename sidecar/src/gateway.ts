// Gateway mode: one plain HTTP listener per Gateway server port in the pushed config, bound on
// MESH_GATEWAY_BIND at the mapped port (MESH_GATEWAY_PORT_MAP). Listeners follow the config:
// new ports bind before the swap (a bind failure NACKs the push and leaves everything as it
// was), dropped ports close after it. Requests route with the listener's route configuration
// and leave over mTLS exactly like outbound ones.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CompiledConfig } from './compile.js';
import { ConfigError, configErrorCodes } from './compile.js';
import type { DataPlane } from './data-plane.js';
import { newExchange } from './exchange.js';
import { requestHasBody, stripHopByHop } from './headers.js';
import { hardenServer, listenOn, type ListeningServer } from './listen.js';
import { outboundService } from './outbound.js';
import { PEER_HEADER } from './peer.js';
import { serveExchange } from './serve.js';

export interface GatewayListenerStatus {
  port: number;
  boundPort: number;
  routeConfig: string;
}

export class GatewayListeners {
  private readonly servers = new Map<number, ListeningServer>();

  constructor(
    private readonly plane: DataPlane,
    private readonly bind: string,
    private readonly portMap: Map<number, number>,
  ) {}

  private createServer(logicalPort: number): http.Server {
    const plane = this.plane;
    const service = outboundService(plane, () => {
      const c = plane.current;
      const l = c?.gatewayListeners.get(logicalPort);
      return l?.routeConfig ? c!.routeTables.get(l.routeConfig) : undefined;
    });
    const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      const ex = newExchange(req, 'gateway', performance.now());
      const h = ex.headers;
      ex.hasBody = requestHasBody(h);
      stripHopByHop(h);
      // The edge: the client's address is the one fact we know; whatever it claims is dropped.
      h['x-forwarded-for'] = req.socket.remoteAddress ?? '';
      h['x-forwarded-proto'] = 'http';
      delete h['x-forwarded-client-cert'];
      if (h['x-request-id'] === undefined) h['x-request-id'] = randomUUID();
      h[PEER_HEADER] = plane.peerHeader;
      serveExchange(ex, service, res, plane.log);
    });
    hardenServer(server);
    return server;
  }

  /** Binds the listeners `next` adds; on any failure closes those and throws (NACK). */
  async prepare(next: CompiledConfig): Promise<void> {
    const added: number[] = [];
    try {
      for (const port of next.gatewayListeners.keys()) {
        if (this.servers.has(port)) continue;
        const bound = this.portMap.get(port) ?? port;
        try {
          this.servers.set(port, await listenOn(this.createServer(port), this.bind, bound));
          added.push(port);
        } catch (err) {
          throw new ConfigError(configErrorCodes.bindFailed, `listeners[${next.gatewayListeners.get(port)!.name}]`, `cannot bind ${this.bind}:${bound}: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      await Promise.all(added.map((p) => { const s = this.servers.get(p)!; this.servers.delete(p); return s.close(0); }));
      throw err;
    }
  }

  /** Closes listeners the served config no longer has. */
  commit(current: CompiledConfig): void {
    for (const [port, s] of this.servers) {
      if (!current.gatewayListeners.has(port)) {
        this.servers.delete(port);
        void s.close();
      }
    }
  }

  list(): GatewayListenerStatus[] {
    const c = this.plane.current;
    return [...this.servers.entries()].map(([port, s]) => ({ port, boundPort: s.port, routeConfig: c?.gatewayListeners.get(port)?.routeConfig ?? '' }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.close()));
    this.servers.clear();
  }
}
