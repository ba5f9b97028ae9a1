/**
 * Input parsers shared by the JSON API and HTML forms: a form sends every
 * value as a string (checkbox `on`, lists comma- or newline-separated, files
 * as bytes), JSON sends numbers, booleans, arrays and base64; these accept both.
 */
import { z } from 'zod';

export const int = () => z.coerce.number({ error: 'must be a number' }).int('must be a whole number');
export const optionalInt = () => int().optional();

/** `on`/`true`/`yes` (checkbox, select) or a JSON boolean. */
export const bool = () =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    if (['on', 'true', 'yes', '1'].includes(s)) return true;
    if (['off', 'false', 'no', '0'].includes(s)) return false;
    return v;
  }, z.boolean({ error: 'must be on or off' }));

/** Comma- or newline-separated text, or a JSON array of strings. */
export const list = () =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(/[,\n]/)
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : v,
    z.array(z.string()),
  );

/** Text content: a form upload (bytes) or a JSON string (PEM). */
export const content = () => z.union([z.string(), z.instanceof(Buffer)], { error: 'is required' });

/** Binary content: a form upload, or base64 in JSON. */
export const binary = () =>
  z.preprocess((v) => (typeof v === 'string' ? Buffer.from(v, 'base64') : v), z.instanceof(Buffer, { error: 'is required (base64 in JSON)' }));

export const name = (what = 'name') => z.string({ error: `${what} is required` }).trim().min(1, `${what} is required`);
