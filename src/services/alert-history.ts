/**
 * Reading the history of sent alerts (SPEC §8): `<home>/state/alert-history.jsonl`,
 * one JSON object per alert, appended by the alerts module. Read tolerantly:
 * a line that is not a JSON object is skipped, fields are optional. The
 * fields shown: `time` (ISO), `class`, `severity`, `subject`, `recipients`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HomeLayout } from '../core/home-layout.js';

export const ALERT_HISTORY_FILE = 'alert-history.jsonl';

export interface AlertHistoryEntry {
  time: string;
  class: string;
  severity: string;
  subject: string;
  recipients: string[];
  /** Everything the line held, for --json. */
  raw: Record<string, unknown>;
}

export function alertHistoryPath(layout: HomeLayout): string {
  return path.join(layout.stateDir, ALERT_HISTORY_FILE);
}

const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Entries oldest first; the empty list when no alert was ever sent. */
export function readAlertHistory(layout: HomeLayout): AlertHistoryEntry[] {
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
    entries.push({
      time: text(r['time'] ?? r['sentAt']),
      class: text(r['class']),
      severity: text(r['severity']),
      subject: text(r['subject'] ?? r['title'] ?? r['message']),
      recipients,
      raw: r,
    });
  }
  return entries;
}
