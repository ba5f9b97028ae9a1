/**
 * The GUI's HTTPS server (HTTPS only: there is no plain HTTP port). Serves the
 * hono app with the GUI certificate profile (`gui.certificate`, demo by
 * default) and the `ssl.gui` settings. Started and stopped with the gateway
 * (app/run-gateway.ts); after each applied commit `apply` re-binds when the
 * address or port changed and swaps the certificate in place otherwise.
 */
import { createAdaptorServer } from '@hono/node-server';
import crypto from 'node:crypto';
import https from 'node:https';
import type net from 'node:net';
import type { Config } from '../config/schema.js';
import { errorMessage, UserError } from '../core/errors.js';
import { KeyStore } from '../tls/key-store.js';
import { createGuiApp, type BuiltGui } from './app.js';
import type { GuiDeps } from './gui-deps.js';

interface TlsOptions {
  key: string;
  cert: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  ciphers: string;
  honorCipherOrder: boolean;
  secureOptions: number;
}

async function tlsOptions(deps: GuiDeps, config: Config): Promise<TlsOptions> {
  const profile = config.certificates.find((c) => c.name === config.gui.certificate);
  if (profile === undefined) throw new UserError(`the GUI certificate profile ${config.gui.certificate} does not exist`);
  const key = await new KeyStore(deps.home.layout.keysDir).get(profile.key);
  return {
    key,
    cert: [profile.certificate, ...profile.intermediates].map((p) => p.trim()).join('\n') + '\n',
    minVersion: config.ssl.gui.minVersion,
    ciphers: config.ssl.gui.ciphers,
    honorCipherOrder: true,
    // Refuse TLS 1.2 client-initiated renegotiation outright (no_renegotiation alert), as the SMTP
    // listeners do (tls/secure-context.ts). Node's own limit (3 per 10 minutes) still lets each
    // connection make the server do extra handshakes; testssl.sh reported it as "not vulnerable, mitigated".
    secureOptions: crypto.constants.SSL_OP_NO_RENEGOTIATION,
  };
}

export function guiUrl(config: Pick<Config, 'gui'>): string {
  const a = config.gui.address;
  return `https://${a.includes(':') ? `[${a}]` : a}:${config.gui.port}/`;
}

export class GuiServer {
  private server: https.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private bound: { address: string; port: number } | null = null;

  private constructor(
    private readonly deps: GuiDeps,
    readonly gui: BuiltGui,
  ) {}

  /** Builds the app and listens on `config.gui`; fails with one line (a port in use, a missing key). */
  static async start(deps: GuiDeps, config: Config): Promise<GuiServer> {
    const s = new GuiServer(deps, createGuiApp(deps));
    await s.listen(config);
    return s;
  }

  get url(): string {
    return guiUrl({ gui: { ...this.deps.runningConfig().gui, ...(this.bound ?? {}) } });
  }

  /** The port it listens on (0 when not listening). */
  get port(): number {
    return this.bound?.port ?? 0;
  }

  private async listen(config: Config): Promise<void> {
    const options = await tlsOptions(this.deps, config);
    const server = createAdaptorServer({ fetch: this.gui.app.fetch, createServer: https.createServer, serverOptions: options }) as https.Server;
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    });
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    server.on('clientError', (_err, socket) => socket.destroy());
    server.headersTimeout = 20_000;
    server.requestTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.gui.port, config.gui.address, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw new UserError(`cannot listen on ${guiUrl(config)}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    });
    server.on('error', () => {
      /* errors of single connections are handled per socket */
    });
    this.server = server;
    this.bound = { address: config.gui.address, port: config.gui.port };
  }

  /** Follows a newly applied configuration: re-binds on a new address/port, else swaps certificate and TLS settings. */
  async apply(config: Config): Promise<void> {
    if (this.bound === null || this.bound.address !== config.gui.address || this.bound.port !== config.gui.port) {
      await this.close();
      await this.listen(config);
      return;
    }
    this.server?.setSecureContext(await tlsOptions(this.deps, config));
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.bound = null;
    if (server === null) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  async stop(): Promise<void> {
    await this.close();
  }
}
