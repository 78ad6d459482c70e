// meshctl: istioctl's habits for compose-mesh.

import { Command, Option } from 'commander';
import { defaultEndpoints } from './endpoints.js';
import { parseFormat } from './output.js';
import { MeshUnreachable } from './client.js';
import { fetchStatus, formatStatus } from './commands/status.js';
import { fetchProxyStatus, formatProxyStatus } from './commands/proxy-status.js';
import { fetchProxyConfig, formatProxyConfig, type ConfigSection } from './commands/proxy-config.js';

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
