import { declareSettings } from '#api';
import { serviceListenSettings } from '../lib/settings.js';

export const detailsSettings = declareSettings('details', { ...serviceListenSettings(9080) });
