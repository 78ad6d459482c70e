// galley's own metrics, in a registry of its own (never prom-client's global one).

import { Counter, Gauge, Registry } from 'prom-client';

export interface GalleyMetrics {
  registry: Registry;
  snapshotsPublished: Counter;
  fileUpdates: Counter<'result'>;
  files: Gauge<'state'>;
  resources: Gauge;
  messages: Gauge<'level'>;
}

export function createMetrics(registry = new Registry()): GalleyMetrics {
  return {
    registry,
    snapshotsPublished: new Counter({ name: 'galley_snapshots_published_total', help: 'config snapshots published on the bus', registers: [registry] }),
    fileUpdates: new Counter({ name: 'galley_file_updates_total', help: 'config file reads by result (accepted, rejected, deleted)', labelNames: ['result'], registers: [registry] }),
    files: new Gauge({ name: 'galley_config_files', help: 'config files by state', labelNames: ['state'], registers: [registry] }),
    resources: new Gauge({ name: 'galley_snapshot_resources', help: 'resources in the current snapshot', registers: [registry] }),
    messages: new Gauge({ name: 'galley_validation_messages', help: 'current validation messages by level', labelNames: ['level'], registers: [registry] }),
  };
}
