// The mesh API: what the parts agree on (resource schemas, bus subjects and messages,
// proxy config, the route matcher, naming and settings). The one public surface of `#api`.

export * from './resources.js';
export * from './registry.js';
export * from './proxy-config.js';
export * from './bus.js';
export * from './bus-client.js';
export * from './proxy-bus.js';
export * from './match.js';
export * from './names.js';
export * from './settings.js';
export * from './log.js';
export * from './ports.js';
export * from './http.js';
export * from './attestation.js';
export * from './security.js';
export * from './mixer-attributes.js';
export * from './views.js';
