/** Inputs of the tool pages (TLS Verify, tracking, report): durations and times as an administrator types them. */
import { UserError } from '../core/errors.js';

/** `90m`, `24h`, `7d` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*([mhd])\s*$/i.exec(text);
  if (m === null) throw new UserError(`"${text}" is not a duration (e.g. 90m, 24h, 7d)`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'h').toLowerCase() as 'm' | 'h' | 'd'];
}

/** A time from a form: an ISO date/time, or a duration back from now (`24h`). Blank: undefined. */
export function parseWhen(text: string | undefined, now: number): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+\s*[mhd]\s*$/i.test(text)) return now - parseDuration(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UserError(`"${text}" is not a time (2026-11-29T10:00, or 24h for the last 24 hours)`);
  return t;
}
