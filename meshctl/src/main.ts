// meshctl: istioctl's habits for compose-mesh.

import { Command, Option } from 'commander';
import { defaultEndpoints } from './endpoints.js';
import { parseFormat } from './output.js';
import { MeshUnreachable } from './client.js';
import { registerAnalyzeCommand } from './commands/analyze.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerDeleteCommand } from './commands/delete.js';
import { fetchStatus, formatStatus } from './commands/status.js';
import { fetchProxyStatus, formatProxyStatus } from './commands/proxy-status.js';
import { fetchProxyConfig, fetchProxySecret, formatProxyConfig, formatSecret, type ConfigSection } from './commands/proxy-config.js';
import { fetchDescription, formatDescription } from './commands/describe.js';
import { buildTop, fetchEdges, formatTop, parseGrouping } from './commands/top.js';
import { fetchTraces, formatTraces } from './commands/traces.js';
import { checkDashboard, dashboardUrl, formatDashboard, openBrowser, parseDashboard } from './commands/dashboard.js';
import { fetchVersion, formatVersion } from './commands/version.js';
import { fetchCerts, formatCerts } from './commands/certs.js';

const program = new Command('meshctl')
  .description('Inspect and configure compose-mesh (istioctl habits)')
  .showHelpAfterError();

const output = () => new Option('-o, --output <format>', 'json | yaml | short | table').default('table');

program.command('status')
  .description('component health, proxy sync summary, and config files that failed validation')
  .addOption(output())
  .action(async (opts: { output: string }) => {
    const s = await fetchStatus(defaultEndpoints());
    process.stdout.write(formatStatus(s, parseFormat(opts.output)));
    if (s.components.some((c) => !c.healthy)) process.exitCode = 2;
  });

program.command('proxy-status [proxy]')
  .alias('ps')
  .description('per proxy: SYNCED, NOT SENT, STALE or NACKED, with the version it runs')
  .addOption(output())
  .action(async (proxy: string | undefined, opts: { output: string }) => {
    const list = await fetchProxyStatus(defaultEndpoints());
    process.stdout.write(formatProxyStatus(list, parseFormat(opts.output), proxy));
  });

const proxyConfig = program.command('proxy-config')
  .alias('pc')
  .description('the config pilot sent a proxy: clusters, listeners, routes, endpoints');
for (const section of ['cluster', 'listener', 'route', 'endpoint', 'all'] as ConfigSection[]) {
  proxyConfig.command(`${section} <proxy>`)
    .description(section === 'all' ? 'everything' : `the proxy's ${section}s`)
    .addOption(output())
    .action(async (proxy: string, opts: { output: string }) => {
      const { config } = await fetchProxyConfig(defaultEndpoints(), proxy);
      process.stdout.write(formatProxyConfig(section, config, parseFormat(opts.output)));
    });
}
proxyConfig.command('secret <proxy>')
  .description('the proxy\'s workload certificate and trusted roots (from its admin; never the key), chain checked')
  .addOption(output())
  .action(async (proxy: string, opts: { output: string }) => {
    process.stdout.write(formatSecret(await fetchProxySecret(defaultEndpoints(), proxy), parseFormat(opts.output)));
  });

program.command('traces [id]')
  .description('traces mixer assembled from the sidecars\' reports; with an id (trace id or x-request-id), its span tree')
  .addOption(new Option('--limit <n>', 'how many recent traces').default('20'))
  .addOption(output())
  .action(async (id: string | undefined, opts: { output: string; limit: string }) => {
    process.stdout.write(formatTraces(await fetchTraces(defaultEndpoints(), id, Number(opts.limit) || 20), parseFormat(opts.output), id !== undefined));
  });

program.command('top')
  .description('per service: request rate, success rate, p50 and p99 over mixer\'s sliding window')
  .addOption(new Option('--by <grouping>', 'service | workload | edge').default('service'))
  .addOption(output())
  .action(async (opts: { output: string; by: string }) => {
    const by = parseGrouping(opts.by);
    process.stdout.write(formatTop(buildTop(await fetchEdges(defaultEndpoints()), by), parseFormat(opts.output)));
  });

program.command('dashboard [name]')
  .alias('d')
  .description('open the web console (default) or Prometheus (`dashboard prometheus`)')
  .option('--no-browser', 'print the URL only')
  .addOption(output())
  .action(async (name: string | undefined, opts: { output: string; browser: boolean }) => {
    const format = parseFormat(opts.output);
    const info = dashboardUrl(defaultEndpoints(), parseDashboard(name));
    await checkDashboard(info);
    process.stdout.write(formatDashboard(info, format));
    if (opts.browser && format === 'table' && process.stdout.isTTY) openBrowser(info.url);
  });

program.command('certs [proxy]')
  .description('each proxy\'s workload certificate: identity, issuer, expiry, time until rotation')
  .addOption(output())
  .action(async (proxy: string | undefined, opts: { output: string }) => {
    process.stdout.write(formatCerts(await fetchCerts(defaultEndpoints()), parseFormat(opts.output), proxy));
  });

program.command('version')
  .description('meshctl\'s version and what each component reports')
  .option('--remote <bool>', 'also ask the mesh (false: client only)', 'true')
  .addOption(output())
  .action(async (opts: { output: string; remote: string }) => {
    const report = await fetchVersion(defaultEndpoints(), !/^(false|0|no)$/i.test(opts.remote));
    process.stdout.write(formatVersion(report, parseFormat(opts.output)));
  });

// Config folder commands (offline: no mesh needed).
registerAnalyzeCommand(program);
registerApplyCommand(program);
registerDeleteCommand(program);

const experimental = program.command('experimental').alias('x').description('experimental commands (istioctl x)');
experimental.command('describe <workload>')
  .description('which VirtualService, DestinationRule and mTLS mode apply to a workload')
  .addOption(output())
  .action(async (workload: string, opts: { output: string }) => {
    const d = await fetchDescription(defaultEndpoints(), workload);
    process.stdout.write(formatDescription(d, parseFormat(opts.output)));
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof MeshUnreachable) {
    process.stderr.write(`Error: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`Error: ${(err as Error).message}\n`);
  process.exit(1);
}
