/**
 * Gatehouse set up the way an administrator would, through its CLI only
 * (init, certconfig ca import/disable, certconfig paste, listenerconfig,
 * smtproutes, destconfig, dns, gui, commit), then started as a real process
 * (`gatehouse start`). The admin GUI listens on another free 127.0.0.1 port with
 * the same certificate. One private relay listener on a free 127.0.0.1 port,
 * TLS required, presenting an openssl-made leaf + intermediate; mail for
 * each of `recipientDomains` is routed to a loopback port with destination control
 * `required-verify`, trusting only the custom CA list (the test root).
 */
import path from 'node:path';
import { freePort } from '../../test/harness/gateway-fixture.js';
import { runCli, startGatewayProcess, type GatewayProcess } from '../../test/harness/gateway-process.js';
import { readIfExists, waitForText } from './external-tools.js';
import type { OpensslPki, PemFiles } from './openssl-pki.js';

export interface GatehouseOptions {
  home: string;
  pki: OpensslPki;
  /** The listener's certificate (issued by pki.intermediate). */
  leaf: PemFiles;
  /** Mail for these domains goes to 127.0.0.1:nextHopPort under required-verify. */
  recipientDomains: string[];
  nextHopPort: number;
}

export interface GatehouseUnderTest {
  home: string;
  /** Port of the relay listener (OutgoingMail). */
  port: number;
  /** Port of the admin GUI (HTTPS on 127.0.0.1, presenting the same "Interop" certificate as the listener). */
  guiPort: number;
  process: GatewayProcess;
  mailLog(): string;
  waitForMailLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

async function cli(home: string, ...args: string[]): Promise<string> {
  const r = await runCli(['--home', home, ...args]);
  if (r.code !== 0) throw new Error(`gatehouse ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

export async function startGatehouse(o: GatehouseOptions): Promise<GatehouseUnderTest> {
  const { home } = o;
  const port = await freePort();
  const guiPort = await freePort();
  await cli(home, 'init', '--hostname', 'gw.test');
  await cli(home, 'certconfig', 'ca', 'import', o.pki.root.certFile);
  await cli(home, 'certconfig', 'ca', 'disable', 'system');
  await cli(home, 'certconfig', 'paste', '--name', 'Interop', '--cert', o.leaf.certFile, '--key', o.leaf.keyFile, '--intermediate', o.pki.intermediate.certFile);
  await cli(home, 'listenerconfig', 'delete', 'IncomingMail');
  await cli(home, 'listenerconfig', 'edit', 'OutgoingMail', '--address', '127.0.0.1', '--port', String(port), '--certificate', 'Interop');
  await cli(home, 'listenerconfig', 'policy', 'edit', 'OutgoingMail', 'RELAYED', '--tls', 'required');
  for (const domain of o.recipientDomains) {
    await cli(home, 'smtproutes', 'new', domain, `127.0.0.1:${o.nextHopPort}`);
    await cli(home, 'destconfig', 'new', domain, '--tls', 'required-verify');
  }
  // Nothing may leave the machine: DNS goes to a closed loopback port (the route is an IP literal anyway).
  await cli(home, 'dns', 'edit', '--servers', '127.0.0.1:9');
  // The GUI presents the openssl-made leaf too (its SAN holds 127.0.0.1), so a scanner trusting the
  // test root sees a valid chain and its findings are about the GUI server, not about the demo certificate.
  await cli(home, 'gui', 'edit', '--address', '127.0.0.1', '--port', String(guiPort), '--certificate', 'Interop');
  await cli(home, 'commit', '-m', 'interop suite');
  const proc = await startGatewayProcess(home);
  const logFile = path.join(home, 'logs', 'mail_logs', 'mail.current');
  return {
    home,
    port,
    guiPort,
    process: proc,
    mailLog: () => readIfExists(logFile),
    waitForMailLog: (pattern, timeoutMs = 30_000) => waitForText(`Gatehouse mail log ${logFile}`, () => readIfExists(logFile), pattern, timeoutMs),
    stop: async () => {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
      await proc.exited;
    },
  };
}
