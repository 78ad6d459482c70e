// Every mixer tunable, declared once (the README's settings table is generated from this).
import { declareSettings, setting, commonSettings, ports } from '#api';

export const mixerSettings = declareSettings('mixer', {
  ...commonSettings,
  port: setting.int('MESH_MIXER_PORT', ports.mixer, 'mixer API port (check, report, ready, debug)', 0, 65535),
  bind: setting.str('MESH_MIXER_BIND', '127.0.0.1', 'address the mixer API binds (compose sets 0.0.0.0)'),
  metricsPort: setting.int('MESH_MIXER_METRICS_PORT', ports.mixerMetrics, 'Prometheus /metrics port', 0, 65535),
  metricsBind: setting.str('MESH_MIXER_METRICS_BIND', '127.0.0.1', 'address the metrics server binds (compose sets 0.0.0.0)'),
  maxReportBytes: setting.int('MESH_MIXER_MAX_REPORT_BYTES', 8 * 1024 * 1024, 'largest ReportBatch accepted over HTTP', 1024),
  checkValidMs: setting.int('MESH_MIXER_CHECK_VALID_MS', 60_000, 'how long a sidecar may cache a check answer no handler narrowed', 0),
  checkValidUses: setting.int('MESH_MIXER_CHECK_VALID_USES', 10_000, 'how many requests a sidecar may answer from one cached check', 1),
  configNamespace: setting.str('MESH_MIXER_CONFIG_NAMESPACE', 'istio-system', 'namespace whose rules apply mesh-wide (Istio\'s istio-system); rules elsewhere apply to their own namespace'),
  defaultConfig: setting.bool('MESH_MIXER_DEFAULT_CONFIG', true, 'load Istio 1.1\'s default telemetry config (stdio access log rules) under the user\'s'),
  accessLog: setting.str('MESH_MIXER_ACCESS_LOG', 'stdout', 'where stdio handlers write access log lines: stdout, stderr, off, or a file path'),
  quotaTimeoutMs: setting.int('MESH_MIXER_QUOTA_TIMEOUT_MS', 200, 'a quota backend slower than this counts as down for that request (the request is allowed)', 1),
  zipkinUrl: setting.str('MESH_MIXER_ZIPKIN_URL', '', 'Zipkin v2 collector to export assembled trace spans to (`http://zipkin:9411/api/v2/spans`); empty: no export'),
  traceCompleteMs: setting.int('MESH_MIXER_TRACE_COMPLETE_MS', 1000, 'a trace with no new span for this long is complete and exported', 10),
});

export type MixerSettings = ReturnType<typeof mixerSettings.load>;
