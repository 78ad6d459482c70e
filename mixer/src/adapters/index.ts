// The adapters this mixer can instantiate from config (Istio 1.1's compiled-in adapters).
import type { AdapterFactory } from './handler.js';
import { denierAdapter } from './denier.js';
import { listAdapter } from './list.js';
import { memquotaAdapter } from './memquota.js';
import { redisquotaAdapter } from './redisquota.js';
import { prometheusAdapter } from './prometheus-custom.js';
import { stdioAdapter } from './stdio.js';
import { zipkinAdapter } from './zipkin.js';

export const adapterFactories: readonly AdapterFactory[] = [denierAdapter, listAdapter, memquotaAdapter, redisquotaAdapter, prometheusAdapter, stdioAdapter, zipkinAdapter];
