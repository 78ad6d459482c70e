import { declareSettings } from '#api';
import { outboundSettings, serviceListenSettings } from '../lib/settings.js';

export const sleepSettings = declareSettings('sleep', { ...serviceListenSettings(80), ...outboundSettings });
