// Istio's security.istio.io resources as users write them (v1beta1 / v1): the fields the mesh
// understands. Pilot turns them into each sidecar's InboundPolicy (proxy-config.ts).

/** Istio's root namespace: policies here without a selector apply to the whole mesh. */
export const ROOT_NAMESPACE = 'istio-system';

export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

export type PeerAuthenticationMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthenticationSpec {
  selector?: WorkloadSelector;
  mtls?: { mode?: PeerAuthenticationMode };
  /** Keyed by the workload's port number (as a string in YAML maps). */
  portLevelMtls?: Record<string, { mode?: PeerAuthenticationMode }>;
}

export interface AuthorizationSourceSpec {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface AuthorizationOperationSpec {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthorizationRuleSpec {
  from?: { source?: AuthorizationSourceSpec }[];
  to?: { operation?: AuthorizationOperationSpec }[];
  when?: { key: string; values?: string[]; notValues?: string[] }[];
}

export interface AuthorizationPolicySpec {
  selector?: WorkloadSelector;
  action?: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  rules?: AuthorizationRuleSpec[];
}

export interface JWTRuleSpec {
  issuer: string;
  audiences?: string[];
  jwksUri?: string;
  jwks?: string;
  fromHeaders?: { name: string; prefix?: string }[];
  fromParams?: string[];
  outputPayloadToHeader?: string;
  forwardOriginalToken?: boolean;
}

export interface RequestAuthenticationSpec {
  selector?: WorkloadSelector;
  jwtRules?: JWTRuleSpec[];
}
