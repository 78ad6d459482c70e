// Every mixer tunable, declared once (the README's settings table is generated from this).
import { declareSettings, setting, commonSettings, ports } from '#api';

export const mixerSettings = declareSettings('mixer', {
  ...commonSettings,
  port: setting.int('MESH_MIXER_PORT', ports.mixer, 'mixer API port (check, report, ready, debug)', 0, 65535),
  bind: setting.str('MESH_MIXER_BIND', '127.0.0.1', 'address the mixer API binds (compose sets 0.0.0.0)'),
  metricsPort: setting.int('MESH_MIXER_METRICS_PORT', ports.mixerMetrics, 'Prometheus /metrics port', 0, 65535),
  metricsBind: setting.str('MESH_MIXER_METRICS_BIND', '127.0.0.1', 'address the metrics server binds (compose sets 0.0.0.0)'),
  maxReportBytes: setting.int('MESH_MIXER_MAX_REPORT_BYTES', 8 * 1024 * 1024, 'largest ReportBatch accepted over HTTP', 1024),
  checkValidMs: setting.int('MESH_MIXER_CHECK_VALID_MS', 60_000, 'how long a sidecar may cache an allow answer', 0),
  checkValidUses: setting.int('MESH_MIXER_CHECK_VALID_USES', 10_000, 'how many requests a sidecar may answer from one cached check', 1),
});

export type MixerSettings = ReturnType<typeof mixerSettings.load>;
