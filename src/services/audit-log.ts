/**
 * The audit log (SPEC §9): one JSON line per admin action in <home>/logs/audit —
 * who, what, when, from where. Never holds secrets: callers pass descriptions,
 * not values of passwords or keys.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HomeLayout } from '../core/home-layout.js';

export interface AuditEntry {
  user: string;
  action: string;
  detail?: string;
  /** `cli@<host>` for the CLI, the client address for the GUI/API. */
  from?: string;
}

export function appendAudit(layout: HomeLayout, entry: AuditEntry): void {
  fs.mkdirSync(path.dirname(layout.auditLog), { recursive: true, mode: 0o700 });
  const line = JSON.stringify({ time: new Date().toISOString(), from: entry.from ?? `cli@${os.hostname()}`, user: entry.user, action: entry.action, detail: entry.detail });
  fs.appendFileSync(layout.auditLog, `${line}\n`, { mode: 0o600 });
}
