/**
 * Parsers for command-line values. A value of the wrong shape (not a number,
 * not on|off) is a usage error (exit 2, through commander); a well-formed value
 * that the configuration refuses (port 70000) is left to validation, which
 * names the field (exit 1).
 */
import { InvalidArgumentError } from 'commander';

/** A whole number (may be negative or out of range: validation decides). */
export function parseInteger(value: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw new InvalidArgumentError(`"${value}" is not a whole number.`);
  return Number(value);
}

/**
 * A whole number, or `unlimited` / `none` for no limit. (Commander turns a
 * parser's null into '', so "no limit" travels as the word; `toLimit` maps it to null.)
 */
export function parseLimit(value: string): number | 'unlimited' {
  if (/^(unlimited|none)$/i.test(value.trim())) return 'unlimited';
  if (!/^[+-]?\d+$/.test(value.trim())) throw new InvalidArgumentError(`"${value}" is not a whole number or "unlimited".`);
  return Number(value);
}

/** The configuration value of a `parseLimit` option: null for no limit. */
export function toLimit(value: number | 'unlimited' | undefined): number | null | undefined {
  return value === 'unlimited' ? null : value;
}

/** A decimal number. */
export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`"${value}" is not a number.`);
  return n;
}

/** `on` / `off` (also yes/no, true/false). */
export function parseOnOff(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['on', 'yes', 'true'].includes(v)) return true;
  if (['off', 'no', 'false'].includes(v)) return false;
  throw new InvalidArgumentError(`"${value}" must be on or off.`);
}

/** A comma-separated list; blanks dropped (so '' is the empty list). */
export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Text for the help of a command: its examples. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}
