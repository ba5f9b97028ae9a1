/**
 * The real program as a child process (`gatehouse start`), for tests that need
 * signals: kill -9, SIGTERM, SIGHUP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { freePort, tempHome } from './gateway-fixture.js';
import { fileURLToPath } from 'node:url';

/** dist/src/cli/main.js, found from this compiled file (dist/test/harness/). */
export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

export interface GatewayProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Starts `gatehouse --home HOME start ...args` and waits until it prints that it is running. */
export async function startGatewayProcess(home: string, args: string[] = [], ms = 20_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [CLI, '--home', home, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const deadline = Date.now() + ms;
  while (!out.includes('Gatehouse running')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gateway exited early:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not start within ${ms} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, output: () => out, exited };
}

/** Runs the CLI to completion: exit code, stdout, stderr. */
export async function runCli(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.input ?? '');
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  return { code, stdout, stderr };
}

/**
 * An initialised home with a config file holding one private relay listener
 * (RELAYLIST = 127.0.0.0/8) on a free port, delivery routed to a closed loopback
 * port; `extra` is merged into the document.
 */
export async function relayHome(extra: Record<string, unknown> = {}): Promise<{ home: string; port: number; configFile: string }> {
  const home = tempHome('gatehouse-proc-');
  const init = await runCli(['--home', home, 'init', '--hostname', 'gw.test']);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  const port = await freePort();
  const configFile = path.join(home, 'relay-config.yaml');
  const relay = {
    name: 'Relay',
    type: 'private',
    address: '127.0.0.1',
    port,
    senderGroups: [{ name: 'RELAYLIST', policy: 'RELAYED', members: ['127.0.0.0/8'] }],
    policies: [{ name: 'RELAYED', behavior: 'relay' }],
  };
  // Delivery stays on loopback: every message is routed to a closed local port (deferred, kept in the
  // spool) and DNS points at loopback, so no query or connection ever leaves the machine.
  const offline = { smtpRoutes: [{ domain: 'ALL', hosts: ['127.0.0.1:9'] }], dns: { servers: ['127.0.0.1:9'], timeoutMs: 200 } };
  fs.writeFileSync(configFile, YAML.stringify({ hostname: 'gw.test', listeners: [relay], ...offline, ...extra }));
  return { home, port, configFile };
}
