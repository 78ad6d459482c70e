// PeerAuthentication field validation (security.istio.io v1beta1/v1): the mTLS mode, and
// port-level modes that only make sense for selected workloads.

import { childPath as at } from '../field-path.js';
import { FieldChecker, type Obj } from './checks.js';

const modes = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'];

export function validatePeerAuthentication(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['selector', 'mtls', 'portLevelMtls']);
  const selector = c.selector('spec.selector', spec.selector, 'matchLabels');
  const mtls = c.object('spec.mtls', spec.mtls, false, ['mode']);
  if (mtls) c.string('spec.mtls.mode', mtls.mode, { oneOf: modes });
  const ports = c.object('spec.portLevelMtls', spec.portLevelMtls);
  if (!ports) return;
  if (!selector || Object.keys(selector).length === 0) c.error('spec.portLevelMtls', 'needs a selector: port-level mTLS applies to selected workloads only');
  if (Object.keys(ports).length === 0) c.error('spec.portLevelMtls', 'must not be empty');
  for (const [port, v] of Object.entries(ports)) {
    const p = at('spec.portLevelMtls', port);
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) c.error(p, `${JSON.stringify(port)} is not a port (1-65535)`);
    const m = c.object(p, v, true, ['mode']);
    if (m) c.string(at(p, 'mode'), m.mode, { oneOf: modes });
  }
}
