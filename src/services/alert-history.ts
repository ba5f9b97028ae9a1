/**
 * Reading the history of raised alerts (SPEC §8) for `alertconfig history`
 * and the GUI: `<home>/state/alert-history.jsonl`, one JSON object per alert,
 * appended by the alerts module (src/alerts/alert-history-file.ts). Read
 * tolerantly: a line that is not a JSON object is skipped, fields are
 * optional. The fields shown: `time` (ISO), `class` (the classes, comma
 * separated), `severity`, `subject`, `recipients`, and whether it was `sent`
 * (a line without `sent` counts as sent) with its `mid`.
 */
import fs from 'node:fs';
import type { HomeLayout } from '../core/home-layout.js';
import { ALERT_HISTORY_FILE, alertHistoryFile } from '../alerts/alert-history-file.js';

export { ALERT_HISTORY_FILE };

export interface AlertHistoryEntry {
  time: string;
  /** Every class of the alert, `, `-separated (`system, tls`). */
  class: string;
  severity: string;
  subject: string;
  recipients: string[];
  /** False when no recipient subscribed to it or it could not be queued. */
  sent: boolean;
  /** The MID of the alert message in the queue (null when not sent). */
  mid: number | null;
  /** Why it was not sent. */
  note: string;
  /** Everything the line held, for --json. */
  raw: Record<string, unknown>;
}

export interface AlertHistoryQuery {
  /** Only the newest N entries. */
  limit?: number;
}

export function alertHistoryPath(layout: HomeLayout): string {
  return alertHistoryFile(layout.stateDir);
}

const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Entries oldest first; the empty list when no alert was ever raised. */
export function readAlertHistory(layout: HomeLayout, query: AlertHistoryQuery = {}): AlertHistoryEntry[] {
  let content: string;
  try {
    content = fs.readFileSync(alertHistoryPath(layout), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const entries: AlertHistoryEntry[] = [];
  for (const line of content.split('\n')) {
    if (line.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      continue;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) continue;
    const r = raw as Record<string, unknown>;
    const recipients = Array.isArray(r['recipients']) ? r['recipients'].map(text).filter((x) => x !== '') : text(r['recipients'] ?? r['to']).split(/,\s*/).filter((x) => x !== '');
    const classes = Array.isArray(r['classes']) ? r['classes'].map(text).filter((x) => x !== '') : [];
    entries.push({
      time: text(r['time'] ?? r['sentAt']),
      class: classes.length > 0 ? classes.join(', ') : text(r['class']),
      severity: text(r['severity']),
      subject: text(r['subject'] ?? r['title'] ?? r['message']),
      recipients,
      sent: r['sent'] !== false,
      mid: typeof r['mid'] === 'number' ? r['mid'] : null,
      note: text(r['note']),
      raw: r,
    });
  }
  return query.limit !== undefined ? entries.slice(Math.max(0, entries.length - query.limit)) : entries;
}
