/**
 * A whole gateway in the test process, on a fresh home in a temp directory and
 * free loopback ports, with DNS that never leaves the machine.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Gateway } from '../../src/app/gateway.js';
import { ConfigStore } from '../../src/config/config-store.js';
import type { Config } from '../../src/config/schema.js';
import { homeLayout, type HomeLayout } from '../../src/core/home-layout.js';
import type { DnsResolver } from '../../src/dns/resolver.js';
import type { Clock } from '../../src/core/clock.js';
import type { ClientTimeouts } from '../../src/smtp/outbound/smtp-client.js';
import { initHome } from '../../src/services/home-service.js';
import { validateConfig } from '../../src/services/validate-config.js';

/** A resolver that answers nothing: any query is a test bug (loopback needs none). */
export const offlineResolver: DnsResolver = {
  reverse: async () => Promise.reject(Object.assign(new Error('offline test resolver'), { code: 'ENOTFOUND' })),
  resolve4: async () => Promise.reject(Object.assign(new Error('offline test resolver'), { code: 'ENOTFOUND' })),
  resolve6: async () => Promise.reject(Object.assign(new Error('offline test resolver'), { code: 'ENOTFOUND' })),
  resolveMx: async () => Promise.reject(Object.assign(new Error('offline test resolver'), { code: 'ENOTFOUND' })),
};

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function tempHome(prefix = 'gatehouse-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestGateway {
  gateway: Gateway;
  layout: HomeLayout;
  config: Config;
  port(listener: string): number;
  /** Lines of mail.current after a flush, without the timestamp prefix (`Info: ...`). */
  mailLog(): Promise<string[]>;
  /** Raw lines of mail.current, with the ctime prefix. */
  mailLogRaw(): Promise<string[]>;
  /** Polls the mail log until a line matches (events are written asynchronously), or fails after `ms`. */
  waitForLog(pattern: RegExp, ms?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a gateway whose listeners are moved to free ports. `edit` changes the
 * default configuration first (add RAT entries, change policies...).
 */
export interface TestGatewayOptions {
  home?: string;
  /** Default: the offline resolver (no query leaves the test). Delivery tests pass a resolver on the fake DNS. */
  resolver?: DnsResolver;
  /** Run the delivery scheduler (default false: most tests only receive). */
  deliver?: boolean;
  clock?: Clock;
  deliveryTimeouts?: Partial<ClientTimeouts>;
  /** TCP syslog reconnect back-off (tests shorten it). */
  syslogRetryMs?: { initial: number; max: number };
}

export async function startTestGateway(edit: (config: Config) => void = () => {}, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const home = options.home ?? tempHome();
  await initHome(home, { hostname: 'gw.test' });
  const layout = homeLayout(home);
  const store = new ConfigStore(layout);
  const config = structuredClone(store.committed().config);
  for (const l of config.listeners) l.port = await freePort();
  config.smtp.shutdownGraceSeconds = 2;
  edit(config);
  const v = validateConfig(config);
  if (!v.ok) throw new Error(`test configuration invalid:\n${v.errors.join('\n')}`);
  store.commit(v.config, 'test', 'test configuration');
  const gateway = new Gateway({
    layout,
    config: v.config,
    resolver: options.resolver ?? offlineResolver,
    deliver: options.deliver ?? false,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.deliveryTimeouts ? { deliveryTimeouts: options.deliveryTimeouts } : {}),
    ...(options.syslogRetryMs ? { syslogRetryMs: options.syslogRetryMs } : {}),
  });
  await gateway.start();
  const readRaw = async (): Promise<string[]> => {
    await gateway.log.flush();
    const file = path.join(layout.mailLogDir, 'mail.current');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
  };
  return {
    gateway,
    layout,
    config: v.config,
    port: (name) => {
      const l = v.config.listeners.find((x) => x.name === name);
      if (!l) throw new Error(`no listener ${name}`);
      return l.port;
    },
    mailLogRaw: readRaw,
    mailLog: async () => (await readRaw()).map((l) => l.replace(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} /, '')),
    waitForLog: async (pattern, ms = 5000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const lines = (await readRaw()).map((l) => l.replace(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} /, ''));
        const hit = lines.find((l) => pattern.test(l));
        if (hit !== undefined) return hit;
        if (Date.now() > deadline) throw new Error(`no mail-log line matches ${pattern}:\n${lines.join('\n')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    stop: () => gateway.stop(2000),
  };
}
