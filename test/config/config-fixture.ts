/**
 * Helpers for the configuration lifecycle tests: a home whose listeners sit on
 * free loopback ports, a snapshot of everything configuration-related in a
 * home (to prove that a refused operation changed nothing), and the
 * certificate a listener presents after STARTTLS.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { homeLayout } from '../../src/core/home-layout.js';
import { initHome } from '../../src/services/home-service.js';
import { validateConfig } from '../../src/services/validate-config.js';
import { freePort, tempHome } from '../harness/gateway-fixture.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';

/** A fresh initialised home (version 1), then version 2 = defaults on free ports, edited by `edit`. */
export async function preparedHome(edit: (config: Config) => void = () => {}, prefix = 'gatehouse-config-'): Promise<{ home: string; config: Config }> {
  const home = tempHome(prefix);
  await initHome(home, { hostname: 'gw.test' });
  const store = new ConfigStore(homeLayout(home));
  const config = structuredClone(store.committed().config);
  for (const l of config.listeners) l.port = await freePort();
  config.smtp.shutdownGraceSeconds = 5;
  config.queue.fsync = false;
  edit(config);
  const v = validateConfig(config);
  if (!v.ok) throw new Error(`test configuration invalid:\n${v.errors.join('\n')}`);
  store.commit(v.config, 'test', 'test ports');
  return { home, config: v.config };
}

/** Every file under config/ and keys/ with its content: equal snapshots mean nothing changed. */
export function snapshotConfigState(home: string): Record<string, string> {
  const layout = homeLayout(home);
  const out: Record<string, string> = {};
  for (const dir of [layout.configDir, layout.keysDir]) {
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      out[path.relative(layout.root, file)] = fs.readFileSync(file, 'utf8');
    }
  }
  return out;
}

/** SHA-256 fingerprint of a PEM certificate, as hex. */
export function pemFingerprint(pem: string): string {
  return crypto.createHash('sha256').update(new crypto.X509Certificate(pem).raw).digest('hex');
}

/** Connects, EHLO, STARTTLS; returns the banner and the SHA-256 fingerprint of the certificate the listener presents. */
export async function presentedCertificate(port: number): Promise<{ banner: string; fingerprint: string }> {
  const client = await SmtpTestClient.connect(port);
  try {
    const banner = (await client.read()).text;
    await client.command('EHLO probe.test');
    const secure = await client.startTls({ servername: 'localhost' });
    const raw = secure.getPeerCertificate().raw;
    return { banner, fingerprint: crypto.createHash('sha256').update(raw).digest('hex') };
  } finally {
    client.close();
  }
}
