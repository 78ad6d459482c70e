import { declareSettings } from '#api';
import { serviceListenSettings } from '../lib/settings.js';

export const ratingsSettings = declareSettings('ratings', { ...serviceListenSettings(9080) });
