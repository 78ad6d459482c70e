// Every tunable is declared once, typed, with its default and a line of help; the README's
// table of settings is generated from these declarations (`npm run docs:settings`).

import { readFileSync } from 'node:fs';

export interface SettingSpec<T> {
  env: string;
  default: T;
  help: string;
  parse: (raw: string) => T;
}

export type SettingValues<S extends Record<string, SettingSpec<unknown>>> = { [K in keyof S]: S[K]['default'] };

export class SettingsError extends Error {
  constructor(readonly env: string, readonly raw: string, reason: string) {
    super(`setting ${env}=${JSON.stringify(raw)}: ${reason}`);
    this.name = 'SettingsError';
  }
}

export const setting = {
  str(env: string, def: string, help: string): SettingSpec<string> {
    return { env, default: def, help, parse: (raw) => raw };
  },
  int(env: string, def: number, help: string, min = 0, max = Number.MAX_SAFE_INTEGER): SettingSpec<number> {
    return {
      env, default: def, help,
      parse: (raw) => {
        const n = Number(raw);
        if (!Number.isInteger(n) || n < min || n > max) throw new SettingsError(env, raw, `expected an integer from ${min} to ${max}`);
        return n;
      },
    };
  },
  bool(env: string, def: boolean, help: string): SettingSpec<boolean> {
    return {
      env, default: def, help,
      parse: (raw) => {
        if (/^(1|true|yes|on)$/i.test(raw)) return true;
        if (/^(0|false|no|off)$/i.test(raw)) return false;
        throw new SettingsError(env, raw, 'expected true or false');
      },
    };
  },
  oneOf<T extends string>(env: string, def: T, values: readonly T[], help: string): SettingSpec<T> {
    return {
      env, default: def, help: `${help} (${values.join(', ')})`,
      parse: (raw) => {
        if (!(values as readonly string[]).includes(raw)) throw new SettingsError(env, raw, `expected one of ${values.join(', ')}`);
        return raw as T;
      },
    };
  },
};

export interface SettingsDeclaration<S extends Record<string, SettingSpec<unknown>>> {
  component: string;
  specs: S;
  /** Reads the environment; empty values count as unset. Throws SettingsError naming the variable. */
  load(env?: NodeJS.ProcessEnv): SettingValues<S>;
}

function readSettingFile(env: string, file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new SettingsError(env, file, `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export function declareSettings<S extends Record<string, SettingSpec<unknown>>>(component: string, specs: S): SettingsDeclaration<S> {
  return {
    component,
    specs,
    load(env = process.env) {
      const out: Record<string, unknown> = {};
      for (const [key, spec] of Object.entries(specs)) {
        let raw = env[spec.env];
        // `<VAR>_FILE` names a file holding the value (secrets on a volume, as Docker images do).
        const file = env[`${spec.env}_FILE`];
        if ((raw === undefined || raw === '') && file) raw = readSettingFile(`${spec.env}_FILE`, file);
        out[key] = raw === undefined || raw === '' ? spec.default : spec.parse(raw);
      }
      return out as SettingValues<S>;
    },
  };
}

/** Settings every component shares. */
export const commonSettings = {
  natsUrl: setting.str('MESH_NATS_URL', 'nats://127.0.0.1:4222', 'NATS server(s), comma-separated'),
  natsUser: setting.str('MESH_NATS_USER', '', 'NATS user for this component (empty: no authentication)'),
  natsPass: setting.str('MESH_NATS_PASS', '', 'NATS password for this component'),
  logLevel: setting.oneOf('MESH_LOG_LEVEL', 'info', ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const, 'log level'),
};
