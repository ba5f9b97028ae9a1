/**
 * A private Postfix instance for the interop suite: its own config directory
 * (`postfix -c DIR`), queue, data directory and log file (`maillog_file`, no
 * syslog needed), one smtpd on a 127.0.0.1 port. It never touches
 * /etc/postfix or the system instance, never looks anything up in DNS
 * (`smtp_dns_support_level = disabled`, `smtp_host_lookup = native`, no
 * peername lookup) and sends only to the IP-literal next hops the caller puts
 * in `mainCf`. Needs root (Postfix's master runs as root).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readIfExists, requireRoot, runToolOk, waitForText } from './external-tools.js';

export interface PostfixOptions {
  /** Folder for everything of this instance (created; removed by stop()); its parent must be world-traversable. */
  dir: string;
  /** smtpd port on 127.0.0.1. */
  port: number;
  /** myhostname (banner, EHLO). */
  hostname: string;
  /** Further main.cf parameters, written after the locked-down base. */
  mainCf: Record<string, string>;
}

export interface PostfixInstance {
  dir: string;
  port: number;
  /** The instance's mail log (`maillog_file`). */
  logFile: string;
  log(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** `postfix stop`, waits until the master has exited, then removes the folder. */
  stop(): Promise<void>;
}

/** The services this suite needs; no chroot (the queue is in a temp folder), no pipe transports, no port 25. */
function masterCf(port: number): string {
  return [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup    unix  n - n 60 1 pickup',
    'cleanup   unix  n - n -  0 cleanup',
    'qmgr      unix  n - n 300 1 qmgr',
    'tlsmgr    unix  - - n 1000? 1 tlsmgr',
    'rewrite   unix  - - n -  - trivial-rewrite',
    'bounce    unix  - - n -  0 bounce',
    'defer     unix  - - n -  0 bounce',
    'trace     unix  - - n -  0 bounce',
    'verify    unix  - - n -  1 verify',
    'flush     unix  n - n 1000? 0 flush',
    'proxymap  unix  - - n -  - proxymap',
    'proxywrite unix - - n -  1 proxymap',
    'smtp      unix  - - n -  - smtp',
    'relay     unix  - - n -  - smtp',
    'showq     unix  n - n -  - showq',
    'error     unix  - - n -  - error',
    'retry     unix  - - n -  - error',
    'discard   unix  - - n -  - discard',
    'virtual   unix  - n n -  - virtual',
    'anvil     unix  - - n -  1 anvil',
    'scache    unix  - - n -  1 scache',
    'postlog   unix-dgram n - n - 1 postlogd',
    '',
  ].join('\n');
}

function userId(user: string): number {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const id = Number(r.stdout.trim());
  if (r.status !== 0 || !Number.isInteger(id)) throw new Error(`user ${user} not found (is the postfix package installed?)`);
  return id;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Postfix did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startPostfix(options: PostfixOptions): Promise<PostfixInstance> {
  requireRoot('the Postfix interop test');
  const { dir, port } = options;
  const confDir = path.join(dir, 'conf');
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'maillog');
  fs.mkdirSync(confDir, { recursive: true });
  fs.mkdirSync(path.join(dir, 'queue'), { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true });
  // Postfix daemons (user postfix) must reach the queue: the caller's parent folder must be traversable (0755).
  fs.chmodSync(dir, 0o755);
  fs.chownSync(dataDir, userId('postfix'), 0);
  const main: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: path.join(dir, 'queue'),
    data_directory: dataDir,
    myhostname: options.hostname,
    mydomain: 'localdomain',
    myorigin: '$myhostname',
    mydestination: '',
    relay_domains: '',
    relayhost: '',
    alias_maps: '',
    alias_database: '',
    local_recipient_maps: '',
    inet_interfaces: 'loopback-only',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    smtp_dns_support_level: 'disabled',
    smtp_host_lookup: 'native',
    lmtp_host_lookup: 'native',
    smtpd_peername_lookup: 'no',
    smtp_fallback_relay: '',
    local_transport: 'error:5.1.1 local delivery disabled (interop test)',
    smtpd_relay_restrictions: 'permit_mynetworks, reject',
    smtpd_tls_loglevel: '1',
    smtp_tls_loglevel: '1',
    maillog_file: logFile,
    maillog_file_prefixes: dir,
    ...options.mainCf,
  };
  fs.writeFileSync(path.join(confDir, 'main.cf'), Object.entries(main).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
  fs.writeFileSync(path.join(confDir, 'master.cf'), masterCf(port));
  await runToolOk('postfix', ['-c', confDir, 'check']);
  await runToolOk('postfix', ['-c', confDir, 'start']);
  const pidFile = path.join(dir, 'queue', 'pid', 'master.pid');
  let stopped = false;
  const instance: PostfixInstance = {
    dir,
    port,
    logFile,
    log: () => readIfExists(logFile),
    waitForLog: (pattern, timeoutMs = 30_000) => waitForText(`Postfix log ${logFile}`, () => readIfExists(logFile), pattern, timeoutMs),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const pid = Number(readIfExists(pidFile).trim());
      await runToolOk('postfix', ['-c', confDir, 'stop']).catch(() => undefined);
      const deadline = Date.now() + 15_000;
      while (pid > 0 && Date.now() < deadline) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL'); // only the master we started, if it ignored the stop
        } catch {
          /* already gone */
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForPort(port, 15_000);
  } catch (err) {
    await instance.stop();
    throw err;
  }
  return instance;
}
