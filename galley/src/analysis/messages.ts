// Validation messages: Istio's shape and codes (pkg/config/analysis/msg/messages.yaml), plus a
// few of compose-mesh's own in the MSH range for what Kubernetes would have rejected before
// Istio saw it (YAML syntax, oversized input, unknown kinds, duplicates). Codes are stable:
// tools and people grep for them. README.md lists them.

import type { AnalysisMessage, MessageLevel } from '#api';

export type { AnalysisMessage, MessageLevel } from '#api';

export interface MessageType {
  code: string;
  level: MessageLevel;
  name: string;
}

function type(code: string, level: MessageLevel, name: string): MessageType {
  return { code, level, name };
}

/** Every message galley emits. Add new ones here, never renumber. */
export const messageTypes = {
  InternalError: type('IST0001', 'Error', 'InternalError'),
  ReferencedResourceNotFound: type('IST0101', 'Error', 'ReferencedResourceNotFound'),
  SchemaValidationError: type('IST0106', 'Error', 'SchemaValidationError'),
  ConflictingVirtualServiceHosts: type('IST0109', 'Error', 'ConflictingMeshGatewayVirtualServiceHosts'),
  ConflictingSidecarWorkloadSelectors: type('IST0110', 'Error', 'ConflictingSidecarWorkloadSelectors'),
  MultipleSidecarsWithoutWorkloadSelectors: type('IST0111', 'Error', 'MultipleSidecarsWithoutWorkloadSelectors'),
  VirtualServiceDestinationPortSelectorRequired: type('IST0112', 'Error', 'VirtualServiceDestinationPortSelectorRequired'),
  WorkloadAssociatedToMultipleServices: type('IST0116', 'Warning', 'DeploymentAssociatedToMultipleServices'),
  NoServerCertificateVerificationDestinationLevel: type('IST0128', 'Warning', 'NoServerCertificateVerificationDestinationLevel'),
  NoServerCertificateVerificationPortLevel: type('IST0129', 'Warning', 'NoServerCertificateVerificationPortLevel'),
  VirtualServiceUnreachableRule: type('IST0130', 'Warning', 'VirtualServiceUnreachableRule'),
  VirtualServiceIneffectiveMatch: type('IST0131', 'Info', 'VirtualServiceIneffectiveMatch'),
  VirtualServiceHostNotFoundInGateway: type('IST0132', 'Warning', 'VirtualServiceHostNotFoundInGateway'),
  SchemaWarning: type('IST0133', 'Warning', 'SchemaWarning'),
  ServiceEntryAddressesRequired: type('IST0134', 'Warning', 'ServiceEntryAddressesRequired'),
  GatewayDuplicateCertificate: type('IST0138', 'Warning', 'GatewayDuplicateCertificate'),
  ConflictingGateways: type('IST0145', 'Error', 'ConflictingGateways'),
  // compose-mesh's own:
  YamlSyntaxError: type('MSH0001', 'Error', 'YamlSyntaxError'),
  InputRejected: type('MSH0002', 'Error', 'InputRejected'),
  InvalidDocument: type('MSH0003', 'Error', 'InvalidDocument'),
  UnknownKind: type('MSH0004', 'Warning', 'UnknownKind'),
  DuplicateResourceInFile: type('MSH0005', 'Error', 'DuplicateResourceInFile'),
  DuplicateResource: type('MSH0006', 'Warning', 'DuplicateResource'),
  FileUnreadable: type('MSH0007', 'Error', 'FileUnreadable'),
  DocumentsHeldBack: type('MSH0008', 'Info', 'DocumentsHeldBack'),
  UnsupportedIstioKind: type('MSH0009', 'Warning', 'UnsupportedIstioKind'),
  ConflictingDestinationRules: type('MSH0010', 'Warning', 'ConflictingDestinationRules'),
  ConflictingServicePortProtocols: type('MSH0011', 'Error', 'ConflictingServicePortProtocols'),
} as const;

/** `VirtualService default/reviews` */
export function resourceName(r: { kind: string; metadata: { namespace: string; name: string } }): string {
  return `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`;
}

/**
 * Istio's one-line format:
 * `Error [IST0106] (VirtualService default/reviews reviews.yaml:12) Schema validation error: ...`
 */
export function formatMessage(m: AnalysisMessage): string {
  let place = '';
  if (m.file) {
    place = m.file;
    if (m.line) place += `:${m.line}${m.column ? `:${m.column}` : ''}`;
  }
  const where = [m.resource, place].filter(Boolean).join(' ');
  return `${m.level} [${m.code}]${where ? ` (${where})` : ''} ${m.message}`;
}

export function hasErrors(messages: readonly AnalysisMessage[]): boolean {
  return messages.some((m) => m.level === 'Error');
}

const levelRank: Record<MessageLevel, number> = { Error: 0, Warning: 1, Info: 2 };

/** Stable order: by file, line, level, code, message. */
export function sortMessages(messages: AnalysisMessage[]): AnalysisMessage[] {
  return messages.sort((a, b) =>
    (a.file ?? '').localeCompare(b.file ?? '') ||
    (a.line ?? 0) - (b.line ?? 0) ||
    levelRank[a.level] - levelRank[b.level] ||
    a.code.localeCompare(b.code) ||
    a.message.localeCompare(b.message));
}
