// Istio 1.1's list adapter (listchecker): a whitelist or blacklist of strings,
// case-insensitive strings, IP addresses / CIDR ranges, or regexes, given as `overrides`.
// providerUrl (a remote list) is refused: the mesh fetches nothing from outside.
import { BlockList, isIP } from 'node:net';
import { durationMs, intParam, HandlerConfigError, type AdapterFactory } from './handler.js';

type EntryType = 'STRINGS' | 'CASE_INSENSITIVE_STRINGS' | 'IP_ADDRESSES' | 'REGEX';

function buildMatcher(type: EntryType, entries: string[]): (value: string) => boolean {
  switch (type) {
    case 'STRINGS': { const s = new Set(entries); return (v) => s.has(v); }
    case 'CASE_INSENSITIVE_STRINGS': { const s = new Set(entries.map((e) => e.toLowerCase())); return (v) => s.has(v.toLowerCase()); }
    case 'REGEX': {
      const res = entries.map((e, i) => {
        try { return new RegExp(e); } catch { throw new HandlerConfigError(`overrides[${i}]: invalid regex ${JSON.stringify(e)}`); }
      });
      return (v) => res.some((re) => re.test(v));
    }
    case 'IP_ADDRESSES': {
      const list = new BlockList();
      entries.forEach((e, i) => {
        const [addr, bits] = e.split('/');
        const family = isIP(addr ?? '');
        if (family === 0) throw new HandlerConfigError(`overrides[${i}]: ${JSON.stringify(e)} is not an IP address or CIDR range`);
        const type = family === 6 ? 'ipv6' : 'ipv4';
        if (bits === undefined) list.addAddress(addr!, type);
        else list.addSubnet(addr!, Number(bits), type);
      });
      return (v) => {
        const a = v.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
        const family = isIP(a);
        return family !== 0 && list.check(a, family === 6 ? 'ipv6' : 'ipv4');
      };
    }
  }
}

export const listAdapter: AdapterFactory = {
  adapter: 'listchecker',
  templates: ['listentry'],
  build(name, params) {
    if (params.providerUrl) throw new HandlerConfigError('providerUrl: remote lists are not supported; list the entries in overrides');
    const type = (params.entryType ?? 'STRINGS') as EntryType;
    if (!['STRINGS', 'CASE_INSENSITIVE_STRINGS', 'IP_ADDRESSES', 'REGEX'].includes(type)) throw new HandlerConfigError(`entryType: unknown ${JSON.stringify(type)}`);
    const overrides = params.overrides ?? [];
    if (!Array.isArray(overrides) || overrides.some((o) => typeof o !== 'string')) throw new HandlerConfigError('overrides: expected a list of strings');
    const blacklist = params.blacklist === true;
    const matches = buildMatcher(type, overrides as string[]);
    const validDurationMs = durationMs(params.cachingInterval, 'cachingInterval', 60_000);
    const validUseCount = intParam(params.cachingUseCount, 'cachingUseCount', 10_000);
    return {
      name, adapter: 'listchecker',
      check(instance) {
        const value = instance.fields.value;
        const v = value === undefined || value === null ? '' : String(value);
        const found = matches(v);
        if (blacklist && found) return { code: 7, message: `${v} is blacklisted`, validDurationMs, validUseCount };
        if (!blacklist && !found) return { code: 5, message: `${v} is not whitelisted`, validDurationMs, validUseCount };
        return { code: 0, validDurationMs, validUseCount };
      },
      describe: () => ({ entryType: type, blacklist, entries: overrides.length }),
    };
  },
};
