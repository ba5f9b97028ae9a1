/**
 * Types of the durable spool (src/queue/spool.ts): the envelope the SMTP
 * session hands over, the per-recipient delivery state the queue manager
 * keeps, and the spool's options and counters.
 */

/** Delivery state of one recipient. `pending` is the only non-final state. */
export type RecipientState = 'pending' | 'delivered' | 'bounced' | 'deleted';

/** One recipient of a spooled message; `rid` is its 0-based index in the RCPT order. */
export interface SpoolRecipient {
  rid: number;
  address: string;
  state: RecipientState;
  attempts: number;
  /** Epoch ms of the next delivery attempt (initially the message's receivedAt). */
  nextAttemptAt: number;
  /** Last reply from a next hop, for the log and for DSNs. */
  lastReply: string | null;
}

/** What the SMTP session stores at end of DATA. `mid` is allocated by the caller. */
export interface NewMessage {
  mid: number;
  icid: number;
  /** Epoch ms. */
  receivedAt: number;
  /** Envelope sender; '' is the null sender `<>`. */
  from: string;
  recipients: string[];
  listener: string;
  bodyType: '7BIT' | '8BITMIME';
  tls: { protocol: string; cipher: string } | null;
  clientIp: string;
}

/** A live message as the spool knows it: envelope, per-recipient state, body size. */
export interface SpooledMessage extends Omit<NewMessage, 'recipients'> {
  recipients: SpoolRecipient[];
  /** Body length in bytes. */
  size: number;
  /** Held by an administrator (`gatehouse queue hold`): not to be delivered until released. */
  held: boolean;
}

/** A change to one recipient; fields left out are unchanged. */
export interface RecipientUpdate {
  rid: number;
  state?: RecipientState;
  attempts?: number;
  nextAttemptAt?: number;
  lastReply?: string | null;
}

/** Options of `Spool.open`. */
export interface SpoolOptions {
  /** fdatasync each batch and fsync the directory on segment changes (default true). Off only in tests. */
  fsync?: boolean;
  /** Rotate to a new segment file once the current one reaches this size (default 64 MiB). */
  segmentBytes?: number;
  /** Clock for the timestamps written into state/done records (default Date.now). */
  now?: () => number;
  /** Called for recovery findings and background compaction errors (default: silent). */
  onWarning?: (message: string, detail: Record<string, unknown>) => void;
  /**
   * Test seam for disk faults: called before each batch `write` and before its
   * `sync` (fdatasync). Whatever it throws is handled exactly like an I/O error of
   * that step (e.g. throw an Error with `code: 'ENOSPC'`). Never set in production.
   */
  injectFault?: (stage: 'write' | 'sync') => void;
}

/** Counters of `Spool.stats()`. */
export interface SpoolStats {
  /** Live (not finished) messages. */
  messages: number;
  /** Segment files in use. */
  segments: number;
  /** Total size of those segment files. */
  bytes: number;
  /** fdatasync/fsync calls made since open (batches, segment creation, directory). */
  fsyncs: number;
  /** Bytes of torn records cut off the tail of the last segment at open. */
  recoveredTornBytes: number;
  /** Bad records (or unreadable segments) skipped at open. */
  corruptRecords: number;
  /** Highest mid seen in any message record (replayed or stored); 0 if none. */
  maxMid: number;
}
