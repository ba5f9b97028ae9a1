/**
 * Finding and reading the mail-log files of a home, oldest first: the rotated
 * generations (`mail.@<stamp>.s` / `mail.@<stamp>.jsonl`, ordered by their
 * stamp, which is the time the file was started) and then the live file
 * (`mail.current` / `mail.current.jsonl`). Used by `tail`, `grep`, `track`.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import { MAIL_LOG_CURRENT, MAIL_LOG_JSON_CURRENT, ROTATED_JSON_RE, ROTATED_TEXT_RE } from './mail-log.js';
import type { LogLevel, MailEvent } from './mail-events.js';

export type MailLogKind = 'text' | 'json';

/** The log files of one kind in `dir`, oldest first (rotated by stamp, then the live file if present). */
export function mailLogFiles(dir: string, kind: MailLogKind): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const re = kind === 'text' ? ROTATED_TEXT_RE : ROTATED_JSON_RE;
  const rotated = names.filter((n) => re.test(n)).sort();
  const current = kind === 'text' ? MAIL_LOG_CURRENT : MAIL_LOG_JSON_CURRENT;
  return [...rotated, ...(names.includes(current) ? [current] : [])].map((n) => path.join(dir, n));
}

/** Every line of `file` (without its newline); a file that vanished (rotated away and pruned) yields nothing. */
export async function* readLines(file: string): AsyncGenerator<string> {
  let stream: fs.ReadStream;
  try {
    stream = fs.createReadStream(file, { encoding: 'utf8' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) if (line !== '') yield line;
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** One line of mail.current.jsonl: the event, its fields, and `time`, `level`, `text`. */
export type LoggedEvent = MailEvent & { time: string; level: LogLevel; text: string };

/** Parses a JSON-lines record; null for a damaged or foreign line (skipped by readers). */
export function parseLoggedEvent(line: string): LoggedEvent | null {
  try {
    const v = JSON.parse(line) as Partial<LoggedEvent> | null;
    if (v === null || typeof v !== 'object' || typeof v.event !== 'string' || typeof v.time !== 'string' || typeof v.text !== 'string') return null;
    return v as LoggedEvent;
  } catch {
    return null;
  }
}

/** Every event of the JSON-lines logs in `dir`, oldest first. */
export async function* readLoggedEvents(dir: string): AsyncGenerator<LoggedEvent> {
  for (const file of mailLogFiles(dir, 'json')) {
    for await (const line of readLines(file)) {
      const e = parseLoggedEvent(line);
      if (e) yield e;
    }
  }
}
