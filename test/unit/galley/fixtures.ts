// Small Istio documents the galley tests write into folders.

export const dr = (name: string, subsets: string[]) => `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: ${name}
spec:
  host: ${name}
  subsets:
${subsets.map((s) => `  - name: ${s}\n    labels: {version: ${s}}`).join('\n')}
`;
export const vs = (name: string, subset: string) => `apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: ${name}
spec:
  hosts: [${name}]
  http:
  - route:
    - destination: {host: ${name}, subset: ${subset}}
`;
