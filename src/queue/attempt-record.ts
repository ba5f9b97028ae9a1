/**
 * The record of a recipient's last delivery attempt, kept in the spool's
 * `lastReply` field (as JSON) so `queue list`, DSNs and the report/track
 * features can tell what happened: the reply, the connection (DCID, host, IP)
 * and the TLS facts (wanted, achieved, protocol, cipher, verified or why not,
 * identifier matched).
 */
import type { TlsRecord } from '../smtp/outbound/delivery-attempt.js';

export interface AttemptRecord {
  /** Epoch ms. */
  at: number;
  /** One line: `550 5.1.1 No such user`, or our own reason. */
  reply: string;
  dcid: number | null;
  host: string | null;
  ip: string | null;
  port: number | null;
  tls: TlsRecord | null;
  /** A delay warning was sent for this message (carried from record to record, so it is sent once). */
  delayWarned?: boolean;
}

export function encodeAttempt(a: AttemptRecord): string {
  return JSON.stringify(a);
}

/** Reads a stored `lastReply`: an AttemptRecord, or (older/foreign values) a plain reply text. */
export function decodeAttempt(lastReply: string | null): AttemptRecord | null {
  if (lastReply === null) return null;
  if (lastReply.startsWith('{')) {
    try {
      const v = JSON.parse(lastReply) as Partial<AttemptRecord>;
      if (typeof v.reply === 'string' && typeof v.at === 'number') {
        const a: AttemptRecord = { at: v.at, reply: v.reply, dcid: v.dcid ?? null, host: v.host ?? null, ip: v.ip ?? null, port: v.port ?? null, tls: v.tls ?? null };
        if (v.delayWarned === true) a.delayWarned = true;
        return a;
      }
    } catch {
      // fall through: not ours
    }
  }
  return { at: 0, reply: lastReply, dcid: null, host: null, ip: null, port: null, tls: null };
}
