/**
 * A listener's TCP server: accepts a connection, applies the global and per-IP
 * caps, looks up the connecting host (reverse DNS, reputation), matches the HAT
 * to a sender group and its mail flow policy, logs the connection, and hands it
 * to an SmtpSession. The runtime (settings compiled from the committed config)
 * can be swapped at any time: each session keeps the runtime it started with.
 */
import net from 'node:net';
import { renderReply } from '../../core/smtp-reply.js';
import { errorMessage } from '../../core/errors.js';
import { matchSenderGroup, type ConnectingHost } from '../../policy/host-access-table.js';
import { normalizeIp } from '../../policy/ip-match.js';
import { closingReplies } from './replies.js';
import { SmtpSession } from './session.js';
import type { InboundServices, ListenerRuntime } from './session-context.js';
import type { ConnectionTracker } from './connection-tracker.js';

export interface ListenerDependencies {
  readonly services: InboundServices;
  readonly tracker: ConnectionTracker;
  readonly nextIcid: () => number;
  /** Reverse DNS (verified) and reputation score of a connecting address. */
  readonly lookupHost: (ip: string) => Promise<ConnectingHost>;
}

/**
 * The client address as logs, the HAT, per-IP limits and reports use it: an
 * IPv4 client of a dual-stack `::` listener arrives as `::ffff:1.2.3.4` and
 * is `1.2.3.4`; IPv6 in its one canonical form (RFC 5952), so one host is
 * always counted under one key.
 */
export function normaliseIp(ip: string | undefined): string {
  if (ip === undefined) return 'unknown';
  return normalizeIp(ip) ?? ip;
}

export class ListenerServer {
  private readonly server: net.Server;
  private readonly sessions = new Set<SmtpSession>();
  private readonly connecting = new Set<net.Socket>();
  private stopping = false;

  constructor(
    private runtime: ListenerRuntime,
    private readonly deps: ListenerDependencies,
  ) {
    this.server = net.createServer({ noDelay: true, pauseOnConnect: false }, (socket) => {
      void this.accept(socket);
    });
    this.server.on('error', (err) => deps.services.log.emit({ event: 'system', text: `listener ${runtime.listener.name} error: ${errorMessage(err)}` }));
  }

  get name(): string {
    return this.runtime.listener.name;
  }

  get current(): ListenerRuntime {
    return this.runtime;
  }

  /** New connections use `runtime`; open sessions finish under the one they started with. */
  setRuntime(runtime: ListenerRuntime): void {
    this.runtime = runtime;
  }

  get openSessions(): number {
    return this.sessions.size + this.connecting.size;
  }

  async listen(): Promise<{ address: string; port: number }> {
    const { address, port } = this.runtime.listener;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: address, port, exclusive: true }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const bound = this.server.address() as net.AddressInfo;
    return { address: bound.address, port: bound.port };
  }

  /**
   * Stops accepting new connections (the port is released at once); open
   * sessions go on until `drainSessions`/`destroySessions`.
   */
  stopAccepting(): void {
    this.stopping = true;
    this.server.close();
  }

  drainSessions(): void {
    for (const s of this.sessions) s.drain();
    for (const s of this.connecting) s.destroy();
  }

  destroySessions(): void {
    for (const s of this.sessions) s.destroy();
    for (const s of this.connecting) s.destroy();
  }

  async sessionsClosed(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.closed));
  }

  private async accept(socket: net.Socket): Promise<void> {
    socket.on('error', () => {
      /* handled by the session, or the socket is simply dropped */
    });
    const runtime = this.runtime;
    const { services, tracker } = this.deps;
    const ip = normaliseIp(socket.remoteAddress);
    const host = runtime.hostname;
    if (this.stopping) {
      socket.end(renderReply(closingReplies.shuttingDown(host)));
      return;
    }
    if (tracker.count >= runtime.smtp.maxConnections) {
      services.log.emit({ event: 'system', text: `listener ${runtime.listener.name} refused ${ip}: global connection limit ${runtime.smtp.maxConnections} reached` });
      socket.end(renderReply(closingReplies.tooManyConnections(host)));
      return;
    }
    const release = tracker.open(ip);
    socket.once('close', release);
    this.connecting.add(socket);
    const early: Buffer[] = [];
    const collectEarly = (chunk: Buffer): void => {
      early.push(chunk);
    };
    socket.on('data', collectEarly);
    const icid = this.deps.nextIcid();

    let connecting: ConnectingHost;
    try {
      connecting = await this.deps.lookupHost(ip);
    } catch {
      connecting = { ip, reverseDns: { host: null, verified: false }, sbrs: null };
    }
    this.connecting.delete(socket);
    socket.off('data', collectEarly);
    if (socket.destroyed) {
      release();
      return;
    }

    services.log.emit({
      event: 'icid.new',
      icid,
      listener: runtime.listener.name,
      listenerAddress: runtime.listener.address,
      ip,
      reverseDns: connecting.reverseDns.host,
      verified: connecting.reverseDns.verified,
    });
    const match = matchSenderGroup(runtime.listener.senderGroups, connecting);
    const policy = match ? runtime.listener.policies.find((p) => p.name === match.group.policy) : undefined;
    if (!match || !policy) {
      services.log.emit({ event: 'icid.policy', icid, behavior: 'TCPREFUSE', group: 'NONE', rule: 'none', sbrs: connecting.sbrs });
      services.log.emit({ event: 'icid.close', icid });
      socket.destroy();
      return;
    }
    const behavior = policy.behavior.toUpperCase() as 'ACCEPT' | 'RELAY' | 'REJECT' | 'TCPREFUSE';
    services.log.emit({ event: 'icid.policy', icid, behavior, group: match.group.name, rule: match.rule, sbrs: connecting.sbrs, policy: policy.name, tls: policy.tls });
    if (policy.behavior === 'tcprefuse') {
      services.log.emit({ event: 'icid.close', icid });
      socket.destroy();
      return;
    }
    if (tracker.countFor(ip) > policy.maxConnectionsPerIp) {
      services.log.emit({ event: 'icid.limit', icid, what: 'maxConnectionsPerIp', detail: String(policy.maxConnectionsPerIp) });
      socket.end(renderReply(closingReplies.tooManyFromIp(host)));
      services.log.emit({ event: 'icid.close', icid });
      return;
    }

    const session = new SmtpSession(socket, {
      runtime,
      services,
      conn: { icid, ip, port: socket.remotePort ?? 0, reverseDns: connecting.reverseDns, senderGroup: match.group.name, policy },
      tls: null,
      messagesAccepted: 0,
      badCommands: 0,
      tlsRequiredLogged: false,
    });
    this.sessions.add(session);
    void session.closed.then(() => {
      this.sessions.delete(session);
      release();
    });
    for (const chunk of early) socket.emit('data', chunk);
    session.begin();
    if (this.stopping) session.drain();
  }
}
