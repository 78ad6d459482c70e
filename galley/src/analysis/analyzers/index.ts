// The cross-resource analyzers, run in this order over every snapshot. Add new ones here
// (and their codes to galley/README.md).

import type { Analyzer } from '../context.js';
import { conflictingDestinationRules } from './conflicting-destination-rules.js';
import { conflictingHosts } from './conflicting-hosts.js';
import { destinationHosts } from './destination-hosts.js';
import { destinationRuleTls } from './destination-rule-tls.js';
import { gatewayHosts } from './gateway-hosts.js';
import { gatewayNotFound } from './gateway-not-found.js';
import { gatewayServers } from './gateway-servers.js';
import { mixerReferences } from './mixer-references.js';
import { serviceEntryAddresses } from './service-entry-addresses.js';
import { servicePortProtocols } from './service-port-protocols.js';
import { sidecarSelectors } from './sidecar-selectors.js';
import { subsetNotFound } from './subset-not-found.js';
import { unreachableRule } from './unreachable-rule.js';

export const defaultAnalyzers: readonly Analyzer[] = [
  subsetNotFound, gatewayNotFound, destinationHosts, conflictingHosts, unreachableRule, gatewayHosts, gatewayServers,
  conflictingDestinationRules, destinationRuleTls, servicePortProtocols, serviceEntryAddresses, sidecarSelectors, mixerReferences,
];
