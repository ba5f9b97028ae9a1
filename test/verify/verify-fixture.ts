/**
 * Rig for the verification-tool suites: a CLI home whose committed config
 * trusts the test PKI's root (custom list only) and resolves through a fake DNS
 * on loopback; a TCP forwarder (so several MX hosts on 127.0.0.x can share one
 * port while the scripted MTAs listen on their own); and a receiving Gatehouse
 * whose listeners sit on chosen loopback addresses with test-PKI certificates.
 */
import net from 'node:net';
import type { Config, Listener } from '../../src/config/schema.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { homeLayout } from '../../src/core/home-layout.js';
import { validateConfig } from '../../src/services/validate-config.js';
import { KeyStore } from '../../src/tls/key-store.js';
import { cliHome, type CliHome } from '../cli/cli-home.js';
import { startTestGateway, tempHome, type TestGateway } from '../harness/gateway-fixture.js';
import type { TestCert, TestPki } from '../harness/pki-fixture.js';
import { startScriptedMta, type ScriptedMta, type ScriptedMtaOptions } from '../delivery/delivery-fixture.js';

/** A CLI home trusting only `pki.root` (custom list), DNS at `dnsServer`, then `edit`, committed. */
export async function verifyHome(pki: TestPki, dnsServer: string, edit: (c: Config) => void = () => {}): Promise<CliHome> {
  const h = await cliHome();
  const store = new ConfigStore(homeLayout(h.home));
  const config = structuredClone(store.committed().config);
  config.trustStore = { systemEnabled: false, customEnabled: true, custom: [{ name: 'Gatehouse Test Root', certificate: pki.root.certificatePem }] };
  config.dns = { servers: [dnsServer], timeoutMs: 500 };
  edit(config);
  const v = validateConfig(config);
  if (!v.ok) throw new Error(`test configuration invalid:\n${v.errors.join('\n')}`);
  store.commit(v.config, 'test', 'verification test configuration');
  return h;
}

/** The PEM bundle a server presents: leaf, then the given chain. */
export function bundle(leaf: TestCert, ...chain: (TestCert | string)[]): { cert: string; key: string } {
  return { cert: [leaf.certificatePem, ...chain.map((c) => (typeof c === 'string' ? c : c.certificatePem))].join(''), key: leaf.privateKeyPem };
}

export interface Forwarder {
  close(): Promise<void>;
}

/** Listens on ip:port and pipes every connection to 127.0.0.1:targetPort. */
export async function startForwarder(ip: string, port: number, targetPort: number): Promise<Forwarder> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => resolve());
  });
  return {
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface TlsListenerSpec {
  name: string;
  address: string;
  port: number;
  tls: 'off' | 'preferred' | 'required';
  cert: TestCert;
  chain: string[];
}

/**
 * A receiving Gatehouse (delivery off) with one public listener per spec,
 * each on its address and port with its own certificate; `edit` runs last.
 */
export async function startTlsGateway(specs: TlsListenerSpec[], edit: (c: Config) => void = () => {}): Promise<TestGateway> {
  const home = tempHome('gatehouse-verify-recv-');
  const keys = new KeyStore(homeLayout(home).keysDir);
  const refs = new Map<string, string>();
  for (const s of specs) refs.set(s.name, await keys.put(s.cert.privateKeyPem));
  return startTestGateway(
    (c: Config) => {
      const template = c.listeners.find((x) => x.name === 'IncomingMail')!;
      c.listeners = specs.map((s): Listener => {
        const copy = structuredClone(template);
        copy.name = s.name;
        copy.address = s.address;
        copy.port = s.port;
        for (const p of copy.policies) p.tls = s.tls;
        c.certificates.push({ name: `${s.name}Cert`, source: 'imported', certificate: s.cert.certificatePem, intermediates: s.chain, key: refs.get(s.name)! });
        copy.certificates = [`${s.name}Cert`];
        return copy;
      });
      c.queue.fsync = false;
      edit(c);
    },
    { home, deliver: false },
  );
}

/** Test CA subjects as the tools print them. */
export const INTERMEDIATE = 'O=Gatehouse Test PKI, CN=Gatehouse Test Intermediate CA';
export const ROOT = 'O=Gatehouse Test PKI, CN=Gatehouse Test Root CA';

/** Scripted MTAs started by one test file, closed together in its `after`. */
export class MtaPool {
  private readonly started: ScriptedMta[] = [];

  async start(o: ScriptedMtaOptions): Promise<ScriptedMta> {
    const m = await startScriptedMta(o);
    this.started.push(m);
    return m;
  }

  async closeAll(): Promise<void> {
    for (const m of this.started.splice(0)) await m.close();
  }
}

/** Runs `tlsverify verify.test 127.0.0.1:PORT` in home `h`: exit code and stdout lines. */
export async function runTlsverifyCli(h: CliHome, port: number, extra: string[] = []): Promise<{ code: number; lines: string[]; stderr: string }> {
  const r = await h.gh(['tlsverify', 'verify.test', `127.0.0.1:${port}`, ...extra]);
  return { code: r.code, lines: r.stdout.split('\n').filter((l) => l !== ''), stderr: r.stderr };
}
