// Field-level validation: one validator per kind, looked up in a table. A kind without a
// validator (attributemanifest, HTTPAPISpec, adapter, template) is checked only as a resource
// (metadata, spec a map) and published as written; add validators here.

import { mixerAdapterKinds, mixerTemplateKinds, type Resource } from '#api';
import { validateAuthorizationPolicy } from './authorization-policy.js';
import { FieldChecker, type FieldIssue, type Obj } from './checks.js';
import { validateDestinationRule } from './destination-rule.js';
import { validateGateway } from './gateway.js';
import { mixerKindValidator, validateHandler, validateInstance, validateQuotaSpec, validateQuotaSpecBinding, validateRule } from './mixer.js';
import { validatePeerAuthentication } from './peer-authentication.js';
import { validateRequestAuthentication } from './request-authentication.js';
import { validateServiceEntry, validateWorkloadEntry } from './service-entry.js';
import { validateSidecar } from './sidecar.js';
import { validateVirtualService } from './virtual-service.js';

export type KindValidator = (spec: Obj, c: FieldChecker, resource: Resource) => void;

export const kindValidators: Record<string, KindValidator> = {
  VirtualService: validateVirtualService,
  DestinationRule: validateDestinationRule,
  Gateway: validateGateway,
  ServiceEntry: validateServiceEntry,
  WorkloadEntry: validateWorkloadEntry,
  Sidecar: validateSidecar,
  PeerAuthentication: validatePeerAuthentication,
  AuthorizationPolicy: validateAuthorizationPolicy,
  RequestAuthentication: validateRequestAuthentication,
  handler: validateHandler,
  instance: validateInstance,
  rule: validateRule,
  QuotaSpec: validateQuotaSpec,
  QuotaSpecBinding: validateQuotaSpecBinding,
  ...Object.fromEntries([...mixerAdapterKinds, ...mixerTemplateKinds].map((k) => [k, mixerKindValidator(k)!])),
};

/** Field problems of one resource; empty when it is fine or its kind has no validator. */
export function validateResource(resource: Resource): FieldIssue[] {
  const validator = kindValidators[resource.kind];
  if (!validator) return [];
  const c = new FieldChecker();
  try {
    validator(resource.spec as Obj, c, resource);
  } catch (err) {
    // A validator bug must not take galley down or let the resource through unexamined.
    c.issues.push({ level: 'Error', field: 'spec', message: `validator for ${resource.kind} failed: ${(err as Error).message}`, internal: true });
  }
  return c.issues;
}

export { FieldChecker, parseDuration, regexProblem, type FieldIssue } from './checks.js';
