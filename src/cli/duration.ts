/**
 * Durations on the command line (`--since 24h`, `7d`): a whole number and a
 * unit, m (minutes), h (hours), d (days) or w (weeks). Anything else is a
 * usage error (exit 2).
 */
import { InvalidArgumentError } from 'commander';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Milliseconds of `value` (`90m`, `24h`, `7d`, `2w`). */
export function parseDuration(value: string): number {
  const m = /^(\d{1,6})\s*([mhdw])$/i.exec(value.trim());
  if (!m || Number(m[1]) === 0) throw new InvalidArgumentError(`"${value}" is not a duration such as 90m, 24h, 7d or 2w.`);
  return Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
}
