/**
 * Creating a home (SPEC §2): directories, the demo certificate, the admin
 * password, and the embedded defaults committed as configuration version 1.
 */
import fs from 'node:fs';
import { homeLayout, type HomeLayout } from '../core/home-layout.js';
import { ConfigStore } from '../config/config-store.js';
import type { Config } from '../config/schema.js';
import { defaultConfig, defaultHostname, DEMO_PROFILE_NAME } from '../config/default-config.js';
import { KeyStore } from '../tls/key-store.js';
import { createDemoCertificate } from '../tls/self-signed.js';
import { generatePassword, hashPassword } from './password-hash.js';

export type InitResult = { created: true; layout: HomeLayout; adminPassword: string; version: number } | { created: false; layout: HomeLayout };

export async function initHome(root: string, options: { hostname?: string; user?: string } = {}): Promise<InitResult> {
  const layout = homeLayout(root);
  const store = new ConfigStore(layout);
  if (store.isInitialised()) return { created: false, layout };
  fs.mkdirSync(layout.root, { recursive: true, mode: 0o700 });
  for (const dir of [layout.configDir, layout.keysDir, layout.spoolDir, layout.mailLogDir, layout.runDir, layout.stateDir, layout.exportsDir]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const hostname = options.hostname ?? defaultHostname();
  const demo = await createDemoCertificate(hostname);
  const keyRef = await new KeyStore(layout.keysDir).put(demo.privateKeyPem);
  const adminPassword = generatePassword();
  const config = defaultConfig({
    hostname,
    demo: { name: DEMO_PROFILE_NAME, source: 'demo', certificate: demo.certificatePem, intermediates: [], key: keyRef },
    adminPasswordHash: hashPassword(adminPassword),
  });
  const info = store.commit(config, options.user ?? 'admin', 'Initial configuration (embedded defaults)');
  return { created: true, layout, adminPassword, version: info.version };
}

/** Names of the services that use a demo certificate, for warnings. */
export function demoCertificateUsers(config: Config): string[] {
  const demo = new Set(config.certificates.filter((c) => c.source === 'demo').map((c) => c.name));
  const users: string[] = [];
  for (const l of config.listeners) if (l.certificates.some((c) => demo.has(c))) users.push(`listener ${l.name}`);
  if (demo.has(config.gui.certificate)) users.push('GUI');
  if (config.destinationControls.certificate !== null && demo.has(config.destinationControls.certificate)) users.push('outbound client certificate');
  return users;
}
