/**
 * The DATA phase reader: finds the end of data on the raw bytes (only
 * `<CRLF>.<CRLF>`, RFC 5321 §4.1.1.4 — the SMTP smuggling defence), then
 * dot-unstuffs and normalises line endings so the stored body never contains
 * a bare CR or LF. Pure: no sockets, no timers.
 *
 * Content model (after the raw end-of-data check): CRLF, a bare CR and a bare
 * LF each end a line; every line ending is written as CRLF. A line whose first
 * byte is '.' and that has other bytes loses that dot (RFC 5321 §4.5.2, so
 * `..x` → `.x` and `..` → `.`); a line that is just '.' is kept as '.' (it can
 * only be content when the raw bytes around it were not CRLF . CRLF).
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const NUL = 0x00;
const CRLF_BUF = Buffer.from('\r\n');
const DOT_BUF = Buffer.from('.');
const EMPTY = Buffer.alloc(0);
/** How many leading bytes of a header line are kept to recognise `Received:`. */
const HEADER_PREFIX = 16;
/** "received", lower case. */
const RECEIVED = [0x72, 0x65, 0x63, 0x65, 0x69, 0x76, 0x65, 0x64];

/** Options for {@link DataReader}. */
export interface DataReaderOptions {
  /** Largest body kept, in octets after unstuffing and normalisation; more sets `sizeExceeded`. */
  readonly maxBytes: number;
  /** Longest text line counting its CRLF (default 1000, RFC 5321 §4.5.3.1.6); longer lines are counted, not changed. */
  readonly maxLineBytes?: number;
  /**
   * What the session does with bare CR / LF. The reader behaves the same in both
   * modes (it always normalises, so the body is always safe); with 'reject' the
   * session must refuse the message when `bareLineEndings > 0`.
   */
  readonly bareLineEndings: 'normalize' | 'reject';
}

/** Outcome of one {@link DataReader.push}: `rest` is whatever followed the terminator (pipelined commands). */
export type DataPushResult = { readonly done: false } | { readonly done: true; readonly rest: Buffer };

/** What the DATA phase produced, available once `push` returned `done`. */
export interface DataResult {
  /** Dot-unstuffed body with CRLF line endings only; at most `maxBytes` octets. */
  readonly body: Buffer;
  /** Size of the whole body as received (unstuffed, normalised), even beyond `maxBytes`. */
  readonly size: number;
  readonly sizeExceeded: boolean;
  /** Bare CR and bare LF seen in the content (each normalised to CRLF). */
  readonly bareLineEndings: number;
  /** Lines longer than `maxLineBytes` (as received, counting a 2-octet line ending). */
  readonly longLines: number;
  /** NUL octets in the content (kept in the body). */
  readonly nulBytes: number;
  /** `Received:` header lines in the header section. */
  readonly receivedHeaderCount: number;
}

type State =
  /** Start of a line that followed a raw CRLF (or the start of DATA): a '.' here may begin the terminator. */
  | 'raw-start'
  /** Start of a line that followed a bare CR or LF: unstuffing applies, the terminator cannot start here. */
  | 'soft-start'
  /** Inside a line. */
  | 'mid'
  /** A CR was the last byte of a chunk; the next byte decides CRLF or bare CR. */
  | 'cr'
  /** '.' at a raw line start, not yet written. */
  | 'dot-raw'
  /** '.' at a soft line start, not yet written. */
  | 'dot-soft'
  /** CRLF '.' CR seen: an LF now ends the data. */
  | 'dot-cr'
  | 'done';

const NOT_DONE: DataPushResult = { done: false };

/**
 * Streaming DATA-phase parser. Push raw chunks until it reports `done`, then
 * read `result()`. Memory is bounded by `maxBytes` plus the chunks they are
 * sliced from; the reader keeps views into the pushed chunks, so callers must
 * not reuse or mutate a chunk after pushing it.
 */
export class DataReader {
  private readonly maxBytes: number;
  private readonly maxLineBytes: number;
  readonly mode: 'normalize' | 'reject';

  private state: State = 'raw-start';
  private readonly parts: Buffer[] = [];
  private kept = 0;
  private total = 0;
  private exceeded = false;
  private bare = 0;
  private long = 0;
  private nuls = 0;
  private received = 0;
  /** Octets of the current line as received (including a stuffing dot). */
  private lineLen = 0;
  private inHeaders = true;
  private readonly prefix = new Uint8Array(HEADER_PREFIX);
  private prefixLen = 0;
  private body: Buffer | null = null;

  constructor(options: DataReaderOptions) {
    if (!(options.maxBytes >= 0)) throw new RangeError('maxBytes must be >= 0');
    this.maxBytes = options.maxBytes;
    this.maxLineBytes = options.maxLineBytes ?? 1000;
    this.mode = options.bareLineEndings;
  }

  /** True once the terminator has been seen. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** Body octets seen so far (unstuffed, normalised), including any beyond `maxBytes`. */
  get size(): number {
    return this.total;
  }

  /** The body has grown beyond `maxBytes` (its tail is not kept). */
  get sizeExceeded(): boolean {
    return this.exceeded;
  }

  /** `Received:` header lines seen in the header section so far. */
  get receivedHeaderCount(): number {
    return this.received;
  }

  /** Feeds raw bytes from the client. Throws if called after `done`. */
  push(chunk: Buffer): DataPushResult {
    if (this.state === 'done') throw new Error('DataReader: push after end of data');
    const n = chunk.length;
    let i = 0;
    /** Start of the not-yet-emitted run of plain content, [emitStart, i). */
    let emitStart = 0;
    let end = -1;
    let nextCr = -2;
    let nextLf = -2;

    while (i < n) {
      switch (this.state) {
        case 'mid': {
          // Next CR and next LF at or after i, each found natively and cached
          // until passed (so a chunk without any CR is not rescanned per line).
          if (nextCr !== -1 && nextCr < i) nextCr = chunk.indexOf(CR, i);
          if (nextLf !== -1 && nextLf < i) nextLf = chunk.indexOf(LF, i);
          const j = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextCr, nextLf);
          if (j === -1) {
            this.noteText(chunk, i, n);
            i = n;
            break;
          }
          this.noteText(chunk, i, j);
          if (chunk[j] === LF) {
            // bare LF
            this.emitRange(chunk, emitStart, j);
            this.emit(CRLF_BUF);
            this.bare++;
            this.endLine();
            i = emitStart = j + 1;
            this.state = 'soft-start';
          } else if (j + 1 < n) {
            if (chunk[j + 1] === LF) {
              // CRLF: stays inside the pending run
              this.endLine();
              i = j + 2;
              this.state = 'raw-start';
            } else {
              // bare CR
              this.emitRange(chunk, emitStart, j);
              this.emit(CRLF_BUF);
              this.bare++;
              this.endLine();
              i = emitStart = j + 1;
              this.state = 'soft-start';
            }
          } else {
            // CR is the last byte of the chunk: decide on the next push
            this.emitRange(chunk, emitStart, j);
            i = emitStart = j + 1;
            this.state = 'cr';
          }
          break;
        }
        case 'cr': {
          this.emit(CRLF_BUF);
          this.endLine();
          if (chunk[i] === LF) {
            i++;
            this.state = 'raw-start';
          } else {
            this.bare++;
            this.state = 'soft-start';
          }
          emitStart = i;
          break;
        }
        case 'raw-start':
        case 'soft-start': {
          if (chunk[i] === DOT) {
            this.emitRange(chunk, emitStart, i);
            this.lineLen = 1;
            i = emitStart = i + 1;
            this.state = this.state === 'raw-start' ? 'dot-raw' : 'dot-soft';
          } else {
            this.state = 'mid';
          }
          break;
        }
        case 'dot-raw':
        case 'dot-soft': {
          const b = chunk[i];
          if (b === CR && this.state === 'dot-raw') {
            i = emitStart = i + 1;
            this.state = 'dot-cr';
          } else if (b === CR || b === LF) {
            // the line is a lone '.', ended by something other than raw CRLF: content
            this.emit(DOT_BUF);
            this.noteByte(DOT);
            this.state = 'mid';
          } else {
            // a stuffing dot: drop it (RFC 5321 §4.5.2)
            this.state = 'mid';
          }
          break;
        }
        case 'dot-cr': {
          if (chunk[i] === LF) {
            end = i + 1;
            this.state = 'done';
          } else {
            // CRLF '.' CR <not LF>: a lone '.' line ended by a bare CR
            this.emit(DOT_BUF);
            this.noteByte(DOT);
            this.emit(CRLF_BUF);
            this.bare++;
            this.endLine();
            this.state = 'soft-start';
            emitStart = i;
          }
          break;
        }
        case 'done':
          break;
      }
      if (end !== -1) break;
    }

    const consumed = end === -1 ? n : end;
    if (end === -1) this.emitRange(chunk, emitStart, n);
    this.countNuls(chunk, consumed);
    if (end === -1) return NOT_DONE;
    let body = this.kept === 0 ? EMPTY : Buffer.concat(this.parts, this.kept);
    // A body cut at maxBytes may end between CR and LF; never hand out a bare CR.
    if (this.exceeded && body.length > 0 && body[body.length - 1] === CR) body = body.subarray(0, body.length - 1);
    this.body = body;
    this.parts.length = 0;
    return { done: true, rest: end >= n ? EMPTY : chunk.subarray(end) };
  }

  /** The parsed message. Throws before `push` has returned `done`. */
  result(): DataResult {
    if (this.body === null) throw new Error('DataReader: result() before end of data');
    return {
      body: this.body,
      size: this.total,
      sizeExceeded: this.exceeded,
      bareLineEndings: this.bare,
      longLines: this.long,
      nulBytes: this.nuls,
      receivedHeaderCount: this.received,
    };
  }

  private emitRange(chunk: Buffer, from: number, to: number): void {
    if (to > from) this.emit(chunk.subarray(from, to));
  }

  private emit(b: Buffer): void {
    this.total += b.length;
    if (this.exceeded) return;
    const room = this.maxBytes - this.kept;
    if (b.length <= room) {
      this.parts.push(b);
      this.kept += b.length;
    } else {
      if (room > 0) this.parts.push(b.subarray(0, room));
      this.kept += room;
      this.exceeded = true;
    }
  }

  /** Content bytes [from, to) of the current line (no line-ending bytes). */
  private noteText(chunk: Buffer, from: number, to: number): void {
    this.lineLen += to - from;
    if (this.inHeaders && this.prefixLen < HEADER_PREFIX && to > from) {
      const stop = Math.min(to, from + HEADER_PREFIX - this.prefixLen);
      for (let k = from; k < stop; k++) this.prefix[this.prefixLen++] = chunk[k]!;
    }
  }

  private noteByte(b: number): void {
    if (this.inHeaders && this.prefixLen < HEADER_PREFIX) this.prefix[this.prefixLen++] = b;
  }

  private endLine(): void {
    if (this.lineLen + 2 > this.maxLineBytes) this.long++;
    if (this.inHeaders) {
      if (this.lineLen === 0) this.inHeaders = false;
      else if (this.prefixIsReceived()) this.received++;
    }
    this.lineLen = 0;
    this.prefixLen = 0;
  }

  /** The current line starts with `Received:` (any case; spaces or tabs allowed before the colon). */
  private prefixIsReceived(): boolean {
    const p = this.prefix;
    if (this.prefixLen <= RECEIVED.length) return false;
    for (let k = 0; k < RECEIVED.length; k++) if ((p[k]! | 0x20) !== RECEIVED[k]) return false;
    for (let k = RECEIVED.length; k < this.prefixLen; k++) {
      const c = p[k]!;
      if (c === 0x3a) return true;
      if (c !== 0x20 && c !== 0x09) return false;
    }
    return false;
  }

  private countNuls(chunk: Buffer, to: number): void {
    let p = chunk.indexOf(NUL);
    while (p !== -1 && p < to) {
      this.nuls++;
      p = chunk.indexOf(NUL, p + 1);
    }
  }
}
