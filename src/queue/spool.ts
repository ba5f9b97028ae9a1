/**
 * The durable spool: a log-structured store of accepted messages and their
 * per-recipient delivery state (SPEC §4.3 last bullet, §5.3; catalogue #31,
 * #37–#41, #44).
 *
 * On disk, a directory of append-only segment files `segment-NNNNNN.log`:
 *
 *   segment header (24 bytes)
 *     0  magic   "\x89GHSPL\r\n"  (8)
 *     8  version u32 BE (1)
 *     12 segment number u32 BE (must match the file name)
 *     16 salt    4 random bytes
 *     20 crc32 of bytes 0..19, u32 BE
 *   records, back to back (17-byte header + payload)
 *     0  magic   "\x89GHR"  (4)
 *     4  type    u8: 1 message, 2 state, 3 done
 *     5  length  u32 BE of the payload
 *     9  crc32 of the payload, u32 BE
 *     13 header crc, u32 BE = crc32 over header bytes 0..12 then the segment salt
 *     17 payload
 *       message: u32 BE json length, JSON envelope + recipient states, raw body
 *       state:   JSON {mid, t, r: RecipientUpdate[], held?, snap?}  (snap = full state)
 *       done:    JSON {mid, t, r?}  (every recipient final; the message is finished)
 *
 * The header CRC lets recovery trust a record's length on its own (a record
 * whose payload is damaged is skipped by its length), makes the scan for the
 * next record after damage cheap, and — being keyed with the per-segment
 * random salt — means a record forged inside a message body (attacker
 * controlled bytes) can never pass for a real one.
 *
 * Writes: records are queued and one flusher writes each batch with a single
 * positioned writev and one fdatasync, then resolves every promise of the
 * batch (group commit). The segment being written is open with O_DSYNC, so
 * that writev is the fdatasync: one trip to the I/O thread pool per batch. On an I/O error the segment is truncated back to its
 * size before the batch and every promise of the batch rejects with the code
 * kept (ENOSPC, EIO, ...).
 *
 * Lazy records (`update(..., { lazy: true })`, used for recipients just
 * delivered) do not start a batch of their own: they ride with the next one
 * (under load, a batch of newly received messages is never far away), or are
 * written and synced by a timer at most LAZY_FLUSH_MS later. Losing one in a
 * crash means the recipient is delivered again, never that mail is lost; it
 * halves the fdatasync calls of a busy relay.
 *
 * Recovery (open): segments are replayed in order, every record checked. A
 * damaged region followed by valid records is skipped and counted
 * (`corruptRecords`); one that runs to the end of the last segment is a torn
 * write that was never acknowledged and is cut off (`recoveredTornBytes`). A
 * segment whose own header is unreadable is renamed `*.corrupt`; a last
 * segment shorter than its header (crash while creating it) is removed.
 *
 * Whole-segment compaction: a segment is deleted once it holds no live
 * message and no record that replay still needs (a state/done record about a
 * message whose message record lives in an older surviving segment: deleting
 * it first would resurrect a finished message). Old segments that are mostly
 * dead get their few live messages copied forward, and their still-needed
 * state/done records re-written forward, so they can go.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import * as zlib from 'node:zlib';
import type {
  NewMessage,
  RecipientState,
  RecipientUpdate,
  SpooledMessage,
  SpoolOptions,
  SpoolRecipient,
  SpoolStats,
} from './spool-types.js';

export type {
  NewMessage,
  RecipientState,
  RecipientUpdate,
  SpooledMessage,
  SpoolOptions,
  SpoolRecipient,
  SpoolStats,
} from './spool-types.js';

/**
 * A spool failure. `code` is the errno code of an I/O error (ENOSPC, EDQUOT,
 * EIO, ...) or one of SPOOL_CLOSED, SPOOL_UNKNOWN_MID, SPOOL_DUPLICATE_MID,
 * SPOOL_INVALID, SPOOL_CORRUPT, SPOOL_IN_USE, SPOOL_VERSION.
 */
export class SpoolError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SpoolError';
  }
}

// ---------------------------------------------------------------------------
// Format

const SEG_MAGIC = Buffer.from([0x89, 0x47, 0x48, 0x53, 0x50, 0x4c, 0x0d, 0x0a]); // \x89GHSPL\r\n
const SEG_VERSION = 1;
const SEG_HEADER = 24;
const REC_MAGIC = Buffer.from([0x89, 0x47, 0x48, 0x52]); // \x89GHR
const REC_HEADER = 17;
const T_MESSAGE = 1;
const T_STATE = 2;
const T_DONE = 3;
/** Largest payload accepted, and believed at recovery. */
const MAX_PAYLOAD = 1024 * 1024 * 1024;
const SCAN_CHUNK = 4 * 1024 * 1024;
const IOV_CHUNK = 512;
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Longest a lazy record waits for a batch to ride with before it is written (and synced) on its own. */
const LAZY_FLUSH_MS = 50;
const SEGMENT_RE = /^segment-(\d+)\.log$/;
const ANY_SEGMENT_RE = /^segment-(\d+)\.log/;
const FINAL: ReadonlySet<RecipientState> = new Set(['delivered', 'bounced', 'deleted']);
const STATES: ReadonlySet<string> = new Set(['pending', 'delivered', 'bounced', 'deleted']);

let crcTable: Uint32Array | undefined;
/** Table CRC-32 (same as zlib) for Node releases before zlib.crc32 (20.15). */
function crc32Js(data: Uint8Array, value = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) crc = (crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)) >>> 0;
  return (crc ^ 0xffffffff) >>> 0;
}
const crc32: (data: Uint8Array, value?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? zlib.crc32 : crc32Js;

function segmentName(id: number): string {
  return `segment-${String(id).padStart(6, '0')}.log`;
}

function segmentHeader(id: number, salt: Buffer): Buffer {
  const h = Buffer.alloc(SEG_HEADER);
  SEG_MAGIC.copy(h, 0);
  h.writeUInt32BE(SEG_VERSION, 8);
  h.writeUInt32BE(id, 12);
  salt.copy(h, 16);
  h.writeUInt32BE(crc32(h.subarray(0, 20)), 20);
  return h;
}

/** Record header with the header CRC left to fill in (it needs the segment's salt). */
function recordHeader(type: number, parts: readonly Buffer[]): { header: Buffer; length: number } {
  let length = 0;
  let crc = 0;
  for (const p of parts) {
    length += p.length;
    crc = crc32(p, crc);
  }
  const header = Buffer.allocUnsafe(REC_HEADER);
  REC_MAGIC.copy(header, 0);
  header[4] = type;
  header.writeUInt32BE(length, 5);
  header.writeUInt32BE(crc, 9);
  header.writeUInt32BE(0, 13);
  return { header, length };
}

function headerCrc(header: Buffer, salt: Buffer): number {
  return crc32(salt, crc32(header.subarray(0, 13)));
}

/** Magic, known type, header CRC and sane length: the length can be trusted. */
function trustedHeader(h: Buffer, salt: Buffer): boolean {
  if (h.length < REC_HEADER || h[0] !== REC_MAGIC[0] || h[1] !== REC_MAGIC[1] || h[2] !== REC_MAGIC[2] || h[3] !== REC_MAGIC[3]) {
    return false;
  }
  const type = h[4];
  if (type !== T_MESSAGE && type !== T_STATE && type !== T_DONE) return false;
  if (headerCrc(h, salt) !== h.readUInt32BE(13)) return false;
  const len = h.readUInt32BE(5);
  return len <= MAX_PAYLOAD && (type !== T_MESSAGE || len >= 4);
}

function isFinal(state: RecipientState): boolean {
  return FINAL.has(state);
}

function errCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

function asSpoolError(err: unknown, what: string): SpoolError {
  if (err instanceof SpoolError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new SpoolError(`spool ${what} failed: ${msg}`, errCode(err), { cause: err });
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new SpoolError('spool read: unexpected end of file', 'SPOOL_CORRUPT');
    done += bytesRead;
  }
}

/** Positioned writev of every byte of `bufs`, coping with short writes and IOV_MAX. */
async function writeAll(fh: FileHandle, input: readonly Buffer[], position: number): Promise<void> {
  const bufs = input.filter((b) => b.length > 0);
  let i = 0;
  let pos = position;
  while (i < bufs.length) {
    const chunk = bufs.slice(i, i + IOV_CHUNK);
    let total = 0;
    for (const b of chunk) total += b.length;
    const { bytesWritten } = await fh.writev(chunk, pos);
    if (bytesWritten <= 0) throw new SpoolError('spool write: no progress', 'EIO');
    pos += bytesWritten;
    if (bytesWritten === total) {
      i += chunk.length;
      continue;
    }
    let rest = bytesWritten;
    while (rest > 0) {
      const b = bufs[i]!;
      if (rest >= b.length) {
        rest -= b.length;
        i++;
      } else {
        bufs[i] = b.subarray(rest);
        rest = 0;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Validation of what comes back from disk (crc-valid but still checked)

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function num(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function parseRecipient(v: unknown): SpoolRecipient {
  if (!isObj(v) || !num(v.rid) || typeof v.address !== 'string' || typeof v.state !== 'string' || !STATES.has(v.state)) {
    throw new Error('bad recipient');
  }
  if (!num(v.attempts) || !num(v.nextAttemptAt) || !(v.lastReply === null || typeof v.lastReply === 'string')) {
    throw new Error('bad recipient');
  }
  return {
    rid: v.rid,
    address: v.address,
    state: v.state as RecipientState,
    attempts: v.attempts,
    nextAttemptAt: v.nextAttemptAt,
    lastReply: v.lastReply,
  };
}

function parseMessage(json: Buffer, size: number): SpooledMessage {
  const v: unknown = JSON.parse(json.toString('utf8'));
  if (!isObj(v) || !num(v.mid) || !num(v.icid) || !num(v.receivedAt) || typeof v.from !== 'string') throw new Error('bad message');
  if (typeof v.listener !== 'string' || (v.bodyType !== '7BIT' && v.bodyType !== '8BITMIME')) throw new Error('bad message');
  if (typeof v.clientIp !== 'string' || !Array.isArray(v.recipients) || v.recipients.length === 0) throw new Error('bad message');
  let tls: SpooledMessage['tls'] = null;
  if (v.tls !== null) {
    if (!isObj(v.tls) || typeof v.tls.protocol !== 'string' || typeof v.tls.cipher !== 'string') throw new Error('bad message');
    tls = { protocol: v.tls.protocol, cipher: v.tls.cipher };
  }
  return {
    mid: v.mid,
    icid: v.icid,
    receivedAt: v.receivedAt,
    from: v.from,
    recipients: v.recipients.map(parseRecipient),
    listener: v.listener,
    bodyType: v.bodyType,
    tls,
    clientIp: v.clientIp,
    size,
    held: v.held === true,
  };
}

function parseUpdate(v: unknown): RecipientUpdate {
  if (!isObj(v) || !num(v.rid)) throw new Error('bad update');
  const u: RecipientUpdate = { rid: v.rid };
  if (v.state !== undefined) {
    if (typeof v.state !== 'string' || !STATES.has(v.state)) throw new Error('bad update');
    u.state = v.state as RecipientState;
  }
  if (v.attempts !== undefined) {
    if (!num(v.attempts)) throw new Error('bad update');
    u.attempts = v.attempts;
  }
  if (v.nextAttemptAt !== undefined) {
    if (!num(v.nextAttemptAt)) throw new Error('bad update');
    u.nextAttemptAt = v.nextAttemptAt;
  }
  if (v.lastReply !== undefined) {
    if (!(v.lastReply === null || typeof v.lastReply === 'string')) throw new Error('bad update');
    u.lastReply = v.lastReply;
  }
  return u;
}

interface StateJson {
  mid: number;
  snap: boolean;
  held: boolean | undefined;
  r: RecipientUpdate[];
}

function parseState(json: Buffer): StateJson {
  const v: unknown = JSON.parse(json.toString('utf8'));
  if (!isObj(v) || !num(v.mid)) throw new Error('bad state record');
  const r = v.r === undefined ? [] : v.r;
  if (!Array.isArray(r)) throw new Error('bad state record');
  if (v.held !== undefined && typeof v.held !== 'boolean') throw new Error('bad state record');
  return { mid: v.mid, snap: v.snap === true, held: v.held as boolean | undefined, r: r.map(parseUpdate) };
}

function recipientOf(m: SpooledMessage, rid: number): SpoolRecipient | undefined {
  const r = m.recipients[rid];
  return r !== undefined && r.rid === rid ? r : m.recipients.find((x) => x.rid === rid);
}

function applyUpdates(m: SpooledMessage, updates: readonly RecipientUpdate[], held: boolean | undefined): void {
  for (const u of updates) {
    const r = recipientOf(m, u.rid);
    if (!r) continue;
    if (u.state !== undefined) r.state = u.state;
    if (u.attempts !== undefined) r.attempts = u.attempts;
    if (u.nextAttemptAt !== undefined) r.nextAttemptAt = u.nextAttemptAt;
    if (u.lastReply !== undefined) r.lastReply = u.lastReply;
  }
  if (held !== undefined) m.held = held;
}

function cloneMessage(m: SpooledMessage): SpooledMessage {
  return { ...m, tls: m.tls ? { ...m.tls } : null, recipients: m.recipients.map((r) => ({ ...r })) };
}

function messageJson(m: SpooledMessage): Buffer {
  const { size: _size, ...rest } = m;
  return Buffer.from(JSON.stringify(rest), 'utf8');
}

// ---------------------------------------------------------------------------
// In-memory bookkeeping

interface Segment {
  id: number;
  file: string;
  salt: Buffer;
  fh: FileHandle | null;
  opening: Promise<FileHandle> | null;
  size: number;
  /** mids whose current (durable) message record is here and not done. */
  live: Set<number>;
  /** Record bytes of those live messages. */
  liveBytes: number;
  /** mids with any message record here (current, superseded or done). */
  homed: Set<number>;
  /** mids whose state/done record here is still needed by replay. */
  pins: Set<number>;
  readers: number;
  deleted: boolean;
  /** A failed write could not be rolled back: write no more here. */
  broken: boolean;
}

/** What replay of the surviving segments would conclude about one mid. */
interface Durable {
  mid: number;
  /** Surviving segments with a message record for this mid. */
  homes: Set<Segment>;
  /** The latest message record. */
  home: Segment;
  offset: number;
  length: number;
  bodyStart: number;
  live: boolean;
  /** Segments whose state/done record about this mid replay still needs. */
  pinned: Set<Segment>;
}

type Kind = 'store' | 'reloc' | 'state' | 'snap' | 'done';

interface Entry {
  kind: Kind;
  mid: number;
  header: Buffer;
  parts: Buffer[];
  length: number;
  /** Offset of the body inside the record (message records). */
  bodyStart: number;
  message: SpooledMessage | null;
  offset: number;
  /** Rides with the next batch instead of starting one (see the file comment). */
  lazy: boolean;
  resolve: () => void;
  reject: (err: SpoolError) => void;
}

const openDirs = new Set<string>();

/**
 * The durable spool. Open with `Spool.open(dir)`; one instance per directory
 * (the caller must make sure no other process uses the directory).
 *
 * In-memory view vs disk: `store()` makes a message visible only once it is
 * durable. `update()` changes the in-memory view at once (in call order) and
 * resolves when the record is durable; if that write fails the promise
 * rejects but the in-memory change stays, and the spool re-writes the full
 * state of that message with its next successful write (a crash before that
 * replays the older state: a possible duplicate delivery, never a loss).
 */
export class Spool {
  private readonly segments = new Map<number, Segment>();
  private current: Segment | null = null;
  private nextId = 1;
  private readonly index = new Map<number, SpooledMessage>();
  private readonly durable = new Map<number, Durable>();
  private readonly storing = new Set<number>();
  private readonly resync = new Set<number>();
  private queue: Entry[] = [];
  /** Entries of `queue` that are not lazy: a batch is due. */
  private urgent = 0;
  private lazyTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private maint: Promise<void> | null = null;
  private maintAgain = false;
  private maintFull = false;
  private maybeDeletable = false;
  private closing = false;
  private closed = false;
  private fsyncCount = 0;
  private tornBytes = 0;
  private corrupt = 0;
  private maxMid = 0;
  private readonly fsync: boolean;
  /** O_DSYNC when fsync is on: writes to the current segment are durable when they return. */
  private readonly writeSync: number;
  private readonly segmentBytes: number;
  private readonly now: () => number;
  private readonly warn: (message: string, detail: Record<string, unknown>) => void;
  private readonly fault: ((stage: 'write' | 'sync') => void) | undefined;

  private constructor(
    private readonly dir: string,
    options: SpoolOptions,
  ) {
    this.fsync = options.fsync ?? true;
    this.writeSync = this.fsync ? fsConstants.O_DSYNC : 0;
    this.segmentBytes = Math.max(4096, options.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
    this.now = options.now ?? Date.now;
    this.warn = options.onWarning ?? (() => {});
    this.fault = options.injectFault;
  }

  /**
   * Open (creating if needed) the spool in `dir` and recover it: verify every
   * record, cut a torn tail off the last segment, skip and count damaged
   * records, rebuild the index, delete finished segments.
   */
  static async open(dir: string, options: SpoolOptions = {}): Promise<Spool> {
    const abs = path.resolve(dir);
    if (openDirs.has(abs)) throw new SpoolError(`spool ${abs} is already open in this process`, 'SPOOL_IN_USE');
    openDirs.add(abs);
    const spool = new Spool(abs, options);
    try {
      await spool.recover();
    } catch (err) {
      openDirs.delete(abs);
      await spool.closeFiles();
      throw err;
    }
    return spool;
  }

  /**
   * Store a new message (all recipients pending). Resolves once the message
   * and its envelope are on disk (fdatasync); rejects with a SpoolError whose
   * `code` is the I/O error code (ENOSPC, EIO, ...) otherwise.
   */
  async store(message: NewMessage, body: Buffer): Promise<void> {
    this.assertOpen();
    const mid = message.mid;
    if (!Number.isSafeInteger(mid) || mid < 0) throw new SpoolError(`invalid mid ${String(mid)}`, 'SPOOL_INVALID');
    if (!Array.isArray(message.recipients) || message.recipients.length === 0) {
      throw new SpoolError(`MID ${mid}: no recipients`, 'SPOOL_INVALID');
    }
    if (!(body instanceof Uint8Array)) throw new SpoolError(`MID ${mid}: body is not a Buffer`, 'SPOOL_INVALID');
    if (this.index.has(mid) || this.storing.has(mid)) throw new SpoolError(`MID ${mid} is already spooled`, 'SPOOL_DUPLICATE_MID');
    const msg: SpooledMessage = {
      mid,
      icid: message.icid,
      receivedAt: message.receivedAt,
      from: message.from,
      recipients: message.recipients.map((address, rid) => ({
        rid,
        address,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: message.receivedAt,
        lastReply: null,
      })),
      listener: message.listener,
      bodyType: message.bodyType,
      tls: message.tls ? { protocol: message.tls.protocol, cipher: message.tls.cipher } : null,
      clientIp: message.clientIp,
      size: body.length,
      held: false,
    };
    const u8: Uint8Array = body;
    const buf = Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
    const entry = this.messageEntry('store', msg, buf);
    this.storing.add(mid);
    try {
      this.drainResync();
      await this.enqueue(entry);
    } finally {
      this.storing.delete(mid);
    }
  }

  /** The raw body of a live message (one positioned read, CRC-checked). */
  async readBody(mid: number): Promise<Buffer> {
    const d = this.durable.get(mid);
    if (this.closed || !this.index.has(mid) || !d || !d.live) throw new SpoolError(`MID ${mid} is not in the spool`, 'SPOOL_UNKNOWN_MID');
    const seg = d.home;
    const { offset, length, bodyStart } = d;
    seg.readers++;
    try {
      const fh = await this.handle(seg);
      const rec = Buffer.allocUnsafe(length);
      await readFully(fh, rec, offset);
      if (!this.validRecord(rec, seg.salt, T_MESSAGE)) {
        throw new SpoolError(`MID ${mid}: spooled record in ${path.basename(seg.file)} at ${offset} is corrupt`, 'SPOOL_CORRUPT');
      }
      return rec.subarray(bodyStart);
    } catch (err) {
      throw asSpoolError(err, `read of MID ${mid}`);
    } finally {
      seg.readers--;
      if (seg.deleted && seg.readers === 0) void this.closeSegment(seg);
    }
  }

  /**
   * Change recipient state (and optionally the held flag). The in-memory view
   * changes at once; the promise resolves when the change is durable. When
   * every recipient is final (delivered/bounced/deleted) a `done` record is
   * written instead and the message leaves the index.
   *
   * `lazy`: the record waits (at most LAZY_FLUSH_MS) to ride with the next
   * batch instead of costing an fdatasync of its own. Only for changes whose
   * loss in a crash is harmless: a delivered recipient delivered again.
   */
  async update(mid: number, updates: RecipientUpdate[], extra?: { held?: boolean; lazy?: boolean }): Promise<void> {
    this.assertOpen();
    const m = this.index.get(mid);
    if (!m) throw new SpoolError(`MID ${mid} is not in the spool`, 'SPOOL_UNKNOWN_MID');
    const clean: RecipientUpdate[] = [];
    for (const u of updates) {
      if (!recipientOf(m, u.rid)) throw new SpoolError(`MID ${mid} has no RID ${u.rid}`, 'SPOOL_INVALID');
      const c: RecipientUpdate = { rid: u.rid };
      if (u.state !== undefined) {
        if (!STATES.has(u.state)) throw new SpoolError(`invalid recipient state ${String(u.state)}`, 'SPOOL_INVALID');
        c.state = u.state;
      }
      if (u.attempts !== undefined) {
        if (!num(u.attempts)) throw new SpoolError('invalid attempts', 'SPOOL_INVALID');
        c.attempts = u.attempts;
      }
      if (u.nextAttemptAt !== undefined) {
        if (!num(u.nextAttemptAt)) throw new SpoolError('invalid nextAttemptAt', 'SPOOL_INVALID');
        c.nextAttemptAt = u.nextAttemptAt;
      }
      if (u.lastReply !== undefined) {
        if (!(u.lastReply === null || typeof u.lastReply === 'string')) throw new SpoolError('invalid lastReply', 'SPOOL_INVALID');
        c.lastReply = u.lastReply;
      }
      clean.push(c);
    }
    const held = extra?.held;
    if (clean.length === 0 && held === undefined) return;
    this.drainResync();
    applyUpdates(m, clean, held);
    let entry: Entry;
    if (m.recipients.every((r) => isFinal(r.state))) {
      this.index.delete(mid);
      entry = this.jsonEntry('done', mid, { mid, t: this.now(), r: clean });
    } else {
      entry = this.jsonEntry('state', mid, held === undefined ? { mid, t: this.now(), r: clean } : { mid, t: this.now(), held, r: clean });
    }
    entry.lazy = extra?.lazy === true;
    await this.enqueue(entry);
  }

  /** A copy of a live message, or undefined. */
  get(mid: number): SpooledMessage | undefined {
    const m = this.index.get(mid);
    return m ? cloneMessage(m) : undefined;
  }

  /** Copies of all live messages, by mid. */
  list(): SpooledMessage[] {
    return [...this.index.values()].sort((a, b) => a.mid - b.mid).map(cloneMessage);
  }

  /**
   * The live messages without copying, in the order they were stored: for the
   * delivery scheduler's pass, which runs after every stored message and must
   * not copy the whole queue each time. Read-only: never mutate what it yields.
   */
  live(): IterableIterator<Readonly<SpooledMessage>> {
    return this.index.values();
  }

  /** False once close() began: nothing more can be stored (the health check reports it). */
  get isOpen(): boolean {
    return !this.closing && !this.closed;
  }

  /** Live message count. */
  size(): number {
    return this.index.size;
  }

  /** Counters; `maxMid` helps the caller allocate fresh mids after a restart. */
  stats(): SpoolStats {
    let bytes = 0;
    for (const s of this.segments.values()) bytes += s.size;
    return {
      messages: this.index.size,
      segments: this.segments.size,
      bytes,
      fsyncs: this.fsyncCount,
      recoveredTornBytes: this.tornBytes,
      corruptRecords: this.corrupt,
      maxMid: this.maxMid,
    };
  }

  /**
   * Run whole-segment compaction now (normally automatic after each segment
   * rotation and at open) and wait for it: copy live messages out of old,
   * mostly dead segments and delete the segments nobody needs.
   */
  async compact(): Promise<void> {
    this.assertOpen();
    this.requestMaintenance(true);
    while (this.maint) await this.maint;
  }

  /** Finish pending writes and background compaction, then close the files. */
  async close(): Promise<void> {
    if (this.closing) {
      while (!this.closed) await new Promise((r) => setTimeout(r, 5));
      return;
    }
    this.drainResync();
    this.closing = true;
    if (this.queue.length > 0) {
      this.urgent++; // lazy records are written now
      this.startFlush();
    }
    while (this.maint || this.flushing) {
      if (this.maint) await this.maint;
      if (this.flushing) await this.flushing;
    }
    this.closed = true;
    await this.closeFiles();
    openDirs.delete(this.dir);
  }

  // -------------------------------------------------------------------------
  // Writer

  private assertOpen(): void {
    if (this.closing || this.closed) throw new SpoolError('spool is closed', 'SPOOL_CLOSED');
  }

  private newEntry(kind: Kind, mid: number, type: number, parts: Buffer[], bodyStart: number, message: SpooledMessage | null): Entry {
    const { header, length } = recordHeader(type, parts);
    if (length > MAX_PAYLOAD) throw new SpoolError(`MID ${mid}: record of ${length} bytes is too large`, 'SPOOL_INVALID');
    return { kind, mid, header, parts, length, bodyStart, message, offset: -1, lazy: false, resolve: () => {}, reject: () => {} };
  }

  private messageEntry(kind: 'store' | 'reloc', msg: SpooledMessage, body: Buffer): Entry {
    const json = messageJson(msg);
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeUInt32BE(json.length, 0);
    return this.newEntry(kind, msg.mid, T_MESSAGE, [prefix, json, body], REC_HEADER + 4 + json.length, msg);
  }

  private jsonEntry(kind: 'state' | 'snap' | 'done', mid: number, payload: object): Entry {
    return this.newEntry(kind, mid, kind === 'done' ? T_DONE : T_STATE, [Buffer.from(JSON.stringify(payload), 'utf8')], 0, null);
  }

  private snapshotEntry(m: SpooledMessage): Entry {
    const r: RecipientUpdate[] = m.recipients.map((x) => ({
      rid: x.rid,
      state: x.state,
      attempts: x.attempts,
      nextAttemptAt: x.nextAttemptAt,
      lastReply: x.lastReply,
    }));
    return this.jsonEntry('snap', m.mid, { mid: m.mid, t: this.now(), snap: true, held: m.held, r });
  }

  private enqueue(entry: Entry): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    this.queue.push(entry);
    if (!entry.lazy || this.closing) this.urgent++;
    this.startFlush();
    return p;
  }

  /** Starts the flusher when a batch is due; otherwise makes sure lazy records are written within LAZY_FLUSH_MS. */
  private startFlush(): void {
    if (this.flushing || this.queue.length === 0) return;
    if (this.urgent > 0) {
      if (this.lazyTimer) {
        clearTimeout(this.lazyTimer);
        this.lazyTimer = null;
      }
      this.flushing = this.flushLoop();
      return;
    }
    if (this.lazyTimer) return;
    this.lazyTimer = setTimeout(() => {
      this.lazyTimer = null;
      this.urgent++; // the lazy records' wait is over
      this.startFlush();
    }, LAZY_FLUSH_MS);
  }

  /** Re-persist the in-memory state of messages whose last write failed. */
  private drainResync(): void {
    if (this.resync.size === 0) return;
    const mids = [...this.resync];
    this.resync.clear();
    for (const mid of mids) {
      const m = this.index.get(mid);
      const entry = m ? this.snapshotEntry(m) : this.durable.get(mid)?.live ? this.jsonEntry('done', mid, { mid, t: this.now() }) : null;
      if (entry) this.enqueue(entry).catch(() => {}); // a failure puts the mid back into `resync`
    }
  }

  private async flushLoop(): Promise<void> {
    await null; // let records enqueued in the same tick join the first batch
    while (this.urgent > 0 && this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      this.urgent = 0;
      await this.writeBatch(batch);
    }
    this.urgent = 0;
    this.flushing = null;
    this.startFlush(); // lazy records that came in during the last write
    if (this.maybeDeletable) this.requestMaintenance(false);
  }

  private async writeBatch(batch: Entry[]): Promise<void> {
    let seg: Segment;
    try {
      seg = await this.writableSegment();
    } catch (err) {
      this.failBatch(batch, asSpoolError(err, 'segment creation'));
      return;
    }
    const start = seg.size;
    const bufs: Buffer[] = [];
    let pos = start;
    for (const e of batch) {
      e.header.writeUInt32BE(headerCrc(e.header, seg.salt), 13);
      e.offset = pos;
      bufs.push(e.header, ...e.parts);
      pos += REC_HEADER + e.length;
    }
    let stage: 'write' | 'sync' = 'write';
    try {
      const fh = await this.handle(seg);
      this.fault?.('write');
      // With fsync on, the handle is O_DSYNC: the write returns once the data is on disk, and a
      // failure may have been the sync's (the page cache state is then unknown, see rollback).
      if (this.fsync) stage = 'sync';
      await writeAll(fh, bufs, start);
      stage = 'sync';
      this.fault?.('sync');
      if (this.fsync) this.fsyncCount++;
    } catch (err) {
      await this.rollback(seg, start, stage);
      this.failBatch(batch, asSpoolError(err, stage === 'write' ? 'write' : 'fdatasync'));
      return;
    }
    seg.size = pos;
    for (const e of batch) this.commit(seg, e);
  }

  private failBatch(batch: Entry[], err: SpoolError): void {
    for (const e of batch) {
      if (e.kind === 'state' || e.kind === 'snap' || e.kind === 'done') this.resync.add(e.mid);
      e.reject(err);
    }
  }

  /** Cut the segment back to its size before the failed batch. */
  private async rollback(seg: Segment, size: number, stage: 'write' | 'sync'): Promise<void> {
    // After a failed fdatasync the page cache state is unknown: write no more into this file.
    if (stage === 'sync') seg.broken = true;
    try {
      const fh = await this.handle(seg);
      await fh.truncate(size);
      if (this.fsync) {
        await fh.datasync();
        this.fsyncCount++;
      }
    } catch (err) {
      seg.broken = true;
      this.warn('spool: could not truncate a failed batch; moving to a new segment', { segment: path.basename(seg.file), error: String(err) });
    }
  }

  /** Apply one durable record to the bookkeeping and resolve its promise. */
  private commit(seg: Segment, e: Entry): void {
    switch (e.kind) {
      case 'store':
      case 'reloc':
        this.durableMessage(seg, e.mid, e.offset, REC_HEADER + e.length, e.bodyStart);
        if (e.kind === 'store' && e.message) {
          this.index.set(e.mid, e.message);
          if (e.mid > this.maxMid) this.maxMid = e.mid;
        }
        break;
      case 'state':
      case 'snap':
        this.durableState(seg, e.mid, e.kind === 'snap');
        break;
      case 'done':
        this.durableDone(seg, e.mid);
        break;
    }
    e.resolve();
  }

  private async writableSegment(): Promise<Segment> {
    const cur = this.current;
    if (cur && !cur.broken && cur.size < this.segmentBytes) return cur;
    const seg = await this.createSegment(this.nextId++);
    this.current = seg;
    this.segments.set(seg.id, seg);
    if (cur && !cur.deleted && cur.fh && cur.readers === 0) {
      // Old segment is read-only from now on; it is reopened on demand for reads.
      void this.closeSegment(cur, false);
    }
    this.requestMaintenance(true);
    return seg;
  }

  private async createSegment(id: number): Promise<Segment> {
    const file = path.join(this.dir, segmentName(id));
    const salt = randomBytes(4);
    const fh = await open(file, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_RDWR | this.writeSync, 0o600);
    try {
      await writeAll(fh, [segmentHeader(id, salt)], 0); // synced by O_DSYNC
      if (this.fsync) {
        await this.syncDir();
        this.fsyncCount += 2;
      }
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(file).catch(() => {});
      throw err;
    }
    return this.newSegment(id, file, salt, fh, SEG_HEADER);
  }

  private newSegment(id: number, file: string, salt: Buffer, fh: FileHandle | null, size: number): Segment {
    return {
      id,
      file,
      salt,
      fh,
      opening: null,
      size,
      live: new Set(),
      liveBytes: 0,
      homed: new Set(),
      pins: new Set(),
      readers: 0,
      deleted: false,
      broken: false,
    };
  }

  private async syncDir(): Promise<void> {
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  private handle(seg: Segment): Promise<FileHandle> {
    if (seg.fh) return Promise.resolve(seg.fh);
    if (!seg.opening) {
      seg.opening = open(seg.file, seg === this.current ? fsConstants.O_RDWR | this.writeSync : 'r').then(
        (fh) => {
          seg.opening = null;
          if (seg.deleted && seg.readers === 0) {
            void fh.close().catch(() => {});
          } else {
            seg.fh = fh;
          }
          return fh;
        },
        (err: unknown) => {
          seg.opening = null;
          throw err;
        },
      );
    }
    return seg.opening;
  }

  private async closeSegment(seg: Segment, ignoreErrors = true): Promise<void> {
    const fh = seg.fh;
    seg.fh = null;
    if (!fh) return;
    try {
      await fh.close();
    } catch (err) {
      if (!ignoreErrors) this.warn('spool: close failed', { segment: path.basename(seg.file), error: String(err) });
    }
  }

  private async closeFiles(): Promise<void> {
    for (const seg of this.segments.values()) {
      if (seg.opening) await seg.opening.catch(() => {});
      await this.closeSegment(seg);
    }
  }

  // -------------------------------------------------------------------------
  // Durable bookkeeping: the same rules at replay and after each write, so
  // that the live/pinned sets always say what replay of the surviving
  // segments would conclude.

  private durableMessage(seg: Segment, mid: number, offset: number, length: number, bodyStart: number): void {
    let d = this.durable.get(mid);
    if (d) {
      this.unpinAll(d);
      if (d.live) this.unlive(d);
      d.homes.add(seg);
      d.home = seg;
      d.offset = offset;
      d.length = length;
      d.bodyStart = bodyStart;
    } else {
      d = { mid, homes: new Set([seg]), home: seg, offset, length, bodyStart, live: false, pinned: new Set() };
      this.durable.set(mid, d);
    }
    d.live = true;
    seg.live.add(mid);
    seg.liveBytes += length;
    seg.homed.add(mid);
  }

  /** Returns whether replay applies this state record (message live). */
  private durableState(seg: Segment, mid: number, snap: boolean): boolean {
    const d = this.durable.get(mid);
    if (!d || !d.live) return false;
    if (snap) this.unpinAll(d); // a full snapshot supersedes earlier deltas
    if (seg !== d.home) this.pin(d, seg);
    return true;
  }

  private durableDone(seg: Segment, mid: number): void {
    const d = this.durable.get(mid);
    if (!d) return;
    this.unpinAll(d);
    if (d.live) this.unlive(d);
    // Needed while a message record for this mid survives in another segment.
    for (const h of d.homes) {
      if (h !== seg) {
        this.pin(d, seg);
        break;
      }
    }
  }

  private unlive(d: Durable): void {
    d.home.live.delete(d.mid);
    d.home.liveBytes -= d.length;
    d.live = false;
    if (d.home !== this.current && d.home.live.size === 0) this.maybeDeletable = true;
  }

  private pin(d: Durable, seg: Segment): void {
    if (d.pinned.has(seg)) return;
    d.pinned.add(seg);
    seg.pins.add(d.mid);
  }

  private unpinAll(d: Durable): void {
    for (const s of d.pinned) {
      s.pins.delete(d.mid);
      if (s !== this.current && s.pins.size === 0) this.maybeDeletable = true;
    }
    d.pinned.clear();
  }

  /** Bookkeeping once a segment file is gone. */
  private forgetSegment(seg: Segment): void {
    for (const mid of seg.homed) {
      const d = this.durable.get(mid);
      if (!d || !d.homes.has(seg)) continue;
      d.homes.delete(seg);
      if (d.homes.size === 0) {
        this.unpinAll(d);
        this.durable.delete(mid);
      } else if (!d.live) {
        let needed = false;
        for (const h of d.homes) if (!d.pinned.has(h)) needed = true;
        if (!needed) this.unpinAll(d);
      }
    }
    seg.homed.clear();
  }

  // -------------------------------------------------------------------------
  // Compaction

  private requestMaintenance(full: boolean): void {
    if (full) this.maintFull = true;
    if (this.closed || (this.closing && !this.maint)) return;
    if (this.maint) {
      this.maintAgain = true;
      return;
    }
    this.maint = (async () => {
      // Copying forward can itself rotate segments and ask for another pass;
      // a few full passes per run are plenty, the next rotation asks again.
      let fullPasses = 0;
      do {
        this.maintAgain = false;
        const doFull = this.maintFull && !this.closing && fullPasses < 3;
        if (doFull) {
          this.maintFull = false;
          fullPasses++;
        }
        this.maybeDeletable = false;
        try {
          await this.maintainOnce(doFull);
        } catch (err) {
          this.warn('spool: compaction failed', { error: String(err), code: errCode(err) });
        }
      } while (this.maintAgain && !this.closed);
      this.maint = null;
    })();
  }

  private async maintainOnce(full: boolean): Promise<void> {
    await this.deleteUnneeded();
    const cur = this.current;
    if (!full || !cur) return;
    const relocate: Segment[] = [];
    const carry: Segment[] = [];
    for (const seg of [...this.segments.values()].sort((a, b) => a.id - b.id)) {
      // Leave the current and the previous segment alone: their messages are
      // usually finished within seconds.
      if (seg.deleted || seg === cur || seg.id >= cur.id - 1) continue;
      if (seg.live.size > 0) {
        if (seg.liveBytes * 2 <= seg.size) relocate.push(seg);
      } else if (seg.pins.size > 0) {
        carry.push(seg);
      }
    }
    const writes: Promise<void>[] = [];
    for (const seg of relocate) {
      for (const mid of [...seg.live]) {
        if (!this.index.has(mid)) continue; // finished in memory; its done record is on its way
        let body: Buffer;
        try {
          body = await this.readBody(mid);
        } catch (err) {
          this.warn('spool: cannot read a message to move it', { mid, error: String(err) });
          continue;
        }
        const m = this.index.get(mid);
        const d = this.durable.get(mid);
        if (!m || !d || !d.live || d.home !== seg) continue;
        writes.push(this.enqueue(this.messageEntry('reloc', cloneMessage(m), body)));
      }
    }
    for (const seg of carry) {
      const entries = [...seg.pins].map((mid) => {
        const m = this.index.get(mid);
        return m ? this.snapshotEntry(m) : this.jsonEntry('done', mid, { mid, t: this.now() });
      });
      // Only worth it when it frees at least twice what it writes.
      let cost = 0;
      for (const e of entries) cost += REC_HEADER + e.length;
      if (cost * 2 > seg.size) continue;
      for (const e of entries) writes.push(this.enqueue(e));
    }
    if (writes.length === 0) return;
    const results = await Promise.allSettled(writes);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) this.warn('spool: compaction write failed', { error: String(failed.reason), code: errCode(failed.reason) });
    await this.deleteUnneeded();
  }

  /** Delete, oldest first, every non-current segment replay no longer needs. */
  private async deleteUnneeded(): Promise<void> {
    for (const seg of [...this.segments.values()].sort((a, b) => a.id - b.id)) {
      if (seg.deleted || seg === this.current || seg.live.size > 0 || seg.pins.size > 0) continue;
      try {
        await unlink(seg.file);
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw err;
      }
      // Each deletion is made durable before the next: a later segment may
      // only have been deletable because this one is gone.
      if (this.fsync) {
        await this.syncDir();
        this.fsyncCount++;
      }
      seg.deleted = true;
      this.segments.delete(seg.id);
      this.forgetSegment(seg);
      if (seg.readers === 0) await this.closeSegment(seg);
    }
  }

  // -------------------------------------------------------------------------
  // Recovery

  private async recover(): Promise<void> {
    let first: string | undefined;
    try {
      first = await mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw asSpoolError(err, `mkdir ${this.dir}`);
    }
    if (first !== undefined && this.fsync) {
      // Make every directory entry just created durable.
      for (let p = this.dir; ; p = path.dirname(p)) {
        const parent = await open(path.dirname(p), 'r');
        try {
          await parent.sync();
        } finally {
          await parent.close();
        }
        if (p === first || path.dirname(p) === p) break;
      }
    }
    const names = await readdir(this.dir);
    const ids: number[] = [];
    let maxId = 0;
    for (const name of names) {
      const any = ANY_SEGMENT_RE.exec(name);
      if (any?.[1]) maxId = Math.max(maxId, Number(any[1]));
      const m = SEGMENT_RE.exec(name);
      if (m?.[1] && name === segmentName(Number(m[1]))) ids.push(Number(m[1]));
    }
    ids.sort((a, b) => a - b);
    this.nextId = maxId + 1;
    for (let i = 0; i < ids.length; i++) {
      await this.scanSegment(ids[i]!, i === ids.length - 1);
    }
    // Recovery findings are settled; compaction now reads them.
    this.maybeDeletable = false;
    await this.deleteUnneeded();
    this.requestMaintenance(true);
  }

  private async scanSegment(id: number, isLast: boolean): Promise<void> {
    const name = segmentName(id);
    const file = path.join(this.dir, name);
    const fh = await open(file, isLast ? fsConstants.O_RDWR | this.writeSync : 'r');
    let keep = false;
    try {
      const size = (await fh.stat()).size;
      const head = Buffer.alloc(Math.min(SEG_HEADER, size));
      if (head.length > 0) await readFully(fh, head, 0);
      const intact = head.length === SEG_HEADER && head.subarray(0, 8).equals(SEG_MAGIC) && crc32(head.subarray(0, 20)) === head.readUInt32BE(20);
      if (intact && head.readUInt32BE(8) !== SEG_VERSION) {
        // Written by another version of Gatehouse: refuse rather than quarantine good mail.
        throw new SpoolError(`spool segment ${name} has format version ${head.readUInt32BE(8)}, this build reads ${SEG_VERSION}`, 'SPOOL_VERSION');
      }
      const valid = intact && head.readUInt32BE(12) === id;
      if (!valid) {
        await fh.close();
        if (isLast && size <= SEG_HEADER) {
          // Torn creation: the header is synced before any record is written.
          await unlink(file);
          this.tornBytes += size;
          this.warn('spool: removed a segment torn at creation', { segment: name, bytes: size });
        } else {
          await rename(file, `${file}.corrupt`);
          this.corrupt++;
          this.warn('spool: segment header is corrupt; segment quarantined', { segment: name, renamedTo: `${name}.corrupt` });
        }
        if (this.fsync) {
          await this.syncDir();
          this.fsyncCount++;
        }
        return;
      }
      const seg = this.newSegment(id, file, Buffer.from(head.subarray(16, 20)), null, size);
      this.segments.set(id, seg);
      const reader = new Reader(fh, size);
      let off = SEG_HEADER;
      // A damaged region starts at the first bad record after good ones and
      // ends at the next good record (then: skipped, counted) or at the end
      // of the file (last segment: a torn tail, cut off).
      let badStart = -1;
      let badRecords = 0;
      while (off < size) {
        const rec = await this.readRecordAt(reader, seg.salt, off);
        if (rec.kind === 'ok') {
          if (badStart >= 0) {
            this.corrupt += badRecords;
            this.warn('spool: skipped damaged records', { segment: name, offset: badStart, bytes: off - badStart, records: badRecords });
            badStart = -1;
            badRecords = 0;
          }
          this.replay(seg, rec.type, rec.payload, off);
          off = rec.next;
          continue;
        }
        if (badStart < 0) badStart = off;
        badRecords++;
        if (rec.kind === 'bad-payload') {
          off = rec.next; // the header is genuine, so is its length
          continue;
        }
        if (rec.kind === 'untrusted') {
          const next = await this.findNext(reader, seg.salt, off + 1);
          if (next >= 0) {
            off = next;
            continue;
          }
        }
        off = size; // 'truncated' (payload beyond the end) or nothing valid follows
      }
      if (badStart >= 0) {
        if (isLast) {
          // Never acknowledged: every acknowledged record was fdatasync'ed
          // before anything after it was written.
          await fh.truncate(badStart);
          if (this.fsync) {
            await fh.datasync();
            this.fsyncCount++;
          }
          this.tornBytes += size - badStart;
          seg.size = badStart;
          this.warn('spool: cut a torn tail off the last segment', { segment: name, offset: badStart, bytes: size - badStart });
        } else {
          this.corrupt += badRecords;
          this.warn('spool: damaged tail of a sealed segment skipped', { segment: name, offset: badStart, bytes: size - badStart });
        }
      }
      if (isLast) {
        seg.fh = fh;
        this.current = seg;
        keep = true;
      }
    } finally {
      if (!keep) await fh.close().catch(() => {});
    }
  }

  /** Classify the bytes at `off`: a valid record, or how it is damaged. */
  private async readRecordAt(
    reader: Reader,
    salt: Buffer,
    off: number,
  ): Promise<{ kind: 'ok'; type: number; payload: Buffer; next: number } | { kind: 'bad-payload'; next: number } | { kind: 'untrusted' | 'truncated' }> {
    if (off + REC_HEADER > reader.size) return { kind: 'truncated' };
    const h = await reader.get(off, REC_HEADER);
    if (!trustedHeader(h, salt)) return { kind: 'untrusted' };
    const len = h.readUInt32BE(5);
    const next = off + REC_HEADER + len;
    if (next > reader.size) return { kind: 'truncated' };
    const payload = await reader.get(off + REC_HEADER, len);
    if (crc32(payload) !== h.readUInt32BE(9)) return { kind: 'bad-payload', next };
    return { kind: 'ok', type: h[4]!, payload, next };
  }

  /** Offset of the next genuine record header after damage, or -1. */
  private async findNext(reader: Reader, salt: Buffer, from: number): Promise<number> {
    let pos = from;
    while (pos + REC_HEADER <= reader.size) {
      const n = Math.min(SCAN_CHUNK, reader.size - pos);
      const window = await reader.get(pos, n);
      let i = window.indexOf(REC_MAGIC);
      while (i !== -1) {
        const cand = pos + i;
        if (cand + REC_HEADER <= reader.size && trustedHeader(await reader.get(cand, REC_HEADER), salt)) return cand;
        i = window.indexOf(REC_MAGIC, i + 1);
      }
      if (pos + n >= reader.size) break;
      pos += n - (REC_MAGIC.length - 1);
    }
    return -1;
  }

  private validRecord(rec: Buffer, salt: Buffer, type: number): boolean {
    if (!trustedHeader(rec, salt) || rec[4] !== type || rec.readUInt32BE(5) !== rec.length - REC_HEADER) return false;
    return crc32(rec.subarray(REC_HEADER)) === rec.readUInt32BE(9);
  }

  private replay(seg: Segment, type: number, payload: Buffer, offset: number): void {
    try {
      if (type === T_MESSAGE) {
        const jsonLen = payload.readUInt32BE(0);
        if (4 + jsonLen > payload.length) throw new Error('json length beyond record');
        const msg = parseMessage(payload.subarray(4, 4 + jsonLen), payload.length - 4 - jsonLen);
        this.durableMessage(seg, msg.mid, offset, REC_HEADER + payload.length, REC_HEADER + 4 + jsonLen);
        this.index.set(msg.mid, msg);
        if (msg.mid > this.maxMid) this.maxMid = msg.mid;
      } else if (type === T_STATE) {
        const s = parseState(payload);
        if (this.durableState(seg, s.mid, s.snap)) {
          const m = this.index.get(s.mid);
          if (m) applyUpdates(m, s.r, s.held);
        }
      } else {
        const v: unknown = JSON.parse(payload.toString('utf8'));
        if (!isObj(v) || !num(v.mid)) throw new Error('bad done record');
        this.durableDone(seg, v.mid);
        this.index.delete(v.mid);
      }
    } catch (err) {
      this.corrupt++;
      this.warn('spool: unreadable record skipped', { segment: path.basename(seg.file), offset, error: String(err) });
    }
  }
}

/** Sequential reader over one segment with a read-ahead window. */
class Reader {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  /** Bytes [off, off+len) — the caller has checked they are inside the file. */
  async get(off: number, len: number): Promise<Buffer> {
    if (off >= this.start && off + len <= this.start + this.buf.length) {
      return this.buf.subarray(off - this.start, off - this.start + len);
    }
    const want = Math.min(Math.max(len, SCAN_CHUNK), this.size - off);
    const b = Buffer.allocUnsafe(want);
    await readFully(this.fh, b, off);
    this.buf = b;
    this.start = off;
    return b.subarray(0, len);
  }
}
