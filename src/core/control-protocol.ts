/**
 * The control channel between the CLI and a running gateway (SPEC §1): a Unix
 * socket `<home>/run/control.sock` (mode 0600 in a 0700 directory, so only the
 * gateway's own user can use it). One JSON object per line each way: the
 * client writes a request, the gateway answers with one response line.
 */
import path from 'node:path';

export const CONTROL_COMMANDS = ['commit', 'reload', 'stop', 'status', 'queue'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

/** `gatehouse queue ...` (the delivery queue of the running gateway). */
export type QueueAction = 'list' | 'flush' | 'delete' | 'bounce' | 'hold' | 'release';
export const QUEUE_ACTIONS = ['list', 'flush', 'delete', 'bounce', 'hold', 'release'] as const;
export interface QueueRequest {
  action: QueueAction;
  /** For delete/bounce/hold/release. */
  mid?: number;
}

/** One queued message as `queue list` shows it. */
export interface QueueListEntry {
  mid: number;
  from: string;
  receivedAt: number;
  size: number;
  held: boolean;
  recipients: { rid: number; address: string; state: string; attempts: number; nextAttemptAt: number; lastReply: string | null }[];
}

export interface ControlRequest {
  command: ControlCommand;
  /** With `command: 'queue'`. */
  queue?: QueueRequest;
}

/** Longest request line the gateway reads; anything longer closes the connection. */
export const MAX_CONTROL_LINE = 64 * 1024;

export interface ListenerStatus {
  name: string;
  type: 'public' | 'private';
  address: string;
  port: number;
  openSessions: number;
}

export interface GatewayStatus {
  pid: number;
  home: string;
  startedAt: string;
  uptimeSeconds: number;
  /** The configuration version the gateway runs. */
  version: number;
  /** The newest committed version (newer than `version` when a commit could not be applied). */
  committedVersion: number;
  hostname: string;
  listeners: ListenerStatus[];
  /** Inbound SMTP connections open now, on all listeners (draining ones included). */
  openSessions: number;
  spool: { messages: number };
  /** Syslog forwarding of the mail log and its counters (logging/syslog-sender.ts `SyslogStats`); null while off. */
  syslog?: { target: string; connected: boolean; sent: number; dropped: number; errors: number; truncated: number; queued: number; lastError: string | null } | null;
}

export type ControlResponse =
  | { ok: true; command: 'commit' | 'reload'; version: number; pid: number }
  | { ok: true; command: 'status'; status: GatewayStatus }
  | { ok: true; command: 'stop'; pid: number }
  | { ok: true; command: 'queue'; action: QueueAction; messages?: QueueListEntry[]; mid?: number }
  | { ok: false; error: string; errors?: string[] };

/**
 * The address to bind or connect to for a socket path: Unix socket paths are
 * limited to about 107 bytes, so a long absolute path is used relative to the
 * working directory when that is shorter.
 */
export function socketAddress(socketPath: string): string {
  if (Buffer.byteLength(socketPath) <= 100) return socketPath;
  const relative = path.relative(process.cwd(), socketPath);
  return Buffer.byteLength(relative) < Buffer.byteLength(socketPath) ? relative : socketPath;
}
