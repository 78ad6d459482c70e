import { declareSettings, setting } from '#api';
import { serviceListenSettings } from '../lib/settings.js';

export const tcpEchoSettings = declareSettings('tcp-echo', {
  ...serviceListenSettings(9000),
  prefix: setting.str('TCP_ECHO_PREFIX', 'hello', 'what each echoed line starts with'),
});
