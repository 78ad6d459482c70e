// pilot's entry point: wiring only. Reads settings, connects to the bus, starts pilot, listens.
import { connectBus, createLogger } from '#api';
import { startPilot } from './pilot.js';
import { pilotSettings } from './settings.js';

const settings = pilotSettings.load();
const log = createLogger('pilot', settings.logLevel);
const bus = await connectBus({
  servers: settings.natsUrl, name: 'pilot', log,
  ...(settings.natsUser ? { user: settings.natsUser, pass: settings.natsPass } : {}),
});
const pilot = await startPilot(settings, { bus, log });
await pilot.app.listen({ port: settings.port, host: settings.bind });
log.info({ port: settings.port, bind: settings.bind }, 'pilot API listening');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await pilot.stop();
      await bus.close();
      process.exit(0);
    })();
  });
}
