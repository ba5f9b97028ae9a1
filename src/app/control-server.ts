/**
 * The gateway's side of the control channel (see core/control-protocol.ts):
 * serves `<home>/run/control.sock`, reads line-delimited JSON requests and
 * answers each with one JSON line. What a command does is up to the handlers
 * (run-gateway.ts): commit/reload apply the committed configuration, status
 * describes the running gateway, stop replies and then stops gracefully.
 */
import fs from 'node:fs';
import net from 'node:net';
import { errorMessage, UserError } from '../core/errors.js';
import { CONTROL_COMMANDS, MAX_CONTROL_LINE, socketAddress, type ControlCommand, type ControlResponse, type QueueRequest } from '../core/control-protocol.js';

export interface ControlHandlers {
  /** Applies the committed configuration (`commit` and `reload`). */
  apply(command: 'commit' | 'reload'): Promise<ControlResponse>;
  status(): ControlResponse;
  /** Called once the `stop` reply has been written. */
  stop(): void;
  /** `gatehouse queue ...` (delivery queue; see services/queue-service.ts). */
  queue?(request: QueueRequest): Promise<ControlResponse>;
}

function isControlCommand(v: unknown): v is ControlCommand {
  return typeof v === 'string' && (CONTROL_COMMANDS as readonly string[]).includes(v);
}

export class ControlServer {
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly socketPath: string,
  ) {}

  /** Listens on `socketPath` (a stale socket file from a crashed gateway is replaced), mode 0600. */
  static async listen(socketPath: string, handlers: ControlHandlers): Promise<ControlServer> {
    fs.rmSync(socketPath, { force: true });
    const server = net.createServer();
    const control = new ControlServer(server, socketPath);
    server.on('connection', (socket) => control.serve(socket, handlers));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketAddress(socketPath), () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw new UserError(`cannot open the control socket ${socketPath}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    });
    fs.chmodSync(socketPath, 0o600);
    server.on('error', () => {
      /* a failed client connection is the client's problem */
    });
    return control;
  }

  private serve(socket: net.Socket, handlers: ControlHandlers): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setEncoding('utf8');
    let buffer = '';
    let refused = false;
    let busy = Promise.resolve();
    socket.on('data', (chunk: string) => {
      if (refused) return;
      buffer += chunk;
      if (buffer.length > MAX_CONTROL_LINE) {
        refused = true;
        buffer = '';
        socket.end(`${JSON.stringify({ ok: false, error: 'request too long' } satisfies ControlResponse)}\n`);
        return;
      }
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line === '') continue;
        // One request at a time per connection, answers in order.
        busy = busy.then(() => this.handle(line, socket, handlers));
      }
    });
  }

  private async handle(line: string, socket: net.Socket, handlers: ControlHandlers): Promise<void> {
    let command: unknown;
    let queueRequest: unknown;
    try {
      const parsed = JSON.parse(line) as { command?: unknown; queue?: unknown } | null;
      command = parsed?.command;
      queueRequest = parsed?.queue;
    } catch {
      command = undefined;
    }
    const reply = (response: ControlResponse, then?: () => void): void => {
      if (socket.destroyed) return;
      socket.write(`${JSON.stringify(response)}\n`, () => then?.());
    };
    if (!isControlCommand(command)) {
      reply({ ok: false, error: `unknown request; expected {"command": ${CONTROL_COMMANDS.map((c) => `"${c}"`).join('|')}}` });
      return;
    }
    try {
      switch (command) {
        case 'commit':
        case 'reload':
          reply(await handlers.apply(command));
          return;
        case 'status':
          reply(handlers.status());
          return;
        case 'stop':
          reply({ ok: true, command: 'stop', pid: process.pid }, () => handlers.stop());
          return;
        case 'queue':
          reply(handlers.queue ? await handlers.queue(queueRequest as QueueRequest) : { ok: false, error: 'this gateway has no delivery queue' });
          return;
      }
    } catch (err) {
      reply({ ok: false, error: errorMessage(err) });
    }
  }

  /** Stops serving and removes the socket file. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }
}
