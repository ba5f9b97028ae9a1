/**
 * The text mail log (`mail.current`) and its JSON-lines twin (`mail.current.jsonl`), SPEC §9.
 *
 * - `emit()` is synchronous and cheap: it renders the line(s) into an in-memory
 *   buffer; the buffer is written in one batch per file FLUSH_MS after its first line,
 *   or at once when it passes 64 KiB. All file work is serialised on one promise chain.
 *   (Writing on every event-loop turn instead cost a busy relay ~10 file writes per
 *   message, a fifth of its CPU; a line now reaches the file at most 10 ms late.)
 * - Rotation by size (a line that would take `mail.current` past `maxBytes`) and by
 *   local day (the first line written after local midnight): `mail.current` becomes
 *   `mail.@<YYYYMMDDTHHMMSS>.s` and `mail.current.jsonl` becomes `mail.@<stamp>.jsonl`,
 *   where the stamp is the local time of the rotated file's first line (as on the
 *   appliance: the time the file was started). At most `retain` rotated files of
 *   each kind are kept; the oldest are deleted.
 * - Sanitising: see {@link escapeControls}. It is applied to every string field of
 *   every event before rendering, so the text line and the JSON fields agree.
 * - I/O errors never throw out of the log: they are counted in {@link MailLog.stats}.
 * - Forwarding: a line listener ({@link MailLog.setLineListener}, the gateway's
 *   syslog sender) gets each accepted line's time, level and sanitised text as it
 *   is emitted, independent of the file writes and rotations.
 */

import { mkdir, open as openFile, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import { formatCtime, formatRotationStamp, parseCtime, parseRotationStamp } from './ctime.js';
import { renderMailEvent, type MailEvent, type MailLogSink } from './mail-events.js';
import type { MailLogLine } from './syslog-message.js';

/** File name of the live text log. */
export const MAIL_LOG_CURRENT = 'mail.current';
/** File name of the live JSON-lines log. */
export const MAIL_LOG_JSON_CURRENT = 'mail.current.jsonl';
/** A rotated text log: `mail.@20180417T005753.s` (group 1 is the stamp). */
export const ROTATED_TEXT_RE = /^mail\.@(\d{8}T\d{6})\.s$/;
/** A rotated JSON-lines log: `mail.@20180417T005753.jsonl` (group 1 is the stamp). */
export const ROTATED_JSON_RE = /^mail\.@(\d{8}T\d{6})\.jsonl$/;

/** Options of {@link MailLog.open}; the first four mirror `logging.mailLog` in the config. */
export interface MailLogOptions {
  /** Rotate before a line would take mail.current past this many bytes (a single longer line is still written whole). */
  maxBytes: number;
  /** How many rotated files of each kind (.s, .jsonl) to keep; 0 keeps none. */
  retain: number;
  /** Rotate on the first write after local midnight. */
  rotateDaily: boolean;
  /** Also write mail.current.jsonl. */
  json: boolean;
  /** Time source (ms since the epoch); defaults to the system clock. */
  clock?: { now(): number };
}

/**
 * Receives each text line as it is logged (syslog forwarding): the time, level
 * and sanitised text, exactly what goes after the ctime prefix in mail.current.
 */
export type MailLogLineListener = (line: MailLogLine) => void;

/** Counters for health checks and /metrics. */
export interface MailLogStats {
  /** Events written to mail.current. */
  linesWritten: number;
  /** Bytes written to mail.current files (all generations). */
  bytesWritten: number;
  /** Bytes written to the JSON-lines files. */
  jsonBytesWritten: number;
  /** Batched write calls to mail.current (many lines per call under load). */
  writes: number;
  /** Rotations done (size, day, or explicit). */
  rotations: number;
  /** Failed file operations (open, write, rename, delete, close). */
  writeErrors: number;
  /** Events that could not be rendered (a caller bug); they are dropped. */
  renderErrors: number;
  /** Lines the line listener (syslog forwarding) threw on; the file still gets them. */
  listenerErrors: number;
  /** Events lost: failed writes, emitted after close, or over the 32 MiB buffer cap. */
  dropped: number;
  /** Events buffered but not yet written. */
  buffered: number;
  /** Message of the most recent error, if any. */
  lastError: string | null;
}

/** Longest a line waits in the buffer before the batch is written. */
const FLUSH_MS = 10;
/** Flush at once when this many characters are buffered (text + JSON). */
const BATCH_CHARS = 64 * 1024;
/** Beyond this many buffered characters (the disk is not keeping up), new events are dropped and counted. */
const MAX_BUFFERED_CHARS = 32 * 1024 * 1024;

const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;
const UNSAFE_G = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;

/**
 * The sanitising rule: every C0 control (U+0000–U+001F, including TAB, CR and LF),
 * DEL (U+007F) and C1 control (U+0080–U+009F) becomes `\xHH` (two upper-case hex
 * digits, e.g. CR LF → `\x0D\x0A`), and the Unicode line/paragraph separators
 * U+2028/U+2029 become `\u2028`/`\u2029`. Everything else, including backslash and
 * non-ASCII text, passes unchanged. A value therefore can never start a new log line.
 */
export function escapeControls(s: string): string {
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE_G, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).toUpperCase()}` : `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
  });
}

/** A copy of the event with {@link escapeControls} applied to every string (and string-array element) field. */
export function sanitiseEvent(e: MailEvent): MailEvent {
  let out: Record<string, unknown> | undefined;
  const src = e as unknown as Record<string, unknown>;
  for (const key of Object.keys(src)) {
    const v = src[key];
    let clean: unknown = v;
    if (typeof v === 'string') {
      if (UNSAFE.test(v)) clean = escapeControls(v);
    } else if (Array.isArray(v) && v.some((x) => typeof x === 'string' && UNSAFE.test(x))) {
      clean = v.map((x: unknown) => (typeof x === 'string' ? escapeControls(x) : x));
    }
    if (clean !== v) {
      out ??= { ...src };
      out[key] = clean;
    }
  }
  return (out ?? e) as MailEvent;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Next local midnight after `ms`. */
function nextLocalMidnight(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
}

/** Writes all of `s`, looping over short writes. */
async function writeAll(fh: FileHandle, s: string): Promise<number> {
  const buf = Buffer.from(s, 'utf8');
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, null);
    if (bytesWritten <= 0) throw new Error('short write to mail log');
    off += bytesWritten;
  }
  return buf.length;
}

/** The mail log: text `mail.current` plus optional `mail.current.jsonl`, with rotation and retention. */
export class MailLog implements MailLogSink {
  /** Path of mail.current. */
  readonly path: string;
  /** Path of mail.current.jsonl (written only when `json` is on). */
  readonly jsonPath: string;

  private readonly clock: { now(): number };
  private text: FileHandle | null = null;
  private json: FileHandle | null = null;
  private needsReopen = false;
  /** Bytes in the live files. */
  private size = 0;
  private jsonSize = 0;
  /** Time of the live file's first line (null while it is empty); names the file when it is rotated. */
  private startedAt: number | null = null;
  /** Local midnight after startedAt: a line at or after it rotates the file (rotateDaily). */
  private dayEnd = Infinity;
  /** Stamp (ms) of the newest rotated file, so names stay unique and ordered. */
  private lastStampMs: number | null = null;

  private times: number[] = [];
  private lines: string[] = [];
  private jsonLines: string[] = [];
  private bufferedChars = 0;

  private chain: Promise<void> = Promise.resolve();
  private drainQueued = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private prefixSecond = NaN;
  private prefix = '';

  private readonly counters = { linesWritten: 0, bytesWritten: 0, jsonBytesWritten: 0, writes: 0, rotations: 0, writeErrors: 0, renderErrors: 0, listenerErrors: 0, dropped: 0 };
  private lineListener: MailLogLineListener | null = null;
  private lastError: string | null = null;

  private constructor(
    /** The directory holding the log files (e.g. `<home>/logs/mail_logs`). */
    readonly dir: string,
    private readonly options: MailLogOptions,
  ) {
    this.path = join(dir, MAIL_LOG_CURRENT);
    this.jsonPath = join(dir, MAIL_LOG_JSON_CURRENT);
    this.clock = options.clock ?? { now: () => Date.now() };
  }

  /** Creates `dir` if needed and opens (appends to) mail.current; rejects if the files cannot be opened. */
  static async open(dir: string, options: MailLogOptions): Promise<MailLog> {
    if (!Number.isInteger(options.maxBytes) || options.maxBytes < 1) throw new RangeError(`mail log maxBytes must be a positive integer, got ${options.maxBytes}`);
    if (!Number.isInteger(options.retain) || options.retain < 0) throw new RangeError(`mail log retain must be a non-negative integer, got ${options.retain}`);
    await mkdir(dir, { recursive: true });
    const log = new MailLog(dir, options);
    for (const name of await readdir(dir)) {
      const m = ROTATED_TEXT_RE.exec(name) ?? ROTATED_JSON_RE.exec(name);
      const t = m ? parseRotationStamp(m[1]!)?.getTime() : undefined;
      if (t !== undefined && (log.lastStampMs === null || t > log.lastStampMs)) log.lastStampMs = t;
    }
    await log.openFiles();
    return log;
  }

  /** Logs one event. Synchronous and non-throwing; the line reaches the file on the next batch. */
  emit(e: MailEvent): void {
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    let line: string;
    let jsonLine = '';
    let now: number;
    let level: MailLogLine['level'];
    let text: string;
    try {
      now = this.clock.now();
      const ev = sanitiseEvent(e);
      const rendered = renderMailEvent(ev);
      level = rendered.level;
      text = escapeControls(rendered.text);
      line = `${this.ctimePrefix(now)} ${level}: ${text}\n`;
      if (this.options.json) {
        jsonLine = `${JSON.stringify({ time: new Date(now).toISOString(), level: rendered.level, ...ev, text })}\n`;
      }
    } catch (err) {
      this.counters.renderErrors++;
      this.counters.dropped++;
      this.lastError = `render ${String((e as { event?: unknown } | null)?.event)}: ${errorMessage(err)}`;
      return;
    }
    const chars = line.length + jsonLine.length;
    if (this.bufferedChars + chars > MAX_BUFFERED_CHARS) {
      this.counters.dropped++;
      return;
    }
    this.times.push(now);
    this.lines.push(line);
    if (jsonLine) this.jsonLines.push(jsonLine);
    this.bufferedChars += chars;
    if (this.lineListener) {
      try {
        this.lineListener({ time: now, level, text });
      } catch (err) {
        this.counters.listenerErrors++;
        this.lastError = `line listener: ${errorMessage(err)}`;
      }
    }
    if (this.bufferedChars >= BATCH_CHARS) this.queueDrain();
    else if (!this.flushTimer && !this.drainQueued) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.queueDrain();
      }, FLUSH_MS);
    }
  }

  /**
   * Every line accepted from now on (the lines that go to mail.current, before
   * and after rotations) is also given to `listener`, synchronously in
   * `emit()`; null stops that. A listener that throws is counted, never fatal.
   */
  setLineListener(listener: MailLogLineListener | null): void {
    this.lineListener = listener;
  }

  /** Resolves once every event emitted before the call has been written (or counted as dropped). Never rejects. */
  flush(): Promise<void> {
    this.queueDrain();
    return this.chain;
  }

  /**
   * For SIGHUP / logrotate: writes what is buffered to the files as they are now open
   * (so after an external rename it lands in the renamed file), then closes and
   * reopens mail.current (and the jsonl), creating them if they were moved away.
   * Never rejects; a failure is counted and retried on the next write. No-op after close().
   */
  reopen(): Promise<void> {
    if (this.closed) return this.chain;
    return this.enqueue(async () => {
      await this.drain();
      await this.closeFiles();
      await this.openFiles();
    });
  }

  /** Rotates now (after writing what is buffered). Does nothing while mail.current and the jsonl are empty, or after close(). Never rejects. */
  rotate(): Promise<void> {
    if (this.closed) return this.chain;
    return this.enqueue(async () => {
      await this.drain();
      if (!this.text || this.needsReopen) await this.reopenFiles();
      if (this.size > 0 || this.jsonSize > 0) await this.rotateFiles();
    });
  }

  /** Writes what is buffered and closes the files; later events are counted as dropped. Never rejects. */
  close(): Promise<void> {
    if (this.closed) return this.chain;
    this.closed = true;
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    return this.enqueue(async () => {
      await this.drain();
      await this.closeFiles();
    });
  }

  /** A snapshot of the counters. */
  stats(): MailLogStats {
    return { ...this.counters, buffered: this.lines.length, lastError: this.lastError };
  }

  // ---- internals ---------------------------------------------------------

  private ctimePrefix(now: number): string {
    const second = Math.floor(now / 1000);
    if (second !== this.prefixSecond) {
      this.prefixSecond = second;
      this.prefix = formatCtime(new Date(now));
    }
    return this.prefix;
  }

  private noteError(err: unknown): void {
    this.counters.writeErrors++;
    this.lastError = errorMessage(err);
  }

  /** Runs `task` after everything queued before it; errors are counted, never propagated. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    const p = this.chain.then(task).catch((err: unknown) => this.noteError(err));
    this.chain = p;
    return p;
  }

  private queueDrain(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.drainQueued) return;
    this.drainQueued = true;
    void this.enqueue(() => this.drain());
  }

  /** Writes everything buffered, rotating where a line crosses maxBytes or local midnight. */
  private async drain(): Promise<void> {
    this.drainQueued = false;
    const times = this.times;
    const lines = this.lines;
    const jsonLines = this.jsonLines;
    const n = lines.length;
    if (n === 0) return;
    this.times = [];
    this.lines = [];
    this.jsonLines = [];
    this.bufferedChars = 0;
    let done = 0;
    try {
      if (!this.text || this.needsReopen) await this.reopenFiles();
      const { maxBytes, rotateDaily } = this.options;
      let chunkBytes = 0;
      for (let i = 0; i < n; i++) {
        const t = times[i]!;
        const bytes = Buffer.byteLength(lines[i]!);
        const filled = this.size + chunkBytes;
        if (filled > 0 && (filled + bytes > maxBytes || (rotateDaily && t >= this.dayEnd))) {
          await this.writeChunk(lines, jsonLines, done, i);
          done = i;
          chunkBytes = 0;
          await this.rotateFiles();
        }
        if (this.size + chunkBytes === 0) this.setStartedAt(t);
        chunkBytes += bytes;
      }
      await this.writeChunk(lines, jsonLines, done, n);
      done = n;
    } catch (err) {
      this.noteError(err);
      this.counters.dropped += n - done;
      this.needsReopen = true;
    }
  }

  private async writeChunk(lines: string[], jsonLines: string[], from: number, to: number): Promise<void> {
    if (to <= from) return;
    const text = this.text;
    if (!text) throw new Error('mail log is not open');
    const written = await writeAll(text, lines.slice(from, to).join(''));
    this.size += written;
    this.counters.writes++;
    this.counters.bytesWritten += written;
    this.counters.linesWritten += to - from;
    if (this.json && jsonLines.length > 0) {
      const jw = await writeAll(this.json, jsonLines.slice(from, to).join(''));
      this.jsonSize += jw;
      this.counters.jsonBytesWritten += jw;
    }
  }

  private setStartedAt(t: number | null): void {
    this.startedAt = t;
    this.dayEnd = t === null ? Infinity : nextLocalMidnight(t);
  }

  /** Opens (creating) the live files and learns their size and start time. Throws on failure, leaving them closed. */
  private async openFiles(): Promise<void> {
    let text: FileHandle | null = null;
    let json: FileHandle | null = null;
    try {
      text = await openFile(this.path, 'a+', 0o640);
      const st = await text.stat();
      let started: number | null = null;
      if (st.size > 0) {
        const head = Buffer.alloc(32);
        const { bytesRead } = await text.read(head, 0, head.length, 0);
        started = parseCtime(head.subarray(0, bytesRead).toString('latin1'))?.getTime() ?? st.mtimeMs;
      }
      let jsonSize = 0;
      if (this.options.json) {
        json = await openFile(this.jsonPath, 'a', 0o640);
        jsonSize = (await json.stat()).size;
      }
      this.text = text;
      this.json = json;
      this.size = st.size;
      this.jsonSize = jsonSize;
      this.setStartedAt(started);
      this.needsReopen = false;
    } catch (err) {
      await text?.close().catch(() => undefined);
      await json?.close().catch(() => undefined);
      throw err;
    }
  }

  private async closeFiles(): Promise<void> {
    const handles = [this.text, this.json];
    this.text = null;
    this.json = null;
    for (const fh of handles) {
      if (!fh) continue;
      try {
        await fh.close();
      } catch (err) {
        this.noteError(err);
      }
    }
  }

  private async reopenFiles(): Promise<void> {
    await this.closeFiles();
    await this.openFiles();
  }

  /** A unique stamp for the file being rotated: its start time, moved later if that name is taken. */
  private async nextStamp(): Promise<{ ms: number; stamp: string }> {
    let ms = Math.floor((this.startedAt ?? this.clock.now()) / 1000) * 1000;
    if (this.lastStampMs !== null && ms <= this.lastStampMs) ms = this.lastStampMs + 1000;
    for (;;) {
      const stamp = formatRotationStamp(new Date(ms));
      const taken = (await exists(join(this.dir, `mail.@${stamp}.s`))) || (await exists(join(this.dir, `mail.@${stamp}.jsonl`)));
      if (!taken) return { ms, stamp };
      ms += 1000;
    }
  }

  /** Renames the live files to their rotated names, opens fresh ones, and applies retention. */
  private async rotateFiles(): Promise<void> {
    const { ms, stamp } = await this.nextStamp();
    await this.closeFiles();
    try {
      await this.renameIfPresent(this.path, join(this.dir, `mail.@${stamp}.s`));
      if (this.options.json) await this.renameIfPresent(this.jsonPath, join(this.dir, `mail.@${stamp}.jsonl`));
      this.lastStampMs = ms;
      this.counters.rotations++;
    } catch (err) {
      this.noteError(err);
    }
    await this.openFiles();
    await this.prune();
  }

  private async renameIfPresent(from: string, to: string): Promise<void> {
    try {
      await rename(from, to);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Deletes the oldest rotated files beyond `retain`, for each kind. */
  private async prune(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      this.noteError(err);
      return;
    }
    for (const re of [ROTATED_TEXT_RE, ROTATED_JSON_RE]) {
      const rotated = names.filter((n) => re.test(n)).sort();
      const excess = rotated.length - this.options.retain;
      for (const name of rotated.slice(0, Math.max(0, excess))) {
        try {
          await unlink(join(this.dir, name));
        } catch (err) {
          if (!isNotFound(err)) this.noteError(err);
        }
      }
    }
  }
}
