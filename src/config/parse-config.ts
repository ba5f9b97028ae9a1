/**
 * Schema validation of a configuration document: zod errors become
 * path-qualified lines (`listeners[0].port: must be 1-65535`).
 */
import { configSchema, type Config } from './schema.js';
import { formatConfigPath } from './config-path.js';

export type ParseResult = { ok: true; config: Config } | { ok: false; errors: string[] };

export function parseConfig(input: unknown): ParseResult {
  // reportInput: a value of the wrong type is reported as such, not as missing.
  const r = configSchema.safeParse(input, { reportInput: true });
  if (r.success) return { ok: true, config: r.data };
  const errors = r.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => `${formatConfigPath([...i.path, k])}: unknown setting`).join('\n');
    }
    if (i.code === 'invalid_type' && i.input === undefined) return `${formatConfigPath(i.path)}: is required`;
    return `${formatConfigPath(i.path)}: ${i.message}`;
  });
  return { ok: false, errors: errors.flatMap((e) => e.split('\n')) };
}
