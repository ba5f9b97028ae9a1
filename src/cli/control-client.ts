/**
 * The CLI's side of the control channel (core/control-protocol.ts): send one
 * request to the gateway running on a home and read its one-line answer.
 */
import fs from 'node:fs';
import net from 'node:net';
import { UserError } from '../core/errors.js';
import type { HomeLayout } from '../core/home-layout.js';
import { MAX_CONTROL_LINE, socketAddress, type ControlCommand, type ControlRequest, type ControlResponse } from '../core/control-protocol.js';

const TIMEOUTS: Record<ControlCommand, number> = { status: 10_000, stop: 10_000, commit: 120_000, reload: 120_000, queue: 300_000 };

/**
 * Sends `command` to the gateway of `layout`. Resolves to null when no gateway
 * listens there (no socket, or a stale one left by a crash); fails with a
 * UserError when the gateway does not answer in time or answers nonsense.
 */
export async function sendControl(layout: HomeLayout, command: ControlCommand, timeoutMs = TIMEOUTS[command], extra: Omit<ControlRequest, 'command'> = {}): Promise<ControlResponse | null> {
  return new Promise<ControlResponse | null>((resolve, reject) => {
    const socket = net.connect(socketAddress(layout.controlSocket));
    let buffer = '';
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new UserError(`the gateway on ${layout.root} did not answer "${command}" within ${Math.round(timeoutMs / 1000)} s`))), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ command, ...extra })}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) {
        if (buffer.length > MAX_CONTROL_LINE) finish(() => reject(new UserError('the gateway sent an oversized control reply')));
        return;
      }
      const line = buffer.slice(0, nl);
      finish(() => {
        try {
          resolve(JSON.parse(line) as ControlResponse);
        } catch {
          reject(new UserError('the gateway sent an unreadable control reply'));
        }
      });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') finish(() => resolve(null));
      else finish(() => reject(new UserError(`cannot reach the gateway on ${layout.root}: ${err.code ?? err.message}`)));
    });
    socket.on('close', () => finish(() => reject(new UserError(`the gateway on ${layout.root} closed the control connection without answering "${command}"`))));
  });
}

/** The pid in the gateway's pidfile when that process is alive, else null (the CLI's view; no app import needed). */
export function gatewayPid(layout: HomeLayout): number | null {
  let text: string;
  try {
    text = fs.readFileSync(layout.pidFile, 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return isAlive(pid) ? pid : null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
