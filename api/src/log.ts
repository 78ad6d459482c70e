import { pino, type Logger } from 'pino';

export type { Logger };

/** One structured logger per process; components name themselves. Secrets are redacted by key. */
export function createLogger(component: string, level: string = process.env.MESH_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: component,
    level,
    base: { component },
    redact: { paths: ['*.privateKey', '*.keyPem', '*.token', '*.pass', 'privateKey', 'keyPem', 'token', 'pass', '*.password', '*.natsPass', 'password', 'natsPass'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
