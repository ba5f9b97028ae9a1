/**
 * Finding and reading the mail-log files of a home, oldest first: the rotated
 * generations (`mail.@<stamp>.s` / `mail.@<stamp>.jsonl`, ordered by their
 * stamp, which is the time the file was started) and then the live file
 * (`mail.current` / `mail.current.jsonl`). Used by `tail`, `grep`, `track`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

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

/** Every line of `file` (without its newline), read in 1 MiB chunks; a file that vanished (rotated away and pruned) yields nothing. */
export async function* readLines(file: string): AsyncGenerator<string> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const buf = Buffer.alloc(1024 * 1024);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const text = rest + decoder.write(buf.subarray(0, bytesRead));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        if (nl > start) yield text.slice(start, nl);
        start = nl + 1;
      }
      rest = text.slice(start);
    }
    rest += decoder.end();
    if (rest !== '') yield rest;
  } finally {
    await fh.close();
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

/**
 * Every event of the JSON-lines logs in `dir`, oldest first. `wanted`, when
 * given, sees the raw line first and skips it unless it returns true (a cheap
 * text test saves parsing lines a reader has no use for).
 */
export async function* readLoggedEvents(dir: string, wanted?: (line: string) => boolean): AsyncGenerator<LoggedEvent> {
  for (const file of mailLogFiles(dir, 'json')) {
    for await (const line of readLines(file)) {
      if (wanted && !wanted(line)) continue;
      const e = parseLoggedEvent(line);
      if (e) yield e;
    }
  }
}
