import { declareSettings } from '#api';
import { serviceListenSettings } from '../lib/settings.js';

export const httpbinSettings = declareSettings('httpbin', { ...serviceListenSettings(8000) });
