// The cross-resource analyzers, run in this order over every snapshot. Add new ones here.

import type { Analyzer } from '../context.js';
import { conflictingHosts } from './conflicting-hosts.js';
import { gatewayNotFound } from './gateway-not-found.js';
import { subsetNotFound } from './subset-not-found.js';
import { unreachableRule } from './unreachable-rule.js';

export const defaultAnalyzers: readonly Analyzer[] = [subsetNotFound, gatewayNotFound, conflictingHosts, unreachableRule];
