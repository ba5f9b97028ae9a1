/**
 * Splits the raw bytes of the SMTP command phase into command lines, with a
 * hard cap on line length and on buffered memory (RFC 5321 §4.5.3.1.4:
 * 512 octets including CRLF). Pure: no sockets, no timers.
 */

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

/** Options for {@link CommandLineReader}. */
export interface CommandLineReaderOptions {
  /** Longest accepted line, counting its CRLF (default 512). */
  readonly maxLineBytes?: number;
}

/**
 * One result of {@link CommandLineReader.next}.
 * - `line`: a complete line without its line ending. `bareLf` is true when the
 *   line ended with a bare LF instead of CRLF (the session may reject it).
 *   A bare CR inside the line is left in place (the parser rejects it as a control character).
 * - `too-long`: a line exceeded the limit; its bytes up to and including the next LF are discarded.
 */
export type LineReadResult =
  | { readonly kind: 'line'; readonly line: Buffer; readonly bareLf: boolean }
  | { readonly kind: 'too-long' };

/**
 * Accumulates command-phase bytes and yields complete lines.
 *
 * Memory: a line that has not ended yet is never held beyond `maxLineBytes`;
 * once it is known to be too long, the reader reports `too-long` once and
 * drops bytes until the next LF. Complete lines pushed in one chunk are kept
 * until the caller takes them with `next()` (drain after every `push`).
 * Returned lines are views into the pushed chunks (not copies).
 */
export class CommandLineReader {
  private readonly maxLineBytes: number;
  private buf: Buffer = EMPTY;
  /** Bytes of `buf` already known to contain no LF. */
  private scanned = 0;
  /** Dropping bytes of an over-long line until the next LF. */
  private discarding = false;
  /** A `too-long` result is owed to the caller (decided in push()). */
  private tooLongPending = false;

  constructor(options: CommandLineReaderOptions = {}) {
    const max = options.maxLineBytes ?? 512;
    if (!Number.isInteger(max) || max < 3) throw new RangeError(`maxLineBytes must be an integer >= 3, got ${max}`);
    this.maxLineBytes = max;
  }

  /** Adds bytes received from the client. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.discarding && this.buf.length === 0) {
      const lf = chunk.indexOf(LF);
      if (lf === -1) return; // still inside the over-long line: drop it all
      this.discarding = false;
      chunk = chunk.subarray(lf + 1);
      if (chunk.length === 0) return;
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    // Bound memory: if the head line has no LF within the limit it is too long
    // whatever comes next, so drop it now instead of buffering it.
    if (!this.discarding && !this.tooLongPending) this.checkHeadOverflow();
  }

  /** The next complete line, a `too-long` notice, or null when more bytes are needed. */
  next(): LineReadResult | null {
    if (this.tooLongPending) {
      this.tooLongPending = false;
      return { kind: 'too-long' };
    }
    if (this.discarding) {
      const lf = this.buf.indexOf(LF);
      if (lf === -1) {
        this.buf = EMPTY;
        this.scanned = 0;
        return null;
      }
      this.discarding = false;
      this.consume(lf + 1);
    }
    if (this.buf.length === 0) return null;
    const lf = this.buf.indexOf(LF, this.scanned);
    if (lf === -1) {
      this.scanned = this.buf.length;
      if (this.buf.length >= this.maxLineBytes) {
        // No LF among the first maxLineBytes bytes: the line cannot fit.
        this.buf = EMPTY;
        this.scanned = 0;
        this.discarding = true;
        return { kind: 'too-long' };
      }
      return null;
    }
    if (lf + 1 > this.maxLineBytes) {
      this.consume(lf + 1);
      return { kind: 'too-long' };
    }
    const crlf = lf > 0 && this.buf[lf - 1] === CR;
    const line = this.buf.subarray(0, crlf ? lf - 1 : lf);
    this.consume(lf + 1);
    return { kind: 'line', line, bareLf: !crlf };
  }

  /**
   * Returns and clears everything buffered (used when switching to DATA, or to
   * discard pipelined plaintext after STARTTLS). Also resets the over-long-line state.
   */
  takeRest(): Buffer {
    const rest = this.buf;
    this.buf = EMPTY;
    this.scanned = 0;
    this.discarding = false;
    this.tooLongPending = false;
    return rest;
  }

  /** Number of bytes currently buffered. */
  buffered(): number {
    return this.buf.length;
  }

  private consume(n: number): void {
    this.buf = n >= this.buf.length ? EMPTY : this.buf.subarray(n);
    this.scanned = 0;
  }

  private checkHeadOverflow(): void {
    if (this.buf.length < this.maxLineBytes) return;
    const lf = this.buf.indexOf(LF, this.scanned);
    if (lf !== -1) {
      this.scanned = 0;
      return;
    }
    this.buf = EMPTY;
    this.scanned = 0;
    this.discarding = true;
    this.tooLongPending = true;
  }
}
