/**
 * `gatehouse tail [-f]` and `gatehouse grep REGEX` (SPEC §9) over the text
 * mail log: the last lines of mail.current, following it across rotation,
 * and a regular-expression search over every generation, oldest first.
 * Shared by the CLI and the GUI's Mail Logs page.
 */
import fs from 'node:fs';
import path from 'node:path';

import { UserError } from '../core/errors.js';
import { homeLayout } from '../core/home-layout.js';
import { MAIL_LOG_CURRENT } from '../logging/mail-log.js';
import { mailLogFiles, readLines } from '../logging/mail-log-files.js';

/** The path of mail.current in `home`. */
export function mailLogCurrentPath(home: string): string {
  return path.join(homeLayout(home).mailLogDir, MAIL_LOG_CURRENT);
}

/** The last `n` lines of the first `size` bytes of the open file `fd`, reading backwards from there. */
function lastLines(fd: number, size: number, n: number): string[] {
  if (n === 0 || size === 0) return [];
  const chunks: Buffer[] = [];
  let pos = size;
  let newlines = 0;
  const CHUNK = 64 * 1024;
  // n lines need n+1 newlines before them (the last line ends with one), unless we reach the start.
  while (pos > 0 && newlines <= n) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, pos);
    chunks.unshift(buf);
    for (const b of buf) if (b === 0x0a) newlines++;
  }
  const lines = Buffer.concat(chunks).toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (pos > 0) lines.shift(); // the first piece may be a partial line
  return lines.slice(-n);
}

function checkLineCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new UserError(`the number of lines must be a whole number of 0 or more, got ${n}`, 2);
}

/** The last `n` lines of mail.current (fewer if it is shorter; none if it does not exist). Reads backwards from the end. */
export function tailMailLog(home: string, n: number): string[] {
  checkLineCount(n);
  let fd: number;
  try {
    fd = fs.openSync(mailLogCurrentPath(home), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    return lastLines(fd, fs.fstatSync(fd).size, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** Compiles the user's pattern; a bad one is a clear one-line error (exit 1). */
export function compileSearch(pattern: string, ignoreCase = false): RegExp {
  try {
    return new RegExp(pattern, ignoreCase ? 'i' : '');
  } catch (err) {
    throw new UserError(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
}

/** Lines of every text log generation (rotated oldest first, then mail.current) that match `re`. */
export async function* grepMailLogs(home: string, re: RegExp): AsyncGenerator<string> {
  for (const file of mailLogFiles(homeLayout(home).mailLogDir, 'text')) {
    for await (const line of readLines(file)) if (re.test(line)) yield line;
  }
}

export interface FollowOptions {
  /** First hand over the last this many lines (default 0). They come from the same open file the follower continues from, so no line written in between is lost. */
  lines?: number;
  /** Poll interval in ms (default 250). */
  intervalMs?: number;
  /** Stops following. */
  signal?: AbortSignal;
}

/**
 * Calls `onLine` for the last `lines` lines of mail.current and then for every
 * line appended to it, until `signal` aborts. Follows the file across
 * rotation: the rest of the renamed file is read to its end, then the new
 * mail.current from its start. A truncated file is read again from its start.
 */
export async function followMailLog(home: string, onLine: (line: string) => void, options: FollowOptions = {}): Promise<void> {
  const file = mailLogCurrentPath(home);
  const interval = options.intervalMs ?? 250;
  checkLineCount(options.lines ?? 0);
  let fd: number | null = null;
  let ino = -1;
  let offset = 0;
  let partial = '';
  const open = (fromEnd: boolean): void => {
    try {
      fd = fs.openSync(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const st = fs.fstatSync(fd);
    ino = st.ino;
    offset = fromEnd ? st.size : 0;
    if (fromEnd) for (const line of lastLines(fd, st.size, options.lines ?? 0)) onLine(line);
  };
  const readNew = (): void => {
    if (fd === null) return;
    const size = fs.fstatSync(fd).size;
    if (size < offset) {
      offset = 0;
      partial = '';
    }
    while (offset < size) {
      const len = Math.min(1024 * 1024, size - offset);
      const buf = Buffer.alloc(len);
      const got = fs.readSync(fd, buf, 0, len, offset);
      if (got <= 0) break;
      offset += got;
      const text = partial + buf.subarray(0, got).toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) if (line !== '') onLine(line);
    }
  };
  open(true);
  try {
    while (!options.signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          options.signal?.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, interval);
        options.signal?.addEventListener('abort', done, { once: true });
      });
      readNew();
      let current: fs.Stats | null = null;
      try {
        current = fs.statSync(file);
      } catch {
        current = null;
      }
      if (current && current.ino !== ino) {
        // Rotated: read the old file to its end (it may have grown since the read above), then the new one from its start.
        readNew();
        if (fd !== null) fs.closeSync(fd);
        fd = null;
        if (partial !== '') onLine(partial);
        partial = '';
        open(false);
        readNew();
      }
    }
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
