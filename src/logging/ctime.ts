/**
 * Local-time formats used by the mail log (SPEC §9): the C `ctime` line prefix
 * and the `YYYYMMDDTHHMMSS` stamp in rotated file names.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * Local time in C `ctime(3)` form without the trailing newline:
 * `Tue Apr 17 00:57:53 2018`; the day of month is space-padded (`Sun Apr  1 09:05:03 2018`).
 */
export function formatCtime(date: Date): string {
  const day = date.getDate();
  return (
    `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${day < 10 ? ` ${day}` : day} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${date.getFullYear()}`
  );
}

/** Local time as `YYYYMMDDTHHMMSS` (e.g. `20180417T005753`), as in `mail.@20180417T005753.s`. */
export function formatRotationStamp(date: Date): string {
  return (
    `${String(date.getFullYear()).padStart(4, '0')}${two(date.getMonth() + 1)}${two(date.getDate())}` +
    `T${two(date.getHours())}${two(date.getMinutes())}${two(date.getSeconds())}`
  );
}

const CTIME_RE = /^(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})/;

/** Parses a `formatCtime` prefix at the start of `s` as local time; null if `s` does not start with one. */
export function parseCtime(s: string): Date | null {
  const m = CTIME_RE.exec(s);
  if (!m) return null;
  const month = MONTHS.indexOf(m[1] as (typeof MONTHS)[number]);
  const d = new Date(Number(m[6]), month, Number(m[2]!.trim()), Number(m[3]), Number(m[4]), Number(m[5]));
  return Number.isNaN(d.getTime()) ? null : d;
}

const STAMP_RE = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)$/;

/** Parses a `formatRotationStamp` stamp as local time; null if malformed. */
export function parseRotationStamp(s: string): Date | null {
  const m = STAMP_RE.exec(s);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(d.getTime()) ? null : d;
}
