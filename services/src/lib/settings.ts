// Settings every demo service reads; each service adds its own in <service>/settings.ts.
import { setting } from '#api';

export function serviceListenSettings(defaultPort: number) {
  return {
    port: setting.int('SERVICE_PORT', defaultPort, 'port the service listens on', 0, 65535),
    bind: setting.str('SERVICE_BIND', '0.0.0.0', 'address the service binds (process mode: 127.0.0.1)'),
    version: setting.str('SERVICE_VERSION', 'v1', 'the version this instance reports (v1, v2, v3...)'),
  };
}

/** Outbound calls honour HTTP_PROXY (the sidecar's explicit-mode listener) and NO_PROXY. */
export const outboundSettings = {
  httpProxy: setting.str('HTTP_PROXY', '', 'send outbound requests through this HTTP proxy (absolute-form); empty: connect directly'),
  noProxy: setting.str('NO_PROXY', '', 'comma list of hosts (or .suffixes, or *) reached directly despite HTTP_PROXY'),
};

/** Node does not read the lower-case spellings for us; curl does, so we accept both. */
export function proxyEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...env,
    HTTP_PROXY: env.HTTP_PROXY || env.http_proxy || '',
    NO_PROXY: env.NO_PROXY || env.no_proxy || '',
  };
}
