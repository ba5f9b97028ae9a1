/**
 * The TLS report on disk: `<home>/state/tls-report/<YYYYMMDDTHH>.json`, one
 * file per UTC hour holding the counts of that hour per direction and domain:
 *
 * ```json
 * { "version": 1, "hour": "2026-11-29T13:00:00.000Z",
 *   "inbound": { "example.com": { "connections": 2, "preferredSuccess": 1, ... } },
 *   "outbound": { ... } }
 * ```
 *
 * A flush adds the new counts to the hour's file and replaces it atomically
 * (temporary file, fsync, rename), so a reader (the `report tls` CLI, the GUI)
 * always sees a whole file and a crash loses at most what was not flushed.
 * Files older than the retention (400 days) are deleted by {@link pruneTlsReport}.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';

import { addCounts, emptyCounts, TLS_COUNT_NAMES, type TlsCounts } from './tls-counts.js';
import type { HourCounts } from './tls-counters.js';

/** The report directory of a home's state directory. */
export function tlsReportDir(stateDir: string): string {
  return path.join(stateDir, 'tls-report');
}

/** Hour files are kept this long. */
export const TLS_REPORT_RETENTION_MS = 400 * 86_400_000;

const FILE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})\.json$/;

function fileName(hour: number): string {
  const d = new Date(hour);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}.json`;
}

/** The hour (ms) a file name stands for, or null for other files. */
export function hourOfFile(name: string): number | null {
  const m = FILE_RE.exec(name);
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
}

interface HourFile {
  version: 1;
  hour: string;
  inbound: Record<string, TlsCounts>;
  outbound: Record<string, TlsCounts>;
}

function cleanCounts(value: unknown): TlsCounts {
  const c = emptyCounts();
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    for (const k of TLS_COUNT_NAMES) if (typeof v[k] === 'number' && Number.isFinite(v[k]) && (v[k] as number) >= 0) c[k] = v[k] as number;
  }
  return c;
}

/** Parses one hour file's text; a damaged file reads as empty (it is replaced by the next flush of that hour). */
export function parseHourFile(text: string): HourCounts {
  const out: HourCounts = { inbound: new Map(), outbound: new Map() };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return out;
  }
  if (!doc || typeof doc !== 'object') return out;
  for (const direction of ['inbound', 'outbound'] as const) {
    const section = (doc as Record<string, unknown>)[direction];
    if (!section || typeof section !== 'object') continue;
    for (const [domain, counts] of Object.entries(section as Record<string, unknown>)) out[direction].set(domain, cleanCounts(counts));
  }
  return out;
}

async function readHour(dir: string, hour: number): Promise<HourCounts> {
  try {
    return parseHourFile(await fsp.readFile(path.join(dir, fileName(hour)), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { inbound: new Map(), outbound: new Map() };
    throw err;
  }
}


/** Adds `delta` (hour → counts) to the hour files in `dir`. */
export async function mergeIntoTlsReport(dir: string, delta: ReadonlyMap<number, HourCounts>): Promise<void> {
  if (delta.size === 0) return;
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [hour, counts] of delta) {
    const current = await readHour(dir, hour);
    const doc: HourFile = { version: 1, hour: new Date(hour).toISOString(), inbound: {}, outbound: {} };
    for (const direction of ['inbound', 'outbound'] as const) {
      for (const [domain, c] of counts[direction]) {
        const existing = current[direction].get(domain) ?? emptyCounts();
        current[direction].set(domain, addCounts(existing, c));
      }
      const sorted = [...current[direction].entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [domain, c] of sorted) doc[direction][domain] = c;
    }
    await writeFileAtomic(path.join(dir, fileName(hour)), `${JSON.stringify(doc)}\n`, 0o600);
  }
}

/** The stored hours in [fromHour, toHour] (hour starts, ms), oldest first. */
export async function readTlsReport(dir: string, fromHour: number, toHour: number): Promise<{ hour: number; counts: HourCounts }[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: { hour: number; counts: HourCounts }[] = [];
  for (const name of names) {
    const hour = hourOfFile(name);
    if (hour === null || hour < fromHour || hour > toHour) continue;
    let text: string;
    try {
      text = await fsp.readFile(path.join(dir, name), 'utf8');
    } catch {
      continue; // replaced or pruned while we listed
    }
    out.push({ hour, counts: parseHourFile(text) });
  }
  return out.sort((a, b) => a.hour - b.hour);
}

/** Deletes hour files older than the retention. */
export async function pruneTlsReport(dir: string, now: number, retentionMs = TLS_REPORT_RETENTION_MS): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const hour = hourOfFile(name);
    if (hour !== null && hour < now - retentionMs) await fsp.rm(path.join(dir, name), { force: true });
  }
}
