// The native reference: two nginx processes doing the sidecar pair's job with the same
// certificates: the client side takes plain HTTP and forwards over mTLS (client cert,
// verified server chain and name) on keep-alive connections; the server side requires a
// client certificate and forwards to the app on keep-alive connections. One worker each, as
// our sidecar is one Node thread.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnProc, waitPort, type Proc } from './procs.js';

export interface NginxTls { key: string; cert: string; roots: string; dnsName: string }

function common(dir: string, name: string): string {
  const tmp = join(dir, `${name}-tmp`);
  mkdirSync(tmp, { recursive: true });
  return `
worker_processes 1;
daemon off;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}-error.log`)} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  proxy_buffering on;`;
}

export function nginxClientConf(dir: string, listen: number, serverPort: number, tls: NginxTls): string {
  return `${common(dir, 'client')}
  upstream server_side {
    server 127.0.0.1:${serverPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass https://server_side;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_certificate ${tls.cert};
      proxy_ssl_certificate_key ${tls.key};
      proxy_ssl_trusted_certificate ${tls.roots};
      proxy_ssl_verify on;
      proxy_ssl_verify_depth 2;
      proxy_ssl_name ${tls.dnsName};
      proxy_ssl_session_reuse on;
    }
  }
}
`;
}

export function nginxServerConf(dir: string, listen: number, appPort: number, tls: NginxTls): string {
  return `${common(dir, 'server')}
  upstream app {
    server 127.0.0.1:${appPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${listen} ssl;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_client_certificate ${tls.roots};
    ssl_verify_client on;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

export async function startNginx(name: string, conf: string, dir: string, port: number, logDir: string): Promise<Proc> {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  const p = spawnProc(name, 'nginx', ['-p', dir, '-c', file, '-e', join(dir, `${name}-error.log`)], { logDir });
  await waitPort(p, port, 15_000);
  return p;
}
