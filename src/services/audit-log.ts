/**
 * The audit log (SPEC §9): one JSON line per admin action in <home>/logs/audit —
 * who, what, when, from where. Never holds secrets: callers pass descriptions,
 * not values of passwords or keys.
 *
 * Where an action comes from: the CLI is `cli@<host>`; the GUI and API run
 * their requests inside `withAuditSource('gui 192.0.2.1', ...)`, so every
 * service called for the request (staging, commit, certificates...) records
 * the client address without each service taking it as a parameter.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
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

const auditSource = new AsyncLocalStorage<string>();

/** Runs `fn` with `from` as the source of every audit entry written meanwhile (GUI/API requests). */
export function withAuditSource<T>(from: string, fn: () => T): T {
  return auditSource.run(from, fn);
}

export function appendAudit(layout: HomeLayout, entry: AuditEntry): void {
  fs.mkdirSync(path.dirname(layout.auditLog), { recursive: true, mode: 0o700 });
  const from = entry.from ?? auditSource.getStore() ?? `cli@${os.hostname()}`;
  const line = JSON.stringify({ time: new Date().toISOString(), from, user: entry.user, action: entry.action, detail: entry.detail });
  fs.appendFileSync(layout.auditLog, `${line}\n`, { mode: 0o600 });
}
