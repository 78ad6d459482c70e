// Wiring only.
import { createLogger } from '#api';
import { tcpEchoSettings } from './settings.js';
import { buildTcpEcho } from './echo.js';

const s = tcpEchoSettings.load();
const log = createLogger('tcp-echo', 'info');
const server = buildTcpEcho(s.prefix);
server.listen(s.port, s.bind, () => log.info({ port: s.port, bind: s.bind }, 'tcp-echo listening'));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
