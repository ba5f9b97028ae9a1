/**
 * The alert history on disk: `<home>/state/alert-history.jsonl`, one JSON
 * object per raised alert, appended (mode 0600). Fields: `time` (ISO),
 * `key`, `class` (the primary class), `classes`, `severity`, `subject`,
 * `recipients`, `sent` (false when no recipient subscribes to it or it could
 * not be queued), `mid` (the MID of the alert message, null when not sent),
 * `note` (why not sent). `services/alert-history.ts` reads it for
 * `alertconfig history` and the GUI.
 */
import fs from 'node:fs';
import path from 'node:path';

export const ALERT_HISTORY_FILE = 'alert-history.jsonl';

export function alertHistoryFile(stateDir: string): string {
  return path.join(stateDir, ALERT_HISTORY_FILE);
}

export interface AlertHistoryRecord {
  time: string;
  key: string;
  class: string;
  classes: string[];
  severity: string;
  subject: string;
  recipients: string[];
  sent: boolean;
  mid: number | null;
  note?: string;
}

export function appendAlertHistory(file: string, record: AlertHistoryRecord): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.appendFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

/**
 * The last time (epoch ms) each alert key was raised, from the history: the
 * debounce survives a restart. Unreadable lines are skipped.
 */
export function lastRaisedByKey(file: string): Map<string, number> {
  const out = new Map<string, number>();
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const line of content.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as Partial<AlertHistoryRecord>;
      const t = typeof r.time === 'string' ? Date.parse(r.time) : NaN;
      if (typeof r.key === 'string' && Number.isFinite(t)) out.set(r.key, Math.max(t, out.get(r.key) ?? -Infinity));
    } catch {
      continue;
    }
  }
  return out;
}
